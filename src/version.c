/* version.c: the build string (headspec/version.h), printed by `headspec
 * --version` and stored in every results file (attribute software_build).
 * The libraries' versions come from the headers compiled against (libfyaml
 * has no version macro: its library says); OpenBLAS's line is its own
 * account at run time, because Debian's OpenBLAS picks its kernels for the
 * CPU it runs on (DYNAMIC_ARCH), and the last bits of a result can depend on
 * that choice. */
#include <cblas.h> /* OpenBLAS's: openblas_get_config, openblas_get_corename */
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <libfyaml.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <sundials/sundials_config.h>

#include "headspec/version.h"

#define HS_STR(x) #x
#define HS_XSTR(x) HS_STR(x)
/* The MPI library by its own macros (Debian's is Open MPI; a site's may be
 * MPICH or another). */
#if defined(OMPI_MAJOR_VERSION)
#define HS_MPI_LIBRARY \
  "Open MPI " HS_XSTR(OMPI_MAJOR_VERSION) "." HS_XSTR(OMPI_MINOR_VERSION) "." HS_XSTR(OMPI_RELEASE_VERSION)
#elif defined(MPICH_VERSION)
#define HS_MPI_LIBRARY "MPICH " MPICH_VERSION
#else
#define HS_MPI_LIBRARY "MPI " HS_XSTR(MPI_VERSION) "." HS_XSTR(MPI_SUBVERSION) " (library unknown)"
#endif
#ifdef H5_HAVE_PARALLEL
#define HS_HDF5_KIND " (parallel)"
#else
#define HS_HDF5_KIND " (serial)"
#endif

/* OPENBLAS_VERSION is " OpenBLAS 0.3.21 ": the number alone. */
static const char *openblas_number(char *buf, size_t len) {
  const char *v = strstr(OPENBLAS_VERSION, "OpenBLAS ");
  snprintf(buf, len, "%s", v ? v + strlen("OpenBLAS ") : OPENBLAS_VERSION);
  buf[strcspn(buf, " ")] = '\0';
  return buf;
}

const char *hs_build_info(void) {
  static char info[1024];
  if (info[0]) return info;
  char blas[32];
  const char *core = openblas_get_corename(), *config = openblas_get_config();
  snprintf(info, sizeof info,
           "headspec %s (commit %s, results format %d)\n"
           "built with HDF5 %d.%d.%d" HS_HDF5_KIND ", " HS_MPI_LIBRARY ", OpenBLAS %s, GSL %s, "
           "SUNDIALS %s, libfyaml %s\n"
           "OpenBLAS at run time: core %s (%s)",
           HS_VERSION, HS_GIT_COMMIT, HS_FORMAT_VERSION, H5_VERS_MAJOR, H5_VERS_MINOR,
           H5_VERS_RELEASE, openblas_number(blas, sizeof blas), GSL_VERSION,
           SUNDIALS_VERSION, fy_library_version(), core ? core : "?", config ? config : "?");
  return info;
}
