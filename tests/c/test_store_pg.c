/* Unit tests of the PostgreSQL backend's foundation: every statement has a
 * text in both dialects, every PostgreSQL text prepares on a real server
 * (a typo fails by statement number and text), the schema migrates once
 * and reports its version, the shim maps SQLSTATEs to SQLite's codes, and
 * a --db value selects the backend, and the list pages are planned for
 * their parameters.  The server tests need FLOWHOST_TEST_PG
 * (tests/pg/pg_cluster.sh sets it) and are skipped without it. */
#include <stdlib.h>

#include "store_internal.h"
#include "store_upkeep.h"
#include "test.h"

static int test_texts(void) {
  for (int q = Q_DATA_FIRST; q <= Q_DATA_LAST; q++) {   /* store_data.c keeps their texts */
    CHECK(store_data_text(q, 0) && store_data_text(q, 1));
    CHECK(!strchr(store_data_text(q, 1), '?'));
  }
  for (int q = 0; q < Q__COUNT; q++) {
    if (q >= Q_DATA_FIRST && q <= Q_DATA_LAST) continue;
    if (!STORE_SQL[q] || !STORE_SQL_PG[q]) fprintf(stderr, "  statement %d has no %s text\n", q, STORE_SQL[q] ? "PostgreSQL" : "SQLite");
    CHECK(STORE_SQL[q] && *STORE_SQL[q]);
    CHECK(STORE_SQL_PG[q] && *STORE_SQL_PG[q]);
    CHECK(!strchr(STORE_SQL_PG[q], '?'));   /* PostgreSQL's parameters are $N */
  }
  return 0;
}

static int test_selection(void) {
  CHECK(db_kind_of("postgresql://h/db") == DB_KIND_PG);
  CHECK(db_kind_of("postgres://h/db") == DB_KIND_PG);
  CHECK(db_kind_of("postgresql:///db?host=/tmp") == DB_KIND_PG);
  CHECK(db_kind_of("flowhost.db") == DB_KIND_SQLITE);
  CHECK(db_kind_of("sqlite:flowhost.db") == DB_KIND_SQLITE);
  CHECK(db_kind_of(":memory:") == DB_KIND_SQLITE);
  CHECK_STR(db_sqlite_path("sqlite:/x/y.db"), "/x/y.db");
  CHECK_STR(db_sqlite_path("/x/y.db"), "/x/y.db");
  return 0;
}

static int test_sqlstates(void) {
  CHECK(pg_code_of("23505") == DB_CONSTRAINT);
  CHECK(pg_code_of("23503") == DB_CONSTRAINT);
  CHECK(pg_code_of("40001") == DB_BUSY);
  CHECK(pg_code_of("40P01") == DB_BUSY);
  CHECK(pg_code_of("55P03") == DB_LOCKED);
  CHECK(pg_code_of("53100") == DB_FULL);
  CHECK(pg_code_of("08006") == DB_BUSY);
  CHECK(pg_code_of("57P01") == DB_BUSY);
  CHECK(pg_code_of(NULL) == DB_BUSY);
  CHECK(pg_code_of("42601") == DB_ERROR);
  CHECK(pg_code_of("FH409") == DB_STALE);   /* flowhost_stale(): the process changed */
  return 0;
}

/* A store on a fresh database of the test server, NULL without one. */
static store *open_pg(char *url, size_t cap) {
  if (!getenv("FLOWHOST_TEST_PG")) return NULL;
  store *st = NULL;
  fherr err = {0};
  store_options opt = {0};
  if (store_open(test_db(NULL, url, cap), &opt, &st, &err)) fprintf(stderr, "  open: %s\n", err.message);
  return st;
}

static int test_prepare_all(void) {
  char url[512];
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  store *st = open_pg(url, sizeof url);
  CHECK(st);
  int bad = 0;
  for (int q = 0; q < Q__COUNT; q++) {
    char name[16];
    snprintf(name, sizeof name, "check%d", q);
    const char *text = q >= Q_DATA_FIRST && q <= Q_DATA_LAST ? store_data_text(q, 1) : STORE_SQL_PG[q];
    PGresult *res = PQprepare(st->own.db->pg, name, text, 0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      fprintf(stderr, "  statement %d: %s  %s\n", q, PQresultErrorMessage(res), text);
      bad++;
    }
    PQclear(res);
  }
  store_close(st);
  CHECK(bad == 0);
  return 0;
}

static int test_migrate_once(void) {
  char url[512];
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  store *a = open_pg(url, sizeof url);
  CHECK(a);
  CHECK(store_schema_version(a) == store_schema_latest_pg());
  /* a second host on the same database finds it current */
  store *b = NULL;
  fherr err = {0};
  store_options opt = {0};
  CHECK(store_open(url, &opt, &b, &err) == FH_OK);
  CHECK(store_schema_version(b) == store_schema_latest_pg());
  int64_t id = 0;
  CHECK(store_user_add(a, "alice", NULL, 0, &id, &err) == FH_OK && id > 0);
  /* the unique violation is the SQLite path's conflict */
  CHECK(store_user_add(b, "alice", NULL, 0, NULL, &err) == FH_CONFLICT);
  int64_t n = 0;
  CHECK(store_user_count(b, &n, &err) == FH_OK && n == 1);
  store_close(b);
  store_close(a);
  return 0;
}

/* Terminates the store's own connection on the server. */
static void terminate_backend(const char *url, store *st) {
  PGconn *admin = PQconnectdb(url);
  char sql[96];
  snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d, 5000)", PQbackendPID(st->own.db->pg));
  PGresult *res = PQexec(admin, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) fprintf(stderr, "  terminate: %s", PQerrorMessage(admin));
  PQclear(res);
  PQfinish(admin);
}

/* A connection the server drops: a read (or a BEGIN) that finds it gone
 * runs again at once on a new connection, its statements prepared again;
 * a write outside a transaction is not run again (it may have been done):
 * a 503 (DB_BUSY), and the next call reconnects; nothing committed before
 * is lost. */
static int test_reconnect(void) {
  char url[512];
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  store *st = open_pg(url, sizeof url);
  CHECK(st);
  fherr err = {0};
  CHECK(store_user_add(st, "alice", NULL, 0, NULL, &err) == FH_OK);
  int64_t n = 0;
  CHECK(store_user_count(st, &n, &err) == FH_OK && n == 1);
  terminate_backend(url, st);
  n = 0;
  CHECK(store_user_count(st, &n, &err) == FH_OK && n == 1);   /* again at once, prepared again */
  terminate_backend(url, st);
  CHECK(store_user_add(st, "bob", NULL, 0, NULL, &err) == FH_OK);   /* its BEGIN again */
  CHECK(store_user_count(st, &n, &err) == FH_OK && n == 2);
  terminate_backend(url, st);
  CHECK(dbc_exec(st->own.db, "UPDATE flowhost_schema SET version = version WHERE false") == DB_BUSY);
  CHECK(dbc_exec(st->own.db, "UPDATE flowhost_schema SET version = version WHERE false") == DB_OK);
  CHECK(store_user_count(st, &n, &err) == FH_OK && n == 2);
  store_close(st);
  return 0;
}

