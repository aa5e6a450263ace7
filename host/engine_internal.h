/* engine_internal — what the units of the engine share; nothing outside the
 * engine (and identity.c, for engine_store) includes it.
 *
 * The units, and the one direction their calls go:
 *
 *   engine.c        opening, flows, the public actions and their bracket:
 *                   lock the process, load it, act, write it in one short
 *                   transaction, retry when another writer got there first
 *   engine_rules.c  the transition rules: may this actor do this action on
 *                   this task now (check), and what it does (apply)
 *   engine_run.c    a run: the automatic activations an action sets off
 *                   (next tasks, gateways, split/join tokens, the error policy)
 *   engine_state.c  a process in memory: its row, its tasks, the ids and
 *                   links an action adds, and writing all of it back
 *   engine_lock.c   the host's process locks
 *   engine_view.c   the JSON views and the lists (reads only)
 *   engine_jobs.c   due jobs and timers
 *
 *   engine.c, engine_jobs.c -> engine_rules.c -> engine_run.c -> engine_state.c -> store
 *   engine_view.c -> engine_rules.c (permission questions), engine_state.c
 *
 * Lua is reached only through activation.h; SQL only through store.h.
 */
#ifndef ENGINE_INTERNAL_H
#define ENGINE_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "engine.h"
#include "jsonw.h"

struct engine {
  store *st;
  flowreg *reg;
  flowgen *gen;         /* the generation the vm holds; kept referenced */
  luavm *vm;
  double budget;
  double lease_grace;
  double message_ttl;
  int swept;            /* engine_deliver_undelivered ran */
  char worker[64];
  struct pin *pins;     /* engine_pins.c: pinned versions loaded in vm */
  int defer_indexing;   /* engine_options.defer_indexing */
  struct summary_cache *summaries;   /* engine_summary.c; NULL until the first list */
  double summaries_spent;            /* seconds in flow summaries since read_budget_begin */
  double permissions_spent;          /* seconds in :Permission(fn) of reads since read_budget_begin */
  struct assignable_memo *assignable;   /* engine_assignable.c; NULL until the first queue */
  long pins_version;    /* engine_pins.c: bumped whenever pins changes */
  char *db_key;         /* the database it opened (the metrics gauges' cache key); NULL: private */
  struct identity_cache *idc;   /* engine_options.identity_cache: shared, not owned */
  struct token_uses *uses;      /* engine_options.token_uses: shared, not owned */
  int reading;          /* inside a snapshot engine_read_begin began */
};

/* An identity table changed (after the commit): the process's sign-ins
 * kept for this database are forgotten (identity_cache.h). */
void engine_identity_changed(engine *e);

/* engine_summary.c: process summaries of task lists, by (process, version,
 * generation of the definitions), for at most a minute.  A flow's summary
 * runs within SUMMARY_SECONDS (or the callback budget if shorter), and the
 * summaries of one answer within SUMMARY_PAGE_SECONDS: a slow summary
 * function (a loop, a bug) would otherwise hold a list of 50 of its
 * processes for 50 callback budgets, on a worker serving other
 * connections. */
#define SUMMARY_SECONDS 0.1
#define SUMMARY_PAGE_SECONDS 0.5
/* The same bounds for the :Permission(fn) calls of a read: which queued
 * tasks a list or the counts show (view_may_take), which start nodes the
 * flows' list offers, whether a queue member may see a task's or a
 * process's page and which action buttons it shows; past them the answer
 * is no, for that read.  A write asks within the whole callback budget. */
#define PERMISSION_SECONDS 0.1
#define PERMISSION_PAGE_SECONDS 0.5
const char *summary_cache_get(engine *e, int64_t process_id, int64_t version);   /* NULL: compute it */
void summary_cache_put(engine *e, int64_t process_id, int64_t version, const char *text);
/* The summary of process p computed by its flow (view_summary) and cached;
 * the caller frees it.  NULL: out of memory.  Once the summaries of one
 * answer (since read_budget_begin) took SUMMARY_PAGE_SECONDS, the rest
 * get the default summary, not cached: a later answer computes them. */
char *summary_compute(engine *e, const st_process *p);
void summary_cache_free(engine *e);

store *engine_store(engine *e);

/* --- engine_pins.c: versions pinned processes run on ------------------------ */

