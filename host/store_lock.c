/* store_lock — the process lock across hosts.
 *
 * On PostgreSQL, `lock = "process"` must keep two hosts from computing an
 * action on the same process at once (engine_act_on_process), not only two
 * threads of one host (engine_lock.c).  The lock is a session advisory lock
 * keyed by the process id: taken before the action reads the process, held
 * while it computes (callbacks included) and writes, released after the
 * commit.  It lives outside any transaction, so the write transaction stays
 * short; a wait for it is bounded by the connection's lock_timeout (503
 * busy); a host that dies loses its session and with it its locks.  Actions
 * on other processes never wait for it.  SQLite needs none of this: one
 * database file is served by one host, and other programs on the same file
 * are kept apart by the write's version check.
 *
 * The bigint key space of pg_advisory_lock belongs to process ids; the
 * schema migration locks a pair of int4 keys, which never conflicts.
 *
 * Round trips: a task action's look-up of its process takes the lock on
 * the way (store_task_process_lock), the process and its tasks are read in
 * the same round trip (sent behind the look-up, so the server reads them
 * once it has tried the lock; kept for store_process_load_live only if the lock
 * was got, and dropped by any later lock or unlock), so is a block of task
 * ids for an action that usually makes tasks (an execute), and the action's COMMIT carries the
 * release (store_lock_commit: the COMMIT sent ahead, the unlock waiting
 * behind it, one round trip).  If the commit fails, PostgreSQL skips the
 * unlock and the lock stays with its holder, who releases it as before.
 */
#include "store_internal.h"

#include "fhlog.h"

static int shared(store *st) { return st->own.db && st->own.db->kind == DB_KIND_PG; }

int store_process_lock(store *st, int64_t process_id, int *held, fherr *err) {
  *held = 0;
  if (!shared(st)) return FH_OK;
  sq_drop_preload(st);
  sq_drop_ids_pg(st);   /* the action's ids come after its lock */
  dbs *s = sq_prep(st, Q_PROC_LOCK, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, process_id);
  int rc = dbs_step(s);
  dbs_reset(s);
  if (rc != DB_ROW) return sq_fail(st, err, rc, "lock process");
  *held = 1;
  return FH_OK;
}

int store_task_process_lock(store *st, int64_t task_id, int want_ids, int64_t *process_id, int *held, fherr *err) {
  *held = 0;
  if (!shared(st)) return store_task_process(st, task_id, process_id, err);
  sq_drop_preload(st);
  sq_drop_ids_pg(st);   /* the action's ids come after its lock */
  dbs *s = sq_prep(st, Q_TASK_PROCESS_LOCK, err);
  dbs *ps = s ? sq_prep(st, Q_PROC_GET_BY_TASK, err) : NULL;
  dbs *ts = ps ? sq_prep(st, Q_TASK_LIVE_OF_PROCESS_BY_TASK, err) : NULL;
  dbs *qs = ts && want_ids ? sq_prep(st, Q_MAX_TASK, err) : NULL;
  if (!ts || (want_ids && !qs)) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, task_id);
  dbs_bind_int64(ps, 1, task_id);
  dbs_bind_int64(ts, 1, task_id);
  /* the look-up with the lock first, then the reads and the ids: one round
   * trip (a failed send leaves a statement to its step, the reads to the
   * load, the ids to the first task id) */
  int ahead = dbs_send(s) == DB_OK && dbs_send(ps) == DB_OK && dbs_send(ts) == DB_OK;
  int ids_ahead = ahead && qs && dbs_send(qs) == DB_OK;
  int rc = dbs_step(s);
  if (rc == DB_ROW) {
    *process_id = dbs_col_int64(s, 0);
    *held = dbs_col_int(s, 1) != 0;
  }
  dbs_reset(s);
  if (rc == DB_ROW && *held && ahead && st->cur == &st->own) {
    st->preload_pid = *process_id;   /* read under the lock: store_process_load_live takes it */
    st->preload_ids = ids_ahead;     /* taken after it: the action's first task id takes them */
  } else {
    dbs_reset(ps);   /* read without it (or not at all): dropped */
    dbs_reset(ts);
    if (qs) dbs_reset(qs);
  }
  if (rc == DB_ROW) return FH_OK;
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
  return sq_fail(st, err, rc, "get task");
}

/* A lock we could not release (an aborted transaction, a lost connection)
 * would block the process on every host until this connection closed: end
 * the session instead, which releases it. */
static void release_by_reconnecting(store *st, int64_t process_id) {
  fhlog(FHLOG_WARN, "process %lld: could not release its lock; reconnecting", (long long)process_id);
  dbc_end_session(st->own.db);
}

void store_unlock_at_commit(store *st, int64_t process_id, int *held) {
  st->unlock_pid = shared(st) && held && *held ? process_id : 0;
  st->unlock_held = st->unlock_pid ? held : NULL;
}

int store_lock_commit(store *st, fherr *err) {
  sq_drop_preload(st);
  int64_t pid = st->unlock_pid;
  int *held = st->unlock_held;
  st->unlock_pid = 0;
  st->unlock_held = NULL;
  dbs *c = sq_prep(st, Q_COMMIT_AHEAD, err), *u = c ? sq_prep(st, Q_PROC_UNLOCK, err) : NULL;
  if (!u) return FH_INTERNAL;
  int rc = dbs_step(c);   /* sent ahead: its answer comes with the unlock's */
  dbs_reset(c);
  if (rc != DB_DONE) return sq_fail(st, err, rc, "commit");
  dbs_bind_int64(u, 1, pid);
  rc = dbs_step(u);
  dbs_reset(u);
  if (rc == DB_ROW) {   /* both done */
    *held = 0;
    return FH_OK;
  }
  if (st->cur->db->failed_ahead || st->cur->db->lost) return sq_fail(st, err, rc, "commit");
  release_by_reconnecting(st, pid);   /* committed, but the release failed */
  *held = 0;
  return FH_OK;
}

void store_process_unlock(store *st, int64_t process_id, int *held) {
  sq_drop_preload(st);
  if (!*held) return;
  *held = 0;
  fherr err = {0};
  dbs *s = sq_prep(st, Q_PROC_UNLOCK, &err);
  int rc = DB_ERROR;
  if (s) {
    dbs_bind_int64(s, 1, process_id);
    rc = dbs_step(s);
    dbs_reset(s);
  }
  fherr_clear(&err);
  if (rc != DB_ROW) release_by_reconnecting(st, process_id);
}
