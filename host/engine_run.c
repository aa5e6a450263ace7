/* engine_run — a run: everything one action sets off automatically, on the
 * process's state in memory (engine_state.c).  It creates the next tasks,
 * activates the automatic ones from a queue (handlers, gateways, splits,
 * joins, ends; one function per node kind), hands out split tokens and
 * keeps the error policy: a human action's run stops at the first error
 * (the caller writes nothing), a job's run leaves the failing task in ERROR
 * and goes on.
 *
 * May call: activation (Lua), engine_state, store (user names for :Assign).
 * Called by engine_rules.c, engine.c, engine_jobs.c.
 */
#include "engine_internal.h"

#include <math.h>
#include <stdio.h>

#include "fhlog.h"
#include "fhtime.h"

/* A run that takes more automatic steps than this is a loop that never
 * reaches a human task; it fails instead of computing forever. */
#define MAX_STEPS 10000

/* --- the run ------------------------------------------------------------------ */

static int run_loaded(run *r, engine *e, const fh_actor *a, int rc) {
  r->e = e;
  r->actor = a;
  r->created = json_array();
  if (rc) return rc;
  r->data = parse_json_text(r->ps.proc.data);
  r->fd = engine_find_def(e, r->ps.proc.flow);
  r->lua_flow = r->ps.proc.flow;
  engine_pinned_def(e, &r->ps.proc, &r->fd, &r->lua_flow);   /* version = "pin" */
  return FH_OK;
}

int run_init(run *r, engine *e, const fh_actor *a, int64_t process_id, fherr *err) {
  memset(r, 0, sizeof *r);
  return run_loaded(r, e, a, pstate_load_live(e, process_id, &r->ps, err));
}

int run_init_one(run *r, engine *e, const fh_actor *a, const st_task *task, fherr *err) {
  memset(r, 0, sizeof *r);
  return run_loaded(r, e, a, pstate_load_one(e, task, &r->ps, err));
}

void run_init_new(run *r, engine *e, const fh_actor *a, const flowdef *fd) {
  memset(r, 0, sizeof *r);
  r->e = e;
  r->actor = a;
  r->fd = fd;
  r->created = json_array();
  r->data = json_object();
  r->ps.is_new = 1;
  st_process *p = &r->ps.proc;
  copy_text(p->flow, sizeof p->flow, fd->name);
  p->status = PROC_NEW;
  if (!a->is_system) snprintf(p->created_by_name, sizeof p->created_by_name, "%s", a->username);
  p->created_by = a->is_system ? 0 : a->id;
  fhtime_now(p->created_at);
}

void run_free(run *r) {
  if (r->child) {
    run_free(r->child);
    free(r->child);
    r->child = NULL;
  }
  pstate_free(&r->ps);
  json_decref(r->data);
  json_decref(r->created);
  json_decref(r->deliveries);
  free(r->queue);
  r->data = r->created = r->deliveries = NULL;
  r->queue = NULL;
}

int run_enqueue(run *r, int64_t id, fherr *err) {
  for (int i = r->qhead; i < r->qlen; i++)
    if (r->queue[i] == id) return FH_OK;
  if (r->qlen == r->qcap) {
    int cap = r->qcap ? r->qcap * 2 : 16;
    int64_t *grown = realloc(r->queue, sizeof *grown * cap);
    if (!grown) return fherr_set(err, FH_INTERNAL, "out of memory");
    r->queue = grown;
    r->qcap = cap;
  }
  r->queue[r->qlen++] = id;
  return FH_OK;
}

/* --- callbacks ------------------------------------------------------------------- */

static const act_door *run_door(run *r) {
  r->door.ctx = r;
  r->door.actions = ENGINE_ACTIONS;
  r->door.nactions = A__COUNT;
  r->door.transition = rules_transition;
  return &r->door;
}

