/* store_hosts — SQL of the flow_host table (see store_hosts.h).  The
 * statements are prepared per call (a reload, a heartbeat every few
 * seconds, a flow list): none is per action.  They are written in what
 * SQLite and PostgreSQL both read (an upsert with excluded.*); the shim
 * turns ?N into $N. */
#include "store_hosts.h"

#include "fhtime.h"
#include "store_internal.h"

/* Rows of hosts silent this long are deleted at the next record. */
#define FORGET_AFTER_SECONDS 86400

#define WHAT "flow hosts"   /* names this unit in its storage errors */

static dbs *prep(store *st, const char *sql, fherr *err) { return sq_prepare_once(st, sql, WHAT, err); }
static int run_once(store *st, dbs *s, fherr *err) { return sq_run_once(st, s, WHAT, err); }

static int upsert(store *st, const char *host, const char *flow, const char *hash, const char *now, fherr *err) {
  /* since moves only when the hash does (NULL to NULL is no change) */
  dbs *s = prep(st,
                "INSERT INTO flow_host(host, flow, hash, since, seen_at) VALUES(?1, ?2, ?3, ?4, ?4)"
                " ON CONFLICT(host, flow) DO UPDATE SET since = CASE WHEN flow_host.hash IS NOT DISTINCT FROM"
                " excluded.hash THEN flow_host.since ELSE excluded.since END, hash = excluded.hash,"
                " seen_at = excluded.seen_at",
                err);
  if (s) {
    dbs_bind_text(s, 1, host);
    dbs_bind_text(s, 2, flow);
    sq_bind_text_or_null(s, 3, hash);
    dbs_bind_text(s, 4, now);
  }
  return run_once(st, s, err);
}

/* The rows the record did not touch (older seen_at) are flows gone from
 * the host; rows of hosts long silent go too. */
static int drop_old(store *st, const char *host, const char *now, fherr *err) {
  dbs *s = prep(st, "DELETE FROM flow_host WHERE host = ?1 AND seen_at <> ?2", err);
  if (s) {
    dbs_bind_text(s, 1, host);
    dbs_bind_text(s, 2, now);
  }
  int rc = run_once(st, s, err);
  char long_ago[FH_TIME_LEN];
  fhtime_format(fhtime_parse(now) - FORGET_AFTER_SECONDS, long_ago);
  if (!rc && (s = prep(st, "DELETE FROM flow_host WHERE seen_at < ?1", err))) dbs_bind_text(s, 1, long_ago);
  return rc ? rc : run_once(st, s, err);
}

int store_hosts_record(store *st, const char *host, const char *const *flows, const char *const *hashes, int n,
                       const char *now, fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  for (int i = 0; i < n && !rc; i++) rc = upsert(st, host, flows[i], hashes[i], now, err);
  if (!rc) rc = drop_old(st, host, now, err);
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

/* One statement (text sql, the host as ?1, now as ?2 when given) in a
 * short transaction of its own.  Prepared after the BEGIN: on SQLite the
 * write runs on the group-commit writer's connection, not the store's own. */
static int write_one(store *st, const char *sql, const char *host, const char *now, fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *s = prep(st, sql, err);
  if (s) {
    dbs_bind_text(s, 1, host);
    if (now) dbs_bind_text(s, 2, now);
  }
  if ((rc = run_once(st, s, err))) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

int store_hosts_beat(store *st, const char *host, const char *now, fherr *err) {
  return write_one(st, "UPDATE flow_host SET seen_at = ?2 WHERE host = ?1", host, now, err);
}

int store_hosts_last_seen(store *st, const char *host, char out[FH_TIME_LEN], fherr *err) {
  out[0] = '\0';
  dbs *s = prep(st, "SELECT max(seen_at) FROM flow_host WHERE host = ?1", err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, host);
  int rc = dbs_step(s);
  const char *v = rc == DB_ROW ? dbs_col_text(s, 0) : NULL;
  if (v) snprintf(out, FH_TIME_LEN, "%s", v);
  dbs_finalize(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, WHAT);
}

int store_hosts_forget(store *st, const char *host, fherr *err) {
  return write_one(st, "DELETE FROM flow_host WHERE host = ?1", host, NULL, err);
}

static json_t *text_or_null(dbs *s, int col) {
  const char *v = dbs_col_text(s, col);
  return v ? json_string(v) : json_null();
}

int store_hosts_list(store *st, const char *seen_after, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = sq_prep(st, Q_HOSTS_SEEN, err);   /* (prepared once: every GET /api/flows reads it) */
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, seen_after);
  json_t *all = json_object();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    const char *flow = dbs_col_text(s, 0);
    json_t *list = json_object_get(all, flow);
    if (!list) json_object_set_new(all, flow, list = json_array());
    json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o}", "name", text_or_null(s, 1), "hash",
                                          text_or_null(s, 2), "since", text_or_null(s, 3), "seen_at",
                                          text_or_null(s, 4)));
  }
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(all);
    return sq_fail(st, err, rc, "flow hosts");
  }
  *out = all;
  return FH_OK;
}
