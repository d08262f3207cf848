# seqc.cmake: seqc_add_model(NAME FILE.seq [FLOAT64] [EXTRA_SOURCES ...] [MAIN file.c]
#                            [EMIT_FLAGS ...])
#
# Compiles a .seq model to C at build time (seqc emit) and builds a program
# NAME from it, linked with libseqrt and OpenBLAS. The default program is
# the model's own training binary (NAME_main.c); MAIN replaces it, e.g. with
# a test harness. FLOAT64 builds the model and runtime in double precision.
# Relative paths (FILE, MAIN, EXTRA_SOURCES) are relative to the calling
# CMakeLists.txt, as for add_executable().
#
# Available after add_subdirectory() of the seqc source tree, after
# find_package(seqc), and inside the tree: all three provide the targets
# seqc::seqc (the compiler), seqc::seqrt and seqc::seqrt_f64.
include_guard(GLOBAL)

function(seqc_add_model name file)
  cmake_parse_arguments(SAM "FLOAT64" "MAIN" "EXTRA_SOURCES;EMIT_FLAGS" ${ARGN})
  if(SAM_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "seqc_add_model(${name}): unknown arguments: ${SAM_UNPARSED_ARGUMENTS}")
  endif()
  foreach(t seqc::seqc seqc::seqrt seqc::seqrt_f64)
    if(NOT TARGET ${t})
      message(FATAL_ERROR "seqc_add_model(${name}): no target ${t}: call it after "
                          "add_subdirectory(<seqc source tree>) or find_package(seqc)")
    endif()
  endforeach()
  # A function runs in its caller's directory: relative means the caller's.
  get_filename_component(src "${file}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${src}" OR IS_DIRECTORY "${src}")
    message(FATAL_ERROR "seqc_add_model(${name}): no model file ${src} "
                        "(relative paths are relative to ${CMAKE_CURRENT_SOURCE_DIR})")
  endif()
  # The model's C names come from its `model NAME` line; find it.
  file(STRINGS "${src}" model_line REGEX "^[ \t]*model[ \t]+[A-Za-z_][A-Za-z0-9_]*")
  if(model_line)
    list(GET model_line 0 model_line)
    string(REGEX REPLACE "^[ \t]*model[ \t]+([A-Za-z_][A-Za-z0-9_]*).*" "\\1" model "${model_line}")
  else()
    get_filename_component(model "${src}" NAME_WE)
  endif()
  set(outdir "${CMAKE_CURRENT_BINARY_DIR}/${name}.gen")
  set(gen "${outdir}/${model}.c" "${outdir}/${model}.h" "${outdir}/${model}_main.c")
  add_custom_command(
    OUTPUT ${gen}
    COMMAND ${CMAKE_COMMAND} -E make_directory "${outdir}"
    COMMAND seqc::seqc emit ${SAM_EMIT_FLAGS} "${src}" -o "${outdir}"
    DEPENDS seqc::seqc "${src}"
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "seqc emit ${file}"
    VERBATIM)
  if(SAM_MAIN)
    set(main "${SAM_MAIN}")
  else()
    set(main "${outdir}/${model}_main.c")
  endif()
  add_executable(${name} "${outdir}/${model}.c" "${main}" ${SAM_EXTRA_SOURCES})
  target_include_directories(${name} PRIVATE "${outdir}")
  target_compile_definitions(${name} PRIVATE SEQC_MODEL=${model}_model)
  if(SAM_FLOAT64)
    target_link_libraries(${name} PRIVATE seqc::seqrt_f64)
  else()
    target_link_libraries(${name} PRIVATE seqc::seqrt)
  endif()
endfunction()
