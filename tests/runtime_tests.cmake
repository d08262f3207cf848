# Check suites for libseqrt (runtime/), included from tests/CMakeLists.txt.
# One executable and one ctest test per area. Gradient and optimizer checks
# link seqrt_f64 (double) so finite differences and reference formulas agree
# to ~1e-9; file-format suites run against both builds.
set(SEQRT_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})

function(seqrt_add_check name source lib)
  add_executable(${name} ${SEQRT_TESTS_DIR}/${source})
  target_link_libraries(${name} PRIVATE ${lib} PkgConfig::CHECK)
  target_compile_options(${name} PRIVATE ${SEQ_WARNINGS})
  # mkdtemp, chmod, geteuid in the tests; C11 otherwise.
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L
                             SEQRT_TEST_DATA="${SEQRT_TESTS_DIR}/data/runtime")
  add_test(NAME ${name} COMMAND ${name})
endfunction()

seqrt_add_check(check_runtime_rng         check_runtime_rng.c         seqrt)
seqrt_add_check(check_runtime_init        check_runtime_init.c        seqrt)
seqrt_add_check(check_runtime_init_f64    check_runtime_init.c        seqrt_f64)
seqrt_add_check(check_runtime_loss        check_runtime_loss.c        seqrt_f64)
seqrt_add_check(check_runtime_metrics     check_runtime_metrics.c     seqrt)
seqrt_add_check(check_runtime_optim       check_runtime_optim.c       seqrt_f64)
seqrt_add_check(check_runtime_npy         check_runtime_npy.c         seqrt)
seqrt_add_check(check_runtime_npy_f64     check_runtime_npy.c         seqrt_f64)
seqrt_add_check(check_runtime_safetensors check_runtime_safetensors.c seqrt)
seqrt_add_check(check_runtime_safetensors_f64 check_runtime_safetensors.c seqrt_f64)
seqrt_add_check(check_runtime_blas        check_runtime_blas.c        seqrt)
seqrt_add_check(check_runtime_blas_f64    check_runtime_blas.c        seqrt_f64)
# The small-GEMM kernels the CPU's own choice hides: the baseline (SSE2)
# one, the AVX-512 kernel's blocking (8 x 32) in baseline instructions,
# and, on a CPU with AVX-512, the AVX2 ones (6 x 16, the paired tails).
foreach(k base wide avx2)
  add_test(NAME check_runtime_blas_${k} COMMAND check_runtime_blas)
  add_test(NAME check_runtime_blas_f64_${k} COMMAND check_runtime_blas_f64)
  set_tests_properties(check_runtime_blas_${k} check_runtime_blas_f64_${k}
                       PROPERTIES ENVIRONMENT SEQRT_GEMM_KERNEL=${k})
endforeach()
seqrt_add_check(check_runtime_rnn         check_runtime_rnn.c         seqrt)
seqrt_add_check(check_runtime_rnn_f64     check_runtime_rnn.c         seqrt_f64)
# The fused steps' narrower kernels too: the baseline (SSE2) and, on a CPU
# with AVX-512 (whose 16-unit tiles it picks), the AVX2 ones.
foreach(k base avx2)
  add_test(NAME check_runtime_rnn_${k} COMMAND check_runtime_rnn)
  add_test(NAME check_runtime_rnn_f64_${k} COMMAND check_runtime_rnn_f64)
  set_tests_properties(check_runtime_rnn_${k} check_runtime_rnn_f64_${k}
                       PROPERTIES ENVIRONMENT SEQRT_GEMM_KERNEL=${k})
endforeach()
seqrt_add_check(check_runtime_train       check_runtime_train.c       seqrt_f64)
seqrt_add_check(check_runtime_train_f32   check_runtime_train.c       seqrt)
seqrt_add_check(check_runtime_blas_setup  check_runtime_blas_setup.c  seqrt)
seqrt_add_check(check_runtime_apps        check_runtime_apps.c        seqrt)
