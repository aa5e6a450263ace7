/* engine_view — the read side: the JSON views of processes and tasks, and
 * the list of flows, in the shapes of the HTTP contract (the task lists are
 * engine_list.c's, the process list engine_proclist.c's).  Nothing here
 * writes.
 *
 * May call: store (reads), engine_run/engine_rules for permission questions
 * on a process in memory, activation (a flow's summary).
 */
#include "engine_internal.h"

#include <stdio.h>

/* --- JSON views ---------------------------------------------------------- */

char *view_summary_default(engine *e, const st_process *p) {
  const flowdef *fd = engine_find_def(e, p->flow);
  char buf[256];
  snprintf(buf, sizeof buf, "%s #%lld", fd && fd->title ? fd->title : p->flow, (long long)p->id);
  return strdup(buf);
}

char *view_summary(engine *e, const st_process *p, const json_t *data) {
  const flowdef *fd = engine_find_def(e, p->flow);
  if (fd && fd->has_summary) {
    json_t *pj = json_pack("{s:I, s:s, s:s, s:O}", "id", (json_int_t)p->id, "flow", p->flow, "status",
                           proc_status_name(p->status), "data", data);
    /* A summary is one line made from the data, shown for every row of a
     * list: a slow one (a loop, a bug) would hold each list of its
     * processes for a whole callback budget per row. */
    double budget = luavm_cap_budget(e->vm, SUMMARY_SECONDS);
    char *s = activation_summary(e->vm, p->flow, pj);
    luavm_set_budget(e->vm, budget);
    json_decref(pj);
    if (s) return s;
  }
  return view_summary_default(e, p);
}

/* A JSON object built member by member, failing as json_pack failed: a
 * NULL value (a string that is not UTF-8, say) makes the whole object
 * NULL.  The views were json_pack calls; parsing their formats for every
 * task of every answer cost more than setting the members directly. */
typedef struct jbuild {
  json_t *obj;
  int bad;
} jbuild;

static void jb_set(jbuild *b, const char *key, json_t *value) {
  if (json_object_set_new_nocheck(b->obj, key, value)) b->bad = 1;   /* steals value, NULL too */
}

/* A string (checked UTF-8, as json_pack's "s" checks it); NULL for NULL. */
static json_t *jb_str(const char *s) { return s ? json_string(s) : NULL; }

static json_t *jb_done(jbuild *b) {
  if (!b->bad) return b->obj;
  json_decref(b->obj);
  return NULL;
}

json_t *view_process_json(engine *e, const st_process *p) { return view_process_json_with(e, p, NULL); }

json_t *view_process_json_with(engine *e, const st_process *p, json_t *data) {
  data = data ? json_incref(data) : parse_json_text(p->data);
  char *summary = view_summary(e, p, data);
  jbuild b = {json_object(), 0};
  jb_set(&b, "id", json_integer((json_int_t)p->id));
  jb_set(&b, "flow", jb_str(p->flow));
  jb_set(&b, "status", json_string_nocheck(proc_status_name(p->status)));
  jb_set(&b, "summary", jb_str(summary ? summary : ""));
  jb_set(&b, "data", data);
  jb_set(&b, "created_by", p->created_by_name[0] ? json_string(p->created_by_name) : json_null());
  jb_set(&b, "created_at", jb_str(p->created_at));
  jb_set(&b, "finished_at", time_or_null(p->finished_at));
  free(summary);
  json_t *out = jb_done(&b);
  if (out && p->parent_id) {
    json_t *parent = json_object();
    json_object_set_new_nocheck(parent, "process_id", json_integer((json_int_t)p->parent_id));
    json_object_set_new_nocheck(parent, "task_id", json_integer((json_int_t)p->parent_task_id));
    json_object_set_new_nocheck(out, "parent", parent);
  }
  return out;
}

