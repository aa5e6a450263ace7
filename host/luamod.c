/* luamod — the Lua module `flowhost`, for testing flows in-process (busted).
 *
 *   local host = require("flowhost").open{flows = "flows", db = ":memory:"}
 *   host:user("alice", {perms = {"helloworld.start"}})
 *   local r = host:start("helloworld", "start", {text = "hi"}, {as = "alice"})
 *   host:assign(id, {as = "bob"}); host:execute(id, {approved = true}, {as = "bob"})
 *
 * Every method runs the same engine path as the CLI and the HTTP API and
 * returns the API's JSON shapes as Lua tables (JSON null -> absent).  A
 * refused or failing action raises an error table {code, message, fields,
 * traceback} whose tostring is "code: message".
 *
 * The flows run in the engine's own Lua state, not in the caller's, exactly
 * as they do in the server: sandboxed unless open{lua_unsafe = true}.
 *
 * `clock = "manual"` puts the process-wide test clock (fhtime) on: time
 * stands still until host:advance(seconds) moves it, running what falls due
 * on the way, so a spec tests a three-day escalation without waiting.
 * Closing that host turns the manual clock off again.
 *
 * host:external_fetch / external_complete / external_fail / external_extend
 * act as an external worker would over HTTP (the same bodies).
 */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "engine.h"
#include "fhtime.h"
#include "flowreg.h"
#include "identity.h"
#include "luaside.h"

#define HOST_MT "flowhost.host"

/* Where a manual clock starts unless `now` is given: 2030-01-01T00:00:00Z,
 * a fixed date so that specs print the same timestamps on every run. */
#define MANUAL_CLOCK_START 1893456000.0

typedef struct host {
  flowreg *reg;
  engine *e;
  int manual_clock;   /* this host set the manual clock: closing it turns it off */
} host;

/* The host that set the manual clock last.  The clock is process-wide, so
 * only that host's close turns it off: a forgotten manual host collected
 * later must not stop the clock of the host a spec is using now. */
static const host *clock_owner;

static host *check_host(lua_State *L) {
  host *h = luaL_checkudata(L, 1, HOST_MT);
  if (!h->e) luaL_error(L, "flowhost: the host is closed");
  return h;
}

/* Raises the error as a table; frees err first (raising does not return). */
static int raise_err(lua_State *L, fherr *err) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, fherr_code_name(err->code));
  lua_setfield(L, -2, "code");
  lua_pushstring(L, err->message);
  lua_setfield(L, -2, "message");
  if (err->fields) {
    luavm_push_json(L, err->fields);
    lua_setfield(L, -2, "fields");
  }
  if (err->traceback) {
    lua_pushstring(L, err->traceback);
    lua_setfield(L, -2, "traceback");
  }
  fherr_clear(err);
  luaL_setmetatable(L, "flowhost.error");
  return lua_error(L);
}

static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "code");
  lua_getfield(L, 1, "message");
  lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
  return 1;
}

/* Converts the Lua value at idx to JSON or raises. */
static json_t *to_json_or_raise(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return json_object();
  json_t *v = NULL;
  fherr err = {0};
  if (luavm_to_json(L, idx, &v, &err)) {
    err.code = FH_BAD_REQUEST;
    raise_err(L, &err);
  }
  return v;
}

static void push_result(lua_State *L, json_t *out) {
  luavm_push_json(L, out);
  json_decref(out);
}

/* The end of every engine call: frees the actor, then raises the error or
 * pushes the result (only its "items" for list calls). */
static int finish(lua_State *L, fh_actor *a, int rc, json_t *out, fherr *err, int items_only) {
  fh_actor_free(a);
  if (rc) return raise_err(L, err);
  if (items_only) {
    json_t *items = json_incref(json_object_get(out, "items"));
    json_decref(out);
    out = items;
  }
  push_result(L, out);
  return 1;
}

/* Resolves opts.as (a user name) into an actor; none -> the system.
 * Raises only before anything is allocated; returns the engine error. */
