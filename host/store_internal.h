/* store_internal — what the store units share and nobody else sees.
 *
 * Only host/store*.c include this header.  It holds the connection, writer
 * and store structs, the statement enum with its text table STORE_SQL[]
 * (defined in store.c), and the small statement helpers every store unit
 * uses.  The public API stays in store.h.
 */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_db.h"

/* Each statement is prepared on first use and kept for the life of the
 * connection; the enum indexes the cache and STORE_SQL[] holds the text. */
enum {
  Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SAVEPOINT, Q_RELEASE, Q_ROLLBACK_TO,
  Q_ACTION_SAVE, Q_ACTION_RELEASE, Q_ACTION_ROLLBACK,
  Q_USER_ADD, Q_USER_GET, Q_USER_GET_ID, Q_USER_PASSWD, Q_USER_ADMIN, Q_USER_COUNT, Q_USER_LIST,
  Q_USER_PERMS, Q_USER_GROUPS, Q_GROUP_ENSURE, Q_GROUP_ID, Q_GRANT_USER, Q_GRANT_GROUP,
  Q_REVOKE_USER, Q_REVOKE_GROUP, Q_JOIN, Q_LEAVE, Q_USERS_WITH_PERM,
  Q_SESSION_ADD, Q_SESSION_GET, Q_SESSION_DEL, Q_TOKEN_ADD, Q_TOKEN_GET, Q_TOKEN_USED,
  Q_PROC_INSERT, Q_PROC_GET, Q_PROC_GET_MANY, Q_PROC_UPDATE, Q_PROC_LIST, Q_PROC_LIST_FLOW, Q_PROC_LIST_FLOW_STATUS,
  Q_PROC_LIST_STATUS, Q_PROC_LIST_USER, Q_PROC_LIST_USER_FLOW, Q_PROC_LIST_USER_STATUS, Q_PROC_LIST_OWN_STATUS, Q_PROC_LIST_PARENT,
  Q_PROC_COUNT_FLOW, Q_PROC_COUNT_STATUS, Q_PROC_LIST_FEW_FLOW, Q_PROC_LIST_FEW_STATUS,
  Q_VERSION_LISTS, Q_VERSION_OLDER, Q_PROC_INVOLVES, Q_PARTICIPANT_ADD,
  Q_TASK_INSERT, Q_TASK_INSERT_2, Q_TASK_INSERT_3, Q_TASK_INSERT_4, Q_TASK_GET, Q_TASK_UPDATE, Q_TASK_PREV_ADD, Q_TASK_PREV_ADD_2, Q_TASK_PREV_ADD_3,
  Q_TASK_PREV_ADD_4, Q_TASK_PREV_ADD_MANY, Q_TASK_NEXT_STATUS,
  Q_TASK_ACTIVE, Q_TASK_ACTIVE_PREFIX, Q_TASK_FIND_JOIN, Q_TASK_WAITING_JOINS, Q_TASK_LATEST_OWNER,
  Q_TASK_DONE_TYPE, Q_TASK_OF_PROCESS, Q_TASK_LIVE_OF_PROCESS, Q_TASK_ENDED_OF_PROCESS,
  Q_TASK_OPEN_MEMBERS, Q_TASK_OPEN_MEMBER, Q_TASK_GROUP_COUNT,
  Q_LIST_INBOX, Q_LIST_INBOX_ASC, Q_LIST_QUEUE, Q_LIST_QUEUE_ASC, Q_LIST_ARCHIVE, Q_LIST_ARCHIVE_ASC,
  Q_LIST_ALL, Q_LIST_ALL_ASC, Q_LIST_INBOX_DUE, Q_LIST_QUEUE_DUE, Q_LIST_ARCHIVE_DUE, Q_LIST_ALL_DUE,
  Q_LIST_INBOX_FIN, Q_LIST_QUEUE_FIN, Q_LIST_ARCHIVE_FIN, Q_LIST_ALL_FIN,
  Q_LIST_INBOX_FIN_ASC, Q_LIST_QUEUE_FIN_ASC, Q_LIST_ARCHIVE_FIN_ASC, Q_LIST_ALL_FIN_ASC,
  Q_COUNT_INBOX, Q_COUNT_QUEUE, Q_LIST_ALL_RARE, Q_LIST_ALL_RARE_ASC,
  Q_LIST_ALL_FEW, Q_LIST_ALL_FEW_ASC, Q_PROC_COUNT_FLOWS, Q_LIST_ALL_STATUS, Q_LIST_ALL_STATUS_ASC, Q_LIST_ALL_NEW_NODES, Q_LIST_ALL_NEW_NODES_ASC,
  Q_TASK_COUNT_STATUS, Q_LIST_INBOX_FLOW, Q_LIST_INBOX_FLOW_ASC,
  Q_TASK_CLAIM, Q_TASK_LEASE, Q_TASK_NEXT_DUE, Q_RENAME, Q_RENAME_BUMP,
  Q_RECEIVER_NEXT, Q_MSG_KEEP, Q_MSG_FIND, Q_MSG_DELETE, Q_MSG_EXPIRE, Q_MSG_NEXT_EXPIRY, Q_MSG_KEPT_FOR,
  Q_MSG_INSERT, Q_MSG_EXISTS, Q_MSG_UNDELIVERED, Q_MSG_LAST_ID,
  Q_TASK_WAKE, Q_PROC_BUMP, Q_PROC_CHILDREN, Q_PROC_ORPHAN, Q_TASK_CLAIM_ID, Q_MSG_OFFERED,
  Q_PROC_INSERT_ROW, Q_PROC_INSERT_TOP, Q_PROC_UPDATE_CHECKED, Q_TASK_PROCESS, Q_MAX_TASK, Q_TASK_IDS_MORE, Q_MAX_PROCESS,
  /* sign-ins, revocation, throttling, the health probe (identity) */
  Q_USER_ACTIVE, Q_SESSION_DEL_USER, Q_TOKEN_DEL_USER, Q_TOKEN_LIST, Q_TOKEN_FIND, Q_TOKEN_DEL,
  Q_SESSION_PURGE, Q_LOGIN_PAIR, Q_LOGIN_NAME, Q_LOGIN_ADDR, Q_LOGIN_FAIL, Q_LOGIN_FORGET, Q_LOGIN_PURGE,
  Q_HEALTH_PROBE,
  /* one read transaction around the statements of a request (store_read_begin) */
  Q_READ_BEGIN,
  /* external tasks (store_external.c) */
  Q_EXT_FETCH, Q_EXT_LOCK, Q_EXT_EXTEND, Q_EXT_EXPIRIES,
  /* the process lock across hosts (store_lock.c; PostgreSQL only) */
  Q_PROC_LOCK, Q_PROC_UNLOCK, Q_TASK_PROCESS_LOCK, Q_COMMIT_AHEAD,
  /* a task's process and its open tasks, read by the task's id in the
   * round trip of its lock (store_task_process_lock; PostgreSQL only) */
  Q_PROC_GET_BY_TASK, Q_TASK_LIVE_OF_PROCESS_BY_TASK,
  /* the previous tasks of a list page's rows, in one statement (store_task_list) */
  Q_LIST_PREVIOUS,
  /* a request's sign-in in fewer statements: a token's user, a user's permissions and groups at once */
  Q_TOKEN_USER, Q_USER_PERMS_GROUPS, Q_USER_ACTOR_ID, Q_USER_ACTOR,
  /* the queue in id order node by node (SQLite; store_task_list) */
  Q_LIST_QUEUE_NODES, Q_LIST_QUEUE_NODES_ASC, Q_LIST_INBOX_DUE_PARTS, Q_LIST_QUEUE_DUE_PARTS,
  Q_LIST_QUEUE_NODES_FILTERED, Q_LIST_QUEUE_NODES_FILTERED_ASC, Q_LIST_ARCHIVE_FIN_PARTS, Q_LIST_ARCHIVE_FIN_PARTS_ASC,
  /* the inbox's pages after one (PostgreSQL: prepared apart from the
   * first page's; SQLite: the first page's statements) */
  Q_LIST_INBOX_NEXT, Q_LIST_INBOX_NEXT_ASC,
  /* the archive in id order, one part per finished status (store_task_list) */
  Q_LIST_ARCHIVE_PARTS, Q_LIST_ARCHIVE_PARTS_ASC,
  /* the inbox, the queue and the archive with a date filter, from
   * task_created, and how many tasks of people a range holds */
  Q_LIST_INBOX_DATE, Q_LIST_INBOX_DATE_ASC, Q_LIST_QUEUE_DATE, Q_LIST_QUEUE_DATE_ASC, Q_LIST_ARCHIVE_DATE,
  Q_LIST_ARCHIVE_DATE_ASC, Q_TASK_COUNT_CREATED,
  /* the archive with finished_since or finished_until, from task_owner_finished */
  Q_LIST_ARCHIVE_FINISHED, Q_LIST_ARCHIVE_FINISHED_ASC, Q_TASK_COUNT_FINISHED,
  /* the archive of one flow node by node, from task_owner_flow */
  Q_LIST_ARCHIVE_FLOW, Q_LIST_ARCHIVE_FLOW_ASC,
  /* GET /api/flows's: the flows the hosts have lately seen (store_hosts.c),
   * the current versions' reports (store_versions.c) */
  Q_HOSTS_SEEN, Q_VERSION_REPORTS,
  /* the count of identity changes (SQLite; store_identity_stamp) */
  Q_IDENTITY_STAMP,
  /* the queue of a user whose queued tasks are of one node: which nodes
   * hold them (up to two), and that node's page (SQLite; store_task_list) */
  Q_QUEUED_NODES_TWO, Q_LIST_QUEUE_ONE, Q_LIST_QUEUE_ONE_ASC, Q_LIST_QUEUE_ONE_FILTERED, Q_LIST_QUEUE_ONE_FILTERED_ASC,
  /* the inbox and the archive with a date, from the front of the view (FRONT_ROWS) */
  Q_LIST_INBOX_FRONT, Q_LIST_INBOX_FRONT_ASC, Q_LIST_ARCHIVE_FRONT, Q_LIST_ARCHIVE_FRONT_ASC,
  /* ... and the queue's (PostgreSQL), and the archive's with a finished range */
  Q_LIST_QUEUE_FRONT, Q_LIST_QUEUE_FRONT_ASC, Q_LIST_ARCHIVE_FRONT_FIN, Q_LIST_ARCHIVE_FRONT_FIN_ASC,
  /* ... tried where the range holds a page of tasks at all (counted up to one) */
  Q_TASK_PAGE_CREATED, Q_TASK_PAGE_FINISHED,
  /* process data (store_data.c: their text is DATA_SQL there, not STORE_SQL) */
  Q_DATA_FIRST, Q_DATA_SEARCH_DELETE = Q_DATA_FIRST, Q_DATA_SEARCH_INSERT, Q_DATA_AUDIT_ADD, Q_DATA_AUDIT_FIRST, Q_DATA_COMMENT_ADD,
  Q_DATA_COMMENTS, Q_DATA_AUDIT_LIST, Q_DATA_INDEXED_GET, Q_DATA_INDEXED_SET, Q_DATA_REINDEX_IDS,
  Q_DATA_LAST = Q_DATA_REINDEX_IDS,
  Q__COUNT
};

