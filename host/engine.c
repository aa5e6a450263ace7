/* engine — opening an engine, its flows and actors, and the public actions
 * with their bracket: lock the process (this host), load it into memory,
 * let the rules and the run compute the whole effect (every callback
 * included) with no transaction open, then write it in one short
 * transaction that checks the process did not change since it was read.
 * When it did (another program wrote it), the action starts over.
 *
 * May call: engine_rules, engine_run, engine_state, engine_lock, engine_view
 * (results), flowreg, luavm (the state's life cycle), store (reads of users
 * and visibility, the rename migration).
 */
#include "engine_internal.h"

#include <stdio.h>

#include "engine_versions.h"
#include "fhtime.h"
#include "identity_cache.h"
#include "metrics.h"


/* A job's lease outlasts its time budget by this much unless configured. */
#define LEASE_GRACE 30.0

store *engine_store(engine *e) { return e->st; }   /* for identity.c */
flowreg *engine_flows(engine *e) { return e->reg; }

/* Makes the vm match the registry's current generation.  The vm loads a
 * flow the first time the engine uses it (load_on_use): a host serving
 * many flows holds in each worker only the ones that worker ran, answered
 * lists of or started (a flow in a state costs ~30 KiB: the 56 flows of
 * flows/ in each of 4 workers were 10 of the 26 MiB a host held under the
 * HTTP benchmark, bench/README.md section 45).  A
 * flow whose text changed is dropped and loads again on its next use
 * (each flow runs in its own _ENV, so they do not see each other); when
 * lib/ modules are involved the state is built afresh and the old one
 * closed. */
static int sync_to(engine *e, flowgen *gen, fherr *err);

static int load_on_use(void *ctx, luavm *vm, const char *flow) {
  engine *e = ctx;
  return flowgen_load_one(e->gen, vm, flowreg_dir(e->reg), flow);
}

int engine_sync_flows(engine *e, fherr *err) {
  flowgen *gen = flowreg_acquire(e->reg);
  if (!gen) return fherr_set(err, FH_INTERNAL, "no flows loaded");
  if (e->gen && e->vm && e->gen->number == gen->number) {
    flowgen_release(e->reg, gen);
    return FH_OK;
  }
  /* a request's snapshot (engine_read_begin) ends first: the versions
   * noted are written and read back, which an older snapshot would not
   * show; it begins anew after */
  if (e->reading) store_read_end(e->st, 1);
  int rc = sync_to(e, gen, err);
  int began = 0;
  if (e->reading && (store_read_begin(e->st, &began, NULL) || !began)) e->reading = 0;
  return rc;
}

int engine_read_begin(engine *e, int *began, fherr *err) {
  int rc = store_read_begin(e->st, began, err);
  if (!rc && *began) e->reading = 1;
  return rc;
}

void engine_read_end(engine *e, int began) {
  if (!began) return;
  e->reading = 0;
  store_read_end(e->st, began);
}

/* Loads generation gen (acquired) into e, in place where it can. */
static int sync_to(engine *e, flowgen *gen, fherr *err) {
  int done = 0;
  if (e->gen && e->vm) flowgen_update_into(e->gen, gen, e->vm, &done);
  if (done) {
    flowgen_release(e->reg, e->gen);
    e->gen = gen;
    engine_versions_note(e);   /* the versions new processes start on */
    engine_pins_preload(e);
    data_sync_search(e);
    return FH_OK;
  }
  luavm_options opt = {.lua_dir = flowreg_lua_dir(e->reg), .flows_dir = flowreg_dir(e->reg),
                       .budget_seconds = e->budget, .lua_unsafe = flowreg_lua_unsafe(e->reg)};
  luavm *vm = luavm_new(&opt, err);
  if (!vm) {
    flowgen_release(e->reg, gen);
    return FH_INTERNAL;
  }
  luavm_set_flow_loader(vm, load_on_use, e);
  engine_pins_reset(e);   /* they were loaded in the old state */
  luavm_free(e->vm);
  flowgen_release(e->reg, e->gen);
  e->vm = vm;
  e->gen = gen;
  engine_versions_note(e);
  engine_pins_preload(e);
  data_sync_search(e);
  return FH_OK;
}

