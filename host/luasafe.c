/* luasafe — the libraries flows get, in two parts.
 *
 * The guards, always on.  The count hook of the time budget sees Lua
 * instructions only, so a standard function that loops in C (fed a huge
 * length by a __len, or just a huge count) would run past any budget.  The
 * ones that can are replaced by versions that keep to it: string.rep
 * (capped at LUASAFE_MAX_BUILT bytes, which it writes in milliseconds; ""
 * stays "" however often it is repeated), and the table functions of
 * luatab.c and the pattern functions of luapat.c, which count their work
 * with luavm_budget_steps.  setmetatable refuses __gc: Lua runs
 * finalizers with hooks off, at any allocation, even while the host reads
 * results outside a gateway call, so a finalizer that loops would hang the
 * host where no budget can reach it.
 *
 * The sandbox, unless the host runs --lua-unsafe.  What reaches the system
 * raises "NAME is not available to flows (...)" when called, as an ordinary
 * Lua error: os.execute, exit, getenv, remove, rename, setlocale, tmpname;
 * all of io (io.stdout and the like raise when read); all of debug but
 * traceback; package.loadlib, package.searchpath and C modules (the C
 * searchers become one that says so); dofile and loadfile; string.dump; binary chunks in load (load
 * takes text only); collectgarbage options that change the collector.
 * require still loads pure-Lua modules, as text only, from the path the
 * host set (a flow that changes package.path changes nothing: else it could
 * read any file as Lua and see its lines in the syntax errors).  Modules
 * found under lua_dir (the host's own flow.lua) run in an environment that
 * keeps the full debug library and an io.open that reads flow sources only
 * (.lua files under the flows' and the Lua folder, or that the host loaded
 * a flow from: luasafe_note_source): the DSL locates its errors with
 * debug.getinfo and reads the flows' source lines for its hints (and a flow
 * could hand the DSL any chunk name, or replace string.gsub to watch it).
 *
 * A Lua unit (see luaside.h); calls luatab and luapat.
 */
#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "luaside.h"

#define TRUSTED_ENV "flowhost.trusted_env"
#define SOURCES "flowhost.sources"   /* the files the host loaded flows from (luavm_load) */
#define SANDBOXED "is not available to flows (the host runs them sandboxed; see serve --lua-unsafe)"

static int is_listed(const char *name, const char *const *list) {
  for (; list && *list; list++)
    if (!strcmp(name, *list)) return 1;
  return 0;
}

/* --- the sandbox ----------------------------------------------------------- */

/* Upvalue 1: the name the error gives ("os.execute"). */
static int blocked(lua_State *L) {
  return luaL_error(L, "%s " SANDBOXED, lua_tostring(L, lua_upvalueindex(1)));
}

/* t[name] = a function that raises, calling itself lib.name. */
static void block(lua_State *L, int t, const char *lib, const char *name) {
  t = lua_absindex(L, t);
  if (lib) lua_pushfstring(L, "%s.%s", lib, name);
  else lua_pushstring(L, name);
  lua_pushcclosure(L, blocked, 1);
  lua_setfield(L, t, name);
}

/* __index of a restricted library: a field the original has (io.stdout)
 * raises; anything else is nil.  Upvalues: the name, the original. */
static int blocked_field(lua_State *L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) == LUA_TNIL) return 1;
  const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  return luaL_error(L, "%s.%s " SANDBOXED, lua_tostring(L, lua_upvalueindex(1)), key);
}

/* The global library `lib` (and package.loaded[lib]) becomes a copy that
 * keeps the functions listed in keep; every other function raises. */
static void restrict_lib(lua_State *L, const char *lib, const char *const *keep) {
  lua_getglobal(L, lib);
  int orig = lua_gettop(L);
  luaL_checktype(L, orig, LUA_TTABLE);
  lua_newtable(L);
  int copy = orig + 1;
  lua_pushnil(L);
  while (lua_next(L, orig)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION) {
      const char *name = lua_tostring(L, -2);
      if (is_listed(name, keep)) {
        lua_pushvalue(L, -1);
        lua_setfield(L, copy, name);
      } else {
        block(L, copy, lib, name);
      }
    }
    lua_pop(L, 1);
  }
  lua_createtable(L, 0, 1);
  lua_pushstring(L, lib);
  lua_pushvalue(L, orig);
  lua_pushcclosure(L, blocked_field, 2);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, copy);
  lua_pushvalue(L, copy);
  lua_setglobal(L, lib);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, copy);
  lua_setfield(L, -2, lib);
  lua_settop(L, orig - 1);
}

