/* Tests of the statement and round-trip counters of the statement shim
 * (dbc_count in store_db.c, metrics_db.c): on SQLite one statement per
 * execution (not per row; a statement stepped again after its end is a new
 * execution) and no round trip; on PostgreSQL one round trip per request
 * sent (an execution, a prepare, a describe), the prepare not being a
 * statement, and a BEGIN sent with the statement after it (one round trip
 * for both; nothing for a transaction that ran nothing), and writes sent
 * ahead in a transaction (no round trip until a statement needs an answer),
 * and reads sent with dbs_send (their answers with the next request that
 * waits: two reads, one round trip).  The connection's counts and the process-wide ones move
 * alike, and GET /metrics shows them by backend.  The PostgreSQL case needs
 * FLOWHOST_TEST_PG (tests/pg/pg_cluster.sh) and is skipped without it. */
#include <stdint.h>

#include "metrics_db.h"
#include "store_db.h"
#include "test.h"

/* Runs an insert of v through a statement, prepared as q (-1: ad hoc). */
static int insert(dbs *s, int v) {
  dbs_bind_int(s, 1, v);
  int rc = dbs_step(s);
  dbs_reset(s);
  dbs_clear_bindings(s);
  return rc;
}

/* Walks every row of "SELECT v FROM t" once; the number of rows. */
static int walk(dbs *s) {
  int n = 0;
  while (dbs_step(s) == DB_ROW) n++;
  return n;
}

/* The counts the connection and the process added since (st0, rt0). */
typedef struct counts {
  uint64_t st, rt, global_st, global_rt;
} counts;

static counts snapshot(dbc *c) {
  counts k = {c->statements, c->round_trips, 0, 0};
  metrics_db_read((metrics_db_backend)c->kind, &k.global_st, &k.global_rt);
  return k;
}

/* Both the connection's and the process's counters moved by (st, rt). */
static int moved_by(dbc *c, counts before, uint64_t st, uint64_t rt) {
  counts now = snapshot(c);
  if (now.st - before.st != st || now.rt - before.rt != rt || now.global_st - before.global_st != st ||
      now.global_rt - before.global_rt != rt) {
    fprintf(stderr, "  moved: connection %llu/%llu, process %llu/%llu; want %llu/%llu\n",
            (unsigned long long)(now.st - before.st), (unsigned long long)(now.rt - before.rt),
            (unsigned long long)(now.global_st - before.global_st),
            (unsigned long long)(now.global_rt - before.global_rt), (unsigned long long)st, (unsigned long long)rt);
    return 0;
  }
  return 1;
}

static int test_sqlite(void) {
  dbc *c = NULL;
  char msg[256];
  CHECK(dbc_open(":memory:", &c, msg, sizeof msg) == DB_OK);
  counts k = snapshot(c);
  CHECK(dbc_exec(c, "CREATE TABLE t(v INTEGER)") == DB_OK);
  CHECK(moved_by(c, k, 1, 0));
  dbs *ins = NULL, *sel = NULL;
  CHECK(dbs_prepare(c, 0, "INSERT INTO t(v) VALUES(?1)", &ins) == DB_OK);
  CHECK(dbs_prepare(c, -1, "SELECT v FROM t", &sel) == DB_OK);
  k = snapshot(c);
  for (int i = 0; i < 3; i++) CHECK(insert(ins, i) == DB_DONE);
  CHECK(moved_by(c, k, 3, 0));   /* preparing is not a statement */
  k = snapshot(c);
  CHECK(walk(sel) == 3);          /* four steps, one execution */
  CHECK(moved_by(c, k, 1, 0));
  CHECK(walk(sel) == 3);          /* stepped again after its end: a new execution */
  CHECK(moved_by(c, k, 2, 0));
  CHECK(dbs_send(sel) == DB_OK);  /* nothing on SQLite: it runs at its step */
  CHECK(moved_by(c, k, 2, 0));
  CHECK(walk(sel) == 3);
  CHECK(moved_by(c, k, 3, 0));
  dbs_finalize(ins);
  dbs_finalize(sel);
  dbc_close(c);
  return 0;
}

