# The Debian package: `cpack -G DEB` in the build directory (or
# `cmake --build build --target package`) writes headspec_VERSION_ARCH.deb
# from the install rules (packaging/install.cmake) with the prefix /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME headspec)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(HS_DEB_MAINTAINER "headspec maintainers <headspec@localhost>" CACHE STRING
    "The Debian package's Maintainer field (a site building its own: its contact)")
set(CPACK_PACKAGE_CONTACT "${HS_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "multi-head softmax attention: online SGD against its high-dimensional ODE")
# The control file's Description: the summary above, then this.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "headspec runs grids of multi-head attention models trained by online SGD at
large dimension, integrates the order-parameter ODE of the infinite-dimension
limit from the same start, and computes the Bayes risk, head pruning and
attention maps, under MPI (mpirun or SLURM) into one HDF5 file per job.
The Python package headspec (python3 -m headspec) reads, summarises and
plots the results files.")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # headspec_0.3.0_amd64.deb
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# The install scripts see the prefix /usr and write under DESTDIR: the paths
# they write into the SLURM scripts are /usr/..., not the staging directory.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
# The libraries the binary links (Open MPI, parallel HDF5, OpenBLAS, GSL,
# SUNDIALS, libfyaml, zlib) from dpkg-shlibdeps; by hand what it runs
# (mpirun: Open MPI's singleton start needs its orted too) and what the
# Python package imports.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(hs_deb_depends "openmpi-bin")
if(HS_INSTALL_PYTHON)
  string(APPEND hs_deb_depends ", python3 (>= 3.9), python3-h5py, python3-h5netcdf, python3-numpy,"
         " python3-pandas, python3-xarray, python3-yaml, python3-matplotlib")
  # byte-compile the package on install, remove the .pyc on removal (as
  # dh_python3's scripts do)
  set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
      ${PROJECT_SOURCE_DIR}/packaging/deb/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/prerm)
  set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${hs_deb_depends}")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "slurm-client, hdf5-tools")
include(CPack)