/* The server away (stopped with FLOWHOST_TEST_PG_CTL, as pg_down_spec does):
 * the health probe of a connection that was open, idle and never prepared
 * the probe says "down", not "error" (PostgreSQL prepares on the server, so
 * the prepare is what fails); back to "ok" once the server is back. */
static int test_probe_while_away(void) {
  char url[512], cmd[1024];
  const char *ctl = getenv("FLOWHOST_TEST_PG_CTL");
  if (!getenv("FLOWHOST_TEST_PG") || !ctl || !*ctl)
    return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG_CTL\n"), 0;
  store *st = open_pg(url, sizeof url);
  CHECK(st);
  fherr err = {0};
  int64_t n = -1;
  CHECK(store_user_count(st, &n, &err) == FH_OK && n == 0);   /* open and idle */
  snprintf(cmd, sizeof cmd, "%s stop -m fast >/dev/null 2>&1", ctl);
  CHECK(system(cmd) == 0);
  st_db_probe p;
  store_db_probe(st, 100, &p);
  snprintf(cmd, sizeof cmd, "%s start >/dev/null 2>&1", ctl);
  int restarted = system(cmd) == 0;
  CHECK(p.state == STORE_DB_DOWN);
  CHECK(restarted);
  store_db_probe(st, 1000, &p);
  if (p.state != STORE_DB_OK) store_db_probe(st, 1000, &p);   /* the first may find its session gone */
  CHECK(p.state == STORE_DB_OK);
  store_close(st);
  return 0;
}

/* Runs sql on the store's own connection; 1 when it answered as wanted. */
static int pg_run(store *st, const char *sql, ExecStatusType want) {
  PGresult *res = PQexec(st->own.db->pg, sql);
  int ok = PQresultStatus(res) == want;
  if (!ok) fprintf(stderr, "  %s: %s", sql, PQresultErrorMessage(res));
  PQclear(res);
  return ok;
}

/* VACUUM ANALYZE until every page of the table is all-visible, as
 * autovacuum leaves a table between writes (0: it is), so that the plans
 * weigh index-only scans as they would there.  An autovacuum ANALYZE
 * running beside the VACUUM holds a snapshot older than the rows just
 * written, and the VACUUM then marks no page: it is run again, at most
 * for about five seconds. */
static int vacuum_all_visible(store *st, const char *table) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT relpages = relallvisible FROM pg_class WHERE relname = '%s'", table);
  for (int i = 0; i < 100; i++) {
    if (i && !pg_run(st, "SELECT pg_sleep(0.05)", PGRES_TUPLES_OK)) return 1;
    if (!pg_run(st, "VACUUM ANALYZE", PGRES_COMMAND_OK)) return 1;
    PGresult *r = PQexec(st->own.db->pg, sql);
    int done = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (done) return 0;
  }
  fprintf(stderr, "  %s: pages still not all-visible after 100 VACUUMs\n", table);
  return 1;
}

/* The list pages: an inbox page without filters runs a prepared statement
 * whose one plan for every such page (the plan PostgreSQL settles on after
 * five executions; forced here) walks task_owner_status backwards to the
 * first 50 of an inbox of 1,000 tasks instead of sorting all 1,000 (the
 * statement with the optional filters in it did: each counted as
 * selective).  A page with filters runs unnamed and is right too; the
 * page's "previous" ids come back either way, looked up by primary key. */
static int list_page(store *st, const store_task_query *q, int want_n, int64_t first, const char *prev) {
  fherr err = {0};
  st_task *rows = NULL;
  int n = 0;
  if (store_task_list(st, q, &rows, &n, &err) != FH_OK) return fprintf(stderr, "  list: %s\n", err.message), 0;
  int ok = n == want_n && (n == 0 || (rows[0].id == first && rows[0].previous && !strcmp(rows[0].previous, prev)));
  st_task_array_free(rows, n);
  return ok;
}

/* auto_explain's plans, sent to the client as notices */
static void keep_notice(void *arg, const char *message) {
  char *plans = arg;
  size_t have = strlen(plans);
  snprintf(plans + have, 16384 - have, "%s", message);
}

/* A page planned for its values: 0 when it holds want_n rows from first
 * down (or up) to last, and the plans auto_explain sent for it name reads
 * (an index scan) and neither avoid (NULL: nothing) nor a sequential scan
 * of task. */
static int page_reads(store *st, const store_task_query *q, int want_n, int64_t first, int64_t last, const char *reads,
                      const char *avoid) {
  static char plans[16384];
  plans[0] = 0;
  PGconn *pg = st->own.db->pg;
  CHECK(pg_run(st, "LOAD 'auto_explain'", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "SET auto_explain.log_min_duration = 0", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "SET client_min_messages = log", PGRES_COMMAND_OK));
  PQnoticeProcessor before = PQsetNoticeProcessor(pg, keep_notice, plans);
  st_task *rows = NULL;
  int n = 0;
  fherr err = {0};
  int rc = store_task_list(st, q, &rows, &n, &err);
  PQsetNoticeProcessor(pg, before, NULL);
  CHECK(pg_run(st, "SET client_min_messages = notice", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "SET auto_explain.log_min_duration = -1", PGRES_COMMAND_OK));
  if (rc != FH_OK) fprintf(stderr, "  page: %s\n", err.message);
  int ok = rc == FH_OK && n == want_n && rows[0].id == first && rows[n - 1].id == last;
  if (rc == FH_OK && !ok) fprintf(stderr, "  page: %d rows, %lld..%lld\n", n, n ? (long long)rows[0].id : 0LL,
                                  n ? (long long)rows[n - 1].id : 0LL);
  st_task_array_free(rows, n);
  CHECK(ok);
  int as_wanted = strstr(plans, reads) && !(avoid && strstr(plans, avoid)) && !strstr(plans, "Seq Scan on task ");
  if (!as_wanted) fprintf(stderr, "%s", plans);
  CHECK(as_wanted);
  return 0;
}

/* The first page of all tasks of a status, as an admin: 51 rows from
 * first down to last (page_reads) */
static int all_page_reads(store *st, const char *status, int64_t first, int64_t last, const char *reads,
                          const char *avoid) {
  store_task_query all = {.view = STORE_VIEW_ALL, .user_id = 1, .status = status, .limit = STORE_PAGE_ROWS};
  return page_reads(st, &all, STORE_PAGE_ROWS, first, last, reads, avoid);
}

/* The ids of a page of processes, "1000,999,..." (at most 51) into ids;
 * 0 on an error. */