/* The same statements in SQLite's and in PostgreSQL's dialect. */
extern const char *const STORE_SQL[Q__COUNT];
extern const char *const STORE_SQL_PG[Q__COUNT];
/* 1: q's callers read nothing of it but success (store_sql_pg.c). */
int store_pg_deferrable(int q);
/* A list page Q_LIST_* with its optional filters, in PostgreSQL's dialect
 * (STORE_SQL_PG's are without them: store_sql_pg.c); NULL for other q. */
const char *store_pg_list_filtered(int q);
/* The text of a Q_DATA_* statement (store_data.c), pg: PostgreSQL's. */
const char *store_data_text(int q, int pg);
/* STORE_SQL[q] or STORE_SQL_PG[q], as the store's connection speaks. */
const char *store_sql_text(store *st, int q);

/* The condition of the partial index task_status (migration 12), word for
 * word: SQLite uses a partial index only for a query that repeats it.  (Not
 * "status IN (...active...)": an IN list of more than two values is an
 * ephemeral table that every insert into task would build.)  `t` is the
 * table's alias with its dot, or "". */
/* The rows a task list reads for a page of STORE_PAGE_DEFAULT: one more
 * tells whether another page follows (engine_list.c).  On PostgreSQL a
 * first page of this many rows runs a statement prepared once, whose text
 * says the number (store_sql_pg.c): a literal, not a sum. */
