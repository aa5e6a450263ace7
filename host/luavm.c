/* luavm — one Lua state: its life cycle, the protected gateway, the time
 * and memory budgets, JSON in and out, and where `require` finds the flows'
 * lib/ modules.  The time budget has two sides: a count hook for Lua code,
 * and luavm_check_budget for the library functions of luasafe.c, luapat.c
 * and luatab.c that loop in C, where no hook runs.  A Lua unit (see
 * luaside.h); calls Lua, luasafe (the libraries of a new state, the flow
 * sources it may read) and fhtime only.
 */
#include "luavm.h"

#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhtime.h"
#include "luapool.h"
#include "luaside.h"
#include "metrics.h"

#ifndef FLOWHOST_LUA_DIR
#define FLOWHOST_LUA_DIR "lua"
#endif

#define MAX_DEPTH 64
/* luavm_budget_steps reads the clock once per this many steps. */
#define BUDGET_STEPS 4096u

struct luavm {
  lua_State *L;
  luapool *pool;     /* its small blocks (luapool.h) */
  size_t used, limit;
  double budget;
  double deadline;   /* monotonic seconds; 0 when no call is running */
  int depth;         /* nested gateway calls: only the outermost arms the budget */
  unsigned steps;    /* work counted by luavm_budget_steps since the last look at the clock */
  luavm_module_finder find;   /* lib/ snapshots, NULL: none */
  void *find_ctx;
  luavm_flow_loader load_flow;   /* flows loaded on first use (flowdef.c), NULL: none */
  void *load_flow_ctx;
  int searcher_in;   /* the searcher is in package.searchers */
};

const char *luavm_default_lua_dir(void) { return FLOWHOST_LUA_DIR; }

void luavm_set_flow_loader(luavm *vm, luavm_flow_loader load, void *ctx) {
  vm->load_flow = load;
  vm->load_flow_ctx = ctx;
}

/* The memory limit lives in the allocator: Lua turns a NULL into a memory
 * error that unwinds like any other error. */
static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  luavm *vm = ud;
  size_t old = ptr ? osize : 0;   /* without ptr, osize is the kind of object */
  if (nsize == 0) {
    luapool_realloc(vm->pool, ptr, old, 0);
    vm->used -= old;
    return NULL;
  }
  /* Outside a protected call (the host pushing arguments, reading results)
   * a failed allocation would be a Lua panic, so the host gets headroom
   * above the limit that scripts run under. */
  size_t limit = vm->depth > 0 ? vm->limit : vm->limit + vm->limit / 4;
  if (nsize > old && vm->used - old + nsize > limit) return NULL;
  void *p = luapool_realloc(vm->pool, ptr, old, nsize);
  if (p) vm->used = vm->used - old + nsize;
  return p;
}

static luavm *vm_of(lua_State *L) { return *(luavm **)lua_getextraspace(L); }

int luavm_has_flow_loader(lua_State *L) {
  luavm *vm = vm_of(L);
  return vm && vm->load_flow;
}

int luavm_load_missing_flow(lua_State *L, const char *flow) {
  luavm *vm = vm_of(L);
  return vm && vm->load_flow && vm->load_flow(vm->load_flow_ctx, vm, flow) == 0;
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* Once the deadline has passed, the hook re-arms itself on every line and
 * instruction, so a script that catches the error with pcall is stopped
 * again at once instead of running on (and a budgeted C function raises
 * again at its next look at the clock). */
void luavm_check_budget(lua_State *L) {
  luavm *vm = vm_of(L);
  if (vm->deadline > 0 && fhtime_monotonic() > vm->deadline) {
    lua_sethook(L, budget_hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
    char msg[64];
    snprintf(msg, sizeof msg, "time budget of %.3g s exceeded", vm->budget);
    luaL_error(L, "%s", msg);
  }
}

void luavm_budget_steps(lua_State *L, unsigned n) {
  luavm *vm = vm_of(L);
  if (n < BUDGET_STEPS - vm->steps) {
    vm->steps += n;
    return;
  }
  vm->steps = 0;
  luavm_check_budget(L);
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luavm_check_budget(L);
}

static int msghandler(lua_State *L) {
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "err");
  luaL_traceback(L, L, NULL, 1);
  lua_setfield(L, -2, "tb");
  return 1;
}

/* "file:line: text" -> file, line; leaves them empty when absent. */
static void split_location(const char *msg, fherr *err) {
  const char *colon = strchr(msg, ':');
  if (!colon || colon == msg || (size_t)(colon - msg) >= sizeof err->file) return;
  char *end;
  long line = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end != ':' || line <= 0) return;
  snprintf(err->file, sizeof err->file, "%.*s", (int)(colon - msg), msg);
  err->line = (int)line;
}

