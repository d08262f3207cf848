# Fuzzing (issue 7): libFuzzer harnesses for the .seq front end and the
# file readers, and their regression inputs replayed as ordinary tests.
#
#   tests/fuzz/fuzz_<target>.c     LLVMFuzzerTestOneInput for one reader
#   tests/fuzz/replay_main.c       the same entry point without libFuzzer
#   tests/fuzz/corpus/<target>/    hand-made seeds (run-fuzzers adds the
#                                  examples and test data)
#   tests/fuzz/regressions/<target>/  every input that ever crashed
#
# Always built (any compiler): fuzz_replay_<target>, and a ctest test
# fuzz_regressions_<target> that runs every regression input and seed
# through it (with ASan + UBSan in a SEQ_SANITIZE tree).
#
# -DSEQ_FUZZ=ON (CMAKE_C_COMPILER=clang): also fuzz_<target>, linked with
# -fsanitize=fuzzer,address,undefined against private copies of the code
# under test built with coverage instrumentation, so nothing else in the
# tree changes. tests/fuzz/run-fuzzers SECONDS builds and runs them.
option(SEQ_FUZZ "Build the libFuzzer harnesses in tests/fuzz (needs clang)" OFF)

set(SEQ_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR}/fuzz)
set(SEQ_FUZZ_TARGETS seq npy safetensors)
# Structure-aware harnesses: safetensors built from the input with hostile
# values, the checkpoint resume path, the command-line parser.
list(APPEND SEQ_FUZZ_TARGETS st_struct checkpoint cli)
# The CSV and text readers have harnesses too (harness + source).
foreach(r csv text)
  if(EXISTS ${SEQ_FUZZ_DIR}/fuzz_${r}.c AND EXISTS ${PROJECT_SOURCE_DIR}/runtime/src/${r}.c)
    list(APPEND SEQ_FUZZ_TARGETS ${r})
  endif()
endforeach()

function(seq_fuzz_link target name)
  if(name STREQUAL "seq")
    target_link_libraries(${target} PRIVATE ${ARGN})
  else()
    target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
    target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _GNU_SOURCE)
    target_link_libraries(${target} PRIVATE ${ARGN})
  endif()
endfunction()

foreach(t ${SEQ_FUZZ_TARGETS})
  add_executable(fuzz_replay_${t} ${SEQ_FUZZ_DIR}/fuzz_${t}.c ${SEQ_FUZZ_DIR}/replay_main.c)
  target_compile_options(fuzz_replay_${t} PRIVATE -Wall -Wextra)
  if(t STREQUAL "seq")
    seq_fuzz_link(fuzz_replay_${t} ${t} seqc_core)
  else()
    seq_fuzz_link(fuzz_replay_${t} ${t} seqrt)
  endif()
  set(dirs ${SEQ_FUZZ_DIR}/regressions/${t} ${SEQ_FUZZ_DIR}/corpus/${t})
  add_test(NAME fuzz_regressions_${t} COMMAND fuzz_replay_${t} ${dirs})
  set_tests_properties(fuzz_regressions_${t} PROPERTIES LABELS fuzz
    ENVIRONMENT TMPDIR=${CMAKE_CURRENT_BINARY_DIR})
endforeach()
# The seeds from the rest of the tree go through the front end too.
add_test(NAME fuzz_regressions_seq_examples
  COMMAND fuzz_replay_seq ${PROJECT_SOURCE_DIR}/examples ${CMAKE_CURRENT_LIST_DIR}/invalid
          ${CMAKE_CURRENT_LIST_DIR}/models)
set_tests_properties(fuzz_regressions_seq_examples PROPERTIES LABELS fuzz
  ENVIRONMENT TMPDIR=${CMAKE_CURRENT_BINARY_DIR})