#define STORE_PAGE_ROWS 51
_Static_assert(STORE_PAGE_ROWS == STORE_PAGE_DEFAULT + 1, "a page and one more");

#define TASK_UNFINISHED(t) t "status <> 'DONE' AND " t "status <> 'CANCELED' AND " t "status <> 'REVIVED'"
/* A task of alias q waits in the queue: new, held by nobody (with
 * TASK_UNFINISHED, so that SQLite may read task_status) */
/* The statuses off a task's common path (NEW, ASSIGNED, DONE): few tasks
 * are in them at a time (STARTED, SCHEDULED, ERROR), or they are the end
 * of an exception (CANCELED, REVIVED).  task_rare holds the tasks in
 * them, so the list of all tasks of one of them reads that index; a task
 * on the common path never writes to it. */
#define TASK_RARE(a) \
  "(" a "status = 'STARTED' OR " a "status = 'SCHEDULED' OR " a "status = 'ERROR' OR " a "status = 'REVIVED' OR " a \
  "status = 'CANCELED')"
#define RARE_INDEX_ON "CREATE INDEX IF NOT EXISTS task_rare ON task(status, id) WHERE "
/* the index as SQLite's migration 19 (PostgreSQL's 12) made it, before CANCELED joined */
#define MIGRATION_RARE_INDEX \
  RARE_INDEX_ON "(status = 'STARTED' OR status = 'SCHEDULED' OR status = 'ERROR' OR status = 'REVIVED');"
/* SQLite's migration 20, PostgreSQL's 13 */
#define MIGRATION_RARE_CANCELED "DROP INDEX IF EXISTS task_rare;" RARE_INDEX_ON TASK_RARE("") ";"
#define TASK_QUEUED(q) q "status = 'NEW' AND " TASK_UNFINISHED(q) " AND " q "owner_id IS NULL"
/* The user's nodes that hold queued tasks, as a table n(value), for the
 * queue's pages and counts to read only their ranges.  A user may take many
 * nodes of which few hold tasks (bob in bench/: 101, one holding every
 * queued task); a probe of each of them cost his queue page a third more on
 * PostgreSQL, and on SQLite twice what his inbox page costs (1.9 million
 * instructions against 0.7).  The nodes that hold queued tasks are found by
 * a loose index scan: a recursive CTE whose each step is one descent of an
 * index of the queued tasks by node, to the smallest node after the last.
 * Each is looked up in the text of the user's names (the JSON array bound
 * third): a node name is "flow.node" of two identifiers (flowreg.c's file
 * names, flow.lua's NAME_PATTERN), which JSON writes as they are, so
 * '"' || node || '"' is in the array's text exactly when the node is one of
 * its elements; parsing the 3.5 KB of bob's names cost more than the rest.
 * indexed: the index on SQLite (" INDEXED BY task_status"), "" on
 * PostgreSQL; in: the backend's "position of the name in $3" call, open;
 * few(cond): the last condition as the backend says it (store.c's
 * FEW_NODES on SQLite, AS_IS on PostgreSQL). */
#define AS_IS(cond) cond
#define USER_QUEUED_NODES_OF(indexed, in, few)                                                                  \
  "(WITH RECURSIVE f(node) AS (SELECT min(flow_task) FROM task" indexed " WHERE " TASK_QUEUED("") " UNION ALL"    \
  " SELECT (SELECT min(g.flow_task) FROM task g" indexed " WHERE " TASK_QUEUED("g.") " AND g.flow_task > f.node)" \
  " FROM f WHERE f.node IS NOT NULL) SELECT f.node AS value FROM f WHERE " few(in "'\"' || f.node || '\"') > 0") ") n"
