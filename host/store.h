/* store — the SQLite storage of flowhost; the only unit that speaks SQL
 * (host/store.c: rows; store_writer.c: connections, group commit and
 * transactions; store_schema.c: migrations).
 *
 * One `store` is used by one thread at a time.  It reads on a connection of
 * its own, outside a transaction or inside one; it owns the schema (migrated
 * by PRAGMA user_version) and the prepared statements (prepared once per
 * connection, reset after each use).  Every write goes through
 * store_begin()/store_commit() on the writer connection shared by every
 * store of that database file in this process: each write is a savepoint of
 * the writer's open transaction, which is committed once per batch of at
 * most 64 writes or 10 ms, and store_commit() returns only once the write is
 * durable (if the batch's commit fails, every write of it gets the error).
 * An action's whole effect is store_write_process(): one short,
 * version-checked transaction.  Claims, leases and renames are short writes
 * of their own; identity (host/identity.c) wraps each of its writes in
 * store_begin()/store_commit().  Private (":memory:") databases have no
 * shared writer and commit alone.
 *
 * Rows come back as small structs (st_process, st_task, st_user); strings
 * that can grow (JSON data, error texts) are heap copies freed by the
 * matching *_free().  List queries hand back JSON arrays of the same shape,
 * because their only callers turn them into API answers anyway.
 *
 * Every function returns FH_OK or an fherr code (FH_NOT_FOUND when a row is
 * missing, FH_BUSY when the database stayed locked past busy_timeout,
 * FH_INTERNAL otherwise, with SQLite's message in the fherr).
 */
#ifndef STORE_H
#define STORE_H

#include <jansson.h>
#include <stdint.h>

#include "fherr.h"
#include "fhtime.h"
#include "status.h"

typedef struct store store;

typedef struct store_options {
  int synchronous_full;   /* 1: synchronous=FULL (default), 0: NORMAL */
  int busy_timeout_ms;    /* default 5000 */
} store_options;

int store_open(const char *path, const store_options *opt, store **out, fherr *err);
/* Whether the database a path names is private to its connection (SQLite's
 * ":memory:" and "file:" URIs): no other store of the process shares it. */
int store_path_is_private(const char *path);
/* The database library's process-wide settings (store_db.h); store_open
 * applies them too, if it is the first to open a database. */
void store_library_init(void);
/* SQLite: how much of the database file every connection opened from now
 * on reads through a shared memory mapping (PRAGMA mmap_size), in bytes;
 * 0 (the default): read page by page into each connection's own cache.
 * Set once, before the first store_open (the CLI's --mmap). */
void store_sqlite_mmap(int64_t bytes);
void store_close(store *st);

int store_begin(store *st, fherr *err);      /* BEGIN IMMEDIATE */
int store_commit(store *st, fherr *err);
void store_rollback(store *st);              /* never fails from the caller's view */
/* One read snapshot for the reads of a request (a list page): pass *began
 * back to store_read_end(); a no-op inside a write or an open transaction. */
int store_read_begin(store *st, int *began, fherr *err);
void store_read_end(store *st, int began);
/* Savepoints let the job path keep a failed node's ERROR row while dropping
 * everything that node wrote. */
int store_savepoint(store *st, fherr *err);
int store_release(store *st, fherr *err);
void store_rollback_to(store *st);

/* --- users, groups, permissions ------------------------------------- */

typedef struct st_user {
  int64_t id;
  char username[64];
  int is_admin;
  int is_active;
  char *password_hash;    /* may be NULL */
} st_user;

void st_user_free(st_user *u);
/* A user with what it may do: the row, its permissions as a set
 * ({"flow.task": true}, its own and its groups') and its groups' names. */
typedef struct st_actor {
  st_user user;
  json_t *perms;
  json_t *groups;
} st_actor;
void st_actor_free(st_actor *a);
int store_user_add(store *st, const char *username, const char *password_hash,
                   int is_admin, int64_t *id, fherr *err);
int store_user_get(store *st, const char *username, st_user *out, fherr *err);
int store_user_get_by_id(store *st, int64_t id, st_user *out, fherr *err);
/* The same with its permissions and groups, in one statement (a signed-in
 * request's user); st_actor_free frees it. */