/* The definition and Lua key of a process of a pinned flow that started on
 * an older version (*fd and *lua_flow left as they are otherwise). */
void engine_pinned_def(engine *e, const st_process *proc, const flowdef **fd, const char **lua_flow);
/* Forgets them (the Lua state they were loaded in is gone). */
void engine_pins_reset(engine *e);
/* Loads every older version running processes of pinned flows are on (their
 * tasks' nodes are then in the queues), after a generation change. */
void engine_pins_preload(engine *e);
/* The i-th pinned version loaded (0-based), NULL past the last. */
const flowdef *engine_pin_def(const engine *e, int i);

/* An action that keeps losing the race for its process (FH_STALE) gives
 * up after this many tries and answers 409. */
#define ENGINE_MAX_TRIES 8

/* --- engine_state.c: a process in memory ----------------------------------- */

typedef struct ptask {
  st_task row;
  int is_new;           /* created by this action: inserted on write */
  int dirty;            /* changed by this action: updated on write */
  int awaits;           /* a new receiver that takes kept messages */
  int64_t kept_seen;    /* the newest message id when it looked for them */
  int settled;          /* its end was seen by the event rules (first-wins) */
  int unwritten;        /* history = "lean": a step run through in its action, never written (mark_unwritten) */
  task_status stored;   /* its status in the store when read (is_new: none) */
} ptask;

/* A growing list of ids. */
typedef struct idlist {
  int64_t *v;
  int n, cap;
} idlist;
int idlist_push(idlist *l, int64_t id, fherr *err);
void idlist_free(idlist *l);

/* Who the action's data changes are credited to, and a comment with its
 * task (engine_data.c fills it in, the write records it). */
typedef struct pdata {
  int64_t task_id;      /* the task executed or started (0: none) */
  int64_t user_id;      /* who (0: the system) */
  char *comment;        /* NULL: none */
} pdata;

typedef struct pstate {
  st_process proc;      /* proc.version: as read; proc.data is rewritten on write */
  int is_new;           /* started by this action */
  ptask **tasks;        /* oldest first; each task its own allocation, so a
                           pointer to one stays valid while tasks are added */
  int ntasks, cap;
  int64_t *links;       /* (task, previous) pairs added by this action */
  int nlinks, lcap;
  int64_t *consume;     /* kept messages this action takes */
  int nconsume, ccap;
  struct psend *sends;  /* messages and signals of Send nodes (in order) */
  int nsends, scap;
  /* set by the write, for what follows it (engine_after_write) */
  int64_t woke;         /* the parent's Subprocess task this child's end woke */
  idlist run_now;       /* Subprocess tasks due now: their children start at once */
  idlist orphans;       /* children of Subprocess tasks canceled by this write */
  pdata notes;          /* credit and comment of the data written (engine_data.c) */
  const flowdef *lean;  /* its definition, when that says history = "lean" (set by run_write: the run's,
                           pinned or not); else NULL */
  /* An action reads the process's open tasks (pstate_load_live); its ended
   * ones (DONE, CANCELED, REVIVED) only if it asks for one of them: a
   * look-up by id that misses, or pstate_need_ended before a question
   * about them.  The open instances of a running :ForEach group (its
   * controller STARTED) are left out too, but for the one acted on: the
   * controller stands for them (same token, active) in questions of
   * "anything active", a group's counts are read (pstate_group_active),
   * and pstate_need_members reads them all before a question about them
   * (a cancel, a candidate) or when a controller no longer stands for
   * them; a look-up by id reads one.  What is read later is appended
   * after what is there, so the positions of the tasks before stay
   * (loops, checkpoints). */
  store *more_st;       /* a live load's store, until its write; NULL: every task was read */
  int ended_at;         /* the position of the first ended task read; -1: not read */
  int members_out;      /* the load left out instances (a STARTED controller was read) */
  int members_at;       /* the position of the first of them read; -1: not read */
  fherr more_err;       /* why reading more failed (the write fails with it) */
  int more_err_at;      /* ntasks when it failed (a rollback before forgets it) */
  int last_found;       /* the position task_index found last (a hint) */
  int64_t counted;      /* the group whose store counts follow (0: none); valid until the write */
  int counted_active, counted_done;
} pstate;

