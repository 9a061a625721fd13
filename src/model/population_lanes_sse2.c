/* population_lanes_sse2.c: the lane kernel (population_lanes_kernel.h) with
 * 2 doubles per register; CMakeLists.txt sets this file's instruction set. */
#define HS_VW 2
#define HS_LANES_KERNEL hs_lanes_block_sse2
#include "population_lanes_kernel.h"
