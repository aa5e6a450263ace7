/* rows_alone — engine_bench's floor: one automatic process's rows written
 * again by plain statements (see rows_alone.h). */
#include "rows_alone.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fherr.h"
#include "fhtime.h"
#include "store.h"
#include "store_walbuf.h"

/* The pages of an automatic process's commit in the WAL are these tables'
 * and their indexes' (bench/README.md, section 46). */
const char *const rows_table_name[ROWS__TABLES] = {"process", "task", "data_audit"};
static const char *const sample_sql[ROWS__TABLES] = {
    "SELECT * FROM process WHERE id = ?1",
    "SELECT * FROM task WHERE process_id = ?1 ORDER BY id",
    "SELECT * FROM data_audit WHERE process_id = ?1 ORDER BY id",
};

typedef struct table_rows {
  int rows, cols;
  sqlite3_value **v;   /* rows x cols, copied from the sample */
  rows_col_kind *kind; /* cols */
  sqlite3_stmt *ins;   /* every row in one INSERT */
} table_rows;

struct rows_alone {
  char db_path[256];
  sqlite3 *db;
  table_rows t[ROWS__TABLES];
  int64_t sample_pid, first_task;   /* the sample's ids: task links are mapped from them */
  int64_t next;                     /* processes written so far */
  double seconds;
};

/* Room for one table's INSERT of a process's rows (~1 KB for four tasks). */
#define SQL_CAP (16 * 1024)

static void set_msg(char *msg, size_t cap, const char *what, sqlite3 *db) {
  snprintf(msg, cap, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory or too long");
}

rows_col_kind rows_column_kind(int table, const char *col) {
  if (table == ROWS_PROCESS) return strcmp(col, "id") ? ROWS_COPY : ROWS_PROCESS_ID;
  if (table == ROWS_AUDIT) return !strcmp(col, "id") ? ROWS_AUDIT_ID : !strcmp(col, "process_id") ? ROWS_PROCESS_ID : ROWS_COPY;
  if (!strcmp(col, "id")) return ROWS_TASK_ID;
  if (!strcmp(col, "process_id")) return ROWS_PROCESS_ID;
  if (!strcmp(col, "prev_id") || !strcmp(col, "child_id") || !strcmp(col, "group_id")) return ROWS_TASK_LINK;
  return ROWS_COPY;
}

/* The sample's rows of one table, and its INSERT of as many rows. */
static int copy_table(rows_alone *r, sqlite3 *sample, int table, char *msg, size_t cap) {
  table_rows *t = &r->t[table];
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(sample, sample_sql[table], -1, &q, NULL) != SQLITE_OK)
    return set_msg(msg, cap, sample_sql[table], sample), -1;
  sqlite3_bind_int64(q, 1, r->sample_pid);
  t->cols = sqlite3_column_count(q);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    sqlite3_value **grown = realloc(t->v, sizeof *grown * (size_t)(t->rows + 1) * (size_t)t->cols);
    if (!grown) break;
    t->v = grown;
    for (int c = 0; c < t->cols; c++) t->v[t->rows * t->cols + c] = sqlite3_value_dup(sqlite3_column_value(q, c));
    t->rows++;
  }
  t->kind = calloc((size_t)t->cols, sizeof *t->kind);
  bench_text sql = {.s = malloc(SQL_CAP), .cap = SQL_CAP};
  int ok = rc == SQLITE_DONE && t->rows > 0 && t->kind && sql.s;
  if (ok) {
    bench_text_add(&sql, "INSERT INTO %s(", rows_table_name[table]);
    for (int c = 0; c < t->cols; c++) {
      t->kind[c] = rows_column_kind(table, sqlite3_column_name(q, c));
      bench_text_add(&sql, "%s\"%s\"", c ? ", " : "", sqlite3_column_name(q, c));
    }
    bench_text_add(&sql, ") VALUES");
    for (int i = 0; i < t->rows; i++) {
      bench_text_add(&sql, "%s(", i ? ", " : "");
      for (int c = 0; c < t->cols; c++) bench_text_add(&sql, "%s?", c ? ", " : "");
      bench_text_add(&sql, ")");
    }
    ok = !sql.full && sqlite3_prepare_v2(r->db, sql.s, -1, &t->ins, NULL) == SQLITE_OK;
    if (!ok) set_msg(msg, cap, rows_table_name[table], sql.full ? NULL : r->db);
  } else if (rc == SQLITE_DONE && t->rows == 0) {
    snprintf(msg, cap, "process %lld of the sample has no %s rows", (long long)r->sample_pid, rows_table_name[table]);
  } else {   /* a failed read, or out of memory (SQLITE_ROW: a row was left unread) */
    set_msg(msg, cap, sample_sql[table], rc == SQLITE_DONE || rc == SQLITE_ROW ? NULL : sample);
  }
  sqlite3_finalize(q);
  free(sql.s);
  return ok ? 0 : -1;
}