/* What a Send node produced.  A message is kept with the action's write
 * (id set then) and delivered from there after it; a signal is broadcast
 * after the write. */
typedef struct psend {
  int signal;
  char *name, *key, *data;   /* key NULL for a signal; data JSON text */
  int64_t id;
} psend;

/* The process and its open tasks; the ended ones when needed. */
int pstate_load_live(engine *e, int64_t process_id, pstate *ps, fherr *err);
/* Reads the ended tasks of a live load if not yet read; FH_OK, or why it
 * failed (then the write fails too).  Before a question about them. */
int pstate_need_ended(const pstate *ps);
/* Reads the left-out instances if not yet read; FH_OK, or why not. */
int pstate_need_members(const pstate *ps);
/* Instances of group (its controller's id) active, and (done not NULL)
 * DONE, as this action stands: the store's counts with what this action
 * changed, when instances are left out or the ended tasks not read; on a
 * failed read 1 (the write fails with it). */
int pstate_group_active(const pstate *ps, int64_t group, int *done);
/* Reads the left-out instances if a controller that stood for them is no
 * longer STARTED (a cancel, a timeout): before "is anything active". */
void pstate_members_if_orphaned(const pstate *ps);
/* Whether an instance of group changed in this action (or was made). */
int pstate_group_changed(const pstate *ps, int64_t group);
/* Only the process row and one task already read (a list's questions). */
int pstate_load_one(engine *e, const st_task *task, pstate *ps, fherr *err);
void pstate_free(pstate *ps);
/* A checkpoint for the job path's rollback of one failed node: the
 * process row and copies of the tasks not DONE or CANCELED (only those can
 * change); tasks and links added after it are dropped by the rollback.
 * pstate_rollback frees the mark, pstate_mark_free drops it unused. */
typedef struct pstate_mark {
  int ntasks, nlinks, nconsume, nsends;
  st_process proc;
  struct { int index, is_new, dirty; st_task row; } *saved;
  int nsaved;
} pstate_mark;
int pstate_checkpoint(const pstate *ps, pstate_mark *m, fherr *err);
void pstate_rollback(pstate *ps, pstate_mark *m);
void pstate_mark_free(pstate_mark *m);
/* The task, or NULL; a left-out instance or an ended task not read yet
 * is read first. */
ptask *pstate_task(const pstate *ps, int64_t id);
/* Appends a new task (row copied, id allocated); *out is it. */
int pstate_add_task(engine *e, pstate *ps, const st_task *row, ptask **out, fherr *err);
/* Records that t came from task prev (kept in t->row.previous as well). */
int pstate_link(pstate *ps, ptask *t, int64_t prev, fherr *err);
/* Records a kept message taken by this action (deleted on write). */
int pstate_consume(pstate *ps, int64_t message_id, fherr *err);
/* Records what a Send node sends (copies the strings). */
int pstate_send(pstate *ps, int signal, const char *name, const char *key, const char *data, fherr *err);
/* Active tasks (except `except`) whose token starts with prefix (NULL:
 * all).  With instances left out, a running group counts as its
 * controller: the count is 0 exactly when it would be with them. */
int pstate_count_active(const pstate *ps, const char *prefix, int64_t except);
/* The newest join task of flow_task waiting for split round join_of. */
ptask *pstate_find_join(const pstate *ps, const char *flow_task, const char *join_of);
/* Owner of the newest DONE task of flow_task (0 if none). */
int64_t pstate_latest_owner(const pstate *ps, const char *flow_task);
int pstate_has_done_type(const pstate *ps, const char *type);
/* Writes what changed, with data as the process data, in one short
 * transaction.  FH_STALE: someone else wrote the process since it was read. */
int pstate_write(engine *e, pstate *ps, const json_t *data, pstate *also, const json_t *also_data, fherr *err);

/* --- engine_lock.c: the host's process locks ----------------------------- */

/* Two actions on one process of one host take turns; actions on other
 * processes never wait for each other.  Across hosts see below; other
 * programs on a SQLite file are kept correct by the process version
 * checked by pstate_write. */
