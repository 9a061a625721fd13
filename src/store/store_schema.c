/* store_schema.c: what a results file holds, apart from making or checking
 * it (docs/RESULTS.md, "The file"): the run record's /grid columns and
 * their bytes per point, the path and folder of a result field, the names
 * and per-point texts of /grid, and which layout revision added which
 * dataset. The bottom of store/: the checksums (store_sum.c), creating a
 * file (store_create.c) and checking one (store_check.c) all read it, and
 * it calls none of them. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "store_impl.h"

const hs_run_column hs_grid_run[HS_N_GRID_RUN] = {
    {"grid/status", HS_RUN_I8, 1, "0 pending, 1 done, 2 failed", "1"},
    {"grid/message", HS_RUN_CHAR, HS_MESSAGE_LEN, "why a failed point failed", "1"},
    {"grid/rank", HS_RUN_I32, 1, "MPI rank that computed the point (-1: none yet)", "1"},
    {"grid/host", HS_RUN_CHAR, HS_HOST_LEN, "host (SLURM node) that computed the point", "1"},
    {"grid/started", HS_RUN_F64, 1, "Unix time at which the point's computation began", "s"},
    {"grid/finished", HS_RUN_F64, 1, "Unix time at which the point was stored", "s"},
    {"grid/checksum", HS_RUN_U32, 1, "CRC-32 of the point's stored data (0: pending)", "1"}};

hid_t hs_run_file_type(const hs_run_column *c) {
  switch (c->kind) {
    case HS_RUN_I8: return H5Tcopy(H5T_STD_I8LE);
    case HS_RUN_I32: return H5Tcopy(H5T_STD_I32LE);
    case HS_RUN_U32: return H5Tcopy(H5T_STD_U32LE);
    case HS_RUN_F64: return H5Tcopy(H5T_IEEE_F64LE);
    default: return hs_h5_char();
  }
}

size_t hs_run_row_bytes(const hs_run_column *c) {
  return c->kind == HS_RUN_I8 || c->kind == HS_RUN_CHAR ? (size_t)c->width
         : c->kind == HS_RUN_F64                        ? 8
                                                        : 4;
}

void hs_store_field_path(const hs_plan_group *g, int field, char *buf, size_t len) {
  snprintf(buf, len, "results/%s/%s", g->name, hs_result_fields[field].name);
}

/* The (sub)group a field lives in: "sgd" of "sgd/m", "" of "bayes_risk". */
static void field_folder(const hs_result_field *fld, char *buf, size_t len) {
  const char *slash = strrchr(fld->name, '/');
  snprintf(buf, len, "%.*s", slash ? (int)(slash - fld->name) : 0, fld->name);
}

int hs_store_has_field(const hs_plan_group *g, int field) {
  return !hs_result_fields[field].with_replicas || g->shape.replicas > 0;
}

int hs_store_has_axis(const hs_plan_group *g, int axis) {
  return axis != HS_AXIS_REPLICA || g->shape.replicas > 0;
}

int hs_first_of_folder(int f, char *folder, size_t len) {
  char earlier[64];
  field_folder(&hs_result_fields[f], folder, len);
  for (int e = 0; e < f; e++) {
    field_folder(&hs_result_fields[e], earlier, sizeof earlier);
    if (strcmp(folder, earlier) == 0) return 0;
  }
  return 1;
}

int hs_field_in_folder(int f, const char *folder) {
  char in[64];
  field_folder(&hs_result_fields[f], in, sizeof in);
  return strcmp(in, folder) == 0;
}

const char *const hs_grid_name_attributes[HS_N_GRID_NAME_ATTRIBUTES] = {"key_order", "swept_keys",
                                                                       "zipped_keys"};

const char **hs_grid_names(const hs_plan *plan, const char *attr, hsize_t *n) {
  const hs_plan_column *cols = hs_plan_columns(plan);
  int n_cols = hs_plan_n_columns(plan), n_zips = hs_plan_n_zips(plan);
  const char **names = malloc(sizeof *names * (n_cols + n_zips + 1));
  *n = 0;
  if (!names) return NULL;
  if (strcmp(attr, "zipped_keys") == 0)
    for (int z = 0; z < n_zips; z++) names[(*n)++] = hs_plan_zips(plan)[z].names;
  else
    for (int c = 0; c < n_cols; c++)
      if (strcmp(attr, "key_order") == 0 || cols[c].swept) names[(*n)++] = cols[c].name;
  return names;
}

