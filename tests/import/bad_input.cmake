# bad_input.cmake: `seqc import` of a bad model or bad weights fails with
# exit status RC and exactly one line on stderr matching EXPECT, and writes
# nothing.
#   cmake -DSEQC=... -DARGS=a,b -DRC=1 -DEXPECT=regex -DWORK=... -P bad_input.cmake
string(REPLACE "," ";" ARGS "${ARGS}")
file(MAKE_DIRECTORY ${WORK})
set(out ${WORK}/out.seq)
file(REMOVE ${out} ${WORK}/out.safetensors)
execute_process(COMMAND ${SEQC} import ${ARGS} -o ${out} --weights ${WORK}/out.safetensors
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out_text)
string(STRIP "${err}" err)
string(FIND "${err}" "\n" nl)
if(NOT rc STREQUAL "${RC}")
  message(FATAL_ERROR "exit status ${rc}, want ${RC}; stderr: ${err}")
endif()
if(NOT nl EQUAL -1)
  message(FATAL_ERROR "more than one line on stderr:\n${err}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr does not match '${EXPECT}':\n${err}")
endif()
if(EXISTS ${out} OR EXISTS ${WORK}/out.safetensors)
  message(FATAL_ERROR "a file was written despite the error")
endif()
message(STATUS "refused as expected: ${err}")