void engine_lock_process(const void *host, int64_t process_id);
void engine_unlock_process(const void *host, int64_t process_id);
struct run;
/* An action's locks on a process: the host's, then (PostgreSQL) the one
 * across hosts, *shared saying whether that one is held.  On failure (the
 * cross-host lock not had within the lock timeout: FH_BUSY) neither is
 * held.  After run_init, engine_hold_as_flow_says lets go of the
 * cross-host lock for a flow with lock = "none". */
int engine_hold_process(engine *e, int64_t process_id, int *shared, fherr *err);
/* The same for the process of a task, found on the way (FH_NOT_FOUND: no
 * such task): on PostgreSQL the look-up takes the cross-host lock too. */
int engine_hold_task_process(engine *e, int64_t task_id, int want_ids, int64_t *process_id, int *shared, fherr *err);
void engine_hold_as_flow_says(engine *e, const struct run *r, int64_t process_id, int *shared);
void engine_release_process(engine *e, int64_t process_id, int *shared);

/* The task actions; their names (engine_rules.c) are the API's. */
enum { A_ASSIGN, A_UNASSIGN, A_REASSIGN, A_EXECUTE, A_CANCEL, A_UNDO, A_REVIVE, A__COUNT };
extern const char *const ENGINE_ACTIONS[A__COUNT];

/* --- engine_run.c: a run ----------------------------------------------------- */


typedef struct run {
  engine *e;
  const fh_actor *actor;
  const flowdef *fd;     /* NULL when the flow is gone */
  const char *lua_flow;  /* the name fd's callbacks have in the Lua state */
  pstate ps;
  json_t *data;          /* process data, owned; written back at the end */
  int64_t *queue;        /* tasks waiting for automatic activation */
  int qhead, qlen, qcap;
  json_t *created;       /* ids of tasks created by this action */
  int job_mode;          /* errors in automatic nodes become ERROR tasks */
  int steps;
  act_door door;         /* transitions called from this run's callbacks */
  int door_closed;       /* a job's copy: transitions would act on nothing */
  json_t *deliveries;    /* task id -> kept message data, for receivers created now */
  struct run *child;     /* a child process this run started: written in the same transaction */
  int reading;           /* an answer to a read: its :Permission(fn) calls are bounded (rules_may_do_node) */
  /* the users an :Assign named in this action: a group of 10,000 reviews
   * shared by two people asked the store for them 10,000 times (on
   * PostgreSQL a round trip each) */
  struct { int64_t id; char name[64]; } named[8];
  int nnamed;
} run;

/* A run on a stored process (loaded) or a new one (run_init_new). */
int run_init(run *r, engine *e, const fh_actor *a, int64_t process_id, fherr *err);
void run_init_new(run *r, engine *e, const fh_actor *a, const flowdef *fd);
/* A run that knows only the process row and this task (to ask permission
 * functions about list rows without reading every task of the process). */
int run_init_one(run *r, engine *e, const fh_actor *a, const st_task *task, fherr *err);
void run_free(run *r);
int run_enqueue(run *r, int64_t id, fherr *err);
/* The callback context of node n and task row (NULL: none) of this run,
 * with the transitions' door when the task is stored. */
void run_ctx(run *r, const fd_node *n, st_task *row, int stored, act_ctx *c);
int run_invoke(run *r, ptask *t, const fd_node *n, const char *key, const json_t *extra, fherr *err);
/* ERROR now, with the cause's message and traceback (a job's lease dropped). */
void run_mark_error(ptask *t, const fherr *cause);
/* DONE now (started now too if it never started). */
void run_complete_task(ptask *t);
int run_create_task(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err);
int run_follow_next(run *r, const ptask *from, const fd_node *n, fherr *err);
/* Enqueues every join still waiting: a branch that ended may have been the
 * last one it waited for. */
int run_recheck_joins(run *r, fherr *err);
/* Runs the queue, then settles the process status (DONE once an End was
 * reached and nothing is active). */
int run_finish(run *r, fherr *err);
/* Writes the run's effect (pstate_write), with the child it started. */
int run_write(run *r, fherr *err);
/* {"process", "tasks": [created]} from the run's state, after its write. */
json_t *run_result(run *r);

/* --- engine_run_events.c: the event model inside a run ----------------------- */

/* CANCELED now (a job's lease dropped with it). */
void run_cancel_task(ptask *t);
/* The kind-specific set-up of a new Receive (its key, STARTED) and the
 * :Due of a waiting task. */