/* A connection to a new database on the server of FLOWHOST_TEST_PG; NULL
 * if it cannot be had. */
static char last_url[512];   /* the database open_pg made last */

static dbc *open_url(const char *url) {
  char msg[256];
  dbc *c = NULL;
  if (dbc_open(url, &c, msg, sizeof msg) == DB_OK) return c;
  fprintf(stderr, "  cannot open the test database: %s\n", msg);
  dbc_close(c);
  return NULL;
}

static dbc *open_pg(void) { return open_url(test_db(NULL, last_url, sizeof last_url)); }

/* A second connection to the database open_pg made last. */
static dbc *open_pg_same(void) { return open_url(last_url); }

/* Is the server process pid still there (as seen on c)? */
static int backend_alive(dbc *c, int pid) {
  char sql[96];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", pid);
  dbs *s = NULL;
  int n = 1;
  if (dbs_prepare(c, -1, sql, &s) == DB_OK && dbs_step(s) == DB_ROW) n = dbs_col_int(s, 0);
  dbs_finalize(s);
  return n != 0;
}

static int test_postgresql(void) {
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  dbc *c = open_pg();
  CHECK(c);
  CHECK(c->statements == 1 && c->round_trips == 1);   /* the session setting */
  counts k = snapshot(c);
  CHECK(dbc_exec(c, "CREATE TABLE t(v INTEGER)") == DB_OK);
  CHECK(moved_by(c, k, 1, 1));
  dbs *ins = NULL, *sel = NULL;
  k = snapshot(c);
  CHECK(dbs_prepare(c, 0, "INSERT INTO t(v) VALUES($1)", &ins) == DB_OK);
  CHECK(moved_by(c, k, 0, 2));   /* PQprepare and PQdescribePrepared: no statement run */
  CHECK(dbs_prepare(c, -1, "SELECT v FROM t", &sel) == DB_OK);
  CHECK(moved_by(c, k, 0, 2));   /* ad hoc: parsed when it runs */
  k = snapshot(c);
  for (int i = 0; i < 3; i++) CHECK(insert(ins, i) == DB_DONE);
  CHECK(moved_by(c, k, 3, 3));
  k = snapshot(c);
  CHECK(walk(sel) == 3);          /* the rows come in the one answer */
  CHECK(moved_by(c, k, 1, 1));
  dbs_finalize(ins);
  dbs_finalize(sel);
  dbc_close(c);
  return 0;
}

/* Runs a statement without parameters (cached as q) to its end. */
static int run(dbc *c, int q, const char *sql) {
  dbs *s = NULL;
  int rc = dbs_prepare(c, q, sql, &s);
  if (rc == DB_OK) {
    while ((rc = dbs_step(s)) == DB_ROW) {}
  }
  dbs_finalize(s);
  return rc;
}

/* PostgreSQL: a BEGIN waits for the transaction's first statement and goes
 * with it in one round trip; a transaction that ran nothing costs none. */
static int test_begin_deferred(void) {
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  dbc *c = open_pg();
  CHECK(c);
  CHECK(dbc_exec(c, "CREATE TABLE t(v INTEGER PRIMARY KEY)") == DB_OK);
  CHECK(run(c, 1, "SELECT 1") == DB_DONE);   /* prepare the cached ones once */
  counts k = snapshot(c);
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(!dbc_autocommit(c));                 /* a transaction, though nothing was sent */
  CHECK(run(c, -1, "COMMIT") == DB_DONE);
  CHECK(dbc_autocommit(c));
  CHECK(moved_by(c, k, 0, 0));
  k = snapshot(c);
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(run(c, -1, "INSERT INTO t(v) VALUES(1)") == DB_DONE);
  CHECK(moved_by(c, k, 2, 1));               /* BEGIN and the insert: one round trip */
  CHECK(!dbc_autocommit(c));
  CHECK(run(c, -1, "ROLLBACK") == DB_DONE);
  CHECK(moved_by(c, k, 3, 2));
  /* a first statement that fails: its error, and the transaction rolls back */
  CHECK(dbc_exec(c, "INSERT INTO t(v) VALUES(2)") == DB_OK);
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(run(c, -1, "INSERT INTO t(v) VALUES(2)") == DB_CONSTRAINT);
  CHECK(run(c, -1, "ROLLBACK") == DB_DONE);
  CHECK(dbc_autocommit(c));
  /* SQL text inside a deferred transaction, then a commit that keeps it */
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(dbc_exec(c, "INSERT INTO t(v) VALUES(3)") == DB_OK);
  CHECK(run(c, -1, "COMMIT") == DB_DONE);
  dbs *s = NULL;
  CHECK(dbs_prepare(c, -1, "SELECT count(*) FROM t", &s) == DB_OK);
  CHECK(dbs_step(s) == DB_ROW && dbs_col_int(s, 0) == 2);   /* 2 and 3; 1 rolled back */
  dbs_reset(s);
  /* SQL text inside a deferred transaction that rolls back: it was inside it */
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(dbc_exec(c, "INSERT INTO t(v) VALUES(4)") == DB_OK);
  CHECK(!dbc_autocommit(c));
  CHECK(run(c, -1, "ROLLBACK") == DB_DONE);
  CHECK(dbs_step(s) == DB_ROW && dbs_col_int(s, 0) == 2);
  dbs_finalize(s);
  dbc_close(c);
  return 0;
}

