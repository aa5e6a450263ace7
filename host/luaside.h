/* luaside — what the Lua units share, and only they include: luavm.c,
 * flowdef.c, activation.c and luamod.c.  Everything else reaches Lua
 * through luavm.h, flowdef.h and activation.h, which carry no lua_State.
 */
#ifndef LUASIDE_H
#define LUASIDE_H

#include <jansson.h>
#include <lua.h>

#include "fherr.h"
#include "luavm.h"

lua_State *luavm_state(luavm *vm);

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
