/* population_lanes_avx512.c: the lane kernel (population_lanes_kernel.h) with
 * 8 doubles per register; CMakeLists.txt sets this file's instruction set. */
#define HS_VW 8
#define HS_LANES_KERNEL hs_lanes_block_avx512
#include "population_lanes_kernel.h"