void run_ctx(run *r, const fd_node *n, st_task *row, int stored, act_ctx *c) {
  const st_process *p = &r->ps.proc;
  memset(c, 0, sizeof *c);
  c->flow = r->lua_flow ? r->lua_flow : p->flow;
  c->process_id = p->id;
  c->process_status = proc_status_name(p->status);
  c->created_by = p->created_by_name;
  c->created_at = p->created_at;
  c->data = &r->data;
  c->node = n ? n->name : NULL;
  if (row) {
    c->task_id = row->id;
    c->task_status = task_status_name(row->status);
    c->owner = row->owner_name;
    c->token = row->token;
    c->task_data = &row->data;
    if (stored) c->door = run_door(r);
  }
}

int run_invoke(run *r, ptask *t, const fd_node *n, const char *key, const json_t *extra, fherr *err) {
  act_ctx c;
  run_ctx(r, n, t ? &t->row : NULL, 1, &c);
  int rc = activation_run(r->e->vm, &c, key, extra, err);
  if (!rc && t) t->dirty = 1;   /* its data may have changed */
  return rc;
}

int run_clean_form(run *r, const fd_node *n, const json_t *data, json_t **clean, fherr *err) {
  return activation_clean(r->e->vm, r->lua_flow ? r->lua_flow : r->ps.proc.flow, n->fields, n->nfields, data, clean, err);
}

int run_clean_known(run *r, const json_t *data, json_t **clean, fherr *err) {
  char **keys = calloc(json_object_size(data) + 1, sizeof *keys);
  if (!keys) return fherr_set(err, FH_INTERNAL, "out of memory");
  int nk = 0;
  const char *k;
  json_t *v;
  /* only the flow's own fields: clean() reports the others as unknown */
  json_object_foreach((json_t *)data, k, v) if (r->fd && flowdef_field(r->fd, k)) keys[nk++] = (char *)k;
  int rc = activation_clean(r->e->vm, r->lua_flow ? r->lua_flow : r->ps.proc.flow, keys, nk, data, clean, err);
  free(keys);
  return rc;
}

void run_merge_into(json_t *dst, const json_t *src) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)src, k, v) json_object_set(dst, k, v);
}

/* Merges a cleaned form: submitted values win; a field's default fills in
 * only where the process has no value yet, so leaving a field out of a
 * later form never overwrites what an earlier step stored. */
void run_merge_form(json_t *dst, const json_t *clean, const json_t *submitted) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)clean, k, v) {
    if (json_object_get(submitted, k) || !json_object_get(dst, k)) json_object_set(dst, k, v);
  }
}

/* --- task rows ---------------------------------------------------------------------- */

void run_complete_task(ptask *t) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  t->row.status = TASK_DONE;
  _Static_assert(sizeof t->row.finished_at == sizeof now && sizeof t->row.started_at == sizeof now, "stamps");
  if (!t->row.started_at[0]) memcpy(t->row.started_at, now, sizeof now);
  memcpy(t->row.finished_at, now, sizeof now);
  t->row.lease_until[0] = '\0';
  t->dirty = 1;
}

static int resolve_user(run *r, const char *username, st_task *t, fherr *err) {
  for (int i = 0; i < r->nnamed; i++)
    if (!strcmp(r->named[i].name, username)) {
      t->owner_id = r->named[i].id;
      snprintf(t->owner_name, sizeof t->owner_name, "%s", r->named[i].name);
      return FH_OK;
    }
  st_user u;
  fherr uerr = {0};
  if (store_user_get(r->e->st, username, &u, &uerr)) {
    fherr_clear(&uerr);
    return fherr_set(err, FH_FLOW_ERROR, "assign: unknown user '%s'", username);
  }
  t->owner_id = u.id;
  snprintf(t->owner_name, sizeof t->owner_name, "%s", u.username);
  if (strlen(u.username) < sizeof r->named[0].name) {
    int cap = (int)(sizeof r->named / sizeof r->named[0]);
    if (r->nnamed == cap) {   /* the oldest makes room */
      memmove(&r->named[0], &r->named[1], sizeof r->named[0] * (size_t)(cap - 1));
      r->nnamed--;
    }
    r->named[r->nnamed].id = u.id;
    snprintf(r->named[r->nnamed++].name, sizeof r->named[0].name, "%s", u.username);
  }
  st_user_free(&u);
  return FH_OK;
}