/* The rows of p, or -1. */
static int rows_of_p(dbc *c) {
  dbs *s = NULL;
  int n = -1;
  if (dbs_prepare(c, -1, "SELECT count(*) FROM p", &s) == DB_OK && dbs_step(s) == DB_ROW) n = dbs_col_int(s, 0);
  dbs_finalize(s);
  return n;
}

/* PostgreSQL: a write marked dbs_defer_ok is sent ahead inside a
 * transaction (no round trip of its own) and its answer comes with the
 * next statement that needs one; outside a transaction it runs at once.
 * A write sent ahead that failed is reported by that next statement (the
 * COMMIT, a read, a prepare, SQL text) with PostgreSQL's message, the
 * transaction rolls back whole and the connection goes on. */
static int test_sent_ahead(void) {
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  dbc *c = open_pg();
  CHECK(c);
  CHECK(dbc_exec(c, "CREATE TABLE p(v INTEGER PRIMARY KEY)") == DB_OK);
  dbs *ins = NULL, *max = NULL;
  CHECK(dbs_prepare(c, 3, "INSERT INTO p(v) VALUES($1)", &ins) == DB_OK);
  dbs_defer_ok(ins);
  CHECK(run(c, 1, "SELECT 1") == DB_DONE);   /* prepare the cached ones once */
  CHECK(run(c, 2, "SELECT 2") == DB_DONE);
  counts k = snapshot(c);
  CHECK(insert(ins, 1) == DB_DONE);            /* no transaction: at once */
  CHECK(moved_by(c, k, 1, 1));
  k = snapshot(c);
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  for (int v = 2; v <= 4; v++) CHECK(insert(ins, v) == DB_DONE);
  CHECK(moved_by(c, k, 4, 0));                 /* BEGIN and three inserts: sent, not waited for */
  CHECK(!dbc_autocommit(c));
  CHECK(rows_of_p(c) == 4);                    /* the read goes after them: it sees them */
  CHECK(moved_by(c, k, 5, 1));
  CHECK(insert(ins, 5) == DB_DONE);
  CHECK(run(c, -1, "COMMIT") == DB_DONE);      /* the fifth and the COMMIT: one round trip */
  CHECK(moved_by(c, k, 7, 2));
  CHECK(dbc_autocommit(c));
  CHECK(rows_of_p(c) == 5);
  /* a duplicate sent ahead: the COMMIT reports it, nothing of the transaction stays */
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(insert(ins, 6) == DB_DONE);
  CHECK(insert(ins, 1) == DB_DONE);
  CHECK(insert(ins, 7) == DB_DONE);
  CHECK(run(c, -1, "COMMIT") == DB_CONSTRAINT);
  CHECK(strstr(dbc_errmsg(c), "duplicate key"));
  CHECK(run(c, -1, "ROLLBACK") == DB_DONE);
  CHECK(dbc_autocommit(c));
  CHECK(rows_of_p(c) == 5);
  /* a prepare and SQL text end the pipeline first, in order */
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(insert(ins, 8) == DB_DONE);
  CHECK(dbs_prepare(c, 4, "SELECT max(v) FROM p", &max) == DB_OK);
  CHECK(dbs_step(max) == DB_ROW && dbs_col_int(max, 0) == 8);
  dbs_reset(max);
  CHECK(insert(ins, 9) == DB_DONE);
  CHECK(dbc_exec(c, "INSERT INTO p(v) VALUES(10)") == DB_OK);
  CHECK(dbs_step(max) == DB_ROW && dbs_col_int(max, 0) == 10);
  dbs_reset(max);
  CHECK(run(c, -1, "ROLLBACK") == DB_DONE);
  CHECK(rows_of_p(c) == 5);
  /* a failure sent ahead, found by a prepare and by SQL text */
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(insert(ins, 2) == DB_DONE);
  dbs *later = NULL;
  CHECK(dbs_prepare(c, 5, "SELECT 5", &later) == DB_CONSTRAINT);
  CHECK(run(c, -1, "ROLLBACK") == DB_DONE);
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  CHECK(insert(ins, 3) == DB_DONE);
  CHECK(dbc_exec(c, "INSERT INTO p(v) VALUES(11)") == DB_CONSTRAINT);
  CHECK(run(c, -1, "ROLLBACK") == DB_DONE);
  CHECK(dbc_autocommit(c));
  CHECK(rows_of_p(c) == 5);
  dbs_finalize(max);
  dbs_finalize(ins);
  dbc_close(c);
  return 0;
}