int run_set_up_receive(run *r, const fd_node *n, st_task *t, fherr *err);
int run_set_up_due(run *r, const fd_node *n, st_task *t, fherr *err);
/* After a waiting task was created: its :OnTimeout rows, and for a
 * receiver a kept message it takes at once. */
int run_arm_timeouts(run *r, ptask *guarded, const fd_node *n, fherr *err);
int run_take_kept(run *r, ptask *t, const fd_node *n, fherr *err);
/* A message or signal reaches a waiting receiver: its data cleaned by the
 * Receive's fields (or the flow's), merged, the task DONE, what follows
 * created.  FH_INVALID when the data fails the fields. */
int run_deliver(run *r, ptask *t, const fd_node *n, const json_t *data, fherr *err);
/* A boundary timer row is due (its job claimed). */
int run_fire_timeout(run *r, ptask *timer, fherr *err);
/* The automatic event nodes. */
int run_activate_receive(run *r, ptask *t, const fd_node *n, fherr *err);
int run_activate_send(run *r, ptask *t, const fd_node *n, fherr *err);
int run_activate_cancel(run *r, ptask *t, const fd_node *n, fherr *err);
int run_activate_join(run *r, ptask *t, const fd_node *n, fherr *err);
int run_activate_end(run *r, ptask *t, const fd_node *n, fherr *err);
int run_activate_lock(run *r, ptask *t, const fd_node *n, fherr *err);
int run_activate_unlock(run *r, ptask *t, const fd_node *n, fherr *err);
/* After the queue ran dry: first-wins cancellations, timeouts of tasks that
 * ended disarmed, and every join whose round cannot send it anything more
 * queued (a join never hangs).  *changed: it did something. */
int run_settle_events(run *r, int *changed, fherr *err);

/* --- engine_external.c: external tasks ---------------------------------------- */

/* A new External task: SCHEDULED, due now, its topic in event_name. */
void run_set_up_external(const fd_node *n, st_task *t);
/* {"topic", "worker", "lease_until", "attempts"} of an external task row. */
json_t *view_external_json(const st_task *t);

/* --- engine_compose.c: subprocesses and multiple instances ------------------ */

/* How deep subprocesses may nest (a flow calling itself without end). */
#define COMPOSE_MAX_DEPTH 32
/* The most instances one :ForEach creates. */
#define COMPOSE_MAX_ITEMS 10000

/* A :ForEach node reached: its group's controller task and the first
 * instances (all of them, or one when they run in turn). */
int run_create_group(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err);
/* An instance ended DONE: its group goes on, or continues the flow. */
int run_instance_done(run *r, ptask *inst, const fd_node *n, fherr *err);
/* Groups whose instances all ended some other way, and canceled groups. */
int run_settle_groups(run *r, int *changed, fherr *err);
/* A Subprocess task's job: start its child, or take over the finished one. */
int run_subprocess_step(run *r, ptask *t, const fd_node *n, fherr *err);
/* Adds a new task coming from prev, noted as created by this action. */
int run_add_task(run *r, const st_task *row, int64_t prev, ptask **out, fherr *err);
/* The parts of an ordinary task creation the group code shares. */
int run_create_one(run *r, const fd_node *n, const char *token, int64_t prev, int64_t group, json_t *data,
                   ptask **out, fherr *err);
/* Starts a StartFunction/Start's process on a new run (engine.c). */
int run_start(run *r, const fd_node *n, const json_t *input, fherr *err);

/* After a write, with no lock held: the Send nodes' messages and signals,
 * the children of canceled Subprocess tasks canceled, new children started,
 * and a parent woken by its child's end continued. */
void engine_after_write(engine *e, run *r);
/* Children whose parent task ended while a crash kept them running. */
int engine_cancel_orphans(engine *e, fherr *err);
/* Runs due task id now if it is due and free (claims it like a worker). */
int engine_run_task_now(engine *e, int64_t task_id, fherr *err);

/* --- engine_events.c ------------------------------------------------------- */

/* Delivers what the run's Send nodes produced (after its write, no lock
 * held): each message from where the write kept it, each signal to the
 * receivers waiting now. */
