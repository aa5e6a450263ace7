#include "engine_internal.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>

#include "fhtime.h"

/* A job's lease outlasts its time budget by this much unless configured. */
#define LEASE_GRACE 30.0

const char *const ENGINE_ACTIONS[A__COUNT] = {"assign", "unassign", "reassign", "execute", "cancel", "undo", "revive"};

store *engine_store(engine *e) { return e->st; }
flowreg *engine_flows(engine *e) { return e->reg; }

/* Makes the vm match the registry's current generation.  Only flows whose
 * text changed are loaded again (each flow runs in its own _ENV, so they do
 * not see each other); when lib/ modules are involved, or the state is new,
 * the whole state is built afresh and the old one closed. */
int engine_sync_flows(engine *e, fherr *err) {
  flowgen *gen = flowreg_acquire(e->reg);
  if (!gen) return fherr_set(err, FH_INTERNAL, "no flows loaded");
  if (e->gen && e->vm && e->gen->number == gen->number) {
    flowgen_release(e->reg, gen);
    return FH_OK;
  }
  int done = 0;
  if (e->gen && e->vm) flowgen_update_into(e->gen, gen, e->vm, &done);
  if (done) {
    flowgen_release(e->reg, e->gen);
    e->gen = gen;
    return FH_OK;
  }
  luavm_options opt = {.lua_dir = flowreg_lua_dir(e->reg), .flows_dir = flowreg_dir(e->reg),
                       .budget_seconds = e->budget};
  luavm *vm = luavm_new(&opt, err);
  if (!vm) {
    flowgen_release(e->reg, gen);
    return FH_INTERNAL;
  }
  flowgen_load_into(gen, vm, flowreg_dir(e->reg), err);
  luavm_free(e->vm);
  flowgen_release(e->reg, e->gen);
  e->vm = vm;
  e->gen = gen;
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

static int actor_from_user(engine *e, st_user *u, fh_actor *out, fherr *err) {
  memset(out, 0, sizeof *out);
  out->id = u->id;
  snprintf(out->username, sizeof out->username, "%s", u->username);
  out->is_admin = u->is_admin;
  out->is_active = u->is_active;
  return store_user_perms(e->st, u->id, &out->perms, &out->groups, err);
}

int engine_actor(engine *e, const char *username, fh_actor *out, fherr *err) {
  st_user u;
  int rc = store_user_get(e->st, username, &u, err);
  if (rc) return rc;
  rc = actor_from_user(e, &u, out, err);
  st_user_free(&u);
  return rc;
}

int engine_actor_by_id(engine *e, int64_t id, fh_actor *out, fherr *err) {
  st_user u;
  int rc = store_user_get_by_id(e->st, id, &u, err);
  if (rc) return rc;
  rc = actor_from_user(e, &u, out, err);
  st_user_free(&u);
  return rc;
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
  return json_pack("{s:s, s:b, s:O, s:o}", "username", a->username, "is_admin", a->is_admin, "groups",
                   a->groups ? a->groups : json_array(), "permissions", perms);
}

void engine_push_user(lua_State *L, const fh_actor *a) {
  json_t *u = fh_actor_to_json(a);
  luavm_push_json(L, u);
  json_decref(u);
}

/* --- open / close -------------------------------------------------------- */

int engine_open(const engine_options *opt, engine **out, fherr *err) {
  *out = NULL;
  engine *e = calloc(1, sizeof *e);
  if (!e) return fherr_set(err, FH_INTERNAL, "out of memory");
  e->reg = opt->flows;
  e->budget = opt->budget_seconds > 0 ? opt->budget_seconds : 5.0;
  e->lease_grace = opt->lease_grace > 0 ? opt->lease_grace : LEASE_GRACE;
  snprintf(e->worker, sizeof e->worker, "%s", opt->worker_name ? opt->worker_name : "engine");
  store_options so = {.synchronous_full = opt->synchronous_full, .busy_timeout_ms = 5000};
  int rc = store_open(opt->db_path, &so, &e->st, err);
  if (rc) {
    free(e);
    return rc;
  }
  *out = e;
  return FH_OK;
}

void engine_close(engine *e) {
  if (!e) return;
  luavm_free(e->vm);
  if (e->gen) flowgen_release(e->reg, e->gen);
  store_close(e->st);
  free(e);
}

/* --- visibility and the transition rules ------------------------------- */

int engine_can_see_process(engine *e, const fh_actor *a, const st_process *p, fherr *err) {
  if (a->is_admin || a->is_system || engine_is_manager(a, p->flow)) return 1;
  int yes = 0;
  if (store_process_involves(e->st, p->id, a->id, &yes, err)) return -1;
  return yes;
}


static int action_of(const char *name) {
  for (int i = 0; i < A__COUNT; i++)
    if (!strcmp(ENGINE_ACTIONS[i], name)) return i;
  return -1;
}

/* Whether actor may do `action` on t now: FH_OK, or FH_FORBIDDEN / FH_CONFLICT
 * with the reason.  n is NULL for a task whose node left the flow. */
int engine_check_action(run *r, st_task *t, const fd_node *n, int action, fherr *err) {
  const fh_actor *a = r->actor;
  const char *st = t->status;
  const char *kind = n ? node_kind_name(n->kind) : "obsolete";
  int manager = engine_is_manager(a, r->proc.flow);
  int owner = a->id && t->owner_id == a->id;
  if (strcmp(r->proc.status, "NEW") && strcmp(r->proc.status, "STARTED"))
    return fherr_set(err, FH_CONFLICT, "cannot %s: the process is %s", ENGINE_ACTIONS[action], r->proc.status);
  if ((!n || n->kind == NODE_OBSOLETE) && action != A_CANCEL)
    return fherr_set(err, FH_CONFLICT, "cannot %s: node '%s' is obsolete; a manager can only cancel it", ENGINE_ACTIONS[action],
                     node_part(t->flow_task));
  switch (action) {
  case A_ASSIGN:
    if (n->kind != NODE_VIEW) return fherr_set(err, FH_CONFLICT, "cannot assign: a %s task is not done by people", kind);
    if (a->is_system) return fherr_set(err, FH_FORBIDDEN, "cannot assign: a task needs a user to own it (--as USER)");
    if (!run_may_do_node(r, n, t, NULL)) return fherr_set(err, FH_FORBIDDEN, "cannot assign: you lack the permission for '%s'", n->name);
    if (strcmp(st, "NEW")) return fherr_set(err, FH_CONFLICT, "cannot assign: task is %s", st);
    return FH_OK;
  case A_UNASSIGN:
    if (n->kind != NODE_VIEW) return fherr_set(err, FH_CONFLICT, "cannot unassign: a %s task has no owner", kind);
    if (strcmp(st, "ASSIGNED")) return fherr_set(err, FH_CONFLICT, "cannot unassign: task is %s", st);
    if (!owner && !manager) return fherr_set(err, FH_FORBIDDEN, "cannot unassign: only the owner or a manager may");
    return FH_OK;
  case A_REASSIGN:
    if (n->kind != NODE_VIEW) return fherr_set(err, FH_CONFLICT, "cannot reassign: a %s task has no owner", kind);
    if (!manager) return fherr_set(err, FH_FORBIDDEN, "cannot reassign: only a manager may");
    if (strcmp(st, "ASSIGNED")) return fherr_set(err, FH_CONFLICT, "cannot reassign: task is %s", st);
    return FH_OK;
  case A_EXECUTE:
    if (n->kind == NODE_VIEW) {
      if (!strcmp(st, "NEW")) return fherr_set(err, FH_CONFLICT, "cannot execute: task is NEW, assign it first");
      if (strcmp(st, "ASSIGNED")) return fherr_set(err, FH_CONFLICT, "cannot execute: task is %s", st);
      if (!owner) return fherr_set(err, FH_FORBIDDEN, "cannot execute: only the owner (%s) may", t->owner_name);
      return FH_OK;
    }
    if (n->kind == NODE_FUNCTION) {
      if (!manager) return fherr_set(err, FH_FORBIDDEN, "cannot execute: only a manager may trigger a function task");
      if (strcmp(st, "NEW")) return fherr_set(err, FH_CONFLICT, "cannot execute: task is %s", st);
      return FH_OK;
    }
    return fherr_set(err, FH_CONFLICT, "cannot execute: a %s task runs by itself", kind);
  case A_CANCEL:
    if (!manager) return fherr_set(err, FH_FORBIDDEN, "cannot cancel: only a manager may");
    if (strcmp(st, "NEW") && strcmp(st, "ASSIGNED") && strcmp(st, "SCHEDULED") && strcmp(st, "ERROR"))
      return fherr_set(err, FH_CONFLICT, "cannot cancel: task is %s", st);
    return FH_OK;
  case A_UNDO: {
    if (!manager) return fherr_set(err, FH_FORBIDDEN, "cannot undo: only a manager may");
    if (strcmp(st, "DONE")) return fherr_set(err, FH_CONFLICT, "cannot undo: task is %s", st);
    if (n->kind == NODE_START || n->kind == NODE_START_FUNCTION)
      return fherr_set(err, FH_CONFLICT, "cannot undo the start of a process; cancel the process instead");
    json_t *next = NULL;
    int rc = store_task_next_statuses(r->e->st, t->id, &next, err);
    if (rc) return rc;
    size_t i;
    json_t *v;
    int blocked = 0;
    json_array_foreach(next, i, v) blocked |= strcmp(json_string_value(v), "CANCELED") != 0;
    json_decref(next);
    if (blocked) return fherr_set(err, FH_CONFLICT, "cannot undo: the tasks after it must be canceled first");
    return FH_OK;
  }
  case A_REVIVE:
    if (!manager) return fherr_set(err, FH_FORBIDDEN, "cannot revive: only a manager may");
    if (strcmp(st, "ERROR") && strcmp(st, "CANCELED")) return fherr_set(err, FH_CONFLICT, "cannot revive: task is %s", st);
    if (n->kind == NODE_START || n->kind == NODE_START_FUNCTION || n->kind == NODE_JOIN)
      return fherr_set(err, FH_CONFLICT, "cannot revive a %s task", kind);
    return FH_OK;
  }
  return fherr_set(err, FH_BAD_REQUEST, "unknown action");
}

/* A canceled branch may be the last one a join waits for. */
static int recheck_joins(run *r, fherr *err) {
  json_t *ids = NULL;
  int rc = store_task_waiting_joins(r->e->st, r->proc.id, &ids, err);
  if (rc) return rc;
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) if ((rc = run_enqueue(r, json_integer_value(v), err))) break;
  json_decref(ids);
  return rc;
}

