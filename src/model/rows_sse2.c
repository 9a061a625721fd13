/* rows_sse2.c: the row products (rows_kernel.h) with 2 doubles per register;
 * CMakeLists.txt sets this file's instruction set. */
#define HS_VW 2
#define HS_ROWS_GRAM hs_rows_gram_sse2
#define HS_ROWS_UPDATE hs_rows_update_sse2
#include "rows_kernel.h"
