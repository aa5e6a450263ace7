/* luaside — what the Lua units share, and only they include: luavm.c,
 * luasafe.c, luapat.c, luatab.c, flowdef.c, activation.c and luamod.c.
 * Everything else reaches Lua through luavm.h, flowdef.h and activation.h,
 * which carry no lua_State.
 */
#ifndef LUASIDE_H
#define LUASIDE_H

#include <jansson.h>
#include <lua.h>

#include "fherr.h"
#include "luavm.h"

lua_State *luavm_state(luavm *vm);

/* The time budget from inside a C function that may loop for long (the
 * count hook only sees Lua instructions): raises the budget error, as the
 * hook does, once the running gateway call is past its deadline.  steps()
 * counts work and checks the clock every few thousand steps. */
void luavm_check_budget(lua_State *L);
void luavm_budget_steps(lua_State *L, unsigned n);
/* Whether the state has a flow loader (luavm_set_flow_loader); asks it
 * for a flow the state does not hold, 1 when it loaded it. */
int luavm_has_flow_loader(lua_State *L);
int luavm_load_missing_flow(lua_State *L, const char *flow);

/* luasafe.c: the libraries of a fresh state (luaL_openlibs done).  Always
 * bounds the C loops of string.rep, table.concat/insert/remove/move/sort
 * and refuses __gc; unless unsafe, also puts the sandbox in place (see
 * luasafe.c).  lua_dir holds the host's own modules (flow.lua), which keep
 * the debug library and may read flow sources (under lua_dir and flows_dir,
 * or noted by luasafe_note_source).  Raises on no memory: call it protected. */
void luasafe_open(lua_State *L, const char *lua_dir, const char *flows_dir, int unsafe);
/* Lets the host's modules read path (the file a flow was loaded from). */
void luasafe_note_source(lua_State *L, const char *path);
/* The largest string string.rep and table.concat build for a flow, and the
 * error past it ("WHAT would build a string of more than 64 MiB ..."). */
#define LUASAFE_MAX_BUILT ((size_t)64 << 20)
int luasafe_too_large(lua_State *L, const char *what);
/* luapat.c: string.find, match, gmatch and gsub with Lua's patterns,
 * matched by a copy of Lua's matcher that keeps to the time budget. */
void luapat_open(lua_State *L);
/* luatab.c: table.concat, insert, remove, move and sort as Lua's, counting
 * their work against the time budget; concat is capped as string.rep. */
void luatab_open(lua_State *L);

/* JSON <-> Lua.  Objects become tables, arrays become sequences, null
 * becomes nil (the key is absent).  A table converts to an array when its
 * keys are exactly 1..n (n > 0), else to an object with string keys; other
 * keys, functions, userdata, NaN and cycles are errors. */
void luavm_push_json(lua_State *L, const json_t *value);
int luavm_to_json(lua_State *L, int idx, json_t **out, fherr *err);

/* The compiled Lua table of a flow, kept in each state's registry by
 * flowdef_load (flowdef.c). */
int flowdef_push_def(lua_State *L, const char *flow);
/* Pushes def.by_name[node][key] (a callback), or nil; returns its type. */
int flowdef_push_callback(lua_State *L, const char *flow, const char *node, const char *key);
/* Pushes def.self, the user's flow table passed as `self`. */
void flowdef_push_self(lua_State *L, const char *flow);
/* Pushes the condition of edge i (0-based) of node, or nil. */
void flowdef_push_edge_cond(lua_State *L, const char *flow, const char *node, int i);

#endif
