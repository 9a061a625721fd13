/* bench_exp.h: y = exp(x) over n entries with the vector exp (bench_exp.c). */
#ifndef HEADSPEC_BENCH_EXP_H
#define HEADSPEC_BENCH_EXP_H
void bench_exp_array(int n, const double *x, double *y);
#endif