const flowdef *engine_find_def(engine *e, const char *flow) {
  const flow_entry *fe = flowgen_find(e->gen, flow);
  return fe ? fe->def : NULL;
}

/* --- actors ------------------------------------------------------------ */

void fh_actor_system(fh_actor *a) {
  memset(a, 0, sizeof *a);
  a->is_system = 1;
  a->is_admin = 1;
  a->is_active = 1;
  snprintf(a->username, sizeof a->username, "%s", "system");
}

void fh_actor_free(fh_actor *a) {
  if (!a) return;
  json_decref(a->perms);
  json_decref(a->groups);
  a->perms = a->groups = NULL;
}

int fh_actor_has_perm(const fh_actor *a, const char *perm) {
  return a->is_admin || a->is_system || (a->perms && json_object_get(a->perms, perm));
}

int engine_is_manager(const fh_actor *a, const char *flow) {
  char perm[128];
  snprintf(perm, sizeof perm, "%s.manage", flow);
  return fh_actor_has_perm(a, perm);
}

json_t *fh_actor_to_json(const fh_actor *a) {
  json_t *perms = json_array();
  const char *k;
  json_t *v;
  if (a->perms) json_object_foreach(a->perms, k, v) json_array_append_new(perms, json_string(k));
  /* "o": a new empty array for an actor without groups is not referenced twice (leaked) */
  return json_pack("{s:s, s:b, s:o, s:o}", "username", a->username, "is_admin", a->is_admin, "groups",
                   a->groups ? json_incref(a->groups) : json_array(), "permissions", perms);
}

/* --- open / close -------------------------------------------------------- */

void engine_library_init(void) { store_library_init(); }

int engine_open(const engine_options *opt, engine **out, fherr *err) {
  *out = NULL;
  engine *e = calloc(1, sizeof *e);
  if (!e) return fherr_set(err, FH_INTERNAL, "out of memory");
  e->reg = opt->flows;
  e->budget = opt->budget_seconds > 0 ? opt->budget_seconds : 5.0;
  e->lease_grace = opt->lease_grace > 0 ? opt->lease_grace : LEASE_GRACE;
  e->message_ttl = opt->message_ttl > 0 ? opt->message_ttl : 86400;
  e->defer_indexing = opt->defer_indexing;
  snprintf(e->worker, sizeof e->worker, "%s", opt->worker_name ? opt->worker_name : "engine");
  store_options so = {.synchronous_full = opt->synchronous_full, .busy_timeout_ms = 5000};
  int rc = store_open(opt->db_path, &so, &e->st, err);
  if (rc) {
    free(e);
    return rc;
  }
  if (opt->db_path && !store_path_is_private(opt->db_path)) e->db_key = strdup(opt->db_path);
  e->idc = opt->identity_cache;
  e->uses = opt->token_uses;
  *out = e;
  return FH_OK;
}

void engine_identity_changed(engine *e) { identity_cache_forget_db(e->db_key); }

void engine_close(engine *e) {
  if (!e) return;
  engine_pins_reset(e);
  summary_cache_free(e);
  view_assignable_free(e);
  luavm_free(e->vm);
  if (e->gen) flowgen_release(e->reg, e->gen);
  store_close(e->st);
  free(e->db_key);
  free(e);
}


/* --- visibility -------------------------------------------------------------- */

int engine_sees_unasked(engine *e, const fh_actor *a, const st_process *p) {
  if (a->is_admin || a->is_system || engine_is_manager(a, p->flow)) return 1;
  /* whoever started it took part: its participant row was written with the
   * process, so the answer is known without asking */
  if (a->id > 0 && p->created_by == a->id) {
    store_participant_known(e->st, p->id, a->id);
    return 1;
  }
  return 0;
}

int engine_took_part(engine *e, const fh_actor *a, const st_process *p, fherr *err) {
  int yes = 0;
  if (store_process_involves(e->st, p->id, a->id, &yes, err)) return -1;
  return yes;
}

int engine_can_see_process(engine *e, const fh_actor *a, const st_process *p, fherr *err) {
  return engine_sees_unasked(e, a, p) ? 1 : engine_took_part(e, a, p, err);
}

static int action_of(const char *name) {
  for (int i = 0; i < A__COUNT; i++)
    if (!strcmp(ENGINE_ACTIONS[i], name)) return i;
  return -1;
}

