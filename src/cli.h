/* cli.h: parts of the command line (main.c) that print at length. */
#ifndef HEADSPEC_CLI_H
#define HEADSPEC_CLI_H

#include "headspec/plan.h"

/* validate: the swept keys' values and the notes on the grid. */
void hs_cli_print_grid(const hs_plan *plan);
/* validate: the cost estimate (per phase) of the points not done. */
void hs_cli_print_cost(const hs_plan *plan, const unsigned char *done, long to_compute);
/* run, interrupted: the command that resumes it, on stderr. */
void hs_cli_print_resume_hint(int argc, char **argv);

#endif