static int process_page_ids(store *st, const store_process_query *q, char *ids, size_t cap) {
  st_process *rows = NULL;
  int n = 0;
  fherr err = {0};
  if (store_process_list(st, q, &rows, &n, &err) != FH_OK) return fprintf(stderr, "  processes: %s\n", err.message), 0;
  ids[0] = 0;
  for (int i = 0; i < n && i < STORE_PAGE_ROWS; i++) {
    size_t have = strlen(ids);
    snprintf(ids + have, cap - have, "%s%lld", i ? "," : "", (long long)rows[i].id);
  }
  st_process_array_free(rows, n);
  return 1;
}

/* The page of q (of the default size: a prepared statement) is the page
 * its twin planned for its values gives (a page one longer) */
static int process_page_as_planned(store *st, store_process_query q, const char *first) {
  char kept[1024], planned[1024];
  q.limit = STORE_PAGE_ROWS;
  if (!process_page_ids(st, &q, kept, sizeof kept)) return 0;
  q.limit = STORE_PAGE_ROWS + 1;
  if (!process_page_ids(st, &q, planned, sizeof planned)) return 0;
  int same = !strcmp(kept, planned) && !strncmp(kept, first, strlen(first));
  if (!same) fprintf(stderr, "  processes: prepared %s\n  planned %s\n", kept, planned);
  return same;
}