/* The tasks people take part in: start and view tasks, and a start
 * function's task, owned by who started the process.  No other task ever
 * has an owner (the engine sets one only in start_body and on view tasks)
 * or waits in a queue, so every task of an inbox, a queue or an archive is
 * one of these.  task_created (SQLite's migration 21, PostgreSQL's 16)
 * holds them in order of creation, for those views' date filters; the
 * type never changes after the insert, so no update of a task writes to
 * it, and the automatic tasks of a process (handlers, gateways, the end)
 * have no entry: a full index cost the all-automatic flow 9% more
 * instructions per process (bench/README.md, section 28).  Said with ORs:
 * "flow_task_type IN (...)" made SQLite build a table of the three names
 * for every task inserted, 31% more instructions per process. */
#define TASK_OF_PEOPLE(a) \
  "(" a "flow_task_type = 'start' OR " a "flow_task_type = 'start_function' OR " a "flow_task_type = 'view')"
/* The six date pages of a backend's statement table, from its own
 * DATE_LIST(view, page key comparison, order) (store.c, store_sql_pg.c) */
#define DATE_LIST_ENTRIES                                                                                     \
  [Q_LIST_INBOX_DATE] = DATE_LIST(INBOX, "<", "DESC"), [Q_LIST_INBOX_DATE_ASC] = DATE_LIST(INBOX, ">", "ASC"),   \
  [Q_LIST_QUEUE_DATE] = DATE_LIST(QUEUE, "<", "DESC"), [Q_LIST_QUEUE_DATE_ASC] = DATE_LIST(QUEUE, ">", "ASC"),   \
  [Q_LIST_ARCHIVE_DATE] = DATE_LIST(ARCHIVE, "<", "DESC"), [Q_LIST_ARCHIVE_DATE_ASC] = DATE_LIST(ARCHIVE, ">", "ASC")
/* The ids of a process's running :ForEach groups (their controllers
 * STARTED), whose open instances an action leaves out (store.c's
 * NOT_LEFT_OUT, store_sql_pg.c's LIVE_TASKS). */
#define RUNNING_GROUP_IDS(pid) \
  "SELECT c.id FROM task c WHERE c.process_id = " pid " AND c.status = 'STARTED' AND c.flow_task_type = 'foreach'"
/* A process's tasks by status, with their group (SQLite's migration 24,
 * PostgreSQL's 20). */
#define TASK_PROCESS_GROUP \
  "DROP INDEX IF EXISTS task_process; CREATE INDEX task_process ON task(process_id, status, group_id);"
#define MIGRATION_CREATED_INDEX \
  "CREATE INDEX IF NOT EXISTS task_created ON task(created_at, flow_task_type) WHERE " TASK_OF_PEOPLE("") ";"
/* A user's finished tasks, the archive's (task_owner_finished's and
 * task_owner_flow's rows): a condition of the statements that read those
 * indexes, said as the indexes say it. */
#define OWNED_FINISHED(a) a "owner_id IS NOT NULL AND " a "status IN ('DONE', 'CANCELED')"
/* A process row as store.c's sq_read_process reads it, with its creator's
 * name from user_table ("user" on SQLite, "\"user\"" on PostgreSQL); the
 * WHERE follows (Q_PROC_GET, Q_PROC_GET_MANY). */
#define PROC_ROW_COLS                                                                          \
  "SELECT p.id, p.flow, p.status, p.data, coalesce(p.created_by, 0), coalesce(u.username, ''),"  \
  " p.created_at, coalesce(p.finished_at, ''), p.version, coalesce(p.parent_task_id, 0),"       \
  " coalesce(p.parent_id, 0), p.depth"
#define PROC_ROW(user_table) PROC_ROW_COLS " FROM process p LEFT JOIN " user_table " u ON u.id = p.created_by "

/* Outcomes of the last RESULTS batches a writer committed, by batch id. */
#define RESULTS 64

typedef struct conn {
  dbc *db;
  dbs *stmt[Q__COUNT];
} conn;

/* PostgreSQL: the task ids an action takes from the sequence in one round
 * trip (store_next_id); the ones its write did not use are dropped.  An
 * action that used its first block up takes larger ones: 8, 64, then 512
 * at a time (a group of 10,000 took 1,250 round trips for its ids). */
#define PG_ID_BLOCK 8
#define PG_ID_BLOCK_MAX 512
typedef struct pg_ids {
  int64_t id[PG_ID_BLOCK_MAX];
  int n, next;
  int blocks;   /* taken since the action's first */
} pg_ids;

/* The next free ids of processes and tasks, handed out before the write
 * (callbacks and split tokens see them).  Seeded from the database, raised
 * past it again whenever an insert finds its id taken by another program. */
typedef struct id_seq {
  pthread_mutex_t mu;
  int64_t next[2];          /* 0: not seeded yet */
} id_seq;

