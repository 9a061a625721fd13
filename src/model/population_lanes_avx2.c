/* population_lanes_avx2.c: the lane kernel (population_lanes_kernel.h) with
 * 4 doubles per register; CMakeLists.txt sets this file's instruction set. */
#define HS_VW 4
#define HS_LANES_KERNEL hs_lanes_block_avx2
#include "population_lanes_kernel.h"