static int test_list_plans(void) {
  char url[512];
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  store *st = open_pg(url, sizeof url);
  CHECK(st);
  CHECK(pg_run(st, "INSERT INTO \"user\"(id, username, created_at) VALUES (7, 'bob', 'now')", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "INSERT INTO process(id, flow, status, created_at) SELECT i, 'f', 'STARTED', 'now'"
                   " FROM generate_series(1, 1000) i", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, owner_id, token, created_at)"
                   " SELECT 2 * i - 1, i, 'f.start', 'start', 'DONE', NULL, 'start', 'now' FROM generate_series(1, 1000) i"
                   " UNION ALL SELECT 2 * i, i, 'f.approve', 'view', 'ASSIGNED', 7, 'start', 'now'"
                   " FROM generate_series(1, 1000) i", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "INSERT INTO task_previous SELECT 2 * i, 2 * i - 1 FROM generate_series(1, 1000) i", PGRES_COMMAND_OK));
  /* and a queue: 10,000 tasks nobody holds, after them, with their first
   * link in their row (enough that a plan for an unknown page size, 10% of
   * them, costs more than one for 50) */
  CHECK(pg_run(st, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, token, created_at, prev_id)"
                   " SELECT 2000 + i, 1 + i % 1000, 'f.review', 'view', 'NEW', 'start', 'now', 2 * (1 + i % 1000)"
                   " FROM generate_series(1, 10000) i", PGRES_COMMAND_OK));
  /* and an archive: ten finished tasks of bob's */
  CHECK(pg_run(st, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, owner_id, token, created_at, prev_id)"
                   " SELECT 20000 + i, i, 'f.approve', 'view', 'DONE', 7, 'start', 'now', 2 * i"
                   " FROM generate_series(1, 10) i", PGRES_COMMAND_OK));
  /* and another user, alice (8), who finished 10,000 tasks: with two
   * owners of many rows, the plans for bob's id read his share from the
   * statistics while the plan for all values guesses half of the owned
   * rows, which made the inbox's page after one look dearer, planned
   * again at every execution (bench/pg_stmt_cost.sh found it) */
  CHECK(pg_run(st, "INSERT INTO \"user\"(id, username, created_at) VALUES (8, 'alice', 'now')", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, owner_id, token, created_at,"
                   " finished_at, prev_id) SELECT 30000 + i, 1 + i % 1000, 'f.start', 'start', 'DONE', 8, 'start',"
                   " 'now', 'now', i FROM generate_series(1, 10000) i", PGRES_COMMAND_OK));
  /* and carol (9), who canceled 300 tasks: task_rare holds them, for
   * the list of all CANCELED tasks, and no plan of the archive's CANCELED
   * part may walk them (or the primary key) for another user */
  CHECK(pg_run(st, "INSERT INTO \"user\"(id, username, created_at) VALUES (9, 'carol', 'now')", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, owner_id, token, created_at,"
                   " finished_at, prev_id) SELECT 50000 + i, 1 + i % 1000, 'f.approve', 'view', 'CANCELED', 9, 'start',"
                   " 'now', 'now', i FROM generate_series(1, 300) i", PGRES_COMMAND_OK));
  /* the queue's newest 30 tasks created a day after every other task,
   * alice's newest 20 finished a day after her others */
  CHECK(pg_run(st, "UPDATE task SET created_at = CASE WHEN id BETWEEN 11971 AND 12000 THEN '2026-06-02T00:00:00.000Z'"
                   " ELSE '2026-06-01T00:00:00.000Z' END, finished_at = CASE WHEN owner_id = 8 THEN CASE WHEN id > 39980"
                   " THEN '2026-06-02T00:00:00.000Z' ELSE '2026-06-01T00:00:00.000Z' END ELSE finished_at END",
               PGRES_COMMAND_OK));
  /* dave (10) finished 80 tasks on that day, erin (11) 80 a month before
   * every other task was created: the fronts of their archives hold a page
   * since that day and until the day after erin's (ranges of few tasks of
   * people, which the range's statements would read otherwise) */
  CHECK(pg_run(st, "INSERT INTO \"user\"(id, username, created_at) VALUES (10, 'dave', 'now'), (11, 'erin', 'now')",
               PGRES_COMMAND_OK));
  CHECK(pg_run(st, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, owner_id, token, created_at,"
                   " finished_at, prev_id) SELECT 60000 + i, i, 'f.approve', 'view', 'DONE', 10, 'start',"
                   " '2026-06-02T00:00:00.000Z', '2026-06-02T00:00:00.000Z', 2 * i FROM generate_series(1, 80) i"
                   " UNION ALL SELECT 70000 + i, i, 'f.approve', 'view', 'DONE', 11, 'start', '2026-05-01T00:00:00.000Z',"
                   " '2026-05-01T00:00:00.000Z', 2 * i FROM generate_series(1, 80) i",
               PGRES_COMMAND_OK));
  CHECK(vacuum_all_visible(st, "task") == 0);
  /* ... read from the user's tasks in id order (Q_LIST_ARCHIVE_FRONT),
   * newest and oldest first, not from the range of task_created (whose
   * first page of entries is counted: Q_TASK_PAGE_CREATED) */
  store_task_query dave_day = {.view = STORE_VIEW_ARCHIVE, .user_id = 10, .user_name = "dave",
                               .limit = STORE_PAGE_ROWS, .since = "2026-06-02T00:00:00.000Z"};
  CHECK(page_reads(st, &dave_day, STORE_PAGE_ROWS, 60080, 60030, "Index Scan Backward using task_owner",
                   "task_created on task r") == 0);
  store_task_query erin_before = {.view = STORE_VIEW_ARCHIVE, .user_id = 11, .user_name = "erin",
                                  .limit = STORE_PAGE_ROWS, .ascending = 1, .until = "2026-05-02T00:00:00.000Z"};
  CHECK(page_reads(st, &erin_before, STORE_PAGE_ROWS, 70001, 70051, "Index Scan using task_owner",
                   "task_created on task r") == 0);
  /* the queue since that day reads its 30 tasks from task_created
   * (migration 16; the range's subquery, alias r), not the node's whole
   * range; since the day before (21,300 tasks of people, more than
   * CREATED_FEW), the node's range, newest first, until the page is full */
  store_task_query queue_since = {.view = STORE_VIEW_QUEUE, .user_id = 7, .limit = STORE_PAGE_ROWS,
                                  .assignable_json = "[\"f.review\"]", .since = "2026-06-02T00:00:00.000Z"};
  CHECK(page_reads(st, &queue_since, 30, 12000, 11971, "using task_created on task r", NULL) == 0);
  queue_since.since = "2026-05-31T00:00:00.000Z";
  CHECK(page_reads(st, &queue_since, STORE_PAGE_ROWS, 12000, 11950, "Backward", "task_created on task r") == 0);
  /* alice's archive finished since that day: her 20 from task_owner_finished's
   * range (the range's subquery, alias r), not her 10,000 */
  store_task_query finished = {.view = STORE_VIEW_ARCHIVE, .user_id = 8, .user_name = "alice",
                               .limit = STORE_PAGE_ROWS, .finished_since = "2026-06-02T00:00:00.000Z"};
  CHECK(page_reads(st, &finished, 20, 40000, 39981, "using task_owner_finished on task r", NULL) == 0);
  /* alice's archive of flow f: her newest from task_owner_flow's range of
   * her node f.start (migration 17), oldest first too, not a walk of her
   * archive testing each row's flow */
  store_task_query archive_flow = {.view = STORE_VIEW_ARCHIVE, .user_id = 8, .user_name = "alice",
                                   .limit = STORE_PAGE_ROWS, .flow = "f"};
  CHECK(page_reads(st, &archive_flow, STORE_PAGE_ROWS, 40000, 39950, "Index Only Scan Backward using task_owner_flow",
                   NULL) == 0);
  archive_flow.ascending = 1;
  CHECK(page_reads(st, &archive_flow, STORE_PAGE_ROWS, 30001, 30051, "Index Only Scan using task_owner_flow", NULL) == 0);
  /* all CANCELED tasks read task_rare, newest first: carol's 300 among
   * 21,300 tasks, the page the last 51 of them */
  CHECK(all_page_reads(st, "CANCELED", 50300, 50250, "using task_rare", NULL) == 0);
  /* all ASSIGNED tasks (bob's 1,000) read the page's newest entries of
   * task_open (migration 15), not the status's whole range of task_status
   * sorted.  (Of flow f, the page would be Q_LIST_ALL_FEW's: its 1,000
   * processes are few.) */
  CHECK(all_page_reads(st, "ASSIGNED", 2000, 1900, "Index Only Scan Backward using task_open", "task_status") == 0);
  store_task_query plain = {.view = STORE_VIEW_INBOX, .user_id = 7, .limit = 50};
  store_task_query by_flow = {.view = STORE_VIEW_INBOX, .user_id = 7, .limit = 50, .flow = "f", .status = "ASSIGNED"};
  store_task_query one = {.view = STORE_VIEW_INBOX, .user_id = 7, .limit = 50, .process_id = 3};
  store_task_query other = {.view = STORE_VIEW_INBOX, .user_id = 7, .limit = 50, .flow = "g"};
  /* the first pages of the default size: the prepared statements */
  store_task_query first = {.view = STORE_VIEW_INBOX, .user_id = 7, .limit = STORE_PAGE_ROWS};
  store_task_query queue = {.view = STORE_VIEW_QUEUE, .user_id = 7, .limit = STORE_PAGE_ROWS,
                            .assignable_json = "[\"f.review\"]"};
  /* alice's inbox count, alone on the connection, keeps one plan for all
   * values (counts_bench's alice_counts at 1,000,000 processes was planned
   * at every execution while the statement said "owner_id = $2" and
   * "LIMIT $11": each execution's plan, knowing the cap, looked cheaper;
   * this database is too small to show it) */
  {
    fherr err = {0};
    int64_t n = -1;
    store_task_query alice = {.view = STORE_VIEW_INBOX, .user_id = 8, .limit = 999};
    for (int i = 0; i < 7; i++) CHECK(store_task_count_view(st, &alice, &n, &err) == FH_OK && n == 0);
    char kept[160];
    snprintf(kept, sizeof kept, "SELECT generic_plans FROM pg_prepared_statements WHERE name = 'fh%d'", Q_COUNT_INBOX);
    PGresult *res = PQexec(st->own.db->pg, kept);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 0)) > 0;
    if (!ok) fprintf(stderr, "  alice's count: %s plans for all values\n", PQntuples(res) ? PQgetvalue(res, 0, 0) : "no");
    PQclear(res);
    CHECK(ok);
  }
  /* seven rounds: PostgreSQL decides on the sixth execution whether a
   * prepared statement keeps one plan for all parameters */
  for (int round = 0; round < 7; round++) {
    CHECK(list_page(st, &plain, 50, 2000, "1999"));
    CHECK(list_page(st, &by_flow, 50, 2000, "1999"));
    CHECK(list_page(st, &one, 1, 6, "5"));
    CHECK(list_page(st, &other, 0, 0, NULL));
    CHECK(list_page(st, &first, STORE_PAGE_ROWS, 2000, "1999"));
    CHECK(list_page(st, &queue, STORE_PAGE_ROWS, 12000, "2"));
    /* the pages after one, both ways (the queue's and the archive's: the
     * same prepared statements; the inbox's: its own) */
    store_task_query inbox_next = first, archive = first;
    inbox_next.after = 1000;
    CHECK(list_page(st, &inbox_next, STORE_PAGE_ROWS, 998, "997"));
    inbox_next.ascending = 1;
    CHECK(list_page(st, &inbox_next, STORE_PAGE_ROWS, 1002, "1001"));
    /* the inbox and the archive of one flow (prepared: the flow is
     * their only filter), both ways, and a page after one */
    store_task_query inbox_flow = first, archive_flow = {.view = STORE_VIEW_ARCHIVE, .user_id = 8,
                                                         .limit = STORE_PAGE_ROWS, .flow = "f"};
    inbox_flow.flow = "f";
    CHECK(list_page(st, &inbox_flow, STORE_PAGE_ROWS, 2000, "1999"));
    inbox_flow.ascending = 1;
    CHECK(list_page(st, &inbox_flow, STORE_PAGE_ROWS, 2, "1"));
    CHECK(list_page(st, &archive_flow, STORE_PAGE_ROWS, 40000, "10000"));
    archive_flow.after = 39000;
    CHECK(list_page(st, &archive_flow, STORE_PAGE_ROWS, 38999, "8999"));
    archive_flow.ascending = 1;
    CHECK(list_page(st, &archive_flow, STORE_PAGE_ROWS, 39001, "9001"));
    /* a day holding the queue's newest 30 (few: its range's statements,
     * prepared when the date is the only filter), both ways, a page after
     * one, and the inbox's and the archive's of that day (none) */
    store_task_query day = {.view = STORE_VIEW_QUEUE, .user_id = 7, .limit = STORE_PAGE_ROWS,
                            .assignable_json = "[\"f.review\"]", .since = "2026-06-02T00:00:00.000Z"};
    CHECK(list_page(st, &day, 30, 12000, "2"));
    day.after = 11990;
    CHECK(list_page(st, &day, 19, 11989, "1980"));
    day.after = 0;
    day.ascending = 1;
    CHECK(list_page(st, &day, 30, 11971, "1944"));
    store_task_query inbox_day = first, archive_day = {.view = STORE_VIEW_ARCHIVE, .user_id = 8,
                                                       .limit = STORE_PAGE_ROWS, .since = day.since};
    inbox_day.since = day.since;
    CHECK(list_page(st, &inbox_day, 0, 0, NULL));
    CHECK(list_page(st, &archive_day, 0, 0, NULL));
    /* the fronts: dave's and erin's archives, bob's inbox since the day
     * before (all of it), a page after one */
    CHECK(list_page(st, &dave_day, STORE_PAGE_ROWS, 60080, "160"));
    CHECK(list_page(st, &erin_before, STORE_PAGE_ROWS, 70001, "2"));
    store_task_query dave_finished = dave_day, erin_finished = erin_before;
    dave_finished.since = NULL;
    dave_finished.finished_since = "2026-06-02T00:00:00.000Z";
    CHECK(list_page(st, &dave_finished, STORE_PAGE_ROWS, 60080, "160"));
    erin_finished.until = NULL;
    erin_finished.finished_until = "2026-05-02T00:00:00.000Z";
    CHECK(list_page(st, &erin_finished, STORE_PAGE_ROWS, 70001, "2"));
    store_task_query inbox_before = first;
    inbox_before.since = "2026-05-31T00:00:00.000Z";
    CHECK(list_page(st, &inbox_before, STORE_PAGE_ROWS, 2000, "1999"));
    inbox_before.after = 1000;
    CHECK(list_page(st, &inbox_before, STORE_PAGE_ROWS, 998, "997"));
    /* the queue's front: since the day before, and oldest first until
     * that day (all of it either way) */
    store_task_query queue_before = queue, queue_until = queue;
    queue_before.since = "2026-05-31T00:00:00.000Z";
    CHECK(list_page(st, &queue_before, STORE_PAGE_ROWS, 12000, "2"));
    queue_until.ascending = 1;
    queue_until.until = "2026-06-02T00:00:00.000Z";
    CHECK(list_page(st, &queue_until, STORE_PAGE_ROWS, 2001, "4"));
    /* alice's archive finished that day: her newest 20, both ways */
    store_task_query finished_day = {.view = STORE_VIEW_ARCHIVE, .user_id = 8, .limit = STORE_PAGE_ROWS,
                                     .finished_since = day.since};
    CHECK(list_page(st, &finished_day, 20, 40000, "10000"));
    finished_day.ascending = 1;
    CHECK(list_page(st, &finished_day, 20, 39981, "9981"));
    archive.view = STORE_VIEW_ARCHIVE;
    CHECK(list_page(st, &archive, 10, 20010, "20"));
    archive.after = 20005;
    CHECK(list_page(st, &archive, 4, 20004, "8"));
    archive.ascending = 1;
    CHECK(list_page(st, &archive, 5, 20006, "12"));
    store_task_query next = queue, oldest = queue;
    next.after = 11000;
    CHECK(list_page(st, &next, STORE_PAGE_ROWS, 10999, "2000"));
    oldest.ascending = 1;
    CHECK(list_page(st, &oldest, STORE_PAGE_ROWS, 2001, "4"));
    oldest.after = 2500;
    CHECK(list_page(st, &oldest, STORE_PAGE_ROWS, 2501, "1004"));
    store_task_query due = first, due_queue = queue;   /* by due date, in two parts */
    due.by_due = due_queue.by_due = 1;
    CHECK(list_page(st, &due, STORE_PAGE_ROWS, 2, "1"));   /* none has a due date: oldest first */
    CHECK(list_page(st, &due_queue, STORE_PAGE_ROWS, 2001, "4"));
    /* alice's archive by finished_at, newest and oldest first, and a page after one */
    store_task_query finished = {.view = STORE_VIEW_ARCHIVE, .user_id = 8, .limit = STORE_PAGE_ROWS, .by_finished = 1};
    CHECK(list_page(st, &finished, STORE_PAGE_ROWS, 40000, "10000"));
    finished.ascending = 1;
    CHECK(list_page(st, &finished, STORE_PAGE_ROWS, 30001, "1"));
    finished.after = 30051;
    CHECK(list_page(st, &finished, STORE_PAGE_ROWS, 30052, "52"));
    /* all ASSIGNED tasks (bob's 1,000, ids 2..2000 even), as an
     * administrator and as a manager of f (prepared: any page size, the
     * pages after one, both ways), and of a flow none has */
    store_task_query assigned = {.view = STORE_VIEW_ALL, .user_id = 1, .status = "ASSIGNED",
                                 .limit = STORE_PAGE_ROWS};
    CHECK(list_page(st, &assigned, STORE_PAGE_ROWS, 2000, "1999"));
    assigned.after = 1000;
    CHECK(list_page(st, &assigned, STORE_PAGE_ROWS, 998, "997"));
    assigned.ascending = 1;
    CHECK(list_page(st, &assigned, STORE_PAGE_ROWS, 1002, "1001"));
    assigned.after = 1990;
    CHECK(list_page(st, &assigned, 5, 1992, "1991"));
    assigned.after = 0;
    assigned.limit = 7;
    CHECK(list_page(st, &assigned, 7, 2, "1"));
    store_task_query managed = {.view = STORE_VIEW_ALL, .user_id = 9, .status = "ASSIGNED",
                                .limit = STORE_PAGE_ROWS, .managed_flows_json = "[\"f\"]"};
    CHECK(list_page(st, &managed, STORE_PAGE_ROWS, 2000, "1999"));
    /* (flow f's 1,000 processes are few: through them, Q_LIST_ALL_FEW,
     * prepared too), oldest first, a page after one, an administrator's
     * page of flow f; and of a flow none has */
    managed.ascending = 1;
    CHECK(list_page(st, &managed, STORE_PAGE_ROWS, 2, "1"));
    managed.after = 1990;
    CHECK(list_page(st, &managed, 5, 1992, "1991"));
    store_task_query of_flow = assigned;
    of_flow.flow = "f";
    of_flow.limit = STORE_PAGE_ROWS;
    of_flow.ascending = 0;
    CHECK(list_page(st, &of_flow, STORE_PAGE_ROWS, 2000, "1999"));
    of_flow.limit = 7;   /* (another size: its twin, planned for it) */
    of_flow.after = 1000;
    CHECK(list_page(st, &of_flow, 7, 998, "997"));
    managed.managed_flows_json = "[\"g\"]";
    CHECK(list_page(st, &managed, 0, 0, NULL));
    store_task_query shorter = queue;   /* another page size: planned for it */
    shorter.limit = 20;
    CHECK(list_page(st, &shorter, 20, 12000, "2"));
    shorter.limit = 500;
    CHECK(list_page(st, &shorter, 500, 12000, "2"));
    fherr err = {0};
    int64_t n = 0;
    store_task_query cap = plain;
    cap.limit = 999;
    CHECK(store_task_count_view(st, &cap, &n, &err) == FH_OK && n == 999);

    cap = queue;
    cap.limit = 999;
    CHECK(store_task_count_view(st, &cap, &n, &err) == FH_OK && n == 999);
  }
  /* the Processes page as it opens, an administrator's and bob's (who
   * took part in every third process and manages flow f), and the pages
   * after: prepared, the same as planned for their values */
  CHECK(pg_run(st, "INSERT INTO participant(process_id, user_id) SELECT 3 * i, 7 FROM generate_series(1, 333) i",
               PGRES_COMMAND_OK));
  for (int round = 0; round < 7; round++) {
    store_process_query all = {.limit = STORE_PAGE_ROWS}, bobs = {.visible_to = 7, .limit = STORE_PAGE_ROWS};
    CHECK(process_page_as_planned(st, all, "1000,999,"));
    all.after = 500;
    CHECK(process_page_as_planned(st, all, "499,498,"));
    CHECK(process_page_as_planned(st, bobs, "999,996,"));   /* his own */
    bobs.after = 500;
    CHECK(process_page_as_planned(st, bobs, "498,495,"));
    bobs.managed_flows_json = "[\"f\"]";   /* and his flow's */
    CHECK(process_page_as_planned(st, bobs, "499,498,"));
    bobs.after = 0;
    CHECK(process_page_as_planned(st, bobs, "1000,999,"));
    /* the other shapes of the default size: an administrator's page of
     * flow f (prepared: store_sql_pg.c's PV(KEPT, ...)), of f and a status,
     * of a status; bob's of flow f (prepared; 1,000 processes: not few), of
     * a status, of a flow (prepared) and of a status none has (few) */
    store_process_query admin_flow = {.flow = "f", .limit = STORE_PAGE_ROWS}, admin_status = admin_flow;
    CHECK(process_page_as_planned(st, admin_flow, "1000,999,"));
    admin_flow.status = "STARTED";
    admin_flow.after = 500;
    CHECK(process_page_as_planned(st, admin_flow, "499,498,"));
    admin_flow.status = "DONE";   /* (none is: every test of the page's kept) */
    CHECK(process_page_as_planned(st, admin_flow, ""));
    admin_status.flow = NULL;
    admin_status.status = "STARTED";
    CHECK(process_page_as_planned(st, admin_status, "1000,999,"));
    admin_status.status = "DONE";
    CHECK(process_page_as_planned(st, admin_status, ""));
    store_process_query bob_flow = {.visible_to = 7, .flow = "f", .limit = STORE_PAGE_ROWS}, bob_status = bob_flow;
    CHECK(process_page_as_planned(st, bob_flow, "999,996,"));
    bob_status.flow = NULL;
    bob_status.status = "STARTED";
    bob_status.after = 500;
    CHECK(process_page_as_planned(st, bob_status, "498,495,"));
    bob_flow.status = "DONE";
    CHECK(process_page_as_planned(st, bob_flow, ""));
    bob_flow.status = NULL;
    bob_flow.flow = "g";
    CHECK(process_page_as_planned(st, bob_flow, ""));
    bob_status.status = "DONE";
    CHECK(process_page_as_planned(st, bob_status, ""));
    /* bob's of a flow and a status (prepared: he manages none), and as the
     * manager of flow f (planned) */
    store_process_query bob_both = {.visible_to = 7, .flow = "f", .status = "STARTED", .limit = STORE_PAGE_ROWS};
    CHECK(process_page_as_planned(st, bob_both, "999,996,"));
    bob_status.status = "STARTED";
    bob_status.managed_flows_json = "[\"f\"]";
    CHECK(process_page_as_planned(st, bob_status, "499,498,"));
  }
  {
    char kept[400];
    snprintf(kept, sizeof kept, "SELECT count(*) FROM pg_prepared_statements WHERE generic_plans > 0 AND name IN"
             " ('fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d')", Q_PROC_LIST, Q_PROC_LIST_USER, Q_PROC_LIST_FLOW,
             Q_PROC_LIST_USER_FLOW, Q_PROC_LIST_FEW_FLOW, Q_PROC_LIST_OWN_STATUS);
    PGresult *res = PQexec(st->own.db->pg, kept);
    int procs_kept = PQresultStatus(res) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(res, 0, 0), "6");
    if (!procs_kept) fprintf(stderr, "  process pages: %s of 6 keep their plan\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    CHECK(procs_kept);
  }
  /* the kept plan of bob's page of a status tests the status and the flow
   * of each of his processes: half NEW, a fifth of flow g (200: few, read
   * through Q_PROC_LIST_FEW_FLOW), the data put back after */
  CHECK(pg_run(st, "UPDATE process SET status = 'NEW' WHERE id % 2 = 0", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "UPDATE process SET flow = 'g' WHERE id % 5 = 0", PGRES_COMMAND_OK));
  for (int round = 0; round < 3; round++) {
    store_process_query own = {.visible_to = 7, .status = "NEW", .limit = STORE_PAGE_ROWS};
    CHECK(process_page_as_planned(st, own, "996,990,984,978,972,966,960,954,"));
    own.status = "STARTED";
    CHECK(process_page_as_planned(st, own, "999,993,987,981,975,969,963,957,"));
    own.flow = "f";
    CHECK(process_page_as_planned(st, own, "999,993,987,981,969,963,957,951,"));
    own.status = "NEW";
    own.after = 960;
    CHECK(process_page_as_planned(st, own, "954,948,942,936,924,"));
    own.flow = "g";   /* few */
    CHECK(process_page_as_planned(st, own, "930,900,870,"));
  }
  CHECK(pg_run(st, "UPDATE process SET status = 'STARTED', flow = 'f'", PGRES_COMMAND_OK));
  /* the page without filters is the one prepared statement of a list */
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FILTER (WHERE statement LIKE '%%t.process_id = $6%%'),"
           " count(*) FILTER (WHERE name = 'fh%d') FROM pg_prepared_statements", Q_LIST_INBOX);
  PGresult *res = PQexec(st->own.db->pg, sql);
  CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
  CHECK(!strcmp(PQgetvalue(res, 0, 0), "0") && !strcmp(PQgetvalue(res, 0, 1), "1"));
  PQclear(res);
  /* ... and the inbox's and the queue's kept their plan for all
   * parameters: a page planned again at every execution spent more on
   * planning than on its rows (with LIMIT $11, a constant in each
   * execution's plan, the plan for all parameters looked dearer) */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_prepared_statements WHERE generic_plans > 0"
           " AND name IN ('fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d',"
           " 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d',"
           " 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d', 'fh%d',"
           " 'fh%d')",
           Q_LIST_INBOX, Q_LIST_QUEUE_NODES, Q_LIST_QUEUE_NODES_ASC, Q_LIST_INBOX_DUE_PARTS, Q_LIST_QUEUE_DUE_PARTS,
           Q_LIST_INBOX_NEXT, Q_LIST_INBOX_NEXT_ASC, Q_LIST_ARCHIVE_PARTS, Q_LIST_ARCHIVE_PARTS_ASC,
           Q_LIST_ARCHIVE_FIN_PARTS, Q_LIST_ARCHIVE_FIN_PARTS_ASC, Q_COUNT_INBOX, Q_COUNT_QUEUE, Q_LIST_INBOX_FLOW,
           Q_LIST_INBOX_FLOW_ASC, Q_LIST_ARCHIVE_FLOW, Q_LIST_ARCHIVE_FLOW_ASC, Q_LIST_QUEUE_DATE, Q_LIST_QUEUE_DATE_ASC,
           Q_LIST_INBOX_DATE, Q_LIST_ARCHIVE_DATE, Q_LIST_ARCHIVE_FINISHED, Q_LIST_ARCHIVE_FINISHED_ASC,
           Q_LIST_INBOX_FRONT, Q_LIST_ARCHIVE_FRONT, Q_LIST_ARCHIVE_FRONT_ASC, Q_LIST_QUEUE_FRONT, Q_LIST_QUEUE_FRONT_ASC,
           Q_LIST_ARCHIVE_FRONT_FIN, Q_LIST_ARCHIVE_FRONT_FIN_ASC, Q_LIST_ALL_STATUS, Q_LIST_ALL_STATUS_ASC,
           Q_LIST_ALL_FEW, Q_LIST_ALL_FEW_ASC, Q_TASK_COUNT_CREATED, Q_TASK_PAGE_CREATED, Q_TASK_COUNT_FINISHED,
           Q_TASK_PAGE_FINISHED);
  res = PQexec(st->own.db->pg, sql);
  CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
  if (strcmp(PQgetvalue(res, 0, 0), "38")) {
    PGresult *all = PQexec(st->own.db->pg, "SELECT name, generic_plans, custom_plans, statement FROM pg_prepared_statements");
    for (int i = 0; i < PQntuples(all); i++)
      fprintf(stderr, "  prepared %s: %s generic, %s custom plans: %.300s\n", PQgetvalue(all, i, 0), PQgetvalue(all, i, 1), PQgetvalue(all, i, 2), PQgetvalue(all, i, 3));
    PQclear(all);
  }
  CHECK(!strcmp(PQgetvalue(res, 0, 0), "38"));
  PQclear(res);
  CHECK(pg_run(st, "SET plan_cache_mode = force_generic_plan", PGRES_COMMAND_OK));
  /* the inbox walks its index backwards (no Sort), the queue each node's
   * queued tasks (then sorts the few it read); neither reads a user row
   * (the owner is the caller or none) */
  const struct { int q; const char *json, *walk; int sorts; } pages[] = {
      {Q_LIST_INBOX, "[]", "Index Scan Backward using task_owner_status", 0},
      {Q_LIST_QUEUE_NODES, "[\"f.review\"]", "Index Only Scan Backward using task_queue_node", 1},
      {Q_LIST_QUEUE_NODES_ASC, "[\"f.review\"]", "Index Only Scan using task_queue_node", 1},
      /* (the page's 51 rows at most, sorted after their join, or not) */
      {Q_LIST_INBOX_NEXT, "[]", "Index Only Scan Backward using task_owner_status", -1},
      {Q_LIST_INBOX_NEXT_ASC, "[]", "Index Only Scan using task_owner_status", -1},
      /* each finished status's range of the user, in id order: never a
       * walk of every task filtered by user and status */
      {Q_LIST_ARCHIVE_PARTS, "[]", "Index Only Scan Backward using task_owner_status", -1},
      {Q_LIST_ARCHIVE_PARTS_ASC, "[]", "Index Only Scan using task_owner_status", -1}};
  for (int p = 0; p < 7; p++) {
    snprintf(sql, sizeof sql, "EXPLAIN EXECUTE fh%d(NULL, 7, '%s', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 50)",
             pages[p].q, pages[p].json);
    res = PQexec(st->own.db->pg, sql);
    CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
    int backward = 0, sort = 0, user = 0;
    for (int i = 0; i < PQntuples(res); i++) {
      backward |= strstr(PQgetvalue(res, i, 0), pages[p].walk) != NULL;
      sort |= strstr(PQgetvalue(res, i, 0), "Sort") != NULL;
      user |= strstr(PQgetvalue(res, i, 0), "user") != NULL;
    }
    int sorted_as_wanted = pages[p].sorts < 0 || sort == pages[p].sorts;
    if (pages[p].q == Q_LIST_ARCHIVE_PARTS || pages[p].q == Q_LIST_ARCHIVE_PARTS_ASC) {
      /* each part (DONE, CANCELED) in the user's range, none a walk */
      int ranges = 0, walks = 0;
      for (int i = 0; i < PQntuples(res); i++) {
        ranges += strstr(PQgetvalue(res, i, 0), pages[p].walk) != NULL;
        walks += strstr(PQgetvalue(res, i, 0), "using task_pkey on task d") != NULL ||
                 strstr(PQgetvalue(res, i, 0), "using task_pkey on task c") != NULL ||
                 strstr(PQgetvalue(res, i, 0), "using task_rare") != NULL;
      }
      sorted_as_wanted = ranges == 2 && walks == 0;
    }
    if (getenv("FH_PLANS") /* print every plan */ || !(backward && sorted_as_wanted && !user))
      for (int i = 0; i < PQntuples(res); i++) fprintf(stderr, "  %s\n", PQgetvalue(res, i, 0));
    PQclear(res);
    CHECK(backward && sorted_as_wanted && !user);
  }
  /* the inbox and the archive of one flow: each node's range of the
   * user's, in the plan for all values too */
  const struct { int q; int user; const char *range; } flow_pages[] = {
      {Q_LIST_INBOX_FLOW, 7, "Index Only Scan Backward using task_status on task q"},
      {Q_LIST_INBOX_FLOW_ASC, 7, "Index Only Scan using task_status on task q"},
      {Q_LIST_ARCHIVE_FLOW, 8, "Index Only Scan Backward using task_owner_flow on task q"},
      {Q_LIST_ARCHIVE_FLOW_ASC, 8, "Index Only Scan using task_owner_flow on task q"}};
  for (int p = 0; p < 4; p++) {
    snprintf(sql, sizeof sql, "EXPLAIN EXECUTE fh%d(NULL, %d, '[]', NULL, 'f', NULL, NULL, NULL, NULL, NULL, 51)",
             flow_pages[p].q, flow_pages[p].user);
    res = PQexec(st->own.db->pg, sql);
    CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
    int ranges = 0, scans = 0;
    for (int i = 0; i < PQntuples(res); i++) {
      ranges += strstr(PQgetvalue(res, i, 0), flow_pages[p].range) != NULL;
      scans += strstr(PQgetvalue(res, i, 0), "Seq Scan") != NULL;
    }
    if (getenv("FH_PLANS") || ranges != 1 || scans)
      for (int i = 0; i < PQntuples(res); i++) fprintf(stderr, "  %s\n", PQgetvalue(res, i, 0));
    PQclear(res);
    CHECK(ranges == 1 && scans == 0);
  }
  /* and the page's previous ids by primary key, not by scanning the tasks,
   * their array made once (an InitPlan), not again for every row scanned */
  snprintf(sql, sizeof sql, "EXPLAIN EXECUTE fh%d('[1998,2000]')", Q_LIST_PREVIOUS);
  res = PQexec(st->own.db->pg, sql);
  CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
  int scans = 0;
  for (int i = 0; i < PQntuples(res); i++) {
    const char *line = PQgetvalue(res, i, 0);
    scans += strstr(line, "Seq Scan on task ") != NULL || strstr(line, "translate(") != NULL;   /* task_previous may */
  }
  PQclear(res);
  store_close(st);
  CHECK(scans == 0);
  return 0;
}

