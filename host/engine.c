#include "engine.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhtime.h"

/* A run that takes more automatic steps than this is a loop that never
 * reaches a human task; it fails instead of holding the write lock forever. */
#define MAX_STEPS 10000
#define LEASE_GRACE 30.0

struct engine {
  store *st;
  flowreg *reg;
  flowgen *gen;         /* the generation the vm holds; kept referenced */
  luavm *vm;
  double budget;
  double lease_grace;
  char worker[64];
};

/* --- small helpers ------------------------------------------------------ */

static int is_active_status(const char *s) {
  return !strcmp(s, "NEW") || !strcmp(s, "ASSIGNED") || !strcmp(s, "STARTED") || !strcmp(s, "SCHEDULED") ||
         !strcmp(s, "ERROR");
}

static const char *node_part(const char *flow_task) {
  const char *dot = strchr(flow_task, '.');
  return dot ? dot + 1 : flow_task;
}

static json_t *time_or_null(const char *t) { return t && t[0] ? json_string(t) : json_null(); }

static json_t *parse_json_text(const char *text) {
  json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  return v ? v : json_object();
}

static char *dump_json(const json_t *v) {
  return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

store *engine_store(engine *e) { return e->st; }
flowreg *engine_flows(engine *e) { return e->reg; }

/* Makes the vm match the registry's current generation: a new generation
 * gets a fresh state (the old one is closed, never patched). */
static int sync_flows(engine *e, fherr *err) {
  flowgen *gen = flowreg_acquire(e->reg);
  if (!gen) return fherr_set(err, FH_INTERNAL, "no flows loaded");
  if (e->gen && e->vm && e->gen->number == gen->number) {
    flowgen_release(e->reg, gen);
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

static const flowdef *find_def(engine *e, const char *flow) {
  const flow_entry *fe = flowgen_find(e->gen, flow);
  return fe ? fe->def : NULL;
}

/* --- actors ------------------------------------------------------------ */

void fh_actor_system(fh_actor *a) {
  memset(a, 0, sizeof *a);
  a->is_system = 1;
  a->is_admin = 1;
  snprintf(a->username, sizeof a->username, "%s", "system");
}

static int actor_from_user(engine *e, st_user *u, fh_actor *out, fherr *err) {
  memset(out, 0, sizeof *out);
  out->id = u->id;
  snprintf(out->username, sizeof out->username, "%s", u->username);
  out->is_admin = u->is_admin;
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

static void push_user(lua_State *L, const fh_actor *a) {
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

/* --- a run: one action's automatic activations ------------------------ */

typedef struct run {
  engine *e;
  const fh_actor *actor;
  const flowdef *fd;
  st_process proc;
  json_t *data;          /* process data, owned; written back at the end */
  int64_t *queue;        /* tasks waiting for automatic activation */
  int qhead, qlen, qcap;
  json_t *created;       /* ids of tasks created by this action */
  int job_mode;          /* errors in automatic nodes become ERROR tasks */
  int steps;
} run;

static void run_free(run *r) {
  st_process_free(&r->proc);
  json_decref(r->data);
  json_decref(r->created);
  free(r->queue);
}

static int run_init(run *r, engine *e, const fh_actor *a, int64_t process_id, fherr *err) {
  memset(r, 0, sizeof *r);
  r->e = e;
  r->actor = a;
  r->created = json_array();
  int rc = store_process_get(e->st, process_id, &r->proc, err);
  if (rc) return rc;
  r->data = parse_json_text(r->proc.data);
  r->fd = find_def(e, r->proc.flow);
  return FH_OK;
}

static int enqueue(run *r, int64_t id, fherr *err) {
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

static int save_process(run *r, fherr *err) {
  char *text = dump_json(r->data);
  if (!text) return fherr_set(err, FH_INTERNAL, "cannot encode process data");
  int rc = store_process_update(r->e->st, r->proc.id, r->proc.status, text,
                                r->proc.finished_at[0] ? r->proc.finished_at : NULL, err);
  free(text);
  return rc;
}

/* The transitions a callback finds on its activation (activation.cancel(),
 * activation.cancel.can_proceed(), ...) act on the task inside the running
 * transaction.  They reach the run through a handle that dies when the
 * callback returns, so an activation kept in a global fails cleanly later
 * instead of touching freed memory. */
typedef struct act_handle {
  run *r;
  int64_t task_id;
  int alive;
} act_handle;

#define HANDLE_MT "flowhost.activation"

static int check_action(run *r, st_task *t, const fd_node *n, int action, fherr *err);
static int apply_action(run *r, st_task *t, const fd_node *n, int action, json_t *args, fherr *err);
enum { A_ASSIGN, A_UNASSIGN, A_REASSIGN, A_EXECUTE, A_CANCEL, A_UNDO, A_REVIVE, A__COUNT };
#define N_TRANSITIONS A__COUNT
static const char *const ACTIONS[] = {"assign", "unassign", "reassign", "execute", "cancel", "undo", "revive"};

/* upvalues: handle, action index, is_can_proceed */
static int l_transition(lua_State *L) {
  act_handle *h = luaL_checkudata(L, lua_upvalueindex(1), HANDLE_MT);
  int action = (int)lua_tointeger(L, lua_upvalueindex(2));
  int probe = lua_toboolean(L, lua_upvalueindex(3));
  if (!h->alive) return luaL_error(L, "activation used after its callback returned");
  run *r = h->r;
  json_t *args = NULL;
  /* __call passes the callable table first; the optional argument follows */
  int argi = probe ? 1 : 2;
  if (!probe && lua_type(L, argi) == LUA_TTABLE) {
    fherr cerr = {0};
    if (luavm_to_json(L, argi, &args, &cerr)) {
      fherr_clear(&cerr);
      return luaL_error(L, "%s: the argument must be plain data", ACTIONS[action]);
    }
  }
  st_task t;
  fherr err = {0};
  int rc = store_task_get(r->e->st, h->task_id, &t, &err);
  const fd_node *n = rc || !r->fd ? NULL : flowdef_node(r->fd, node_part(t.flow_task));
  if (!rc) rc = check_action(r, &t, n, action, &err);
  if (probe) {
    st_task_free(&t);
    json_decref(args);
    fherr_clear(&err);
    lua_pushboolean(L, rc == FH_OK);
    return 1;
  }
  if (!rc) rc = apply_action(r, &t, n, action, args, &err);
  st_task_free(&t);
  json_decref(args);
  if (rc) {
    char msg[sizeof err.message];
    snprintf(msg, sizeof msg, "%s", err.message);
    fherr_clear(&err);
    return luaL_error(L, "%s", msg);
  }
  return 0;
}

static act_handle *push_transitions(run *r, const st_task *t) {
  lua_State *L = luavm_state(r->e->vm);
  act_handle *h = lua_newuserdatauv(L, sizeof *h, 0);
  h->r = r;
  h->task_id = t->id;
  h->alive = 1;
  if (luaL_newmetatable(L, HANDLE_MT)) {
    lua_pushliteral(L, "activation handle");
    lua_setfield(L, -2, "__name");
  }
  lua_setmetatable(L, -2);
  int hi = lua_gettop(L);
  for (int i = 0; i < N_TRANSITIONS; i++) {
    lua_createtable(L, 0, 1);           /* the callable: {can_proceed = fn} */
    lua_pushvalue(L, hi);
    lua_pushinteger(L, i);
    lua_pushboolean(L, 1);
    lua_pushcclosure(L, l_transition, 3);
    lua_setfield(L, -2, "can_proceed");
    lua_createtable(L, 0, 1);           /* its metatable: __call does it */
    lua_pushvalue(L, hi);
    lua_pushinteger(L, i);
    lua_pushboolean(L, 0);
    lua_pushcclosure(L, l_transition, 3);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    lua_setfield(L, hi - 1, ACTIONS[i]);
  }
  lua_pop(L, 1);
  return h;
}

/* Pushes the activation table {process, task, flow} for task t (may be NULL);
 * returns the transitions' handle (NULL without a stored task). */
static act_handle *push_activation(run *r, const st_task *t) {
  lua_State *L = luavm_state(r->e->vm);
  lua_createtable(L, 0, 3);
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, r->proc.id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, r->proc.flow);
  lua_setfield(L, -2, "flow");
  lua_pushstring(L, r->proc.status);
  lua_setfield(L, -2, "status");
  if (r->proc.created_by_name[0]) {
    lua_pushstring(L, r->proc.created_by_name);
    lua_setfield(L, -2, "created_by");
  }
  lua_pushstring(L, r->proc.created_at);
  lua_setfield(L, -2, "created_at");
  luavm_push_json(L, r->data);
  lua_setfield(L, -2, "data");
  lua_setfield(L, -2, "process");
  if (t) {
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, t->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, node_part(t->flow_task));
    lua_setfield(L, -2, "node");
    lua_pushstring(L, t->status);
    lua_setfield(L, -2, "status");
    if (t->owner_name[0]) {
      lua_pushstring(L, t->owner_name);
      lua_setfield(L, -2, "owner");
    }
    lua_pushstring(L, t->token);
    lua_setfield(L, -2, "token");
    json_t *td = parse_json_text(t->data);
    luavm_push_json(L, td);
    json_decref(td);
    lua_setfield(L, -2, "data");
    lua_setfield(L, -2, "task");
  }
  lua_pushstring(L, r->proc.flow);
  lua_setfield(L, -2, "flow");
  return t && t->id ? push_transitions(r, t) : NULL;
}

/* Reads process.data (and task.data) back from the activation at idx. */
/* Reads t[key] without metamethods: a callback may have replaced the
 * activation's tables with ones whose __index raises, and this runs outside
 * any protected call. */
static void raw_field(lua_State *L, int idx, const char *key) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, key);
  lua_rawget(L, idx);
}

static int read_back(run *r, int idx, st_task *t, fherr *err) {
  lua_State *L = luavm_state(r->e->vm);
  json_t *data = NULL;
  int rc = FH_OK;
  raw_field(L, idx, "process");
  if (lua_type(L, -1) == LUA_TTABLE) {
    raw_field(L, -1, "data");
    if (lua_type(L, -1) != LUA_TTABLE) rc = fherr_set(err, FH_FLOW_ERROR, "activation.process.data must stay a table");
    else if (!(rc = luavm_to_json(L, -1, &data, err))) {
      json_decref(r->data);
      r->data = data;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (rc || !t) return rc;
  raw_field(L, idx, "task");
  if (lua_type(L, -1) == LUA_TTABLE) {
    raw_field(L, -1, "data");
    if (lua_type(L, -1) == LUA_TTABLE && !(rc = luavm_to_json(L, -1, &data, err))) {
      char *text = dump_json(data);
      json_decref(data);
      if (text) {
        free(t->data);
        t->data = text;
      }
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
}

/* Calls the function on top of the stack as fn(self, activation[, extra]).
 * Leaves nres results on success; nothing on error.  Process and task data
 * changed by the callback are taken over only when it succeeds. */
static int invoke(run *r, st_task *t, const json_t *extra, int nres, fherr *err) {
  lua_State *L = luavm_state(r->e->vm);
  int fn = lua_gettop(L);
  if (lua_type(L, fn) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return fherr_set(err, FH_FLOW_ERROR, "flow %s: callback missing (was the flow reloaded?)", r->proc.flow);
  }
  act_handle *handle = push_activation(r, t);
  lua_pushvalue(L, fn);
  flowdef_push_self(L, r->proc.flow);
  lua_pushvalue(L, fn + 1);
  if (extra) luavm_push_json(L, extra);
  int rc = luavm_pcall(r->e->vm, extra ? 3 : 2, nres, err);
  if (handle) handle->alive = 0;
  if (rc) {
    lua_settop(L, fn - 1);
    return rc;
  }
  rc = read_back(r, fn + 1, t, err);
  if (rc) {
    lua_settop(L, fn - 1);
    return rc;
  }
  lua_remove(L, fn + 1);
  lua_remove(L, fn);
  return FH_OK;
}

static int invoke_node(run *r, st_task *t, const fd_node *n, const char *key, const json_t *extra, int nres,
                       fherr *err) {
  flowdef_push_callback(luavm_state(r->e->vm), r->proc.flow, n->name, key);
  return invoke(r, t, extra, nres, err);
}

/* Calls flow.clean(def, fields, data) -> clean | nil, errors. */
static int clean_data(engine *e, const char *flow, char **fields, int nfields, const json_t *data,
                      json_t **out, fherr *err) {
  lua_State *L = luavm_state(e->vm);
  *out = NULL;
  lua_getglobal(L, "require");
  lua_pushstring(L, "flow");
  int rc = luavm_pcall(e->vm, 1, 1, err);
  if (rc) return rc;
  lua_getfield(L, -1, "clean");
  lua_remove(L, -2);
  if (flowdef_push_def(L, flow) != LUA_TTABLE) {
    lua_pop(L, 2);
    return fherr_set(err, FH_CONFLICT, "flow '%s' is not loaded", flow);
  }
  lua_createtable(L, nfields, 0);
  for (int i = 0; i < nfields; i++) {
    lua_pushstring(L, fields[i]);
    lua_rawseti(L, -2, i + 1);
  }
  luavm_push_json(L, data);
  if ((rc = luavm_pcall(e->vm, 3, 2, err))) return rc;
  if (lua_type(L, -2) == LUA_TTABLE) {
    rc = luavm_to_json(L, -2, out, err);
    if (!rc && !json_is_object(*out)) {
      json_decref(*out);
      *out = json_object();
    }
  } else {
    json_t *fields_err = NULL;
    if (lua_type(L, -1) == LUA_TTABLE) luavm_to_json(L, -1, &fields_err, NULL);
    fherr_set(err, FH_INVALID, "the form has errors");
    if (err) err->fields = json_is_object(fields_err) ? fields_err : (json_decref(fields_err), json_object());
    else json_decref(fields_err);
    rc = FH_INVALID;
  }
  lua_pop(L, 2);
  return rc;
}

static void merge_into(json_t *dst, const json_t *src) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)src, k, v) json_object_set(dst, k, v);
}

/* Merges a cleaned form: submitted values win; a field's default fills in
 * only where the process has no value yet, so leaving a field out of a
 * later form never overwrites what an earlier step stored. */
static void merge_form(json_t *dst, const json_t *clean, const json_t *submitted) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)clean, k, v) {
    if (json_object_get(submitted, k) || !json_object_get(dst, k)) json_object_set(dst, k, v);
  }
}