const fd_node *view_task_node(engine *e, const st_task *t, const char *flow, const flowdef **current) {
  const flowdef *fd = *current = engine_find_def(e, flow);
  const fd_node *n = fd ? flowdef_node(fd, node_part(t->flow_task)) : NULL;
  if (!n && fd && fd->pin) {   /* a node of the older version its process is pinned to */
    st_process p = {.id = t->process_id};
    const char *lua_flow;
    snprintf(p.flow, sizeof p.flow, "%s", flow);
    engine_pinned_def(e, &p, &fd, &lua_flow);
    n = flowdef_node(fd, node_part(t->flow_task));
  }
  return n;
}

json_t *view_task_json(engine *e, const st_task *t) {
  const char *flow_end = strchr(t->flow_task, '.');
  char flow[64];   /* the part before the dot, cut to 63 bytes (as snprintf "%.*s" did) */
  size_t flen = flow_end ? (size_t)(flow_end - t->flow_task) : 0;
  if (flen >= sizeof flow) flen = sizeof flow - 1;
  memcpy(flow, t->flow_task, flen);
  flow[flen] = '\0';
  const flowdef *current;
  const fd_node *n = view_task_node(e, t, flow, &current);
  int is_timeout = !strcmp(t->type, "timeout");
  json_t *prev = json_array();
  for (const char *p = t->previous; p && *p;) {   /* "3,4" from the task row */
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p) break;
    json_array_append_new(prev, json_integer(id));
    p = *end == ',' ? end + 1 : end;
  }
  jbuild b = {json_object(), 0};
  jb_set(&b, "id", json_integer((json_int_t)t->id));
  jb_set(&b, "process_id", json_integer((json_int_t)t->process_id));
  jb_set(&b, "flow", jb_str(flow));
  jb_set(&b, "node", jb_str(node_part(t->flow_task)));
  /* a timer row and a group's controller are rows of their node, of their own type */
  jb_set(&b, "type", jb_str(is_timeout || !strcmp(t->type, "foreach") ? t->type
                            : n                                        ? node_kind_name(n->kind)
                                                                       : "obsolete"));
  jb_set(&b, "title", jb_str(n ? n->title : node_part(t->flow_task)));
  jb_set(&b, "status", json_string_nocheck(task_status_name(t->status)));
  jb_set(&b, "owner", t->owner_name[0] ? json_string(t->owner_name) : json_null());
  jb_set(&b, "token", jb_str(t->token));
  jb_set(&b, "previous", prev);
  jb_set(&b, "data", parse_json_text(t->data));
  jb_set(&b, "created_at", jb_str(t->created_at));
  jb_set(&b, "assigned_at", time_or_null(t->assigned_at));
  jb_set(&b, "started_at", time_or_null(t->started_at));
  jb_set(&b, "finished_at", time_or_null(t->finished_at));
  json_t *out = jb_done(&b);
  if (!out) return NULL;
  if (t->error_message)
    json_object_set_new(out, "error", json_pack("{s:s, s:s?}", "message", t->error_message, "traceback",
                                                t->error_traceback));
  /* a job's or timer's run time while it waits; a :Due date always */
  if (t->due_at[0] && (t->status == TASK_SCHEDULED || (n && n->has_due && !is_timeout)))
    json_object_set_new(out, "due_at", json_string(t->due_at));
  if (is_timeout) {
    int index = atoi(t->event_key) - 1;
    int interrupting = n && index >= 0 && index < n->ntimeouts ? n->timeouts[index].interrupting : 1;
    json_object_set_new(out, "timeout", json_pack("{s:I, s:s, s:b}", "guards", (json_int_t)t->guards, "node",
                                                  t->event_name, "interrupting", interrupting));
  } else if (!strcmp(t->type, "receive") && t->event_name[0]) {
    json_object_set_new(out, "waits_for",
                        t->event_key[0] ? json_pack("{s:s, s:s}", "message", t->event_name, "key", t->event_key)
                                        : json_pack("{s:s}", "signal", t->event_name));
  }
  if (t->attempts) json_object_set_new(out, "attempts", json_integer(t->attempts));
  if (!strcmp(t->type, "external")) json_object_set_new(out, "external", view_external_json(t));
  if (n && n->priority && !is_timeout) json_object_set_new(out, "priority", json_string(node_priority_name(n->priority)));
  if (t->child_id) json_object_set_new(out, "child_id", json_integer(t->child_id));
  if (t->group_id) json_object_set_new(out, "group_id", json_integer(t->group_id));
  return out;
}