/* --- the bracket ------------------------------------------------------------------- */

/* Runs body on process pid under the process lock, then writes its effect.
 * On FH_STALE (another program wrote the process meanwhile) it starts over
 * from a fresh read, callbacks and all.  r is left for the caller to read
 * the result from and to free, whatever the outcome.  held: -1, or the
 * locks are held already (engine_hold_task_process) and it is their
 * shared flag; they are released all the same. */
static int act_on(engine *e, const fh_actor *a, int64_t pid, int held, action_body body, void *arg, run *r,
                  fherr *err) {
  memset(r, 0, sizeof *r);
  for (int attempt = 1;; attempt++) {
    int shared = held;
    int rc = engine_sync_flows(e, err);
    if (rc) {
      if (held >= 0) engine_release_process(e, pid, &shared);
      return rc;
    }
    if (held >= 0) held = -1;   /* a second attempt takes them again */
    else if ((rc = engine_hold_process(e, pid, &shared, err))) return rc;
    rc = run_init(r, e, a, pid, err);
    if (!rc) engine_hold_as_flow_says(e, r, pid, &shared);
    if (!rc) rc = body(r, arg, err);
    if (!rc) {
      store_unlock_at_commit(e->st, pid, &shared);   /* the write's COMMIT lets go of the database's lock */
      rc = run_write(r, err);
      store_unlock_at_commit(e->st, 0, NULL);
    }
    engine_release_process(e, pid, &shared);
    if (!rc) engine_after_write(e, r);
    if (rc != FH_STALE || attempt == ENGINE_MAX_TRIES) return rc;
    metrics_action_restarted();
    run_free(r);
    fherr_clear(err);
  }
}

int engine_act_on_process(engine *e, const fh_actor *a, int64_t pid, action_body body, void *arg, run *r,
                          fherr *err) {
  return act_on(e, a, pid, -1, body, arg, r, err);
}

/* --- starting -------------------------------------------------------------------------- */

static const fd_node *start_node(const flowdef *fd, const char *node) {
  if (node) {
    const fd_node *n = flowdef_node(fd, node);
    return n && (n->kind == NODE_START || n->kind == NODE_START_FUNCTION) ? n : NULL;
  }
  for (int i = 0; i < fd->nnodes; i++)
    if (fd->nodes[i].kind == NODE_START || fd->nodes[i].kind == NODE_START_FUNCTION) return &fd->nodes[i];
  return NULL;
}

/* Who may start: a start form by its permission, a start function only by a
 * manager (it is started from code). */
static int may_start(run *r, const fd_node *n, fherr *err) {
  const char *flow = r->fd->name;
  if (n->kind == NODE_START)
    return rules_may_do_node(r, n, NULL) ? FH_OK : fherr_set(err, FH_FORBIDDEN, "you may not start '%s'", flow);
  if (!engine_is_manager(r->actor, flow))
    return fherr_set(err, FH_FORBIDDEN, "only a manager of '%s' may start it from code", flow);
  return FH_OK;
}

/* The start task, owned by who started (a person), and what follows it. */
static int start_body(run *r, const fd_node *n, const json_t *input, fherr *err) {
  const fh_actor *a = r->actor;
  int rc = store_next_id(r->e->st, STORE_ID_PROCESS, &r->ps.proc.id, err);
  if (rc) return rc;
  st_task row = {0};
  join_names(row.flow_task, sizeof row.flow_task, r->fd->name, n->name);
  copy_text(row.type, sizeof row.type, node_kind_name(n->kind));
  row.status = TASK_NEW;
  copy_text(row.token, sizeof row.token, "start");
  fhtime_now(row.created_at);
  if (!a->is_system) {
    row.owner_id = a->id;
    snprintf(row.owner_name, sizeof row.owner_name, "%s", a->username);
    snprintf(row.assigned_at, sizeof row.assigned_at, "%s", row.created_at);
  }
  ptask *t = NULL;
  if ((rc = pstate_add_task(r->e, &r->ps, &row, &t, err))) return rc;
  json_array_append_new(r->created, json_integer(t->row.id));
  data_credit(r, t);   /* the audit of the start's data */
  if (n->kind == NODE_START_FUNCTION && n->has_fn && (rc = run_invoke(r, t, n, "fn", input, err))) return rc;
  r->ps.proc.status = PROC_STARTED;
  run_complete_task(t);
  if ((rc = run_follow_next(r, t, n, err))) return rc;
  return run_finish(r, err);
}