/* --- permissions --------------------------------------------------------- */

/* May the actor take (assign) tasks of node n?  t may be NULL (queue scans). */
static int may_do_node(run *r, const fd_node *n, st_task *t, fherr *err) {
  const fh_actor *a = r->actor;
  if (a->is_admin || a->is_system) return 1;
  if (n->permission) return fh_actor_has_perm(a, n->permission);
  if (n->permission_fn) {
    lua_State *L = luavm_state(r->e->vm);
    flowdef_push_callback(L, r->proc.flow, n->name, "permission_fn");
    push_user(L, a);
    json_t *user = NULL;
    (void)user;
    /* permission_fn(self, user, activation) */
    int fn = lua_gettop(L) - 1;
    flowdef_push_self(L, r->proc.flow);
    lua_insert(L, fn + 1);
    act_handle *handle = push_activation(r, t);
    fherr perr = {0};
    int rc = luavm_pcall(r->e->vm, 3, 1, &perr);
    if (handle) handle->alive = 0;
    if (rc) {
      if (err) fherr_set(err, FH_FLOW_ERROR, "%s", perr.message);
      fherr_clear(&perr);
      return 0;
    }
    int yes = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return yes;
  }
  return 1;
}

/* --- task rows ---------------------------------------------------------- */

static int complete_task(run *r, st_task *t, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  snprintf(t->status, sizeof t->status, "DONE");
  if (!t->started_at[0]) snprintf(t->started_at, sizeof t->started_at, "%s", now);
  snprintf(t->finished_at, sizeof t->finished_at, "%s", now);
  t->lease_until[0] = '\0';
  return store_task_update(r->e->st, t, err);
}

static int resolve_user(run *r, const char *username, int64_t *id, char *name, fherr *err) {
  st_user u;
  fherr uerr = {0};
  if (store_user_get(r->e->st, username, &u, &uerr)) {
    fherr_clear(&uerr);
    return fherr_set(err, FH_FLOW_ERROR, "assign: unknown user '%s'", username);
  }
  *id = u.id;
  snprintf(name, 64, "%s", u.username);
  st_user_free(&u);
  return FH_OK;
}