int store_user_actor_by_id(store *st, int64_t id, st_actor *out, fherr *err);
/* The same by user name (the CLI's and the Lua module's --as / as =). */
int store_user_actor(store *st, const char *username, st_actor *out, fherr *err);
int store_user_set_password(store *st, const char *username, const char *password_hash, fherr *err);
int store_user_count(store *st, int64_t *n, fherr *err);
/* [{"username","is_admin","groups":[...],"permissions":[...]}] */
int store_user_list(store *st, json_t **out, fherr *err);
/* Effective permissions (own and through groups) as a JSON object used as a
 * set, and the group names as an array. */
int store_user_perms(store *st, int64_t user_id, json_t **perms, json_t **groups, fherr *err);
/* subject "alice" or "@group" */
int store_grant(store *st, const char *subject, const char *perm, fherr *err);
int store_revoke(store *st, const char *subject, const char *perm, fherr *err);
int store_group_join(store *st, const char *username, const char *group, fherr *err);
int store_group_leave(store *st, const char *username, const char *group, fherr *err);
/* Users that hold `perm` (directly, by group, or as admins): JSON array of names. */
int store_users_with_perm(store *st, const char *perm, json_t **out, fherr *err);

/* --- sessions and API tokens (hashes only; the raw secrets never reach SQL) */

int store_session_add(store *st, const char *id_hash, int64_t user_id, const char *csrf,
                      const char *expires_at, fherr *err);
/* FH_NOT_FOUND when missing or expired at now. csrf gets a copy (<=128
 * bytes), expires_at the time it expires. */
int store_session_get(store *st, const char *id_hash, const char *now, int64_t *user_id, char csrf[129],
                      char expires_at[FH_TIME_LEN], fherr *err);
int store_session_delete(store *st, const char *id_hash, fherr *err);
int store_token_add(store *st, const char *token_hash, int64_t user_id, const char *name, fherr *err);
int store_token_get(store *st, const char *token_hash, int64_t *user_id, fherr *err);
/* The token was used at `at`, unless a later use is recorded (another
 * host's); an unknown (revoked) token is no error. */
int store_token_used(store *st, const char *token_hash, const char *at, fherr *err);
/* The user of a token with its permissions and groups, in one statement
 * (FH_NOT_FOUND: no such token); st_actor_free frees it. */
int store_token_actor(store *st, const char *token_hash, st_actor *out, fherr *err);
/* How many times what a token or a session stands for has changed
 * (SQLite's identity_change, counted by triggers whoever writes;
 * identity_cache.h). */
int store_identity_stamp(store *st, int64_t *n, fherr *err);
/* Enables or disables a user; FH_NOT_FOUND for an unknown name. */
int store_user_set_active(store *st, const char *username, int active, fherr *err);
/* Deletes every session and API token of a user (*sessions, *tokens: how
 * many; either may be NULL). */
int store_user_revoke(store *st, int64_t user_id, int64_t *sessions, int64_t *tokens, fherr *err);
/* Deletes the sessions expired at `now`. */
int store_session_purge(store *st, const char *now, fherr *err);
/* [{"id","name","created_at","last_used_at"}] of a user's tokens, oldest first. */
int store_token_list(store *st, int64_t user_id, json_t **out, fherr *err);
/* A token by id (token_hash NULL) or by digest: its id and its user's name. */
int store_token_find(store *st, int64_t id, const char *token_hash, int64_t *found_id, char username[64], fherr *err);
int store_token_delete(store *st, int64_t id, fherr *err);

/* --- sign-in throttling (identity.c decides; rows per name and address) */

typedef struct st_login_failures {
  int64_t pair;                     /* failures of this name from this address */
  int64_t name;                     /* of this name, from every address */
  int64_t addr;                     /* from this address, for every name */
  char pair_last[FH_TIME_LEN];      /* latest failure of the pair ("" none) */
  char addr_last[FH_TIME_LEN];      /* latest failure from the address */
} st_login_failures;

/* The failures recorded at or after `since`. */
int store_login_failures(store *st, const char *name, const char *addr, const char *since, st_login_failures *out,
                         fherr *err);
/* Records one failure at `now` (a pair whose last failure is older than
 * `since` starts over at 1) and deletes every row older than `since`. */
int store_login_failure_add(store *st, const char *name, const char *addr, const char *now, const char *since,
                            fherr *err);
/* Forgets the failures of a name from an address (after it signed in). */
int store_login_failure_forget(store *st, const char *name, const char *addr, fherr *err);

