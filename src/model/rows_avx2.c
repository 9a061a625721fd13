/* rows_avx2.c: the row products (rows_kernel.h) with 4 doubles per register;
 * CMakeLists.txt sets this file's instruction set. */
#define HS_VW 4
#define HS_ROWS_GRAM hs_rows_gram_avx2
#define HS_ROWS_UPDATE hs_rows_update_avx2
#include "rows_kernel.h"
