/* impact — compares two definitions of a flow against its running processes
 * (see impact.h).  Only flowdefs and JSON: no Lua, no SQL. */
#include "impact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the graph: neighbours of a node as sorted name lists -------------------- */

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names of the nodes with an edge to (preds) or from (succs) node i,
 * sorted, as one "a,b,c" string (malloc'd), to compare places in graphs. */
static char *neighbours(const flowdef *fd, int i, int preds) {
  const char **names = calloc(fd->nnodes * 4 + 8, sizeof *names);
  int n = 0, cap = fd->nnodes * 4 + 8;
  if (!names) return NULL;
  const fd_node *node = &fd->nodes[i];
  if (preds) {
    for (int k = 0; k < fd->nnodes; k++)
      for (int j = 0; j < fd->nodes[k].nedges && n < cap; j++)
        if (!strcmp(fd->nodes[k].edges[j].to, node->name)) names[n++] = fd->nodes[k].name;
  } else {
    for (int j = 0; j < node->nedges && n < cap; j++) names[n++] = node->edges[j].to;
  }
  if (n) qsort(names, n, sizeof *names, cmp_name);
  size_t len = 1;
  for (int k = 0; k < n; k++) len += strlen(names[k]) + 1;
  char *out = malloc(len);
  if (out) {
    out[0] = '\0';
    for (int k = 0; k < n; k++) {
      if (k && !strcmp(names[k], names[k - 1])) continue;
      strcat(out, names[k]);
      strcat(out, ",");
    }
  }
  free(names);
  return out;
}

static int same_neighbours(const flowdef *a, int ia, const flowdef *b, int ib, int preds) {
  char *x = neighbours(a, ia, preds), *y = neighbours(b, ib, preds);
  int same = x && y && !strcmp(x, y);
  free(x);
  free(y);
  return same;
}

/* The new node that looks like old node oi renamed: of the same kind, new
 * in nw, and at the same place (same predecessors and successors; one of
 * the two when only one candidate has it).  NULL: none, or no single one. */
static const char *renamed_to(const flowdef *old, int oi, const flowdef *nw) {
  const fd_node *on = &old->nodes[oi];
  const char *best = NULL;
  int best_score = 0, ties = 0;
  for (int k = 0; k < nw->nnodes; k++) {
    const fd_node *cand = &nw->nodes[k];
    if (cand->kind != on->kind || flowdef_node(old, cand->name)) continue;
    int score = same_neighbours(old, oi, nw, k, 1) + same_neighbours(old, oi, nw, k, 0);
    if (score > best_score) {
      best = cand->name;
      best_score = score;
      ties = 0;
    } else if (score && score == best_score) {
      ties++;
    }
  }
  return ties ? NULL : best;
}

/* --- findings ------------------------------------------------------------ */

static json_t *finding(json_t *findings, const char *kind, int strands) {
  json_t *f = json_pack("{s:s, s:b}", "kind", kind, "strands", strands);
  json_array_append_new(findings, f);
  return f;
}

static void add_unique(json_t *ids, json_int_t id) {
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) if (json_integer_value(v) == id) return;
  json_array_append_new(ids, json_integer(id));
}

/* Active tasks of the running processes at the nodes for which in(node)
 * holds: their ids and their processes' ids. */
static void tasks_at(const json_t *running, int (*in)(const void *, const char *), const void *arg, json_t *tasks,
                     json_t *procs) {
  size_t i, j;
  json_t *p, *t;
  json_array_foreach(running, i, p) {
    json_array_foreach(json_object_get(p, "tasks"), j, t) {
      if (!in(arg, json_string_value(json_object_get(t, "node")))) continue;
      json_array_append_new(tasks, json_integer(json_integer_value(json_object_get(t, "id"))));
      add_unique(procs, json_integer_value(json_object_get(p, "id")));
    }
  }
}

static int is_node(const void *arg, const char *node) { return node && !strcmp(arg, node); }

