/* activation — the Lua side of an activation: the one door between the
 * engine and a flow's callbacks.
 *
 * The engine describes what a callback sees (the process, the task, the
 * transitions it may call) in an act_ctx and asks a typed question: run this
 * node's callback, evaluate this condition, which user does :Assign name,
 * how many seconds does this timer wait, which form fields are wrong, may
 * this user do the task, what is the process's summary, what does the form
 * clean to.  The answers are C values; no lua_State leaves the Lua units
 * (luavm, flowdef, activation, luamod).
 *
 * Every call goes through luavm_pcall (traceback, time and memory budget).
 * A callback's changes to process.data and task.data are taken over only
 * when it succeeds: *ctx->data and *ctx->task_data are then replaced (the old
 * values freed); on error they are left as they were.
 *
 * Transitions (activation.cancel(), activation.cancel.can_proceed(), ...)
 * reach the engine through ctx->door.  Their handle dies when the callback
 * returns, so an activation kept in a global fails cleanly later.
 */
#ifndef ACTIVATION_H
#define ACTIVATION_H

#include <jansson.h>
#include <stdint.h>

#include "fherr.h"
#include "luavm.h"

/* What a transition called from a callback asks the engine.  Before it is
 * called, *ctx->data already holds what the callback wrote to process.data;
 * after it, the callback's table is refilled from *ctx->data. */
typedef struct act_door {
  void *ctx;
  const char *const *actions;   /* names, indexed by the action number */
  int nactions;
  /* probe: only tell whether it is allowed now (FH_OK) or why not */
  int (*transition)(void *ctx, int64_t task_id, int action, int probe, const json_t *args, fherr *err);
} act_door;

typedef struct act_ctx {
  const char *flow;
  /* the process */
  int64_t process_id;
  const char *process_status;
  const char *created_by;       /* "" or NULL: started by the system */
  const char *created_at;
  json_t **data;                /* process data, replaced on success */
  /* the task; task_id 0 with a node: a task not stored yet (no transitions);
   * node NULL: no task at all */
  const char *node;
  int64_t task_id;
  const char *task_status;
  const char *owner;            /* may be NULL */
  const char *token;
  char **task_data;             /* JSON text, replaced on success; may be NULL */
  const act_door *door;         /* may be NULL: no transitions */
} act_ctx;

/* node.key(self, activation[, extra]) for its effect only (handlers, jobs,
 * start functions, function tasks). */
int activation_run(luavm *vm, act_ctx *c, const char *key, const json_t *extra, fherr *err);
/* A condition: edge < 0 calls node.fn (If), else the condition of edge
 * `edge` (0-based) of the node; *yes is its truth. */
int activation_test(luavm *vm, act_ctx *c, int edge, int *yes, fherr *err);
/* node.assign_fn -> a user name (malloc'd) or NULL for nil; anything else
 * is FH_FLOW_ERROR. */
int activation_assign(luavm *vm, act_ctx *c, char **user, fherr *err);
/* node.fn of a Timer -> seconds; *ok is 0 when it returned no number. */
int activation_seconds(luavm *vm, act_ctx *c, double *seconds, int *ok, fherr *err);
/* node[key](self, activation) -> its value as JSON (new reference; NULL
 * for nil): a Receive's or Send's key and data, a :Due or :OnTimeout
 * function's seconds. */
int activation_value(luavm *vm, act_ctx *c, const char *key, json_t **out, fherr *err);
/* node[key](self, activation, extra) -> its truth (a :ForEach's complete). */
int activation_decide(luavm *vm, act_ctx *c, const char *key, const json_t *extra, int *yes, fherr *err);
/* node.validate(self, activation, clean) -> field errors: a non-empty object
 * (new reference) or NULL when the form is fine. */
int activation_validate(luavm *vm, act_ctx *c, const json_t *clean, json_t **fields, fherr *err);
/* node.permission_fn(self, user, activation) -> truth; user is the actor as
 * JSON.  c->node names the node; the task may be absent. */
int activation_permission(luavm *vm, act_ctx *c, const json_t *user, int *yes, fherr *err);
/* flow.summary(self, process) -> a malloc'd string or NULL (no summary or
 * it failed: the caller falls back to a default). */
char *activation_summary(luavm *vm, const char *flow, const json_t *process);
/* flow.clean(def, fields, data) for a form of these fields: FH_OK with
 * *clean (an object), or FH_INVALID with err->fields. */
int activation_clean(luavm *vm, const char *flow, char *const *fields, int nfields, const json_t *data,
                     json_t **clean, fherr *err);

#endif
