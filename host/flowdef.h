/* flowdef — a loaded flow: its checked graph as plain C data.
 *
 * The `flow` DSL (lua/flow.lua) validates a flow file and returns a compiled
 * table; flowdef_load() runs a file in a luavm, checks that table once more
 * from C, and copies the graph (nodes, edges, fields, which callbacks exist)
 * into a flowdef.  A flowdef never points into Lua: it is immutable and
 * shared by every thread.  The callbacks stay in each thread's own Lua state,
 * found again by flow and node name (flowdef_push_callback() in luaside.h,
 * used by the activation unit).
 */
#ifndef FLOWDEF_H
#define FLOWDEF_H

#include <jansson.h>

#include "fherr.h"
#include "luavm.h"

typedef enum {
  NODE_START, NODE_START_FUNCTION, NODE_VIEW, NODE_HANDLER, NODE_FUNCTION, NODE_JOB, NODE_TIMER,
  NODE_IF, NODE_SWITCH, NODE_SPLIT, NODE_JOIN, NODE_END, NODE_RECEIVE, NODE_SEND, NODE_CANCEL,
  NODE_SUBPROCESS, NODE_LOCK, NODE_UNLOCK, NODE_OBSOLETE, NODE_EXTERNAL, NODE__COUNT
} node_kind;

/* EDGE_TIMEOUT names the edges of :OnTimeout in the JSON and the chart; they
 * are kept apart in fd_node.timeouts (the engine never follows them as a
 * successor). */
typedef enum { EDGE_NEXT, EDGE_TRUE, EDGE_FALSE, EDGE_CASE, EDGE_DEFAULT, EDGE_TIMEOUT } edge_kind;

typedef struct fd_edge {
  char *to;
  int to_index;      /* index into flowdef.nodes */
  edge_kind kind;
  int has_cond;
  char *cond_name;   /* the condition's method name (this.name), or NULL */
} fd_edge;

/* One :OnTimeout(after, node, {interrupting}) of a waiting node.  When
 * seconds < 0 the callback "timeout_<i>" (1-based, in written order) of the
 * node returns the seconds. */
typedef struct fd_timeout {
  char *to;
  int to_index;
  int interrupting;
  double seconds;
} fd_timeout;

typedef enum { ASSIGN_NONE, ASSIGN_USER, ASSIGN_FN, ASSIGN_OWNER_OF } assign_kind;

typedef struct fd_node {
  char *name;
  node_kind kind;
  char *title;
  char *description;
  int line;
  char **fields;     /* form fields (start, view) */
  int nfields;
  fd_edge *edges;
  int nedges;
  int has_fn, has_validate;
  char *permission;  /* NULL: none */
  int permission_fn;
  assign_kind assign;
  char *assign_value;   /* user name or node name */
  int retry_attempts;   /* job: 0 = no retry */
  double retry_backoff;
  double timeout;       /* job: 0 = none */
  int wait_all;         /* join: wait == 0 */
  int wait;             /* join: branches to wait for; 0 = all of them */
  int cancel_rest;      /* join: cancel the round's other tasks when it fires */
  int block;            /* join: a round waits until earlier rounds of it are complete */
  double seconds;       /* timer: < 0 when a function decides */
  int terminate;        /* end: cancel every other active task */
  int first;            /* split: the first waiting task done cancels the other branches */
  int cancel_target;    /* split: a Cancel's region (which finds the round by the split's task) */
  fd_timeout *timeouts; /* view, function, job, receive */
  int ntimeouts;
  int has_due;          /* :Due: the task's due_at */
  double due_seconds;   /* < 0: the callback "due" returns the seconds */
  char *message;        /* receive/send: the message's name (NULL for a signal) */
  char *signal;         /* receive/send: the signal's name (NULL for a message) */
  int transient;        /* receive: ignores kept messages */
  int has_key_fn;       /* receive/send: callback "key"; else key_value */
  char *key_value;      /* a constant key as text, or NULL */
  int has_data_fn;      /* send: callback "data" returns a table */
  char *region;         /* cancel: the split whose round it cancels */
  int region_index;
  char *subflow;        /* subprocess: the child flow and its StartFunction node */
  char *sub_start;
  int has_input_fn, has_output_fn;   /* callbacks "input" and "output" */
  int foreach;          /* :ForEach: one task per item */
  char *foreach_field;  /* ... of this process field, or NULL: callback "foreach" */
  int foreach_parallel; /* 0: one after another */
  int complete_count;   /* > 0: continue once this many are DONE */
  int has_complete_fn;  /* callback "complete"(self, activation, done) decides */
  int foreach_cancel_rest;   /* the instances still open when complete holds are canceled */
  char *lock_name;      /* lock, unlock: the critical section's name */
  char *while_node;     /* :While: taken and completed only while a task of it is active */
  char *topic;          /* external: the topic its workers fetch (a name like a message's) */
  int comment_required; /* view: comment = "required" (its execute needs a comment) */
  int priority;         /* :Priority: 0 none, 1 low, 2 normal, 3 high */
} fd_node;

typedef struct flowdef {
  char *name;
  char *title;
  char *description;
  int lock_process;     /* lock = "process" */
  int pin;              /* version = "pin": running processes keep their version */
  int history_lean;     /* history = "lean": the steps that run through within one action leave no task
                           row (engine_state.c, mark_unwritten; docs/flow-dsl.md) */
  int has_summary;
  json_t *fields;       /* ordered array of field schemas (the API's shape) */
  fd_node *nodes;
  int nnodes;
} flowdef;

const char *node_kind_name(node_kind kind);
const char *node_priority_name(int priority);   /* "low", "normal", "high"; NULL for none */
const char *edge_kind_name(edge_kind kind);
int node_kind_is_human(node_kind kind);   /* start and view: people act on them */

/* Runs `source` (chunkname "@"..path) in vm, validates the result, stores
 * it as the flow `name` in vm's registry (flowdef_push_callback() finds it) and,
 * when out is not NULL, returns the C graph (free with flowdef_free). */
int flowdef_load(luavm *vm, const char *name, const char *path, const char *source, size_t len,
                 flowdef **out, fherr *err);
void flowdef_free(flowdef *fd);
const fd_node *flowdef_node(const flowdef *fd, const char *name);
int flowdef_node_index(const flowdef *fd, const char *name);
/* The field schema named `name` (borrowed), or NULL. */
json_t *flowdef_field(const flowdef *fd, const char *name);

/* Drops flow `flow` from the state's registry (its file is gone). */
void flowdef_forget(luavm *vm, const char *flow);
/* Whether the state holds flow now (the lookups below load it on first use
 * where the state has a flow loader; this one never does). */
int flowdef_is_loaded(luavm *vm, const char *flow);

/* Graph as JSON (GET /api/flows/{flow}) and as Graphviz dot source. */
json_t *flowdef_to_json(const flowdef *fd);
char *flowdef_to_dot(const flowdef *fd);   /* malloc'd */

#endif