if(SEQ_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SEQ_FUZZ=ON needs clang (libFuzzer): configure with -DCMAKE_C_COMPILER=clang")
  endif()
  set(SEQ_FUZZ_FLAGS -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
      -fno-sanitize-recover=all)
  set(SEQ_FUZZ_LINK -fsanitize=fuzzer,address,undefined)

  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzzgen)
  # The front end, instrumented: seqc_core's own sources, with a private
  # copy of the generated lexer and parser.
  BISON_TARGET(seq_parser_fuzz ${PROJECT_SOURCE_DIR}/grammar/seq.y
               ${CMAKE_CURRENT_BINARY_DIR}/fuzzgen/seq.tab.c
               DEFINES_FILE ${CMAKE_CURRENT_BINARY_DIR}/fuzzgen/seq.tab.h)
  FLEX_TARGET(seq_lexer_fuzz ${PROJECT_SOURCE_DIR}/grammar/seq.l
              ${CMAKE_CURRENT_BINARY_DIR}/fuzzgen/seq.lex.c
              DEFINES_FILE ${CMAKE_CURRENT_BINARY_DIR}/fuzzgen/seq.lex.h)
  ADD_FLEX_BISON_DEPENDENCY(seq_lexer_fuzz seq_parser_fuzz)
  get_target_property(core_src seqc_core SOURCES)
  set(core_fuzz_src)
  foreach(s ${core_src})
    if(NOT IS_ABSOLUTE ${s})
      list(APPEND core_fuzz_src ${PROJECT_SOURCE_DIR}/compiler/${s})
    elseif(NOT s MATCHES "seq\\.(tab|lex)\\.[ch]$")
      list(APPEND core_fuzz_src ${s})
    endif()
  endforeach()
  add_library(seqc_core_fuzz STATIC ${core_fuzz_src}
              ${BISON_seq_parser_fuzz_OUTPUTS} ${FLEX_seq_lexer_fuzz_OUTPUTS})
  target_include_directories(seqc_core_fuzz PUBLIC ${CMAKE_CURRENT_BINARY_DIR}/fuzzgen
    ${PROJECT_SOURCE_DIR}/compiler ${PROJECT_SOURCE_DIR}/compiler/ops ${PROJECT_SOURCE_DIR}/grammar
    ${PROJECT_BINARY_DIR}/compiler ${PROJECT_SOURCE_DIR}/runtime/include)
  target_compile_definitions(seqc_core_fuzz PUBLIC SEQC_VERSION="${PROJECT_VERSION}"
                             _POSIX_C_SOURCE=200809L)
  # runtime/src/closest.h: seqrt_closest, shared with libseqrt.
  target_include_directories(seqc_core_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
  target_compile_options(seqc_core_fuzz PRIVATE ${SEQ_FUZZ_FLAGS})
  target_link_libraries(seqc_core_fuzz PUBLIC ${MATH_LIB})
  add_dependencies(seqc_core_fuzz seqc_core)   # build_config.h

  # The runtime, instrumented (float32, as the training binaries): seqrt's
  # own source list.
  get_target_property(rt_src seqrt SOURCES)
  list(TRANSFORM rt_src PREPEND ${PROJECT_SOURCE_DIR}/runtime/)
  add_library(seqrt_readers_fuzz STATIC ${rt_src})
  target_include_directories(seqrt_readers_fuzz PUBLIC ${PROJECT_SOURCE_DIR}/runtime/include
                             PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
  target_compile_definitions(seqrt_readers_fuzz PRIVATE _POSIX_C_SOURCE=200809L SEQRT_VERSION="${PROJECT_VERSION}")
  target_compile_options(seqrt_readers_fuzz PRIVATE ${SEQ_FUZZ_FLAGS})
  target_link_libraries(seqrt_readers_fuzz PUBLIC PkgConfig::OPENBLAS ${MATH_LIB})

  foreach(t ${SEQ_FUZZ_TARGETS})
    add_executable(fuzz_${t} ${SEQ_FUZZ_DIR}/fuzz_${t}.c)
    target_compile_options(fuzz_${t} PRIVATE ${SEQ_FUZZ_FLAGS})
    target_link_options(fuzz_${t} PRIVATE ${SEQ_FUZZ_LINK})
    if(t STREQUAL "seq")
      seq_fuzz_link(fuzz_${t} ${t} seqc_core_fuzz)
    else()
      seq_fuzz_link(fuzz_${t} ${t} seqrt_readers_fuzz)
    endif()
  endforeach()
  add_custom_target(fuzzers)
  foreach(t ${SEQ_FUZZ_TARGETS})
    add_dependencies(fuzzers fuzz_${t})
  endforeach()
endif()

# Hardening checks through the training binaries' command lines.
file(GLOB SEQ_HARDENING_TESTS ${CMAKE_CURRENT_LIST_DIR}/check_hardening_*.c)

# valgrind memcheck on a full train + predict of a few examples (the rest:
# tests/fuzz/valgrind_examples.py on examples/*.seq, by hand). Not in a
# sanitizer tree: valgrind and ASan do not mix.
find_program(SEQ_VALGRIND valgrind)
if(SEQ_VALGRIND AND NOT SEQ_SANITIZE AND NOT SEQ_FUZZ)
  add_test(NAME valgrind_examples
    COMMAND /usr/bin/python3 ${SEQ_FUZZ_DIR}/valgrind_examples.py $<TARGET_FILE:seqc>
            ${CMAKE_CURRENT_BINARY_DIR}/valgrind ${PROJECT_SOURCE_DIR}/examples/goodbye.seq
            ${PROJECT_SOURCE_DIR}/examples/char_gru.seq ${PROJECT_SOURCE_DIR}/examples/lstm_stack.seq
            ${PROJECT_SOURCE_DIR}/examples/seq2seq.seq)
  set_tests_properties(valgrind_examples PROPERTIES LABELS valgrind TIMEOUT 1800)
endif()

# Crash-safe training: 50 SIGKILLs of a training run, half of them inside a
# checkpoint write; the weights file must always load (checksum verified).
add_test(NAME crash_kill_train
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/crash/kill_train.py $<TARGET_FILE:seqc>
          ${CMAKE_CURRENT_BINARY_DIR}/crash 50)
set_tests_properties(crash_kill_train PROPERTIES LABELS crash TIMEOUT 1800)
foreach(src ${SEQ_HARDENING_TESTS})
  get_filename_component(n ${src} NAME_WE)
  add_executable(${n} ${src})
  target_include_directories(${n} PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${SEQ_FUZZ_DIR})
  target_link_libraries(${n} PRIVATE seqrt PkgConfig::CHECK)
  target_compile_options(${n} PRIVATE -Wall -Wextra)
  target_compile_definitions(${n} PRIVATE _POSIX_C_SOURCE=200809L SEQC_PATH="$<TARGET_FILE:seqc>"
                             SEQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_dependencies(${n} seqc)
  add_test(NAME ${n} COMMAND ${n})
  set_tests_properties(${n} PROPERTIES LABELS hardening TIMEOUT 1800
    ENVIRONMENT "TMPDIR=${CMAKE_CURRENT_BINARY_DIR};OPENBLAS_NUM_THREADS=1")
endforeach()
