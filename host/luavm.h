/* luavm — one Lua state and the only door between C and Lua.
 *
 * A luavm owns a lua_State with the standard libraries, `package.path` set
 * to the `flow` DSL module and the flows' shared lib folder, a memory limit
 * enforced in the allocator, and a time budget enforced by a count hook and
 * by the library functions that loop in C (luasafe.c, luapat.c, luatab.c).
 * By default the libraries are the sandboxed set of luasafe.c: nothing that
 * reaches the system (os.execute, io, package.loadlib, most of debug...).
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
#include <stddef.h>

#include "fherr.h"

typedef struct luavm luavm;

typedef struct luavm_options {
  const char *lua_dir;      /* folder holding flow.lua (NULL: built-in default) */
  const char *flows_dir;    /* its lib/ subfolder goes on package.path */
  double budget_seconds;    /* per gateway call; <= 0: 5 s */
  size_t memory_limit;      /* bytes; 0: 256 MiB */
  int lua_unsafe;           /* 1: the full standard libraries (serve --lua-unsafe) */
} luavm_options;

luavm *luavm_new(const luavm_options *opt, fherr *err);
void luavm_free(luavm *vm);
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
/* Lowers it to `seconds` if it is longer (a call that must be short
 * whatever the host's budget); returns the one to set back. */
double luavm_cap_budget(luavm *vm, double seconds);

/* Where `require` looks first for modules (the flows' lib/ snapshots): find
 * returns 1 with the module's path and text (borrowed until the load is
 * done), 0 when it has none (Lua's own searchers go on), -1 on no memory.
 * find NULL removes it.  Modules named in forget are dropped from
 * package.loaded first. */
typedef int (*luavm_module_finder)(void *ctx, const char *name, const char **path, const char **text, size_t *len);
int luavm_set_module_finder(luavm *vm, luavm_module_finder find, void *ctx, const char *const *forget, int nforget,
                            fherr *err);

/* Loads a flow the state does not hold yet, when a lookup of it finds
 * none (flowdef.c): the engines' states load each flow on its first use
 * (engine.c).  load returns 0 when it loaded the flow; fn NULL: none. */
typedef int (*luavm_flow_loader)(void *ctx, luavm *vm, const char *flow);
void luavm_set_flow_loader(luavm *vm, luavm_flow_loader load, void *ctx);

#endif
