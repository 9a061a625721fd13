/* job_nodes.c: reading libfyaml's nodes for the job parser (job_parse.h):
 * lines, aliases, scalars, and errors as FILE:LINE. */
#include <stdarg.h>
#include <stdio.h>

#include "job_parse.h"

int hs_yaml_line(struct fy_node *n, int fallback) {
  struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
  const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
  return m ? m->line + 1 : fallback;
}

hs_status hs_parse_fail(parser *ps, int line, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return hs_err_set(ps->err, HS_EINPUT, "%s:%d: %s", ps->job->path, line, what);
}

/* The node an alias stands for (read as its anchor's value, as PyYAML
 * does); other nodes are themselves. check_nodes has made sure every alias
 * resolves, so this is NULL only for NULL. Aliases are followed where they
 * are read, never copied, so nested aliases cost no memory. */
struct fy_node *hs_yaml_deref(struct fy_node *n) {
  return n && fy_node_is_alias(n) ? fy_node_resolve_alias(n) : n;
}

const char *hs_yaml_scalar(struct fy_node *n) {
  n = hs_yaml_deref(n);
  return n && fy_node_get_type(n) == FYNT_SCALAR ? fy_node_get_scalar0(n) : NULL;
}

/* The line where a node starts (its first scalar), or fallback. */
int hs_yaml_start_line(struct fy_node *n, int fallback) {
  void *it = NULL;
  if (n && fy_node_get_type(n) == FYNT_SEQUENCE)
    return hs_yaml_start_line(fy_node_sequence_iterate(n, &it), fallback);
  if (n && fy_node_get_type(n) == FYNT_MAPPING) {
    struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
    return hs_yaml_start_line(pair ? fy_node_pair_key(pair) : NULL, fallback);
  }
  return hs_yaml_line(n, fallback);
}