/* Decodes the error value at the top of the stack (pops it).  This runs
 * outside the protected call, so a table is read raw: a metamethod of the
 * script's error object could raise (a panic here) or never return. */
static void decode_error(lua_State *L, fherr *err, const char *traceback) {
  if (!err) {
    lua_pop(L, 1);
    return;
  }
  err->code = FH_FLOW_ERROR;
  err->file[0] = '\0';
  err->line = 0;
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushliteral(L, "message");
    lua_rawget(L, -2);
    lua_pushliteral(L, "file");
    lua_rawget(L, -3);
    lua_pushliteral(L, "line");
    lua_rawget(L, -4);
    const char *message = lua_tostring(L, -3);
    const char *file = lua_tostring(L, -2);
    int line = (int)lua_tointeger(L, -1);
    if (file) snprintf(err->file, sizeof err->file, "%s", file);
    err->line = line > 0 ? line : 0;
    if (file && line > 0)
      snprintf(err->message, sizeof err->message, "%s:%d: %s", file, line, message ? message : "error");
    else
      snprintf(err->message, sizeof err->message, "%s", message ? message : "error (a table without message)");
    lua_pop(L, 3);
  } else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    snprintf(err->message, sizeof err->message, "%s", lua_tostring(L, -1));
    split_location(err->message, err);
  } else {
    snprintf(err->message, sizeof err->message, "(error object is a %s value)", luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  free(err->traceback);
  err->traceback = traceback ? strdup(traceback) : NULL;
}

int luavm_load(luavm *vm, const char *source, size_t len, const char *chunkname, fherr *err) {
  int rc = luaL_loadbufferx(vm->L, source, len, chunkname, "t");
  if (rc == LUA_OK && chunkname && chunkname[0] == '@') luasafe_note_source(vm->L, chunkname + 1);
  if (rc == LUA_OK) return FH_OK;
  decode_error(vm->L, err, NULL);
  return FH_FLOW_ERROR;
}

int luavm_pcall(luavm *vm, int nargs, int nresults, fherr *err) {
  lua_State *L = vm->L;
  if (!lua_checkstack(L, 4)) {
    lua_pop(L, nargs + 1);
    return fherr_set(err, FH_INTERNAL, "Lua stack overflow");
  }
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  double started = vm->depth ? 0 : fhtime_monotonic();
  if (vm->depth++ == 0) {
    vm->deadline = started + vm->budget;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1000);
  }
  int rc = lua_pcall(L, nargs, nresults, base);
  if (--vm->depth == 0) {
    lua_sethook(L, NULL, 0, 0);
    vm->deadline = 0;
    metrics_lua_call(fhtime_monotonic() - started);
  }
  if (rc == LUA_OK) {
    lua_remove(L, base);
    return FH_OK;
  }
  /* The handler wrapped the error as {err, tb}; a memory error skips it. */
  const char *tb = NULL;
  int top = lua_gettop(L);
  if (lua_type(L, top) == LUA_TTABLE && lua_getfield(L, top, "tb") == LUA_TSTRING) {
    tb = lua_tostring(L, -1);
    lua_getfield(L, top, "err");
  } else {
    if (lua_type(L, top) == LUA_TTABLE) lua_pop(L, 1);
    lua_pushvalue(L, top);
  }
  /* stack: handler, wrapped, (tb), err */
  decode_error(L, err, tb);
  lua_settop(L, base - 1);
  if (rc == LUA_ERRMEM && err) snprintf(err->message, sizeof err->message, "Lua memory limit exceeded");
  return FH_FLOW_ERROR;
}

/* open_libs(options): the libraries (sandboxed unless opt->lua_unsafe) and
 * package.path: flow.lua first, then the flows' shared helpers, then the
 * system path.  Protected: it allocates. */
static int open_libs(lua_State *L) {
  const luavm_options *opt = lua_touserdata(L, 1);
  const char *lua_dir = opt && opt->lua_dir ? opt->lua_dir : FLOWHOST_LUA_DIR;
  const char *flows_dir = opt && opt->flows_dir ? opt->flows_dir : "flows";
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/lib/?.lua;%s/lib/?/init.lua;%s", lua_dir, flows_dir, flows_dir,
                  lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
  luasafe_open(L, lua_dir, flows_dir, opt && opt->lua_unsafe);
  return 0;
}

