/* store_schema — the schema of the database and its migrations.
 *
 * PRAGMA user_version is the schema version; store_migrate, called by
 * store_open on a store's own connection, applies the missing migrations,
 * each in a write transaction of its own.  It calls only SQLite and
 * sq_exec.  It is separate because the schema is history that only grows,
 * while the statements of store.c and the transactions of store_writer.c
 * change with the code.
 */
#include "store_internal.h"

/* A trigger named name counting each row of table that event changes (migration 23). */
#define IDENTITY_COUNTED(name, event, table) \
  "CREATE TRIGGER IF NOT EXISTS " name " AFTER " event " ON \"" table "\" BEGIN UPDATE identity_change SET n = n + 1; END;"

/* Version N of the schema is MIGRATIONS[N-1]; a new version is a new entry,
 * never an edit of an old one. */
static const char *const MIGRATIONS[] = {
    "CREATE TABLE user("
    " id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT,"
    " is_admin INTEGER NOT NULL DEFAULT 0, is_active INTEGER NOT NULL DEFAULT 1,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE grp(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE user_grp(user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,"
    " grp_id INTEGER NOT NULL REFERENCES grp(id) ON DELETE CASCADE, PRIMARY KEY(user_id, grp_id)) WITHOUT ROWID;"
    "CREATE TABLE user_perm(user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, PRIMARY KEY(user_id, name)) WITHOUT ROWID;"
    "CREATE TABLE grp_perm(grp_id INTEGER NOT NULL REFERENCES grp(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, PRIMARY KEY(grp_id, name)) WITHOUT ROWID;"
    "CREATE TABLE session(id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,"
    " csrf_token TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);"
    "CREATE TABLE api_token(id INTEGER PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,"
    " user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE, name TEXT,"
    " created_at TEXT NOT NULL, last_used_at TEXT);"
    "CREATE TABLE process("
    " id INTEGER PRIMARY KEY, flow TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',"
    " created_by INTEGER REFERENCES user(id), created_at TEXT NOT NULL, finished_at TEXT);"
    "CREATE INDEX process_flow ON process(flow, id);"
    "CREATE INDEX process_created_by ON process(created_by, id);"
    "CREATE TABLE task("
    " id INTEGER PRIMARY KEY, process_id INTEGER NOT NULL REFERENCES process(id),"
    " flow_task TEXT NOT NULL, flow_task_type TEXT NOT NULL, status TEXT NOT NULL,"
    " owner_id INTEGER REFERENCES user(id), token TEXT NOT NULL, join_of TEXT,"
    " data TEXT NOT NULL DEFAULT '{}', error_message TEXT, error_traceback TEXT,"
    " created_at TEXT NOT NULL, assigned_at TEXT, started_at TEXT, finished_at TEXT,"
    " due_at TEXT, attempts INTEGER NOT NULL DEFAULT 0, lease_until TEXT, lease_owner TEXT);"
    "CREATE INDEX task_process ON task(process_id, status);"
    "CREATE INDEX task_owner ON task(owner_id, status);"
    "CREATE INDEX task_status ON task(status, flow_task);"
    "CREATE INDEX task_due ON task(due_at) WHERE status = 'SCHEDULED';"
    "CREATE TABLE task_previous(task_id INTEGER NOT NULL REFERENCES task(id),"
    " previous_id INTEGER NOT NULL REFERENCES task(id), PRIMARY KEY(task_id, previous_id)) WITHOUT ROWID;"
    "CREATE INDEX task_previous_prev ON task_previous(previous_id);",
    /* 2: the inbox walks (owner, status, id); the archive walks (owner, id) */
    "DROP INDEX task_owner;"
    "CREATE INDEX task_owner_status ON task(owner_id, status, id);"
    "CREATE INDEX task_owner_id ON task(owner_id, id);"
    /* the queue count reads only this index */
    "DROP INDEX task_status;"
    "CREATE INDEX task_status ON task(status, flow_task, owner_id);",
    /* 3: who took part in a process (started it or owned one of its tasks,
     * even if the task was reassigned later): what a user may see */
    "CREATE TABLE participant(process_id INTEGER NOT NULL REFERENCES process(id),"
    " user_id INTEGER NOT NULL REFERENCES user(id), PRIMARY KEY(process_id, user_id)) WITHOUT ROWID;"
    "CREATE INDEX participant_user ON participant(user_id, process_id);"
    "INSERT OR IGNORE INTO participant SELECT id, created_by FROM process WHERE created_by IS NOT NULL;"
    "INSERT OR IGNORE INTO participant SELECT process_id, owner_id FROM task WHERE owner_id IS NOT NULL;",
    /* 4: a process's version, raised by every write of it: an action
     * computes on what it read and writes only if it is still current */
    "ALTER TABLE process ADD COLUMN version INTEGER NOT NULL DEFAULT 0;",
    /* 5: the event model.  A Receive task waits for event_name (a message
     * with event_key, or a signal: event_key NULL); a boundary timer row
     * (type 'timeout') guards task `guards`, event_name is its target node
     * and event_key the 1-based index of its :OnTimeout.  A message nobody
     * waited for is kept until expires_at. */
    "ALTER TABLE task ADD COLUMN event_name TEXT;"
    "ALTER TABLE task ADD COLUMN event_key TEXT;"
    "ALTER TABLE task ADD COLUMN guards INTEGER;"
    "CREATE INDEX task_waiting ON task(event_name, event_key, id)"
    " WHERE status = 'STARTED' AND flow_task_type = 'receive';"
    /* AUTOINCREMENT: a receiver's look-up remembers the newest message id
     * it saw, and a message kept later must have a higher one, also when
     * the newest was taken meanwhile */
    "CREATE TABLE message(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, key TEXT NOT NULL,"
    " data TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, expires_at TEXT NOT NULL,"
    /* pending: a Send node's message not yet offered to the receivers
     * waiting when it was sent (a crash came between) */
    " pending INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX message_key ON message(name, key, id);"
    "CREATE INDEX message_expiry ON message(expires_at);",
    /* 6: composition.  A child process knows the Subprocess task that
     * started it (at most one child per task: starting it twice is a
     * constraint error), its parent process and its depth; the Subprocess
     * task knows its child; an instance of a multi-instance node knows the
     * task that controls its group. */
    "ALTER TABLE process ADD COLUMN parent_task_id INTEGER;"
    "ALTER TABLE process ADD COLUMN parent_id INTEGER;"
    "ALTER TABLE process ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX process_parent_task ON process(parent_task_id) WHERE parent_task_id IS NOT NULL;"
    "CREATE INDEX process_parent ON process(parent_id, id) WHERE parent_id IS NOT NULL;"
    "ALTER TABLE task ADD COLUMN child_id INTEGER;"
    "ALTER TABLE task ADD COLUMN group_id INTEGER;",
    /* 7: sign-ins (identity.c): failed sign-ins per user name and client
     * address for throttling, kept in the database so that every host on
     * it counts them; indexes to end a user's sessions and tokens and to
     * purge expired sessions; the one row GET /api/health writes to learn
     * whether the database takes writes. */
    "CREATE TABLE login_failure(name TEXT NOT NULL, addr TEXT NOT NULL, failures INTEGER NOT NULL,"
    " last_at TEXT NOT NULL, PRIMARY KEY(name, addr)) WITHOUT ROWID;"
    "CREATE INDEX login_failure_addr ON login_failure(addr, last_at);"
    "CREATE INDEX login_failure_last ON login_failure(last_at);"
    "CREATE INDEX session_user ON session(user_id);"
    "CREATE INDEX session_expiry ON session(expires_at);"
    "CREATE INDEX api_token_user ON api_token(user_id);"
    "CREATE TABLE health_probe(id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL);",
    /* external tasks (store_external.c): workers outside fetch the
     * SCHEDULED tasks of their topics (event_name) with a lease;
     * lease_expiries counts the leases that ran out before the worker
     * answered (the task was offered again) */
    "ALTER TABLE task ADD COLUMN lease_expiries INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX task_external ON task(event_name, due_at, id)"
    " WHERE status = 'SCHEDULED' AND flow_task_type = 'external';"
    /* the job workers' claims skip external tasks: an index without them,
     * so that thousands waiting for workers outside cost a claim nothing */
    "CREATE INDEX task_due_host ON task(due_at, id)"
    " WHERE status = 'SCHEDULED' AND flow_task_type <> 'external';",
    /* versions (store_versions.c): the source text of every definition a
     * host loaded, by content hash; the one a host starts processes on is
     * current, and the trigger stamps it on each new process in the same
     * transaction as its insert; report: the edit-impact report (JSON) of
     * the reload that made it current. */
    "CREATE TABLE flow_version(flow TEXT NOT NULL, hash TEXT NOT NULL, source TEXT NOT NULL,"
    " pin INTEGER NOT NULL DEFAULT 0, is_current INTEGER NOT NULL DEFAULT 0, report TEXT,"
    " created_at TEXT NOT NULL, PRIMARY KEY(flow, hash)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX flow_version_current ON flow_version(flow) WHERE is_current;"
    "ALTER TABLE process ADD COLUMN flow_version TEXT;"
    "CREATE INDEX process_flow_version ON process(flow, flow_version, status);"
    "CREATE TRIGGER process_flow_version AFTER INSERT ON process WHEN NEW.flow_version IS NULL BEGIN"
    " UPDATE process SET flow_version = (SELECT hash FROM flow_version WHERE flow = NEW.flow AND is_current)"
    " WHERE id = NEW.id; END;",
    /* process data (store_data.c).  process_search: the values of a
     * process's `search = true` fields; `value` has no declared type, so a
     * number stays a number and a text a text (SQLite orders every number
     * before every text, which bounds a range to one kind); the primary key
     * is the index an exact match or a range walks, in process id order.
     * search_indexed: the searchable fields each flow's processes were last
     * indexed for (a flow that gains one is indexed again, in batches).
     * comment: comments on a process or one of its tasks.  data_audit: who
     * submitted which field values (a JSON array of {field, old, new}). */
    "CREATE TABLE process_search(field TEXT NOT NULL, value NOT NULL, process_id INTEGER NOT NULL,"
    " PRIMARY KEY(field, value, process_id)) WITHOUT ROWID;"
    "CREATE INDEX process_search_process ON process_search(process_id);"
    "CREATE TABLE search_indexed(flow TEXT PRIMARY KEY, fields TEXT NOT NULL);"
    "CREATE TABLE comment(id INTEGER PRIMARY KEY, process_id INTEGER NOT NULL REFERENCES process(id),"
    " task_id INTEGER, user_id INTEGER REFERENCES user(id), created_at TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX comment_process ON comment(process_id, id);"
    "CREATE INDEX comment_task ON comment(task_id, id) WHERE task_id IS NOT NULL;"
    "CREATE TABLE data_audit(id INTEGER PRIMARY KEY, process_id INTEGER NOT NULL REFERENCES process(id),"
    " task_id INTEGER, user_id INTEGER REFERENCES user(id), at TEXT NOT NULL, changes TEXT NOT NULL);"
    "CREATE INDEX data_audit_process ON data_audit(process_id, id);",
    /* which version of each flow each host serves (store_hosts.c): one row
     * per (host, flow), its content hash (NULL: the flow fails to load
     * there), since when, and the host's heartbeat */
    "CREATE TABLE flow_host(host TEXT NOT NULL, flow TEXT NOT NULL, hash TEXT, since TEXT NOT NULL,"
    " seen_at TEXT NOT NULL, PRIMARY KEY(host, flow)) WITHOUT ROWID;",
    /* 12: an index holds only the rows its readers look for.  Every index
     * entry is a b-tree page the commit writes into the WAL, and the
     * automatic tasks of a process (no owner, finished in the same write)
     * were four or more entries in the owner indexes and in task_status
     * that no list ever reads: the inbox and archive ask for an owner, the
     * queue, the counts and the metrics for an active status, the versions
     * page and moves for a running process (they repeat the index's
     * condition word for word, the form SQLite needs to use a partial
     * index), the processes of a user for a creator.
     * (bench/README.md, issue 13: fewer pages per commit.) */
    MIGRATION_PARTIAL_INDEXES,
    /* 13: a task's first link in its own row (store_internal.h) */
    MIGRATION_LINKS_IN_ROW("INTEGER"),
    /* 14: a process's audit entries side by side in the table, without an
     * index: an entry's id is its process id times 2^20 plus its number in
     * that process (0, 1, ...), so the entries of a process are one range of
     * the table's own b-tree, read in order by GET .../audit and appended to
     * by the next write (store_data.c).  The index it replaces was one more
     * b-tree page in the WAL for every write that changed process data
     * (bench/README.md, issue 13).  The CHECK keeps an entry in its
     * process's range, so a 2^20th entry of one process fails its write
     * instead of landing in the next process's range. */
    "CREATE TABLE data_audit_by_process(id INTEGER PRIMARY KEY, process_id INTEGER NOT NULL REFERENCES process(id),"
    " task_id INTEGER, user_id INTEGER REFERENCES user(id), at TEXT NOT NULL, changes TEXT NOT NULL,"
    " CHECK (id >> 20 = process_id));"
    "INSERT INTO data_audit_by_process SELECT (process_id << 20) + row_number() OVER (PARTITION BY process_id ORDER BY id) - 1,"
    " process_id, task_id, user_id, at, changes FROM data_audit;"
    "DROP TABLE data_audit;"
    "ALTER TABLE data_audit_by_process RENAME TO data_audit;",
    /* 15: no trigger stamping a new process's flow version.  Every insert
     * of a process names its flow's current version itself (store.c,
     * CURRENT_VERSION), and no flowhost older than that opens this schema
     * (store_migrate refuses a newer one), so the trigger never fired; yet
     * SQLite ran it as a sub-program on every insert to test its WHEN:
     * ~8,000 instructions per process under the writer's lock
     * (bench/README.md, issue 13). */
    "DROP TRIGGER IF EXISTS process_flow_version;",
    /* 16: the queue in id order (store_internal.h) */
    MIGRATION_QUEUE_INDEX,
    /* 17: the inbox's and each queue node's tasks that have a due date, in
     * its order, for the pages sorted by it (store.c's DUE_PARTS): those
     * pages sorted every task of the view (41 ms for an inbox of 10,000
     * tasks, 79 ms for a queue of 90,000).  Those without a due date are
     * in them too (first, NULL): a view whose tasks all have one would
     * otherwise be read whole to find none.  And each
     * user's finished tasks by finished_at, for the archive in that order
     * (FIN_PARTS; 51 ms for an archive of 33,000 tasks): one entry per
     * human task finished, none for automatic ones (no owner). */
    "CREATE INDEX IF NOT EXISTS task_owner_due ON task(owner_id, due_at) WHERE status = 'ASSIGNED';"
    "CREATE INDEX IF NOT EXISTS task_queue_due ON task(flow_task, due_at) WHERE status = 'NEW' AND owner_id IS NULL;"
    "CREATE INDEX IF NOT EXISTS task_owner_finished ON task(owner_id, finished_at)"
    " WHERE owner_id IS NOT NULL AND status IN ('DONE', 'CANCELED');",
    /* 18: the processes of one status by flow, each flow's in id order
     * (the rowid after the key), for the process list filtered by status
     * (store.c's Q_PROC_LIST_STATUS and _FLOW_STATUS): it read the table
     * in id order to find them, 155 ms at 1,000,000 processes for a status
     * none had (bench/README.md, issue 13). */
    "CREATE INDEX IF NOT EXISTS process_status ON process(status, flow);",
    /* 19: the tasks of a rare status (STARTED, SCHEDULED, ERROR, REVIVED)
     * in id order, for the list of all tasks of one of them and the
     * incidents (store.c's Q_LIST_ALL_RARE): it walked every task to find
     * them.  Only tasks in those statuses have an entry (background jobs
     * and waits while they wait, errors, revived tasks); the others pay
     * for the test alone. */
    MIGRATION_RARE_INDEX,
    /* 20: task_rare holds the CANCELED tasks too: the list of all tasks
     * CANCELED walked every task (530 ms at 1,000,000 processes with
     * none).  A task is canceled once; the common path still never
     * writes to the index. */
    MIGRATION_RARE_CANCELED,
    /* 21: the tasks of people by creation time, for the inbox, the queue
     * and the archive with a date filter (store_internal.h's
     * TASK_OF_PEOPLE, store.c's Q_LIST_*_DATE): those pages walked the
     * whole view where fewer than a page of its tasks were in the range
     * (bench/README.md, section 28). */
    MIGRATION_CREATED_INDEX,
    /* 22: each user's finished tasks by node, each node's in id order, for
     * the archive of one flow (store.c's Q_LIST_ARCHIVE_FLOW): it walked
     * the user's whole archive reading each task's row to test its flow,
     * and a flow holding few of a large archive's tasks (or none) read
     * them all (bench/README.md, section 29).  One entry per human task
     * finished, as task_owner_finished. */
    "CREATE INDEX IF NOT EXISTS task_owner_flow ON task(owner_id, flow_task) WHERE " OWNED_FINISHED("") ";",
    /* 23: a counter of every change of what a token or a session stands
     * for (its user, the user's groups and permissions, the token or the
     * session itself), whoever writes (a host, the CLI, the sqlite3
     * shell): a host keeps its requests' sign-ins in memory and reads this
     * one row before it serves one (identity_cache.h), instead of the user
     * with its permissions and groups (~50,000 instructions a request).
     * PostgreSQL's migration 6 notifies instead.  Row triggers, so that a
     * statement changing nothing counts nothing; new users, tokens and
     * sessions change nothing kept, nor does a token's last use. */
    "CREATE TABLE IF NOT EXISTS identity_change(id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO identity_change VALUES (1, 0);"
    IDENTITY_COUNTED("user_changed", "UPDATE", "user")
    IDENTITY_COUNTED("user_deleted", "DELETE", "user")
    IDENTITY_COUNTED("grp_changed", "UPDATE", "grp")
    IDENTITY_COUNTED("grp_deleted", "DELETE", "grp")
    IDENTITY_COUNTED("user_grp_added", "INSERT", "user_grp")
    IDENTITY_COUNTED("user_grp_changed", "UPDATE", "user_grp")
    IDENTITY_COUNTED("user_grp_deleted", "DELETE", "user_grp")
    IDENTITY_COUNTED("user_perm_added", "INSERT", "user_perm")
    IDENTITY_COUNTED("user_perm_changed", "UPDATE", "user_perm")
    IDENTITY_COUNTED("user_perm_deleted", "DELETE", "user_perm")
    IDENTITY_COUNTED("grp_perm_added", "INSERT", "grp_perm")
    IDENTITY_COUNTED("grp_perm_changed", "UPDATE", "grp_perm")
    IDENTITY_COUNTED("grp_perm_deleted", "DELETE", "grp_perm")
    IDENTITY_COUNTED("api_token_changed", "UPDATE OF token_hash, user_id", "api_token")
    IDENTITY_COUNTED("api_token_deleted", "DELETE", "api_token")
    IDENTITY_COUNTED("session_changed", "UPDATE", "session")
    IDENTITY_COUNTED("session_deleted", "DELETE", "session"),
    /* 24: a process's tasks by status with their group, so that an action
     * can leave out the open instances of a running :ForEach group from
     * what it reads without reading their rows (store.c's NOT_LEFT_OUT),
     * and count a group's instances by status (Q_TASK_GROUP_COUNT): an
     * action on one instance of a group of 10,000 read them all (28 ms;
     * bench/README.md, section 51).  The column is NULL for every other
     * task. */
    TASK_PROCESS_GROUP,
};
#define N_MIGRATIONS ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

