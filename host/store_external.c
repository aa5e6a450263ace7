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

/* A candidate with the due_at it is ordered by. */
typedef struct candidate {
  st_external x;
  char due_at[FH_TIME_LEN];
} candidate;

/* Up to max free, due tasks of one topic, oldest first, appended to c[*n]
 * (room for max more).  The SELECT is reset before any row is updated. */
static int topic_candidates(store *st, const char *topic, const char *nodes, int max, const char *now, candidate *c,
                            int *n, fherr *err) {
  dbs *s = sq_prep(st, Q_EXT_FETCH, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, topic);
  dbs_bind_text(s, 2, now);
  dbs_bind_int(s, 3, max);
  dbs_bind_text(s, 4, nodes);
  int rc, got = 0;
  while (got < max && (rc = dbs_step(s)) == DB_ROW) {
    candidate *k = &c[(*n)++];
    got++;
    k->x.id = dbs_col_int64(s, 0);
    k->x.process_id = dbs_col_int64(s, 1);
    sq_copy_col(k->x.flow_task, sizeof k->x.flow_task, s, 2);
    sq_copy_col(k->x.topic, sizeof k->x.topic, s, 3);
    k->x.attempts = dbs_col_int(s, 4);
    sq_copy_col(k->due_at, sizeof k->due_at, s, 5);
    k->x.expired = dbs_col_int(s, 6);
  }
  if (got == max) rc = DB_DONE;
  sq_done(s);
  if (rc != DB_DONE) return sq_fail(st, err, rc, "fetch external tasks");
  return FH_OK;
}

static int by_due(const void *a, const void *b) {
  const candidate *x = a, *y = b;
  int c = strcmp(x->due_at, y->due_at);
  return c ? c : (x->x.id > y->x.id) - (x->x.id < y->x.id);
}

/* The oldest max of every topic's oldest max: one walk of the index per
 * topic, never a sort of every task waiting. */
static int select_candidates(store *st, const json_t *topics, const json_t *nodes, int max, const char *now,
                             st_external *rows, int *n, fherr *err) {
  size_t count = json_array_size(topics);
  candidate *c = count ? calloc(count * (size_t)max, sizeof *c) : NULL;
  char *node_list = json_dumps(nodes, JSON_COMPACT);
  int found = 0, rc = FH_OK;
  if ((count && !c) || !node_list) rc = fherr_set(err, FH_INTERNAL, "out of memory");
  for (size_t i = 0; !rc && i < count; i++) {
    const char *topic = json_string_value(json_array_get(topics, i));
    if (topic) rc = topic_candidates(st, topic, node_list, max, now, c, &found, err);
  }
  if (!rc) {
    qsort(c, (size_t)found, sizeof *c, by_due);
    *n = 0;
    for (int i = 0; i < found && *n < max; i++)   /* a topic asked twice finds its tasks twice */
      if (!i || c[i].x.id != c[i - 1].x.id) rows[(*n)++] = c[i].x;
  }
  free(c);
  free(node_list);
  return rc;
}

/* The lease, and a new version of the process: an action that read the
 * process before the fetch starts over instead of writing the task back
 * without its lease. */
static int lease_one(store *st, int64_t id, const char *owner, const char *until, fherr *err) {
  dbs *u = sq_prep(st, Q_EXT_LOCK, err);
  if (!u) return FH_INTERNAL;
  dbs_bind_int64(u, 1, id);
  dbs_bind_text(u, 2, owner);
  dbs_bind_text(u, 3, until);
  int rc = sq_run(st, u, err, "lease external task");
  if (rc) return rc;
  dbs *b = sq_prep(st, Q_PROC_BUMP, err);
  if (!b) return FH_INTERNAL;
  dbs_bind_int64(b, 1, id);
  return sq_run(st, b, err, "lease external task");
}

int store_external_fetch(store *st, const json_t *topics, const json_t *nodes, int max, const char *now,
                         const char *owner, const char *until, st_external **rows, int *n, fherr *err) {
  *rows = NULL;
  *n = 0;
  if (max <= 0) return FH_OK;
  st_external *got = calloc((size_t)max, sizeof *got);
  if (!got) return fherr_set(err, FH_INTERNAL, "out of memory");
  int count = 0;
  int rc = store_begin(st, err);
  if (!rc) {
    rc = select_candidates(st, topics, nodes, max, now, got, &count, err);
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
  dbs *u = sq_prep(st, Q_EXT_EXTEND, err);
  int changed = 0;
  if (!u) rc = FH_INTERNAL;
  else {
    dbs_bind_int64(u, 1, id);
    dbs_bind_text(u, 2, owner);
    dbs_bind_text(u, 3, until);
    dbs_bind_text(u, 4, now);
    rc = sq_run(st, u, err, "extend external lease");
    if (!rc) changed = dbc_changes(st->cur->db);
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
  dbs *s = sq_prep(st, Q_EXT_EXPIRIES, err);
  if (!s) return sq_prep_failed(err);
  return sq_count(st, s, n, err);
}