/* A relation's pages as pg_class has them (-1: unknown) */
static long long relpages_of(store *st, const char *name) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT relpages FROM pg_class WHERE relname = '%s'", name);
  PGresult *r = PQexec(st->own.db->pg, sql);
  long long n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

/* The partial indexes of open work, left sparse by finished tasks, are
 * rebuilt (store_upkeep.h): not while another host holds the upkeep's
 * lock, once when bloated, not again when compact; an invalid copy a cut
 * short rebuild left (..._ccnew) is dropped; SQLite has nothing to do. */
static int test_index_upkeep(void) {
  char url[512];
  if (!getenv("FLOWHOST_TEST_PG")) return fprintf(stderr, "  skipped: no FLOWHOST_TEST_PG\n"), 0;
  store *st = open_pg(url, sizeof url);
  CHECK(st);
  /* 60,000 queued tasks, of which every 300th stays open */
  CHECK(pg_run(st, "INSERT INTO process(id, flow, status, created_at) SELECT i, 'f', 'STARTED', 'now'"
                   " FROM generate_series(1, 1000) i", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, token, created_at)"
                   " SELECT i, 1 + i % 1000, 'f.review', 'view', 'NEW', 'start', 'now' FROM generate_series(1, 60000) i",
               PGRES_COMMAND_OK));
  CHECK(pg_run(st, "UPDATE task SET status = 'DONE' WHERE id % 300 <> 0", PGRES_COMMAND_OK));
  CHECK(pg_run(st, "VACUUM ANALYZE task", PGRES_COMMAND_OK));
  long long before = relpages_of(st, "task_queue_node");
  CHECK(before >= STORE_BLOAT_MIN_PAGES);
  /* an invalid index of the name REINDEX CONCURRENTLY gives its copy (a
   * unique index over duplicate values fails half built) */
  PGresult *r = PQexec(st->own.db->pg, "CREATE UNIQUE INDEX CONCURRENTLY task_queue_node_ccnew ON task(process_id)"
                                       " WHERE status = 'NEW'");
  CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
  PQclear(r);
  CHECK(relpages_of(st, "task_queue_node_ccnew") >= 0);
  store_index_rebuild done[16];
  int n = -1;
  fherr err = {0};
  /* another host at it: nothing done, no error */
  store *other = NULL;
  store_options opt = {0};
  CHECK(store_open(url, &opt, &other, &err) == FH_OK);
  CHECK(pg_run(other, "SELECT pg_advisory_lock(1718382455, 2)", PGRES_TUPLES_OK));
  CHECK(store_index_upkeep(st, done, 16, &n, &err) == FH_OK && n == 0);
  CHECK(relpages_of(st, "task_queue_node") == before);
  CHECK(pg_run(other, "SELECT pg_advisory_unlock(1718382455, 2)", PGRES_TUPLES_OK));
  store_close(other);
  /* rebuilt, the leftover gone */
  CHECK(store_index_upkeep(st, done, 16, &n, &err) == FH_OK);
  int found = -1;
  for (int i = 0; i < n; i++)
    if (!strcmp(done[i].index, "task_queue_node")) found = i;
  if (found < 0) fprintf(stderr, "  %d rebuilt, task_queue_node (%lld pages) not among them\n", n, before);
  CHECK(found >= 0);
  /* (the entries as VACUUM estimated them: 200 open) */
  if (done[found].pages_before != before || done[found].entries < 100 || done[found].entries > 400)
    fprintf(stderr, "  %lld pages (%lld before), %lld entries\n", done[found].pages_before, before, done[found].entries);
  CHECK(done[found].pages_before == before && done[found].entries >= 100 && done[found].entries <= 400);
  CHECK(done[found].pages_after < before / 10 && relpages_of(st, "task_queue_node") == done[found].pages_after);
  CHECK(relpages_of(st, "task_queue_node_ccnew") == -1);
  /* the queue still reads its index */
  store_task_query queue = {.view = STORE_VIEW_QUEUE, .user_id = 7, .limit = STORE_PAGE_ROWS,
                            .assignable_json = "[\"f.review\"]"};
  CHECK(page_reads(st, &queue, STORE_PAGE_ROWS, 60000, 45000, "task_queue_node", NULL) == 0);
  /* compact now: nothing to do */
  CHECK(pg_run(st, "VACUUM ANALYZE task", PGRES_COMMAND_OK));
  CHECK(store_index_upkeep(st, done, 16, &n, &err) == FH_OK && n == 0);
  store_close(st);
  /* SQLite: nothing, ever */
  store *lite = NULL;
  CHECK(store_open(":memory:", &opt, &lite, &err) == FH_OK);
  n = -1;
  CHECK(store_index_upkeep(lite, done, 16, &n, &err) == FH_OK && n == 0);
  store_close(lite);
  return 0;
}

static const test_case TESTS[] = {
    {"texts", test_texts},
    {"selection", test_selection},
    {"sqlstates", test_sqlstates},
    {"prepare_all", test_prepare_all},
    {"migrate_once", test_migrate_once},
    {"reconnect", test_reconnect},
    {"probe_while_away", test_probe_while_away},
    {"list_plans", test_list_plans},
    {"index_upkeep", test_index_upkeep},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
