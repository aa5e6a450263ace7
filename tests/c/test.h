/* A tiny test harness: each test is a function returning 0 on success;
 * CHECK records the first failing line and returns from the test. */
#ifndef TEST_H
#define TEST_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                               \
    }                                                                         \
  } while (0)

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

/* EXPLAIN QUERY PLAN of sql on the SQLite file path, the details of its
 * rows joined by "; " into out; 0 on success. */
static inline int test_plan_of(const char *path, const char *sql, char *out, size_t cap) {
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK) return 1;
  char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(db, q, -1, &s, NULL);
  out[0] = '\0';
  while (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s; ", (const char *)sqlite3_column_text(s, 3));
  }
  sqlite3_finalize(s);
  sqlite3_free(q);
  sqlite3_close(db);
  return rc != SQLITE_OK;
}

/* The first column of sql's first row on db as an integer; fallback when
 * it has none or fails. */
static inline int64_t test_sql_int(sqlite3 *db, const char *sql, int64_t fallback) {
  sqlite3_stmt *s = NULL;
  int64_t v = fallback;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* Removes a SQLite database file and its WAL side files. */
static inline void test_remove_db(const char *path) {
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char file[512];
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    unlink(file);
  }
}

/* The database a store test opens: sqlite_path, or, when FLOWHOST_TEST_PG
 * names a PostgreSQL server (tests/pg/pg_cluster.sh runs the tests with it),
 * a new empty database there, so every call starts clean as ":memory:"
 * does.  The cluster is thrown away afterwards, with the databases. */
static inline const char *test_db(const char *sqlite_path, char *buf, size_t cap) {
  const char *url = getenv("FLOWHOST_TEST_PG");
  if (!url || !*url) return sqlite_path;
  static int n;
  char name[64];
  snprintf(name, sizeof name, "t%d_%d", (int)getpid(), __atomic_add_fetch(&n, 1, __ATOMIC_SEQ_CST));
  PGconn *pg = PQconnectdb(url);
  char sql[96];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
  PGresult *res = PQexec(pg, sql);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) fprintf(stderr, "test_db: %s", PQerrorMessage(pg));
  PQclear(res);
  PQfinish(pg);
  /* the cluster's URL names the database right after "///" */
  const char *q = strchr(url, '?');
  snprintf(buf, cap, "postgresql:///%s%s", name, q ? q : "");
  return buf;
}

typedef struct test_case {
  const char *name;
  int (*fn)(void);
} test_case;

/* Runs the named test (argv[1]) or all of them. */
static inline int test_main(const test_case *tests, int argc, char **argv) {
  int failed = 0, ran = 0;
  for (const test_case *t = tests; t->name; t++) {
    if (argc > 1 && strcmp(argv[1], t->name) != 0) continue;
    ran++;
    int rc = t->fn();
    fprintf(stderr, "%s %s\n", rc ? "FAIL" : "ok  ", t->name);
    failed += rc != 0;
  }
  if (!ran) {
    fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
    return 1;
  }
  return failed ? 1 : 0;
}

#endif