/* --- the database's state (GET /api/health) ---------------------------- */

/* DOWN: PostgreSQL only, the connection to the server is lost and cannot be made again */
typedef enum { STORE_DB_OK, STORE_DB_LOCKED, STORE_DB_FULL, STORE_DB_READ_ONLY, STORE_DB_ERROR, STORE_DB_DOWN } store_db_state;
#define STORE_DB_FULL_BELOW (1 << 20)   /* bytes free under which the disk counts as full */

typedef struct st_db_probe {
  store_db_state state;
  int64_t free_bytes;                   /* on the database's file system; -1 unknown */
  char detail[256];                     /* why, when not OK */
} st_db_probe;

/* A one-row write on the store's own connection (not the group-commit
 * writer), waiting at most wait_ms for the write lock: LOCKED when it could
 * not have it, FULL when the write failed for space or less than
 * STORE_DB_FULL_BELOW bytes are free, READ_ONLY or ERROR, with a detail;
 * DOWN when the PostgreSQL server cannot be reached.
 * Never inside a write. */
void store_db_probe(store *st, int wait_ms, st_db_probe *out);
/* The state of a database that could not even be opened (`why` is the open's
 * error): DOWN for a PostgreSQL server that does not answer, LOCKED for a
 * busy SQLite file, else ERROR; the detail is why's message. */
void store_db_unopened(const char *path, const fherr *why, st_db_probe *out);

/* --- processes --------------------------------------------------------- */

typedef struct st_process {
  int64_t id;
  char flow[64];
  proc_status status;
  char *data;             /* JSON text */
  int64_t created_by;     /* 0 when started by the system */
  char created_by_name[64];
  char created_at[FH_TIME_LEN];
  char finished_at[FH_TIME_LEN];   /* "" while running */
  int64_t version;        /* raised by every write of the process */
  /* a subprocess: the task of its parent that started it, the parent, how
   * many ancestors it has (0: none) */
  int64_t parent_task_id, parent_id;
  int depth;
} st_process;

void st_process_free(st_process *p);
void st_process_array_free(st_process *rows, int n);
int store_process_insert(store *st, const char *flow, proc_status status, const char *data,
                         int64_t created_by, int64_t *id, fherr *err);
int store_process_get(store *st, int64_t id, st_process *out, fherr *err);
/* The processes of ids that exist (n at most), in no order, in one statement;
 * *out: free with st_process_array_free (NULL when none). */
int store_process_get_many(store *st, const int64_t *ids, int n, st_process **out, int *count, fherr *err);
int store_process_update(store *st, int64_t id, proc_status status, const char *data,
                         const char *finished_at, fherr *err);

struct store_data_filter;   /* search by process data (below) */

typedef struct store_process_query {
  const char *flow;        /* NULL: any */
  const char *status;      /* NULL: any */
  int64_t after;           /* 0: from the newest */
  int limit;
  int64_t visible_to;      /* 0: no restriction; else started by / took part */
  const char *managed_flows_json;  /* JSON array of flows visible_to manages */
  int flow_managed;        /* visible_to manages flow: sees all its processes */
  int64_t parent;          /* 0: any; else children of that process */
  const struct store_data_filter *filters;   /* all must hold (store_data.c) */
  int nfilters;
} store_process_query;

/* A page of processes, newest first: *out holds *count rows (q->limit at
 * most), each as store_process_get reads it; free with st_process_array_free */
int store_process_list(store *st, const store_process_query *q, st_process **out, int *count, fherr *err);
/* The children of a process: [{id, flow, status, parent_task_id}] in id order. */
int store_process_children(store *st, int64_t process_id, json_t **out, fherr *err);
/* The next running child (id > after) whose Subprocess task is no longer
 * active: left by a crash between its parent's cancel and its own. */
int store_process_orphan_next(store *st, int64_t after, int64_t *id, fherr *err);
/* Did user take part (started it, or owned one of its tasks at any time)? */
int store_process_involves(store *st, int64_t process_id, int64_t user_id, int *yes, fherr *err);
/* The caller read, outside a write, that user took part (it started the
 * process, or owns one of its tasks): the row is there, and this store's
 * next write need not add it again. */
void store_participant_known(store *st, int64_t process_id, int64_t user_id);