static int actor_of_rc(lua_State *L, host *h, int opts, fh_actor *a, fherr *err) {
  const char *as = NULL;
  if (lua_type(L, opts) == LUA_TTABLE) {
    lua_getfield(L, opts, "as");
    as = lua_tostring(L, -1);
    lua_pop(L, 1);
  } else if (!lua_isnoneornil(L, opts)) {
    luaL_typeerror(L, opts, "table of options");
  }
  if (!as) {
    fh_actor_system(a);
    return FH_OK;
  }
  int rc = identity_actor(h->e, as, a, err);
  if (rc) err->code = FH_UNAUTH;
  return rc;
}

static void actor_of(lua_State *L, host *h, int opts, fh_actor *a) {
  fherr err = {0};
  if (actor_of_rc(L, h, opts, a, &err)) raise_err(L, &err);
}

/* open{clock =, now =}: 0 for the real clock, else the manual start time.
 * Raises on a bad value, before anything is allocated. */
static double manual_start(lua_State *L) {
  lua_getfield(L, 1, "clock");
  lua_getfield(L, 1, "now");
  double start = 0;
  if (lua_type(L, -2) == LUA_TSTRING && !strcmp(lua_tostring(L, -2), "manual")) {
    start = MANUAL_CLOCK_START;
    if (!lua_isnil(L, -1)) {
      if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0) || !isfinite(lua_tonumber(L, -1)))
        luaL_error(L, "flowhost.open: now must be epoch seconds (a number > 0)");
      start = lua_tonumber(L, -1);
    }
  } else if (!lua_isnil(L, -2)) {
    luaL_error(L, "flowhost.open: clock must be \"manual\" (or absent for the real clock), got %s",
               luaL_tolstring(L, -2, NULL));
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "flowhost.open: now is only for clock = \"manual\"");
  }
  lua_pop(L, 2);
  return start;
}

static int l_open(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  double clock_start = manual_start(L);
  lua_getfield(L, 1, "lua_unsafe");   /* the full Lua libraries for flows, as serve --lua-unsafe */
  int lua_unsafe = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "flows");
  lua_getfield(L, 1, "db");
  lua_getfield(L, 1, "lua");
  lua_getfield(L, 1, "budget");
  const char *flows = luaL_optstring(L, -4, "flows");
  const char *db = luaL_optstring(L, -3, ":memory:");
  const char *lua_dir = luaL_optstring(L, -2, NULL);
  double budget = luaL_optnumber(L, -1, 5.0);
  if (auth_init()) return luaL_error(L, "flowhost: libsodium failed to initialize");
  host *h = lua_newuserdatauv(L, sizeof *h, 0);
  memset(h, 0, sizeof *h);
  luaL_setmetatable(L, HOST_MT);
  if (clock_start > 0) {   /* before the engine opens: every row it writes reads this clock */
    fhtime_set_manual(clock_start);
    h->manual_clock = 1;
    clock_owner = h;
  }
  fherr err = {0};
  h->reg = flowreg_new(flows, lua_dir, &err);
  if (h->reg) flowreg_set_lua_unsafe(h->reg, lua_unsafe);
  if (!h->reg || flowreg_load_all(h->reg, &err)) return raise_err(L, &err);
  engine_options eo = {.flows = h->reg, .db_path = db, .synchronous_full = 0, .budget_seconds = budget,
                       .worker_name = "lua"};
  if (engine_open(&eo, &h->e, &err)) return raise_err(L, &err);
  return 1;
}

static int l_close(lua_State *L) {
  host *h = luaL_checkudata(L, 1, HOST_MT);
  engine_close(h->e);
  flowreg_free(h->reg);
  h->e = NULL;
  h->reg = NULL;
  if (h->manual_clock && clock_owner == h) {   /* the next host (or spec) sees real time */
    fhtime_set_manual(0);
    clock_owner = NULL;
  }
  h->manual_clock = 0;
  return 0;
}