/* Owner for a new human task from :Assign; leaves 0 when it yields none. */
static int resolve_assign(run *r, const fd_node *n, st_task *t, fherr *err) {
  switch (n->assign) {
  case ASSIGN_USER: return resolve_user(r, n->assign_value, &t->owner_id, t->owner_name, err);
  case ASSIGN_OWNER_OF: {
    char ft[160];
    snprintf(ft, sizeof ft, "%s.%s", r->proc.flow, n->assign_value);
    return store_task_latest_owner(r->e->st, r->proc.id, ft, &t->owner_id, err);
  }
  case ASSIGN_FN: {
    int rc = invoke_node(r, t, n, "assign_fn", NULL, 1, err);
    if (rc) return rc;
    lua_State *L = luavm_state(r->e->vm);
    rc = FH_OK;
    if (lua_type(L, -1) == LUA_TSTRING) rc = resolve_user(r, lua_tostring(L, -1), &t->owner_id, t->owner_name, err);
    else if (!lua_isnil(L, -1)) rc = fherr_set(err, FH_FLOW_ERROR, "assign function of '%s' must return a user name or nil", n->name);
    lua_pop(L, 1);
    return rc;
  }
  default: return FH_OK;
  }
}

static int link_and_note(run *r, st_task *t, int64_t prev, fherr *err) {
  int rc = prev ? store_task_add_previous(r->e->st, t->id, prev, err) : FH_OK;
  if (!rc) json_array_append_new(r->created, json_integer(t->id));
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
  char join_of[256], parent[256], ft[160];
  snprintf(join_of, sizeof join_of, "%.*s", (int)(under - token), token);
  snprintf(parent, sizeof parent, "%.*s", (int)(slash - token), token);
  snprintf(ft, sizeof ft, "%s.%s", r->proc.flow, n->name);
  int64_t id = 0;
  int rc = store_task_find_join(r->e->st, r->proc.id, ft, join_of, &id, err);
  if (rc) return rc;
  if (id) {
    if ((rc = store_task_add_previous(r->e->st, id, prev, err))) return rc;
    st_task j;
    if ((rc = store_task_get(r->e->st, id, &j, err))) return rc;
    int waiting = !strcmp(j.status, "STARTED");
    st_task_free(&j);
    return waiting ? enqueue(r, id, err) : FH_OK;
  }
  st_task t = {0};
  t.process_id = r->proc.id;
  snprintf(t.flow_task, sizeof t.flow_task, "%s", ft);
  snprintf(t.type, sizeof t.type, "join");
  snprintf(t.status, sizeof t.status, "STARTED");
  snprintf(t.token, sizeof t.token, "%s", parent);
  snprintf(t.join_of, sizeof t.join_of, "%s", join_of);
  fhtime_now(t.created_at);
  snprintf(t.started_at, sizeof t.started_at, "%s", t.created_at);
  if ((rc = store_task_insert(r->e->st, &t, err)) || (rc = link_and_note(r, &t, prev, err))) return rc;
  return enqueue(r, t.id, err);
}

/* Creates the task of node n reached with token from task prev. */
static int create_task(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err) {
  if (n->kind == NODE_JOIN) return arrive_at_join(r, n, token, prev, err);
  if (n->kind == NODE_START || n->kind == NODE_START_FUNCTION)
    return fherr_set(err, FH_FLOW_ERROR, "node '%s' is a start node and cannot follow another node", n->name);
  if (n->kind == NODE_OBSOLETE) return fherr_set(err, FH_FLOW_ERROR, "node '%s' is obsolete", n->name);
  if (strlen(token) >= sizeof ((st_task *)0)->token - 24)
    return fherr_set(err, FH_FLOW_ERROR, "splits nested too deeply (token '%s')", token);
  st_task t = {0};
  t.process_id = r->proc.id;
  snprintf(t.flow_task, sizeof t.flow_task, "%s.%s", r->proc.flow, n->name);
  snprintf(t.type, sizeof t.type, "%s", node_kind_name(n->kind));
  snprintf(t.status, sizeof t.status, "NEW");
  snprintf(t.token, sizeof t.token, "%s", token);
  fhtime_now(t.created_at);
  int rc = FH_OK;
  if (n->kind == NODE_JOB) {
    snprintf(t.status, sizeof t.status, "SCHEDULED");
    snprintf(t.due_at, sizeof t.due_at, "%s", t.created_at);
  } else if (n->kind == NODE_TIMER) {
    double seconds = n->seconds;
    if (seconds < 0) {
      if ((rc = invoke_node(r, &t, n, "fn", NULL, 1, err))) goto setup_failed;
      lua_State *L = luavm_state(r->e->vm);
      int ok = lua_type(L, -1) == LUA_TNUMBER;
      seconds = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (!ok || !isfinite(seconds) || seconds < 0) {
        rc = fherr_set(err, FH_FLOW_ERROR, "timer '%s': its function must return seconds >= 0", n->name);
        goto setup_failed;
      }
    }
    snprintf(t.status, sizeof t.status, "SCHEDULED");
    fhtime_format(fhtime_epoch() + seconds, t.due_at);
  } else if (n->kind == NODE_VIEW) {
    if ((rc = resolve_assign(r, n, &t, err))) goto setup_failed;
    if (t.owner_id) {
      snprintf(t.status, sizeof t.status, "ASSIGNED");
      snprintf(t.assigned_at, sizeof t.assigned_at, "%s", t.created_at);
    }
  }
insert:
  if ((rc = store_task_insert(r->e->st, &t, err)) || (rc = link_and_note(r, &t, prev, err))) {
    st_task_free(&t);
    return rc;
  }
  int automatic = n->kind == NODE_HANDLER || n->kind == NODE_IF || n->kind == NODE_SWITCH ||
                  n->kind == NODE_SPLIT || n->kind == NODE_END;
  if (automatic) rc = enqueue(r, t.id, err);
  st_task_free(&t);
  return rc;

setup_failed:
  /* A timer or :Assign function failed.  A human action is rolled back;
   * after a job, the task is saved as ERROR for a manager to revive or
   * cancel, and the job's own result stands. */
  if (!r->job_mode || rc != FH_FLOW_ERROR) {
    st_task_free(&t);
    return rc;
  }
  snprintf(t.status, sizeof t.status, "ERROR");
  t.owner_id = 0;
  t.owner_name[0] = t.assigned_at[0] = t.due_at[0] = '\0';
  t.error_message = strdup(err && err->message[0] ? err->message : "the task could not be set up");
  t.error_traceback = err && err->traceback ? strdup(err->traceback) : NULL;
  fherr_clear(err);
  goto insert;
}

static int follow_edge(run *r, const st_task *from, const fd_node *n, int edge, const char *token, fherr *err) {
  const fd_node *to = &r->fd->nodes[n->edges[edge].to_index];
  return create_task(r, to, token, from->id, err);
}

static int follow_next(run *r, const st_task *from, const fd_node *n, fherr *err) {
  for (int i = 0; i < n->nedges; i++) {
    int rc = follow_edge(r, from, n, i, from->token, err);
    if (rc) return rc;
  }
  return FH_OK;
}

static int eval_cond(run *r, st_task *t, const fd_node *n, int edge, int *yes, fherr *err) {
  lua_State *L = luavm_state(r->e->vm);
  if (edge < 0) flowdef_push_callback(L, r->proc.flow, n->name, "fn");
  else flowdef_push_edge_cond(L, r->proc.flow, n->name, edge);
  int rc = invoke(r, t, NULL, 1, err);
  if (rc) return rc;
  *yes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return FH_OK;
}

static int find_edge(const fd_node *n, edge_kind kind) {
  for (int i = 0; i < n->nedges; i++)
    if (n->edges[i].kind == kind) return i;
  return -1;
}