/* load(chunk [, name [, mode [, env]]]), text only.  Upvalue: Lua's load. */
static int text_load(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING && lua_tostring(L, 1)[0] == LUA_SIGNATURE[0])
    return luaL_error(L, "load of binary chunks " SANDBOXED);
  if (lua_gettop(L) < 3) lua_settop(L, 3);
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* collectgarbage, without the options that change the collector (the state
 * outlives the action).  Upvalue: Lua's collectgarbage. */
static int safe_collectgarbage(lua_State *L) {
  static const char *const changing[] = {"stop", "restart", "setpause", "setstepmul", "incremental",
                                         "generational", NULL};
  const char *opt = luaL_optstring(L, 1, "collect");
  if (is_listed(opt, changing)) return luaL_error(L, "collectgarbage(\"%s\") " SANDBOXED, opt);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* Whether file lies under dir (a resolved path ending in '/'). */
static int in_dir(const char *file, const char *dir) {
  char real[PATH_MAX];
  return dir && realpath(file, real) && !strncmp(real, dir, strlen(dir));
}

/* Pushes the resolved path of dir with a '/' after it, or false. */
static void push_real_dir(lua_State *L, const char *dir) {
  char real[PATH_MAX];
  if (dir && realpath(dir, real)) lua_pushfstring(L, "%s/", real);
  else lua_pushboolean(L, 0);
}

/* note_source(path as light userdata): registry[SOURCES][path] = true. */
static int note_source(lua_State *L) {
  const char *path = lua_touserdata(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, SOURCES) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, SOURCES);
  }
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, path);
  return 0;
}

void luasafe_note_source(lua_State *L, const char *path) {
  lua_pushcfunction(L, note_source);
  lua_pushlightuserdata(L, (void *)path);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) lua_pop(L, 1);   /* no memory: no hints from that file */
}

/* Whether the trusted environment may read file: a .lua file the host
 * loaded a flow from, or one under the Lua or the flows folder (upvalues 2
 * and 3 of trusted_open). */
static int readable(lua_State *L, const char *file, size_t len) {
  if (len < 4 || strcmp(file + len - 4, ".lua")) return 0;
  if (in_dir(file, lua_tostring(L, lua_upvalueindex(2))) || in_dir(file, lua_tostring(L, lua_upvalueindex(3))))
    return 1;
  int known = lua_getfield(L, LUA_REGISTRYINDEX, SOURCES) == LUA_TTABLE && lua_getfield(L, -1, file) == LUA_TBOOLEAN;
  lua_settop(L, 2);
  return known;
}

/* io.open of the trusted environment: reading, and only what readable()
 * allows.  Upvalues: Lua's io.open, the two folders. */
static int trusted_open(lua_State *L) {
  size_t len;
  const char *file = luaL_checklstring(L, 1, &len);
  const char *mode = luaL_optstring(L, 2, "r");
  lua_settop(L, 2);
  if ((strcmp(mode, "r") && strcmp(mode, "rb")) || !readable(L, file, len)) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: the host's modules read only flow sources", file);
    return 2;
  }
  int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushstring(L, file);
  lua_pushstring(L, mode);
  lua_call(L, 2, LUA_MULTRET);
  return lua_gettop(L) - base;
}

/* searcher(name): the module's file on the host's path, loaded as text
 * only.  Upvalues: Lua's package.searchpath, the path, the resolved lua_dir
 * (or false), whose modules get the trusted environment. */
static int text_searcher(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_call(L, 2, 2);   /* file | nil, message */
  if (lua_isnil(L, 2)) return 1;
  const char *file = lua_tostring(L, 2);
  if (luaL_loadfilex(L, file, "t") != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file, lua_tostring(L, -1));
  if (in_dir(file, lua_tostring(L, lua_upvalueindex(3)))) {
    lua_getfield(L, LUA_REGISTRYINDEX, TRUSTED_ENV);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  lua_pushvalue(L, 2);
  return 2;
}

static int c_searcher(lua_State *L) {
  lua_pushstring(L, "C modules are not available to flows (the host runs them sandboxed; see serve --lua-unsafe)");
  return 1;
}

/* package.searchers = {preload, text_searcher, c_searcher}; loadlib and
 * searchpath raise. */
static void restrict_require(lua_State *L, const char *lua_dir) {
  lua_getglobal(L, "package");
  int package = lua_gettop(L);
  lua_getfield(L, package, "searchers");
  int searchers = package + 1;
  lua_getfield(L, package, "searchpath");
  lua_getfield(L, package, "path");
  luaL_checktype(L, -1, LUA_TSTRING);
  push_real_dir(L, lua_dir);
  lua_pushcclosure(L, text_searcher, 3);
  lua_rawseti(L, searchers, 2);
  lua_pushcfunction(L, c_searcher);
  lua_rawseti(L, searchers, 3);
  for (lua_Integer i = (lua_Integer)lua_rawlen(L, searchers); i > 3; i--) {
    lua_pushnil(L);
    lua_rawseti(L, searchers, i);
  }
  block(L, package, "package", "loadlib");
  block(L, package, "package", "searchpath");
  lua_settop(L, package - 1);
}

/* Replaces the global function `name` by a closure of fn over the original. */
static void wrap_global(lua_State *L, const char *name, lua_CFunction fn) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, fn, 1);
  lua_setglobal(L, name);
}

