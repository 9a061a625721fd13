/* bench_exp.c: the exponential's throughput on this core, for the floor of
 * the ODE's right-hand side (bench_ode.c). Built like attention.c and
 * population_lanes.c (-O3 -ffast-math, one copy per instruction set picked
 * at load time), so the loop runs through the same libmvec exp they do. */
#include "bench_exp.h"

#include <math.h>

#include "core/dispatch.h"

HS_DISPATCH void bench_exp_array(int n, const double *restrict x, double *restrict y) {
  for (int i = 0; i < n; i++) y[i] = exp(x[i]);
}