/* Runs one automatic task (handler, gateway, split, join, end). */
static int activate(run *r, st_task *t, const fd_node *n, fherr *err) {
  int rc, yes;
  switch (n->kind) {
  case NODE_HANDLER:
    if ((rc = invoke_node(r, t, n, "fn", NULL, 0, err)) || (rc = complete_task(r, t, err))) return rc;
    return follow_next(r, t, n, err);
  case NODE_IF: {
    if ((rc = eval_cond(r, t, n, -1, &yes, err)) || (rc = complete_task(r, t, err))) return rc;
    int edge = find_edge(n, yes ? EDGE_TRUE : EDGE_FALSE);
    return edge < 0 ? FH_OK : follow_edge(r, t, n, edge, t->token, err);
  }
  case NODE_SWITCH: {
    int chosen = -1;
    for (int i = 0; i < n->nedges && chosen < 0; i++) {
      if (n->edges[i].kind != EDGE_CASE) continue;
      if (!n->edges[i].has_cond) {
        chosen = i;
        break;
      }
      if ((rc = eval_cond(r, t, n, i, &yes, err))) return rc;
      if (yes) chosen = i;
    }
    if (chosen < 0) chosen = find_edge(n, EDGE_DEFAULT);
    if (chosen < 0) return fherr_set(err, FH_FLOW_ERROR, "switch '%s': no case matched and there is no default", n->name);
    if ((rc = complete_task(r, t, err))) return rc;
    return follow_edge(r, t, n, chosen, t->token, err);
  }
  case NODE_SPLIT: {
    int *taken = calloc(n->nedges ? n->nedges : 1, sizeof *taken);
    if (!taken) return fherr_set(err, FH_INTERNAL, "out of memory");
    int count = 0;
    for (int i = 0; i < n->nedges; i++) {
      yes = 1;
      if (n->edges[i].has_cond && (rc = eval_cond(r, t, n, i, &yes, err))) {
        free(taken);
        return rc;
      }
      if (yes) taken[count++] = i;
    }
    rc = count ? complete_task(r, t, err)
               : fherr_set(err, FH_FLOW_ERROR, "split '%s': no branch condition holds", n->name);
    for (int k = 0; !rc && k < count; k++) {
      char token[300];
      snprintf(token, sizeof token, "%s/%lld_%d", t->token, (long long)t->id, k + 1);
      rc = follow_edge(r, t, n, taken[k], token, err);
    }
    free(taken);
    return rc;
  }
  case NODE_JOIN: {
    if (strcmp(t->status, "STARTED") != 0) return FH_OK;
    if (n->wait_all) {
      char prefix[300];
      int64_t active = 0;
      snprintf(prefix, sizeof prefix, "%s_", t->join_of);
      if ((rc = store_task_count_active_prefix(r->e->st, r->proc.id, prefix, t->id, &active, err))) return rc;
      if (active > 0) return FH_OK;
    }
    if ((rc = complete_task(r, t, err))) return rc;
    return follow_next(r, t, n, err);
  }
  case NODE_END:
    return complete_task(r, t, err);
  default:
    return fherr_set(err, FH_INTERNAL, "node '%s' (%s) is not automatic", n->name, node_kind_name(n->kind));
  }
}

static int mark_error(run *r, int64_t task_id, const fherr *cause, fherr *err) {
  st_task t;
  int rc = store_task_get(r->e->st, task_id, &t, err);
  if (rc) return rc;
  snprintf(t.status, sizeof t.status, "ERROR");
  free(t.error_message);
  free(t.error_traceback);
  t.error_message = strdup(cause->message);
  t.error_traceback = cause->traceback ? strdup(cause->traceback) : NULL;
  t.lease_until[0] = '\0';
  rc = store_task_update(r->e->st, &t, err);
  st_task_free(&t);
  return rc;
}

/* Activates queued tasks until none is left.  Strict mode (human actions)
 * returns the first error, and the caller rolls everything back; job mode
 * keeps going and leaves the failing task in ERROR. */
static int run_queue(run *r, fherr *err) {
  while (r->qhead < r->qlen) {
    if (++r->steps > MAX_STEPS) {
      fherr cause = {0};
      fherr_set(&cause, FH_FLOW_ERROR, "more than %d automatic steps in one action: is there a loop without a human task?",
                MAX_STEPS);
      if (!r->job_mode) return fherr_set(err, FH_FLOW_ERROR, "%s", cause.message);
      /* After a job: the tasks still waiting are saved as ERROR (rolling
       * back would leave the job claimed, to run again when its lease ends). */
      int rc = FH_OK;
      while (!rc && r->qhead < r->qlen) rc = mark_error(r, r->queue[r->qhead++], &cause, err);
      return rc;
    }
    int64_t id = r->queue[r->qhead++];
    st_task t;
    int rc = store_task_get(r->e->st, id, &t, err);
    if (rc) return rc;
    const fd_node *n = r->fd ? flowdef_node(r->fd, node_part(t.flow_task)) : NULL;
    if (!n) {
      fherr cause = {0};
      fherr_set(&cause, FH_FLOW_ERROR, "node '%s' no longer exists in flow '%s'", node_part(t.flow_task), r->proc.flow);
      st_task_free(&t);
      if (!r->job_mode) {
        fherr_set(err, FH_FLOW_ERROR, "%s", cause.message);
        return FH_FLOW_ERROR;
      }
      if ((rc = mark_error(r, id, &cause, err))) return rc;
      continue;
    }
    if (!r->job_mode) {
      rc = activate(r, &t, n, err);
      st_task_free(&t);
      if (rc) return rc;
      continue;
    }
    int qlen = r->qlen;
    size_t ncreated = json_array_size(r->created);
    json_t *data_before = json_deep_copy(r->data);
    if ((rc = store_savepoint(r->e->st, err))) {
      json_decref(data_before);
      st_task_free(&t);
      return rc;
    }
    fherr cause = {0};
    rc = activate(r, &t, n, &cause);
    st_task_free(&t);
    if (rc == FH_FLOW_ERROR) {
      store_rollback_to(r->e->st);
      r->qlen = qlen;
      while (json_array_size(r->created) > ncreated) json_array_remove(r->created, json_array_size(r->created) - 1);
      json_decref(r->data);
      r->data = data_before;
      rc = mark_error(r, id, &cause, err);
      fherr_clear(&cause);
      if (rc) return rc;
      continue;
    }
    json_decref(data_before);
    if (rc) {
      fherr_set(err, cause.code, "%s", cause.message);
      fherr_clear(&cause);
      return rc;
    }
    if ((rc = store_release(r->e->st, err))) return rc;
  }
  return FH_OK;
}

/* The process is DONE once an End was reached and nothing is active. */
static int finish_run(run *r, fherr *err) {
  int rc = run_queue(r, err);
  if (rc) return rc;
  if (!strcmp(r->proc.status, "NEW") || !strcmp(r->proc.status, "STARTED")) {
    int64_t active = 0, ends = 0;
    if ((rc = store_task_count_active(r->e->st, r->proc.id, 0, &active, err)) ||
        (rc = store_task_count_done_type(r->e->st, r->proc.id, "end", &ends, err)))
      return rc;
    if (active == 0 && ends > 0) {
      snprintf(r->proc.status, sizeof r->proc.status, "DONE");
      fhtime_now(r->proc.finished_at);
    }
  }
  return save_process(r, err);
}

/* --- JSON views ---------------------------------------------------------- */

static char *summary_of(engine *e, const st_process *p, const json_t *data) {
  const flowdef *fd = find_def(e, p->flow);
  if (fd && fd->has_summary) {
    lua_State *L = luavm_state(e->vm);
    if (flowdef_push_def(L, p->flow) == LUA_TTABLE) {
      lua_getfield(L, -1, "summary");
      lua_remove(L, -2);
      flowdef_push_self(L, p->flow);
      json_t *pj = json_pack("{s:I, s:s, s:s, s:O}", "id", (json_int_t)p->id, "flow", p->flow, "status", p->status,
                             "data", data);
      luavm_push_json(L, pj);
      json_decref(pj);
      fherr err = {0};
      if (!luavm_pcall(e->vm, 2, 1, &err)) {
        char *s = lua_type(L, -1) == LUA_TSTRING ? strdup(lua_tostring(L, -1)) : NULL;
        lua_pop(L, 1);
        if (s) return s;
      }
      fherr_clear(&err);
    } else {
      lua_pop(L, 1);
    }
  }
  char buf[256];
  snprintf(buf, sizeof buf, "%s #%lld", fd && fd->title ? fd->title : p->flow, (long long)p->id);
  return strdup(buf);
}