void engine_flush_outbox(engine *e, run *r);
/* Delivers kept messages a crash kept from their waiting receivers. */
int engine_deliver_undelivered(engine *e, fherr *err);
/* The bracket of every action on a stored process (engine.c). */
typedef int (*action_body)(run *r, void *arg, fherr *err);
int engine_act_on_process(engine *e, const fh_actor *a, int64_t pid, action_body body, void *arg, run *r,
                          fherr *err);

/* flow.clean for a node's form, or for the flow's own fields found in data
 * (start functions and functions without a callback have no form). */
int run_clean_form(run *r, const fd_node *n, const json_t *data, json_t **clean, fherr *err);
int run_clean_known(run *r, const json_t *data, json_t **clean, fherr *err);
void run_merge_into(json_t *dst, const json_t *src);
void run_merge_form(json_t *dst, const json_t *clean, const json_t *submitted);

/* --- engine_rules.c: the transition rules --------------------------------- */

/* May the run's actor take (assign) tasks of node n?  t may be NULL.  In a
 * run that is reading, a :Permission(fn) is asked within PERMISSION_SECONDS
 * and the answer's calls within PERMISSION_PAGE_SECONDS (read_budget_begin);
 * past them, no. */
int rules_may_do_node(run *r, const fd_node *n, ptask *t);
/* May the run's actor see task t: FH_OK, FH_NOT_FOUND, or a store error. */
int rules_may_see_task(run *r, ptask *t, const fd_node *n, fherr *err);
/* May the actor take a NEW human task of the run's process (a queue
 * candidate)?  Then it may read the process (issue 14). */
int rules_is_candidate(run *r);
/* Whether the run's actor may do `action` on t now: FH_OK, or FH_FORBIDDEN /
 * FH_CONFLICT with the reason.  n is NULL for a task whose node left. */
int rules_check(run *r, ptask *t, const fd_node *n, int action, fherr *err);
/* Does it: changes t and the run, follows what comes next. */
int rules_apply(run *r, ptask *t, const fd_node *n, int action, const json_t *args, fherr *err);
/* The door transitions called from callbacks go through (check + apply). */
int rules_transition(void *run_ptr, int64_t task_id, int action, int probe, const json_t *args, fherr *err);

/* --- engine.c -------------------------------------------------------------- */

int engine_sync_flows(engine *e, fherr *err);
const flowdef *engine_find_def(engine *e, const char *flow);
/* May a see the process (-1: the store failed)?  engine_sees_unasked: the
 * answers known without a query (an admin, the system, a manager of its
 * flow, whoever started it); engine_took_part: the query for the rest (the
 * participant rows). */
int engine_can_see_process(engine *e, const fh_actor *a, const st_process *p, fherr *err);
int engine_sees_unasked(engine *e, const fh_actor *a, const st_process *p);
int engine_took_part(engine *e, const fh_actor *a, const st_process *p, fherr *err);

/* --- engine_view.c ------------------------------------------------------------- */

json_t *view_process_json(engine *e, const st_process *p);
/* The same with its data parsed already (data, borrowed: the run's, which
 * its write stored), not parsed again from p->data. */
json_t *view_process_json_with(engine *e, const st_process *p, json_t *data);
/* One process of a list as view_process_json() + dump prints it, its summary
 * from the summary cache (engine_proclist.c) */
void proclist_write_process(jsonw *w, engine *e, const st_process *p);
/* The node of task t (of flow `flow`), in the flow's current definition or in the older
 * version its process is pinned to (NULL: obsolete); *current: the flow's
 * current definition (NULL: none). */
const fd_node *view_task_node(engine *e, const st_task *t, const char *flow, const flowdef **current);
json_t *view_task_json(engine *e, const st_task *t);
/* For the lists (engine_list.c): the summary of p (a new string; data: its
 * parsed data; its Lua `summary` within SUMMARY_SECONDS, else the default
 * line, "Title #id", view_summary_default's), the View nodes "flow.node"
 * the actor may assign (and in *fn_nodes those of :Permission(fn) nodes),
 * the flows it manages, and whether it may take a queue task of a
 * :Permission(fn) node. */
char *view_summary(engine *e, const st_process *p, const json_t *data);
char *view_summary_default(engine *e, const st_process *p);
/* engine_assignable.c: the names as a JSON array text (names_text), the
 * same without the :Permission(fn) nodes' (plain_text; each optional), and those as
 * {"flow.node": true} (a reference: read it, decref it); 0 when out of
 * memory.  Kept per engine for the last few actors. */