int store_schema_latest(void) { return N_MIGRATIONS; }

int store_schema_version(store *st) {
  if (st->cur->db->kind == DB_KIND_PG) return store_schema_version_pg(st);
  dbs *s = NULL;
  int v = -1;
  if (dbs_prepare(st->cur->db, -1, "PRAGMA user_version", &s) == DB_OK &&
      dbs_step(s) == DB_ROW)
    v = dbs_col_int(s, 0);
  dbs_finalize(s);
  return v;
}

/* Each migration runs in its own write transaction together with the bump
 * of user_version, so a crash leaves the schema at a whole version.  The
 * version is read first without a transaction (WAL readers never wait): a
 * current schema needs nothing more. */
int store_migrate(store *st, fherr *err) {
  /* A current schema is only read: no write transaction, so opening a
   * connection never waits for another program's write lock. */
  if (st->cur->db->kind == DB_KIND_PG) return store_migrate_pg(st, err);
  if (store_schema_version(st) == N_MIGRATIONS) return FH_OK;
  for (;;) {
    int rc = sq_exec(st, "BEGIN IMMEDIATE", err);
    if (rc) return rc;
    int version = store_schema_version(st);
    if (version < 0 || version > N_MIGRATIONS) {
      sq_exec(st, "ROLLBACK", NULL);
      return fherr_set(err, FH_INTERNAL, "database schema version %d is newer than this flowhost (%d)",
                       version, N_MIGRATIONS);
    }
    if (version == N_MIGRATIONS) return sq_exec(st, "COMMIT", err);
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", version + 1);
    if ((rc = sq_exec(st, MIGRATIONS[version], err)) || (rc = sq_exec(st, bump, err)) ||
        (rc = sq_exec(st, "COMMIT", err))) {
      sq_exec(st, "ROLLBACK", NULL);
      return rc;
    }
  }
}