static json_t *process_json(engine *e, const st_process *p) {
  json_t *data = parse_json_text(p->data);
  char *summary = summary_of(e, p, data);
  json_t *out = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "id", (json_int_t)p->id, "flow", p->flow,
                          "status", p->status, "summary", summary ? summary : "", "data", data, "created_by",
                          p->created_by_name[0] ? json_string(p->created_by_name) : json_null(), "created_at",
                          p->created_at, "finished_at", time_or_null(p->finished_at));
  free(summary);
  return out;
}

static json_t *task_json(engine *e, const st_task *t) {
  const char *flow_end = strchr(t->flow_task, '.');
  char flow[64];
  snprintf(flow, sizeof flow, "%.*s", flow_end ? (int)(flow_end - t->flow_task) : 0, t->flow_task);
  const flowdef *fd = find_def(e, flow);
  const fd_node *n = fd ? flowdef_node(fd, node_part(t->flow_task)) : NULL;
  json_t *prev = NULL;
  if (store_task_previous(e->st, t->id, &prev, NULL)) prev = json_array();
  json_t *out = json_pack(
      "{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:s, s:o, s:o, s:o}", "id", (json_int_t)t->id,
      "process_id", (json_int_t)t->process_id, "flow", flow, "node", node_part(t->flow_task), "type",
      n ? node_kind_name(n->kind) : "obsolete", "title", n ? n->title : node_part(t->flow_task), "status", t->status,
      "owner", t->owner_name[0] ? json_string(t->owner_name) : json_null(), "token", t->token, "previous", prev,
      "data", parse_json_text(t->data), "created_at", t->created_at, "assigned_at", time_or_null(t->assigned_at),
      "started_at", time_or_null(t->started_at), "finished_at", time_or_null(t->finished_at));
  if (t->error_message)
    json_object_set_new(out, "error", json_pack("{s:s, s:s?}", "message", t->error_message, "traceback",
                                                t->error_traceback));
  if (!strcmp(t->status, "SCHEDULED") && t->due_at[0]) json_object_set_new(out, "due_at", json_string(t->due_at));
  if (t->attempts) json_object_set_new(out, "attempts", json_integer(t->attempts));
  return out;
}

static json_t *created_tasks_json(engine *e, json_t *ids) {
  json_t *arr = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) {
    st_task t;
    if (store_task_get(e->st, json_integer_value(v), &t, NULL)) continue;
    json_array_append_new(arr, task_json(e, &t));
    st_task_free(&t);
  }
  return arr;
}

/* --- visibility and the transition rules ------------------------------- */

static int can_see_process(engine *e, const fh_actor *a, const st_process *p, fherr *err) {
  if (a->is_admin || a->is_system || engine_is_manager(a, p->flow)) return 1;
  int yes = 0;
  if (store_process_involves(e->st, p->id, a->id, &yes, err)) return -1;
  return yes;
}


static int action_of(const char *name) {
  for (int i = 0; i < A__COUNT; i++)
    if (!strcmp(ACTIONS[i], name)) return i;
  return -1;
}

/* Whether actor may do `action` on t now: FH_OK, or FH_FORBIDDEN / FH_CONFLICT
 * with the reason.  n is NULL for a task whose node left the flow. */
static int check_action(run *r, st_task *t, const fd_node *n, int action, fherr *err) {
  const fh_actor *a = r->actor;
  const char *st = t->status;
  const char *kind = n ? node_kind_name(n->kind) : "obsolete";
  int manager = engine_is_manager(a, r->proc.flow);
  int owner = a->id && t->owner_id == a->id;
  if (strcmp(r->proc.status, "NEW") && strcmp(r->proc.status, "STARTED"))
    return fherr_set(err, FH_CONFLICT, "cannot %s: the process is %s", ACTIONS[action], r->proc.status);
  if ((!n || n->kind == NODE_OBSOLETE) && action != A_CANCEL)
    return fherr_set(err, FH_CONFLICT, "cannot %s: node '%s' is obsolete; a manager can only cancel it", ACTIONS[action],
                     node_part(t->flow_task));
  switch (action) {
  case A_ASSIGN:
    if (n->kind != NODE_VIEW) return fherr_set(err, FH_CONFLICT, "cannot assign: a %s task is not done by people", kind);
    if (a->is_system) return fherr_set(err, FH_FORBIDDEN, "cannot assign: a task needs a user to own it (--as USER)");
    if (!may_do_node(r, n, t, NULL)) return fherr_set(err, FH_FORBIDDEN, "cannot assign: you lack the permission for '%s'", n->name);
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
  json_array_foreach(ids, i, v) if ((rc = enqueue(r, json_integer_value(v), err))) break;
  json_decref(ids);
  return rc;
}

static int apply_action(run *r, st_task *t, const fd_node *n, int action, json_t *args, fherr *err) {
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
    int allowed = may_do_node(r, n, t, NULL);
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
      rc = clean_data(r->e, r->proc.flow, n->fields, n->nfields, data, &clean, err);
      if (!rc && n->has_validate) {
        if (!(rc = invoke_node(r, t, n, "validate", clean, 1, err))) {
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
      if (!rc) merge_form(r->data, clean, data);
      json_decref(clean);
    } else if (n->has_fn) {
      rc = invoke_node(r, t, n, "fn", data, 0, err);
    } else {
      json_t *clean = NULL;
      int nk = 0;
      char **keys = calloc(json_object_size(data) + 1, sizeof *keys);
      const char *k;
      json_t *v;
      /* only the flow's own fields: clean() reports the others as unknown */
      json_object_foreach(data, k, v) if (flowdef_field(r->fd, k)) keys[nk++] = (char *)k;
      rc = clean_data(r->e, r->proc.flow, keys, nk, data, &clean, err);
      free(keys);
      if (!rc) merge_into(r->data, clean);
      json_decref(clean);
    }
    json_decref(empty);
    if (rc || (rc = complete_task(r, t, err))) return rc;
    return follow_next(r, t, n, err);
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
    return create_task(r, n, t->token, t->id, err);
  }
  }
  return fherr_set(err, FH_BAD_REQUEST, "unknown action");
}

/* --- public: acting ------------------------------------------------------- */

static int begin(engine *e, fherr *err) {
  int rc = sync_flows(e, err);
  return rc ? rc : store_begin(e->st, err);
}

/* Commits, or rolls back when rc says the action failed. */
static int end_txn(engine *e, int rc, fherr *err) {
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
    proc = process_json(e, &p);
    st_process_free(&p);
  }
  json_t *out = json_pack("{s:o, s:o}", "process", proc ? proc : json_null(), "tasks", created_tasks_json(e, r->created));
  if (t) {
    st_task fresh;
    if (!store_task_get(e->st, t->id, &fresh, NULL)) {
      json_object_set_new(out, "task", task_json(e, &fresh));
      st_task_free(&fresh);
    }
  }
  return out;
}

int engine_start(engine *e, const fh_actor *a, const char *flow, const char *node, json_t *data, json_t **out,
                 fherr *err) {
  *out = NULL;
  int rc = sync_flows(e, err);
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
    if (!may_do_node(&r, n, NULL, NULL)) {
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
    rc = clean_data(e, flow, n->fields, n->nfields, input, &clean, err);
  } else if (!n->has_fn) {
    int nk = 0;
    char **keys = calloc(json_object_size(input) + 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(input, k, v) if (flowdef_field(fd, k)) keys[nk++] = (char *)k;
    rc = clean_data(e, flow, keys, nk, input, &clean, err);
    free(keys);
  }
  if (rc) {
    json_decref(empty);
    run_free(&r);
    return rc;
  }
  if (clean) merge_into(r.data, clean);

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
  if (n->kind == NODE_START_FUNCTION && n->has_fn) rc = invoke_node(&r, &t, n, "fn", input, 0, err);
  if (!rc) {
    snprintf(r.proc.status, sizeof r.proc.status, "STARTED");
    rc = complete_task(&r, &t, err);
  }
  if (!rc) rc = follow_next(&r, &t, n, err);
  if (!rc) rc = finish_run(&r, err);
  st_task_free(&t);
out:
  rc = end_txn(e, rc, err);
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
  int rc = begin(e, err);
  if (rc) return rc;
  st_task t = {0};
  run r;
  memset(&r, 0, sizeof r);
  if ((rc = store_task_get(e->st, task_id, &t, err))) goto out;
  if ((rc = run_init(&r, e, a, t.process_id, err))) goto out;
  int visible = can_see_process(e, a, &r.proc, err);
  const fd_node *n = r.fd ? flowdef_node(r.fd, node_part(t.flow_task)) : NULL;
  if (visible < 0) {
    rc = err ? err->code : FH_INTERNAL;
    goto out;
  }
  /* Queue members see the task before taking part in the process. */
  if (!visible && !(n && n->kind == NODE_VIEW && !strcmp(t.status, "NEW") && !a->is_system &&
                    may_do_node(&r, n, &t, NULL))) {
    rc = fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
    goto out;
  }
  if ((rc = check_action(&r, &t, n, act, err))) goto out;
  if ((rc = apply_action(&r, &t, n, act, args, err))) goto out;
  rc = finish_run(&r, err);
out:
  rc = end_txn(e, rc, err);
  if (!rc) *out = action_result(e, &r, &t);
  st_task_free(&t);
  run_free(&r);
  return rc;
}

int engine_process_cancel(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err) {
  *out = NULL;
  int rc = begin(e, err);
  if (rc) return rc;
  run r;
  st_task *rows = NULL;
  int n = 0;
  if ((rc = run_init(&r, e, a, process_id, err))) goto out;
  int visible = can_see_process(e, a, &r.proc, err);
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
    rc = save_process(&r, err);
  }
out:
  rc = end_txn(e, rc, err);
  if (!rc) {
    st_process p;
    if (!store_process_get(e->st, process_id, &p, err)) {
      *out = process_json(e, &p);
      st_process_free(&p);
    }
  }
  st_task_array_free(rows, n);
  run_free(&r);
  return rc;
}

