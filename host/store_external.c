/* store_external — the SQL of external tasks: fetch-and-lock for workers
 * outside the host, lease extension, the count of expired leases.
 *
 * An external task is an ordinary task row (type 'external', its topic in
 * event_name) that stays SCHEDULED until a worker fetches it; the job
 * workers' claims skip it (store.c).  Each call is a short write of its
 * own on the group-commit writer, so two workers fetching at once are
 * serialized by the writer and never lease the same row.
 */
#include "store_internal.h"

/* Reads the candidates first and then leases them: the SELECT must be
 * reset before its rows are updated on the same connection. */
static int select_candidates(store *st, const char *topics_json, int max, const char *now, st_external *rows,
                             int *n, fherr *err) {
  sqlite3_stmt *s = sq_prep(st, Q_EXT_FETCH, err);
  if (!s) return FH_INTERNAL;
  sqlite3_bind_text(s, 1, topics_json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 3, max);
  int rc;
  *n = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
    st_external *x = &rows[(*n)++];
    x->id = sqlite3_column_int64(s, 0);
    x->process_id = sqlite3_column_int64(s, 1);
    sq_copy_col(x->flow_task, sizeof x->flow_task, s, 2);
    sq_copy_col(x->topic, sizeof x->topic, s, 3);
    x->attempts = sqlite3_column_int(s, 4);
  }
  sq_done(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_fail(st, err, rc, "fetch external tasks");
  return FH_OK;
}

/* The lease, and a new version of the process: an action that read the
 * process before the fetch starts over instead of writing the task back
 * without its lease. */
static int lease_one(store *st, int64_t id, const char *owner, const char *until, fherr *err) {
  sqlite3_stmt *u = sq_prep(st, Q_EXT_LOCK, err);
  if (!u) return FH_INTERNAL;
  sqlite3_bind_int64(u, 1, id);
  sqlite3_bind_text(u, 2, owner, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(u, 3, until, -1, SQLITE_TRANSIENT);
  int rc = sq_run(st, u, err, "lease external task");
  if (rc) return rc;
  sqlite3_stmt *b = sq_prep(st, Q_PROC_BUMP, err);
  if (!b) return FH_INTERNAL;
  sqlite3_bind_int64(b, 1, id);
  return sq_run(st, b, err, "lease external task");
}

int store_external_fetch(store *st, const char *topics_json, int max, const char *now, const char *owner,
                         const char *until, st_external **rows, int *n, fherr *err) {
  *rows = NULL;
  *n = 0;
  if (max <= 0) return FH_OK;
  st_external *got = calloc((size_t)max, sizeof *got);
  if (!got) return fherr_set(err, FH_INTERNAL, "out of memory");
  int count = 0;
  int rc = store_begin(st, err);
  if (!rc) {
    rc = select_candidates(st, topics_json, max, now, got, &count, err);
    for (int i = 0; !rc && i < count; i++) rc = lease_one(st, got[i].id, owner, until, err);
    if (rc) store_rollback(st);
    else rc = store_commit(st, err);
  }
  if (rc) {
    free(got);
    return rc;
  }
  *rows = got;
  *n = count;
  return FH_OK;
}

int store_external_extend(store *st, int64_t id, const char *owner, const char *now, const char *until,
                          fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  sqlite3_stmt *u = sq_prep(st, Q_EXT_EXTEND, err);
  int changed = 0;
  if (!u) rc = FH_INTERNAL;
  else {
    sqlite3_bind_int64(u, 1, id);
    sqlite3_bind_text(u, 2, owner, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(u, 3, until, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(u, 4, now, -1, SQLITE_TRANSIENT);
    rc = sq_run(st, u, err, "extend external lease");
    if (!rc) changed = sqlite3_changes(st->cur->db);
  }
  if (rc) {
    store_rollback(st);
    return rc;
  }
  if ((rc = store_commit(st, err))) return rc;
  return changed ? FH_OK : fherr_set(err, FH_CONFLICT, "task %lld: worker '%s' holds no live lease on it",
                                     (long long)id, owner);
}

int store_external_lease_expiries(store *st, int64_t *n, fherr *err) {
  sqlite3_stmt *s = sq_prep(st, Q_EXT_EXPIRIES, err);
  if (!s) return FH_INTERNAL;
  return sq_count(st, s, n, err);
}