static int owner_of(run *r, const char *node, st_task *t, fherr *err) {
  char ft[160];
  snprintf(ft, sizeof ft, "%s.%s", r->ps.proc.flow, node);
  t->owner_id = pstate_latest_owner(&r->ps, ft);
  if (!t->owner_id) return FH_OK;
  st_user u;
  int rc = store_user_get_by_id(r->e->st, t->owner_id, &u, err);
  if (rc) return rc;   /* busy stays busy (503), not a bug of ours */
  snprintf(t->owner_name, sizeof t->owner_name, "%s", u.username);
  st_user_free(&u);
  return FH_OK;
}

/* Owner for a new human task from :Assign; leaves 0 when it yields none.
 * The task is not stored yet: its callback sees it without transitions. */
static int resolve_assign(run *r, const fd_node *n, st_task *t, fherr *err) {
  switch (n->assign) {
  case ASSIGN_USER: return resolve_user(r, n->assign_value, t, err);
  case ASSIGN_OWNER_OF: return owner_of(r, n->assign_value, t, err);
  case ASSIGN_FN: {
    act_ctx c;
    run_ctx(r, n, t, 0, &c);
    char *user = NULL;
    int rc = activation_assign(r->e->vm, &c, &user, err);
    if (!rc && user) rc = resolve_user(r, user, t, err);
    free(user);
    return rc;
  }
  default: return FH_OK;
  }
}

/* Seconds a timer waits: fixed, or what its function says. */
static int timer_seconds(run *r, const fd_node *n, st_task *t, double *seconds, fherr *err) {
  *seconds = n->seconds;
  if (n->seconds >= 0) return FH_OK;
  act_ctx c;
  run_ctx(r, n, t, 0, &c);
  int ok = 0;
  int rc = activation_seconds(r->e->vm, &c, seconds, &ok, err);
  if (rc) return rc;
  if (!ok || !isfinite(*seconds) || *seconds < 0)
    return fherr_set(err, FH_FLOW_ERROR, "timer '%s': its function must return seconds >= 0", n->name);
  return FH_OK;
}

int run_add_task(run *r, const st_task *row, int64_t prev, ptask **out, fherr *err) {
  int rc = pstate_add_task(r->e, &r->ps, row, out, err);
  if (!rc) rc = pstate_link(&r->ps, *out, prev, err);
  if (!rc) json_array_append_new(r->created, json_integer((*out)->row.id));
  return rc;
}

/* A branch token arrives at a join: find the join task of that split round
 * (token prefix) or create it; queue it so it checks whether every branch
 * of the round has finished. */
static int arrive_at_join(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err) {
  const char *slash = strrchr(token, '/');
  const char *under = slash ? strrchr(slash, '_') : NULL;
  if (!slash || !under)
    return fherr_set(err, FH_FLOW_ERROR, "join '%s' reached by token '%s', which did not come from a split", n->name,
                     token);
  st_task t = {0};
  snprintf(t.join_of, sizeof t.join_of, "%.*s", (int)(under - token), token);
  snprintf(t.flow_task, sizeof t.flow_task, "%s.%s", r->ps.proc.flow, n->name);
  ptask *join = pstate_find_join(&r->ps, t.flow_task, t.join_of);
  int rc;
  if (join) {
    if ((rc = pstate_link(&r->ps, join, prev, err))) return rc;
    return join->row.status == TASK_STARTED ? run_enqueue(r, join->row.id, err) : FH_OK;
  }
  snprintf(t.type, sizeof t.type, "join");
  t.status = TASK_STARTED;
  snprintf(t.token, sizeof t.token, "%.*s", (int)(slash - token), token);
  fhtime_now(t.created_at);
  snprintf(t.started_at, sizeof t.started_at, "%s", t.created_at);
  if ((rc = run_add_task(r, &t, prev, &join, err))) return rc;
  return run_enqueue(r, join->row.id, err);
}

