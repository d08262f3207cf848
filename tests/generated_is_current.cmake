# generated_is_current.cmake: emit every example again and compare with the
# checked-in copy under generated/; fail on any difference.
#   cmake -DSEQC=... -DSRC=<repo> -DMODELS="a;b" -DOUT=<scratch> -P this
set(stale "")
foreach(m ${MODELS})
  file(REMOVE_RECURSE ${OUT}/${m})
  file(MAKE_DIRECTORY ${OUT}/${m})
  execute_process(COMMAND ${SEQC} emit examples/${m}.seq -o ${OUT}/${m}
                  WORKING_DIRECTORY ${SRC} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "seqc emit examples/${m}.seq failed (${rc})")
  endif()
  foreach(f ${m}.h ${m}.c ${m}_main.c)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT}/${m}/${f} ${SRC}/generated/${m}/${f}
                    RESULT_VARIABLE diff)
    if(NOT diff EQUAL 0)
      list(APPEND stale generated/${m}/${f})
    endif()
  endforeach()
endforeach()
if(stale)
  message(FATAL_ERROR "stale generated code: ${stale}\nregenerate with: tools/regenerate")
endif()
message(STATUS "generated/ matches seqc for: ${MODELS}")
