/* activation — builds what a flow callback sees and reads back what it
 * returns (see activation.h).  A Lua unit: it calls luavm, the flowdef
 * registry lookups of luaside.h, and the engine only through act_door.
 *
 * The stack discipline of every question is the same: push the callback,
 * push self and the activation table (kept one slot above the function so
 * it can be read back after the call), call through luavm_pcall, read the
 * result and the activation's data back, and leave the stack as it was.
 * Each public function asserts that on the way out.
 */
#include "activation.h"

#include <assert.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhlog.h"
#include "luaside.h"

/* --- the liveness handle and the transitions ---------------------------- */

/* A transition closure reaches its activation through this handle, which
 * dies when the callback returns. */
typedef struct act_handle {
  act_ctx *c;
  int alive;
  /* the transition names (static), readable after c is gone */
  const char *const *actions;
  int nactions;
  int transitions_pending;   /* not yet set into the activation table */
  int task_pending;          /* activation.task not built yet */
  int data_pending;          /* activation.process.data not pushed yet (large data) */
} act_handle;

#define HANDLE_MT "flowhost.activation"

/* Reads t[key] without metamethods: a callback may have replaced the
 * activation's tables with ones whose __index raises, and reading back runs
 * outside any protected call. */
static int raw_field(lua_State *L, int idx, const char *key) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, key);
  return lua_rawget(L, idx);
}

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

/* process.data of the activation table at idx becomes *c->data; unless
 * the callback never looked at it (pending: it is still *c->data). */