/* --- tasks ----------------------------------------------------------- */

typedef struct st_task {
  int64_t id;
  int64_t process_id;
  char flow_task[160];    /* "<flow>.<node>" */
  char type[24];          /* node kind when created */
  task_status status;
  int64_t owner_id;       /* 0: none */
  char owner_name[64];
  char token[256];
  char join_of[256];      /* joins only: the split round they wait for */
  char *data;             /* JSON text */
  char *error_message;
  char *error_traceback;
  char created_at[FH_TIME_LEN], assigned_at[FH_TIME_LEN], started_at[FH_TIME_LEN],
      finished_at[FH_TIME_LEN], due_at[FH_TIME_LEN], lease_until[FH_TIME_LEN];
  int attempts;
  char lease_owner[64];
  char *previous;         /* ids of the tasks it came from, "3,4"; NULL if none */
  /* the event model (fixed at creation): a receive's message or signal
   * name and key ("" for a signal); a timeout row's target node, index
   * and guarded task */
  char event_name[128];
  char event_key[256];
  int64_t guards;
  int64_t child_id;       /* a Subprocess task: its child process (0: not started) */
  int64_t group_id;       /* an instance of a :ForEach node: its group's controller task */
  /* task lists only (store_task_list): its process's status and version,
   * read in the same statement; has_process 0 elsewhere */
  int has_process;
  proc_status process_status;
  int64_t process_version;
} st_task;

void st_task_free(st_task *t);
/* With t->id 0 the next free id is taken and set; a given id that is
 * taken already is FH_STALE. */
int store_task_insert(store *st, st_task *t, fherr *err);
int store_task_get(store *st, int64_t id, st_task *out, fherr *err);
/* Writes every mutable column of t back. */
int store_task_update(store *st, const st_task *t, fherr *err);
int store_task_add_previous(store *st, int64_t task_id, int64_t previous_id, fherr *err);
/* Statuses of the tasks created from this one (for undo). */
int store_task_next_statuses(store *st, int64_t task_id, json_t **out, fherr *err);
/* Active = NEW, ASSIGNED, STARTED, SCHEDULED, ERROR. */
int store_task_count_active(store *st, int64_t process_id, int64_t except_id, int64_t *n, fherr *err);
/* Active tasks whose token starts with prefix (tokens never hold GLOB specials). */
int store_task_count_active_prefix(store *st, int64_t process_id, const char *prefix,
                                   int64_t except_id, int64_t *n, fherr *err);
/* The join task of a split round (0 if none yet); *waiting: still STARTED
 * (waiting may be NULL). */
int store_task_find_join(store *st, int64_t process_id, const char *flow_task,
                         const char *join_of, int64_t *id, int *waiting, fherr *err);
/* Waiting (STARTED) joins of a process: JSON array of ids. */
int store_task_waiting_joins(store *st, int64_t process_id, json_t **out, fherr *err);
/* Owner of the newest DONE task of flow_task in the process (0 if none). */
int store_task_latest_owner(store *st, int64_t process_id, const char *flow_task,
                            int64_t *owner_id, fherr *err);
/* Does the process have a DONE task of one of these types (JSON array)? */
int store_task_count_done_type(store *st, int64_t process_id, const char *type,
                               int64_t *n, fherr *err);
/* Every task of a process, oldest first, as st_task rows. */
int store_task_of_process(store *st, int64_t process_id, st_task **rows, int *n, fherr *err);
/* The process and all its tasks (in id order), as store_process_get and
 * store_task_of_process read them; on PostgreSQL in one round trip.  On
 * failure nothing is left to free. */
int store_process_load(store *st, int64_t id, st_process *out, st_task **rows, int *n, fherr *err);
/* The same with the open tasks only (NEW, ASSIGNED, STARTED, SCHEDULED,
 * ERROR), but for the open instances of a running :ForEach group (its
 * controller STARTED) other than the task acted on: what an action
 * usually needs, however long the process's history and however large its
 * groups; on PostgreSQL read with a task's lock when it took one
 * (store_task_process_lock).  The ended tasks (DONE, CANCELED, REVIVED),
 * in id order, when it needs them too: store_task_ended_of_process. */