int view_assignable(engine *e, const fh_actor *a, char **names_text, char **plain_text, json_t **fn_nodes);
void view_assignable_free(engine *e);
json_t *view_managed_flows(engine *e, const fh_actor *a);
/* 1 if a may take queued task t (its node's :Permission(fn) asked, within
 * PERMISSION_SECONDS, and within PERMISSION_PAGE_SECONDS for the answer
 * since read_budget_begin; past them 0). */
int view_may_take(engine *e, const fh_actor *a, st_task *t);
/* A read answer begins: its summaries and permission calls start their
 * time bounds afresh. */
void read_budget_begin(engine *e);
/* ... for run r, whose :Permission(fn) calls are then bounded (r->reading). */
void run_read_begin(run *r);
/* engine_list.c: task t as view_task_json() prints it, into w, its object
 * left open for more members (the caller closes it); hide_for: hide the
 * error details from that actor unless it sees this flow's (NULL: show). */
struct jsonw;
void view_task_write(struct jsonw *w, engine *e, const st_task *t, const fh_actor *hide_for);

/* --- small helpers -------------------------------------------------------------- */

/* snprintf(dst, cap, "%s", src) and snprintf(dst, cap, "%s.%s", a, b)
 * (truncating alike) without parsing a format: a process's every task
 * copies a few names, and snprintf cost ~650 instructions a call. */
static inline void copy_text(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}
static inline void join_names(char *dst, size_t cap, const char *a, const char *b) {
  copy_text(dst, cap, a);
  size_t n = strlen(dst);
  if (n + 1 < cap) {
    dst[n] = '.';
    copy_text(dst + n + 1, cap - n - 1, b);
  }
}

static inline const char *node_part(const char *flow_task) {
  const char *dot = strchr(flow_task, '.');
  return dot ? dot + 1 : flow_task;
}

static inline json_t *time_or_null(const char *t) { return t && t[0] ? json_string(t) : json_null(); }

static inline json_t *parse_json_text(const char *text) {
  if (text && text[0] == '{' && text[1] == '}' && !text[2]) return json_object();   /* most task data: no parse */
  json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  if (v && !json_is_object(v)) {
    json_decref(v);
    v = NULL;
  }
  return v ? v : json_object();
}

/* json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), printed by jsonw (jw_value) */
static inline char *dump_json(const json_t *v) {
  jsonw w;
  jw_init(&w);
  jw_value(&w, v);
  return jw_take(&w, NULL);
}

/* --- engine_data.c: search, audit and comments -------------------------------- */
/* What a write records besides the rows: the search index (when the data
 * changed and the flow has searchable fields) and the audit of the changed
 * fields, credited as ps->notes says, with its comment. */
typedef struct data_write {
  store_data_write w;
  char *search, *changes;
  char at[FH_TIME_LEN];
} data_write;
/* old_data: the data text as read (NULL for a new process); *used 0 when
 * there is nothing to record.  Never fails the write (data it cannot read
 * counts as empty). */
void data_prepare_write(engine *e, const pstate *ps, const char *old_data, const char *new_text, const json_t *data,
                        data_write *dw, int *used);
void data_write_free(data_write *dw);
void pdata_free(pdata *d);
/* Credits the run's data changes to its actor and task t. */
void data_credit(run *r, const ptask *t);
/* The "comment" of an execute's args: checked (1..4000 characters), and
 * required by a View with comment = "required"; kept for the write. */
int data_take_comment(run *r, const ptask *t, const fd_node *n, const json_t *args, fherr *err);
#define DATA_COMMENT_MAX 4000
/* The data.* parameters as store filters on searchable fields (of `flow`,
 * or of any loaded flow): FH_BAD_REQUEST for an unknown or unsearchable
 * field, a range on a field that is not a number or a date, a bad value.
 * *out is malloc'd (free it); its strings point into params. */
int data_filters_make(engine *e, const char *flow, const json_t *params, store_data_filter **out, int *n,
                      fherr *err);
/* After a new generation of flows: the processes of a flow whose search
 * fields changed are indexed again (in batches; errors are logged). */
void data_sync_search(engine *e);

#endif