/* The cleaned start data: the form's fields, or for a start function without
 * a callback the flow's own fields found in data. */
static int start_input(run *r, const fd_node *n, const json_t *input, fherr *err) {
  json_t *clean = NULL;
  int rc = FH_OK;
  if (n->kind == NODE_START) rc = run_clean_form(r, n, input, &clean, err);
  else if (!n->has_fn) rc = run_clean_known(r, input, &clean, err);
  if (!rc && clean) run_merge_into(r->data, clean);
  json_decref(clean);
  return rc;
}

int run_start(run *r, const fd_node *n, const json_t *input, fherr *err) {
  int rc = start_input(r, n, input, err);
  return rc ? rc : start_body(r, n, input, err);
}

static int start_once(engine *e, const fh_actor *a, const flowdef *fd, const fd_node *n, const json_t *input,
                      json_t **out, fherr *err) {
  run r;
  run_init_new(&r, e, a, fd);
  int rc = may_start(&r, n, err);
  if (!rc) rc = start_input(&r, n, input, err);
  if (!rc) rc = start_body(&r, n, input, err);
  if (!rc) rc = run_write(&r, err);
  if (!rc) engine_after_write(e, &r);
  if (!rc && out) *out = run_result(&r);   /* a caller that discards the view does not pay for it */
  run_free(&r);
  return rc;
}

static int start_unmetered(engine *e, const fh_actor *a, const char *flow, const char *node, json_t *data,
                           json_t **out, fherr *err) {
  if (out) *out = NULL;
  if (data && !json_is_object(data) && !json_is_null(data))
    return fherr_set(err, FH_BAD_REQUEST, "\"data\" must be an object");
  json_t *empty = json_object();
  const json_t *input = data && json_is_object(data) ? data : empty;
  int rc;
  /* A new process is seen by nobody else, so it needs no lock; FH_STALE
   * here means its ids were taken by another program meanwhile. */
  for (int attempt = 1;; attempt++) {
    if ((rc = engine_sync_flows(e, err))) break;
    const flow_entry *fe = flowgen_find(e->gen, flow);
    if (!fe) {
      rc = fherr_set(err, FH_NOT_FOUND, "unknown flow '%s'", flow);
      break;
    }
    if (!fe->def) {
      rc = fherr_set(err, FH_CONFLICT, "flow '%s' failed to load: %s", flow, fe->error_message);
      break;
    }
    const fd_node *n = start_node(fe->def, node);
    if (!n) {
      rc = fherr_set(err, FH_NOT_FOUND, "flow '%s' has no start node '%s'", flow, node ? node : "");
      break;
    }
    rc = start_once(e, a, fe->def, n, input, out, err);
    if (rc != FH_STALE || attempt == ENGINE_MAX_TRIES) break;
    fherr_clear(err);
  }
  json_decref(empty);
  return rc;
}

/* metrics.h keeps one action kind per task action, in ENGINE_ACTIONS order. */
_Static_assert(METRICS_ACTION_PROCESS_CANCEL - METRICS_ACTION_TASK == A__COUNT, "metrics.h: one kind per task action");

int engine_start(engine *e, const fh_actor *a, const char *flow, const char *node, json_t *data, json_t **out,
                 fherr *err) {
  double started = fhtime_monotonic();
  int rc = start_unmetered(e, a, flow, node, data, out, err);
  metrics_action_done(METRICS_ACTION_START, rc, started);
  return rc;
}

/* --- task actions ------------------------------------------------------------------------ */

typedef struct task_action {
  int64_t task_id;
  int action;
  const json_t *args;
} task_action;

static int task_action_body(run *r, void *arg, fherr *err) {
  const task_action *ta = arg;
  ptask *t = pstate_task(&r->ps, ta->task_id);
  if (!t) return fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)ta->task_id);
  const fd_node *n = r->fd ? flowdef_node(r->fd, node_part(t->row.flow_task)) : NULL;
  int rc = rules_may_see_task(r, t, n, err);
  if (!rc) rc = rules_check(r, t, n, ta->action, err);
  if (!rc) rc = rules_apply(r, t, n, ta->action, ta->args, err);
  return rc ? rc : run_finish(r, err);
}