int store_process_load_live(store *st, int64_t id, st_process *out, st_task **rows, int *n, fherr *err);
int store_task_ended_of_process(store *st, int64_t process_id, st_task **rows, int *n, fherr *err);
/* The open instances of :ForEach groups, all in id order (those the load
 * above left out among them), or one of them (*found 0: id is none). */
int store_task_open_members(store *st, int64_t process_id, st_task **rows, int *n, fherr *err);
int store_task_open_member(store *st, int64_t process_id, int64_t id, st_task *out, int *found, fherr *err);
/* How many instances of the group are active and how many DONE. */
int store_group_count(store *st, int64_t process_id, int64_t group_id, int64_t *active, int64_t *done, fherr *err);
void st_task_array_free(st_task *rows, int n);

enum { STORE_VIEW_INBOX, STORE_VIEW_QUEUE, STORE_VIEW_ARCHIVE, STORE_VIEW_ALL };

/* A task list page's rows unless asked otherwise (GET /api/tasks). */
#define STORE_PAGE_DEFAULT 50

typedef struct store_task_query {
  int view;
  int64_t user_id;
  const char *user_name;         /* user_id's name: the owner of the inbox's and the archive's rows */
  const char *assignable_json;   /* queue: JSON array of flow_task names the user may take */
  const char *managed_flows_json;/* all: JSON array of flows (NULL: every flow, admins) */
  const char *flow;
  int64_t process_id;
  const char *status;
  const char *since, *until;     /* on created_at */
  int ascending;
  int by_due;                    /* earliest due_at first, none last (ascending ignored) */
  int64_t after;
  int limit;
  const struct store_data_filter *filters;   /* on the task's process data (store_data.c) */
  int nfilters;
  int by_finished;               /* by finished_at (ascending: oldest first), unfinished last */
  const char *finished_since, *finished_until;   /* on finished_at */
} store_task_query;

int store_task_list(store *st, const store_task_query *q, st_task **rows, int *n, fherr *err);
/* Inbox or queue; q->limit > 0 caps the count (it stops at that many rows). */
int store_task_count_view(store *st, const store_task_query *q, int64_t *n, fherr *err);

/* --- jobs and timers -------------------------------------------------- */

/* Claims up to one SCHEDULED task that is due (due_at <= now) and whose
 * lease is free or expired, setting lease_owner/lease_until, in a short
 * write of its own.  FH_NOT_FOUND when nothing is due. */
int store_task_claim_due(store *st, const char *now, const char *lease_owner,
                         const char *lease_until, st_task *out, fherr *err);
/* The same for task id alone (FH_NOT_FOUND: not due, not free or gone). */
int store_task_claim_id(store *st, int64_t id, const char *now, const char *lease_owner, const char *lease_until,
                        st_task *out, fherr *err);
/* Sets a claimed task's lease (a short write of its own). */
int store_task_lease(store *st, int64_t task_id, const char *lease_owner, const char *lease_until, fherr *err);
/* Seconds until the next SCHEDULED task is due (<0: none). */
int store_task_next_due(store *st, const char *now, double *seconds, fherr *err);

/* --- external tasks (store_external.c) -------------------------------- */

/* One external task a worker fetched. */
typedef struct st_external {
  int64_t id, process_id;
  char flow_task[160];
  char topic[128];
  int attempts;
  int expired;   /* its previous lease ran out: offered again */
} st_external;

/* Fetch-and-lock, in one short write: up to max SCHEDULED external tasks
 * of the topics (a JSON array of names), oldest first, that are due at `now` and whose
 * lease is free or ran out, leased to `owner` until `until` (their
 * processes' versions raised), of the nodes ("flow.node", a JSON array)
 * that are External nodes now.  *rows (malloc'd, free()) may be empty. */
int store_external_fetch(store *st, const json_t *topics, const json_t *nodes, int max, const char *now,
                         const char *owner, const char *until, st_external **rows, int *n, fherr *err);
/* Moves the lease of external task id to `until` if `owner` holds it live
 * at `now`; FH_CONFLICT when not. */
int store_external_extend(store *st, int64_t id, const char *owner, const char *now, const char *until, fherr *err);
/* How many leases of external tasks ran out and were given to a worker again. */
int store_external_lease_expiries(store *st, int64_t *n, fherr *err);

/* --- messages and signals -------------------------------------------- */

/* The oldest Receive task waiting for message `name` with `key` (key NULL:
 * the signal `name`) with an id above `after`; *id 0 when none. */
