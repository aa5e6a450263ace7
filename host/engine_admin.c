/* engine_admin — permissions known to the loaded flows, scheduled work and
 * flow errors by role, for the administration API (see engine_admin.h).
 *
 * May call: the flow registry (what is loaded), store reads (the
 * scheduled tasks, a task's flow).  Writes nothing.
 */
#include "engine_admin.h"

#include "engine_internal.h"

#include <stdio.h>

#include "store_admin.h"
#include "store_compact.h"

/* --- known permissions ----------------------------------------------------------- */

static int message_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 100 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return 0;
  }
  return 1;
}

static int is_person_node(const fd_node *n) { return n->kind == NODE_START || n->kind == NODE_VIEW; }

/* Does the flow entry know perm? */
static int flow_knows(const flow_entry *fe, const char *perm) {
  size_t len = strlen(fe->name);
  if (!strncmp(perm, fe->name, len) && perm[len] == '.') {
    const char *rest = perm + len + 1;
    if (!strcmp(rest, "manage") || !strcmp(rest, "start")) return 1;
    const fd_node *n = fe->def ? flowdef_node(fe->def, rest) : NULL;
    if (n && is_person_node(n)) return 1;
  }
  for (int j = 0; fe->def && j < fe->def->nnodes; j++)
    if (fe->def->nodes[j].permission && !strcmp(fe->def->nodes[j].permission, perm)) return 1;
  return 0;
}

int engine_admin_permission_check(engine *e, const char *perm, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  if (strlen(perm) > 200) return fherr_set(err, FH_BAD_REQUEST, "a permission name is at most 200 bytes");
  if (!strncmp(perm, "message.", 8) && message_name_ok(perm + 8)) return FH_OK;
  if (!strncmp(perm, "external.", 9) && message_name_ok(perm + 9)) return FH_OK;   /* a topic is named alike */
  for (int i = 0; i < e->gen->n; i++)
    if (flow_knows(&e->gen->entries[i], perm)) return FH_OK;
  return fherr_set(err, FH_BAD_REQUEST,
                   "unknown permission '%.200s' (known forms: <flow>.manage, <flow>.start, <flow>.<node> of a Start or "
                   "View node, a node's :Permission, message.<name>, external.<topic>)",
                   perm);
}

static void add_perm(json_t *list, json_t *seen, const char *name, const char *kind, const fd_node *n) {
  if (json_object_get(seen, name)) return;
  json_object_set_new(seen, name, json_true());
  json_t *p = json_pack("{s:s, s:s}", "name", name, "kind", kind);
  if (n) {
    json_object_set_new(p, "node", json_string(n->name));
    json_object_set_new(p, "title", json_string(n->title ? n->title : n->name));
  }
  json_array_append_new(list, p);
}

/* The permissions of one flow: manage, then its Start and View nodes'. */
static json_t *flow_permissions(const flow_entry *fe) {
  json_t *list = json_array(), *seen = json_object();
  char name[200];
  snprintf(name, sizeof name, "%s.manage", fe->name);
  add_perm(list, seen, name, "manage", NULL);
  for (int j = 0; fe->def && j < fe->def->nnodes; j++) {
    const fd_node *n = &fe->def->nodes[j];
    if (n->kind == NODE_EXTERNAL && n->topic) {   /* the workers of its topic */
      snprintf(name, sizeof name, "external.%s", n->topic);
      add_perm(list, seen, name, "external", n);
      continue;
    }
    if (!is_person_node(n)) continue;
    if (n->permission) snprintf(name, sizeof name, "%s", n->permission);
    else snprintf(name, sizeof name, "%s.%s", fe->name, n->name);
    add_perm(list, seen, name, n->kind == NODE_START ? "start" : "task", n);
  }
  json_decref(seen);
  return list;
}

int engine_admin_permissions(engine *e, json_t **out, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  json_t *items = json_array();
  for (int i = 0; i < e->gen->n; i++) {
    const flow_entry *fe = &e->gen->entries[i];
    const char *title = fe->def && fe->def->title ? fe->def->title : fe->name;
    json_array_append_new(items, json_pack("{s:s, s:s, s:o}", "flow", fe->name, "title", title, "permissions",
                                           flow_permissions(fe)));
  }
  *out = json_pack("{s:o, s:[s,s,s,s,s]}", "items", items, "forms", "<flow>.manage", "<flow>.start", "<flow>.<node>",
                   "message.<name>", "external.<topic>");
  return FH_OK;
}

