/* store_db — the statement shim: dispatch to SQLite (here, thin wrappers)
 * or PostgreSQL (store_pg.c).  See store_db.h.
 */
#include "store_db.h"

#include <pthread.h>

#include "fhtime.h"
#include "metrics_db.h"
#include "pqlib.h"
#include "store_walbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(DB_ROW == SQLITE_ROW && DB_DONE == SQLITE_DONE && DB_BUSY == SQLITE_BUSY &&
                   DB_LOCKED == SQLITE_LOCKED && DB_FULL == SQLITE_FULL && DB_CONSTRAINT == SQLITE_CONSTRAINT &&
                   DB_READONLY == SQLITE_READONLY && DB_ERROR == SQLITE_ERROR && DB_OK == SQLITE_OK,
               "DB_* codes are SQLite's");
_Static_assert(DB_INTEGER == SQLITE_INTEGER && DB_NULL == SQLITE_NULL && DB_TEXT == SQLITE_TEXT,
               "DB_* types are SQLite's");

_Static_assert((int)DB_KIND_SQLITE == (int)METRICS_DB_SQLITE && (int)DB_KIND_PG == (int)METRICS_DB_POSTGRESQL,
               "db_kind indexes the metrics' backends");

void dbc_count(dbc *c, unsigned statements, unsigned round_trips) {
  c->statements += statements;
  c->round_trips += round_trips;
  metrics_db_count((metrics_db_backend)c->kind, statements, round_trips);
}

db_kind db_kind_of(const char *url) {
  if (url && (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))) return DB_KIND_PG;
  return DB_KIND_SQLITE;
}

const char *db_sqlite_path(const char *url) {
  return url && !strncmp(url, "sqlite:", 7) ? url + 7 : url;
}

/* Process-wide SQLite settings, before SQLite initializes (they fail
 * quietly after, when something else opened a database first).  Memory
 * statistics off: with them SQLite takes a global mutex on every malloc and
 * free, a few percent of an automatic start's CPU; nothing reads them. */
