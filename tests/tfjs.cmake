# tfjs.cmake: TensorFlow.js cross-checks (tests/tfjs/check.js). Each test
# builds one model with this tree's seqc at run time and compares the
# program's predict, grad (loss and every gradient) and, for goodbye_train,
# a whole Adam run with tfjs-layers on its pure-JavaScript CPU backend. They
# need node and tests/tfjs/node_modules (`npm ci --prefix tests/tfjs`; CI
# and tests/run install it); without them each test FAILS saying so, never
# skips.
find_program(SEQ_NODE node)
set(SEQ_TFJS_CASES
    simple_rnn lstm gru embedding_mask conv1d bidirectional merge
    merge_add_mask merge_concat_mask bidi_none_mask goodbye_train)
foreach(case ${SEQ_TFJS_CASES})
  if(SEQ_NODE)
    add_test(NAME tfjs_${case}
      COMMAND ${SEQ_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/tfjs/check.js
              --seqc $<TARGET_FILE:seqc> --work ${CMAKE_CURRENT_BINARY_DIR}/tfjs ${case})
  else()
    add_test(NAME tfjs_${case}
      COMMAND sh -c "echo 'FAIL: the tfjs cross-checks need node (Debian: apt-get install nodejs npm), then: npm ci --prefix tests/tfjs'; exit 1")
  endif()
  set_tests_properties(tfjs_${case} PROPERTIES LABELS tfjs TIMEOUT 300
                       ENVIRONMENT OPENBLAS_NUM_THREADS=1)
endforeach()
