/* engine — activations: starting processes, the task transitions, the
 * activation of next tasks (tokens, split/join, gateways), the error policy.
 *
 * One engine is one thread's worker: it owns a store connection and a luavm
 * whose flows follow the registry's current generation (reloaded lazily
 * before an action when the generation changed).  Engines share only the
 * flowreg.  Every call is one action: it locks its process (in this host),
 * computes the whole effect on the process in memory, Lua callbacks
 * included, with no transaction open, and then writes it in one short
 * transaction that commits before the call returns (the result is durable).
 * On an error nothing is written.  When another program wrote the process
 * meanwhile (its version changed), the action starts over from a fresh read.
 * Users and their permissions are reached through identity.h.
 *
 * Inputs and outputs are JSON (jansson), in the shapes of the HTTP contract,
 * so the CLI, the HTTP layer and the Lua module share one path.  Output
 * objects are new references owned by the caller.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <jansson.h>
#include <stdint.h>

#include "fherr.h"
#include "flowreg.h"
#include "store.h"

typedef struct engine engine;

typedef struct engine_options {
  flowreg *flows;            /* shared, not owned */
  const char *db_path;
  int synchronous_full;      /* default 1 */
  double budget_seconds;     /* per Lua callback; default 5 */
  const char *worker_name;   /* for job leases; default "engine" */
  double lease_grace;        /* seconds a job lease outlasts the job's budget; default 30 */
  double message_ttl;        /* seconds a message nobody waits for is kept; default 86400 */
  int defer_indexing;        /* leave re-indexing search fields after a reload to other engines
                                (serve's job workers), so that no request waits for it */
  struct identity_cache *identity_cache;   /* shared, not owned: the host's sign-ins (NULL: none) */
  struct token_uses *token_uses;   /* shared, not owned: each sign-in by token noted there (NULL: none) */
} engine_options;

/* Who acts.  The system actor (CLI without --as, the job workers) passes
 * every permission check but owns nothing, so it cannot take human tasks. */
typedef struct fh_actor {
  int64_t id;           /* 0 for the system */
  char username[64];
  int is_admin;
  int is_active;        /* 0: the account is disabled */
  int is_system;
  json_t *perms;        /* object used as a set */
  json_t *groups;       /* array of names */
} fh_actor;

int engine_open(const engine_options *opt, engine **out, fherr *err);
/* Process-wide settings of the storage library: engine_open applies them
 * as well, but a program that opens SQLite databases itself first (a
 * benchmark's baseline) calls this at its start. */
void engine_library_init(void);
void engine_close(engine *e);
flowreg *engine_flows(engine *e);

void fh_actor_system(fh_actor *a);
void fh_actor_free(fh_actor *a);
int fh_actor_has_perm(const fh_actor *a, const char *perm);
int engine_is_manager(const fh_actor *a, const char *flow);
json_t *fh_actor_to_json(const fh_actor *a);   /* {"username","is_admin","groups","permissions"} */

/* --- reading --------------------------------------------------------- */

/* {"items": [flow...]} as GET /api/flows */
int engine_flows_list(engine *e, const fh_actor *a, json_t **out, fherr *err);
/* the definition, as GET /api/flows/{flow} */
int engine_flow_get(engine *e, const fh_actor *a, const char *flow, json_t **out, fherr *err);
/* Graphviz dot source of a flow (malloc'd) */
int engine_flow_dot(engine *e, const char *flow, char **out, fherr *err);

typedef struct engine_task_query {
  const char *view;          /* inbox | queue | archive | all */
  const char *flow;
  int64_t process_id;
  const char *status;
  const char *since, *until;
  int ascending;
  int by_due;                /* sort by due_at (tasks without one last), else by created_at */
  int64_t after;
  int limit;                 /* default 50, max 500 */
  const json_t *data;        /* the data.* parameters by name ("amount_gte": "10"); NULL: none */
  int by_finished;           /* sort by finished_at (ascending applies), unfinished last */
  const char *finished_since, *finished_until;
} engine_task_query;

/* {"items": [task...], "next_after": id|null} */
int engine_tasks_list(engine *e, const fh_actor *a, const engine_task_query *q, json_t **out, fherr *err);
/* The same answer as JSON text (*out: the caller frees; *len its length),
 * written in one pass without a jansson tree (engine_list.c); hide_errors:
 * task errors of flows whose details the actor does not see are replaced
 * by a plain message, as the HTTP layer shows them. */
int engine_tasks_list_text(engine *e, const fh_actor *a, const engine_task_query *q, int hide_errors, char **out,
                           size_t *len, fherr *err);
/* {"inbox": n, "queue": n} */
int engine_tasks_counts(engine *e, const fh_actor *a, json_t **out, fherr *err);

/* One snapshot for the reads of a request that only reads, its sign-in
 * included, until engine_read_end (SQLite: the WAL read lock, a system call
 * and a mutex all the host's threads share, taken once instead of per
 * statement or per part; nothing elsewhere).  *began: this call began it.
 * A flow reload met inside (engine_sync_flows) ends it and begins anew. */
int engine_read_begin(engine *e, int *began, fherr *err);
void engine_read_end(engine *e, int began);
/* {"task", "form", "actions"} */
int engine_task_get(engine *e, const fh_actor *a, int64_t task_id, json_t **out, fherr *err);

typedef struct engine_process_query {
  const char *flow;
  const char *status;
  int64_t after;
  int limit;
  int64_t parent;   /* 0: any; else the children of that process */
  const json_t *data;   /* the data.* parameters by name ("customer": "ACME"); NULL: none */
} engine_process_query;