/* Fills the kind-specific part of a new task: a job is due now, a timer
 * when its seconds are up, a human task gets its :Assign owner. */
static int set_up_task(run *r, const fd_node *n, st_task *t, fherr *err) {
  if (n->kind == NODE_JOB || n->kind == NODE_SUBPROCESS) {   /* a subprocess starts its child as a job */
    t->status = TASK_SCHEDULED;
    snprintf(t->due_at, sizeof t->due_at, "%s", t->created_at);
  } else if (n->kind == NODE_TIMER) {
    double seconds;
    int rc = timer_seconds(r, n, t, &seconds, err);
    if (rc) return rc;
    t->status = TASK_SCHEDULED;
    fhtime_format(fhtime_epoch() + seconds, t->due_at);
  } else if (n->kind == NODE_VIEW) {
    int rc = resolve_assign(r, n, t, err);
    if (rc) return rc;
    if (t->owner_id) {
      t->status = TASK_ASSIGNED;
      snprintf(t->assigned_at, sizeof t->assigned_at, "%s", t->created_at);
    }
  } else if (n->kind == NODE_RECEIVE) {
    int rc = run_set_up_receive(r, n, t, err);
    if (rc) return rc;
  } else if (n->kind == NODE_EXTERNAL) {
    run_set_up_external(n, t);
  }
  return n->has_due ? run_set_up_due(r, n, t, err) : FH_OK;
}

/* A timer or :Assign function failed after a job: the task is kept as ERROR
 * for a manager to revive or cancel, and the job's own result stands. */
static void set_up_failed(st_task *t, fherr *err) {
  t->status = TASK_ERROR;
  t->owner_id = 0;
  t->owner_name[0] = t->assigned_at[0] = t->due_at[0] = '\0';
  t->error_message = strdup(err && err->message[0] ? err->message : "the task could not be set up");
  t->error_traceback = err && err->traceback ? strdup(err->traceback) : NULL;
  fherr_clear(err);
}

static int is_automatic(node_kind k) {
  return k == NODE_HANDLER || k == NODE_IF || k == NODE_SWITCH || k == NODE_SPLIT || k == NODE_END ||
         k == NODE_SEND || k == NODE_CANCEL || k == NODE_LOCK || k == NODE_UNLOCK;
}

/* A task of node n (an instance of group `group` when not 0, with `data`
 * as its task data) reached with token from task prev. */
int run_create_one(run *r, const fd_node *n, const char *token, int64_t prev, int64_t group, json_t *data,
                   ptask **out, fherr *err) {
  st_task t = {0};
  t.process_id = r->ps.proc.id;
  join_names(t.flow_task, sizeof t.flow_task, r->ps.proc.flow, n->name);
  copy_text(t.type, sizeof t.type, node_kind_name(n->kind));
  t.status = TASK_NEW;
  t.group_id = group;
  if (data && !(t.data = dump_json(data))) return fherr_set(err, FH_INTERNAL, "out of memory");
  copy_text(t.token, sizeof t.token, token);
  fhtime_now(t.created_at);
  int rc = set_up_task(r, n, &t, err);
  if (rc && r->job_mode && rc == FH_FLOW_ERROR) rc = (set_up_failed(&t, err), FH_OK);
  ptask *added = NULL;
  if (!rc) rc = run_add_task(r, &t, prev, &added, err);
  st_task_free(&t);
  if (rc) return rc;
  if (out) *out = added;
  if (is_automatic(n->kind) && added->row.status == TASK_NEW) return run_enqueue(r, added->row.id, err);
  if (added->row.status == TASK_ERROR) return FH_OK;
  /* a group's timeouts guard its controller, not each instance */
  if (n->ntimeouts && !group && (rc = run_arm_timeouts(r, added, n, err))) return rc;
  return n->kind == NODE_RECEIVE ? run_take_kept(r, added, n, err) : FH_OK;
}

