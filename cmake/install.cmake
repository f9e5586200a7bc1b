# `make install` and the Debian package (`make deb`, CPack): the daemon and the tools,
# an example lwm2md.conf listing every setting at its default (generated from the options
# table by `lwm2md --print-config`), a hardened systemd unit, and the deployment docs.
# docs/deploying.md says what goes where; tests/install/check-install.sh checks the tree.
include(GNUInstallDirs)

file(STRINGS ${CMAKE_SOURCE_DIR}/src/daemon/config.h LWM2MD_VERSION_LINE
  REGEX "^#define LWM2MD_VERSION \"[^\"]+\"")
string(REGEX REPLACE ".*\"([^\"]+)\".*" "\\1" LWM2MD_VERSION "${LWM2MD_VERSION_LINE}")

# With the prefix /usr (the package's), GNUInstallDirs puts the config in /etc.
set(LWM2MD_BIN_DIR ${CMAKE_INSTALL_FULL_BINDIR})
set(LWM2MD_CONF_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/lwm2md)
set(LWM2MD_DOC_DIR ${CMAKE_INSTALL_FULL_DOCDIR})
# Under the prefix: /usr/lib/systemd/system for the package, /usr/local/lib/systemd/system
# for a default `make install`; systemd reads both.
set(LWM2MD_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING
  "Where the systemd unit goes (relative: under the install prefix)")

set(LWM2MD_PROGRAMS lwm2md lwm2m-sim lwm2mctl)
foreach(t ${LWM2MD_PROGRAMS})
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/lwm2md.conf
  COMMAND ${CMAKE_COMMAND} -DLWM2MD=$<TARGET_FILE:lwm2md>
          -DOUT=${CMAKE_BINARY_DIR}/packaging/lwm2md.conf
          -P ${CMAKE_SOURCE_DIR}/cmake/service_conf.cmake
  DEPENDS lwm2md ${CMAKE_SOURCE_DIR}/cmake/service_conf.cmake
  COMMENT "Writing the example lwm2md.conf")
add_custom_target(service_conf ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/lwm2md.conf)
add_dependencies(programs service_conf)
configure_file(${CMAKE_SOURCE_DIR}/packaging/lwm2md.service.in
  ${CMAKE_BINARY_DIR}/packaging/lwm2md.service @ONLY)

# lwm2mctl's bash completion, written by the program itself from its command table, so it
# never lists a command the binary does not have.
if(TARGET lwm2mctl)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/lwm2mctl.bash
    COMMAND $<TARGET_FILE:lwm2mctl> completion bash > ${CMAKE_BINARY_DIR}/packaging/lwm2mctl.bash
    DEPENDS lwm2mctl
    COMMENT "Writing lwm2mctl's bash completion")
  add_custom_target(lwm2mctl_completion ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/lwm2mctl.bash)
  add_dependencies(programs lwm2mctl_completion)
  install(FILES ${CMAKE_BINARY_DIR}/packaging/lwm2mctl.bash
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME lwm2mctl)
endif()

install(FILES ${CMAKE_BINARY_DIR}/packaging/lwm2md.conf DESTINATION ${LWM2MD_CONF_DIR})
install(FILES ${CMAKE_BINARY_DIR}/packaging/lwm2md.service
  DESTINATION ${LWM2MD_SYSTEMD_UNIT_DIR})
# The operator's reference beside the binaries (no man pages: `--help` of each program
# and these pages say it all).
install(FILES ${CMAKE_SOURCE_DIR}/docs/deploying.md ${CMAKE_SOURCE_DIR}/docs/troubleshooting.md
  ${CMAKE_SOURCE_DIR}/docs/api.md ${CMAKE_SOURCE_DIR}/docs/cli.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package: `make deb` configures a build with the prefix /usr and the tests off,
# then runs cpack -G DEB. Its dependencies are the runtime libraries, found by
# dpkg-shlibdeps (dpkg-dev) from the binaries.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lwm2md)
set(CPACK_PACKAGE_VERSION ${LWM2MD_VERSION})
set(CPACK_PACKAGE_CONTACT "lwm2md maintainers <lwm2md@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LwM2M/CoAP device access platform")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
# conffiles: an upgrade keeps the operator's /etc/lwm2md/lwm2md.conf (the package's prefix
# is always /usr, so its config is always there).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