/* --- public: reading ------------------------------------------------------ */

void read_budget_begin(engine *e) {
  e->summaries_spent = 0;
  e->permissions_spent = 0;
}

void run_read_begin(run *r) {
  read_budget_begin(r->e);
  r->reading = 1;
}

int engine_flows_list(engine *e, const fh_actor *a, json_t **out, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  read_budget_begin(e);
  json_t *items = json_array();
  for (int i = 0; i < e->gen->n; i++) {
    const flow_entry *fe = &e->gen->entries[i];
    const flowdef *fd = fe->def;
    /* Load errors (file:line) are for managers of the flow; to anyone else a
     * flow whose old definition still serves is simply "ok", and one that
     * never loaded is an error without details. */
    int manager = engine_is_manager(a, fe->name);
    int shown_error = fe->has_error && (manager || !fd);
    json_t *item = json_pack("{s:s, s:s, s:s}", "name", fe->name, "title", fd && fd->title ? fd->title : fe->name,
                             "status", shown_error ? "error" : "ok");
    json_object_set_new(item, "description", fd && fd->description ? json_string(fd->description) : json_null());
    if (shown_error && manager)
      json_object_set_new(item, "error", json_pack("{s:s, s:i, s:s}", "file", fe->error_file, "line", fe->error_line,
                                                   "message", fe->error_message));
    else if (shown_error)
      json_object_set_new(item, "error", json_pack("{s:s}", "message",
                                                   "this flow is not available; an administrator can see why"));
    json_object_set_new(item, "loaded_at", time_or_null(fe->loaded_at));
    json_t *starts = json_array();
    run r;
    if (fd) run_init_new(&r, e, a, fd);
    r.reading = 1;
    for (int j = 0; fd && j < fd->nnodes; j++) {
      const fd_node *n = &fd->nodes[j];
      if (n->kind != NODE_START && n->kind != NODE_START_FUNCTION) continue;
      int can = n->kind == NODE_START ? rules_may_do_node(&r, n, NULL) : engine_is_manager(a, fe->name);
      json_array_append_new(starts, json_pack("{s:s, s:s, s:s, s:b}", "name", n->name, "title", n->title, "type",
                                              node_kind_name(n->kind), "can_start", can));
    }
    if (fd) run_free(&r);
    json_object_set_new(item, "start_nodes", starts);
    json_array_append_new(items, item);
  }
  *out = json_pack("{s:o}", "items", items);
  return FH_OK;
}

int engine_flow_get(engine *e, const fh_actor *a, const char *flow, json_t **out, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  const flow_entry *fe = flowgen_find(e->gen, flow);
  if (!fe) return fherr_set(err, FH_NOT_FOUND, "unknown flow '%s'", flow);
  int manager = engine_is_manager(a, fe->name);   /* only managers read load errors */
  if (!fe->def && !manager) return fherr_set(err, FH_CONFLICT, "flow '%s' is not available", flow);
  if (!fe->def) return fherr_set(err, FH_CONFLICT, "flow '%s' failed to load: %s", flow, fe->error_message);
  *out = flowdef_to_json(fe->def);
  json_object_set_new(*out, "status", json_string(fe->has_error && manager ? "error" : "ok"));
  return FH_OK;
}

int engine_flow_dot(engine *e, const char *flow, char **out, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  const flowdef *fd = engine_find_def(e, flow);
  if (!fd) return fherr_set(err, FH_NOT_FOUND, "unknown flow '%s'", flow);
  *out = flowdef_to_dot(fd);
  return *out ? FH_OK : fherr_set(err, FH_INTERNAL, "out of memory");
}

json_t *view_managed_flows(engine *e, const fh_actor *a) {
  json_t *flows = json_array();
  for (int i = 0; i < e->gen->n; i++)
    if (engine_is_manager(a, e->gen->entries[i].name)) json_array_append_new(flows, json_string(e->gen->entries[i].name));
  return flows;
}