static int task_action_unmetered(engine *e, const fh_actor *a, int64_t task_id, task_action ta, json_t *args,
                                 json_t **out, fherr *err) {
  if (args && !json_is_object(args)) return fherr_set(err, FH_BAD_REQUEST, "the body must be a JSON object");
  int64_t pid = 0;
  int shared = 0;
  /* an execute usually makes the next tasks: their ids come with the lock */
  int rc = engine_hold_task_process(e, task_id, ta.action == A_EXECUTE, &pid, &shared, err);
  if (rc) return rc;
  run r;
  rc = act_on(e, a, pid, shared, task_action_body, &ta, &r, err);
  if (!rc) {
    *out = run_result(&r);
    ptask *t = pstate_task(&r.ps, task_id);
    if (t) json_object_set_new(*out, "task", view_task_json(e, &t->row));
  }
  run_free(&r);
  return rc;
}

int engine_task_action(engine *e, const fh_actor *a, int64_t task_id, const char *action, json_t *args,
                       json_t **out, fherr *err) {
  double started = fhtime_monotonic();
  *out = NULL;
  task_action ta = {.task_id = task_id, .action = action_of(action), .args = args};
  if (ta.action < 0) return fherr_set(err, FH_NOT_FOUND, "unknown action '%s'", action);
  int rc = task_action_unmetered(e, a, task_id, ta, args, out, err);
  metrics_action_done(METRICS_ACTION_TASK + ta.action, rc, started);
  return rc;
}

/* --- canceling a process ----------------------------------------------------------------- */

static int cancel_body(run *r, void *arg, fherr *err) {
  (void)arg;
  st_process *p = &r->ps.proc;
  int visible = engine_can_see_process(r->e, r->actor, p, err);
  if (visible < 0) return FH_INTERNAL;
  if (!visible) return fherr_set(err, FH_NOT_FOUND, "process %lld not found", (long long)p->id);
  if (!engine_is_manager(r->actor, p->flow))
    return fherr_set(err, FH_FORBIDDEN, "cannot cancel the process: only a manager may");
  if (!proc_status_is_running(p->status))
    return fherr_set(err, FH_CONFLICT, "cannot cancel: the process is %s", proc_status_name(p->status));
  char now[FH_TIME_LEN];
  fhtime_now(now);
  if (pstate_need_members(&r->ps)) return fherr_set(err, r->ps.more_err.code, "%s", r->ps.more_err.message);
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (!task_status_is_active(t->row.status)) continue;
    t->row.status = TASK_CANCELED;
    copy_text(t->row.finished_at, sizeof t->row.finished_at, now);
    t->row.lease_until[0] = '\0';
    t->dirty = 1;
  }
  p->status = PROC_CANCELED;
  copy_text(p->finished_at, sizeof p->finished_at, now);
  return FH_OK;
}

int engine_process_cancel(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err) {
  *out = NULL;
  double started = fhtime_monotonic();
  run r;
  int rc = engine_act_on_process(e, a, process_id, cancel_body, NULL, &r, err);
  if (!rc) *out = view_process_json(e, &r.ps.proc);
  run_free(&r);
  metrics_action_done(METRICS_ACTION_PROCESS_CANCEL, rc, started);
  return rc;
}

/* --- migration ----------------------------------------------------------------------------- */

int engine_rename_node(engine *e, const char *flow, const char *from, const char *to, int64_t *changed, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  const flowdef *fd = engine_find_def(e, flow);
  if (!fd) return fherr_set(err, FH_NOT_FOUND, "unknown flow '%s' (or it failed to load)", flow);
  if (!flowdef_node(fd, to))
    return fherr_set(err, FH_CONFLICT, "node '%s' does not exist in the current definition of '%s'", to, flow);
  if (flowdef_node(fd, from) && flowdef_node(fd, from)->kind != NODE_OBSOLETE)
    return fherr_set(err, FH_CONFLICT, "node '%s' still exists in '%s'; remove or rename it in the file first", from, flow);
  char a[160], b[160];
  snprintf(a, sizeof a, "%s.%s", flow, from);
  snprintf(b, sizeof b, "%s.%s", flow, to);
  return store_rename_flow_task(e->st, a, b, changed, err);
}
