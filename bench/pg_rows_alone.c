/* pg_rows_alone — pg_engine_bench's floor: one automatic process's rows
 * written again by one statement per process (see pg_rows_alone.h). */
#include "pg_rows_alone.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "rows_alone.h"

#define MAX_CONNS 8
#define COPY_IDS PG_ROWS_COPY_IDS
/* Room for the statement (~3 KB for a process of four tasks). */
#define SQL_CAP (64 * 1024)

/* Copies started so far by every floor of the program: each copy's number,
 * from which its ids are made, is its own. */
static atomic_long copies_next;

typedef struct param {
  char *sample;   /* the sample's value as text; NULL: SQL NULL */
  rows_col_kind kind;
  int row;        /* the row of its table it belongs to */
} param;

typedef struct conn_target {
  struct pg_rows_alone *r;
  PGconn *c;
  char (*text)[24];    /* a copy's ids as text (nparams), made once: not in the timed loop */
  const char **vals;   /* the values of its statement (nparams) */
} conn_target;

struct pg_rows_alone {
  int conns, nparams, rows[ROWS__TABLES];
  conn_target target[MAX_CONNS];
  param *params;
  long long first_task;   /* the sample's first task id: links are mapped from it */
  long written;           /* copies this floor wrote */
  double seconds;
  char failure[200];      /* the first failed statement's message; set once */
  atomic_int failed;
};

/* One table's sample rows: their values appended to r->params and the
 * table's "INSERT INTO t(cols) VALUES (...), ..." appended to sql. */
static int copy_table(pg_rows_alone *r, PGconn *c, int table, long long pid, bench_text *sql, char *msg,
                      size_t mcap) {
  static const char *const sample_sql[ROWS__TABLES] = {
      "SELECT * FROM process WHERE id = $1",
      "SELECT * FROM task WHERE process_id = $1 ORDER BY id",
      "SELECT * FROM data_audit WHERE process_id = $1 ORDER BY id",
  };
  char id[24];
  snprintf(id, sizeof id, "%lld", pid);
  const char *vals[1] = {id};
  PGresult *res = PQexecParams(c, sample_sql[table], 1, NULL, vals, NULL, NULL, 0);
  int rows = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0, cols = PQnfields(res);
  if (rows == 0) {
    snprintf(msg, mcap, "process %lld of the sample has no %s rows: %s", pid, rows_table_name[table],
             PQresultErrorMessage(res));
    PQclear(res);
    return -1;
  }
  param *grown = realloc(r->params, sizeof *grown * (size_t)(r->nparams + rows * cols));
  if (!grown) {
    PQclear(res);
    return snprintf(msg, mcap, "out of memory"), -1;
  }
  r->params = grown;
  r->rows[table] = rows;
  bench_text_add(sql, "%s%c AS (INSERT INTO %s(", table ? ", " : "WITH ", 'a' + table, rows_table_name[table]);
  for (int k = 0; k < cols; k++) bench_text_add(sql, "%s\"%s\"", k ? ", " : "", PQfname(res, k));
  bench_text_add(sql, ") VALUES ");
  for (int i = 0; i < rows; i++) {
    bench_text_add(sql, "%s(", i ? ", " : "");
    for (int k = 0; k < cols; k++) {
      param *p = &r->params[r->nparams++];
      p->sample = PQgetisnull(res, i, k) ? NULL : strdup(PQgetvalue(res, i, k));
      if (!p->sample && !PQgetisnull(res, i, k)) sql->full = 1;   /* out of memory: given up as too long */
      p->kind = rows_column_kind(table, PQfname(res, k));
      p->row = i;
      if (table == ROWS_TASK && p->kind == ROWS_TASK_ID && i == 0) r->first_task = atoll(p->sample);
      bench_text_add(sql, "%s$%d", k ? ", " : "", r->nparams);
    }
    bench_text_add(sql, ")");
  }
  bench_text_add(sql, ")");
  PQclear(res);
  return sql->full ? (snprintf(msg, mcap, "the statement is too long (or out of memory)"), -1) : 0;
}