/* May the actor take this queue task of a :Permission(fn) node?  Asks the
 * function with the task's own activation. */
int view_may_take(engine *e, const fh_actor *a, st_task *t) {
  run r;
  int ok = 0;
  if (!run_init_one(&r, e, a, t, NULL)) {
    r.reading = 1;
    const fd_node *node = r.fd ? flowdef_node(r.fd, node_part(t->flow_task)) : NULL;
    ptask *mine = pstate_task(&r.ps, t->id);
    ok = node && mine && rules_may_do_node(&r, node, mine);
  }
  run_free(&r);
  return ok;
}

/* The task lists (engine_tasks_list) are written by engine_list.c. */

/* The top bar's numbers are exact up to COUNT_CAP - 1 and "more" above:
 * each count reads at most COUNT_CAP index entries, so it costs the same at
 * 10,000 processes as at 1,000,000. */
#define COUNT_CAP 1000

/* Queue tasks of :Permission(fn) nodes are decided one by one; only those
 * are listed and asked (a page at a time, until *n reaches `cap`), the rest
 * of the queue is counted in SQL. */
static int count_queue_filtered(engine *e, const fh_actor *a, json_t *fn_nodes, int64_t cap, int64_t *n,
                                fherr *err) {
  json_t *names = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(fn_nodes, k, v) json_array_append_new(names, json_string(k));
  char *names_text = dump_json(names);
  json_decref(names);
  store_task_query sq = {.view = STORE_VIEW_QUEUE, .user_id = a->id, .assignable_json = names_text,
                         .ascending = 1, .limit = STORE_PAGE_DEFAULT + 1};   /* a prepared page on PostgreSQL */
  int rc = FH_OK, count = sq.limit;
  *n = 0;
  read_budget_begin(e);
  while (!rc && *n < cap && count == sq.limit) {
    st_task *rows = NULL;
    if ((rc = store_task_list(e->st, &sq, &rows, &count, err))) break;
    for (int i = 0; i < count && *n < cap; i++) *n += view_may_take(e, a, &rows[i]);
    if (count) sq.after = rows[count - 1].id;
    st_task_array_free(rows, count);
  }
  free(names_text);
  return rc;
}

/* {"inbox": n, "queue": n}; a capped count has n = COUNT_CAP - 1 and
 * "inbox_capped" / "queue_capped": true, meaning "more than n". */
static json_t *counts_json(int64_t inbox, int64_t queue) {
  int ci = inbox >= COUNT_CAP, cq = queue >= COUNT_CAP;
  json_t *out = json_pack("{s:I, s:I}", "inbox", (json_int_t)(ci ? COUNT_CAP - 1 : inbox), "queue",
                          (json_int_t)(cq ? COUNT_CAP - 1 : queue));
  if (ci) json_object_set_new(out, "inbox_capped", json_true());
  if (cq) json_object_set_new(out, "queue_capped", json_true());
  return out;
}

int engine_tasks_counts(engine *e, const fh_actor *a, json_t **out, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  json_t *fn_nodes = NULL;
  char *plain_text = NULL;
  /* plain nodes are counted in SQL; :Permission(fn) nodes one by one */
  if (!view_assignable(e, a, NULL, &plain_text, &fn_nodes)) return fherr_set(err, FH_INTERNAL, "out of memory");
  store_task_query inbox = {.view = STORE_VIEW_INBOX, .user_id = a->id, .limit = COUNT_CAP};
  store_task_query queue = {.view = STORE_VIEW_QUEUE, .user_id = a->id, .assignable_json = plain_text,
                            .limit = COUNT_CAP};
  int64_t ni = 0, nq = 0, nf = 0;
  int began = 0;
  if (!(rc = store_read_begin(e->st, &began, err)) && !(rc = store_task_count_view(e->st, &inbox, &ni, err)) && !(rc = store_task_count_view(e->st, &queue, &nq, err)) &&
      !(rc = json_object_size(fn_nodes) && nq < COUNT_CAP ? count_queue_filtered(e, a, fn_nodes, COUNT_CAP - nq, &nf, err)
                                                          : FH_OK))
    *out = counts_json(ni, nq + nf);
  store_read_end(e->st, began);
  free(plain_text);
  json_decref(fn_nodes);
  return rc;
}