/* --- public: reading ------------------------------------------------------ */

int engine_flows_list(engine *e, const fh_actor *a, json_t **out, fherr *err) {
  int rc = sync_flows(e, err);
  if (rc) return rc;
  json_t *items = json_array();
  for (int i = 0; i < e->gen->n; i++) {
    const flow_entry *fe = &e->gen->entries[i];
    const flowdef *fd = fe->def;
    json_t *item = json_pack("{s:s, s:s, s:s}", "name", fe->name, "title", fd && fd->title ? fd->title : fe->name,
                             "status", fe->has_error ? "error" : "ok");
    json_object_set_new(item, "description", fd && fd->description ? json_string(fd->description) : json_null());
    if (fe->has_error)
      json_object_set_new(item, "error", json_pack("{s:s, s:i, s:s}", "file", fe->error_file, "line", fe->error_line,
                                                   "message", fe->error_message));
    json_object_set_new(item, "loaded_at", time_or_null(fe->loaded_at));
    json_t *starts = json_array();
    run r;
    memset(&r, 0, sizeof r);
    r.e = e;
    r.actor = a;
    r.fd = fd;
    snprintf(r.proc.flow, sizeof r.proc.flow, "%s", fe->name);
    for (int j = 0; fd && j < fd->nnodes; j++) {
      const fd_node *n = &fd->nodes[j];
      if (n->kind != NODE_START && n->kind != NODE_START_FUNCTION) continue;
      int can = n->kind == NODE_START ? may_do_node(&r, n, NULL, NULL) : engine_is_manager(a, fe->name);
      json_array_append_new(starts, json_pack("{s:s, s:s, s:s, s:b}", "name", n->name, "title", n->title, "type",
                                              node_kind_name(n->kind), "can_start", can));
    }
    json_object_set_new(item, "start_nodes", starts);
    json_array_append_new(items, item);
  }
  *out = json_pack("{s:o}", "items", items);
  return FH_OK;
}

int engine_flow_get(engine *e, const fh_actor *a, const char *flow, json_t **out, fherr *err) {
  (void)a;
  int rc = sync_flows(e, err);
  if (rc) return rc;
  const flow_entry *fe = flowgen_find(e->gen, flow);
  if (!fe) return fherr_set(err, FH_NOT_FOUND, "unknown flow '%s'", flow);
  if (!fe->def) return fherr_set(err, FH_CONFLICT, "flow '%s' failed to load: %s", flow, fe->error_message);
  *out = flowdef_to_json(fe->def);
  json_object_set_new(*out, "status", json_string(fe->has_error ? "error" : "ok"));
  return FH_OK;
}

int engine_flow_dot(engine *e, const char *flow, char **out, fherr *err) {
  int rc = sync_flows(e, err);
  if (rc) return rc;
  const flowdef *fd = find_def(e, flow);
  if (!fd) return fherr_set(err, FH_NOT_FOUND, "unknown flow '%s'", flow);
  *out = flowdef_to_dot(fd);
  return *out ? FH_OK : fherr_set(err, FH_INTERNAL, "out of memory");
}

/* Flow tasks ("flow.node") of human nodes the actor may assign: the queue. */
static json_t *assignable(engine *e, const fh_actor *a, json_t **fn_nodes) {
  json_t *names = json_array();
  *fn_nodes = json_object();
  for (int i = 0; i < e->gen->n; i++) {
    const flowdef *fd = e->gen->entries[i].def;
    for (int j = 0; fd && j < fd->nnodes; j++) {
      const fd_node *n = &fd->nodes[j];
      if (n->kind != NODE_VIEW) continue;
      int yes = a->is_admin || a->is_system || (!n->permission && !n->permission_fn) ||
                (n->permission && fh_actor_has_perm(a, n->permission)) || n->permission_fn;
      if (!yes) continue;
      char ft[160];
      snprintf(ft, sizeof ft, "%s.%s", fd->name, n->name);
      json_array_append_new(names, json_string(ft));
      if (n->permission_fn && !a->is_admin && !a->is_system) json_object_set_new(*fn_nodes, ft, json_true());
    }
  }
  return names;
}

static json_t *managed_flows(engine *e, const fh_actor *a) {
  json_t *flows = json_array();
  for (int i = 0; i < e->gen->n; i++)
    if (engine_is_manager(a, e->gen->entries[i].name)) json_array_append_new(flows, json_string(e->gen->entries[i].name));
  return flows;
}

int engine_tasks_list(engine *e, const fh_actor *a, const engine_task_query *q, json_t **out, fherr *err) {
  *out = NULL;
  int rc = sync_flows(e, err);
  if (rc) return rc;
  store_task_query sq = {0};
  const char *view = q->view ? q->view : "inbox";
  if (!strcmp(view, "inbox")) sq.view = STORE_VIEW_INBOX;
  else if (!strcmp(view, "queue")) sq.view = STORE_VIEW_QUEUE;
  else if (!strcmp(view, "archive")) sq.view = STORE_VIEW_ARCHIVE;
  else if (!strcmp(view, "all")) sq.view = STORE_VIEW_ALL;
  else return fherr_set(err, FH_BAD_REQUEST, "view must be inbox, queue, archive or all");
  int limit = q->limit > 0 ? q->limit : 50;
  if (limit > 500) limit = 500;
  json_t *names = NULL, *fn_nodes = NULL, *managed = NULL;
  char *names_text = NULL, *managed_text = NULL;
  if (sq.view == STORE_VIEW_QUEUE) {
    names = assignable(e, a, &fn_nodes);
    names_text = dump_json(names);
    sq.assignable_json = names_text;
  } else if (sq.view == STORE_VIEW_ALL && !a->is_admin && !a->is_system) {
    managed = managed_flows(e, a);
    if (json_array_size(managed) == 0) {
      json_decref(managed);
      return fherr_set(err, FH_FORBIDDEN, "view=all is for managers");
    }
    managed_text = dump_json(managed);
    sq.managed_flows_json = managed_text;
  }
  sq.user_id = a->id;
  sq.flow = q->flow;
  sq.process_id = q->process_id;
  sq.status = q->status;
  sq.since = q->since;
  sq.until = q->until;
  sq.ascending = q->ascending;
  sq.after = q->after;
  sq.limit = limit + 1;
  st_task *rows = NULL;
  int n = 0;
  rc = store_task_list(e->st, &sq, &rows, &n, err);
  if (!rc) {
    json_t *items = json_array();
    json_t *summaries = json_object();
    int shown = n > limit ? limit : n;
    for (int i = 0; i < shown; i++) {
      st_task *t = &rows[i];
      if (fn_nodes && json_object_get(fn_nodes, t->flow_task)) {
        /* :Permission(fn) nodes are filtered per task */
        run r;
        if (run_init(&r, e, a, t->process_id, NULL)) {
          run_free(&r);
          continue;
        }
        const fd_node *node = r.fd ? flowdef_node(r.fd, node_part(t->flow_task)) : NULL;
        int ok = node && may_do_node(&r, node, t, NULL);
        run_free(&r);
        if (!ok) continue;
      }
      json_t *tj = task_json(e, t);
      char key[32];
      snprintf(key, sizeof key, "%lld", (long long)t->process_id);
      json_t *cached = json_object_get(summaries, key);
      if (!cached) {
        st_process p;
        json_t *pj = NULL;
        if (!store_process_get(e->st, t->process_id, &p, NULL)) {
          pj = process_json(e, &p);
          st_process_free(&p);
        }
        cached = json_pack("{s:O, s:O}", "summary", pj ? json_object_get(pj, "summary") : json_string(""),
                           "process_status", pj ? json_object_get(pj, "status") : json_null());
        json_decref(pj);
        json_object_set_new(summaries, key, cached);
      }
      json_object_set(tj, "process_summary", json_object_get(cached, "summary"));
      json_object_set(tj, "process_status", json_object_get(cached, "process_status"));
      const flowdef *fd = find_def(e, json_string_value(json_object_get(tj, "flow")));
      json_object_set_new(tj, "flow_title", json_string(fd && fd->title ? fd->title : json_string_value(json_object_get(tj, "flow"))));
      json_array_append_new(items, tj);
    }
    json_decref(summaries);
    json_t *next = n > limit ? json_integer(rows[limit - 1].id) : json_null();
    *out = json_pack("{s:o, s:o}", "items", items, "next_after", next);
  }
  st_task_array_free(rows, n);
  free(names_text);
  free(managed_text);
  json_decref(names);
  json_decref(fn_nodes);
  json_decref(managed);
  return rc;
}