/* host:user(name, {admin = bool, password = str, perms = {...}, groups = {...}}) */
static int l_user(lua_State *L) {
  host *h = check_host(L);
  const char *name = luaL_checkstring(L, 2);
  int admin = 0;
  const char *password = NULL;
  if (lua_type(L, 3) == LUA_TTABLE) {
    lua_getfield(L, 3, "admin");
    admin = lua_toboolean(L, -1);
    lua_getfield(L, 3, "password");
    password = lua_tostring(L, -1);
    lua_pop(L, 2);
  }
  fherr err = {0};
  if (identity_user_add(h->e, name, password, admin, &err)) return raise_err(L, &err);
  if (lua_type(L, 3) == LUA_TTABLE) {
    static const char *const lists[] = {"perms", "groups"};
    for (int k = 0; k < 2; k++) {
      if (lua_getfield(L, 3, lists[k]) != LUA_TTABLE) {
        lua_pop(L, 1);
        continue;
      }
      for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
        const char *v = lua_tostring(L, -1);
        int rc = k == 0 ? identity_grant(h->e, name, v, &err) : identity_join(h->e, name, v, &err);
        lua_pop(L, 1);
        if (rc) return raise_err(L, &err);
      }
      lua_pop(L, 2);
    }
  }
  return 0;
}

/* host:grant("alice" | "@group", perm) */
static int l_grant(lua_State *L) {
  host *h = check_host(L);
  fherr err = {0};
  if (identity_grant(h->e, luaL_checkstring(L, 2), luaL_checkstring(L, 3), &err)) return raise_err(L, &err);
  return 0;
}

static int l_join(lua_State *L) {
  host *h = check_host(L);
  fherr err = {0};
  if (identity_join(h->e, luaL_checkstring(L, 2), luaL_checkstring(L, 3), &err))
    return raise_err(L, &err);
  return 0;
}

/* host:start(flow, node, data, opts) */
static int l_start(lua_State *L) {
  host *h = check_host(L);
  const char *flow = luaL_checkstring(L, 2);
  const char *node = luaL_optstring(L, 3, NULL);
  json_t *data = to_json_or_raise(L, 4);
  fh_actor a;
  json_t *out = NULL;
  fherr err = {0};
  if (actor_of_rc(L, h, 5, &a, &err)) {
    json_decref(data);
    return raise_err(L, &err);
  }
  int rc = engine_start(h->e, &a, flow, node, data, &out, &err);
  json_decref(data);
  return finish(L, &a, rc, out, &err, 0);
}

static const char *opt_field(lua_State *L, int t, const char *key);

static int do_action(lua_State *L, const char *action, int data_idx, int user_idx, int opts_idx) {
  host *h = check_host(L);
  int64_t id = luaL_checkinteger(L, 2);
  const char *user = user_idx ? luaL_checkstring(L, user_idx) : NULL;
  const char *comment = opt_field(L, opts_idx, "comment");   /* execute {comment = "..."} */
  json_t *data = data_idx ? to_json_or_raise(L, data_idx) : NULL;
  json_t *args = json_object();
  if (data) json_object_set_new(args, "data", data);
  if (user) json_object_set_new(args, "user", json_string(user));
  if (comment) json_object_set_new(args, "comment", json_string(comment));
  fh_actor a;
  json_t *out = NULL;
  fherr err = {0};
  if (actor_of_rc(L, h, opts_idx, &a, &err)) {
    json_decref(args);
    return raise_err(L, &err);
  }
  int rc = engine_task_action(h->e, &a, id, action, args, &out, &err);
  json_decref(args);
  return finish(L, &a, rc, out, &err, 0);
}

static int l_assign(lua_State *L) { return do_action(L, "assign", 0, 0, 3); }
static int l_unassign(lua_State *L) { return do_action(L, "unassign", 0, 0, 3); }
static int l_reassign(lua_State *L) { return do_action(L, "reassign", 0, 3, 4); }
static int l_execute(lua_State *L) { return do_action(L, "execute", 3, 0, 4); }
static int l_cancel(lua_State *L) { return do_action(L, "cancel", 0, 0, 3); }
static int l_undo(lua_State *L) { return do_action(L, "undo", 0, 0, 3); }
static int l_revive(lua_State *L) { return do_action(L, "revive", 0, 0, 3); }

