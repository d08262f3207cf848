# shared_functions.cmake: identical layers share one generated function, so
# a chain's layer functions do not grow with its length and its C grows by
# a few table rows and calls per layer (docs/limits.md).
#   cmake -DSEQC=... -DSRC=<repo> -DOUT=<scratch> -P this
# For each kind, chains of 50, 250 and 500 layers (bench/chain_model).
# The most C a layer may add: its calls, buffers and table rows, well under
# what it cost with functions of its own (3.2 KB for Dense(8), 9 KB for LSTM(8)).
foreach(spec Dense:2400 LSTM:4000 GRU:4000)
  string(REPLACE ":" ";" spec ${spec})
  list(GET spec 0 kind)
  list(GET spec 1 max_bytes_per_layer)
  set(sizes "")
  set(counts "")
  set(loops "")
  foreach(n 50 250 500)
    set(dir ${OUT}/${kind}_${n})
    file(REMOVE_RECURSE ${dir})
    file(MAKE_DIRECTORY ${dir})
    execute_process(COMMAND sh ${SRC}/bench/chain_model ${n} ${kind} 8
                    OUTPUT_FILE ${dir}/chain.seq RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "bench/chain_model ${n} ${kind} failed (${rc})")
    endif()
    # A relative path: the file's name is quoted in the C, its length must not count.
    execute_process(COMMAND ${SEQC} emit chain.seq -o . WORKING_DIRECTORY ${dir}
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "seqc emit of a ${n}-layer ${kind} chain failed (${rc})")
    endif()
    file(READ ${dir}/chain.c text)
    string(LENGTH "${text}" size)
    string(REGEX MATCHALL "SEQRT_KERNEL static void [a-z0-9_]+\\(" fns "${text}")
    list(LENGTH fns count)
    # The chain's calls, placements and numerics checks: tables and loops
    # (compiler/lower_runs.h), whose code does not grow with the chain.
    string(REGEX MATCHALL "SEQ_MEMBER\\([^)]*\\)" uses "${text}")
    list(LENGTH uses n_uses)
    list(APPEND loops ${n_uses})
    list(APPEND sizes ${size})
    list(APPEND counts ${count})
  endforeach()
  list(GET counts 0 c50)
  list(GET counts 2 c500)
  message(STATUS "${kind}: layer functions ${counts}, C bytes ${sizes} for 50, 250, 500 layers")
  if(NOT c50 EQUAL c500 OR c50 GREATER 8)
    message(FATAL_ERROR "${kind}: ${c50} layer functions for 50 layers, ${c500} for 500")
  endif()
  list(GET loops 0 l50)
  list(GET loops 2 l500)
  message(STATUS "${kind}: buffers read through the tables' loops ${loops}")
  if(l50 EQUAL 0 OR NOT l50 EQUAL l500)
    message(FATAL_ERROR "${kind}: ${l50} SEQ_MEMBER uses for 50 layers, ${l500} for 500: "
                        "the runs are not loops over tables")
  endif()
  list(GET sizes 0 s50)
  list(GET sizes 1 s250)
  list(GET sizes 2 s500)
  math(EXPR per_a "(${s250} - ${s50}) / 200")
  math(EXPR per_b "(${s500} - ${s250}) / 250")
  if(per_b GREATER max_bytes_per_layer)
    message(FATAL_ERROR "${kind}: ${per_b} bytes of C per layer (at most ${max_bytes_per_layer})")
  endif()
  # Linear: the bytes per layer from 250 to 500 within 5% of those from 50 to 250.
  math(EXPR lo "${per_a} * 95 / 100")
  math(EXPR hi "${per_a} * 105 / 100")
  if(per_b LESS lo OR per_b GREATER hi)
    message(FATAL_ERROR "${kind}: ${per_a} bytes per layer from 50 to 250 layers, "
                        "${per_b} from 250 to 500: not linear")
  endif()
endforeach()
