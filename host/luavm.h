/* luavm — one Lua state and the only door between C and Lua.
 *
 * A luavm owns a lua_State with the standard libraries, `package.path` set
 * to the `flow` DSL module and the flows' shared lib folder, a memory limit
 * enforced in the allocator, and a time budget enforced by a count hook.
 * States are never shared between threads: each engine has its own.
 *
 * luavm_pcall() is the protected gateway every host call into Lua goes
 * through: it adds a traceback handler, arms the time budget, and turns a
 * Lua error (a string, or a table {message, file, line} as the DSL raises)
 * into an fherr with code FH_FLOW_ERROR.
 */
#ifndef LUAVM_H
#define LUAVM_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

#include "fherr.h"

typedef struct luavm luavm;

typedef struct luavm_options {
  const char *lua_dir;      /* folder holding flow.lua (NULL: built-in default) */
  const char *flows_dir;    /* its lib/ subfolder goes on package.path */
  double budget_seconds;    /* per gateway call; <= 0: 5 s */
  size_t memory_limit;      /* bytes; 0: 256 MiB */
} luavm_options;

luavm *luavm_new(const luavm_options *opt, fherr *err);
void luavm_free(luavm *vm);
lua_State *luavm_state(luavm *vm);
/* The folder flow.lua is loaded from when no lua_dir is given. */
const char *luavm_default_lua_dir(void);

/* Compiles a chunk (text only, never bytecode) and leaves the function on
 * the stack; on error leaves nothing and fills err with file and line. */
int luavm_load(luavm *vm, const char *source, size_t len, const char *chunkname, fherr *err);
/* Calls the function below its nargs arguments, like lua_pcall, leaving
 * nresults values.  On error the stack is as before the function was pushed. */
int luavm_pcall(luavm *vm, int nargs, int nresults, fherr *err);

/* Changes the time budget of later calls; returns the previous one. */
double luavm_set_budget(luavm *vm, double seconds);

/* JSON <-> Lua.  Objects become tables, arrays become sequences, null
 * becomes nil (the key is absent).  A table converts to an array when its
 * keys are exactly 1..n (n > 0), else to an object with string keys; other
 * keys, functions, userdata, NaN and cycles are errors. */
void luavm_push_json(lua_State *L, const json_t *value);
int luavm_to_json(lua_State *L, int idx, json_t **out, fherr *err);

#endif