static const char *opt_field(lua_State *L, int t, const char *key) {
  if (lua_type(L, t) != LUA_TTABLE) return NULL;
  lua_getfield(L, t, key);
  const char *v = lua_tostring(L, -1);
  lua_pop(L, 1);   /* the string stays alive: it is also in the table */
  return v;
}

static lua_Integer opt_int(lua_State *L, int t, const char *key) {
  if (lua_type(L, t) != LUA_TTABLE) return 0;
  lua_getfield(L, t, key);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static int raise_invalid(lua_State *L, const char *field, const char *message);

/* opts.data = {customer = "ACME", amount_gte = 10}: the data.* search
 * parameters, as the API takes them (values as text); NULL when none. */
static json_t *opt_data(lua_State *L, int t) {
  if (lua_type(L, t) != LUA_TTABLE) return NULL;
  lua_getfield(L, t, "data");
  json_t *out = NULL;
  if (lua_type(L, -1) == LUA_TTABLE) {
    out = json_object();
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        const char *v = lua_type(L, -1) == LUA_TBOOLEAN ? (lua_toboolean(L, -1) ? "true" : "false") : NULL;
        lua_pushvalue(L, -1);
        if (!v) v = lua_tostring(L, -1);
        json_object_set_new(out, lua_tostring(L, -3), json_string(v ? v : ""));
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return out;
}

/* host:tasks{view =, flow =, process =, status =, sort =, limit =, after =, as =}
 * -> items, next page key (sort: "-created_at" (default), "created_at", "due_at",
 * "finished_at", "-finished_at": as GET /api/tasks) */
static int l_tasks(lua_State *L) {
  host *h = check_host(L);
  const char *sort = opt_field(L, 2, "sort");
  static const char *const sorts[] = {"created_at", "-created_at", "due_at", "finished_at", "-finished_at", NULL};
  int known = 0;
  for (int i = 0; sort && sorts[i]; i++) known |= !strcmp(sort, sorts[i]);
  if (sort && !known)
    return raise_invalid(L, "sort", "must be created_at, -created_at, due_at, finished_at or -finished_at");
  fh_actor a;
  actor_of(L, h, 2, &a);
  engine_task_query q = {.view = opt_field(L, 2, "view"), .flow = opt_field(L, 2, "flow"),
                         .status = opt_field(L, 2, "status"), .process_id = opt_int(L, 2, "process"),
                         .limit = (int)opt_int(L, 2, "limit"), .after = opt_int(L, 2, "after"),
                         .ascending = sort && (!strcmp(sort, "created_at") || !strcmp(sort, "finished_at")),
                         .by_due = sort && !strcmp(sort, "due_at"),
                         .by_finished = sort && strstr(sort, "finished_at") != NULL};
  if (!q.view) q.view = a.is_system ? "all" : "inbox";
  json_t *out = NULL, *data = opt_data(L, 2);
  fherr err = {0};
  q.data = data;
  int rc = engine_tasks_list(h->e, &a, &q, &out, &err);
  json_decref(data);
  fh_actor_free(&a);
  if (rc) return raise_err(L, &err);
  json_t *items = json_incref(json_object_get(out, "items"));
  json_t *next = json_object_get(out, "next_after");
  lua_Integer after = json_is_integer(next) ? json_integer_value(next) : 0;
  json_decref(out);
  push_result(L, items);
  if (after) lua_pushinteger(L, after);
  else lua_pushnil(L);
  return 2;
}

static int l_counts(lua_State *L) {
  host *h = check_host(L);
  fh_actor a;
  actor_of(L, h, 2, &a);
  json_t *out = NULL;
  fherr err = {0};
  int rc = engine_tasks_counts(h->e, &a, &out, &err);
  return finish(L, &a, rc, out, &err, 0);
}

typedef int (*by_id_fn)(engine *, const fh_actor *, int64_t, json_t **, fherr *);

/* host:METHOD(id, {as =}) for the engine calls that take one id. */
static int call_by_id(lua_State *L, by_id_fn fn) {
  host *h = check_host(L);
  int64_t id = luaL_checkinteger(L, 2);
  fh_actor a;
  actor_of(L, h, 3, &a);
  json_t *out = NULL;
  fherr err = {0};
  int rc = fn(h->e, &a, id, &out, &err);
  return finish(L, &a, rc, out, &err, 0);
}

/* host:task(id, opts) -> {task, form, actions, process} */
static int l_task(lua_State *L) { return call_by_id(L, engine_task_get); }
static int l_process(lua_State *L) { return call_by_id(L, engine_process_get); }
static int l_cancel_process(lua_State *L) { return call_by_id(L, engine_process_cancel); }

static int l_processes(lua_State *L) {
  host *h = check_host(L);
  fh_actor a;
  actor_of(L, h, 2, &a);
  engine_process_query q = {.flow = opt_field(L, 2, "flow"), .status = opt_field(L, 2, "status"),
                            .limit = (int)opt_int(L, 2, "limit"), .after = opt_int(L, 2, "after"),
                            .parent = opt_int(L, 2, "parent")};
  json_t *out = NULL, *data = opt_data(L, 2);
  fherr err = {0};
  q.data = data;
  int rc = engine_processes_list(h->e, &a, &q, &out, &err);
  json_decref(data);
  return finish(L, &a, rc, out, &err, 1);
}

/* host:audit(process_id, {as =}) -> the audit entries (GET /api/processes/{id}/audit) */
static int l_audit(lua_State *L) {
  host *h = check_host(L);
  int64_t id = luaL_checkinteger(L, 2);
  fh_actor a;
  actor_of(L, h, 3, &a);
  json_t *out = NULL;
  fherr err = {0};
  int rc = engine_audit_list(h->e, &a, id, &out, &err);
  return finish(L, &a, rc, out, &err, 1);
}

/* host:comments(process_id, {task =, as =}) -> the comments (of one task with task =) */
static int l_comments(lua_State *L) {
  host *h = check_host(L);
  int64_t id = luaL_checkinteger(L, 2);
  int64_t task = opt_int(L, 3, "task");
  fh_actor a;
  actor_of(L, h, 3, &a);
  json_t *out = NULL;
  fherr err = {0};
  int rc = engine_comments_list(h->e, &a, task ? 0 : id, task, &out, &err);
  return finish(L, &a, rc, out, &err, 1);
}

/* host:run_jobs([max]) -> how many jobs and timers ran */
static int l_run_jobs(lua_State *L) {
  host *h = check_host(L);
  int ran = 0;
  fherr err = {0};
  if (engine_run_due(h->e, (int)luaL_optinteger(L, 2, 0), &ran, &err)) return raise_err(L, &err);
  lua_pushinteger(L, ran);
  return 1;
}

/* host:now() -> epoch seconds (the manual clock when it is on) */
static int l_now(lua_State *L) {
  check_host(L);
  lua_pushnumber(L, fhtime_epoch());
  return 1;
}

/* host:advance(seconds) -> how many due tasks ran on the way */
static int l_advance(lua_State *L) {
  host *h = check_host(L);
  double seconds = luaL_checknumber(L, 2);
  int ran = 0;
  fherr err = {0};
  if (engine_advance(h->e, seconds, &ran, &err)) return raise_err(L, &err);
  lua_pushinteger(L, ran);
  return 1;
}

/* An argument error in the API's shape (invalid, with the field named). */
static int raise_invalid(lua_State *L, const char *field, const char *message) {
  fherr err = {0};
  fherr_set(&err, FH_INVALID, "%s: %s", field, message);
  err.fields = json_pack("{ss}", field, message);
  return raise_err(L, &err);
}

/* The correlation key as text: a string as is (it stays alive on the Lua
 * stack through the call), an integer in decimal into buf (as the HTTP
 * layer does, so 17 and "17" are the same key).  Raises on anything else. */
static const char *key_text(lua_State *L, int idx, char *buf, size_t size) {
  if (lua_type(L, idx) == LUA_TSTRING) return lua_tostring(L, idx);
  lua_Integer i = 0;
  int is_int = 0;
  if (lua_type(L, idx) == LUA_TNUMBER) i = lua_tointegerx(L, idx, &is_int);
  if (!is_int) raise_invalid(L, "key", "must be a string or an integer");
  snprintf(buf, size, "%lld", (long long)i);
  return buf;
}

/* send/signal options: {as =, ttl =}; raises on bad ones before anything
 * is allocated.  ttl must be > 0 (the engine reads <= 0 as the default). */
static double send_ttl(lua_State *L, int opts) {
  if (lua_isnoneornil(L, opts)) return 0;
  luaL_checktype(L, opts, LUA_TTABLE);
  lua_getfield(L, opts, "ttl");
  double ttl = 0;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0) || !isfinite(lua_tonumber(L, -1)))
      raise_invalid(L, "ttl", "must be a number of seconds > 0");
    ttl = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return ttl;
}