int engine_processes_list(engine *e, const fh_actor *a, const engine_process_query *q, json_t **out,
                          fherr *err);
/* The same page as the JSON text of the answer ({"items", "next_after"}),
 * *out the caller's to free: what GET /api/processes sends */
int engine_processes_list_text(engine *e, const fh_actor *a, const engine_process_query *q, char **out,
                               size_t *len, fherr *err);
/* {"process", "tasks"} */
int engine_process_get(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err);

/* --- comments and audit (engine_data.c) ------------------------------- */

/* Comments of a process (task_id 0) or of one of its tasks (process_id 0):
 * {"items": [{"id","task_id","author","created_at","text"}]}.  Whoever may
 * see the process may read and add them (404 otherwise; 403 for a task seen
 * only from the queue). */
int engine_comments_list(engine *e, const fh_actor *a, int64_t process_id, int64_t task_id, json_t **out,
                         fherr *err);
/* text: the body's "text" (1..4000 characters). -> the new comment */
int engine_comment_add(engine *e, const fh_actor *a, int64_t process_id, int64_t task_id, const json_t *text,
                       json_t **out, fherr *err);
/* {"items": [{"id","task_id","node","user","at","changes": [{"field","old","new"}]}]} */
int engine_audit_list(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err);
/* Loads the flows and brings the search index of their processes up to
 * their `search = true` fields (serve calls it once before listening). */
void engine_index_search(engine *e);

/* --- acting ------------------------------------------------------------ */

/* POST /api/flows/{flow}/start/{node}: data may be NULL.
 * -> {"process", "tasks": [created]}; out may be NULL when the caller does
 * not read the view (it is a fifth of an automatic start's CPU). */
int engine_start(engine *e, const fh_actor *a, const char *flow, const char *node, json_t *data,
                 json_t **out, fherr *err);
/* action: assign | unassign | reassign | execute | cancel | undo | revive.
 * args: {"user"} for reassign, {"data"} for execute; may be NULL.
 * -> {"task", "process", "tasks": [created]} */
int engine_task_action(engine *e, const fh_actor *a, int64_t task_id, const char *action, json_t *args,
                       json_t **out, fherr *err);
/* -> the process, CANCELED */
int engine_process_cancel(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err);

/* --- jobs and timers ------------------------------------------------- */

/* Runs due jobs and timers until none is due or max have run (max <= 0:
 * no limit).  *ran counts them. */
int engine_run_due(engine *e, int max, int *ran, fherr *err);
/* Seconds until the next job or timer is due (< 0: none). */
int engine_next_due(engine *e, double *seconds, fherr *err);

/* --- messages and signals ------------------------------------------- */

typedef struct engine_send_args {
  int signal;           /* 1: broadcast to every receiver waiting now, never kept */
  const char *name;
  const char *key;      /* messages only: the correlation key as text */
  json_t *data;         /* object or NULL */
  double ttl;           /* seconds a message nobody waits for is kept; <= 0: the default */
} engine_send_args;

/* POST /api/messages/{name}, POST /api/signals/{name}:
 * -> {"message", "key", "completed": [task...], "kept": null | {"id", "expires_at"}}
 *    {"signal", "completed": [task...]} */
int engine_send(engine *e, const fh_actor *a, const engine_send_args *m, json_t **out, fherr *err);

/* --- external tasks (engine_external.c) ------------------------------ */

#define ENGINE_EXTERNAL_MAX 100          /* tasks one fetch may take */
#define ENGINE_EXTERNAL_LEASE_MAX 86400  /* seconds a lease may last */

/* The calls of workers outside the host, with the request body (a JSON
 * object, every field checked here: FH_BAD_REQUEST for anything
 * malformed).  Who may: an admin, or an actor holding external.<topic>
 * for every topic asked (fetch) or touched (the task's); others
 * FH_FORBIDDEN.  verb (id 0 for fetch):
 *   fetch    {"worker", "topics", "max"?, "lease"?} -> {"items": [{"id",
 *            "topic", "process_id", "flow", "node", "data", "attempts",
 *            "lease_until"}]}, fetch-and-lock
 *   complete {"worker", "data"?} -> {"task", "process", "tasks"}: data
 *            cleaned by the node's fields (or the flow's), merged, the
 *            flow continues
 *   fail     {"worker", "message", "retry_in"?} -> {"task"}: again after
 *            retry_in seconds (default: the :Retry backoff) while attempts
 *            are left, else ERROR with the message
 *   extend   {"worker", "lease"} -> {"id", "lease_until"}
 * FH_NOT_FOUND: no such external task; FH_CONFLICT: the worker holds no
 * live lease on it. */
int engine_external(engine *e, const fh_actor *a, const char *verb, int64_t id, const json_t *body, json_t **out,
                    fherr *err);
/* How many leases of external tasks ran out (offered again since). */
int engine_external_lease_expiries(engine *e, int64_t *n, fherr *err);

/* The test clock (fhtime manual): moves it forward step by step to each due
 * time within `seconds` (timers, timeouts, job retries, message expiry),
 * running what is due at each step; ends at now + seconds. */
int engine_advance(engine *e, double seconds, int *ran, fherr *err);

/* --- migration --------------------------------------------------------- */

int engine_rename_node(engine *e, const char *flow, const char *from, const char *to, int64_t *changed,
                       fherr *err);

#endif