luavm *luavm_new(const luavm_options *opt, fherr *err) {
  luavm *vm = calloc(1, sizeof *vm);
  if (!vm) {
    fherr_set(err, FH_INTERNAL, "out of memory");
    return NULL;
  }
  vm->limit = opt && opt->memory_limit ? opt->memory_limit : (size_t)256 << 20;
  vm->budget = opt && opt->budget_seconds > 0 ? opt->budget_seconds : 5.0;
  vm->pool = luapool_new();
  vm->L = vm->pool ? lua_newstate(vm_alloc, vm) : NULL;
  if (!vm->L) {
    luapool_free(vm->pool);
    free(vm);
    fherr_set(err, FH_INTERNAL, "cannot create a Lua state");
    return NULL;
  }
  *(luavm **)lua_getextraspace(vm->L) = vm;
  lua_pushcfunction(vm->L, open_libs);
  lua_pushlightuserdata(vm->L, (void *)opt);
  if (lua_pcall(vm->L, 1, 0, 0) != LUA_OK) {
    fherr_set(err, FH_INTERNAL, "cannot set up a Lua state: %s", lua_tostring(vm->L, -1));
    luavm_free(vm);
    return NULL;
  }
  return vm;
}

void luavm_free(luavm *vm) {
  if (!vm) return;
  if (vm->L) lua_close(vm->L);
  luapool_free(vm->pool);   /* after lua_close: every block is back */
  free(vm);
}

lua_State *luavm_state(luavm *vm) { return vm->L; }

/* --- the module searcher ----------------------------------------------- */

/* searcher(name) -> loader, path | "\n\tno snapshot ..." */
static int snap_searcher(lua_State *L) {
  const char *mod = luaL_checkstring(L, 1);
  luavm *vm = vm_of(L);
  if (!vm->find) return 0;
  const char *path = NULL, *text = NULL;
  size_t len = 0;
  int found = vm->find(vm->find_ctx, mod, &path, &text, &len);
  if (found < 0) return luaL_error(L, "out of memory");
  if (!found) {
    lua_pushfstring(L, "\n\tno snapshot of '%s' in lib/", mod);
    return 1;
  }
  char chunkname[4100];
  snprintf(chunkname, sizeof chunkname, "@%s", path);
  if (luaL_loadbufferx(L, text, len, chunkname, "t") != LUA_OK) return lua_error(L);
  lua_pushstring(L, path);
  return 2;
}

/* snap_install(forget...): puts the searcher second in package.searchers
 * (once per state), right after the preload one, and drops the named
 * modules from package.loaded. */
static int snap_install(lua_State *L) {
  luavm *vm = vm_of(L);
  int n = lua_gettop(L);
  lua_getglobal(L, "package");
  int package = lua_gettop(L);
  if (lua_type(L, package) != LUA_TTABLE) return 0;
  if (!vm->searcher_in && lua_getfield(L, package, "searchers") == LUA_TTABLE) {
    for (lua_Integer i = (lua_Integer)lua_rawlen(L, -1); i >= 2; i--) {
      lua_rawgeti(L, -1, i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, snap_searcher);
    lua_rawseti(L, -2, 2);
    vm->searcher_in = 1;
  }
  lua_settop(L, package);
  if (lua_getfield(L, package, "loaded") == LUA_TTABLE) {
    for (int i = 1; i <= n; i++) {
      lua_pushnil(L);
      lua_setfield(L, -2, lua_tostring(L, i));
    }
  }
  return 0;
}

int luavm_set_module_finder(luavm *vm, luavm_module_finder find, void *ctx, const char *const *forget, int nforget,
                            fherr *err) {
  vm->find = find;
  vm->find_ctx = ctx;
  lua_State *L = vm->L;
  if (!lua_checkstack(L, nforget + 2)) return fherr_set(err, FH_INTERNAL, "Lua stack exhausted");
  lua_pushcfunction(L, snap_install);
  for (int i = 0; i < nforget; i++) lua_pushstring(L, forget[i]);
  return luavm_pcall(vm, nforget, 0, err);
}

double luavm_set_budget(luavm *vm, double seconds) {
  double old = vm->budget;
  if (seconds > 0) vm->budget = seconds;
  return old;
}

double luavm_cap_budget(luavm *vm, double seconds) {
  return luavm_set_budget(vm, seconds < vm->budget ? seconds : vm->budget);
}

/* --- JSON <-> Lua ---------------------------------------------------- */

static void push_json(lua_State *L, const json_t *v, int depth) {
  if (depth > MAX_DEPTH || !lua_checkstack(L, 3)) {
    lua_pushnil(L);
    return;
  }
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    lua_createtable(L, 0, (int)json_object_size(v));
    const char *k;
    json_t *item;
    json_object_foreach((json_t *)v, k, item) {
      if (json_is_null(item)) continue;
      push_json(L, item, depth + 1);
      lua_setfield(L, -2, k);
    }
    break;
  }
  case JSON_ARRAY: {
    lua_createtable(L, (int)json_array_size(v), 0);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
      push_json(L, item, depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  }
  case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
  case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
  case JSON_TRUE: lua_pushboolean(L, 1); break;
  case JSON_FALSE: lua_pushboolean(L, 0); break;
  default: lua_pushnil(L); break;
  }
}