/* The queue count when :Permission(fn) nodes decide per task: the rows are
 * filtered one by one, as engine_tasks_list does. */
/* Queue tasks of :Permission(fn) nodes are decided one by one; only those
 * are listed and asked, the rest of the queue is counted in SQL. */
static int count_queue_filtered(engine *e, const fh_actor *a, json_t *fn_nodes, int64_t *n, fherr *err) {
  json_t *names = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(fn_nodes, k, v) json_array_append_new(names, json_string(k));
  char *names_text = dump_json(names);
  json_decref(names);
  store_task_query sq = {.view = STORE_VIEW_QUEUE, .user_id = a->id, .assignable_json = names_text, .limit = 100000};
  st_task *rows = NULL;
  int count = 0;
  int rc = store_task_list(e->st, &sq, &rows, &count, err);
  free(names_text);
  if (rc) return rc;
  *n = 0;
  for (int i = 0; i < count; i++) {
    st_task *t = &rows[i];
    run r;
    int ok = 0;
    if (!run_init(&r, e, a, t->process_id, NULL)) {
      const fd_node *node = r.fd ? flowdef_node(r.fd, node_part(t->flow_task)) : NULL;
      ok = node && may_do_node(&r, node, t, NULL);
    }
    run_free(&r);
    *n += ok;
  }
  st_task_array_free(rows, count);
  return FH_OK;
}

int engine_tasks_counts(engine *e, const fh_actor *a, json_t **out, fherr *err) {
  int rc = sync_flows(e, err);
  if (rc) return rc;
  json_t *fn_nodes = NULL;
  json_t *names = assignable(e, a, &fn_nodes);
  /* plain nodes are counted in SQL; :Permission(fn) nodes one by one */
  json_t *plain = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(names, i, v) if (!json_object_get(fn_nodes, json_string_value(v))) json_array_append(plain, v);
  char *plain_text = dump_json(plain);
  store_task_query inbox = {.view = STORE_VIEW_INBOX, .user_id = a->id};
  store_task_query queue = {.view = STORE_VIEW_QUEUE, .user_id = a->id, .assignable_json = plain_text};
  int64_t ni = 0, nq = 0, nf = 0;
  if (!(rc = store_task_count_view(e->st, &inbox, &ni, err)) && !(rc = store_task_count_view(e->st, &queue, &nq, err)) &&
      !(rc = json_object_size(fn_nodes) ? count_queue_filtered(e, a, fn_nodes, &nf, err) : FH_OK))
    *out = json_pack("{s:I, s:I}", "inbox", (json_int_t)ni, "queue", (json_int_t)(nq + nf));
  free(plain_text);
  json_decref(plain);
  json_decref(names);
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

int engine_task_get(engine *e, const fh_actor *a, int64_t task_id, json_t **out, fherr *err) {
  *out = NULL;
  int rc = sync_flows(e, err);
  if (rc) return rc;
  st_task t;
  if ((rc = store_task_get(e->st, task_id, &t, err))) return rc;
  run r;
  if ((rc = run_init(&r, e, a, t.process_id, err))) {
    st_task_free(&t);
    run_free(&r);
    return rc;
  }
  const fd_node *n = r.fd ? flowdef_node(r.fd, node_part(t.flow_task)) : NULL;
  int visible = can_see_process(e, a, &r.proc, err);
  if (visible == 0 && n && !strcmp(t.status, "NEW") && n->kind == NODE_VIEW && !a->is_system &&
      may_do_node(&r, n, &t, NULL))
    visible = 1;
  if (visible <= 0) {
    rc = visible < 0 ? FH_INTERNAL : fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
  } else {
    json_t *actions = json_array();
    for (int i = 0; i < A__COUNT; i++) {
      if (!check_action(&r, &t, n, i, NULL)) json_array_append_new(actions, json_string(ACTIONS[i]));
    }
    *out = json_pack("{s:o, s:o, s:o, s:o}", "task", task_json(e, &t), "form", form_json(e, r.fd, n && n->kind == NODE_VIEW ? n : NULL, r.data),
                     "actions", actions, "process", process_json(e, &r.proc));
  }
  st_task_free(&t);
  run_free(&r);
  return rc;
}

int engine_processes_list(engine *e, const fh_actor *a, const engine_process_query *q, json_t **out, fherr *err) {
  int rc = sync_flows(e, err);
  if (rc) return rc;
  int limit = q->limit > 0 ? q->limit : 50;
  if (limit > 500) limit = 500;
  store_process_query sq = {.flow = q->flow, .status = q->status, .after = q->after, .limit = limit + 1};
  json_t *managed = NULL;
  char *managed_text = NULL;
  if (!a->is_admin && !a->is_system) {
    sq.visible_to = a->id;
    managed = managed_flows(e, a);
    managed_text = dump_json(managed);
    sq.managed_flows_json = managed_text;
  }
  json_t *rows = NULL;
  rc = store_process_list(e->st, &sq, &rows, err);
  if (!rc) {
    json_t *items = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
      if ((int)i >= limit) break;
      st_process p = {0};
      p.id = json_integer_value(json_object_get(row, "id"));
      snprintf(p.flow, sizeof p.flow, "%s", json_string_value(json_object_get(row, "flow")));
      snprintf(p.status, sizeof p.status, "%s", json_string_value(json_object_get(row, "status")));
      p.data = (char *)json_string_value(json_object_get(row, "data"));
      const char *by = json_string_value(json_object_get(row, "created_by"));
      snprintf(p.created_by_name, sizeof p.created_by_name, "%s", by ? by : "");
      snprintf(p.created_at, sizeof p.created_at, "%s", json_string_value(json_object_get(row, "created_at")));
      const char *fin = json_string_value(json_object_get(row, "finished_at"));
      snprintf(p.finished_at, sizeof p.finished_at, "%s", fin ? fin : "");
      json_array_append_new(items, process_json(e, &p));
    }
    size_t n = json_array_size(rows);
    json_t *next = (int)n > limit ? json_integer(json_integer_value(json_object_get(json_array_get(rows, limit - 1), "id")))
                                  : json_null();
    *out = json_pack("{s:o, s:o}", "items", items, "next_after", next);
  }
  json_decref(rows);
  json_decref(managed);
  free(managed_text);
  return rc;
}