/* --- scheduled work ----------------------------------------------------------------- */

static void describe_scheduled(engine *e, json_t *row) {
  const char *ft = json_string_value(json_object_get(row, "flow_task"));
  char flow[64];
  const char *dot = ft ? strchr(ft, '.') : NULL;
  snprintf(flow, sizeof flow, "%.*s", dot ? (int)(dot - ft) : 0, ft ? ft : "");
  const char *node = dot ? dot + 1 : "";
  const flowdef *fd = engine_find_def(e, flow);
  const fd_node *n = fd ? flowdef_node(fd, node) : NULL;
  json_object_set_new(row, "flow", json_string(flow));
  json_object_set_new(row, "flow_title", json_string(fd && fd->title ? fd->title : flow));
  json_object_set_new(row, "node", json_string(node));
  json_object_set_new(row, "title", json_string(n && n->title ? n->title : node));
  json_object_set(row, "last_error", json_object_get(row, "error_message"));
  json_object_del(row, "error_message");
  json_object_del(row, "flow_task");
}

int engine_admin_scheduled(engine *e, int limit, json_t **out, fherr *err) {
  int rc = engine_sync_flows(e, err);
  json_t *rows = NULL;
  if (!rc) rc = store_admin_scheduled(e->st, limit, &rows, err);
  if (rc) return rc;
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) describe_scheduled(e, row);
  *out = json_pack("{s:o}", "items", rows);
  return FH_OK;
}

/* --- flow errors by role ---------------------------------------------------------------- */

int engine_admin_sees_details(const fh_actor *a, const char *flow) {
  return a->is_admin || a->is_system || (flow && flow[0] && engine_is_manager(a, flow));
}

void engine_admin_flow_error_for(engine *e, const fh_actor *a, const char *flow, const char *fallback, fherr *err) {
  if (!err || err->code != FH_FLOW_ERROR || engine_admin_sees_details(a, flow)) return;
  const char *node = json_string_value(json_object_get(err->fields, "node"));
  if (!node && fallback && fallback[0]) node = fallback;
  const flowdef *fd = flow ? engine_find_def(e, flow) : NULL;
  const fd_node *n = fd && node ? flowdef_node(fd, node) : NULL;
  char step[200] = "";
  if (node) snprintf(step, sizeof step, " '%.150s'", n && n->title ? n->title : node);
  char message[400];
  snprintf(message, sizeof message,
           "The step%s of the process failed, so nothing was saved. An administrator can see the details.", step);
  json_t *fields = err->fields;
  err->fields = NULL;
  free(err->traceback);
  err->traceback = NULL;
  snprintf(err->message, sizeof err->message, "%s", message);
  err->file[0] = '\0';
  err->line = 0;
  json_decref(fields);
}

void engine_admin_task_error_for(const fh_actor *a, json_t *task) {
  json_t *error = json_object_get(task, "error");
  if (!error || engine_admin_sees_details(a, json_string_value(json_object_get(task, "flow")))) return;
  char message[300];
  snprintf(message, sizeof message, "The step '%.150s' failed. An administrator can see the details.",
           json_string_value(json_object_get(task, "title")) ? json_string_value(json_object_get(task, "title")) : "?");
  json_object_set_new(task, "error", json_pack("{s:s, s:b}", "message", message, "hidden", 1));
}

void engine_admin_task_flow(engine *e, int64_t task_id, char flow[64], char node[64]) {
  flow[0] = node[0] = '\0';
  st_task t;
  if (store_task_get(e->st, task_id, &t, NULL)) return;
  const char *dot = strchr(t.flow_task, '.');
  snprintf(flow, 64, "%.*s", dot ? (int)(dot - t.flow_task) : 0, t.flow_task);
  snprintf(node, 64, "%s", dot ? dot + 1 : "");
  st_task_free(&t);
}

int engine_admin_compact(const char *db_path, int page_size, json_t **out, fherr *err) {
  return store_compact(db_path, page_size, out, err);
}
