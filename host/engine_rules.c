/* engine_rules — the transition rules of tasks: for each action, when it is
 * allowed (the task's status, the node's kind, who acts: owner, manager,
 * the permission of the node) and what it does to the task and the run.
 * Both sides are tables indexed by the action, one small function each.
 *
 * The rules work on the run's state in memory; the caller writes the result.
 * May call: engine_run (what follows a task), activation (permission
 * functions, form validation), identity (the user of a reassign).
 */
#include "engine_internal.h"

#include <stdio.h>

#include "fhlog.h"
#include "fhtime.h"
#include "identity.h"
#include "luavm.h"

const char *const ENGINE_ACTIONS[A__COUNT] = {"assign", "unassign", "reassign", "execute", "cancel", "undo", "revive"};

/* --- who may ------------------------------------------------------------------ */

/* Asks the node's :Permission(fn) within the callback budget. */
static int ask_permission_fn(run *r, const fd_node *n, ptask *t) {
  const fh_actor *a = r->actor;
  act_ctx c;
  run_ctx(r, n, t ? &t->row : NULL, t != NULL, &c);
  json_t *user = fh_actor_to_json(a);
  int yes = 0;
  fherr perr = {0};
  if (activation_permission(r->e->vm, &c, user, &yes, &perr)) yes = 0;   /* a failing check denies */
  fherr_clear(&perr);
  json_decref(user);
  return yes;
}

/* The same for a read (a page, a list, the counts, the flows' start
 * buttons): within PERMISSION_SECONDS, and the answer's calls within
 * PERMISSION_PAGE_SECONDS (since read_budget_begin); past them, no.  A read
 * asks for every row or button it shows, and one function that loops must
 * not hold the answer for a whole budget per call. */
static int ask_permission_fn_bounded(run *r, const fd_node *n, ptask *t) {
  engine *e = r->e;
  if (e->permissions_spent >= PERMISSION_PAGE_SECONDS) {
    static fhlog_rate said;
    if (fhlog_rate_ok(&said, 60))
      fhlog(FHLOG_WARN, "the :Permission(fn) calls of one answer took over %.1f s (the last one asked: flow %s);"
            " what was left to ask was refused in it (said at most once a minute)", PERMISSION_PAGE_SECONDS,
            r->fd ? r->fd->name : "?");
    return 0;
  }
  double t0 = fhtime_monotonic(), budget = luavm_cap_budget(e->vm, PERMISSION_SECONDS);
  int ok = ask_permission_fn(r, n, t);
  luavm_set_budget(e->vm, budget);
  e->permissions_spent += fhtime_monotonic() - t0;
  return ok;
}

int rules_may_do_node(run *r, const fd_node *n, ptask *t) {
  const fh_actor *a = r->actor;
  if (a->is_admin || a->is_system) return 1;
  if (n->permission) return fh_actor_has_perm(a, n->permission);
  if (!n->permission_fn) return 1;
  return r->reading ? ask_permission_fn_bounded(r, n, t) : ask_permission_fn(r, n, t);
}

/* The actor owns a task of the process as it was read: a task's owner has
 * a participant row, written with the task (store.c, add_participant), so
 * this answers engine_can_see_process's question without a query.  Only
 * a yes: an owner who handed a task back took part all the same. */
static int owns_a_task(const run *r) {
  int64_t me = r->actor->id;
  if (me <= 0) return 0;
  for (int i = 0; i < r->ps.ntasks; i++) {
    const ptask *t = r->ps.tasks[i];
    if (!t->is_new && !t->dirty && t->row.owner_id == me) return 1;
  }
  return 0;
}

int rules_may_see_task(run *r, ptask *t, const fd_node *n, fherr *err) {
  (void)n;
  if (owns_a_task(r)) {
    store_participant_known(r->e->st, r->ps.proc.id, r->actor->id);
    return FH_OK;
  }
  if (engine_sees_unasked(r->e, r->actor, &r->ps.proc)) return FH_OK;
  /* queue members see a NEW human task, and the rest of its process read-only,
   * before taking part in the process.  Asked before the participant query:
   * it needs only what was read (and, for a node with a permission
   * function, that function), and whoever comes to assign a task is one */
  if (rules_is_candidate(r)) return FH_OK;
  int visible = engine_took_part(r->e, r->actor, &r->ps.proc, err);
  if (visible < 0) return err && err->code ? err->code : FH_INTERNAL;
  if (visible) return FH_OK;
  return fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)t->row.id);
}

