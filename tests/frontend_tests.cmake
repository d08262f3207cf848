# Front-end tests: the diagnostics corpus (tests/invalid), hostile input and
# scaling, the lexer and parser, and the shape and parameter rules.
# Included from tests/CMakeLists.txt.

set(SEQ_FRONTEND_SUITES diagnostics hostile lexer parser shape emit)
foreach(suite ${SEQ_FRONTEND_SUITES})
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/check_${suite}.c)
    continue()
  endif()
  add_executable(check_${suite} ${CMAKE_CURRENT_SOURCE_DIR}/check_${suite}.c)
  target_link_libraries(check_${suite} PRIVATE seqc_core PkgConfig::CHECK)
  target_compile_options(check_${suite} PRIVATE ${SEQ_WARNINGS})
  target_compile_definitions(check_${suite} PRIVATE
    SEQC_PATH="$<TARGET_FILE:seqc>"
    SEQ_INVALID_DIR="${CMAKE_CURRENT_SOURCE_DIR}/invalid"
    SEQ_EXAMPLES_DIR="${PROJECT_SOURCE_DIR}/examples")
  add_dependencies(check_${suite} seqc)
  add_test(NAME check_${suite} COMMAND check_${suite})
  set_tests_properties(check_${suite} PROPERTIES TIMEOUT 1800 LABELS frontend)
endforeach()