/* Creates the task of node n reached with token from task prev. */
int run_create_task(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err) {
  if (n->kind == NODE_JOIN) return arrive_at_join(r, n, token, prev, err);
  if (n->kind == NODE_START || n->kind == NODE_START_FUNCTION)
    return fherr_set(err, FH_FLOW_ERROR, "node '%s' is a start node and cannot follow another node", n->name);
  if (n->kind == NODE_OBSOLETE) return fherr_set(err, FH_FLOW_ERROR, "node '%s' is obsolete", n->name);
  if (strlen(token) >= sizeof((st_task *)0)->token - 24)
    return fherr_set(err, FH_FLOW_ERROR, "splits nested too deeply (token '%s')", token);
  if (n->foreach) return run_create_group(r, n, token, prev, err);
  return run_create_one(r, n, token, prev, 0, NULL, NULL, err);
}

static int follow_edge(run *r, const ptask *from, const fd_node *n, int edge, const char *token, fherr *err) {
  const fd_node *to = &r->fd->nodes[n->edges[edge].to_index];
  return run_create_task(r, to, token, from->row.id, err);
}

int run_follow_next(run *r, const ptask *from, const fd_node *n, fherr *err) {
  /* an instance of a :ForEach group: the group decides when the flow goes on */
  if (from->row.group_id) return run_instance_done(r, (ptask *)from, n, err);
  char token[sizeof from->row.token];
  copy_text(token, sizeof token, from->row.token);
  for (int i = 0; i < n->nedges; i++) {
    int rc = follow_edge(r, from, n, i, token, err);
    if (rc) return rc;
  }
  return FH_OK;
}

int run_recheck_joins(run *r, fherr *err) {
  for (int i = 0; i < r->ps.ntasks; i++) {
    const st_task *t = &r->ps.tasks[i]->row;
    if (t->status != TASK_STARTED || !t->join_of[0]) continue;
    int rc = run_enqueue(r, t->id, err);
    if (rc) return rc;
  }
  return FH_OK;
}

/* --- activating the automatic nodes: one function per kind ------------------------ */

typedef int (*activate_fn)(run *r, ptask *t, const fd_node *n, fherr *err);

static int test(run *r, ptask *t, const fd_node *n, int edge, int *yes, fherr *err) {
  act_ctx c;
  run_ctx(r, n, &t->row, 1, &c);
  int rc = activation_test(r->e->vm, &c, edge, yes, err);
  if (!rc) t->dirty = 1;
  return rc;
}

static int find_edge(const fd_node *n, edge_kind kind) {
  for (int i = 0; i < n->nedges; i++)
    if (n->edges[i].kind == kind) return i;
  return -1;
}

static int activate_handler(run *r, ptask *t, const fd_node *n, fherr *err) {
  int rc = run_invoke(r, t, n, "fn", NULL, err);
  if (rc) return rc;
  run_complete_task(t);
  return run_follow_next(r, t, n, err);
}

static int activate_if(run *r, ptask *t, const fd_node *n, fherr *err) {
  int yes = 0;
  int rc = test(r, t, n, -1, &yes, err);
  if (rc) return rc;
  run_complete_task(t);
  int edge = find_edge(n, yes ? EDGE_TRUE : EDGE_FALSE);
  return edge < 0 ? FH_OK : follow_edge(r, t, n, edge, t->row.token, err);
}