int rules_is_candidate(run *r) {
  if (r->actor->is_system || !r->fd) return 0;
  pstate_need_members(&r->ps);   /* a NEW instance of a group makes one too */
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (t->row.status != TASK_NEW) continue;
    const fd_node *n = flowdef_node(r->fd, node_part(t->row.flow_task));
    if (n && n->kind == NODE_VIEW && rules_may_do_node(r, n, t)) return 1;
  }
  return 0;
}

/* --- the checks, one per action ----------------------------------------------------- */

typedef struct check_args {
  run *r;
  ptask *t;
  const fd_node *n;
  const char *kind;       /* the node's kind name, "obsolete" without a node */
  const char *status;     /* the task's status name */
  int manager, owner;
} check_args;

typedef int (*check_fn)(const check_args *c, fherr *err);

/* :While(node): a milestone; the task waits until a task of node is active
 * (a running group's controller is, for the instances an action leaves out). */
static int check_while(const check_args *c, const char *what, fherr *err) {
  if (!c->n->while_node) return FH_OK;
  char ft[160];
  snprintf(ft, sizeof ft, "%s.%s", c->r->ps.proc.flow, c->n->while_node);
  for (int i = 0; i < c->r->ps.ntasks; i++) {
    const st_task *t = &c->r->ps.tasks[i]->row;
    if (!strcmp(t->flow_task, ft) && task_status_is_active(t->status)) return FH_OK;
  }
  return fherr_set(err, FH_CONFLICT, "cannot %s: only while '%s' is active", what, c->n->while_node);
}

static int check_assign(const check_args *c, fherr *err) {
  if (c->n->kind != NODE_VIEW) return fherr_set(err, FH_CONFLICT, "cannot assign: a %s task is not done by people", c->kind);
  if (c->r->actor->is_system) return fherr_set(err, FH_FORBIDDEN, "cannot assign: a task needs a user to own it (--as USER)");
  if (!rules_may_do_node(c->r, c->n, c->t))
    return fherr_set(err, FH_FORBIDDEN, "cannot assign: you lack the permission for '%s'", c->n->name);
  if (c->t->row.status != TASK_NEW) return fherr_set(err, FH_CONFLICT, "cannot assign: task is %s", c->status);
  return check_while(c, "assign", err);
}

static int check_unassign(const check_args *c, fherr *err) {
  if (c->n->kind != NODE_VIEW) return fherr_set(err, FH_CONFLICT, "cannot unassign: a %s task has no owner", c->kind);
  if (c->t->row.status != TASK_ASSIGNED) return fherr_set(err, FH_CONFLICT, "cannot unassign: task is %s", c->status);
  if (!c->owner && !c->manager) return fherr_set(err, FH_FORBIDDEN, "cannot unassign: only the owner or a manager may");
  return FH_OK;
}

static int check_reassign(const check_args *c, fherr *err) {
  if (c->n->kind != NODE_VIEW) return fherr_set(err, FH_CONFLICT, "cannot reassign: a %s task has no owner", c->kind);
  if (!c->manager) return fherr_set(err, FH_FORBIDDEN, "cannot reassign: only a manager may");
  /* a NEW task too: a manager hands it to a named person (issue 14) */
  if (c->t->row.status != TASK_ASSIGNED && c->t->row.status != TASK_NEW)
    return fherr_set(err, FH_CONFLICT, "cannot reassign: task is %s", c->status);
  return check_while(c, "reassign", err);
}