pg_rows_alone *pg_rows_alone_open(const char *url, int conns, char *msg, size_t cap) {
  msg[0] = '\0';
  pg_rows_alone *r = calloc(1, sizeof *r);
  bench_text sql = {.s = calloc(1, SQL_CAP), .cap = SQL_CAP};
  if (!r || !sql.s) {
    free(r);
    free(sql.s);
    return snprintf(msg, cap, "out of memory"), NULL;
  }
  r->conns = conns < 1 ? 1 : conns > MAX_CONNS ? MAX_CONNS : conns;
  int ok = 1;
  for (int i = 0; ok && i < r->conns; i++) {
    r->target[i] = (conn_target){.r = r, .c = PQconnectdb(url)};
    if (PQstatus(r->target[i].c) != CONNECTION_OK) {
      snprintf(msg, cap, "%s", PQerrorMessage(r->target[i].c));
      ok = 0;
    }
  }
  PGconn *c = r->target[0].c;
  PGresult *res = ok ? PQexec(c, "SELECT min(id) FROM process") : NULL;
  long long pid = res && PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0) ? atoll(PQgetvalue(res, 0, 0)) : 0;
  PQclear(res);
  if (ok && pid <= 0) {
    snprintf(msg, cap, "the database holds no process");
    ok = 0;
  }
  for (int t = 0; ok && t < ROWS__TABLES; t++) ok = copy_table(r, c, t, pid, &sql, msg, cap) == 0;
  bench_text_add(&sql, " SELECT 1");
  if (ok && sql.full) {
    snprintf(msg, cap, "the statement is too long");
    ok = 0;
  }
  if (ok) {
    for (int i = 0; ok && i < r->conns; i++) {
      conn_target *t = &r->target[i];
      t->text = malloc(sizeof *t->text * (size_t)r->nparams);
      t->vals = malloc(sizeof *t->vals * (size_t)r->nparams);
      if (!t->text || !t->vals) {
        snprintf(msg, cap, "out of memory");
        ok = 0;
        break;
      }
      res = PQprepare(r->target[i].c, "rows_alone", sql.s, r->nparams, NULL);
      if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(msg, cap, "prepare: %s", PQerrorMessage(r->target[i].c));
        ok = 0;
      }
      PQclear(res);
    }
  }
  free(sql.s);
  if (!ok) {
    pg_rows_alone_close(r);
    return NULL;
  }
  return r;
}

/* Copy number i of the process, on one connection; 0 when it committed. */
static int write_copy(void *target, json_t *data) {
  (void)data;
  conn_target *t = target;
  pg_rows_alone *r = t->r;
  long i = atomic_fetch_add(&copies_next, 1);
  long long pid = COPY_IDS + i, tasks = r->rows[ROWS_TASK], audits = r->rows[ROWS_AUDIT];
  char (*text)[24] = t->text;
  const char **vals = t->vals;
  for (int k = 0; k < r->nparams; k++) {
    const param *p = &r->params[k];
    long long v = 0;
    switch (p->kind) {
    case ROWS_PROCESS_ID: v = pid; break;
    case ROWS_TASK_ID: v = COPY_IDS + i * tasks + p->row; break;
    case ROWS_AUDIT_ID: v = COPY_IDS + i * audits + p->row; break;
    case ROWS_TASK_LINK:   /* a link to a task of the same process keeps its place among them */
      if (p->sample && atoll(p->sample) >= r->first_task && atoll(p->sample) < r->first_task + tasks) {
        v = COPY_IDS + i * tasks + (atoll(p->sample) - r->first_task);
        break;
      }
      vals[k] = p->sample;   /* a link elsewhere (or none) is copied */
      continue;
    case ROWS_COPY: vals[k] = p->sample; continue;
    }
    snprintf(text[k], sizeof text[k], "%lld", v);
    vals[k] = text[k];
  }
  PGresult *res = PQexecPrepared(t->c, "rows_alone", r->nparams, vals, NULL, NULL, 0);
  int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
  if (!ok && !atomic_exchange(&r->failed, 1)) snprintf(r->failure, sizeof r->failure, "%s", PQerrorMessage(t->c));
  PQclear(res);
  return ok ? 0 : -1;
}

int pg_rows_alone_run(pg_rows_alone *r, int n, char *msg, size_t cap) {
  void *targets[MAX_CONNS];
  for (int i = 0; i < r->conns; i++) targets[i] = &r->target[i];
  int want = n / r->conns * r->conns;
  int done = bench_run_slice(write_copy, targets, n, r->conns, &r->seconds);
  r->written += done;
  if (done == want) return 0;
  snprintf(msg, cap, "%d of %d copies failed: %s", want - done, want, r->failure);
  return -1;
}

double pg_rows_alone_rate(const pg_rows_alone *r) { return r->seconds > 0 ? (double)r->written / r->seconds : 0; }

long pg_rows_alone_count(const pg_rows_alone *r) { return r->written; }

int pg_rows_alone_tasks(const pg_rows_alone *r) { return r->rows[ROWS_TASK]; }

void pg_rows_alone_close(pg_rows_alone *r) {
  if (!r) return;
  for (int i = 0; i < r->conns; i++) {
    PQfinish(r->target[i].c);
    free(r->target[i].text);
    free(r->target[i].vals);
  }
  for (int k = 0; k < r->nparams; k++) free(r->params[k].sample);
  free(r->params);
  free(r);
}
