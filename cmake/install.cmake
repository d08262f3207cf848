# install.cmake: `cmake --install` puts bin/seqc, lib/libseqrt*.a, the
# runtime headers and lib/cmake/seqc/ (seqcConfig.cmake, seqc.cmake) under
# CMAKE_INSTALL_PREFIX, so a project can find_package(seqc) and call
# seqc_add_model(). The installed seqc's `seqc build` uses the installed
# runtime: configure with the prefix you install to.
include(CMakePackageConfigHelpers)

set(SEQC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/seqc)
set(SEQC_RUNTIME_TARGETS seqrt seqrt_f64)
set(SEQC_WITH_MPI OFF)
if(TARGET seqrt_mpi)
  list(APPEND SEQC_RUNTIME_TARGETS seqrt_mpi)
  set(SEQC_WITH_MPI ON)
endif()

install(TARGETS seqc_installed ${SEQC_RUNTIME_TARGETS} EXPORT seqcTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/runtime/include/seqrt.h
              ${PROJECT_SOURCE_DIR}/runtime/include/seqrt_train.h
              ${PROJECT_SOURCE_DIR}/runtime/include/seqrt_model.h
              ${PROJECT_SOURCE_DIR}/runtime/include/seqrt_kernel.h
              ${PROJECT_SOURCE_DIR}/runtime/include/seqrt_rnn.h
              ${PROJECT_SOURCE_DIR}/runtime/include/seqrt_team.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT seqcTargets NAMESPACE seqc:: DESTINATION ${SEQC_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/seqcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/seqcConfig.cmake
  INSTALL_DESTINATION ${SEQC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/seqcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/seqcConfig.cmake ${PROJECT_BINARY_DIR}/seqcConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/seqc.cmake
        DESTINATION ${SEQC_INSTALL_CMAKEDIR})
