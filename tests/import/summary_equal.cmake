# summary_equal.cmake: `seqc import` of a seed model's Keras JSON gives a
# .seq whose `seqc summary` is the example's, byte for byte (layer names,
# shapes, parameter counts = Keras's).
#   cmake -DSEQC=... -DJSON=... -DEXAMPLE=... -DWORK=... -P summary_equal.cmake
get_filename_component(name ${JSON} NAME_WE)
get_filename_component(form ${JSON} NAME)
file(MAKE_DIRECTORY ${WORK})
set(seq ${WORK}/${form}.seq)
execute_process(COMMAND ${SEQC} import ${JSON} -o ${seq} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "seqc import ${JSON} failed (${rc}): ${err}")
endif()
execute_process(COMMAND ${SEQC} summary ${seq} RESULT_VARIABLE rc1 OUTPUT_VARIABLE got ERROR_VARIABLE err1)
execute_process(COMMAND ${SEQC} summary ${EXAMPLE} RESULT_VARIABLE rc2 OUTPUT_VARIABLE want)
if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0)
  message(FATAL_ERROR "seqc summary failed: ${err1}")
endif()
if(NOT got STREQUAL want)
  message(FATAL_ERROR "summaries differ.\nimported (${seq}):\n${got}\nexample (${EXAMPLE}):\n${want}")
endif()
message(STATUS "${form}: the summary of the import equals ${EXAMPLE}'s")