static json_t *form_json(engine *e, const flowdef *fd, const fd_node *n, const json_t *data) {
  (void)e;
  json_t *fields = json_array();
  for (int i = 0; n && i < n->nfields; i++) {
    json_t *schema = flowdef_field(fd, n->fields[i]);
    if (!schema) continue;
    json_t *f = json_deep_copy(schema);
    json_t *value = json_object_get(data, n->fields[i]);
    json_object_set(f, "value", value ? value : json_null());
    json_array_append_new(fields, f);
  }
  return json_pack("{s:o}", "fields", fields);
}

/* The task page: the task, its form, the actions the actor may take now. */
static json_t *task_page(run *r, ptask *t, const fd_node *n) {
  json_t *actions = json_array();
  for (int i = 0; i < A__COUNT; i++)
    if (!rules_check(r, t, n, i, NULL)) json_array_append_new(actions, json_string(ENGINE_ACTIONS[i]));
  return json_pack("{s:o, s:o, s:o, s:o}", "task", view_task_json(r->e, &t->row), "form",
                   /* a group's controller is nobody's form, though its node is a View */
                   form_json(r->e, r->fd, n && n->kind == NODE_VIEW && strcmp(t->row.type, "foreach") ? n : NULL,
                             r->data), "actions", actions,
                   "process", view_process_json_with(r->e, &r->ps.proc, r->data));
}

int engine_task_get(engine *e, const fh_actor *a, int64_t task_id, json_t **out, fherr *err) {
  *out = NULL;
  int rc = engine_sync_flows(e, err);
  int64_t pid = 0;
  if (!rc) rc = store_task_process(e->st, task_id, &pid, err);
  if (rc) return rc;
  run r;
  if ((rc = run_init(&r, e, a, pid, err))) {
    run_free(&r);
    return rc;
  }
  run_read_begin(&r);   /* whether a may see it, and its action buttons */
  ptask *t = pstate_task(&r.ps, task_id);
  const fd_node *n = t && r.fd ? flowdef_node(r.fd, node_part(t->row.flow_task)) : NULL;
  rc = t ? rules_may_see_task(&r, t, n, err) : fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
  if (!rc) *out = task_page(&r, t, n);
  run_free(&r);
  return rc;
}

/* The process list (engine_processes_list) is written by engine_proclist.c. */

/* A user who may take a NEW task of the process reads it (its tasks are one
 * index range of task_process, not a scan). */
static int candidate_of(engine *e, const fh_actor *a, int64_t process_id) {
  run r;
  fherr ignored = {0};
  int yes = 0;
  if (!run_init(&r, e, a, process_id, &ignored)) {
    run_read_begin(&r);
    yes = rules_is_candidate(&r);
  }
  run_free(&r);
  fherr_clear(&ignored);
  return yes;
}

int engine_process_get(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err) {
  *out = NULL;
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  st_process p;
  st_task *rows = NULL;
  int n = 0;
  /* the tasks with the process (one round trip on PostgreSQL), before
   * knowing whether they are shown: nearly always they are */
  if ((rc = store_process_load(e->st, process_id, &p, &rows, &n, err))) return rc;
  int visible = engine_can_see_process(e, a, &p, err);
  if (visible == 0) visible = candidate_of(e, a, process_id);
  if (visible <= 0) {
    st_task_array_free(rows, n);
    st_process_free(&p);
    return visible < 0 ? FH_INTERNAL : fherr_set(err, FH_NOT_FOUND, "process %lld not found", (long long)process_id);
  }
  json_t *tasks = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(tasks, view_task_json(e, &rows[i]));
  json_t *children = NULL;
  if ((rc = store_process_children(e->st, process_id, &children, err))) json_decref(tasks);
  else
    *out = json_pack("{s:o, s:o, s:o}", "process", view_process_json(e, &p), "tasks", tasks, "children", children);
  st_task_array_free(rows, n);
  st_process_free(&p);
  return rc;
}