static void check_nodes(const flowdef *old, const flowdef *nw, const char *flow, const json_t *running,
                        json_t *findings) {
  for (int i = 0; i < old->nnodes; i++) {
    const fd_node *on = &old->nodes[i];
    const fd_node *nn = flowdef_node(nw, on->name);
    if (nn && nn->kind == on->kind) continue;
    json_t *tasks = json_array(), *procs = json_array();
    tasks_at(running, is_node, on->name, tasks, procs);
    const char *to = nn ? NULL : renamed_to(old, i, nw);
    if (!json_array_size(tasks) && !to) {
      json_decref(tasks);
      json_decref(procs);
      continue;
    }
    json_t *f = finding(findings, nn ? "node_changed" : "node_removed", json_array_size(tasks) > 0);
    json_object_set_new(f, "node", json_string(on->name));
    json_object_set_new(f, "tasks", tasks);
    json_object_set_new(f, "processes", procs);
    if (nn) {
      json_object_set_new(f, "from", json_string(node_kind_name(on->kind)));
      json_object_set_new(f, "to", json_string(node_kind_name(nn->kind)));
    } else if (to) {
      char cmd[512];
      snprintf(cmd, sizeof cmd, "flowhost rename-node %s %s %s", flow, on->name, to);
      json_object_set_new(f, "renamed_to", json_string(to));
      json_object_set_new(f, "command", json_string(cmd));
    }
  }
}

/* --- fields -------------------------------------------------------------- */

static json_t *field_of(const flowdef *fd, const char *name) { return flowdef_field(fd, name); }

static const char *field_type(const json_t *schema) {
  const char *t = json_string_value(json_object_get(schema, "type"));
  return t ? t : "";
}

static int is_required(const json_t *schema) { return json_is_true(json_object_get(schema, "required")); }

/* Does value v (present in the data) fit the field schema? */
static int value_fits(const json_t *schema, const json_t *v) {
  const char *t = field_type(schema);
  if (json_is_null(v)) return 1;
  if (!strcmp(t, "integer")) return json_is_integer(v);
  if (!strcmp(t, "number")) return json_is_number(v);
  if (!strcmp(t, "boolean")) return json_is_boolean(v);
  if (!strcmp(t, "choice")) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(schema, "choices"), i, c) if (json_equal(json_object_get(c, "value"), v)) return 1;
    return 0;
  }
  return json_is_string(v);   /* string, text, date, email */
}

static int has_value(const json_t *data, const char *name) {
  const json_t *v = json_object_get(data, name);
  return v && !json_is_null(v) && !(json_is_string(v) && !json_string_length(v));
}

/* Processes whose data breaks field `name` in the way `kind` says. */
static json_t *field_victims(const json_t *running, const char *kind, const char *name, const json_t *schema) {
  json_t *procs = json_array();
  size_t i;
  json_t *p;
  json_array_foreach(running, i, p) {
    const json_t *data = json_object_get(p, "data");
    int hit;
    if (!strcmp(kind, "field_removed")) hit = has_value(data, name);
    else if (!strcmp(kind, "field_required")) hit = !has_value(data, name);
    else hit = has_value(data, name) && !value_fits(schema, json_object_get(data, name));
    if (hit) json_array_append_new(procs, json_integer(json_integer_value(json_object_get(p, "id"))));
  }
  return procs;
}

static void field_finding(json_t *findings, const char *kind, const char *name, const json_t *running,
                          const json_t *old_schema, const json_t *new_schema) {
  json_t *procs = field_victims(running, kind, name, new_schema);
  int strands = strcmp(kind, "field_removed") && json_array_size(procs);
  json_t *f = finding(findings, kind, strands);
  json_object_set_new(f, "field", json_string(name));
  if (!strcmp(kind, "field_retyped")) {
    json_object_set_new(f, "from", json_string(field_type(old_schema)));
    json_object_set_new(f, "to", json_string(field_type(new_schema)));
  }
  json_object_set_new(f, "processes", procs);
}

static void check_fields(const flowdef *old, const flowdef *nw, const json_t *running, json_t *findings) {
  size_t i;
  json_t *os, *ns;
  json_array_foreach(old->fields, i, os) {
    const char *name = json_string_value(json_object_get(os, "name"));
    json_t *n = field_of(nw, name);
    if (!n) field_finding(findings, "field_removed", name, running, os, NULL);
    else if (strcmp(field_type(os), field_type(n)) ||
             (!strcmp(field_type(n), "choice") && !json_equal(json_object_get(os, "choices"), json_object_get(n, "choices"))))
      field_finding(findings, "field_retyped", name, running, os, n);
  }
  json_array_foreach(nw->fields, i, ns) {
    const char *name = json_string_value(json_object_get(ns, "name"));
    json_t *o = field_of(old, name);
    if (is_required(ns) && !(o && is_required(o))) field_finding(findings, "field_required", name, running, o, ns);
  }
}

