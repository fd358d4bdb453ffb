# Install rules: `cmake --install build --prefix P` gives
#
#   P/bin/qplug                                  the translator
#   P/include/qplug/                             qemu-plugin.h and the other public headers
#   P/<libdir>/qplug/plugins/lib*.so             the example plugins (examples/)
#   P/<libdir>/cmake/qplug/qplugConfig*.cmake    find_package(qplug)
#   P/<libdir>/pkgconfig/qplug.pc                pkg-config --cflags qplug
#   P/share/man/man1/qplug.1                     the man page
#   P/share/doc/qplug/                           README, docs/*.md, the out-of-tree template
#
# <libdir> is GNUInstallDirs' CMAKE_INSTALL_LIBDIR: "lib", or the multiarch
# lib/x86_64-linux-gnu when the prefix is /usr on Debian. Included at the end of
# the top-level CMakeLists.txt, so that every target (qplug in src/, the plugins
# in examples/) exists; install(TARGETS) accepts targets of other directories.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(QPLUG_INSTALL_BINDIR ${CMAKE_INSTALL_BINDIR})
set(QPLUG_INSTALL_LIBDIR ${CMAKE_INSTALL_LIBDIR})
set(QPLUG_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
set(QPLUG_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/qplug)
set(QPLUG_INSTALL_PLUGINDIR ${CMAKE_INSTALL_LIBDIR}/qplug/plugins)

install(TARGETS qplug RUNTIME DESTINATION ${QPLUG_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/docs/qplug.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT runtime)

# Every MODULE library examples/ defines, so a new example is installed without
# being listed here (the directory also holds the qplug_examples custom target).
get_property(qplug_example_targets DIRECTORY ${PROJECT_SOURCE_DIR}/examples
             PROPERTY BUILDSYSTEM_TARGETS)
foreach(target IN LISTS qplug_example_targets)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "MODULE_LIBRARY")
    install(TARGETS ${target} LIBRARY DESTINATION ${QPLUG_INSTALL_PLUGINDIR} COMPONENT runtime)
  endif()
endforeach()

# The engine as static libraries, for custom tools built with qplug::run (C++
# static plugins, qplug_add_tool in the package), and the list of QEMU API
# symbols such a tool exports to .so plugins.
install(TARGETS qplug_core qplug_loader qplug_cli ARCHIVE DESTINATION ${QPLUG_INSTALL_LIBDIR}/qplug
        COMPONENT devel)
install(FILES ${QPLUG_DYNLIST_FILE} DESTINATION ${QPLUG_INSTALL_CMAKEDIR} COMPONENT devel)

# The headers keep their qplug/ directory: qplug's sources include
# <qplug/qemu-plugin.h>. The package also puts include/qplug itself on the path
# so that plugins written for QEMU's tree (#include <qemu-plugin.h>) build as is.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/qplug DESTINATION ${QPLUG_INSTALL_INCLUDEDIR}
        COMPONENT devel)

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/qplugConfig.cmake.in ${PROJECT_BINARY_DIR}/qplugConfig.cmake
  INSTALL_DESTINATION ${QPLUG_INSTALL_CMAKEDIR}
  PATH_VARS QPLUG_INSTALL_BINDIR QPLUG_INSTALL_INCLUDEDIR QPLUG_INSTALL_PLUGINDIR
            QPLUG_INSTALL_LIBDIR)
# 0.x: a minor release may change the package's interface.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/qplugConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/qplugConfig.cmake ${PROJECT_BINARY_DIR}/qplugConfigVersion.cmake
        DESTINATION ${QPLUG_INSTALL_CMAKEDIR} COMPONENT devel)

# qplug.pc names absolute directories, and `cmake --install --prefix P`
# overrides the prefix the build was configured with, so the prefix is filled
# in at install time (DESTDIR is not part of CMAKE_INSTALL_PREFIX, so staged
# installs get the final paths). The rest is filled in now; a directory given
# as an absolute path stays absolute.
foreach(dir BINDIR LIBDIR INCLUDEDIR PLUGINDIR)
  set(QPLUG_PC_${dir} ${QPLUG_INSTALL_${dir}})
  if(NOT IS_ABSOLUTE "${QPLUG_PC_${dir}}")
    set(QPLUG_PC_${dir} "\${prefix}/${QPLUG_PC_${dir}}")
  endif()
endforeach()
set(QPLUG_PC_PREFIX "@QPLUG_PC_PREFIX@")  # kept for the install-time pass
configure_file(${CMAKE_CURRENT_LIST_DIR}/qplug.pc.in ${PROJECT_BINARY_DIR}/qplug.pc.in @ONLY)
install(CODE "
  set(QPLUG_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/qplug.pc.in\" \"${PROJECT_BINARY_DIR}/qplug.pc\" @ONLY)
" COMPONENT devel)
install(FILES ${PROJECT_BINARY_DIR}/qplug.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT devel)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT doc FILES_MATCHING PATTERN "*.md")
# The template only, not whatever was built inside it.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/out-of-tree DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT doc FILES_MATCHING PATTERN "*.c" PATTERN "*.md" PATTERN "CMakeLists.txt"
        PATTERN "Makefile")