int engine_apply_action(run *r, st_task *t, const fd_node *n, int action, json_t *args, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  int rc;
  switch (action) {
  case A_ASSIGN:
    t->owner_id = r->actor->id;
    snprintf(t->owner_name, sizeof t->owner_name, "%s", r->actor->username);
    snprintf(t->status, sizeof t->status, "ASSIGNED");
    snprintf(t->assigned_at, sizeof t->assigned_at, "%s", now);
    return store_task_update(r->e->st, t, err);
  case A_UNASSIGN:
    t->owner_id = 0;
    t->owner_name[0] = '\0';
    t->assigned_at[0] = '\0';
    snprintf(t->status, sizeof t->status, "NEW");
    return store_task_update(r->e->st, t, err);
  case A_REASSIGN: {
    json_t *user = args ? json_object_get(args, "user") : NULL;
    if (!json_is_string(user)) return fherr_set(err, FH_BAD_REQUEST, "reassign needs {\"user\": \"name\"}");
    fh_actor target;
    fherr uerr = {0};
    if (engine_actor(r->e, json_string_value(user), &target, &uerr)) {
      fherr_clear(&uerr);
      fherr_set(err, FH_INVALID, "unknown user");
      err->fields = json_pack("{s:s}", "user", "No such user.");
      return FH_INVALID;
    }
    const fh_actor *me = r->actor;
    r->actor = &target;
    int allowed = run_may_do_node(r, n, t, NULL);
    r->actor = me;
    if (!allowed) {
      fh_actor_free(&target);
      fherr_set(err, FH_INVALID, "%s may not do this task", json_string_value(user));
      err->fields = json_pack("{s:s}", "user", "This user lacks the permission for the task.");
      return FH_INVALID;
    }
    t->owner_id = target.id;
    snprintf(t->owner_name, sizeof t->owner_name, "%s", target.username);
    snprintf(t->assigned_at, sizeof t->assigned_at, "%s", now);
    fh_actor_free(&target);
    return store_task_update(r->e->st, t, err);
  }
  case A_EXECUTE: {
    json_t *data = args ? json_object_get(args, "data") : NULL;
    if (data && !json_is_object(data) && !json_is_null(data))
      return fherr_set(err, FH_BAD_REQUEST, "\"data\" must be an object");
    json_t *empty = json_object();
    if (!data || json_is_null(data)) data = empty;
    if (n->kind == NODE_VIEW) {
      json_t *clean = NULL;
      rc = run_clean_data(r->e, r->proc.flow, n->fields, n->nfields, data, &clean, err);
      if (!rc && n->has_validate) {
        if (!(rc = run_invoke_node(r, t, n, "validate", clean, 1, err))) {
          lua_State *L = luavm_state(r->e->vm);
          if (lua_type(L, -1) == LUA_TTABLE) {
            json_t *fields = NULL;
            luavm_to_json(L, -1, &fields, NULL);
            if (json_is_object(fields) && json_object_size(fields) > 0) {
              fherr_set(err, FH_INVALID, "the form has errors");
              err->fields = fields;
              rc = FH_INVALID;
            } else {
              json_decref(fields);
            }
          }
          lua_pop(L, 1);
        }
      }
      if (!rc) run_merge_form(r->data, clean, data);
      json_decref(clean);
    } else if (n->has_fn) {
      rc = run_invoke_node(r, t, n, "fn", data, 0, err);
    } else {
      json_t *clean = NULL;
      rc = run_clean_known(r->e, r->fd, data, &clean, err);
      if (!rc) run_merge_into(r->data, clean);
      json_decref(clean);
    }
    json_decref(empty);
    if (rc || (rc = run_complete_task(r, t, err))) return rc;
    return run_follow_next(r, t, n, err);
  }
  case A_CANCEL:
    snprintf(t->status, sizeof t->status, "CANCELED");
    snprintf(t->finished_at, sizeof t->finished_at, "%s", now);
    t->lease_until[0] = '\0';
    if ((rc = store_task_update(r->e->st, t, err))) return rc;
    return recheck_joins(r, err);
  case A_UNDO:
    snprintf(t->status, sizeof t->status, "CANCELED");
    snprintf(t->finished_at, sizeof t->finished_at, "%s", now);
    return store_task_update(r->e->st, t, err);
  case A_REVIVE: {
    snprintf(t->status, sizeof t->status, "REVIVED");
    if (!t->finished_at[0]) snprintf(t->finished_at, sizeof t->finished_at, "%s", now);
    t->lease_until[0] = '\0';
    if ((rc = store_task_update(r->e->st, t, err))) return rc;
    return run_create_task(r, n, t->token, t->id, err);
  }
  }
  return fherr_set(err, FH_BAD_REQUEST, "unknown action");
}