/* The engine call of send and signal: data at data_idx, options at opts. */
static int do_send(lua_State *L, host *h, engine_send_args *m, int data_idx, int opts) {
  if (!lua_isnoneornil(L, data_idx) && lua_type(L, data_idx) != LUA_TTABLE)
    raise_invalid(L, "data", "must be a table");
  json_t *data = lua_isnoneornil(L, data_idx) ? NULL : to_json_or_raise(L, data_idx);
  m->data = data;
  fh_actor a;
  json_t *out = NULL;
  fherr err = {0};
  if (actor_of_rc(L, h, opts, &a, &err)) {
    json_decref(data);
    return raise_err(L, &err);
  }
  int rc = engine_send(h->e, &a, m, &out, &err);
  json_decref(data);
  return finish(L, &a, rc, out, &err, 0);
}

/* host:send(name, key, data, {as =, ttl =}) -> {message, key, completed, kept} */
static int l_send(lua_State *L) {
  host *h = check_host(L);
  engine_send_args m = {.signal = 0, .name = luaL_checkstring(L, 2)};
  char digits[32];
  m.key = key_text(L, 3, digits, sizeof digits);
  m.ttl = send_ttl(L, 5);
  return do_send(L, h, &m, 4, 5);
}

/* host:signal(name, data, {as =}) -> {signal, completed} */
static int l_signal(lua_State *L) {
  host *h = check_host(L);
  engine_send_args m = {.signal = 1, .name = luaL_checkstring(L, 2)};
  if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
  return do_send(L, h, &m, 3, 4);
}