static int check_execute(const check_args *c, fherr *err) {
  task_status st = c->t->row.status;
  if (c->n->kind == NODE_VIEW) {
    if (st == TASK_NEW) return fherr_set(err, FH_CONFLICT, "cannot execute: task is NEW, assign it first");
    if (st != TASK_ASSIGNED) return fherr_set(err, FH_CONFLICT, "cannot execute: task is %s", c->status);
    if (!c->owner) return fherr_set(err, FH_FORBIDDEN, "cannot execute: only the owner (%s) may", c->t->row.owner_name);
    return check_while(c, "execute", err);
  }
  if (c->n->kind == NODE_FUNCTION) {
    if (!c->manager) return fherr_set(err, FH_FORBIDDEN, "cannot execute: only a manager may trigger a function task");
    if (st != TASK_NEW) return fherr_set(err, FH_CONFLICT, "cannot execute: task is %s", c->status);
    return check_while(c, "execute", err);
  }
  return fherr_set(err, FH_CONFLICT, "cannot execute: a %s task runs by itself", c->kind);
}

/* STARTED tasks that wait on something outside a person's hands: a
 * receiver, a running child, a group of instances. */
static int waits_outside(const st_task *t) {
  return !strcmp(t->type, "receive") || !strcmp(t->type, "subprocess") || !strcmp(t->type, "foreach") ||
         !strcmp(t->type, "lock");
}

static int check_cancel(const check_args *c, fherr *err) {
  task_status st = c->t->row.status;
  if (!c->manager) return fherr_set(err, FH_FORBIDDEN, "cannot cancel: only a manager may");
  if (st != TASK_NEW && st != TASK_ASSIGNED && st != TASK_SCHEDULED && st != TASK_ERROR &&
      !(st == TASK_STARTED && waits_outside(&c->t->row)))
    return fherr_set(err, FH_CONFLICT, "cannot cancel: task is %s", c->status);
  return FH_OK;
}

/* Did task `next` come from task id? */
static int came_from(const st_task *next, int64_t id) {
  for (const char *p = next->previous; p && *p;) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p) break;
    if (v == id) return 1;
    p = *end == ',' ? end + 1 : end;
  }
  return 0;
}

static int check_undo(const check_args *c, fherr *err) {
  if (!c->manager) return fherr_set(err, FH_FORBIDDEN, "cannot undo: only a manager may");
  if (c->t->row.status != TASK_DONE) return fherr_set(err, FH_CONFLICT, "cannot undo: task is %s", c->status);
  if (c->n->kind == NODE_START || c->n->kind == NODE_START_FUNCTION)
    return fherr_set(err, FH_CONFLICT, "cannot undo the start of a process; cancel the process instead");
  /* what they did lives on elsewhere: in the group's count, in a finished child */
  if (c->t->row.group_id)
    return fherr_set(err, FH_CONFLICT, "cannot undo one instance of a :ForEach group; revive or cancel the group");
  if (c->t->row.child_id) return fherr_set(err, FH_CONFLICT, "cannot undo a subprocess: its child process finished");
  /* the steps that ran after it are not kept: whether they moved on cannot be told */
  if (c->r->fd && c->r->fd->history_lean)
    return fherr_set(err, FH_CONFLICT, "cannot undo in a flow of history = \"lean\": the steps after the task are not kept");
  const pstate *ps = &c->r->ps;
  if (pstate_need_ended(ps)) return fherr_set(err, ps->more_err.code, "%s", ps->more_err.message);
  for (int i = 0; i < ps->ntasks; i++) {
    const st_task *next = &ps->tasks[i]->row;
    if (came_from(next, c->t->row.id) && next->status != TASK_CANCELED)
      return fherr_set(err, FH_CONFLICT, "cannot undo: the tasks after it must be canceled first");
  }
  return FH_OK;
}

static int check_revive(const check_args *c, fherr *err) {
  task_status st = c->t->row.status;
  if (!c->manager) return fherr_set(err, FH_FORBIDDEN, "cannot revive: only a manager may");
  if (st != TASK_ERROR && st != TASK_CANCELED) return fherr_set(err, FH_CONFLICT, "cannot revive: task is %s", c->status);
  if (c->n->kind == NODE_START || c->n->kind == NODE_START_FUNCTION || c->n->kind == NODE_JOIN)
    return fherr_set(err, FH_CONFLICT, "cannot revive a %s task", c->kind);
  return FH_OK;
}