static pthread_once_t lite_once = PTHREAD_ONCE_INIT;
static void lite_configure(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

void dbc_library_init(void) { pthread_once(&lite_once, lite_configure); }

int dbc_open(const char *url, dbc **out, char *msg, size_t cap) {
  dbc *c = calloc(1, sizeof *c);
  *out = c;
  if (!c) {
    snprintf(msg, cap, "out of memory");
    return DB_ERROR;
  }
  c->kind = db_kind_of(url);
  if (c->kind == DB_KIND_PG) {
    int rc = pg_open(c, url);
    if (rc) snprintf(msg, cap, "%s", c->msg);
    return rc;
  }
  dbc_library_init();
  int rc = sqlite3_open_v2(db_sqlite_path(url), &c->lite,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, walbuf_vfs_name());
  if (rc != SQLITE_OK) snprintf(msg, cap, "%s", c->lite ? sqlite3_errmsg(c->lite) : sqlite3_errstr(rc));
  return rc;
}

/* SQLite's own busy timeout adds up the sleeps it asks for, not the time
 * that passes: on a loaded machine every sleep lasts longer than asked,
 * and a write waited well past its 5 s for a lock another program held (a
 * test saw it succeed after 7 s).  This one reads the clock.  count is 0
 * at the first call of each wait (SQLite counts the calls per lock). */
static int busy_wait(void *arg, int count) {
  static const int sleep_ms[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  dbc *c = arg;
  double now = fhtime_monotonic();
  if (count == 0) c->busy_since = now;
  double left_ms = c->busy_ms - (now - c->busy_since) * 1e3;
  if (left_ms <= 0) return 0;
  int ms = count < (int)(sizeof sleep_ms / sizeof sleep_ms[0]) ? sleep_ms[count] : 100;
  if (ms > left_ms) ms = (int)left_ms + 1;
  sqlite3_sleep(ms);
  return 1;
}

int dbc_busy_wait(dbc *c, int ms) {
  int was = c->busy_ms;
  if (c->kind != DB_KIND_SQLITE) return was;
  c->busy_ms = ms > 0 ? ms : 0;
  sqlite3_busy_handler(c->lite, c->busy_ms ? busy_wait : NULL, c);
  return was;
}

void dbc_close(dbc *c) {
  if (!c) return;
  if (c->kind == DB_KIND_PG) pg_close(c);
  else sqlite3_close(c->lite);
  free(c);
}

int dbc_exec(dbc *c, const char *sql) {
  if (c->kind == DB_KIND_PG) return pg_exec(c, sql);
  char *m = NULL;
  dbc_count(c, 1, 0);
  int rc = sqlite3_exec(c->lite, sql, NULL, NULL, &m);
  snprintf(c->msg, sizeof c->msg, "%s", m ? m : rc ? sqlite3_errstr(rc) : "");
  sqlite3_free(m);
  return rc;
}

int64_t dbc_changes(dbc *c) { return c->kind == DB_KIND_PG ? c->changes : sqlite3_changes(c->lite); }

int64_t dbc_last_insert_id(dbc *c) {
  return c->kind == DB_KIND_PG ? c->last_id : sqlite3_last_insert_rowid(c->lite);
}

int dbc_autocommit(dbc *c) {
  if (c->kind == DB_KIND_PG) return !c->pg || (!c->begin_pending && pq.PQtransactionStatus(c->pg) == PQTRANS_IDLE);
  return sqlite3_get_autocommit(c->lite);
}

void dbc_end_session(dbc *c) {
  if (c->kind == DB_KIND_PG) pg_end_session(c);
}

int dbc_errcode(dbc *c) { return c->kind == DB_KIND_PG ? c->last_rc : sqlite3_errcode(c->lite); }

int dbc_unique_failed(dbc *c) {
  if (c->kind == DB_KIND_PG) return !strcmp(c->sqlstate, "23505");
  int x = sqlite3_extended_errcode(c->lite);
  return x == SQLITE_CONSTRAINT_UNIQUE || x == SQLITE_CONSTRAINT_PRIMARYKEY;
}

const char *dbc_errmsg(dbc *c) { return c->kind == DB_KIND_PG ? c->msg : sqlite3_errmsg(c->lite); }

int dbs_prepare(dbc *c, int q, const char *sql, dbs **out) {
  *out = NULL;
  dbs *s = calloc(1, sizeof *s);
  if (!s) return DB_ERROR;
  s->c = c;
  s->q = q;
  int rc;
  if (c->kind == DB_KIND_PG) {
    s->sql = q >= 0 ? strdup(sql) : pg_adhoc_text(sql);
    rc = s->sql ? pg_prepare(s) : DB_ERROR;
  } else {
    rc = q >= 0 ? sqlite3_prepare_v3(c->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->lite, NULL)
                : sqlite3_prepare_v2(c->lite, sql, -1, &s->lite, NULL);
  }
  if (rc) {
    dbs_finalize(s);
    return rc;
  }
  *out = s;
  return DB_OK;
}

void dbs_defer_ok(dbs *s) { s->deferrable = 1; }

int dbs_send(dbs *s) { return s->c->kind == DB_KIND_PG ? pg_send(s) : DB_OK; }

void dbs_finalize(dbs *s) {
  if (!s) return;
  if (s->c->kind == DB_KIND_PG) {
    pg_reset(s);
    dbs_clear_bindings(s);
    free(s->sql);
  } else {
    sqlite3_finalize(s->lite);
  }
  free(s);
}

void dbs_reset(dbs *s) {
  if (s->c->kind == DB_KIND_PG) pg_reset(s);
  else sqlite3_reset(s->lite);
}

void dbs_clear_bindings(dbs *s) {
  if (s->c->kind != DB_KIND_PG) {
    sqlite3_clear_bindings(s->lite);
    return;
  }
  for (int i = 0; i < DBS_MAXP; i++) {
    free(s->vals[i]);
    s->vals[i] = NULL;
  }
  s->nparams = 0;
}

/* Keeps a PostgreSQL parameter's text (NULL: SQL NULL). */
static void pg_set_param(dbs *s, int i, const char *v) {
  if (i < 1 || i > DBS_MAXP) return;
  free(s->vals[i - 1]);
  s->vals[i - 1] = v ? strdup(v) : NULL;
  if (i > s->nparams) s->nparams = i;
}

void dbs_bind_int64(dbs *s, int i, int64_t v) {
  if (s->c->kind != DB_KIND_PG) {
    sqlite3_bind_int64(s->lite, i, v);
    return;
  }
  char buf[24];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  pg_set_param(s, i, buf);
}

void dbs_bind_int(dbs *s, int i, int v) { dbs_bind_int64(s, i, v); }

void dbs_bind_text(dbs *s, int i, const char *v) {
  if (s->c->kind == DB_KIND_PG) pg_set_param(s, i, v);
  else if (v) sqlite3_bind_text(s->lite, i, v, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(s->lite, i);
}

void dbs_bind_text_static(dbs *s, int i, const char *v) {
  if (s->c->kind == DB_KIND_PG) pg_set_param(s, i, v);
  else if (v) sqlite3_bind_text(s->lite, i, v, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s->lite, i);
}

void dbs_bind_textn(dbs *s, int i, const char *v, int len) {
  if (s->c->kind != DB_KIND_PG) {
    sqlite3_bind_text(s->lite, i, v, len, SQLITE_TRANSIENT);
    return;
  }
  char *copy = strndup(v, (size_t)len);
  pg_set_param(s, i, copy);
  free(copy);
}

void dbs_bind_null(dbs *s, int i) {
  if (s->c->kind == DB_KIND_PG) pg_set_param(s, i, NULL);
  else sqlite3_bind_null(s->lite, i);
}

void dbs_bind_double(dbs *s, int i, double v) {
  if (s->c->kind != DB_KIND_PG) {
    sqlite3_bind_double(s->lite, i, v);
    return;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%.17g", v);
  pg_set_param(s, i, buf);
}

int dbs_step(dbs *s) {
  if (s->c->kind == DB_KIND_PG) return pg_step(s);
  /* a statement not busy (never stepped, reset, or run to its end) starts
   * a new execution: that step is the one counted */
  if (!sqlite3_stmt_busy(s->lite)) dbc_count(s->c, 1, 0);
  return sqlite3_step(s->lite);
}

/* The text of a PostgreSQL column of the current row, NULL for SQL NULL. */
static const char *pg_value(dbs *s, int col) {
  if (!s->res || s->row >= s->nrows || col >= pq.PQnfields(s->res) || pq.PQgetisnull(s->res, s->row, col)) return NULL;
  return pq.PQgetvalue(s->res, s->row, col);
}

int64_t dbs_col_int64(dbs *s, int col) {
  if (s->c->kind != DB_KIND_PG) return sqlite3_column_int64(s->lite, col);
  const char *v = pg_value(s, col);
  if (!v) return 0;
  if (v[0] == 't' && !v[1]) return 1;   /* a boolean, read as SQLite's 1/0 */
  if (v[0] == 'f' && !v[1]) return 0;
  return strtoll(v, NULL, 10);
}

int dbs_col_int(dbs *s, int col) { return (int)dbs_col_int64(s, col); }

const char *dbs_col_text(dbs *s, int col) {
  if (s->c->kind != DB_KIND_PG) return (const char *)sqlite3_column_text(s->lite, col);
  return pg_value(s, col);
}

int dbs_col_type(dbs *s, int col) {
  if (s->c->kind != DB_KIND_PG) return sqlite3_column_type(s->lite, col);
  return pg_value(s, col) ? pg_col_type(s, col) : DB_NULL;
}

int dbs_col_count(dbs *s) {
  if (s->c->kind != DB_KIND_PG) return sqlite3_column_count(s->lite);
  return s->res ? pq.PQnfields(s->res) : 0;
}

const char *dbs_col_name(dbs *s, int col) {
  if (s->c->kind != DB_KIND_PG) return sqlite3_column_name(s->lite, col);
  return s->res ? pq.PQfname(s->res, col) : "";
}