static int activate_switch(run *r, ptask *t, const fd_node *n, fherr *err) {
  int chosen = -1;
  for (int i = 0; i < n->nedges && chosen < 0; i++) {
    if (n->edges[i].kind != EDGE_CASE) continue;
    int yes = 1;
    int rc = n->edges[i].has_cond ? test(r, t, n, i, &yes, err) : FH_OK;
    if (rc) return rc;
    if (yes) chosen = i;
  }
  if (chosen < 0) chosen = find_edge(n, EDGE_DEFAULT);
  if (chosen < 0) return fherr_set(err, FH_FLOW_ERROR, "switch '%s': no case matched and there is no default", n->name);
  run_complete_task(t);
  return follow_edge(r, t, n, chosen, t->row.token, err);
}

/* Each branch whose condition holds gets the token <split's>/<split id>_<k>. */
static int activate_split(run *r, ptask *t, const fd_node *n, fherr *err) {
  int *taken = calloc(n->nedges ? n->nedges : 1, sizeof *taken);
  if (!taken) return fherr_set(err, FH_INTERNAL, "out of memory");
  int count = 0, rc = FH_OK;
  for (int i = 0; i < n->nedges && !rc; i++) {
    int yes = 1;
    if (n->edges[i].has_cond) rc = test(r, t, n, i, &yes, err);
    if (!rc && yes) taken[count++] = i;
  }
  if (!rc && !count) rc = fherr_set(err, FH_FLOW_ERROR, "split '%s': no branch condition holds", n->name);
  if (!rc) run_complete_task(t);
  for (int k = 0; !rc && k < count; k++) {
    char token[300];
    snprintf(token, sizeof token, "%s/%lld_%d", t->row.token, (long long)t->row.id, k + 1);
    rc = follow_edge(r, t, n, taken[k], token, err);
  }
  free(taken);
  return rc;
}

static const activate_fn ACTIVATE[NODE__COUNT] = {
    [NODE_HANDLER] = activate_handler, [NODE_IF] = activate_if,     [NODE_SWITCH] = activate_switch,
    [NODE_SPLIT] = activate_split,     [NODE_JOIN] = run_activate_join, [NODE_END] = run_activate_end,
    [NODE_RECEIVE] = run_activate_receive, [NODE_SEND] = run_activate_send, [NODE_CANCEL] = run_activate_cancel,
    [NODE_LOCK] = run_activate_lock,       [NODE_UNLOCK] = run_activate_unlock,
};

static int activate(run *r, ptask *t, const fd_node *n, fherr *err) {
  activate_fn fn = ACTIVATE[n->kind];
  if (!fn) return fherr_set(err, FH_INTERNAL, "node '%s' (%s) is not automatic", n->name, node_kind_name(n->kind));
  int rc = fn(r, t, n, err);
  /* which step failed, for the plain message end users get (engine_admin.c) */
  if (rc == FH_FLOW_ERROR && err && !err->fields) err->fields = json_pack("{s:s}", "node", n->name);
  return rc;
}

/* --- the queue and the error policy ------------------------------------------------ */

void run_mark_error(ptask *t, const fherr *cause) {
  t->row.status = TASK_ERROR;
  free(t->row.error_message);
  free(t->row.error_traceback);
  t->row.error_message = strdup(cause->message);
  t->row.error_traceback = cause->traceback ? strdup(cause->traceback) : NULL;
  t->row.lease_until[0] = '\0';
  t->dirty = 1;
}

/* Too many steps after a job: the tasks still waiting are saved as ERROR
 * (failing the whole run would leave the job claimed, to run again when its
 * lease ends). */
static int too_many_steps(run *r, fherr *err) {
  fherr cause = {0};
  fherr_set(&cause, FH_FLOW_ERROR, "more than %d automatic steps in one action: is there a loop without a human task?",
            MAX_STEPS);
  if (!r->job_mode) return fherr_set(err, FH_FLOW_ERROR, "%s", cause.message);
  while (r->qhead < r->qlen) {
    ptask *t = pstate_task(&r->ps, r->queue[r->qhead++]);
    if (t) run_mark_error(t, &cause);
  }
  return FH_OK;
}

/* After a job, a node that fails is undone alone: the state goes back to
 * before it, and its task is marked ERROR. */
