/* rows_avx512.c: the row products (rows_kernel.h) with 8 doubles per register;
 * CMakeLists.txt sets this file's instruction set. */
#define HS_VW 8
#define HS_ROWS_GRAM hs_rows_gram_avx512
#define HS_ROWS_UPDATE hs_rows_update_avx512
#include "rows_kernel.h"
