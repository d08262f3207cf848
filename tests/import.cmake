# import.cmake: `seqc import` (label import). Included from tests/CMakeLists.txt.
#  - import_summary_<example>_<form>: the Keras JSON of each seed model, in
#    tf.keras 2 and Keras 3 form (tests/import/models, written by
#    tests/import/keras_json.py), imports to a .seq whose summary is the
#    example's;
#  - import_h5_<model>: weights in the three HDF5 layouts of Keras import
#    bitwise (tests/import/h5_check.py; needs python3-h5py);
#  - import_bad_<case>: bad models and weights are refused in one line.
set(SEQ_IMPORT_EXAMPLES attention char_gru goodbye hello lstm_stack seq2seq seq2seq_attention
    simple_rnn wavenet)
foreach(ex ${SEQ_IMPORT_EXAMPLES})
  foreach(form tf2 k3)
    add_test(NAME import_summary_${ex}_${form}
      COMMAND ${CMAKE_COMMAND} -DSEQC=$<TARGET_FILE:seqc>
              -DJSON=${CMAKE_CURRENT_SOURCE_DIR}/import/models/${ex}.${form}.json
              -DEXAMPLE=${PROJECT_SOURCE_DIR}/examples/${ex}.seq
              -DWORK=${CMAKE_CURRENT_BINARY_DIR}/import
              -P ${CMAKE_CURRENT_SOURCE_DIR}/import/summary_equal.cmake)
    set_tests_properties(import_summary_${ex}_${form} PROPERTIES LABELS import TIMEOUT 60)
  endforeach()
endforeach()

foreach(m attention char_gru hello lstm_stack wavenet seq2seq_attention)
  set(extra "")
  if(m STREQUAL "seq2seq_attention")
    set(extra --predict)
  endif()
  add_test(NAME import_h5_${m}
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/import/h5_check.py
            --seqc $<TARGET_FILE:seqc> --work ${CMAKE_CURRENT_BINARY_DIR}/import_h5 ${m} ${extra})
  set_tests_properties(import_h5_${m} PROPERTIES LABELS import TIMEOUT 300
                       ENVIRONMENT OPENBLAS_NUM_THREADS=1)
endforeach()

# name | exit status | stderr (a regular expression) | arguments, comma-separated
set(bad ${CMAKE_CURRENT_SOURCE_DIR}/import/bad)
set(models ${CMAKE_CURRENT_SOURCE_DIR}/import/models)
set(SEQ_IMPORT_BAD
  "malformed_json|1|malformed\\.json:2:49: error: malformed JSON: expected a string key$|${bad}/malformed.json"
  "unknown_layer|1|error: layer 'dense' \\(BatchNormalization\\): the language has no such layer \\(it has Activation, .*\\)$|${bad}/unknown_layer.json"
  "unsupported_option|1|error: layer 'simple_rnn' \\(SimpleRNN\\): option 'kernel_regularizer' = L2: the language has no kernel_regularizer|${bad}/unsupported_option.json"
  "unsupported_activation|1|option 'activation' = \"gelu\": the language has linear, relu, tanh, sigmoid, hard_sigmoid, softmax$|${bad}/unsupported_activation.json"
  "unknown_option|1|error: layer 'dense' \\(Dense\\): option 'frobnicate' = true: the language's Dense has no such option$|${bad}/unknown_option.json"
  "no_weights|2|^seqc: --weights needs the weights: a \\.h5 file after .*simple_rnn\\.tf2\\.json|${models}/simple_rnn.tf2.json"
  "not_hdf5|1|not_weights\\.h5: error: not an HDF5 file|${models}/simple_rnn.tf2.json,${bad}/not_weights.h5"
  "missing_file|2|^seqc: .*no_such\\.json|${bad}/no_such.json"
  "tfjs_short_shard|1|model\\.json: error: the weight shards end before weight 'dense/kernel' \\(4 bytes short\\)$|${bad}/tfjs_short/model.json"
  "tfjs_missing_weight|1|model\\.json: error: layer 'dense' \\(Dense\\) has 1 weight there, the model needs 2$|${bad}/tfjs_missing/model.json"
  "keras3_hard_sigmoid|1|Keras 3's is clip\\(x/6 \\+ 0\\.5, 0, 1\\)|${bad}/k3_hard_sigmoid.json"
  "subclassed|1|model class 'MyModel': seqc imports Sequential and functional models|${bad}/subclassed.json")
foreach(case ${SEQ_IMPORT_BAD})
  string(REPLACE "|" ";" f "${case}")
  list(GET f 0 name)
  list(GET f 1 rc)
  list(GET f 2 expect)
  list(GET f 3 args)
  add_test(NAME import_bad_${name}
    COMMAND ${CMAKE_COMMAND} -DSEQC=$<TARGET_FILE:seqc> "-DARGS=${args}" -DRC=${rc}
            "-DEXPECT=${expect}" -DWORK=${CMAKE_CURRENT_BINARY_DIR}/import_bad/${name}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/import/bad_input.cmake)
  set_tests_properties(import_bad_${name} PROPERTIES LABELS import TIMEOUT 60)
endforeach()

# import_tfjs_<case>: TensorFlow.js layers models saved in the layers-model
# format import with their weights and predict as tfjs does, within 1e-5
# (tests/tfjs/import.js; needs node and tests/tfjs/node_modules, as the
# tfjs cross-checks do: without them each test FAILS saying so).
foreach(case sequential_rnn lstm_stack gru_embedding conv_flatten seq2seq_bidi shared)
  if(SEQ_NODE)
    add_test(NAME import_tfjs_${case}
      COMMAND ${SEQ_NODE} ${CMAKE_CURRENT_SOURCE_DIR}/tfjs/import.js
              --seqc $<TARGET_FILE:seqc> --work ${CMAKE_CURRENT_BINARY_DIR}/tfjs ${case})
  else()
    add_test(NAME import_tfjs_${case}
      COMMAND sh -c "echo 'FAIL: needs node (Debian: apt-get install nodejs npm), then: npm ci --prefix tests/tfjs'; exit 1")
  endif()
  set_tests_properties(import_tfjs_${case} PROPERTIES LABELS "import;tfjs" TIMEOUT 300
                       ENVIRONMENT OPENBLAS_NUM_THREADS=1)
endforeach()
