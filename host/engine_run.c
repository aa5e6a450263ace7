#include "engine_internal.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>

#include "fhtime.h"

/* A run that takes more automatic steps than this is a loop that never
 * reaches a human task; it fails instead of holding the write lock forever. */
#define MAX_STEPS 10000

/* --- a run: one action's automatic activations ------------------------ */

void run_free(run *r) {
  st_process_free(&r->proc);
  json_decref(r->data);
  json_decref(r->created);
  free(r->queue);
}

int run_init(run *r, engine *e, const fh_actor *a, int64_t process_id, fherr *err) {
  memset(r, 0, sizeof *r);
  r->e = e;
  r->actor = a;
  r->created = json_array();
  int rc = store_process_get(e->st, process_id, &r->proc, err);
  if (rc) return rc;
  r->data = parse_json_text(r->proc.data);
  r->fd = engine_find_def(e, r->proc.flow);
  return FH_OK;
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

int run_save_process(run *r, fherr *err) {
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


static int read_back(run *r, int idx, st_task *t, fherr *err);

/* Replaces the contents of the table at idx with the fields of obj, in
 * place, so references the callback holds to it stay current. */
static void refill_table(lua_State *L, int idx, const json_t *obj) {
  idx = lua_absindex(L, idx);
  for (;;) {   /* clear: restart after each removal, next() is undefined then */
    lua_pushnil(L);
    if (!lua_next(L, idx)) break;
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawset(L, idx);
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    if (json_is_null(v)) continue;
    luavm_push_json(L, v);
    lua_setfield(L, idx, k);
  }
}

/* The callback's process.data table, pushed (nil when it replaced it). */
static int push_callback_data(lua_State *L, act_handle *h) {
  (void)h;
  if (lua_getiuservalue(L, lua_upvalueindex(1), 1) != LUA_TTABLE) return 0;
  lua_pushliteral(L, "process");
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_pushliteral(L, "data");
  lua_rawget(L, -2);
  lua_remove(L, -2);
  lua_remove(L, -2);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* upvalues: handle, action index, is_can_proceed.  The handle's user value
 * is the activation table: a transition first takes over what the callback
 * wrote to process.data so far, and afterwards shows it what the
 * transition changed, so neither side's changes are lost. */
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
      return luaL_error(L, "%s: the argument must be plain data", ENGINE_ACTIONS[action]);
    }
  }
  st_task t;
  fherr err = {0};
  int rc = store_task_get(r->e->st, h->task_id, &t, &err);
  const fd_node *n = rc || !r->fd ? NULL : flowdef_node(r->fd, node_part(t.flow_task));
  if (!rc) rc = engine_check_action(r, &t, n, action, &err);
  if (probe) {
    st_task_free(&t);
    json_decref(args);
    fherr_clear(&err);
    lua_pushboolean(L, rc == FH_OK);
    return 1;
  }
  if (!rc && lua_getiuservalue(L, lua_upvalueindex(1), 1) == LUA_TTABLE) rc = read_back(r, -1, NULL, &err);
  lua_pop(L, 1);
  if (!rc) rc = engine_apply_action(r, &t, n, action, args, &err);
  if (!rc && push_callback_data(L, h)) {
    refill_table(L, -1, r->data);
    lua_pop(L, 1);
  }
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
  act_handle *h = lua_newuserdatauv(L, sizeof *h, 1);
  h->r = r;
  h->task_id = t->id;
  h->alive = 1;
  lua_pushvalue(L, -2);            /* the activation table, for l_transition */
  lua_setiuservalue(L, -2, 1);
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
    lua_setfield(L, hi - 1, ENGINE_ACTIONS[i]);
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
static int run_invoke(run *r, st_task *t, const json_t *extra, int nres, fherr *err) {
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

int run_invoke_node(run *r, st_task *t, const fd_node *n, const char *key, const json_t *extra, int nres,
                       fherr *err) {
  flowdef_push_callback(luavm_state(r->e->vm), r->proc.flow, n->name, key);
  return run_invoke(r, t, extra, nres, err);
}

/* Calls flow.clean(def, fields, data) -> clean | nil, errors. */
int run_clean_data(engine *e, const char *flow, char **fields, int nfields, const json_t *data,
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

/* Cleans the keys of data that are fields of the flow (for start functions
 * and functions without a callback, whose input has no form of its own). */
int run_clean_known(engine *e, const flowdef *fd, const json_t *data, json_t **out, fherr *err) {
  char **keys = calloc(json_object_size(data) + 1, sizeof *keys);
  if (!keys) return fherr_set(err, FH_INTERNAL, "out of memory");
  int nk = 0;
  const char *k;
  json_t *v;
  /* only the flow's own fields: clean() reports the others as unknown */
  json_object_foreach((json_t *)data, k, v) if (flowdef_field(fd, k)) keys[nk++] = (char *)k;
  int rc = run_clean_data(e, fd->name, keys, nk, data, out, err);
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

/* --- permissions --------------------------------------------------------- */

/* May the actor take (assign) tasks of node n?  t may be NULL (queue scans). */
int run_may_do_node(run *r, const fd_node *n, st_task *t, fherr *err) {
  const fh_actor *a = r->actor;
  if (a->is_admin || a->is_system) return 1;
  if (n->permission) return fh_actor_has_perm(a, n->permission);
  if (n->permission_fn) {
    lua_State *L = luavm_state(r->e->vm);
    flowdef_push_callback(L, r->proc.flow, n->name, "permission_fn");
    engine_push_user(L, a);
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

int run_complete_task(run *r, st_task *t, fherr *err) {
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
    int rc = run_invoke_node(r, t, n, "assign_fn", NULL, 1, err);
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
  int waiting = 0;
  int rc = store_task_find_join(r->e->st, r->proc.id, ft, join_of, &id, &waiting, err);
  if (rc) return rc;
  if (id) {
    if ((rc = store_task_add_previous(r->e->st, id, prev, err))) return rc;
    return waiting ? run_enqueue(r, id, err) : FH_OK;
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
  return run_enqueue(r, t.id, err);
}

/* Creates the task of node n reached with token from task prev. */
int run_create_task(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err) {
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
      if ((rc = run_invoke_node(r, &t, n, "fn", NULL, 1, err))) goto setup_failed;
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
  if (automatic) rc = run_enqueue(r, t.id, err);
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
  return run_create_task(r, to, token, from->id, err);
}

int run_follow_next(run *r, const st_task *from, const fd_node *n, fherr *err) {
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
  int rc = run_invoke(r, t, NULL, 1, err);
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
    if ((rc = run_invoke_node(r, t, n, "fn", NULL, 0, err)) || (rc = run_complete_task(r, t, err))) return rc;
    return run_follow_next(r, t, n, err);
  case NODE_IF: {
    if ((rc = eval_cond(r, t, n, -1, &yes, err)) || (rc = run_complete_task(r, t, err))) return rc;
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
    if ((rc = run_complete_task(r, t, err))) return rc;
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
    rc = count ? run_complete_task(r, t, err)
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
    if ((rc = run_complete_task(r, t, err))) return rc;
    return run_follow_next(r, t, n, err);
  }
  case NODE_END:
    return run_complete_task(r, t, err);
  default:
    return fherr_set(err, FH_INTERNAL, "node '%s' (%s) is not automatic", n->name, node_kind_name(n->kind));
  }
}

static int run_mark_error(run *r, int64_t task_id, const fherr *cause, fherr *err) {
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
      while (!rc && r->qhead < r->qlen) rc = run_mark_error(r, r->queue[r->qhead++], &cause, err);
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
      if ((rc = run_mark_error(r, id, &cause, err))) return rc;
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
      rc = run_mark_error(r, id, &cause, err);
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
int run_finish(run *r, fherr *err) {
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
  return run_save_process(r, err);
}