typedef struct writer {
  char *path;
  int refs;                 /* guarded by writers_mu */
  conn c;
  pthread_mutex_t mu;       /* held by the action using c */
  int waiting;              /* actions queued for mu (atomic) */
  int open;                 /* a batch transaction is open on c */
  int pending;              /* actions in the open batch waiting for its commit */
  int opaque;               /* a classic action (store_begin) is in the open batch */
  double opened_at;
  unsigned long batch;      /* id of the open, or the last, batch */
  pthread_mutex_t done_mu;
  /* one per slot of the ring: a commit wakes the waiters of its own batch,
   * not every action waiting on any batch (with 8 writers the wake-ups of
   * one shared condition were a good part of the futex calls) */
  pthread_cond_t done[RESULTS];
  unsigned long committed;  /* guarded by done_mu */
  int results[RESULTS];     /* fherr code of batch % RESULTS, guarded by done_mu */
  char whys[RESULTS][128];  /* ... and the message of a failed one */
  /* Durability outside mu (synchronous=FULL over the walbuf VFS): c
   * commits at NORMAL, and whoever waits on a commit makes it durable with
   * one fdatasync of the WAL for every commit written before that sync
   * began, while the next batch already writes (store_writer.c). */
  int defer_sync;           /* set at open, read-only after */
  int wal_fd;               /* the WAL's descriptor for the sync (atomic; -1: not known yet) */
  unsigned long written;    /* commits written to the WAL (atomic) */
  /* the last commit written and the actions written up to it, in one
   * word (atomic): the commit's number << 24 | the actions mod 2^24, so
   * that a sync reads both at once and knows how many actions it makes
   * durable (for the metrics) */
  unsigned long written_acts;   /* (stored with mu held: the writer is its only writer) */
  unsigned long acts_synced;   /* actions the syncs made durable, mod 2^24 (sync_mu) */
  unsigned long seqs[RESULTS]; /* the written count after batch % RESULTS, guarded by done_mu */
  pthread_mutex_t sync_mu;
  /* sync_cond[g % 2]: the waiters sync number g makes durable; a sync's
   * end wakes only them, not those that need the one after it */
  pthread_cond_t sync_cond[2];
  unsigned long synced;     /* commits known durable, guarded by sync_mu */
  int syncing;              /* a sync is under way, guarded by sync_mu */
  unsigned long sync_gen;   /* syncs begun (sync_mu) */
  unsigned long sync_upto;  /* what the sync under way makes durable (sync_mu) */
  int sync_later;           /* waiters that need a sync after it (sync_mu) */
  /* the sync thread, handed the syncs when commits come faster than one
   * sync (store_writer.c, "durability at FULL") */
  pthread_t syncer;
  pthread_cond_t syncer_cond;
  int syncer_running;       /* started (read-only after open) */
  int syncer_busy;          /* handed the syncs and not done yet (sync_mu) */
  int syncer_stop;          /* (sync_mu) */
  unsigned long syncer_syncs; /* syncs the thread ran (sync_mu; tests) */
  int sync_broken;          /* a sync failed: nothing written since is durable (sync_mu) */
  /* Checkpoints beside the writes (store_writer.c): a thread with its own
   * connection copies the WAL back into the database, fsyncs included,
   * while c goes on writing; c finishes the short rest itself. */
  conn ckpt_c;
  pthread_t ckpt_thread;
  int ckpt_running;         /* the thread was started (read-only after open) */
  int ckpt_at;              /* WAL frames that call for a checkpoint (read-only after open) */
  pthread_mutex_t ckpt_mu;
  pthread_cond_t ckpt_cond;
  int ckpt_kick, ckpt_stop, ckpt_busy;   /* guarded by ckpt_mu */
  /* The WAL's generations: SQLite starts it again from its first frame
   * once all of it was copied; a pass's count of frames copied holds for
   * its own generation only. */
  int ckpt_frames;          /* the WAL's frames at the last commit (mu) */
  unsigned ckpt_gen;        /* the current generation (mu; ckpt_mu to change) */
  unsigned ckpt_kick_gen, ckpt_done_gen;   /* of the turn asked for, of ckpt_done (ckpt_mu) */
  int ckpt_done;            /* frames copied by the last turn or finish (ckpt_mu) */
  long ckpt_passes, ckpt_finishes;   /* by the thread, by the writer (ckpt_mu; for the tests) */
  /* Combined writes (store_write_fn): actions queued for whoever holds mu,
   * who runs them one after another in its batch (store_writer.c). */
  pthread_mutex_t q_mu;
  struct write_req *q_head, *q_tail;   /* guarded by q_mu */
  /* Their owners sleep once, until the outcome is final: those run into
   * the open batch wait for its commit (open_owners, mu), then, at FULL,
   * for the sync that covers it (durable_head/tail in commit order,
   * sync_mu). */
  struct write_req *open_owners;
  struct write_req *durable_head, *durable_tail;
  struct writer *next;
  id_seq ids;               /* shared by the stores of this file */
} writer;

/* How many sets of flows a store remembers to have many processes */
#define FLOWS_MANY_KEPT 8

struct store {
  conn own;
  conn *cur;                /* own, or the writer's inside a write action */
  writer *w;                /* NULL for a private database */
  int in_write;
  id_seq ids;               /* a private database's own */
  /* The write action opened its batch, so it took no savepoint: its
   * rollback is the whole batch's (nobody else is in it yet). */
  int whole_batch;
  /* A participant row known to exist, read outside a write (a participant
   * row is never deleted): adding it again is skipped. */
  int64_t part_pid, part_uid;
  /* The process and the users whose participant rows the write being made
   * added: known only until that write ends, since it may still roll back
   * (a group of 10,000 reviews shared by two people added 10,000). */
  int64_t wpart_pid, wpart_uid[8];
  int nwpart;
  pg_ids task_ids;          /* PostgreSQL: task ids taken for the action being computed */
  /* PostgreSQL: the process whose lock the next COMMIT releases too, and
   * the holder's flag, cleared when it did (store_unlock_at_commit) */
  int64_t unlock_pid;
  int *unlock_held;
  /* PostgreSQL: the process (and its open tasks) read with its lock by
   * store_task_process_lock, their answers waiting in the statements
   * Q_PROC_GET_BY_TASK and Q_TASK_LIVE_OF_PROCESS_BY_TASK for the next
   * store_process_load_live of it; 0: none.  Any lock or unlock drops it. */
  int64_t preload_pid;
  /* PostgreSQL: a block of task ids taken right after that lock, its
   * answer waiting in Q_MAX_TASK for the action's first task id; dropped
   * with the rest */
  int preload_ids;
  /* SQLite: whether NEW [0] and ASSIGNED [1] had fewer than STATUS_FEW
   * tasks, and when that was counted (fhtime_monotonic; 0: never).  It
   * only chooses how a page of all tasks of that status is read (both ways
   * read all of them), so a count some seconds old does: counting up to
   * STATUS_FEW for every page of a common status cost more than its walk. */
  struct { int few; double at; } status_few[2];
  /* Sets of flows (JSON arrays, store.c's flows_have_few) counted to have
   * ALL_FEW processes or more, and when (flows NULL: a free slot).  Only "many" is
   * kept: processes are deleted rarely, so it stays true, and if it does
   * not a page is read the slower way, never wrongly; "few" is counted at
   * every page, since the page of few processes reads up to four times
   * the count of them. */
  struct { char *flows; double at; } flows_many[FLOWS_MANY_KEPT];
};