/* --- public: acting ------------------------------------------------------- */

int engine_begin(engine *e, fherr *err) {
  int rc = engine_sync_flows(e, err);
  return rc ? rc : store_begin(e->st, err);
}

/* Commits, or rolls back when rc says the action failed. */
int engine_end_txn(engine *e, int rc, fherr *err) {
  if (rc) {
    store_rollback(e->st);
    return rc;
  }
  return store_commit(e->st, err);
}

static json_t *action_result(engine *e, run *r, const st_task *t) {
  st_process p;
  json_t *proc = NULL;
  if (!store_process_get(e->st, r->proc.id, &p, NULL)) {
    proc = view_process_json(e, &p);
    st_process_free(&p);
  }
  json_t *out = json_pack("{s:o, s:o}", "process", proc ? proc : json_null(), "tasks", view_created_tasks(e, r->created));
  if (t) {
    st_task fresh;
    if (!store_task_get(e->st, t->id, &fresh, NULL)) {
      json_object_set_new(out, "task", view_task_json(e, &fresh));
      st_task_free(&fresh);
    }
  }
  return out;
}

int engine_start(engine *e, const fh_actor *a, const char *flow, const char *node, json_t *data, json_t **out,
                 fherr *err) {
  *out = NULL;
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  const flow_entry *fe = flowgen_find(e->gen, flow);
  if (!fe) return fherr_set(err, FH_NOT_FOUND, "unknown flow '%s'", flow);
  if (!fe->def) return fherr_set(err, FH_CONFLICT, "flow '%s' failed to load: %s", flow, fe->error_message);
  const flowdef *fd = fe->def;
  const fd_node *n = NULL;
  if (node) n = flowdef_node(fd, node);
  else
    for (int i = 0; i < fd->nnodes && !n; i++)
      if (fd->nodes[i].kind == NODE_START || fd->nodes[i].kind == NODE_START_FUNCTION) n = &fd->nodes[i];
  if (!n || (n->kind != NODE_START && n->kind != NODE_START_FUNCTION))
    return fherr_set(err, FH_NOT_FOUND, "flow '%s' has no start node '%s'", flow, node ? node : "");
  if (data && !json_is_object(data) && !json_is_null(data))
    return fherr_set(err, FH_BAD_REQUEST, "\"data\" must be an object");

  run r;
  memset(&r, 0, sizeof r);
  r.e = e;
  r.actor = a;
  r.fd = fd;
  r.created = json_array();
  r.data = json_object();
  snprintf(r.proc.flow, sizeof r.proc.flow, "%s", flow);
  snprintf(r.proc.status, sizeof r.proc.status, "NEW");
  if (!a->is_system) snprintf(r.proc.created_by_name, sizeof r.proc.created_by_name, "%s", a->username);
  r.proc.created_by = a->is_system ? 0 : a->id;
  fhtime_now(r.proc.created_at);

  if (n->kind == NODE_START) {
    if (!run_may_do_node(&r, n, NULL, NULL)) {
      run_free(&r);
      return fherr_set(err, FH_FORBIDDEN, "you may not start '%s'", flow);
    }
  } else if (!engine_is_manager(a, flow)) {
    run_free(&r);
    return fherr_set(err, FH_FORBIDDEN, "only a manager of '%s' may start it from code", flow);
  }
  json_t *empty = json_object();
  json_t *input = data && json_is_object(data) ? data : empty;
  json_t *clean = NULL;
  if (n->kind == NODE_START) {
    rc = run_clean_data(e, flow, n->fields, n->nfields, input, &clean, err);
  } else if (!n->has_fn) {
    rc = run_clean_known(e, fd, input, &clean, err);
  }
  if (rc) {
    json_decref(empty);
    run_free(&r);
    return rc;
  }
  if (clean) run_merge_into(r.data, clean);

  if ((rc = store_begin(e->st, err))) goto out;
  if ((rc = store_process_insert(e->st, flow, "NEW", "{}", r.proc.created_by, &r.proc.id, err))) goto out;
  st_task t = {0};
  t.process_id = r.proc.id;
  snprintf(t.flow_task, sizeof t.flow_task, "%s.%s", flow, n->name);
  snprintf(t.type, sizeof t.type, "%s", node_kind_name(n->kind));
  snprintf(t.status, sizeof t.status, "NEW");
  snprintf(t.token, sizeof t.token, "start");
  fhtime_now(t.created_at);
  if (!a->is_system) {
    t.owner_id = a->id;
    snprintf(t.owner_name, sizeof t.owner_name, "%s", a->username);
    snprintf(t.assigned_at, sizeof t.assigned_at, "%s", t.created_at);
  }
  if ((rc = store_task_insert(e->st, &t, err))) goto out;
  json_array_append_new(r.created, json_integer(t.id));
  if (n->kind == NODE_START_FUNCTION && n->has_fn) rc = run_invoke_node(&r, &t, n, "fn", input, 0, err);
  if (!rc) {
    snprintf(r.proc.status, sizeof r.proc.status, "STARTED");
    rc = run_complete_task(&r, &t, err);
  }
  if (!rc) rc = run_follow_next(&r, &t, n, err);
  if (!rc) rc = run_finish(&r, err);
  st_task_free(&t);
out:
  rc = engine_end_txn(e, rc, err);
  if (!rc) *out = action_result(e, &r, NULL);
  json_decref(empty);
  json_decref(clean);
  run_free(&r);
  return rc;
}