int engine_process_get(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err) {
  *out = NULL;
  int rc = sync_flows(e, err);
  if (rc) return rc;
  st_process p;
  if ((rc = store_process_get(e->st, process_id, &p, err))) return rc;
  int visible = can_see_process(e, a, &p, err);
  if (visible <= 0) {
    st_process_free(&p);
    return visible < 0 ? FH_INTERNAL : fherr_set(err, FH_NOT_FOUND, "process %lld not found", (long long)process_id);
  }
  st_task *rows = NULL;
  int n = 0;
  if (!(rc = store_task_of_process(e->st, process_id, &rows, &n, err))) {
    json_t *tasks = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(tasks, task_json(e, &rows[i]));
    *out = json_pack("{s:o, s:o}", "process", process_json(e, &p), "tasks", tasks);
  }
  st_task_array_free(rows, n);
  st_process_free(&p);
  return rc;
}

/* --- jobs and timers ------------------------------------------------------ */

/* Applies to `current` the top-level keys that the job changed relative to
 * its snapshot, so edits made by people while the job ran survive. */
static void merge_job_changes(json_t *current, const json_t *snapshot, const json_t *result) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)result, k, v) {
    json_t *before = json_object_get(snapshot, k);
    if (!before || !json_equal(before, v)) json_object_set(current, k, v);
  }
  json_object_foreach((json_t *)snapshot, k, v) {
    if (!json_object_get(result, k)) json_object_del(current, k);
  }
}

/* Re-reads the claimed task inside the write transaction: a job whose
 * task was canceled, or re-claimed after its lease ran out, is stale. */
static int still_ours(engine *e, const st_task *claimed, st_task *now, fherr *err) {
  int rc = store_task_get(e->st, claimed->id, now, err);
  if (rc) return 0;
  return !strcmp(now->status, "SCHEDULED") && !strcmp(now->lease_owner, claimed->lease_owner) &&
         !strcmp(now->lease_until, claimed->lease_until);
}

static int run_one_due(engine *e, st_task *claimed, fherr *err) {
  fh_actor system;
  fh_actor_system(&system);
  run r;
  int rc = run_init(&r, e, &system, claimed->process_id, err);
  if (rc) {
    run_free(&r);
    return rc;
  }
  r.job_mode = 1;
  const fd_node *n = r.fd ? flowdef_node(r.fd, node_part(claimed->flow_task)) : NULL;
  fherr cause = {0};
  json_t *snapshot = json_deep_copy(r.data);
  json_t *task_data_after = NULL;
  int job_failed = 0;
  if (n && n->kind == NODE_JOB) {
    /* The job runs with no transaction open: other actions go on meanwhile. */
    double old = luavm_set_budget(e->vm, n->timeout > 0 ? n->timeout : e->budget);
    job_failed = invoke_node(&r, claimed, n, "fn", NULL, 0, &cause) != FH_OK;
    luavm_set_budget(e->vm, old);
    (void)task_data_after;
  } else if (!n || n->kind != NODE_TIMER) {
    fherr_set(&cause, FH_FLOW_ERROR, "node '%s' no longer exists as a job or timer", node_part(claimed->flow_task));
    job_failed = 1;
  }
  if ((rc = store_begin(e->st, err))) goto out;
  st_task t = {0};
  if (!still_ours(e, claimed, &t, err)) {
    st_task_free(&t);
    store_rollback(e->st);
    goto out;   /* canceled or re-claimed meanwhile: the result is dropped */
  }
  st_process fresh;
  if ((rc = store_process_get(e->st, r.proc.id, &fresh, err))) {
    st_task_free(&t);
    goto done;
  }
  json_t *current = parse_json_text(fresh.data);
  snprintf(r.proc.status, sizeof r.proc.status, "%s", fresh.status);
  st_process_free(&fresh);
  if (job_failed) {
    json_decref(current);
    t.attempts++;
    t.lease_until[0] = '\0';
    if (n && n->kind == NODE_JOB && t.attempts < n->retry_attempts) {
      double delay = n->retry_backoff * pow(2, t.attempts - 1);
      fhtime_format(fhtime_epoch() + delay, t.due_at);
      free(t.error_message);
      t.error_message = strdup(cause.message);
    } else {
      snprintf(t.status, sizeof t.status, "ERROR");
      free(t.error_message);
      free(t.error_traceback);
      t.error_message = strdup(cause.message);
      t.error_traceback = cause.traceback ? strdup(cause.traceback) : NULL;
    }
    rc = store_task_update(e->st, &t, err);
    st_task_free(&t);
    goto done;
  }
  merge_job_changes(current, snapshot, r.data);
  json_decref(r.data);
  r.data = current;
  free(t.data);
  t.data = claimed->data ? strdup(claimed->data) : NULL;
  free(t.error_message);
  t.error_message = NULL;
  if (strcmp(r.proc.status, "NEW") && strcmp(r.proc.status, "STARTED")) {
    rc = complete_task(&r, &t, err);   /* the process ended meanwhile: record, go no further */
  } else if (!(rc = complete_task(&r, &t, err))) {
    if (!(rc = follow_next(&r, &t, n, err))) rc = finish_run(&r, err);
    else if (rc == FH_FLOW_ERROR) {
      /* The node right after the job could not even be created (a start,
       * obsolete or join node it cannot reach): the job's own task shows
       * the error for a manager, and its result is dropped (a revive runs
       * the job again). */
      store_rollback(e->st);
      st_task_free(&t);
      json_decref(snapshot);
      run_free(&r);
      fherr_clear(&cause);
      if ((rc = store_begin(e->st, err))) return rc;
      st_task again;
      if (!store_task_get(e->st, claimed->id, &again, err)) {
        snprintf(again.status, sizeof again.status, "ERROR");
        free(again.error_message);
        again.error_message = strdup(err ? err->message : "error after the job");
        again.lease_until[0] = '\0';
        rc = store_task_update(e->st, &again, err);
        st_task_free(&again);
      }
      return end_txn(e, rc, err);
    }
  }
  st_task_free(&t);
done:
  rc = end_txn(e, rc, err);
out:
  json_decref(snapshot);
  fherr_clear(&cause);
  run_free(&r);
  return rc;
}

int engine_run_due(engine *e, int max, int *ran, fherr *err) {
  *ran = 0;
  int rc;
  while (max <= 0 || *ran < max) {
    if ((rc = begin(e, err))) return rc;
    char now[FH_TIME_LEN], until[FH_TIME_LEN];
    fhtime_now(now);
    st_task claimed;
    /* The lease outlasts the job's time budget; if the worker dies, the job
     * becomes claimable again once it expires. */
    fhtime_format(fhtime_epoch() + e->budget + e->lease_grace, until);
    char owner[96];
    snprintf(owner, sizeof owner, "%s:%ld", e->worker, (long)random());
    rc = store_task_claim_due(e->st, now, owner, until, &claimed, err);
    if (rc == FH_NOT_FOUND) {
      store_rollback(e->st);
      if (err) fherr_clear(err);
      return FH_OK;
    }
    if (rc || (rc = store_commit(e->st, err))) {
      store_rollback(e->st);
      return rc;
    }
    const flowdef *fd = NULL;
    char flow[64];
    const char *dot = strchr(claimed.flow_task, '.');
    snprintf(flow, sizeof flow, "%.*s", dot ? (int)(dot - claimed.flow_task) : 0, claimed.flow_task);
    fd = find_def(e, flow);
    const fd_node *n = fd ? flowdef_node(fd, node_part(claimed.flow_task)) : NULL;
    if (n && n->kind == NODE_JOB && n->timeout > 0) {
      /* re-lease for the job's own timeout */
      if (!(rc = store_begin(e->st, err))) {
        st_task t;
        if (!store_task_get(e->st, claimed.id, &t, err)) {
          fhtime_format(fhtime_epoch() + n->timeout + e->lease_grace, t.lease_until);
          store_task_update(e->st, &t, err);
          snprintf(claimed.lease_until, sizeof claimed.lease_until, "%s", t.lease_until);
          st_task_free(&t);
        }
        rc = end_txn(e, rc, err);
      }
    }
    if (!rc) rc = run_one_due(e, &claimed, err);
    st_task_free(&claimed);
    (*ran)++;
    if (rc && rc != FH_FLOW_ERROR) return rc;
    if (err) fherr_clear(err);
  }
  return FH_OK;
}

int engine_next_due(engine *e, double *seconds, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  return store_task_next_due(e->st, now, seconds, err);
}

int engine_rename_node(engine *e, const char *flow, const char *from, const char *to, int64_t *changed, fherr *err) {
  int rc = sync_flows(e, err);
  if (rc) return rc;
  const flowdef *fd = find_def(e, flow);
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
  return end_txn(e, rc, err);
}
