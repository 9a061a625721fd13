# `cmake --install build --prefix P`: what goes where (GNUInstallDirs).
#   P/bin/headspec
#   P/share/headspec/        jobs/ (demo, paper, beyond), slurm/, demo.sh
#   P/share/doc/headspec/    README.md, docs/, the Python package's README
#   P/share/man/man1/        headspec.1.gz (help2man, from --help)
#   P/share/modulefiles/     headspec/VERSION (not for /usr: the Debian package)
#   P/lib/python3/dist-packages/headspec   (HS_PYTHON_DIR; HS_INSTALL_PYTHON)
# The scripts and the modulefile name the installed directories; they are
# written at install time, so --prefix (and DESTDIR, which CPack uses) is
# the one that counts, never the source or build tree.
include(GNUInstallDirs)
option(HS_INSTALL_PYTHON "Install the Python package under the prefix (HS_PYTHON_DIR)" ON)
set(HS_PYTHON_DIR lib/python3/dist-packages CACHE STRING
    "Where the Python package goes, relative to the prefix (Debian's layout for /usr)")
set(HS_MODULEFILE_DIR ${CMAKE_INSTALL_DATADIR}/modulefiles CACHE STRING
    "Where the modulefile headspec/VERSION goes, relative to the prefix")
set(HS_SHARE_DIR ${CMAKE_INSTALL_DATADIR}/headspec)

install(TARGETS headspec RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/jobs/ DESTINATION ${HS_SHARE_DIR}/jobs)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(FILES ${PROJECT_SOURCE_DIR}/analysis/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}/analysis)

# The Python package: its modules and the version (the top VERSION itself:
# analysis/headspec/VERSION is a link to it).
if(HS_INSTALL_PYTHON)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/analysis/headspec/ DESTINATION ${HS_PYTHON_DIR}/headspec
          FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
  install(FILES ${PROJECT_SOURCE_DIR}/VERSION DESTINATION ${HS_PYTHON_DIR}/headspec)
endif()

# The man page, from --help (help2man; scripts/setup.sh installs it).
find_program(HS_HELP2MAN help2man)
if(HS_HELP2MAN)
  set(man_page ${CMAKE_CURRENT_BINARY_DIR}/man/headspec.1)
  add_custom_command(OUTPUT ${man_page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/man
    COMMAND ${CMAKE_COMMAND} -E env HEADSPEC_BINARY=$<TARGET_FILE:headspec>
            ${HS_HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
            --include=${PROJECT_SOURCE_DIR}/packaging/headspec.h2m
            --output=${man_page} ${PROJECT_SOURCE_DIR}/packaging/man/headspec
    COMMAND gzip -9nf ${man_page}
    DEPENDS headspec ${PROJECT_SOURCE_DIR}/packaging/headspec.h2m
            ${PROJECT_SOURCE_DIR}/packaging/man/headspec
    COMMENT "Writing the man page headspec(1) from --help")
  add_custom_target(man_page ALL DEPENDS ${man_page}.gz)
  install(FILES ${man_page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: no man page (scripts/setup.sh installs it)")
endif()

# The scripts and the modulefile, written with the directories of this
# install (packaging/install_scripts.cmake).
install(CODE "
  set(HS_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(HS_VERSION \"${PROJECT_VERSION}\")
  set(HS_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(HS_SHARE_DIR \"${HS_SHARE_DIR}\")
  set(HS_MANDIR \"${CMAKE_INSTALL_MANDIR}\")
  set(HS_PYTHON_DIR \"$<$<BOOL:${HS_INSTALL_PYTHON}>:${HS_PYTHON_DIR}>\")
  set(HS_MODULEFILE_DIR \"${HS_MODULEFILE_DIR}\")
  include(\"${PROJECT_SOURCE_DIR}/packaging/install_scripts.cmake\")
")
