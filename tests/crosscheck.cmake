# crosscheck.cmake: PyTorch cross-checks (tests/crosscheck/*.py). Each test
# builds its model with this tree's seqc at run time, then compares the
# binary's predict, grad (loss and every gradient) and one Adam step of train
# with PyTorch (tests/crosscheck/common.py says how). They need numpy and
# torch in SEQ_CROSSCHECK_PYTHON (Debian: python3-numpy python3-torch); without
# them each test FAILS with a message saying so, never skips.
set(SEQ_CROSSCHECK_PYTHON /usr/bin/python3 CACHE FILEPATH
    "Python with numpy and torch for the PyTorch cross-checks")
set(SEQ_CROSSCHECK_CASES
    simple_rnn_stack lstm_stack seq2seq gru_stack gru_reset_before char_gru
    wavenet conv_same conv_valid attention bidirectional)
# Masked variable-length batches, padded batch = samples one by one for
# every layer kind of the op table (no torch reference), Keras Attention/AdditiveAttention, go_backwards and
# Bidirectional merge modes / return_state, optimizers other than Adam and
# gradient clipping.
list(APPEND SEQ_CROSSCHECK_CASES
    masked padding_equivalence keras_attention directions optimizers)
set(SEQ_CROSSCHECK_WORK ${CMAKE_CURRENT_BINARY_DIR}/crosscheck)

# padding_equivalence walks the compiler's op table, which op_table prints.
add_executable(seq_op_table ${CMAKE_CURRENT_SOURCE_DIR}/crosscheck/op_table.c)
target_link_libraries(seq_op_table PRIVATE seqc_core)
target_compile_options(seq_op_table PRIVATE ${SEQ_WARNINGS})
set(SEQ_CROSSCHECK_ARGS_padding_equivalence --ops $<TARGET_FILE:seq_op_table>)

foreach(case ${SEQ_CROSSCHECK_CASES})
  add_test(NAME crosscheck_${case}
    COMMAND ${SEQ_CROSSCHECK_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/crosscheck/${case}.py
            --seqc $<TARGET_FILE:seqc> --work ${SEQ_CROSSCHECK_WORK}
            ${SEQ_CROSSCHECK_ARGS_${case}})
  set_tests_properties(crosscheck_${case} PROPERTIES LABELS crosscheck TIMEOUT 1800)
endforeach()

# The conversion module's own examples (its docstrings).
add_test(NAME crosscheck_seqc_torch_doctest
  COMMAND ${SEQ_CROSSCHECK_PYTHON} ${PROJECT_SOURCE_DIR}/tools/seqc_torch.py)
set_tests_properties(crosscheck_seqc_torch_doctest PROPERTIES LABELS crosscheck TIMEOUT 600)