/* --- joins --------------------------------------------------------------- */

/* The branches of join ji: the nodes met walking back from it until a
 * split (marked in region[]), and the splits met, as "a,b," (malloc'd). */
static char *join_region(const flowdef *fd, int ji, char *region) {
  int *stack = malloc(sizeof *stack * (fd->nnodes + 1));
  char *splits = calloc(fd->nnodes + 1, 1);
  if (!stack || !splits) {
    free(stack);
    free(splits);
    return NULL;
  }
  int top = 0;
  stack[top++] = ji;
  region[ji] = 1;
  while (top) {
    int cur = stack[--top];
    for (int k = 0; k < fd->nnodes; k++)
      for (int j = 0; j < fd->nodes[k].nedges; j++) {
        if (fd->nodes[k].edges[j].to_index != cur || region[k] || splits[k]) continue;
        if (fd->nodes[k].kind == NODE_SPLIT) splits[k] = 1;
        else {
          region[k] = 1;
          stack[top++] = k;
        }
      }
  }
  size_t len = 1;
  for (int k = 0; k < fd->nnodes; k++) len += splits[k] ? strlen(fd->nodes[k].name) + 1 : 0;
  char *out = malloc(len);
  if (out) {
    out[0] = '\0';
    for (int k = 0; k < fd->nnodes; k++)
      if (splits[k]) strcat(strcat(out, fd->nodes[k].name), ",");
  }
  free(stack);
  free(splits);
  return out;
}

typedef struct region_arg {
  const flowdef *fd;
  const char *region;
} region_arg;

static int in_region(const void *arg, const char *node) {
  const region_arg *ra = arg;
  int i = node ? flowdef_node_index(ra->fd, node) : -1;
  return i >= 0 && ra->region[i];
}

static void check_join(const flowdef *old, int oi, const flowdef *nw, int ni, const json_t *running,
                       json_t *findings) {
  char *oreg = calloc(old->nnodes + 1, 1), *nreg = calloc(nw->nnodes + 1, 1);
  char *osplit = oreg ? join_region(old, oi, oreg) : NULL;
  char *nsplit = nreg ? join_region(nw, ni, nreg) : NULL;
  if (osplit && nsplit && (strcmp(osplit, nsplit) || !same_neighbours(old, oi, nw, ni, 1))) {
    json_t *tasks = json_array(), *procs = json_array();
    region_arg ra = {old, oreg};
    tasks_at(running, in_region, &ra, tasks, procs);
    json_t *f = finding(findings, "join_changed", json_array_size(procs) > 0);
    json_object_set_new(f, "node", json_string(old->nodes[oi].name));
    json_object_set_new(f, "tasks", tasks);
    json_object_set_new(f, "processes", procs);
  }
  free(oreg);
  free(nreg);
  free(osplit);
  free(nsplit);
}

static void check_joins(const flowdef *old, const flowdef *nw, const json_t *running, json_t *findings) {
  for (int i = 0; i < old->nnodes; i++) {
    if (old->nodes[i].kind != NODE_JOIN) continue;
    int ni = flowdef_node_index(nw, old->nodes[i].name);
    if (ni >= 0 && nw->nodes[ni].kind == NODE_JOIN) check_join(old, i, nw, ni, running, findings);
  }
}

/* --- the report ------------------------------------------------------------ */

json_t *impact_compare(const char *flow, const flowdef *old, const char *from, const flowdef *nw, const char *to,
                       const json_t *running) {
  json_t *findings = json_array();
  if (!nw) {
    json_t *procs = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(running, i, p) json_array_append_new(procs, json_integer(json_integer_value(json_object_get(p, "id"))));
    json_object_set_new(finding(findings, "flow_removed", json_array_size(procs) > 0), "processes", procs);
  } else if (old) {
    check_nodes(old, nw, flow, running, findings);
    check_fields(old, nw, running, findings);
    check_joins(old, nw, running, findings);
  }
  json_t *r = json_pack("{s:s, s:s?, s:s?, s:I, s:o}", "flow", flow, "from", from && *from ? from : NULL, "to",
                        to && *to ? to : NULL, "running", (json_int_t)json_array_size(running), "findings", findings);
  json_object_set_new(r, "stranded", json_boolean(impact_strands(r)));
  return r;
}