int engine_task_action(engine *e, const fh_actor *a, int64_t task_id, const char *action, json_t *args,
                       json_t **out, fherr *err) {
  *out = NULL;
  int act = action_of(action);
  if (act < 0) return fherr_set(err, FH_NOT_FOUND, "unknown action '%s'", action);
  if (args && !json_is_object(args)) return fherr_set(err, FH_BAD_REQUEST, "the body must be a JSON object");
  int rc = engine_begin(e, err);
  if (rc) return rc;
  st_task t = {0};
  run r;
  memset(&r, 0, sizeof r);
  if ((rc = store_task_get(e->st, task_id, &t, err))) goto out;
  if ((rc = run_init(&r, e, a, t.process_id, err))) goto out;
  int visible = engine_can_see_process(e, a, &r.proc, err);
  const fd_node *n = r.fd ? flowdef_node(r.fd, node_part(t.flow_task)) : NULL;
  if (visible < 0) {
    rc = err ? err->code : FH_INTERNAL;
    goto out;
  }
  /* Queue members see the task before taking part in the process. */
  if (!visible && !(n && n->kind == NODE_VIEW && !strcmp(t.status, "NEW") && !a->is_system &&
                    run_may_do_node(&r, n, &t, NULL))) {
    rc = fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
    goto out;
  }
  if ((rc = engine_check_action(&r, &t, n, act, err))) goto out;
  if ((rc = engine_apply_action(&r, &t, n, act, args, err))) goto out;
  rc = run_finish(&r, err);
out:
  rc = engine_end_txn(e, rc, err);
  if (!rc) *out = action_result(e, &r, &t);
  st_task_free(&t);
  run_free(&r);
  return rc;
}

