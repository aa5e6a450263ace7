/* store_upkeep — PostgreSQL's partial indexes of open work rebuilt when
 * bloated (see store_upkeep.h). */
#include "store_upkeep.h"

#include <stdio.h>
#include <string.h>

#include "store_db.h"
#include "store_internal.h"

/* The advisory lock of the upkeep: store_schema_pg.c's pair of keys with
 * 2 (the migrations' is 1), so that one host rebuilds at a time. */
#define UPKEEP_LOCK "1718382455, 2"

/* The partial indexes of task and process, valid (i) or not, with their
 * pages and entries (c) */
#define PARTIAL_INDEXES                                                                                    \
  " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid IN ('task'::regclass,"         \
  " 'process'::regclass) AND i.indpred IS NOT NULL "

static const char *const LEFTOVERS_SQL =
    "SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I', c.relname)" PARTIAL_INDEXES
    "AND NOT i.indisvalid AND c.relname LIKE '%\\_ccnew%'";

static const char *const BLOATED_SQL =
    "SELECT c.relname, c.relpages, c.reltuples::bigint" PARTIAL_INDEXES "AND i.indisvalid AND c.reltuples >= 0"
    " AND c.relpages >= " SQ_STR(STORE_BLOAT_MIN_PAGES) " AND c.relpages > " SQ_STR(STORE_BLOAT_FACTOR)
    " * (c.reltuples / " SQ_STR(STORE_ENTRIES_PER_PAGE) " + 1) ORDER BY c.relpages DESC";

/* One number from sql (its first column of its first row) into *v. */
static int one_number(store *st, const char *sql, long long *v, fherr *err) {
  dbs *s = sq_prepare_once(st, sql, "index upkeep", err);
  if (!s) return err->code ? err->code : FH_INTERNAL;
  int rc = dbs_step(s);
  if (rc == DB_ROW) *v = dbs_col_int64(s, 0);
  dbs_finalize(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "index upkeep");
}

/* Runs each statement sql's rows name (its first column). */
static int run_named(store *st, const char *sql, fherr *err) {
  dbs *s = sq_prepare_once(st, sql, "index upkeep", err);
  if (!s) return err->code ? err->code : FH_INTERNAL;
  char stmt[256];
  int rc = DB_DONE, failed = 0;
  while (!failed && (rc = dbs_step(s)) == DB_ROW) {
    snprintf(stmt, sizeof stmt, "%s", dbs_col_text(s, 0));
    failed = sq_exec(st, stmt, err);
  }
  dbs_finalize(s);
  if (failed) return failed;
  return rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "index upkeep");
}

/* The bloated indexes, up to cap, into out. */
static int find_bloated(store *st, store_index_rebuild *out, int cap, int *n, fherr *err) {
  dbs *s = sq_prepare_once(st, BLOATED_SQL, "index upkeep", err);
  if (!s) return err->code ? err->code : FH_INTERNAL;
  int rc = DB_DONE;
  while (*n < cap && (rc = dbs_step(s)) == DB_ROW) {
    store_index_rebuild *r = &out[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->index, sizeof r->index, "%s", dbs_col_text(s, 0));
    r->pages_before = dbs_col_int64(s, 1);
    r->entries = dbs_col_int64(s, 2);
  }
  if (*n == cap) rc = DB_DONE;
  dbs_finalize(s);
  return rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "index upkeep");
}

/* REINDEX CONCURRENTLY of r, and its pages after.  The name comes from the
 * catalog, of our tables: a plain identifier, quoted all the same. */
static int rebuild(store *st, store_index_rebuild *r, fherr *err) {
  char sql[256];
  snprintf(sql, sizeof sql, "REINDEX INDEX CONCURRENTLY \"%s\"", r->index);
  int rc = sq_exec(st, sql, err);
  snprintf(sql, sizeof sql, "SELECT relpages FROM pg_class WHERE oid = '\"%s\"'::regclass", r->index);
  return rc ? rc : one_number(st, sql, &r->pages_after, err);
}

int store_index_upkeep(store *st, store_index_rebuild *out, int cap, int *n, fherr *err) {
  *n = 0;
  if (st->cur->db->kind != DB_KIND_PG) return FH_OK;
  long long mine = 0;
  int rc = one_number(st, "SELECT CASE WHEN pg_try_advisory_lock(" UPKEEP_LOCK ") THEN 1 ELSE 0 END", &mine, err);
  if (rc || !mine) return rc;
  rc = run_named(st, LEFTOVERS_SQL, err);
  int found = 0;
  if (!rc) rc = find_bloated(st, out, cap, &found, err);
  for (int i = 0; !rc && i < found; i++) {
    rc = rebuild(st, &out[i], err);
    if (!rc) (*n)++;
  }
  long long ignored;
  fherr unlock_err = {0};
  one_number(st, "SELECT CASE WHEN pg_advisory_unlock(" UPKEEP_LOCK ") THEN 1 ELSE 0 END", &ignored, &unlock_err);
  fherr_clear(&unlock_err);
  return rc;
}