/* PostgreSQL: drops the task ids left of the block an action took (store.c). */
void sq_drop_ids_pg(store *st);
/* Drops what store_task_process_lock read ahead (preload_pid), if anything. */
void sq_drop_preload(store *st);

/* Frees what flows_many holds (store_close). */
void sq_forget_flows_many(store *st);

/* Forgets the participants learnt inside the write that ends or begins now. */
static inline void st_forget_write_participant(store *st) {
  st->wpart_pid = 0;
  st->nwpart = 0;
}

/* --- statement helpers (store.c) ------------------------------------- */

/* FH_BUSY for a locked database, else FH_INTERNAL with SQLite's message. */
int sq_fail(store *st, fherr *err, int rc, const char *what);
/* The statement q on the current connection, prepared on first use. */
dbs *sq_prep(store *st, int q, fherr *err);
/* What a caller returns when sq_prep gave NULL: the code sq_fail put in
 * err (on PostgreSQL the prepare also reads the answers of statements sent
 * ahead, so it may fail with theirs: DB_STALE, busy), else FH_INTERNAL. */
int sq_prep_failed(const fherr *err);
/* Runs a statement that returns no rows; resets it in every case. */
int sq_run(store *st, dbs *s, fherr *err, const char *what);
/* SQL text prepared for one use (statements that are not per action: the
 * caller finalizes it); NULL, with err set naming `what`, when it fails. */
dbs *sq_prepare_once(store *st, const char *sql, const char *what, fherr *err);
/* Steps s (from sq_prepare_once; NULL: its failure, already in err) past
 * any rows and finalizes it. */
int sq_run_once(store *st, dbs *s, const char *what, fherr *err);
/* Runs SQL text (pragmas, schema, migrations) on the current connection. */
int sq_exec(store *st, const char *sql, fherr *err);
/* Steps a one-row, one-integer query into *n and resets it. */
int sq_count(store *st, dbs *s, int64_t *n, fherr *err);
/* Prepares and runs statement q without parameters. */
int sq_simple(store *st, int q, fherr *err);

static inline void sq_done(dbs *s) {
  dbs_reset(s);
  dbs_clear_bindings(s);
}

static inline void sq_bind_text_or_null(dbs *s, int i, const char *v) {
  if (v && *v) dbs_bind_text(s, i, v);
  else dbs_bind_null(s, i);
}

static inline void sq_bind_id_or_null(dbs *s, int i, int64_t v) {
  if (v) dbs_bind_int64(s, i, v);
  else dbs_bind_null(s, i);
}

/* (a copy, not snprintf: a list page copies some 1,500 columns) */
static inline void sq_copy_col(char *dst, size_t cap, dbs *s, int col) {
  const char *v = dbs_col_text(s, col);
  size_t n = v ? strnlen(v, cap - 1) : 0;
  if (n) memcpy(dst, v, n);
  dst[n] = '\0';
}

static inline char *sq_dup_col(dbs *s, int col) {
  const char *v = dbs_col_text(s, col);
  return v ? strdup((const char *)v) : NULL;
}

/* --- process data (store_data.c) ------------------------------------ */

/* word for word the condition of the partial index process_flow_version
 * (migration 12), so that SQLite may walk it */
#define RUNNING "('NEW', 'STARTED')"
/* A version list's running counts read at most RUNNING_CAP index entries
 * each (LIMIT in a subquery, on both backends), so GET /api/flows, which
 * lists every flow's versions, costs the same at 1,000,000 running
 * processes as at 1,000.  Exact below the cap; at it, running is
 * RUNNING_CAP - 1 and "running_capped": true says "more than that", as in
 * GET /api/tasks/counts (engine_view.c).  The rows (of process p) come in
 * the order of the index process_flow_version, so that PostgreSQL walks it
 * and stops at the limit: without the ORDER BY its generic estimate of a
 * version's rows chose a seq scan that would meet 1,000 of them early, and
 * read the whole table for a version with few or none running (400 ms for
 * 4 versions at 1,000,000 processes); SQLite walks the index either way.
 * The subquery has a name because PostgreSQL before 16 requires one. */
#define RUNNING_CAP 1000
#define COUNT_CAPPED(rows)                                                                       \
  "(SELECT count(*) FROM (" rows " ORDER BY p.flow, p.flow_version, p.status"                      \
  " LIMIT " SQ_STR(RUNNING_CAP) ") AS capped)"