static const check_fn CHECK[A__COUNT] = {
    [A_ASSIGN] = check_assign, [A_UNASSIGN] = check_unassign, [A_REASSIGN] = check_reassign, [A_EXECUTE] = check_execute,
    [A_CANCEL] = check_cancel, [A_UNDO] = check_undo,         [A_REVIVE] = check_revive,
};

int rules_check(run *r, ptask *t, const fd_node *n, int action, fherr *err) {
  if (action < 0 || action >= A__COUNT) return fherr_set(err, FH_BAD_REQUEST, "unknown action");
  const char *name = ENGINE_ACTIONS[action];
  if (!proc_status_is_running(r->ps.proc.status))
    return fherr_set(err, FH_CONFLICT, "cannot %s: the process is %s", name, proc_status_name(r->ps.proc.status));
  if ((!n || n->kind == NODE_OBSOLETE) && action != A_CANCEL)
    return fherr_set(err, FH_CONFLICT, "cannot %s: node '%s' is obsolete; a manager can only cancel it", name,
                     node_part(t->row.flow_task));
  check_args c = {.r = r, .t = t, .n = n, .kind = n ? node_kind_name(n->kind) : "obsolete",
                  .status = task_status_name(t->row.status), .manager = engine_is_manager(r->actor, r->ps.proc.flow),
                  .owner = r->actor->id && t->row.owner_id == r->actor->id};
  return CHECK[action](&c, err);
}

/* --- what each action does ------------------------------------------------------------- */

typedef int (*apply_fn)(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err);

static int apply_assign(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  (void)n, (void)args, (void)err;
  t->row.owner_id = r->actor->id;
  snprintf(t->row.owner_name, sizeof t->row.owner_name, "%s", r->actor->username);
  t->row.status = TASK_ASSIGNED;
  fhtime_now(t->row.assigned_at);
  t->dirty = 1;
  return FH_OK;
}

static int apply_unassign(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  (void)r, (void)n, (void)args, (void)err;
  t->row.owner_id = 0;
  t->row.owner_name[0] = '\0';
  t->row.assigned_at[0] = '\0';
  t->row.status = TASK_NEW;
  t->dirty = 1;
  return FH_OK;
}

static int invalid_user(fherr *err, const char *message, const char *field) {
  fherr_set(err, FH_INVALID, "%s", message);
  if (err) err->fields = json_pack("{s:s}", "user", field);
  return FH_INVALID;
}

static int apply_reassign(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  json_t *user = args ? json_object_get(args, "user") : NULL;
  if (!json_is_string(user)) return fherr_set(err, FH_BAD_REQUEST, "reassign needs {\"user\": \"name\"}");
  fh_actor target;
  fherr uerr = {0};
  if (identity_actor(r->e, json_string_value(user), &target, &uerr)) {
    fherr_clear(&uerr);
    return invalid_user(err, "unknown user", "No such user.");
  }
  const fh_actor *me = r->actor;
  r->actor = &target;
  int allowed = rules_may_do_node(r, n, t);
  r->actor = me;
  if (!allowed) {
    char message[200];
    snprintf(message, sizeof message, "%s may not do this task", json_string_value(user));
    fh_actor_free(&target);
    return invalid_user(err, message, "This user lacks the permission for the task.");
  }
  t->row.owner_id = target.id;
  snprintf(t->row.owner_name, sizeof t->row.owner_name, "%s", target.username);
  t->row.status = TASK_ASSIGNED;   /* a NEW task is now assigned */
  fhtime_now(t->row.assigned_at);
  t->dirty = 1;
  fh_actor_free(&target);
  return FH_OK;
}

