# A project that uses seqc, built both ways README.md shows: with
# add_subdirectory() of this source tree, and with find_package(seqc) after
# `cmake --install` (tests/consumer/check_consumer.py). Each way configures
# and builds seqc afresh, in its own default build type, whatever this
# build's type and flags are, so a sanitizer build (SEQ_SANITIZE) would
# only repeat it.
if(SEQ_SANITIZE)
  return()
endif()
add_test(NAME consumer_project
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/check_consumer.py ${CMAKE_COMMAND}
          ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/consumer)
# Two builds of seqc: generous for a loaded machine, far from a hang's worth.
set_tests_properties(consumer_project PROPERTIES LABELS consumer TIMEOUT 1800)