/* Every version list of the flows of a JSON array of names (names: the
 * backend's table of its elements, as "value"), and each flow's count of
 * the running processes older than versions (names_f: that table as f),
 * for GET /api/flows (store_version_lists) */
#define VERSION_LISTS(names)                                                                                    \
  "SELECT v.flow, v.hash, v.pin, v.is_current, v.created_at, "                                                  \
  COUNT_CAPPED("SELECT 1 FROM process p WHERE p.flow = v.flow AND p.flow_version = v.hash AND p.status IN " RUNNING) \
  " FROM flow_version v WHERE v.flow IN (SELECT value FROM " names ") ORDER BY v.flow, v.created_at DESC, v.hash"
#define VERSION_OLDER(names_f)                                                                                  \
  "SELECT f.value, "                                                                                            \
  COUNT_CAPPED("SELECT 1 FROM process p WHERE p.flow = f.value AND p.flow_version IS NULL AND p.status IN " RUNNING) \
  " FROM " names_f

/* The columns of a process list row (Q_PROC_LIST_*, the searches of
 * store_data.c), of process p and its creator u: a process row as
 * Q_PROC_GET's, version included (the list's summaries are cached by it) */
#define PROC_LIST_COLS PROC_ROW_COLS
/* A row of PROC_ROW_COLS. */
void sq_read_process(dbs *s, st_process *out);
/* The rows of process list statement s into *rows (*n of them; free with
 * st_process_array_free); on failure none, and err says what failed */
int sq_read_processes(store *st, dbs *s, st_process **rows, int *n, const char *what, fherr *err);
/* base_sql (one of STORE_SQL[]) with the filters on key_col's process
 * data added before its ORDER BY, bound as ?20 on: a statement of its own
 * that the caller finalizes.  NULL on error. */
dbs *sq_prep_filtered(store *st, const char *base_sql, const char *key_col, const store_data_filter *f,
                               int n, fherr *err);
/* Where a task list statement's conditions begin (right after its outer
 * WHERE, both backends): sq_prep_filtered moves them into a subquery of
 * the page's ids when few processes match the data filters. */
#define LIST_CONDS "/*conds*/ "

/* --- schema (store_schema.c) ----------------------------------------- */
/* SQLite's migration 12 and PostgreSQL's 4, the same statements on both:
 * the partial indexes (why: store_schema.c).  Their conditions are the
 * ones the readers repeat (TASK_UNFINISHED, RUNNING in store_versions.c). */
#define MIGRATION_PARTIAL_INDEXES \
  "DROP INDEX task_owner_status;" \
  "CREATE INDEX task_owner_status ON task(owner_id, status, id) WHERE owner_id IS NOT NULL;" \
  "DROP INDEX task_owner_id;" \
  "CREATE INDEX task_owner_id ON task(owner_id, id) WHERE owner_id IS NOT NULL;" \
  "DROP INDEX task_status;" \
  "CREATE INDEX task_status ON task(status, flow_task, owner_id)" \
  " WHERE status <> 'DONE' AND status <> 'CANCELED' AND status <> 'REVIVED';" \
  "DROP INDEX process_created_by;" \
  "CREATE INDEX process_created_by ON process(created_by, id) WHERE created_by IS NOT NULL;" \
  "DROP INDEX process_flow_version;" \
  "CREATE INDEX process_flow_version ON process(flow, flow_version, status) WHERE status IN ('NEW', 'STARTED');"

/* The head of every task insert, both backends: the 23 columns in the
 * order store.c binds them (bind_task_row). */
#define TASK_INSERT_INTO                                                                                          \
  "INSERT INTO task(process_id, flow_task, flow_task_type, status, owner_id, token, join_of, data,"               \
  " error_message, error_traceback, created_at, assigned_at, started_at, finished_at, due_at, attempts, id,"      \
  " event_name, event_key, guards, child_id, group_id, prev_id)"

/* The COMMIT of a store whose process lock is to go with it
 * (store_unlock_at_commit), PostgreSQL: both in one round trip
 * (store_lock.c). */
int store_lock_commit(store *st, fherr *err);

/* Migration 13 (SQLite) / 5 (PostgreSQL): a task's first link is a column
 * of its own row, task.prev_id (set when the task is made, in the same
 * insert); task_previous keeps the others (a join's further arrivals) and
 * the links written before.  Readers take the union.  And no index from a
 * task to the tasks that follow it: its one reader (the undo's
 * store_task_next_statuses) walks the few tasks of the same process, and
 * no task is ever deleted, so no foreign key check needs it.  Two b-tree
 * pages and a statement fewer in every commit that makes tasks
 * (bench/README.md, issue 13).  prev_id has no foreign key: only the
 * engine links, inside one write of one process whose tasks it holds. */
#define MIGRATION_LINKS_IN_ROW(id_type) "ALTER TABLE task ADD COLUMN prev_id " id_type ";" "DROP INDEX task_previous_prev;"

/* Migration 16 (SQLite) / 7 (PostgreSQL): the queue in id order, an index
 * of the tasks waiting for someone to take them (a few of all tasks: the
 * others are done, held or automatic).  The queue page walks it from the
 * newest and keeps the tasks the user may take, so it reads about the
 * queued tasks it shows, not every task: SQLite otherwise took task_status
 * and sorted every queued task of the user's nodes (0.36 s at 100,000 of
 * 2,000,000), or walked every task in id order. */
#define MIGRATION_QUEUE_INDEX "CREATE INDEX IF NOT EXISTS task_queue ON task(id) WHERE status = 'NEW' AND owner_id IS NULL;"