static int read_process_data(lua_State *L, int idx, act_ctx *c, const act_handle *h, fherr *err) {
  int rc = FH_OK;
  if (h && h->data_pending) return FH_OK;
  if (raw_field(L, idx, "process") == LUA_TTABLE) {
    json_t *data = NULL;
    if (raw_field(L, -1, "data") != LUA_TTABLE)
      rc = fherr_set(err, FH_FLOW_ERROR, "activation.process.data must stay a table");
    else if (!(rc = luavm_to_json(L, -1, &data, err))) {
      json_decref(*c->data);
      *c->data = data;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
}

/* The task data table at idx as JSON; NULL for an empty table, which
 * luavm_to_json reads as {} (most tasks have no data of their own). */
static int task_data_json(lua_State *L, int idx, json_t **data, fherr *err) {
  idx = lua_absindex(L, idx);
  *data = NULL;
  lua_pushnil(L);
  if (!lua_next(L, idx)) return FH_OK;
  lua_pop(L, 2);
  return luavm_to_json(L, idx, data, err);
}

/* task.data of the activation table at idx becomes *c->task_data (text). */
static int read_task_data(lua_State *L, int idx, act_ctx *c, fherr *err) {
  int rc = FH_OK;
  if (raw_field(L, idx, "task") == LUA_TTABLE) {
    json_t *data = NULL;
    if (raw_field(L, -1, "data") == LUA_TTABLE && !(rc = task_data_json(L, -1, &data, err))) {
      char *text = data ? json_dumps(data, JSON_COMPACT) : strdup("{}");
      json_decref(data);
      if (text) {
        free(*c->task_data);
        *c->task_data = text;
      }
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
}

/* The callback's process.data table, pushed; 0 (nothing pushed) when it
 * replaced it with something else. */
static int push_callback_data(lua_State *L) {
  int top = lua_gettop(L);
  if (lua_getiuservalue(L, lua_upvalueindex(1), 1) == LUA_TTABLE && raw_field(L, -1, "process") == LUA_TTABLE &&
      raw_field(L, -1, "data") == LUA_TTABLE) {
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
  }
  lua_settop(L, top);
  return 0;
}

/* The optional plain-data argument of a transition, or NULL. */
static int transition_args(lua_State *L, int idx, const char *name, json_t **args) {
  *args = NULL;
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  fherr cerr = {0};
  if (luavm_to_json(L, idx, args, &cerr)) {
    fherr_clear(&cerr);
    return luaL_error(L, "%s: the argument must be plain data", name);
  }
  return 0;
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
  act_ctx *c = h->c;
  const act_door *door = c->door;
  fherr err = {0};
  if (probe) {
    int rc = door->transition(door->ctx, c->task_id, action, 1, NULL, &err);
    fherr_clear(&err);
    lua_pushboolean(L, rc == FH_OK);
    return 1;
  }
  json_t *args = NULL;
  transition_args(L, 2, door->actions[action], &args);   /* __call passes the callable first */
  int rc = FH_OK;
  if (lua_getiuservalue(L, lua_upvalueindex(1), 1) == LUA_TTABLE) rc = read_process_data(L, -1, c, h, &err);
  lua_pop(L, 1);
  if (!rc) rc = door->transition(door->ctx, c->task_id, action, 0, args, &err);
  json_decref(args);
  if (!rc && push_callback_data(L)) {
    refill_table(L, -1, *c->data);
    lua_pop(L, 1);
  }
  if (rc) {
    char msg[sizeof err.message];
    snprintf(msg, sizeof msg, "%s", err.message);
    fherr_clear(&err);
    return luaL_error(L, "%s", msg);   /* nothing of C's is left to free */
  }
  return 0;
}

static void push_transition(lua_State *L, int handle, int action, int probe) {
  lua_pushvalue(L, handle);
  lua_pushinteger(L, action);
  lua_pushboolean(L, probe);
  lua_pushcclosure(L, l_transition, 3);
}

/* Sets the transitions of handle h (at index hi) into the activation table
 * at act: each a callable {can_proceed = fn} whose metatable's __call does
 * the transition. */
static void add_transitions(lua_State *L, int act, int hi, const act_handle *h) {
  for (int i = 0; i < h->nactions; i++) {
    lua_createtable(L, 0, 1);   /* the callable: {can_proceed = fn} */
    push_transition(L, hi, i, 1);
    lua_setfield(L, -2, "can_proceed");
    lua_createtable(L, 0, 1);   /* its metatable: __call does it */
    push_transition(L, hi, i, 0);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    lua_setfield(L, act, h->actions[i]);
  }
}

static int is_action_name(const act_handle *h, const char *key) {
  for (int i = 0; key && i < h->nactions; i++)
    if (!strcmp(h->actions[i], key)) return 1;
  return 0;
}

/* next(t, k), as the base library's (which a flow may have replaced). */
static int l_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

static void push_task(lua_State *L, const act_ctx *c);

/* activation.task, built into the activation table at act (a dead
 * handle's is nil: its task is gone with the callback). */
static void build_task(lua_State *L, int act, act_handle *h) {
  h->task_pending = 0;
  if (!h->alive) return;
  push_task(L, h->c);
  lua_setfield(L, act, "task");
}

/* The activation's metamethod, for __index (t, key) and __pairs (t); upvalues:
 * the handle, the activation's metatable.  The transitions and the task
 * table are built on the first look at them (or pairs over the activation)
 * rather than for every callback: 14 tables and 14 closures per callback
 * were most of what an automatic step cost in Lua, and most callbacks
 * touch neither (an automatic handler reads process.data).  Once built
 * they are plain fields, and once both are the metatable is gone. */
static int l_lazy_transitions(lua_State *L) {
  act_handle *h = luaL_checkudata(L, lua_upvalueindex(1), HANDLE_MT);
  int is_pairs = lua_gettop(L) == 1;
  const char *key = !is_pairs && lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  int is_task = key && h->task_pending && !strcmp(key, "task");
  if (lua_getiuservalue(L, lua_upvalueindex(1), 1) != LUA_TTABLE || !lua_rawequal(L, 1, -1) ||
      (!is_pairs && !is_task && !(h->transitions_pending && key && is_action_name(h, key)))) {
    if (is_pairs) goto pairs;   /* another table with this metatable: plain pairs */
    lua_pushnil(L);   /* an activation field that does not exist */
    return 1;
  }
  lua_pop(L, 1);
  if (is_pairs || is_task) {
    if (h->task_pending) build_task(L, 1, h);
  }
  if ((is_pairs || !is_task) && h->transitions_pending) {
    add_transitions(L, 1, lua_upvalueindex(1), h);
    h->transitions_pending = 0;
  }
  if (!h->task_pending && !h->transitions_pending && lua_getmetatable(L, 1) &&
      lua_rawequal(L, -1, lua_upvalueindex(2))) {
    lua_pushnil(L);
    lua_setmetatable(L, 1);
  }
  if (is_pairs) {
  pairs:
    lua_pushcfunction(L, l_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, 1);
  return 1;
}

/* The handle of the activation table at act (its user value 1; the
 * process table at proc is user value 2), pushed. */
static act_handle *push_handle(lua_State *L, act_ctx *c, int act, int proc) {
  act_handle *h = lua_newuserdatauv(L, sizeof *h, 2);
  memset(h, 0, sizeof *h);
  h->c = c;
  h->alive = 1;
  lua_pushvalue(L, act);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, proc);
  lua_setiuservalue(L, -2, 2);
  if (luaL_newmetatable(L, HANDLE_MT)) {
    lua_pushliteral(L, "activation handle");
    lua_setfield(L, -2, "__name");
  }
  lua_setmetatable(L, -2);
  return h;
}

/* Gives the activation table at act its transitions and its task (each
 * built when first looked at) through handle h, on top of the stack. */
static void add_lazy_fields(lua_State *L, act_ctx *c, int act, act_handle *h, int transitions, int task) {
  h->actions = transitions ? c->door->actions : NULL;
  h->nactions = transitions ? c->door->nactions : 0;
  h->transitions_pending = transitions;
  h->task_pending = task;
  lua_createtable(L, 0, 2);   /* the activation's metatable */
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, l_lazy_transitions, 2);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__index");
  lua_setfield(L, -2, "__pairs");
  lua_setmetatable(L, act);
}

/* --- process.data, pushed when first looked at ------------------------------
 * A callback's activation has carried the whole process data, and the data
 * was read back after it: twice the size of the data for every callback.
 * A :ForEach over a process field of 10,000 items called its :Assign
 * function 10,000 times with those 10,000 items, most of the group's
 * start.  Large data (over LAZY_DATA_MIN values) is therefore pushed when
 * the callback first looks at process.data (or pairs over the process),
 * and read back only then; small data, most of it, at once as before. */
#define LAZY_DATA_MIN 64

/* Whether v holds more than *left values (members and elements, counted
 * until there are too many). */
static int holds_more(const json_t *v, int *left) {
  if (--*left < 0) return 1;
  const char *k;
  json_t *x;
  size_t i;
  if (json_is_object(v)) json_object_foreach((json_t *)v, k, x) if (holds_more(x, left)) return 1;
  if (json_is_array(v)) json_array_foreach(v, i, x) if (holds_more(x, left)) return 1;
  return 0;
}

/* The process table's metamethod, for __index (t, key), __newindex (t,
 * key, value) and __pairs (t); upvalue: the handle.  The first look at
 * "data", an assignment to it, or pairs, pushes the data (not once the
 * callback returned: its data is gone with it) and drops the metatable. */
static int l_lazy_data(lua_State *L) {
  act_handle *h = luaL_checkudata(L, lua_upvalueindex(1), HANDLE_MT);
  luaL_checktype(L, 1, LUA_TTABLE);   /* a flow may call the metamethod itself, with anything */
  int nargs = lua_gettop(L);
  const char *key = nargs >= 2 && lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  int own = lua_getiuservalue(L, lua_upvalueindex(1), 2) == LUA_TTABLE && lua_rawequal(L, 1, -1);
  lua_pop(L, 1);
  if (own && h->data_pending && (nargs == 1 || (key && !strcmp(key, "data")))) {
    h->data_pending = 0;
    lua_pushnil(L);
    lua_setmetatable(L, 1);
    if (nargs != 3 && h->alive) {
      luavm_push_json(L, *h->c->data);
      lua_setfield(L, 1, "data");
    }
  }
  if (nargs == 1) {
    lua_pushcfunction(L, l_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
  }
  lua_settop(L, 3);
  if (nargs == 3) {
    lua_rawset(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  lua_rawget(L, 1);
  return 1;
}

/* Gives the process table at proc its lazy data through handle h, on top
 * of the stack. */
static void add_lazy_data(lua_State *L, int proc, act_handle *h) {
  h->data_pending = 1;
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, l_lazy_data, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__index");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__newindex");
  lua_setfield(L, -2, "__pairs");
  lua_setmetatable(L, proc);
}

/* --- the activation table ------------------------------------------------- */

static void set_string(lua_State *L, const char *key, const char *value) {
  if (!value || !value[0]) return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

/* Pushes the process table; its data too unless lazy (returns 1: then
 * add_lazy_data must follow). */
static int push_process(lua_State *L, const act_ctx *c) {
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, c->process_id);
  lua_setfield(L, -2, "id");
  set_string(L, "flow", c->flow);
  set_string(L, "status", c->process_status);
  set_string(L, "created_by", c->created_by);
  set_string(L, "created_at", c->created_at);
  int left = LAZY_DATA_MIN;
  if (*c->data && holds_more(*c->data, &left)) return 1;
  luavm_push_json(L, *c->data);
  lua_setfield(L, -2, "data");
  return 0;
}

static void push_task(lua_State *L, const act_ctx *c) {
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, c->task_id);
  lua_setfield(L, -2, "id");
  set_string(L, "node", c->node);
  set_string(L, "status", c->task_status);
  set_string(L, "owner", c->owner);
  lua_pushstring(L, c->token ? c->token : "");
  lua_setfield(L, -2, "token");
  const char *text = c->task_data ? *c->task_data : NULL;
  json_t *td = text && strcmp(text, "{}") ? json_loads(text, 0, NULL) : NULL;
  if (td) luavm_push_json(L, td);
  else lua_createtable(L, 0, 0);   /* no data, "{}" or unreadable: an empty table, without jansson */
  json_decref(td);
  lua_setfield(L, -2, "data");
}

/* Pushes the activation table {process, task, flow}; returns the handle of
 * its task and transitions (NULL without either).  The task table and the
 * transitions come later, if at all (add_lazy_fields), and so does large
 * process data (add_lazy_data). */
static act_handle *push_activation(lua_State *L, act_ctx *c) {
  lua_createtable(L, 0, 3);
  int act = lua_gettop(L);
  int lazy = push_process(L, c);
  lua_pushvalue(L, -1);
  lua_setfield(L, act, "process");
  lua_pushstring(L, c->flow);
  lua_setfield(L, act, "flow");
  int transitions = c->task_id && c->door, task = c->node && c->token;
  act_handle *h = NULL;
  if (transitions || task || lazy) {
    h = push_handle(L, c, act, act + 1);
    if (lazy) add_lazy_data(L, act + 1, h);
    if (transitions || task) add_lazy_fields(L, c, act, h, transitions, task);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);   /* the process table */
  assert(lua_gettop(L) == act);
  return h;
}

/* --- calling ------------------------------------------------------------- */

/* Calls the function on top of the stack as fn(self, activation[, extra]).
 * Leaves nres results on success, nothing on error.  The data the callback
 * changed is taken over only when it succeeds. */
static int invoke(luavm *vm, act_ctx *c, const json_t *extra, int nres, fherr *err) {
  lua_State *L = luavm_state(vm);
  int fn = lua_gettop(L);
  if (lua_type(L, fn) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return fherr_set(err, FH_FLOW_ERROR, "flow %s: callback missing (was the flow reloaded?)", c->flow);
  }
  act_handle *handle = push_activation(L, c);   /* fn + 1 */
  lua_pushvalue(L, fn);
  flowdef_push_self(L, c->flow);
  lua_pushvalue(L, fn + 1);
  if (extra) luavm_push_json(L, extra);
  int rc = luavm_pcall(vm, extra ? 3 : 2, nres, err);
  if (handle) handle->alive = 0;
  if (!rc) rc = read_process_data(L, fn + 1, c, handle, err);
  if (!rc && c->task_data) rc = read_task_data(L, fn + 1, c, err);
  if (rc) {
    lua_settop(L, fn - 1);
    return rc;
  }
  lua_remove(L, fn + 1);
  lua_remove(L, fn);
  assert(lua_gettop(L) == fn - 1 + nres);
  return FH_OK;
}

static int invoke_callback(luavm *vm, act_ctx *c, const char *key, const json_t *extra, int nres, fherr *err) {
  flowdef_push_callback(luavm_state(vm), c->flow, c->node, key);
  return invoke(vm, c, extra, nres, err);
}

int activation_run(luavm *vm, act_ctx *c, const char *key, const json_t *extra, fherr *err) {
  return invoke_callback(vm, c, key, extra, 0, err);
}

int activation_test(luavm *vm, act_ctx *c, int edge, int *yes, fherr *err) {
  lua_State *L = luavm_state(vm);
  int top = lua_gettop(L);
  if (edge < 0) flowdef_push_callback(L, c->flow, c->node, "fn");
  else flowdef_push_edge_cond(L, c->flow, c->node, edge);
  int rc = invoke(vm, c, NULL, 1, err);
  if (rc) return rc;
  *yes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  assert(lua_gettop(L) == top);
  (void)top;
  return FH_OK;
}

int activation_decide(luavm *vm, act_ctx *c, const char *key, const json_t *extra, int *yes, fherr *err) {
  lua_State *L = luavm_state(vm);
  int rc = invoke_callback(vm, c, key, extra, 1, err);
  if (rc) return rc;
  *yes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return FH_OK;
}

int activation_assign(luavm *vm, act_ctx *c, char **user, fherr *err) {
  lua_State *L = luavm_state(vm);
  *user = NULL;
  int rc = invoke_callback(vm, c, "assign_fn", NULL, 1, err);
  if (rc) return rc;
  if (lua_type(L, -1) == LUA_TSTRING) {
    if (!(*user = strdup(lua_tostring(L, -1)))) rc = fherr_set(err, FH_INTERNAL, "out of memory");
  } else if (!lua_isnil(L, -1)) {
    rc = fherr_set(err, FH_FLOW_ERROR, "assign function of '%s' must return a user name or nil", c->node);
  }
  lua_pop(L, 1);
  return rc;
}

int activation_seconds(luavm *vm, act_ctx *c, double *seconds, int *ok, fherr *err) {
  lua_State *L = luavm_state(vm);
  int rc = invoke_callback(vm, c, "fn", NULL, 1, err);
  if (rc) return rc;
  *ok = lua_type(L, -1) == LUA_TNUMBER;
  *seconds = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return FH_OK;
}

int activation_value(luavm *vm, act_ctx *c, const char *key, json_t **out, fherr *err) {
  lua_State *L = luavm_state(vm);
  *out = NULL;
  int rc = invoke_callback(vm, c, key, NULL, 1, err);
  if (rc) return rc;
  if (!lua_isnil(L, -1) && luavm_to_json(L, -1, out, err)) {
    fherr_set(err, FH_FLOW_ERROR, "%s of '%s' returned a value that is not JSON: %s", key, c->node, err->message);
    rc = FH_FLOW_ERROR;
  }
  lua_pop(L, 1);
  return rc;
}

int activation_validate(luavm *vm, act_ctx *c, const json_t *clean, json_t **fields, fherr *err) {
  lua_State *L = luavm_state(vm);
  *fields = NULL;
  int rc = invoke_callback(vm, c, "validate", clean, 1, err);
  if (rc) return rc;
  if (lua_type(L, -1) == LUA_TTABLE) {
    json_t *f = NULL;
    luavm_to_json(L, -1, &f, NULL);
    if (json_is_object(f) && json_object_size(f) > 0) *fields = f;
    else json_decref(f);
  }
  lua_pop(L, 1);
  return FH_OK;
}

int activation_permission(luavm *vm, act_ctx *c, const json_t *user, int *yes, fherr *err) {
  lua_State *L = luavm_state(vm);
  int top = lua_gettop(L);
  *yes = 0;
  flowdef_push_callback(L, c->flow, c->node, "permission_fn");
  flowdef_push_self(L, c->flow);
  luavm_push_json(L, user);
  act_handle *handle = push_activation(L, c);
  int rc = luavm_pcall(vm, 3, 1, err);   /* permission_fn(self, user, activation) */
  if (handle) handle->alive = 0;
  if (rc) return rc;
  *yes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  assert(lua_gettop(L) == top);
  (void)top;
  return FH_OK;
}

char *activation_summary(luavm *vm, const char *flow, const json_t *process) {
  lua_State *L = luavm_state(vm);
  int top = lua_gettop(L);
  char *s = NULL;
  if (flowdef_push_def(L, flow) != LUA_TTABLE) {
    lua_settop(L, top);
    return NULL;
  }
  raw_field(L, -1, "summary");   /* raw: this runs unprotected */
  lua_remove(L, -2);
  flowdef_push_self(L, flow);
  luavm_push_json(L, process);
  fherr err = {0};
  if (!luavm_pcall(vm, 2, 1, &err)) {
    if (lua_type(L, -1) == LUA_TSTRING) s = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
  } else {
    /* the lists show the default line instead: say why, but not for every
     * row of every list (at most once a minute for the whole host) */
    static fhlog_rate said;
    if (fhlog_rate_ok(&said, 60))
      fhlog(FHLOG_WARN, "flow %s: its summary failed (lists show the default line; said at most once a minute): %s",
            flow, err.message[0] ? err.message : "error");
  }
  fherr_clear(&err);
  assert(lua_gettop(L) == top);
  (void)top;
  return s;
}

/* The errors table of a failed clean() at idx, as an fherr. */
static int clean_failed(lua_State *L, int idx, fherr *err) {
  json_t *fields = NULL;
  if (lua_type(L, idx) == LUA_TTABLE) luavm_to_json(L, idx, &fields, NULL);
  if (!json_is_object(fields)) {
    json_decref(fields);
    fields = json_object();
  }
  fherr_set(err, FH_INVALID, "the form has errors");
  if (err) err->fields = fields;
  else json_decref(fields);
  return FH_INVALID;
}

int activation_clean(luavm *vm, const char *flow, char *const *fields, int nfields, const json_t *data,
                     json_t **clean, fherr *err) {
  lua_State *L = luavm_state(vm);
  int top = lua_gettop(L);
  *clean = NULL;
  lua_getglobal(L, "require");
  lua_pushstring(L, "flow");
  int rc = luavm_pcall(vm, 1, 1, err);
  if (rc) return rc;
  lua_getfield(L, -1, "clean");
  lua_remove(L, -2);
  if (flowdef_push_def(L, flow) != LUA_TTABLE) {
    lua_settop(L, top);
    return fherr_set(err, FH_CONFLICT, "flow '%s' is not loaded", flow);
  }
  lua_createtable(L, nfields, 0);
  for (int i = 0; i < nfields; i++) {
    lua_pushstring(L, fields[i]);
    lua_rawseti(L, -2, i + 1);
  }
  luavm_push_json(L, data);
  if ((rc = luavm_pcall(vm, 3, 2, err))) return rc;
  if (lua_type(L, -2) == LUA_TTABLE) {
    rc = luavm_to_json(L, -2, clean, err);
    if (!rc && !json_is_object(*clean)) {
      json_decref(*clean);
      *clean = json_object();
    }
  } else {
    rc = clean_failed(L, -1, err);
  }
  lua_settop(L, top);
  return rc;
}