void luavm_push_json(lua_State *L, const json_t *value) {
  if (!value) lua_pushnil(L);
  else push_json(L, value, 0);
}

static int to_json(lua_State *L, int idx, json_t **out, fherr *err, int depth);

static int table_to_json(lua_State *L, int idx, json_t **out, fherr *err, int depth) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  lua_Integer count = 0;
  int sequence = 1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    count++;
    if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 || lua_tointeger(L, -2) > n) sequence = 0;
    lua_pop(L, 1);
  }
  if (sequence && n > 0 && count == n) {
    json_t *arr = json_array();
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, i);
      json_t *item;
      int rc = to_json(L, lua_gettop(L), &item, err, depth + 1);
      lua_pop(L, 1);
      if (rc) {
        json_decref(arr);
        return rc;
      }
      json_array_append_new(arr, item);
    }
    *out = arr;
    return FH_OK;
  }
  json_t *obj = json_object();
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    char keybuf[32];
    const char *key;
    if (lua_type(L, -2) == LUA_TSTRING) {
      key = lua_tostring(L, -2);
    } else if (lua_isinteger(L, -2)) {
      snprintf(keybuf, sizeof keybuf, "%lld", (long long)lua_tointeger(L, -2));
      key = keybuf;
    } else {
      lua_pop(L, 2);
      json_decref(obj);
      return fherr_set(err, FH_FLOW_ERROR, "data can only have string keys, not %s keys",
                       luaL_typename(L, -1));
    }
    json_t *item;
    int rc = to_json(L, lua_gettop(L), &item, err, depth + 1);
    if (rc) {
      lua_pop(L, 2);
      json_decref(obj);
      return rc;
    }
    if (item) json_object_set_new(obj, key, item);
    lua_pop(L, 1);
  }
  *out = obj;
  return FH_OK;
}

static int to_json(lua_State *L, int idx, json_t **out, fherr *err, int depth) {
  *out = NULL;
  if (depth > MAX_DEPTH) return fherr_set(err, FH_FLOW_ERROR, "data is nested too deeply (a cycle?)");
  if (!lua_checkstack(L, 4)) return fherr_set(err, FH_FLOW_ERROR, "data is nested too deeply");
  switch (lua_type(L, idx)) {
  case LUA_TNIL: *out = json_null(); return FH_OK;
  case LUA_TBOOLEAN: *out = json_boolean(lua_toboolean(L, idx)); return FH_OK;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      *out = json_integer((json_int_t)lua_tointeger(L, idx));
    } else {
      double d = lua_tonumber(L, idx);
      if (!isfinite(d)) return fherr_set(err, FH_FLOW_ERROR, "data cannot hold NaN or infinity");
      *out = json_real(d);
    }
    return FH_OK;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    *out = json_stringn(s, len);
    if (!*out) return fherr_set(err, FH_FLOW_ERROR, "data strings must be UTF-8");
    return FH_OK;
  }
  case LUA_TTABLE: return table_to_json(L, idx, out, err, depth);
  default:
    return fherr_set(err, FH_FLOW_ERROR, "data cannot hold a %s value", luaL_typename(L, idx));
  }
}

int luavm_to_json(lua_State *L, int idx, json_t **out, fherr *err) {
  return to_json(L, lua_absindex(L, idx), out, err, 0);
}