/* A cached statement's first row as an integer, stepped to its end; -1 on failure. */
static int first_int(dbs *s) {
  int rc = dbs_step(s), v = rc == DB_ROW ? dbs_col_int(s, 0) : -1;
  while (rc == DB_ROW) rc = dbs_step(s);
  dbs_reset(s);
  return rc == DB_DONE ? v : -1;
}

/* PostgreSQL: reads sent with dbs_send come back with the next request
 * that waits for an answer, each in its own statement; a failed one fails
 * those sent after it; a reset reads a sent answer first; in a transaction
 * a send does nothing; a connection lost meanwhile runs the read again. */
static int test_reads_sent(void) {
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  dbc *c = open_pg();
  CHECK(c);
  CHECK(dbc_exec(c, "CREATE TABLE p(v INTEGER PRIMARY KEY); INSERT INTO p VALUES (1), (2), (3)") == DB_OK);
  dbs *upto = NULL, *count = NULL, *div = NULL, *pid = NULL;
  CHECK(dbs_prepare(c, 1, "SELECT v FROM p WHERE v <= $1 ORDER BY v", &upto) == DB_OK);
  CHECK(dbs_prepare(c, 2, "SELECT count(*) FROM p", &count) == DB_OK);
  CHECK(dbs_prepare(c, 3, "SELECT 10 / ($1::int - 1)", &div) == DB_OK);
  CHECK(dbs_prepare(c, 4, "SELECT pg_backend_pid()", &pid) == DB_OK);
  dbs_bind_int(upto, 1, 2);
  dbs_bind_int(div, 1, 1);
  counts k = snapshot(c);
  /* two reads, one round trip, each its own rows */
  CHECK(dbs_send(upto) == DB_OK && dbs_send(count) == DB_OK);
  CHECK(moved_by(c, k, 2, 0));
  CHECK(dbs_step(upto) == DB_ROW && dbs_col_int(upto, 0) == 1);
  CHECK(moved_by(c, k, 2, 1));
  CHECK(dbs_step(upto) == DB_ROW && dbs_col_int(upto, 0) == 2);
  CHECK(dbs_step(upto) == DB_DONE);
  dbs_reset(upto);
  CHECK(first_int(count) == 3);   /* its answer came with the first */
  CHECK(moved_by(c, k, 2, 1));
  /* the second's answer read first: the first's is kept */
  k = snapshot(c);
  CHECK(dbs_send(upto) == DB_OK && dbs_send(count) == DB_OK);
  CHECK(first_int(count) == 3);
  CHECK(dbs_step(upto) == DB_ROW && dbs_col_int(upto, 0) == 1);
  dbs_reset(upto);
  CHECK(moved_by(c, k, 2, 1));
  /* SQL text meanwhile ends the pipeline first; the read was sent before it */
  k = snapshot(c);
  CHECK(dbs_send(upto) == DB_OK);
  CHECK(dbc_exec(c, "INSERT INTO p VALUES (4)") == DB_OK);
  CHECK(moved_by(c, k, 2, 2));
  CHECK(dbs_step(upto) == DB_ROW && dbs_col_int(upto, 0) == 1);
  dbs_reset(upto);
  /* a cached statement meanwhile joins the pipeline: one round trip */
  k = snapshot(c);
  CHECK(dbs_send(upto) == DB_OK);
  CHECK(first_int(count) == 4);
  CHECK(moved_by(c, k, 2, 1));
  CHECK(dbs_step(upto) == DB_ROW);
  dbs_reset(upto);
  /* a failed read fails the ones sent after it; the connection goes on */
  CHECK(dbs_send(div) == DB_OK && dbs_send(count) == DB_OK);
  CHECK(dbs_step(div) != DB_ROW);
  CHECK(strstr(dbc_errmsg(c), "division by zero"));
  dbs_reset(div);
  CHECK(dbs_step(count) != DB_ROW);
  dbs_reset(count);
  CHECK(first_int(count) == 4);
  /* a read sent and reset unstepped: its answer is read and dropped */
  CHECK(dbs_send(count) == DB_OK);
  dbs_reset(count);
  CHECK(first_int(count) == 4);
  /* in a transaction a send does nothing: the read runs at its step */
  CHECK(run(c, -1, "BEGIN") == DB_DONE);
  k = snapshot(c);
  CHECK(dbs_send(count) == DB_OK);
  CHECK(moved_by(c, k, 0, 0));
  CHECK(first_int(count) == 4);
  CHECK(moved_by(c, k, 2, 1));    /* the BEGIN and the read */
  CHECK(run(c, -1, "COMMIT") == DB_DONE);
  /* the server ends the session while a read is sent: it runs again */
  int mine = first_int(pid);
  CHECK(mine > 0);
  dbc *other = open_pg_same();
  CHECK(other);
  CHECK(dbs_send(count) == DB_OK);
  char sql[64];
  snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", mine);
  CHECK(dbc_exec(other, sql) == DB_OK);
  for (int tries = 0; tries < 500 && backend_alive(other, mine); tries++) usleep(10000);
  CHECK(first_int(count) == 4);
  CHECK(first_int(pid) != mine);
  dbc_close(other);
  dbs_finalize(upto);
  dbs_finalize(count);
  dbs_finalize(div);
  dbs_finalize(pid);
  dbc_close(c);
  return 0;
}