rows_alone *rows_alone_open(const char *sample, const char *db, int full, char *msg, size_t cap) {
  msg[0] = '\0';
  rows_alone *r = calloc(1, sizeof *r);
  if (!r) return snprintf(msg, cap, "out of memory"), NULL;
  snprintf(r->db_path, sizeof r->db_path, "%s", db);
  /* flowhost's schema, page size and WAL mode, by a store of its own */
  bench_remove_db(db);
  fherr err = {0};
  store_options so = {.synchronous_full = full};
  store *st = NULL;
  if (store_open(db, &so, &st, &err)) {
    snprintf(msg, cap, "store_open: %s", err.message);
    fherr_clear(&err);
    free(r);
    return NULL;
  }
  store_close(st);
  /* the store's settings of its writer (host/store_writer.c), its VFS that
   * writes a commit's frames at once; checkpoints only between runs */
  char pragmas[160];
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA synchronous = %s; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"
           " PRAGMA wal_autocheckpoint = 0;",
           full ? "FULL" : "NORMAL");
  sqlite3 *s = NULL;
  int ok = sqlite3_open_v2(db, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, walbuf_vfs_name()) == SQLITE_OK &&
           sqlite3_exec(r->db, pragmas, NULL, NULL, NULL) == SQLITE_OK;
  if (!ok) set_msg(msg, cap, db, r->db);
  if (ok && sqlite3_open_v2(sample, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    set_msg(msg, cap, sample, s);
    ok = 0;
  }
  sqlite3_stmt *first = NULL;
  ok = ok && sqlite3_prepare_v2(s, "SELECT min(id) FROM process", -1, &first, NULL) == SQLITE_OK &&
       sqlite3_step(first) == SQLITE_ROW && (r->sample_pid = sqlite3_column_int64(first, 0)) > 0;
  sqlite3_finalize(first);
  if (!ok && !msg[0]) snprintf(msg, cap, "%s holds no process", sample);
  for (int i = 0; ok && i < ROWS__TABLES; i++) ok = copy_table(r, s, i, msg, cap) == 0;
  sqlite3_close(s);
  if (ok) {   /* the first task's id: the sample's links are mapped from it */
    table_rows *t = &r->t[ROWS_TASK];
    for (int c = 0; c < t->cols; c++)
      if (t->kind[c] == ROWS_TASK_ID) r->first_task = sqlite3_value_int64(t->v[c]);
  }
  if (!ok) {
    rows_alone_close(r);
    return NULL;
  }
  return r;
}

/* A value of process number i's rows (ids from 1 on, as in a new database). */
static void bind_one(rows_alone *r, const table_rows *t, int row, int c, int param, int64_t i) {
  sqlite3_value *v = t->v[row * t->cols + c];
  int64_t pid = i + 1, tasks = r->t[ROWS_TASK].rows;
  switch (t->kind[c]) {
  case ROWS_PROCESS_ID: sqlite3_bind_int64(t->ins, param, pid); return;
  case ROWS_TASK_ID: sqlite3_bind_int64(t->ins, param, i * tasks + row + 1); return;
  case ROWS_TASK_LINK:   /* a link to a task of the same process keeps its place among them */
    if (sqlite3_value_type(v) == SQLITE_INTEGER && sqlite3_value_int64(v) >= r->first_task &&
        sqlite3_value_int64(v) < r->first_task + tasks) {
      sqlite3_bind_int64(t->ins, param, i * tasks + (sqlite3_value_int64(v) - r->first_task) + 1);
      return;
    }
    break;
  case ROWS_AUDIT_ID:   /* a process's entries are its range of ids (store_schema.c, 14) */
    sqlite3_bind_int64(t->ins, param, (pid << 20) + (sqlite3_value_int64(v) & ((1 << 20) - 1)));
    return;
  case ROWS_COPY: break;
  }
  sqlite3_bind_value(t->ins, param, v);
}

static int write_process(rows_alone *r, int64_t i) {
  if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return -1;
  for (int k = 0; k < ROWS__TABLES; k++) {
    table_rows *t = &r->t[k];
    for (int row = 0; row < t->rows; row++)
      for (int c = 0; c < t->cols; c++) bind_one(r, t, row, c, row * t->cols + c + 1, i);
    int rc = sqlite3_step(t->ins);
    sqlite3_reset(t->ins);
    if (rc != SQLITE_DONE) {
      sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  }
  return sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int rows_alone_run(rows_alone *r, int n, char *msg, size_t cap) {
  double t0 = fhtime_monotonic();
  for (int k = 0; k < n; k++, r->next++)
    if (write_process(r, r->next)) return set_msg(msg, cap, "rows alone", r->db), -1;
  r->seconds += fhtime_monotonic() - t0;
  /* RESTART, not TRUNCATE: the next run writes the WAL again from its
   * start into blocks the file already has, as the host's writer does; a
   * WAL cut to nothing grew again block by block (a floor 10% lower) */
  sqlite3_exec(r->db, "PRAGMA wal_checkpoint(RESTART)", NULL, NULL, NULL);
  return 0;
}

double rows_alone_rate(const rows_alone *r) { return r->seconds > 0 ? (double)r->next / r->seconds : 0; }

void rows_alone_shape(const rows_alone *r, int *processes, int *tasks, int *audits) {
  *processes = r->t[ROWS_PROCESS].rows;
  *tasks = r->t[ROWS_TASK].rows;
  *audits = r->t[ROWS_AUDIT].rows;
}

int rows_alone_close(rows_alone *r) {
  if (!r) return -1;
  int ok = r->db != NULL;
  for (int k = 0; k < ROWS__TABLES; k++) {
    table_rows *t = &r->t[k];
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", rows_table_name[k]);
    sqlite3_stmt *q = NULL;
    ok = ok && sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
         sqlite3_column_int64(q, 0) == r->next * t->rows;
    sqlite3_finalize(q);
    sqlite3_finalize(t->ins);
    for (int i = 0; i < t->rows * t->cols; i++) sqlite3_value_free(t->v[i]);
    free(t->v);
    free(t->kind);
  }
  sqlite3_close(r->db);
  bench_remove_db(r->db_path);
  free(r);
  return ok ? 0 : -1;
}