/* A form: cleaned, checked by the node's validate(), merged into the data. */
static int execute_view(run *r, ptask *t, const fd_node *n, const json_t *data, fherr *err) {
  json_t *clean = NULL, *fields = NULL;
  int rc = run_clean_form(r, n, data, &clean, err);
  if (!rc && n->has_validate) {
    act_ctx c;
    run_ctx(r, n, &t->row, 1, &c);
    rc = activation_validate(r->e->vm, &c, clean, &fields, err);
    if (!rc && fields) {
      fherr_set(err, FH_INVALID, "the form has errors");
      if (err) err->fields = fields;
      else json_decref(fields);
      rc = FH_INVALID;
    }
  }
  if (!rc) run_merge_form(r->data, clean, data);
  json_decref(clean);
  return rc;
}

static int apply_execute(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  json_t *data = args ? json_object_get(args, "data") : NULL;
  if (data && !json_is_object(data) && !json_is_null(data))
    return fherr_set(err, FH_BAD_REQUEST, "\"data\" must be an object");
  int rc = data_take_comment(r, t, n, args, err);
  if (rc) return rc;
  data_credit(r, t);   /* the audit of what this execute changes */
  json_t *empty = json_object();
  if (!data || json_is_null(data)) data = empty;
  if (n->kind == NODE_VIEW) {
    rc = execute_view(r, t, n, data, err);
  } else if (n->has_fn) {
    rc = run_invoke(r, t, n, "fn", data, err);
  } else {
    json_t *clean = NULL;
    rc = run_clean_known(r, data, &clean, err);
    if (!rc) run_merge_into(r->data, clean);
    json_decref(clean);
  }
  json_decref(empty);
  if (rc) return rc;
  run_complete_task(t);
  return run_follow_next(r, t, n, err);
}

static void finish_task(ptask *t, task_status status) {
  t->row.status = status;
  if (status != TASK_REVIVED || !t->row.finished_at[0]) fhtime_now(t->row.finished_at);
  t->dirty = 1;
}

static int apply_cancel(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  (void)n, (void)args;
  finish_task(t, TASK_CANCELED);
  t->row.lease_until[0] = '\0';
  return run_recheck_joins(r, err);   /* it may have been the last branch a join waited for */
}

static int apply_undo(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  (void)r, (void)n, (void)args, (void)err;
  finish_task(t, TASK_CANCELED);
  return FH_OK;
}

static int apply_revive(run *r, ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  (void)args;
  finish_task(t, TASK_REVIVED);
  t->row.lease_until[0] = '\0';
  char token[sizeof t->row.token];
  snprintf(token, sizeof token, "%s", t->row.token);
  if (!t->row.group_id) return run_create_task(r, n, token, t->row.id, err);
  /* an instance of a :ForEach group: a new instance of the same item in the same group */
  json_t *data = parse_json_text(t->row.data);
  int rc = run_create_one(r, n, token, t->row.id, t->row.group_id, data, NULL, err);
  json_decref(data);
  return rc;
}

static const apply_fn APPLY[A__COUNT] = {
    [A_ASSIGN] = apply_assign, [A_UNASSIGN] = apply_unassign, [A_REASSIGN] = apply_reassign, [A_EXECUTE] = apply_execute,
    [A_CANCEL] = apply_cancel, [A_UNDO] = apply_undo,         [A_REVIVE] = apply_revive,
};

int rules_apply(run *r, ptask *t, const fd_node *n, int action, const json_t *args, fherr *err) {
  if (action < 0 || action >= A__COUNT) return fherr_set(err, FH_BAD_REQUEST, "unknown action");
  return APPLY[action](r, t, n, args, err);
}

int rules_transition(void *run_ptr, int64_t task_id, int action, int probe, const json_t *args, fherr *err) {
  run *r = run_ptr;
  ptask *t = pstate_task(&r->ps, task_id);
  if (!t) return fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
  const fd_node *n = r->fd ? flowdef_node(r->fd, node_part(t->row.flow_task)) : NULL;
  int rc = rules_check(r, t, n, action, err);
  if (rc || probe) return rc;
  if (r->door_closed)
    return fherr_set(err, FH_FLOW_ERROR, "%s: a job's callback runs outside its process and cannot change tasks",
                     ENGINE_ACTIONS[action]);
  return rules_apply(r, t, n, action, args, err);
}