/* The exposition has one series of each counter per backend. */
static int test_render(void) {
  metrics_db_count(METRICS_DB_POSTGRESQL, 2, 3);
  metrics_buf b = {0};
  metrics_db_render(&b);
  CHECK(!b.failed && b.text);
  CHECK(strstr(b.text, "# TYPE flowhost_db_statements_total counter\n"));
  CHECK(strstr(b.text, "# TYPE flowhost_db_round_trips_total counter\n"));
  CHECK(strstr(b.text, "flowhost_db_statements_total{backend=\"sqlite\"} "));
  CHECK(strstr(b.text, "flowhost_db_round_trips_total{backend=\"postgresql\"} "));
  uint64_t st = 0, rt = 0;
  metrics_db_read(METRICS_DB_POSTGRESQL, &st, &rt);
  char line[128];
  snprintf(line, sizeof line, "flowhost_db_round_trips_total{backend=\"postgresql\"} %llu\n", (unsigned long long)rt);
  CHECK(strstr(b.text, line));
  metrics_buf_free(&b);
  return 0;
}

static const test_case TESTS[] = {
    {"sqlite", test_sqlite},
    {"postgresql", test_postgresql},
    {"begin_deferred", test_begin_deferred},
    {"sent_ahead", test_sent_ahead},
    {"reads_sent", test_reads_sent},
    {"render", test_render},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
