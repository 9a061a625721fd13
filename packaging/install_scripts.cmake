# Run by `cmake --install` (packaging/install.cmake): the demo, the SLURM
# scripts and the modulefile, written with this install's directories in
# place of their @HS_INSTALLED_...@ lines (where the checkout's copies keep
# the placeholder and find their files in the tree). CMAKE_INSTALL_PREFIX
# is the prefix of this install (--prefix); files go under DESTDIR, paths
# written into them do not.
function(hs_full var dir)
  if(IS_ABSOLUTE "${dir}")
    set(${var} "${dir}" PARENT_SCOPE)
  else()
    set(${var} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
hs_full(HS_INSTALLED_BINDIR "${HS_BINDIR}")
hs_full(HS_INSTALLED_SHAREDIR "${HS_SHARE_DIR}")
hs_full(HS_INSTALLED_MANDIR "${HS_MANDIR}")
if(HS_PYTHON_DIR)
  hs_full(HS_INSTALLED_PYTHONDIR "${HS_PYTHON_DIR}")
else()
  set(HS_INSTALLED_PYTHONDIR "")
endif()

# configure_file into DESTDIR keeps the source's permissions (executable).
function(hs_install_configured from to)
  set(dest "$ENV{DESTDIR}${to}")
  message(STATUS "Installing: ${dest}")
  configure_file("${HS_SOURCE_DIR}/${from}" "${dest}" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${to}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

hs_install_configured(scripts/demo.sh "${HS_INSTALLED_SHAREDIR}/demo.sh")
foreach(f run-sweep.sh sweep.sbatch sweep-requeue.sbatch)
  hs_install_configured(slurm/${f} "${HS_INSTALLED_SHAREDIR}/slurm/${f}")
endforeach()
# A modulefile for a prefix of its own; under /usr (the Debian package)
# nothing needs loading.
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  hs_full(HS_INSTALLED_MODULEFILES "${HS_MODULEFILE_DIR}")
  hs_install_configured(packaging/headspec.modulefile "${HS_INSTALLED_MODULEFILES}/headspec/${HS_VERSION}")
endif()