/* registry[TRUSTED_ENV] = {debug = Lua's debug, io = {open = trusted_open}},
 * falling back to _G. */
static void make_trusted_env(lua_State *L, const char *lua_dir, const char *flows_dir) {
  lua_createtable(L, 0, 2);
  lua_createtable(L, 0, 1);
  lua_pushglobaltable(L);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_getglobal(L, "debug");
  lua_setfield(L, -2, "debug");
  lua_createtable(L, 0, 1);
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "open");
  lua_remove(L, -2);
  push_real_dir(L, lua_dir);
  push_real_dir(L, flows_dir);
  lua_pushcclosure(L, trusted_open, 3);
  lua_setfield(L, -2, "open");
  lua_setfield(L, -2, "io");
  lua_setfield(L, LUA_REGISTRYINDEX, TRUSTED_ENV);
}

static void open_sandbox(lua_State *L, const char *lua_dir, const char *flows_dir) {
  static const char *const os_keep[] = {"clock", "date", "difftime", "time", NULL};
  static const char *const debug_keep[] = {"traceback", NULL};
  make_trusted_env(L, lua_dir, flows_dir);
  restrict_lib(L, "os", os_keep);
  restrict_lib(L, "io", NULL);
  restrict_lib(L, "debug", debug_keep);
  restrict_require(L, lua_dir);
  lua_pushglobaltable(L);
  block(L, -1, NULL, "dofile");
  block(L, -1, NULL, "loadfile");
  lua_pop(L, 1);
  wrap_global(L, "load", text_load);
  wrap_global(L, "collectgarbage", safe_collectgarbage);
  lua_getglobal(L, "string");
  block(L, -1, "string", "dump");
  lua_pop(L, 1);
}

/* --- the guards: string.rep, setmetatable ------------------------------------ */

int luasafe_too_large(lua_State *L, const char *what) {
  return luaL_error(L, "%s would build a string of more than %d MiB (the limit for flows)", what,
                    (int)(LUASAFE_MAX_BUILT >> 20));
}

/* string.rep(s, n [, sep]): copies by doubling, so its time is that of
 * writing the result, which is at most LUASAFE_MAX_BUILT bytes. */
static int safe_rep(lua_State *L) {
  size_t l, lsep;
  const char *s = luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  const char *sep = luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0 || l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  size_t most = LUASAFE_MAX_BUILT;
  if (l > most || lsep > most || (lua_Unsigned)n > most || l + lsep > most / (size_t)n)
    return luasafe_too_large(L, "string.rep");
  size_t unit = l + lsep, body = unit * (size_t)(n - 1), total = body + l;
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, total);
  if (n > 1) {
    memcpy(p, s, l);
    memcpy(p + l, sep, lsep);
    for (size_t done = unit; done < body;) {
      size_t k = done < body - done ? done : body - done;
      memcpy(p + done, p, k);
      done += k;
    }
  }
  memcpy(p + body, s, l);
  luaL_pushresultsize(&b, total);
  return 1;
}

/* setmetatable(t, mt), refusing a __gc field (see the top of the file). */
static int safe_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
  if (t == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "__gc metamethods are not available to flows (finalizers run outside the time budget)");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

static void open_guards(lua_State *L) {
  luatab_open(L);
  lua_getglobal(L, "string");
  lua_pushcfunction(L, safe_rep);
  lua_setfield(L, -2, "rep");
  lua_pop(L, 1);
  lua_pushcfunction(L, safe_setmetatable);
  lua_setglobal(L, "setmetatable");
  luapat_open(L);
}

void luasafe_open(lua_State *L, const char *lua_dir, const char *flows_dir, int unsafe) {
  open_guards(L);
  if (!unsafe) open_sandbox(L, lua_dir, flows_dir);
}
