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

# export --tfjs (tests/tfjs/export.js): every example and test model, trained
# for two epochs by seqc (or given seeded weights when it has no train
# block), exported and loaded by tf.loadLayersModel; predict and the
# parameter count must agree. A model with a layer or option TensorFlow.js
# 4.22 lacks must be refused with a message naming it ("path|text").
# tests/models/conv.seq's output c is [T-1, 3]: a named axis a valid
# convolution shortens (seqrt_io.dim_offset).
set(SEQ_TFJS_REFUSED_GRU "(GRU): reset_after=true (Keras 2's default)")
set(SEQ_TFJS_REFUSED_ATTENTION "(Attention): TensorFlow.js 4.22 has no Attention")
# The examples tfjs can run are exported by the round trips below, which
# check the same on a program whose summary is the example's.
set(SEQ_TFJS_EXPORTS
    "tests/models/lstm_states.seq|" "tests/models/conv.seq|"
    "tests/crosscheck/models/conv_valid.seq|"
    "tests/tfjs/models/simple_rnn.seq|" "tests/tfjs/models/lstm.seq|" "tests/tfjs/models/gru.seq|"
    "tests/tfjs/models/embedding_mask.seq|" "tests/tfjs/models/conv1d.seq|"
    "tests/tfjs/models/merge.seq|" "tests/tfjs/models/merge_concat_mask.seq|"
    "examples/char_gru.seq|${SEQ_TFJS_REFUSED_GRU}"
    "examples/charlm/char_gru.seq|${SEQ_TFJS_REFUSED_GRU}"
    "examples/forecast/gru_forecast.seq|${SEQ_TFJS_REFUSED_GRU}"
    "tests/models/gru_options.seq|${SEQ_TFJS_REFUSED_GRU}"
    "tests/models/dropout.seq|${SEQ_TFJS_REFUSED_GRU}"
    "tests/models/masked.seq|${SEQ_TFJS_REFUSED_GRU}"
    "tests/models/wiring.seq|${SEQ_TFJS_REFUSED_GRU}"
    "tests/models/wrappers.seq|${SEQ_TFJS_REFUSED_GRU}"
    "examples/forecast/cnn_forecast.seq|(LastStep): Keras writes it as x[:, -1] (a Lambda)"
    "examples/seq2seq_attention.seq|${SEQ_TFJS_REFUSED_ATTENTION}"
    "tests/models/attn.seq|${SEQ_TFJS_REFUSED_ATTENTION}"
    "tests/models/attn_masked.seq|${SEQ_TFJS_REFUSED_ATTENTION}"
    "examples/attention.seq|(AttentionLayer): the Keras tutorial's custom layer"
    "tests/models/rnn_options.seq|(LastStep): Keras writes it as x[:, -1] (a Lambda)"
    "tests/models/merge.seq|(LastStep): Keras writes it as x[:, -1] (a Lambda)"
    "tests/tfjs/models/bidirectional.seq|(Bidirectional): a masked input with return_sequences=true"
    "tests/tfjs/models/bidi_none_mask.seq|(Bidirectional): a masked input with return_sequences=true"
    "tests/tfjs/models/merge_add_mask.seq|(Add): a masked input"
    "tests/models/masked_merge.seq|(Add): a masked input")
foreach(spec ${SEQ_TFJS_EXPORTS})
  string(REPLACE "|" ";" parts "${spec}")
  list(GET parts 0 file)
  list(GET parts 1 text)
  set(refuses "")
  if(NOT text STREQUAL "")
    set(refuses --refuses "${text}")
  endif()
  string(REGEX REPLACE "^tests/|\\.seq$" "" test ${file})
  string(REPLACE "/" "_" test "tfjs_export_${test}")
  if(SEQ_NODE)
    add_test(NAME ${test}
      COMMAND ${SEQ_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/tfjs/export.js
              --seqc $<TARGET_FILE:seqc> --work ${CMAKE_CURRENT_BINARY_DIR}/tfjs
              ${PROJECT_SOURCE_DIR}/${file} ${refuses})
  else()
    add_test(NAME ${test}
      COMMAND sh -c "echo 'FAIL: the tfjs export checks need node (Debian: apt-get install nodejs npm), then: npm ci --prefix tests/tfjs'; exit 1")
  endif()
  set_tests_properties(${test} PROPERTIES LABELS tfjs TIMEOUT 300
                       ENVIRONMENT OPENBLAS_NUM_THREADS=1)
endforeach()

# tfjs_roundtrip_<example>: Keras/TensorFlow.js -> seqc -> TensorFlow.js
# (tests/tfjs/roundtrip.js) for every example tfjs can run: built in tfjs
# and saved as a layers model, and (where tests/import/models has it) the
# Keras JSON in both forms with .h5 weights in the three layouts
# (tests/import/h5_check.py, python3-h5py); each imported, one program
# built, trained a few steps from each weights file, exported, loaded by
# tf.loadLayersModel: predictions within 1e-5, Keras's parameter count.
# The other examples are refused by the export (above): char_gru,
# charlm/char_gru and forecast/gru_forecast (GRU reset_after=true),
# forecast/cnn_forecast (LastStep), attention and seq2seq_attention.
foreach(ex goodbye hello simple_rnn lstm_stack seq2seq wavenet char_lstm lstm_forecast rnn_forecast)
  if(SEQ_NODE)
    add_test(NAME tfjs_roundtrip_${ex}
      COMMAND ${SEQ_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/tfjs/roundtrip.js
              --seqc $<TARGET_FILE:seqc> --work ${CMAKE_CURRENT_BINARY_DIR}/tfjs ${ex})
  else()
    add_test(NAME tfjs_roundtrip_${ex}
      COMMAND sh -c "echo 'FAIL: the tfjs round trips need node (Debian: apt-get install nodejs npm), then: npm ci --prefix tests/tfjs'; exit 1")
  endif()
  set_tests_properties(tfjs_roundtrip_${ex} PROPERTIES LABELS "tfjs;import" TIMEOUT 300
                       ENVIRONMENT OPENBLAS_NUM_THREADS=1)
endforeach()