static int activate_guarded(run *r, ptask *t, const fd_node *n, fherr *err) {
  pstate_mark saved;
  int rc = pstate_checkpoint(&r->ps, &saved, err);
  if (rc) return rc;
  int qlen = r->qlen;
  size_t ncreated = json_array_size(r->created);
  json_t *data_before = json_deep_copy(r->data);
  int64_t id = t->row.id;
  fherr cause = {0};
  rc = activate(r, t, n, &cause);
  if (rc == FH_FLOW_ERROR) {
    pstate_rollback(&r->ps, &saved);
    r->qlen = qlen;
    while (json_array_size(r->created) > ncreated) json_array_remove(r->created, json_array_size(r->created) - 1);
    json_decref(r->data);
    r->data = data_before;
    run_mark_error(pstate_task(&r->ps, id), &cause);
    /* as a failed human action is logged by the HTTP layer (issue 14) */
    fhlog(FHLOG_ERROR, "process %lld: %s (task %lld) failed after a job and is in ERROR: %s | %s",
          (long long)r->ps.proc.id, n->name, (long long)id, cause.message, cause.traceback ? cause.traceback : "");
    fherr_clear(&cause);
    return FH_OK;
  }
  pstate_mark_free(&saved);
  json_decref(data_before);
  if (rc) {
    fherr_set(err, cause.code, "%s", cause.message);
    fherr_clear(&cause);
  }
  return rc;
}

/* Activates queued tasks until none is left. */
static int run_queue(run *r, fherr *err) {
  while (r->qhead < r->qlen) {
    if (++r->steps > MAX_STEPS) return too_many_steps(r, err);
    ptask *t = pstate_task(&r->ps, r->queue[r->qhead++]);
    if (!t) continue;
    const fd_node *n = r->fd ? flowdef_node(r->fd, node_part(t->row.flow_task)) : NULL;
    if (!n) {
      fherr cause = {0};
      fherr_set(&cause, FH_FLOW_ERROR, "node '%s' no longer exists in flow '%s'", node_part(t->row.flow_task),
                r->ps.proc.flow);
      if (!r->job_mode) return fherr_set(err, FH_FLOW_ERROR, "%s", cause.message);
      run_mark_error(t, &cause);
      continue;
    }
    int rc = r->job_mode ? activate_guarded(r, t, n, err) : activate(r, t, n, err);
    if (rc) return rc;
  }
  return FH_OK;
}

int run_finish(run *r, fherr *err) {
  for (;;) {
    int rc = run_queue(r, err), changed = 0, grouped = 0;
    if (!rc) rc = run_settle_events(r, &changed, err);
    if (!rc) rc = run_settle_groups(r, &grouped, err);
    changed += grouped;
    if (rc) return rc;
    if (!changed && r->qhead == r->qlen) break;
  }
  st_process *p = &r->ps.proc;
  if (proc_status_is_running(p->status) && pstate_count_active(&r->ps, NULL, 0) == 0 &&
      pstate_has_done_type(&r->ps, "end")) {
    p->status = PROC_DONE;
    fhtime_now(p->finished_at);
  }
  return FH_OK;
}

int run_write(run *r, fherr *err) {
  r->ps.lean = r->fd && r->fd->history_lean ? r->fd : NULL;
  if (r->child) r->child->ps.lean = r->child->fd && r->child->fd->history_lean ? r->child->fd : NULL;
  return pstate_write(r->e, &r->ps, r->data, r->child ? &r->child->ps : NULL, r->child ? r->child->data : NULL, err);
}

json_t *run_result(run *r) {
  json_t *tasks = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(r->created, i, v) {
    ptask *t = pstate_task(&r->ps, json_integer_value(v));
    if (t && !t->unwritten) json_array_append_new(tasks, view_task_json(r->e, &t->row));   /* only what is kept */
  }
  return json_pack("{s:o, s:o}", "process", view_process_json_with(r->e, &r->ps.proc, r->data), "tasks",
                   tasks);
}