int impact_strands(const json_t *report) {
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(report, "findings"), i, f) if (json_is_true(json_object_get(f, "strands"))) return 1;
  return 0;
}

/* "1, 4, 7" (at most 10 ids, then "..."). */
static void ids_text(const json_t *ids, char *out, size_t cap) {
  size_t i, len = 0;
  json_t *v;
  out[0] = '\0';
  json_array_foreach(ids, i, v) {
    if (len + 24 >= cap) break;
    if (i == 10) {
      snprintf(out + len, cap - len, ", ...");
      break;
    }
    len += snprintf(out + len, cap - len, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
  }
}

static void finding_text(FILE *f, const json_t *fd) {
  const char *kind = json_string_value(json_object_get(fd, "kind"));
  const char *node = json_string_value(json_object_get(fd, "node"));
  const char *field = json_string_value(json_object_get(fd, "field"));
  size_t ntasks = json_array_size(json_object_get(fd, "tasks"));
  size_t nprocs = json_array_size(json_object_get(fd, "processes"));
  char ids[256];
  ids_text(json_object_get(fd, "processes"), ids, sizeof ids);
  fprintf(f, "  %-9s ", json_is_true(json_object_get(fd, "strands")) ? "STRANDED" : "note");
  if (!strcmp(kind, "node_removed") || !strcmp(kind, "node_changed")) {
    if (!strcmp(kind, "node_removed")) fprintf(f, "node '%s' is removed", node);
    else fprintf(f, "node '%s' changes from %s to %s", node, json_string_value(json_object_get(fd, "from")),
                 json_string_value(json_object_get(fd, "to")));
    if (ntasks) fprintf(f, ": %zu task(s) wait there (processes %s)", ntasks, ids);
    fputc('\n', f);
    if (json_object_get(fd, "command"))
      fprintf(f, "            it looks renamed to '%s': %s\n", json_string_value(json_object_get(fd, "renamed_to")),
              json_string_value(json_object_get(fd, "command")));
  } else if (!strcmp(kind, "join_changed")) {
    fprintf(f, "join '%s': its branches or split changed", node);
    if (nprocs) fprintf(f, " under waiting branches (processes %s)", ids);
    fputc('\n', f);
  } else if (!strcmp(kind, "flow_removed")) {
    fprintf(f, "the flow is removed; running processes: %s\n", nprocs ? ids : "none");
  } else {
    if (!strcmp(kind, "field_removed")) fprintf(f, "field '%s' is removed", field);
    else if (!strcmp(kind, "field_retyped"))
      fprintf(f, "field '%s' changes type %s -> %s", field, json_string_value(json_object_get(fd, "from")),
              json_string_value(json_object_get(fd, "to")));
    else fprintf(f, "field '%s' becomes required", field);
    if (nprocs)
      fprintf(f, ": %zu process(es) %s (%s)", nprocs,
              !strcmp(kind, "field_removed")    ? "hold a value of it"
              : !strcmp(kind, "field_required") ? "lack it"
                                                : "hold a value the new type refuses",
              ids);
    fputc('\n', f);
  }
}

char *impact_to_text(const json_t *report) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  const char *from = json_string_value(json_object_get(report, "from"));
  const char *to = json_string_value(json_object_get(report, "to"));
  fprintf(f, "flow %s: %lld running process(es) on version %s; edit: %s\n",
          json_string_value(json_object_get(report, "flow")),
          (long long)json_integer_value(json_object_get(report, "running")), from ? from : "(none recorded)",
          to ? to : "(removed)");
  size_t i;
  json_t *fd;
  json_array_foreach(json_object_get(report, "findings"), i, fd) finding_text(f, fd);
  if (!json_array_size(json_object_get(report, "findings"))) fprintf(f, "  ok        nothing running is affected\n");
  if (json_is_true(json_object_get(report, "pinned")))
    fprintf(f, "  pinned    the running processes finish on version %s (flowhost migrate moves them)\n",
            from ? from : "(none recorded)");
  fclose(f);
  return buf;
}