/* host:external_fetch{worker =, topics =, max =, lease =} and
 * host:external_complete|fail|extend(id, {worker =, ...}), each with
 * {as =} last: the calls of an external worker (engine_external). */
static int do_external(lua_State *L, const char *verb, int64_t id, int body_idx) {
  host *h = check_host(L);
  luaL_checktype(L, body_idx, LUA_TTABLE);
  json_t *body = to_json_or_raise(L, body_idx);
  fh_actor a;
  json_t *out = NULL;
  fherr err = {0};
  if (actor_of_rc(L, h, body_idx + 1, &a, &err)) {
    json_decref(body);
    return raise_err(L, &err);
  }
  int rc = engine_external(h->e, &a, verb, id, body, &out, &err);
  json_decref(body);
  return finish(L, &a, rc, out, &err, !strcmp(verb, "fetch"));
}

static int l_external_fetch(lua_State *L) { return do_external(L, "fetch", 0, 2); }
static int l_external_complete(lua_State *L) { return do_external(L, "complete", luaL_checkinteger(L, 2), 3); }
static int l_external_fail(lua_State *L) { return do_external(L, "fail", luaL_checkinteger(L, 2), 3); }
static int l_external_extend(lua_State *L) { return do_external(L, "extend", luaL_checkinteger(L, 2), 3); }