int store_receiver_next(store *st, const char *name, const char *key, int64_t after, int64_t *id, int64_t *process_id,
                        fherr *err);
/* Keeps a message nobody waits for, in a short write of its own, unless a
 * receiver of it is waiting by now (FH_STALE: deliver to it instead). */
int store_message_keep(store *st, const char *name, const char *key, const char *data, const char *now,
                       const char *expires_at, int64_t *id, fherr *err);
/* The oldest kept message for (name, key) after id `after`, not expired at
 * `now`: *id 0 when none; *data its JSON text (malloc'd). */
int store_message_find(store *st, const char *name, const char *key, const char *now, int64_t after, int64_t *id,
                       char **data, fherr *err);
/* The newest message id there is (0: none), for store_await.seen. */
int store_message_last_id(store *st, int64_t *id, fherr *err);
/* A Send node's kept message was offered to the receivers waiting then
 * (none took it): it is an ordinary kept message from now on. */
int store_message_offered(store *st, int64_t id, fherr *err);
/* Whether kept message id is still there (not taken, not expired away). */
int store_message_exists(store *st, int64_t id, int *yes, fherr *err);
/* The next message of a Send node after id `after`, not expired at `now`,
 * never offered (a crash cut its delivery off) while a receiver created no
 * later than it waits.  *id 0 when none; *name, *key, *data malloc'd. */
int store_message_undelivered(store *st, const char *now, int64_t after, int64_t *id, char **name, char **key,
                              char **data, fherr *err);
/* Deletes the messages expired at `now` (a short write); *n how many. */
int store_message_expire(store *st, const char *now, int64_t *n, fherr *err);
/* Seconds until the next kept message expires (<0: none). */
int store_message_next_expiry(store *st, const char *now, double *seconds, fherr *err);

/* --- migrations ------------------------------------------------------ */

/* A short write of its own; the processes concerned get a new version. */
int store_rename_flow_task(store *st, const char *from, const char *to, int64_t *changed, fherr *err);
int store_schema_version(store *st);
/* The version this build migrates to. */
int store_schema_latest(void);

/* --- an action's short write ------------------------------------------ */

/* The process of a task; FH_NOT_FOUND when there is no such task. */
int store_task_process(store *st, int64_t task_id, int64_t *process_id, fherr *err);

typedef enum { STORE_ID_PROCESS, STORE_ID_TASK } store_id_kind;
/* The process lock across hosts (store_lock.c): on PostgreSQL a session
 * advisory lock on process_id, *held = 1 once taken (a wait longer than the
 * lock timeout is FH_BUSY); on SQLite nothing (*held = 0).  Unlock releases
 * it if *held, and ends the session if it cannot. */
int store_process_lock(store *st, int64_t process_id, int *held, fherr *err);
void store_process_unlock(store *st, int64_t process_id, int *held);
/* A task's process (FH_NOT_FOUND: no such task) and, on PostgreSQL, its
 * lock if no session holds it (*held = 1), in one statement: the task
 * actions' look-up and lock in one round trip.  *held = 0 when another
 * session has it, and always on SQLite: then store_process_lock.  On
 * PostgreSQL the process and its tasks come in the same round trip, and
 * with want_ids (an action that usually makes tasks) a block of task ids. */
int store_task_process_lock(store *st, int64_t task_id, int want_ids, int64_t *process_id, int *held, fherr *err);
/* The next COMMIT of this store releases process_id's lock too, if *held
 * (one round trip on PostgreSQL for both), and then clears *held; if the
 * commit fails the lock stays held.  process_id 0 (held NULL): no longer. */
void store_unlock_at_commit(store *st, int64_t process_id, int *held);

/* The id the next new process or task will be written with.  Ids are
 * handed out before the write because callbacks and tokens see them; one
 * that another program took meanwhile makes that write FH_STALE. */
int store_next_id(store *st, store_id_kind kind, int64_t *id, fherr *err);

/* A message a Send node produced: kept with the action's write, so that a
 * crash after the commit cannot lose it.  id is filled in by the write. */
typedef struct store_message_out {
  const char *name, *key, *data, *created_at, *expires_at;
  int64_t id;
} store_message_out;

/* A new receiver that looked for kept messages of (name, key) when the
 * newest message id was `seen`: one kept after that (a higher id) makes
 * the write stale, so that the action starts over and takes it. */
