/* store_schema_pg — the PostgreSQL schema and its migrations.
 *
 * The same tables, columns and meaning as store_schema.c's SQLite schema at
 * its version 10 (times stay ISO-8601 text, flags stay integers, so that the
 * statements of both dialects read and compare them alike), with sequences
 * for the ids so that several hosts never hand out the same one.  The
 * version is the one row of flowhost_schema; store_migrate_pg applies the
 * missing migrations in one transaction under an advisory lock, so N hosts
 * starting at once migrate once and the others find the schema current.
 */
#include "store_internal.h"

/* Key of the advisory lock the migrations hold: a pair of int4 keys (any
 * constants of ours), because the single bigint keys are process ids
 * (store_lock.c) and the two key spaces never conflict. */
#define MIGRATE_LOCK "1718382455, 1"

/* Version N is MIGRATIONS_PG[N-1]; a new version is a new entry. */
static const char *const MIGRATIONS_PG[] = {
    /* 1: the whole schema of SQLite's version 8 */
    "CREATE SEQUENCE user_id_seq; CREATE SEQUENCE grp_id_seq; CREATE SEQUENCE api_token_id_seq;"
    "CREATE SEQUENCE process_id_seq; CREATE SEQUENCE task_id_seq; CREATE SEQUENCE message_id_seq;"
    "CREATE TABLE \"user\"(id BIGINT PRIMARY KEY DEFAULT nextval('user_id_seq'), username TEXT NOT NULL UNIQUE,"
    " password_hash TEXT, is_admin INTEGER NOT NULL DEFAULT 0, is_active INTEGER NOT NULL DEFAULT 1,"
    " created_at TEXT NOT NULL);"
    "CREATE TABLE grp(id BIGINT PRIMARY KEY DEFAULT nextval('grp_id_seq'), name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE user_grp(user_id BIGINT NOT NULL REFERENCES \"user\"(id) ON DELETE CASCADE,"
    " grp_id BIGINT NOT NULL REFERENCES grp(id) ON DELETE CASCADE, PRIMARY KEY(user_id, grp_id));"
    "CREATE TABLE user_perm(user_id BIGINT NOT NULL REFERENCES \"user\"(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, PRIMARY KEY(user_id, name));"
    "CREATE TABLE grp_perm(grp_id BIGINT NOT NULL REFERENCES grp(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, PRIMARY KEY(grp_id, name));"
    "CREATE TABLE session(id_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES \"user\"(id) ON DELETE CASCADE,"
    " csrf_token TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);"
    "CREATE INDEX session_by_user ON session(user_id);"
    "CREATE INDEX session_expiry ON session(expires_at);"
    "CREATE TABLE api_token(id BIGINT PRIMARY KEY DEFAULT nextval('api_token_id_seq'), token_hash TEXT NOT NULL UNIQUE,"
    " user_id BIGINT NOT NULL REFERENCES \"user\"(id) ON DELETE CASCADE, name TEXT,"
    " created_at TEXT NOT NULL, last_used_at TEXT);"
    "CREATE INDEX api_token_user ON api_token(user_id);"
    "CREATE TABLE process(id BIGINT PRIMARY KEY DEFAULT nextval('process_id_seq'), flow TEXT NOT NULL,"
    " status TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}', created_by BIGINT REFERENCES \"user\"(id),"
    " created_at TEXT NOT NULL, finished_at TEXT, version BIGINT NOT NULL DEFAULT 0,"
    " parent_task_id BIGINT, parent_id BIGINT, depth INTEGER NOT NULL DEFAULT 0, flow_version TEXT);"
    "CREATE INDEX process_flow ON process(flow, id);"
    "CREATE INDEX process_created_by ON process(created_by, id);"
    "CREATE UNIQUE INDEX process_parent_task ON process(parent_task_id) WHERE parent_task_id IS NOT NULL;"
    "CREATE INDEX process_parent ON process(parent_id, id) WHERE parent_id IS NOT NULL;"
    "CREATE INDEX process_flow_version ON process(flow, flow_version, status);"
    "CREATE TABLE task(id BIGINT PRIMARY KEY DEFAULT nextval('task_id_seq'),"
    " process_id BIGINT NOT NULL REFERENCES process(id),"
    " flow_task TEXT NOT NULL, flow_task_type TEXT NOT NULL, status TEXT NOT NULL,"
    " owner_id BIGINT REFERENCES \"user\"(id), token TEXT NOT NULL, join_of TEXT,"
    " data TEXT NOT NULL DEFAULT '{}', error_message TEXT, error_traceback TEXT,"
    " created_at TEXT NOT NULL, assigned_at TEXT, started_at TEXT, finished_at TEXT,"
    " due_at TEXT, attempts INTEGER NOT NULL DEFAULT 0, lease_until TEXT, lease_owner TEXT,"
    " event_name TEXT, event_key TEXT, guards BIGINT, child_id BIGINT, group_id BIGINT,"
    " lease_expiries INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX task_process ON task(process_id, status);"
    "CREATE INDEX task_owner_status ON task(owner_id, status, id);"
    "CREATE INDEX task_owner_id ON task(owner_id, id);"
    "CREATE INDEX task_status ON task(status, flow_task, owner_id);"
    "CREATE INDEX task_due ON task(due_at) WHERE status = 'SCHEDULED';"
    "CREATE INDEX task_waiting ON task(event_name, event_key, id)"
    " WHERE status = 'STARTED' AND flow_task_type = 'receive';"
    "CREATE INDEX task_external ON task(event_name, due_at, id)"
    " WHERE status = 'SCHEDULED' AND flow_task_type = 'external';"
    "CREATE INDEX task_due_host ON task(due_at, id) WHERE status = 'SCHEDULED' AND flow_task_type <> 'external';"
    "CREATE TABLE task_previous(task_id BIGINT NOT NULL REFERENCES task(id),"
    " previous_id BIGINT NOT NULL REFERENCES task(id), PRIMARY KEY(task_id, previous_id));"
    "CREATE INDEX task_previous_prev ON task_previous(previous_id);"
    "CREATE TABLE participant(process_id BIGINT NOT NULL REFERENCES process(id),"
    " user_id BIGINT NOT NULL REFERENCES \"user\"(id), PRIMARY KEY(process_id, user_id));"
    "CREATE INDEX participant_user ON participant(user_id, process_id);"
    /* a sequence, as SQLite's AUTOINCREMENT: ids only grow */
    "CREATE TABLE message(id BIGINT PRIMARY KEY DEFAULT nextval('message_id_seq'), name TEXT NOT NULL,"
    " key TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, expires_at TEXT NOT NULL,"
    " pending INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX message_key ON message(name, key, id);"
    "CREATE INDEX message_expiry ON message(expires_at);"
    "CREATE TABLE login_failure(name TEXT NOT NULL, addr TEXT NOT NULL, failures INTEGER NOT NULL,"
    " last_at TEXT NOT NULL, PRIMARY KEY(name, addr));"
    "CREATE INDEX login_failure_addr ON login_failure(addr, last_at);"
    "CREATE INDEX login_failure_last ON login_failure(last_at);"
    "CREATE TABLE health_probe(id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL);"
    "CREATE TABLE flow_version(flow TEXT NOT NULL, hash TEXT NOT NULL, source TEXT NOT NULL,"
    " pin INTEGER NOT NULL DEFAULT 0, is_current INTEGER NOT NULL DEFAULT 0, report TEXT,"
    " created_at TEXT NOT NULL, PRIMARY KEY(flow, hash));"
    "CREATE UNIQUE INDEX flow_version_current ON flow_version(flow) WHERE is_current <> 0;"
    /* SQLite's AFTER INSERT trigger, as a BEFORE INSERT one: the current
     * version is stamped on each new process in the insert itself */
    "CREATE FUNCTION process_flow_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.flow_version IS NULL THEN"
    "  NEW.flow_version := (SELECT hash FROM flow_version WHERE flow = NEW.flow AND is_current <> 0);"
    " END IF; RETURN NEW; END $$;"
    "CREATE TRIGGER process_flow_version BEFORE INSERT ON process"
    " FOR EACH ROW EXECUTE FUNCTION process_flow_version();",
    /* 2: process data, SQLite's version 10 (store_data.c).  SQLite keeps a
     * search value in one column of mixed type (every number sorts before
     * every text); here a value is in num (numbers, booleans as 1 and 0) or
     * in txt (texts), and each has its own index in (field, value, process
     * id) order, so that an exact match or a range on either kind is an
     * index walk.  A process has one value per field: that is the key. */
    "CREATE SEQUENCE comment_id_seq; CREATE SEQUENCE data_audit_id_seq;"
    "CREATE TABLE process_search(field TEXT NOT NULL, num DOUBLE PRECISION, txt TEXT, process_id BIGINT NOT NULL,"
    " PRIMARY KEY(process_id, field), CHECK ((num IS NULL) <> (txt IS NULL)));"
    "CREATE INDEX process_search_num ON process_search(field, num, process_id);"
    "CREATE INDEX process_search_txt ON process_search(field, txt, process_id);"
    "CREATE TABLE search_indexed(flow TEXT PRIMARY KEY, fields TEXT NOT NULL);"
    "CREATE TABLE comment(id BIGINT PRIMARY KEY DEFAULT nextval('comment_id_seq'),"
    " process_id BIGINT NOT NULL REFERENCES process(id), task_id BIGINT, user_id BIGINT REFERENCES \"user\"(id),"
    " created_at TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX comment_process ON comment(process_id, id);"
    "CREATE INDEX comment_task ON comment(task_id, id) WHERE task_id IS NOT NULL;"
    "CREATE TABLE data_audit(id BIGINT PRIMARY KEY DEFAULT nextval('data_audit_id_seq'),"
    " process_id BIGINT NOT NULL REFERENCES process(id), task_id BIGINT, user_id BIGINT REFERENCES \"user\"(id),"
    " at TEXT NOT NULL, changes TEXT NOT NULL);"
    "CREATE INDEX data_audit_process ON data_audit(process_id, id);",
    /* 3: SQLite's 11, flow_host (store_hosts.c); and the wake-up of every
     * host's job workers (store_listen.c): a task that becomes SCHEDULED,
     * or whose due time changes, or whose lease is dropped while it is
     * SCHEDULED, sends a NOTIFY in the writing transaction, so it is
     * delivered on COMMIT only (and once per transaction and payload); the
     * payload says what: 'job', 'subprocess' or 'external' */
    "CREATE TABLE flow_host(host TEXT NOT NULL, flow TEXT NOT NULL, hash TEXT, since TEXT NOT NULL,"
    " seen_at TEXT NOT NULL, PRIMARY KEY(host, flow));"
    "CREATE FUNCTION task_due_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " PERFORM pg_notify('flowhost_due', CASE WHEN NEW.flow_task_type IN ('external', 'subprocess')"
    " THEN NEW.flow_task_type ELSE 'job' END);"
    " RETURN NULL; END $$;"
    "CREATE TRIGGER task_due_insert AFTER INSERT ON task FOR EACH ROW WHEN (NEW.status = 'SCHEDULED')"
    " EXECUTE FUNCTION task_due_notify();"
    "CREATE TRIGGER task_due_update AFTER UPDATE OF status, due_at, lease_until ON task FOR EACH ROW"
    " WHEN (NEW.status = 'SCHEDULED' AND (OLD.status <> 'SCHEDULED' OR OLD.due_at IS DISTINCT FROM NEW.due_at"
    " OR (OLD.lease_until IS NOT NULL AND NEW.lease_until IS NULL)))"
    " EXECUTE FUNCTION task_due_notify();",
    /* 4: SQLite's 12, partial indexes: an index holds only the rows its
     * readers look for (store_schema.c) */
    MIGRATION_PARTIAL_INDEXES,
    /* 5: SQLite's 13, a task's first link in its own row */
    MIGRATION_LINKS_IN_ROW("BIGINT"),
    /* 6: every change of what a token or a session stands for (its user,
     * the user's groups and permissions, the token or session itself)
     * sends a NOTIFY on flowhost_identity, delivered on COMMIT, whoever
     * writes (a host, the CLI, psql): the hosts' identity caches forget
     * what they hold (store_listen.c, identity_cache.c).  Row triggers, so
     * that a statement that changes nothing (a purge of no expired session)
     * notifies nobody; new users, tokens and sessions change nothing
     * cached.  SQLite counts the same changes in a row instead (its
     * migration 23). */
    "CREATE FUNCTION identity_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " PERFORM pg_notify('flowhost_identity', ''); RETURN NULL; END $$;"
    "CREATE TRIGGER user_changed AFTER UPDATE OR DELETE ON \"user\" FOR EACH ROW EXECUTE FUNCTION identity_notify();"
    "CREATE TRIGGER grp_changed AFTER UPDATE OR DELETE ON grp FOR EACH ROW EXECUTE FUNCTION identity_notify();"
    "CREATE TRIGGER user_grp_changed AFTER INSERT OR UPDATE OR DELETE ON user_grp FOR EACH ROW"
    " EXECUTE FUNCTION identity_notify();"
    "CREATE TRIGGER user_perm_changed AFTER INSERT OR UPDATE OR DELETE ON user_perm FOR EACH ROW"
    " EXECUTE FUNCTION identity_notify();"
    "CREATE TRIGGER grp_perm_changed AFTER INSERT OR UPDATE OR DELETE ON grp_perm FOR EACH ROW"
    " EXECUTE FUNCTION identity_notify();"
    "CREATE TRIGGER api_token_changed AFTER UPDATE OR DELETE ON api_token FOR EACH ROW"
    " EXECUTE FUNCTION identity_notify();"
    "CREATE TRIGGER session_changed AFTER UPDATE OR DELETE ON session FOR EACH ROW"
    " EXECUTE FUNCTION identity_notify();",
    /* 7: SQLite's 16, the queue in id order (store_internal.h) */
    MIGRATION_QUEUE_INDEX,
    /* 8: each node's queued tasks in id order, for the queue page and its
     * counts node by node (store_sql_pg.c's QUEUE_NODES).  SQLite's
     * task_status holds them in that order already (its entries of one
     * status, node and owner are in rowid order); PostgreSQL's keeps equal
     * keys in the order of their place in the table.  It replaces the
     * walk's task_queue, which no PostgreSQL statement reads any more, and
     * which the planner took for a node's range where statistics showed
     * one node filling the queue (a walk of it for any other node). */
    "CREATE INDEX IF NOT EXISTS task_queue_node ON task(flow_task, id) WHERE status = 'NEW' AND owner_id IS NULL;"
    "DROP INDEX IF EXISTS task_queue;",
    /* 9: SQLite's 17, the tasks with a due date in its order, by owner and
     * by queue node, and each user's finished tasks by finished_at, in
     * byte order as the pages sort them (COLLATE "C") */
    "CREATE INDEX IF NOT EXISTS task_owner_due ON task(owner_id, due_at COLLATE \"C\", id) WHERE status = 'ASSIGNED';"
    "CREATE INDEX IF NOT EXISTS task_queue_due ON task(flow_task, due_at COLLATE \"C\", id)"
    " WHERE status = 'NEW' AND owner_id IS NULL;"
    "CREATE INDEX IF NOT EXISTS task_owner_finished ON task(owner_id, finished_at COLLATE \"C\", id)"
    " WHERE owner_id IS NOT NULL AND status IN ('DONE', 'CANCELED');",
    /* 10: a token's use recorded (last_used_at, token_use.h) or its name
     * changed is no change of what it stands for: the hosts' identity
     * caches hear only of changes of its digest or user, and of its end */
    "DROP TRIGGER api_token_changed ON api_token;"
    "CREATE TRIGGER api_token_changed AFTER UPDATE OF token_hash, user_id OR DELETE ON api_token FOR EACH ROW"
    " EXECUTE FUNCTION identity_notify();",
    /* 11: SQLite's 18, the processes of one status by flow in id order,
     * for the process list filtered by status (store_sql_pg.c) */
    "CREATE INDEX IF NOT EXISTS process_status ON process(status, flow, id);",
    /* 12: SQLite's 19, the tasks of a rare status in id order */
    MIGRATION_RARE_INDEX,
    /* 13: SQLite's 20, task_rare with the CANCELED tasks, for the list of
     * all of them (the archive's CANCELED part says its status so that no
     * plan of it can walk this index: store_sql_pg.c's ARCHIVE_PART) */
    MIGRATION_RARE_CANCELED,
    /* 14: task_status ends in the id, so that all tasks of a rare status
     * (NEW, ASSIGNED where most tasks are DONE) come from it without a
     * task row read for each (store_sql_pg.c's Q_LIST_ALL_STATUS); SQLite's
     * indexes end in the rowid, the id, anyway */
    "DROP INDEX IF EXISTS task_status;"
    "CREATE INDEX task_status ON task(status, flow_task, owner_id, id);",
    /* 15: the NEW and ASSIGNED tasks in id order, with their names, so that
     * a page of all tasks of one of them reads its 51 newest entries (the
     * flow or a manager's flows tested in the index) instead of every
     * entry of the status in task_status, sorted.  That range costs a leaf
     * page per entry where most tasks finished at once and a few stayed
     * open: b-tree pages are freed only when they empty.  And statistics of
     * each task's flow (the lists' flow filters say split_part(flow_task,
     * '.', 1)): without them the planner guessed a flow's share of the
     * tasks at 0.5% and read the whole range to sort it (docs/architecture-pg.md).
     * A large table is analyzed now, for them; a small one is not: the
     * statement plans each connection then keeps would take it for empty
     * and read it whole (a new database's task reads by id became scans,
     * until autovacuum's first ANALYZE) */
    "CREATE INDEX IF NOT EXISTS task_open ON task(status, id) INCLUDE (flow_task)"
    " WHERE status IN ('NEW', 'ASSIGNED');"
    "CREATE STATISTICS IF NOT EXISTS task_flow_of ON (split_part(flow_task, '.', 1)) FROM task;"
    "DO $$ BEGIN IF (SELECT reltuples FROM pg_class WHERE oid = 'task'::regclass) >= 10000 THEN ANALYZE task;"
    " END IF; END $$;",
    /* 16: SQLite's 21, the tasks of people by creation time, for the
     * inbox, the queue and the archive with a date filter
     * (store_sql_pg.c's Q_LIST_*_DATE) */
    MIGRATION_CREATED_INDEX,
    /* 17: SQLite's 22, each user's finished tasks by node, for the archive
     * of one flow (store_sql_pg.c's Q_LIST_ARCHIVE_FLOW); the node in byte
     * order, which the flow's range of names ("flow." to "flow/") needs
     * whatever the database's collation */
    "CREATE INDEX IF NOT EXISTS task_owner_flow ON task(owner_id, flow_task COLLATE \"C\", id) WHERE "
    OWNED_FINISHED("") ";",
    /* 18: an action's version-checked process update refuses itself when
     * the row changed (store_sql_pg.c's Q_PROC_UPDATE_CHECKED), so that it
     * can go to the server with the rest of the write instead of waiting
     * for its count; FH409 is our own SQLSTATE, read as DB_STALE */
    "CREATE OR REPLACE FUNCTION flowhost_stale(pid BIGINT) RETURNS INTEGER LANGUAGE plpgsql AS $$ BEGIN"
    " RAISE EXCEPTION 'process % changed meanwhile', pid USING ERRCODE = 'FH409'; END $$;",
    /* 19: SQLite's 15, no trigger stamping a new process's flow version:
     * every insert of a process names its flow's current version itself
     * (store_sql_pg.c, CURRENT_VERSION), and no flowhost older than that
     * opens this schema (store_migrate_pg refuses a newer one).  The
     * PL/pgSQL trigger cost ~17 us of the server's CPU per process, of
     * ~230 us for an all-automatic process's three inserts (EXPLAIN
     * ANALYZE, bench/README.md section 42) */
    "DROP TRIGGER IF EXISTS process_flow_version ON process;"
    "DROP FUNCTION IF EXISTS process_flow_version();",
    /* 20: SQLite's 24, a process's tasks by status with their group, for
     * an action that leaves out the open instances of a running group
     * (store_sql_pg.c's LIVE_TASKS) and counts them (Q_TASK_GROUP_COUNT) */
    TASK_PROCESS_GROUP,
};
#define N_MIGRATIONS_PG ((int)(sizeof MIGRATIONS_PG / sizeof MIGRATIONS_PG[0]))

int store_schema_latest_pg(void) { return N_MIGRATIONS_PG; }

/* The version of the schema: 0 for an empty database, -1 on an error. */
int store_schema_version_pg(store *st) {
  dbs *s = NULL;
  int v = -1;
  if (dbs_prepare(st->cur->db, -1, "SELECT to_regclass('flowhost_schema') IS NOT NULL", &s) == DB_OK &&
      dbs_step(s) == DB_ROW)
    v = dbs_col_int(s, 0) ? -2 : 0;
  dbs_finalize(s);
  if (v != -2) return v;
  v = -1;
  if (dbs_prepare(st->cur->db, -1, "SELECT coalesce(max(version), 0) FROM flowhost_schema", &s) == DB_OK && dbs_step(s) == DB_ROW)
    v = dbs_col_int(s, 0);
  dbs_finalize(s);
  return v;
}

/* Applies the missing migrations and the version bump in one transaction;
 * the advisory lock (released by the COMMIT) makes concurrent hosts wait
 * for the first one, then find the schema current. */
int store_migrate_pg(store *st, fherr *err) {
  if (store_schema_version_pg(st) == N_MIGRATIONS_PG) return FH_OK;
  int rc = sq_exec(st, "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
                       " CREATE TABLE IF NOT EXISTS flowhost_schema(version INTEGER NOT NULL)", err);
  if (rc) {
    sq_exec(st, "ROLLBACK", NULL);
    return rc;
  }
  int version = store_schema_version_pg(st);
  if (version < 0 || version > N_MIGRATIONS_PG) {
    sq_exec(st, "ROLLBACK", NULL);
    return fherr_set(err, FH_INTERNAL, "database schema version %d is newer than this flowhost (%d)", version,
                     N_MIGRATIONS_PG);
  }
  for (int v = version; v < N_MIGRATIONS_PG && !rc; v++) rc = sq_exec(st, MIGRATIONS_PG[v], err);
  char bump[96];
  snprintf(bump, sizeof bump, "DELETE FROM flowhost_schema; INSERT INTO flowhost_schema VALUES(%d)", N_MIGRATIONS_PG);
  if (!rc) rc = sq_exec(st, bump, err);
  if (!rc) rc = sq_exec(st, "COMMIT", err);
  if (rc) sq_exec(st, "ROLLBACK", NULL);
  return rc;
}
