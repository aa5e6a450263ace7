/* store_metrics — the database side of GET /metrics (store_metrics.h).
 *
 * The statements are prepared per call rather than kept in the statement
 * cache of store.c: a scrape comes every few seconds at most, and keeping
 * them out of the shared enum keeps this feature in its own file. */
#include "store_internal.h"
#include "store_metrics.h"

/* GROUP BY follows the index's column order: SQLite walks task_status
 * (status, flow_task, owner_id) alone, never the table ("USING COVERING
 * INDEX"); checked by tests/c/test_metrics.c. */
const char STORE_ACTIVE_COUNTS_SQL[] =
    "SELECT status, flow_task, count(*) FROM task"
    " WHERE status IN ('NEW', 'ASSIGNED', 'STARTED', 'SCHEDULED', 'ERROR') AND " TASK_UNFINISHED("")
    " GROUP BY status, flow_task";
/* task_due is a partial index (due_at) WHERE status = 'SCHEDULED': named,
 * because the planner would otherwise pick task_status and read every
 * scheduled row, future timers included.  It searches the due range only;
 * SQLite still reads each due row (for the status the index implies), so
 * the cost follows the backlog of due jobs, not the number of processes.
 * (A SCHEDULED task always has a due_at: the claim's coalesce is a guard.) */
const char STORE_DUE_COUNT_SQL[] =
    "SELECT count(*) FROM task INDEXED BY task_due WHERE status = 'SCHEDULED' AND due_at <= ?1";

/* PostgreSQL has no INDEXED BY (its planner has statistics). */
static const char DUE_COUNT_SQL_PG[] = "SELECT count(*) FROM task WHERE status = 'SCHEDULED' AND due_at <= $1";

int store_active_task_counts(store *st, store_count_fn fn, void *arg, fherr *err) {
  dbs *s = NULL;
  int rc = dbs_prepare(st->cur->db, -1, STORE_ACTIVE_COUNTS_SQL, &s);
  if (rc != DB_OK) return sq_fail(st, err, rc, "count tasks");
  while ((rc = dbs_step(s)) == DB_ROW) {
    const char *status = (const char *)dbs_col_text(s, 0);
    const char *flow_task = (const char *)dbs_col_text(s, 1);
    fn(arg, flow_task ? flow_task : "", status ? status : "", dbs_col_int64(s, 2));
  }
  dbs_finalize(s);
  return rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "count tasks");
}

int store_due_job_count(store *st, const char *now, int64_t *n, fherr *err) {
  *n = 0;
  dbs *s = NULL;
  int rc = dbs_prepare(st->cur->db, -1, st->cur->db->kind == DB_KIND_PG ? DUE_COUNT_SQL_PG : STORE_DUE_COUNT_SQL, &s);
  if (rc != DB_OK) return sq_fail(st, err, rc, "count due jobs");
  dbs_bind_text(s, 1, now);
  rc = dbs_step(s);
  if (rc == DB_ROW) *n = dbs_col_int64(s, 0);
  dbs_finalize(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "count due jobs");
}