typedef struct store_await {
  const char *name, *key;
  const char *at;     /* the receiver's creation: messages expired by then do not count */
  int64_t seen;
} store_await;

/* One action's whole effect on one process. */
typedef struct store_write {
  const st_process *process;   /* ->version: the version it was read at */
  int process_is_new;          /* insert it (with its id) instead of updating */
  const st_task **inserts;     /* new tasks, with their ids */
  int ninserts;
  const st_task **updates;     /* changed tasks: every mutable column */
  int nupdates;
  const int64_t *links;        /* (task, previous task) pairs */
  int nlinks;
  const int64_t *consume;      /* kept messages taken: each must still be there */
  int nconsume;
  const store_await *awaits;   /* new receivers that take kept messages: one */
  int nawaits;                 /* of theirs kept meanwhile makes the write stale */
  store_message_out *sends;    /* messages of Send nodes, kept in the same transaction */
  int nsends;                  /* (ids filled in), delivered from there after it */
  int64_t wake_task;           /* a finished child's Subprocess task: STARTED -> SCHEDULED, due */
  const char *wake_at;         /* now (its parent's version is raised with it) */
  const struct store_write *also;   /* another process written in the same transaction */
  const struct store_data_write *data;   /* search index, audit, comment (NULL: none) */
} store_write;

/* Writes it in one short transaction (through the group-commit writer):
 * FH_OK once durable, FH_STALE when the process was written by someone else
 * since it was read (or an id was taken) and nothing was written. */
int store_write_process(store *st, const store_write *w, fherr *err);

/* One write action given as a function: fn(st, arg, err) runs inside the
 * action's transaction (or savepoint) on the writer connection, perhaps on
 * another thread that holds the writer while this one waits (it must touch
 * nothing but st, arg and err).  FH_OK once the action is durable; fn's
 * error (nothing written) or the commit's. */
typedef int (*store_write_cb)(store *st, const void *arg, fherr *err);
int store_write_fn(store *st, store_write_cb fn, const void *arg, fherr *err);

/* --- process data: search index, comments, audit (store_data.c) ------- */

typedef enum { STORE_CMP_EQ, STORE_CMP_GE, STORE_CMP_LE, STORE_CMP_GT, STORE_CMP_LT } store_cmp;

/* One condition on a searchable field: a number (booleans are 1 and 0) or
 * a text (dates are their ISO text). */
typedef struct store_data_filter {
  const char *field;
  store_cmp cmp;
  int is_number;
  double num;
  const char *text;
} store_data_filter;

/* What a write records about the process's data, in the same transaction. */
typedef struct store_data_write {
  const char *search_fields;   /* JSON array of field names to index; NULL: the index stays */
  int64_t task_id;             /* the task executed (0: none) */
  int64_t user_id;             /* who submitted (0: the system) */
  const char *at;
  const char *changes;         /* audit: JSON array of {field, old, new}; NULL: none */
  const char *comment;         /* a comment with the task; NULL: none */
} store_data_write;

/* Called by store_write_process after the process row is written. */
int store_data_write_rows(store *st, const st_process *p, int is_new, const store_data_write *d, fherr *err);
/* The lists with filters (store_process_list and store_task_list hand over). */
int store_process_list_filtered(store *st, const store_process_query *q, st_process **out, int *count, fherr *err);
/* A comment, in a short write of its own; task_id 0: on the process. */
int store_comment_add(store *st, int64_t process_id, int64_t task_id, int64_t user_id, const char *text,
                      int64_t *id, fherr *err);
/* [{"id","task_id"|null,"author"|null,"created_at","text"}] oldest first; task_id 0: every comment of the process. */
int store_comment_list(store *st, int64_t process_id, int64_t task_id, json_t **out, fherr *err);
/* [{"id","task_id"|null,"node"|null,"user"|null,"at","changes":[{field, old, new}]}] oldest first. */
int store_audit_list(store *st, int64_t process_id, json_t **out, fherr *err);
/* Indexes the processes of `flow` for the fields of fields_json (a JSON
 * array) unless they were indexed for exactly these: batches of `batch`
 * processes, each a short write.  *indexed: processes indexed now. */
int store_search_reindex(store *st, const char *flow, const char *fields_json, int batch, int64_t *indexed,
                         fherr *err);

#endif