const char *hs_grid_column_word(const hs_plan *plan, long i, void *arg, char *buf) {
  (void)buf;
  return hs_plan_column_word(plan, *(int *)arg, i);
}

const char *hs_grid_group_name(const hs_plan *plan, long i, void *arg, char *buf) {
  (void)arg, (void)buf;
  return hs_plan_groups(plan)[hs_plan_group_of(plan, i)].name;
}

const char *hs_grid_label(const hs_plan *plan, long i, void *arg, char *buf) {
  (void)arg;
  hs_plan_label(plan, i, buf, HS_LABEL_LEN);
  return buf;
}

long hs_store_text_sum(const char *text) {
  return (long)crc32(0, (const unsigned char *)text, (uInt)strlen(text));
}

/* Datasets added to format 2 after its first files were written: the
 * /grid columns of newer job keys and newer result fields, each with the
 * layout revision that added it (files of revision 0 have no
 * layout_revision attribute). A file of an earlier revision lacks them. */
static const struct {
  long revision;
  const char *name;
} added_datasets[] = {
    {1, "grid/start_lambda"}, {1, "grid/fresh_samples"}, {1, "grid/resample_dt"},
    {1, "/ode/loss_fresh"},   {1, "/ode/loss_fresh_se"}, {1, "/sgd/lpop_fresh"},
    {1, "/sgd/lpop_fresh_se"}, {2, "/mean_c"},
    {3, "grid/n_train"},      {3, "grid/alpha"},         {3, "grid/batches"},
    {3, "/sgd/passes"},       {3, "/sgd/train_set_loss"},
    /* convergence and attention statistics (issue 19) */
    {3, "grid/stop_when_converged"}, {3, "grid/converged_loss_tol"},
    {3, "grid/converged_speed_tol"}, {3, "grid/attention_samples"},
    {3, "/sgd/loss_rate"}, {3, "/sgd/speed"}, {3, "/sgd/converged"}, {3, "/ode/loss_rate"},
    {3, "/ode/speed"}, {3, "/ode/converged"}, {3, "/ode/t_stop"}, {3, "/sgd/attn_total"},
    {3, "/sgd/attn_relevant"}, {3, "/sgd/attn_sink"}, {3, "/sgd/quiet_heads"},
    {3, "/ode/attn_total"}, {3, "/ode/attn_relevant"}, {3, "/ode/attn_sink"},
    {3, "/ode/quiet_heads"}, {3, "grid/checksum"}, {3, "grid/method"},
    /* the linearised flow (issue 20) */
    {3, "grid/stability"}, {3, "grid/stability_threshold"}, {3, "/stability/growth_rate"},
    {3, "/stability/predicted_t"}, {3, "/stability/measured_t"},
    {3, "/stability/unstable_modes"}, {3, "/stability/together"}, {3, "/stability/split"},
    {3, "/stability/saddle_t"}, {3, "/stability/saddle_from"},
    {3, "/stability/saddle_first_t"}, {3, "/stability/asymmetry"},
    /* the control variate and the stepper used (issues 26, 25; job.h's
     * hs_job_key_changes gives older files their defaults) */
    {5, "grid/control_variate"}, {5, "/ode/method"},
    /* the ODE's Monte Carlo replicas (issue 26; its replicas/ fields only
     * in groups of points with ode.replicas >= 2, which no older file has) */
    {6, "grid/replicas"},
    /* pruning on the independent set (issue 29) */
    {7, "/sgd/prune_loss_fresh"}, {7, "/sgd/prune_loss_fresh_se"},
    {7, "/ode/prune_loss_fresh"}, {7, "/ode/prune_loss_fresh_se"},
    /* the head-symmetric prediction per replica (issue 26) */
    {8, "/replicas/predicted_t"}};

int hs_store_added_after(long revision, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof added_datasets / sizeof *added_datasets; i++) {
    size_t k = strlen(added_datasets[i].name);
    if (added_datasets[i].revision > revision && n >= k &&
        strcmp(name + n - k, added_datasets[i].name) == 0)
      return 1;
  }
  return 0;
}