int engine_process_cancel(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err) {
  *out = NULL;
  int rc = engine_begin(e, err);
  if (rc) return rc;
  run r;
  st_task *rows = NULL;
  int n = 0;
  if ((rc = run_init(&r, e, a, process_id, err))) goto out;
  int visible = engine_can_see_process(e, a, &r.proc, err);
  if (visible <= 0) {
    rc = visible < 0 ? FH_INTERNAL : fherr_set(err, FH_NOT_FOUND, "process %lld not found", (long long)process_id);
    goto out;
  }
  if (!engine_is_manager(a, r.proc.flow)) {
    rc = fherr_set(err, FH_FORBIDDEN, "cannot cancel the process: only a manager may");
    goto out;
  }
  if (strcmp(r.proc.status, "NEW") && strcmp(r.proc.status, "STARTED")) {
    rc = fherr_set(err, FH_CONFLICT, "cannot cancel: the process is %s", r.proc.status);
    goto out;
  }
  if ((rc = store_task_of_process(e->st, process_id, &rows, &n, err))) goto out;
  char now[FH_TIME_LEN];
  fhtime_now(now);
  for (int i = 0; i < n && !rc; i++) {
    if (!is_active_status(rows[i].status)) continue;
    snprintf(rows[i].status, sizeof rows[i].status, "CANCELED");
    snprintf(rows[i].finished_at, sizeof rows[i].finished_at, "%s", now);
    rows[i].lease_until[0] = '\0';
    rc = store_task_update(e->st, &rows[i], err);
  }
  if (!rc) {
    snprintf(r.proc.status, sizeof r.proc.status, "CANCELED");
    snprintf(r.proc.finished_at, sizeof r.proc.finished_at, "%s", now);
    rc = run_save_process(&r, err);
  }
out:
  rc = engine_end_txn(e, rc, err);
  if (!rc) {
    st_process p;
    if (!store_process_get(e->st, process_id, &p, err)) {
      *out = view_process_json(e, &p);
      st_process_free(&p);
    }
  }
  st_task_array_free(rows, n);
  run_free(&r);
  return rc;
}

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
  if ((rc = store_begin(e->st, err))) return rc;
  rc = store_rename_flow_task(e->st, a, b, changed, err);
  return engine_end_txn(e, rc, err);
}