/* The task columns read_task (store.c) reads, the same text in both
 * dialects (store.c, store_sql_pg.c), around the owner's name (TASK_COLS_HEAD
 * or a list's own) and the previous ids (each dialect's TASK_PREV).  No
 * coalesce: a NULL reads as "" or 0 (sq_copy_col, dbs_col_int64), and
 * PostgreSQL formats and sends each empty string (9 a row) where a NULL is
 * one flag. */
#define TASK_COLS_ID "t.id, t.process_id, t.flow_task, t.flow_task_type, t.status, t.owner_id, "
#define TASK_COLS_REST                                                               \
  "t.token, t.join_of, t.data, t.error_message, t.error_traceback, t.created_at, "  \
  "t.assigned_at, t.started_at, t.finished_at, t.due_at, t.lease_until, t.attempts, " \
  "t.lease_owner, "
#define TASK_COLS_TAIL "t.event_name, t.event_key, t.guards, t.child_id, t.group_id "
#define TASK_COLS_HEAD TASK_COLS_ID "u.username, " TASK_COLS_REST

/* A list statement's owner's name and joins by view (LIST_COLS, LIST_HEAD
 * of each dialect, which defines OWNER_INBOX, the caller's name bound as
 * the first parameter, and USER_JOIN): the inbox's and the archive's tasks
 * are the user's own, the queue's have none, and only view=all reads each
 * row's user (an inbox page read 51 user rows for one name). */
#define OWNER_QUEUE "NULL"
#define OWNER_ARCHIVE OWNER_INBOX
#define OWNER_ALL "u.username"
#define OWNER_RARE OWNER_ALL
/* The process list of a user who is not an admin, filtered by flow or
 * status, reads the processes of that flow or status when there are fewer
 * than this many of them (store.c's Q_PROC_LIST_FEW_*), else the user's own */
#define PROC_FEW 256
/* All tasks of flows with fewer processes than this (a flow asked for, or
 * the flows a manager manages) are read through those processes and
 * sorted (store.c's Q_LIST_ALL_FEW), not found by walking every task: at
 * most this many processes' tasks against a walk that passes, on average,
 * the whole table's tasks over theirs for each row of the page (store.c's
 * flows_have_few weighs the two). */
#define ALL_FEW 2000
#define ALL_FEW_READ 8000
/* On SQLite, all tasks of one status that fewer tasks than this have
 * (NEW or ASSIGNED where most tasks are DONE), maybe of some flows, are
 * read from task_status and sorted (Q_LIST_ALL_STATUS), not found by
 * walking every task, when that costs less (store.c's status_is_few):
 * sorting this many ids against a walk that passes the whole table's
 * tasks over theirs for each row of the page (at 2,000,000 tasks and
 * this many of the status, 10,000 rows a page; the two cost about the
 * same there, 3-4 ms). */
#define STATUS_FEW 10000
/* how long (s) a store keeps that count (struct store's status_few, and
 * flows_many) */
#define STATUS_FEW_KEEP 10.0
/* An inbox, queue or archive page with a date filter (since, until) whose
 * range holds fewer tasks of people than this is read from task_created
 * and sorted (Q_LIST_*_DATE, store.c's range_is_few), not found by walking
 * the view in id order, which reads the whole view where fewer than a page
 * of its tasks are in the range; so is the archive with finished_since or
 * finished_until, from the user's range of task_owner_finished
 * (Q_LIST_ARCHIVE_FINISHED).  Each task in the range is one row read to
 * test the view: 2,000 of them cost about a millisecond. */
#define CREATED_FEW 2000
/* The inbox or the archive newest first since a date (oldest first until
 * one) tries first the user's first FRONT_ROWS tasks of the view, from
 * the page key on (Q_LIST_*_FRONT, store_task_list): "since this morning"
 * is the front of an inbox, and a page filled there is the page, found
 * without counting the range or reading it.  Four pages of
 * STORE_PAGE_ROWS, so that a range holding a quarter of the front still
 * fills one, and a front holding less costs ~0.1 ms before the range. */
#define FRONT_ROWS 204
/* GET /api/flows's two statements, the same on both backends (p: the
 * first parameter as the backend writes it) */
#define HOSTS_SEEN(p) "SELECT flow, host, hash, since, seen_at FROM flow_host WHERE seen_at >= " p " ORDER BY flow, host"
#define VERSION_REPORTS "SELECT flow, report FROM flow_version WHERE is_current <> 0 AND report IS NOT NULL"
/* The bounds of an open date range, as stored times (fhtime.h's form), so
 * that they order right in any collation ('~' sorts before the digits in
 * some) */
#define TIME_FIRST "'0000-01-01T00:00:00.000Z'"
#define TIME_LAST "'9999-12-31T23:59:59.999Z'"
/* a number as SQL text */
#define SQ_STR_(x) #x
#define SQ_STR(x) SQ_STR_(x)
#define PROC_JOIN "LEFT JOIN process p ON p.id = t.process_id "
#define JOINS_INBOX PROC_JOIN
#define JOINS_QUEUE PROC_JOIN
#define JOINS_ARCHIVE PROC_JOIN
#define JOINS_ALL USER_JOIN PROC_JOIN
#define JOINS_RARE JOINS_ALL

/* Brings the schema of st's current connection up to this version. */
int store_migrate(store *st, fherr *err);

/* --- the PostgreSQL schema (store_schema_pg.c) ------------------------ */

int store_migrate_pg(store *st, fherr *err);
int store_schema_version_pg(store *st);
int store_schema_latest_pg(void);

#endif