/* host:external_lease_expiries() -> how many leases ran out and were re-offered */
static int l_external_lease_expiries(lua_State *L) {
  host *h = check_host(L);
  int64_t n = 0;
  fherr err = {0};
  if (engine_external_lease_expiries(h->e, &n, &err)) return raise_err(L, &err);
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

static int l_flows(lua_State *L) {
  host *h = check_host(L);
  fh_actor a;
  actor_of(L, h, 2, &a);
  json_t *out = NULL;
  fherr err = {0};
  int rc = engine_flows_list(h->e, &a, &out, &err);
  return finish(L, &a, rc, out, &err, 1);
}

static int l_flow(lua_State *L) {
  host *h = check_host(L);
  fh_actor a;
  fh_actor_system(&a);
  json_t *out = NULL;
  fherr err = {0};
  if (engine_flow_get(h->e, &a, luaL_checkstring(L, 2), &out, &err)) return raise_err(L, &err);
  push_result(L, out);
  return 1;
}

static int l_rename_node(lua_State *L) {
  host *h = check_host(L);
  int64_t changed = 0;
  fherr err = {0};
  if (engine_rename_node(h->e, luaL_checkstring(L, 2), luaL_checkstring(L, 3), luaL_checkstring(L, 4), &changed, &err))
    return raise_err(L, &err);
  lua_pushinteger(L, changed);
  return 1;
}

/* host:reload() re-reads the flows folder (as the server's watcher does). */
static int l_reload(lua_State *L) {
  host *h = check_host(L);
  fherr err = {0};
  if (flowreg_load_all(h->reg, &err)) return raise_err(L, &err);
  return 0;
}

/* host:reload_path(path) -> changed: reloads one created, changed or deleted
 * file as the server's watcher does (a path under lib/ reloads every flow). */
static int l_reload_path(lua_State *L) {
  host *h = check_host(L);
  int changed = 0;
  fherr err = {0};
  if (flowreg_reload_path(h->reg, luaL_checkstring(L, 2), &changed, &err)) return raise_err(L, &err);
  lua_pushboolean(L, changed);
  return 1;
}

static const luaL_Reg host_methods[] = {
    {"user", l_user}, {"grant", l_grant}, {"join", l_join}, {"start", l_start},
    {"assign", l_assign}, {"unassign", l_unassign}, {"reassign", l_reassign}, {"execute", l_execute},
    {"cancel", l_cancel}, {"undo", l_undo}, {"revive", l_revive}, {"tasks", l_tasks}, {"counts", l_counts},
    {"task", l_task}, {"process", l_process}, {"processes", l_processes}, {"cancel_process", l_cancel_process},
    {"run_jobs", l_run_jobs}, {"now", l_now}, {"advance", l_advance}, {"send", l_send}, {"signal", l_signal},
    {"flows", l_flows}, {"flow", l_flow}, {"rename_node", l_rename_node},
    {"audit", l_audit}, {"comments", l_comments},
    {"reload", l_reload}, {"reload_path", l_reload_path}, {"close", l_close},
    {"external_fetch", l_external_fetch}, {"external_complete", l_external_complete},
    {"external_fail", l_external_fail}, {"external_extend", l_external_extend},
    {"external_lease_expiries", l_external_lease_expiries}, {NULL, NULL}};

int luaopen_flowhost(lua_State *L) {
  luaL_newmetatable(L, "flowhost.error");
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_newmetatable(L, HOST_MT);
  luaL_newlib(L, host_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, l_open);
  lua_setfield(L, -2, "open");
  lua_pushstring(L, luavm_default_lua_dir());
  lua_setfield(L, -2, "lua_dir");
  return 1;
}
