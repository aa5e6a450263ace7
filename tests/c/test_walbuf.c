/* store_walbuf: the VFS that writes the WAL frames of one commit with one
 * write.  Underneath it (registered as SQLite's default VFS before the
 * first walbuf_vfs_name() call, so walbuf wraps it) sits "test-under": it
 * passes everything to the real default VFS, counts the writes that reach
 * the WAL file, and on request fails them with SQLITE_FULL after a byte
 * budget (after writing what fits, as a full disk does) or _exits the
 * process in the middle of one (a crash during the commit's write).
 *
 * Every case runs on a fresh database under /tmp and removes it at the end.
 * Committed data is checked twice: through the connections (the wal-index
 * in shared memory) and on a copy of the database and WAL files without
 * the -shm, which SQLite must recover from the WAL file's frames alone. */
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store_db.h"
#include "store_walbuf.h"
#include "test.h"

/* --- test-under: the counting and failing VFS below walbuf ------------- */

typedef struct under_file {
  sqlite3_file base;
  sqlite3_file *real;
  int is_wal;
} under_file;

static sqlite3_vfs under_vfs, *under_real;
static long wal_writes;             /* writes that reached a WAL file (not counting zeros) */
static long zero_writes;            /* writes of zeros only: walbuf filling the WAL ahead */
static long long fail_budget = -1;  /* >= 0: WAL bytes allowed before one SQLITE_FULL */
static long long crash_budget = -1; /* >= 0: WAL bytes written before _exit(0) */

#define REAL(f) (((under_file *)(f))->real)

static int all_zero(const void *p, int n) {
  const unsigned char *b = p;
  for (int i = 0; i < n; i++)
    if (b[i]) return 0;
  return n > 0;
}

static int u_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off) {
  under_file *u = (under_file *)f;
  if (!u->is_wal) return u->real->pMethods->xWrite(u->real, p, n, off);
  if (all_zero(p, n)) {   /* the fill ahead (a frame never is: salts, checksums) */
    __atomic_add_fetch(&zero_writes, 1, __ATOMIC_SEQ_CST);
    return u->real->pMethods->xWrite(u->real, p, n, off);
  }
  __atomic_add_fetch(&wal_writes, 1, __ATOMIC_SEQ_CST);
  long long crash = __atomic_load_n(&crash_budget, __ATOMIC_SEQ_CST);
  if (crash >= 0 && n > crash) {
    if (crash > 0) u->real->pMethods->xWrite(u->real, p, (int)crash, off);
    _exit(0);
  }
  long long budget = __atomic_load_n(&fail_budget, __ATOMIC_SEQ_CST);
  if (budget >= 0 && n > budget) {
    if (budget > 0) u->real->pMethods->xWrite(u->real, p, (int)budget, off);
    __atomic_store_n(&fail_budget, -1, __ATOMIC_SEQ_CST); /* the disk has room again */
    return SQLITE_FULL;
  }
  if (budget >= 0) __atomic_sub_fetch(&fail_budget, n, __ATOMIC_SEQ_CST);
  if (crash >= 0) __atomic_sub_fetch(&crash_budget, n, __ATOMIC_SEQ_CST);
  return u->real->pMethods->xWrite(u->real, p, n, off);
}

static int u_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int u_read(sqlite3_file *f, void *p, int n, sqlite3_int64 o) {
  return REAL(f)->pMethods->xRead(REAL(f), p, n, o);
}
static int u_truncate(sqlite3_file *f, sqlite3_int64 s) { return REAL(f)->pMethods->xTruncate(REAL(f), s); }
static int u_sync(sqlite3_file *f, int fl) { return REAL(f)->pMethods->xSync(REAL(f), fl); }
static int u_size(sqlite3_file *f, sqlite3_int64 *s) { return REAL(f)->pMethods->xFileSize(REAL(f), s); }
static int u_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int u_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int u_reserved(sqlite3_file *f, int *o) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), o); }
static int u_fcntl(sqlite3_file *f, int op, void *a) {
  return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int u_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int u_devchar(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int u_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp) {
  return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int u_shm_lock(sqlite3_file *f, int o, int n, int fl) {
  return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl);
}
static void u_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int u_shm_unmap(sqlite3_file *f, int d) { return REAL(f)->pMethods->xShmUnmap(REAL(f), d); }
static int u_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp) {
  return REAL(f)->pMethods->xFetch(REAL(f), o, n, pp);
}
static int u_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p) {
  return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static const sqlite3_io_methods under_methods = {
    3,        u_close,   u_read,   u_write,     u_truncate,    u_sync,        u_size,
    u_lock,   u_unlock,  u_reserved, u_fcntl,   u_sector,      u_devchar,     u_shm_map,
    u_shm_lock, u_shm_barrier, u_shm_unmap, u_fetch, u_unfetch,
};

static int u_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out) {
  (void)v;
  under_file *u = (under_file *)f;
  u->real = (sqlite3_file *)(u + 1);
  u->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = under_real->xOpen(under_real, name, u->real, flags, out);
  f->pMethods = u->real->pMethods ? &under_methods : NULL;
  return rc;
}

/* Registers test-under as the default VFS (walbuf wraps the default). */
static void under_register(void) {
  under_real = sqlite3_vfs_find(NULL);
  under_vfs = *under_real;
  under_vfs.zName = "test-under";
  under_vfs.szOsFile = (int)sizeof(under_file) + under_real->szOsFile;
  under_vfs.xOpen = u_open;
  under_vfs.pNext = NULL;
  sqlite3_vfs_register(&under_vfs, 1);
}

/* --- helpers ------------------------------------------------------------ */

static int walbuf_used;

/* A connection through walbuf (through test-under alone when plain). */
static sqlite3 *open_db(const char *path, int plain) {
  __atomic_store_n(&walbuf_used, 1, __ATOMIC_SEQ_CST);
  const char *vfs = plain ? NULL : walbuf_vfs_name();
  if (!plain && !vfs) return NULL;
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK) {
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
  return db;
}

static int exec(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL); }

/* The first column of the first row of sql, or -1. */
static long long query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return -1;
  if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static int integrity_ok(sqlite3 *db) {
  sqlite3_stmt *s;
  int ok = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) return 0;
  if (sqlite3_step(s) == SQLITE_ROW) ok = !strcmp((const char *)sqlite3_column_text(s, 0), "ok");
  sqlite3_finalize(s);
  return ok;
}

/* Every database a case made, removed at exit also when a CHECK failed. */
static char made[16][128];
static int n_made;

static void db_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "/tmp/test_walbuf_%s_%d.db", name, (int)getpid());
  test_remove_db(buf);
  if (n_made < 16) snprintf(made[n_made++], sizeof made[0], "%s", buf);
}

static void remove_made(void) {
  for (int i = 0; i < n_made; i++) {
    char path[128], copy[160];
    memcpy(path, made[i], sizeof path);
    path[sizeof path - 1] = 0;
    snprintf(copy, sizeof copy, "%s.copy", path);
    test_remove_db(path);
    test_remove_db(copy);
  }
}

static int copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  int ok = in && out;
  char buf[65536];
  size_t n;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
  if (in) fclose(in);
  if (out && fclose(out)) ok = 0;
  return ok;
}

/* Copies the database and its WAL (not the -shm) and opens the copy: SQLite
 * recovers the wal-index from the WAL file's frames alone.  Returns
 * sql's value there, -2 if the copy fails its integrity check. */
static long long recovered(const char *path, const char *sql) {
  char copy[256], from[300], to[300];
  snprintf(copy, sizeof copy, "%s.copy", path);
  test_remove_db(copy);
  snprintf(from, sizeof from, "%s-wal", path);
  snprintf(to, sizeof to, "%s-wal", copy);
  if (!copy_file(path, copy) || (access(from, F_OK) == 0 && !copy_file(from, to))) return -1;
  sqlite3 *db = open_db(copy, 1);
  long long v = !db ? -1 : integrity_ok(db) ? query_int(db, sql) : -2;
  sqlite3_close(db);
  test_remove_db(copy);
  return v;
}

/* One transaction of writer w: k rows of txn id, 600-byte blobs (several
 * pages), and the total in c; rolled back when commit is 0. */
static int write_txn(sqlite3 *db, int txn, int k, int commit) {
  char sql[256];
  if (exec(db, "BEGIN IMMEDIATE")) return 1;
  for (int i = 0; i < k; i++) {
    snprintf(sql, sizeof sql, "INSERT INTO t(txn, pad) VALUES (%d, randomblob(600))", txn);
    if (exec(db, sql)) return exec(db, "ROLLBACK"), 1;
  }
  snprintf(sql, sizeof sql, "UPDATE c SET n = n + %d", k);
  if (exec(db, sql)) return exec(db, "ROLLBACK"), 1;
  return commit ? exec(db, "COMMIT") : exec(db, "ROLLBACK");
}

static int make_schema(sqlite3 *db) {
  return exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, txn INT, pad BLOB);"
                  "CREATE TABLE c(n INT); INSERT INTO c VALUES (0)");
}

/* Rows in t, or -1 when a reader sees an incomplete transaction (rows not
 * matching c's total, or a txn id without all its rows). */
static const char *const CONSISTENT =
    "SELECT CASE WHEN (SELECT count(*) FROM t) = (SELECT n FROM c) AND NOT EXISTS"
    " (SELECT 1 FROM t GROUP BY txn HAVING count(*) <> 5) THEN (SELECT count(*) FROM t) ELSE -1 END";

/* --- concurrent writers and readers -------------------------------------- */

enum { WRITERS = 3, READERS = 2, TXNS = 60, K_ROWS = 5 };

typedef struct worker {
  const char *path;
  int id, failures, reads, stop;
  const int *first_reads;   /* a writer: the first reader's count */
} worker;

static void *writer_main(void *p) {
  worker *w = p;
  sqlite3 *db = open_db(w->path, 0);
  if (!db) {
    w->failures++;
    return NULL;
  }
  /* the writes begin once a reader reads: on a loaded machine the readers'
   * threads were not scheduled before the last write, and read nothing */
  while (!__atomic_load_n(w->first_reads, __ATOMIC_SEQ_CST)) sched_yield();
  for (int i = 0; i < TXNS; i++) w->failures += write_txn(db, w->id * 1000 + i, K_ROWS, 1) != 0;
  sqlite3_close(db);
  return NULL;
}

static void *reader_main(void *p) {
  worker *w = p;
  sqlite3 *db = open_db(w->path, 0);
  if (!db) {
    w->failures++;
    return NULL;
  }
  while (!__atomic_load_n(&w->stop, __ATOMIC_SEQ_CST)) {
    long long n = query_int(db, CONSISTENT);
    if (n < 0) w->failures++;
    __atomic_add_fetch(&w->reads, 1, __ATOMIC_SEQ_CST);
  }
  sqlite3_close(db);
  return NULL;
}

/* Writers on their own connections and threads; readers always see whole
 * transactions; the WAL file alone holds them all. */
static int test_concurrent_commits(void) {
  char path[128];
  db_path(path, sizeof path, "concurrent");
  sqlite3 *db = open_db(path, 0);
  CHECK(db && make_schema(db) == SQLITE_OK);
  worker ws[WRITERS + READERS];
  pthread_t th[WRITERS + READERS];
  for (int i = 0; i < WRITERS + READERS; i++)
    ws[i] = (worker){.path = path, .id = i + 1, .first_reads = &ws[WRITERS].reads};
  for (int i = 0; i < WRITERS + READERS; i++)
    pthread_create(&th[i], NULL, i < WRITERS ? writer_main : reader_main, &ws[i]);
  for (int i = 0; i < WRITERS; i++) pthread_join(th[i], NULL);
  for (int i = WRITERS; i < WRITERS + READERS; i++) {
    __atomic_store_n(&ws[i].stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(th[i], NULL);
  }
  for (int i = 0; i < WRITERS + READERS; i++) CHECK(ws[i].failures == 0);
  CHECK(ws[WRITERS].reads > 0);
  CHECK(query_int(db, CONSISTENT) == WRITERS * TXNS * K_ROWS);
  CHECK(integrity_ok(db));
  CHECK(recovered(path, CONSISTENT) == WRITERS * TXNS * K_ROWS);
  sqlite3_close(db);
  test_remove_db(path);
  return 0;
}

/* --- spilled frames of a rolled-back transaction ------------------------ */

/* A transaction of 400 rows (~60 pages) on a connection with a 10-page
 * cache: its frames spill into the WAL uncommitted; it reads them back
 * (its own rows, PRAGMA integrity_check) and rolls back. */
static int spill_and_roll_back(sqlite3 *a, int txn) {
  char sql[128];
  if (exec(a, "BEGIN IMMEDIATE")) return 1;
  for (int i = 0; i < 400; i++) {
    snprintf(sql, sizeof sql, "INSERT INTO t(txn, pad) VALUES (%d, randomblob(600))", txn);
    if (exec(a, sql)) return 1;
  }
  snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE txn = %d AND length(pad) = 600", txn);
  int ok = query_int(a, sql) == 400 && integrity_ok(a);
  return exec(a, "ROLLBACK") || !ok;
}

/* A with a 10-page cache writes transactions far larger and rolls them back; B commits between rounds and
 * its frames land where A's were.  Nothing of A, all of B, in the
 * connections and in the recovered copy. */
static int test_spill_rollback(void) {
  char path[128];
  db_path(path, sizeof path, "spill");
  sqlite3 *a = open_db(path, 0), *b = open_db(path, 0);
  CHECK(a && b && make_schema(a) == SQLITE_OK);
  CHECK(exec(a, "PRAGMA cache_size=10") == SQLITE_OK);
  long before = __atomic_load_n(&wal_writes, __ATOMIC_SEQ_CST);
  for (int round = 0; round < 5; round++) {
    CHECK(write_txn(b, 100 + round, K_ROWS, 1) == SQLITE_OK);
    CHECK(spill_and_roll_back(a, 200 + round) == 0);
    CHECK(query_int(b, CONSISTENT) == (round + 1) * K_ROWS);
  }
  CHECK(__atomic_load_n(&wal_writes, __ATOMIC_SEQ_CST) - before > 5); /* the spills reached the file */
  CHECK(write_txn(a, 300, K_ROWS, 1) == SQLITE_OK);
  CHECK(query_int(b, CONSISTENT) == 6 * K_ROWS);
  CHECK(query_int(a, "SELECT count(*) FROM t WHERE txn >= 200 AND txn < 300") == 0);
  CHECK(integrity_ok(a) && integrity_ok(b));
  CHECK(recovered(path, CONSISTENT) == 6 * K_ROWS);
  sqlite3_close(a);
  sqlite3_close(b);
  test_remove_db(path);
  return 0;
}

/* --- the writes that reach the WAL file --------------------------------- */

enum { N_COMMITS = 40, K_PAGES = 8 };

/* WAL writes for N_COMMITS commits of one row with a K_PAGES-page blob. */
static long count_wal_writes(int plain) {
  char path[128];
  db_path(path, sizeof path, plain ? "count_plain" : "count");
  sqlite3 *db = open_db(path, plain);
  if (!db || make_schema(db)) return sqlite3_close(db), -1;
  long before = __atomic_load_n(&wal_writes, __ATOMIC_SEQ_CST);
  for (int i = 0; i < N_COMMITS; i++) {
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO t(txn, pad) VALUES (%d, randomblob(%d))", i, K_PAGES * 4000);
    if (exec(db, sql)) return sqlite3_close(db), -1;
  }
  long n = __atomic_load_n(&wal_writes, __ATOMIC_SEQ_CST) - before;
  int ok = query_int(db, "SELECT count(*) FROM t") == N_COMMITS && integrity_ok(db);
  sqlite3_close(db);
  test_remove_db(path);
  return ok ? n : -1;
}

/* ~N writes through walbuf (one per commit; one more per WAL restart),
 * not the >= 2*N*K of SQLite's own frame-by-frame writes. */
static int test_one_write_per_commit(void) {
  long gathered = count_wal_writes(0), plain = count_wal_writes(1);
  fprintf(stderr, "  %d commits of %d+ pages: %ld WAL writes through walbuf, %ld without\n", N_COMMITS,
          K_PAGES, gathered, plain);
  CHECK(gathered > 0 && plain > 0);
  CHECK(plain >= 2L * N_COMMITS * K_PAGES);
  CHECK(gathered <= N_COMMITS + N_COMMITS / 4);
  return 0;
}

/* --- a full disk under the WAL ------------------------------------------ */

/* The commit's write fails after part of it reached the file (once: the
 * next write would succeed): COMMIT fails, the data is as before it, also
 * for recovery (the failed commit's frames never reach the file later),
 * and later transactions work. */
static int test_write_error(void) {
  char path[128];
  db_path(path, sizeof path, "full");
  sqlite3 *db = open_db(path, 0), *other = open_db(path, 0);
  CHECK(db && other && make_schema(db) == SQLITE_OK);
  for (int i = 0; i < 3; i++) CHECK(write_txn(db, i, K_ROWS, 1) == SQLITE_OK);
  for (int budget = 0; budget <= 9000; budget += 4500) {
    __atomic_store_n(&fail_budget, budget, __ATOMIC_SEQ_CST);
    CHECK(exec(db, "BEGIN IMMEDIATE") == SQLITE_OK);
    for (int i = 0; i < K_ROWS; i++)
      CHECK(exec(db, "INSERT INTO t(txn, pad) VALUES (99, randomblob(600))") == SQLITE_OK);
    CHECK(exec(db, "UPDATE c SET n = n + 5") == SQLITE_OK);
    int rc = exec(db, "COMMIT");
    __atomic_store_n(&fail_budget, -1, __ATOMIC_SEQ_CST);
    CHECK((rc & 0xff) == SQLITE_FULL);
    if (!sqlite3_get_autocommit(db)) exec(db, "ROLLBACK");
    CHECK(query_int(db, CONSISTENT) == 3 * K_ROWS);
    CHECK(query_int(other, CONSISTENT) == 3 * K_ROWS);
    CHECK(recovered(path, CONSISTENT) == 3 * K_ROWS);
  }
  for (int i = 3; i < 6; i++) CHECK(write_txn(i % 2 ? db : other, i, K_ROWS, 1) == SQLITE_OK);
  CHECK(query_int(other, CONSISTENT) == 6 * K_ROWS);
  CHECK(integrity_ok(db));
  CHECK(recovered(path, CONSISTENT) == 6 * K_ROWS);
  sqlite3_close(other);
  sqlite3_close(db);
  test_remove_db(path);
  return 0;
}

/* --- a pending run before every other call ------------------------------ */

/* A non-commit frame (header + page, zeros: recovery ignores it) appended
 * at the end of the WAL file through walbuf; the count of writes that
 * reached the file must not move. */
static int make_pending(sqlite3_file *wal, long *count) {
  static unsigned char frame[24 + 4096];   /* a header of zeros (no commit), a page that is not */
  memset(frame + 24, 0xa5, 4096);
  sqlite3_int64 size = 0;
  if (wal->pMethods->xFileSize(wal, &size)) return 1;
  *count = __atomic_load_n(&wal_writes, __ATOMIC_SEQ_CST);
  if (wal->pMethods->xWrite(wal, frame, 24, size)) return 1;
  if (wal->pMethods->xWrite(wal, frame + 24, 4096, size + 24)) return 1;
  return __atomic_load_n(&wal_writes, __ATOMIC_SEQ_CST) != *count;
}

/* The run reached the file as one write. */
static int written(long count) { return __atomic_load_n(&wal_writes, __ATOMIC_SEQ_CST) == count + 1; }

/* While a connection holds the write lock, a pending run reaches the file
 * before each call on the WAL file, before shm and lock calls on its main
 * file, and at the latest when ROLLBACK releases the write lock. */
static int test_run_written_before_calls(void) {
  char path[128];
  db_path(path, sizeof path, "calls");
  sqlite3 *db = open_db(path, 0);
  CHECK(db && make_schema(db) == SQLITE_OK && write_txn(db, 1, K_ROWS, 1) == SQLITE_OK);
  sqlite3_file *wal = NULL, *main_file = NULL;
  CHECK(exec(db, "BEGIN IMMEDIATE") == SQLITE_OK);
  CHECK(sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK && wal);
  CHECK(sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &main_file) == SQLITE_OK && main_file);
  long n;
  char buf[32];
  sqlite3_int64 size;
  int moved;
  void volatile *shm;
  CHECK(make_pending(wal, &n) == 0 && wal->pMethods->xRead(wal, buf, sizeof buf, 0) == SQLITE_OK);
  CHECK(written(n));
  CHECK(make_pending(wal, &n) == 0 && wal->pMethods->xFileSize(wal, &size) == SQLITE_OK && written(n));
  CHECK(make_pending(wal, &n) == 0 && wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) == SQLITE_OK);
  CHECK(written(n));
  CHECK(make_pending(wal, &n) == 0);
  CHECK(wal->pMethods->xFileControl(wal, SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK);
  CHECK(written(n));
  CHECK(make_pending(wal, &n) == 0);
  main_file->pMethods->xShmBarrier(main_file);
  CHECK(written(n));
  CHECK(make_pending(wal, &n) == 0);
  CHECK(main_file->pMethods->xShmMap(main_file, 0, 32768, 0, &shm) == SQLITE_OK);
  CHECK(written(n));
  CHECK(make_pending(wal, &n) == 0 && main_file->pMethods->xLock(main_file, SQLITE_LOCK_SHARED) == SQLITE_OK);
  CHECK(written(n));
  CHECK(make_pending(wal, &n) == 0 && exec(db, "ROLLBACK") == SQLITE_OK && written(n));
  CHECK(query_int(db, CONSISTENT) == K_ROWS && integrity_ok(db));
  CHECK(recovered(path, CONSISTENT) == K_ROWS);
  sqlite3_close(db);
  test_remove_db(path);
  return 0;
}

/* --- the WAL filled ahead --------------------------------------------------- */

static long long wal_size(const char *path) {
  char wal[160];
  snprintf(wal, sizeof wal, "%s-wal", path);
  struct stat st;
  return stat(wal, &st) == 0 ? (long long)st.st_size : -1;
}

/* walbuf grows the WAL a MiB at a time with zeros; another connection
 * (without walbuf, as another program) then appends past that MiB, and
 * walbuf's next commit goes after its frames: the zeros only ever go past
 * the file's end as it is then, never over frames, and recovery reads
 * every commit of both and stops at the zeros. */
static int test_wal_filled_ahead(void) {
  char path[128];
  db_path(path, sizeof path, "filled");
  long zeros = __atomic_load_n(&zero_writes, __ATOMIC_SEQ_CST);
  sqlite3 *db = open_db(path, 0), *other = open_db(path, 1);
  CHECK(db && other && make_schema(db) == SQLITE_OK);
  CHECK(exec(db, "PRAGMA wal_autocheckpoint=0") == SQLITE_OK && exec(other, "PRAGMA wal_autocheckpoint=0") == SQLITE_OK);
  CHECK(write_txn(db, 1, K_ROWS, 1) == SQLITE_OK);
  CHECK(__atomic_load_n(&zero_writes, __ATOMIC_SEQ_CST) > zeros);
  CHECK(wal_size(path) == 1 << 20);
  int txns = 1;
  while (wal_size(path) <= 1 << 20) {   /* the other connection's frames past the MiB */
    CHECK(write_txn(other, 100 + txns, K_ROWS, 1) == SQLITE_OK);
    CHECK(++txns < 2000);
  }
  long long theirs = wal_size(path);
  CHECK(write_txn(db, 2, K_ROWS, 1) == SQLITE_OK);
  txns++;
  CHECK(wal_size(path) > theirs && wal_size(path) % (1 << 20) == 0);
  CHECK(query_int(other, CONSISTENT) == (long long)txns * K_ROWS && integrity_ok(other));
  CHECK(query_int(db, "SELECT count(*) FROM t WHERE txn = 2") == K_ROWS);
  CHECK(recovered(path, CONSISTENT) == (long long)txns * K_ROWS);
  sqlite3_close(db);
  sqlite3_close(other);
  test_remove_db(path);
  return 0;
}

/* --- crashes -------------------------------------------------------------- */

enum { M_COMMITS = 12 };

/* The child: M_COMMITS transactions, then a crash inside the next one:
 * torn == 0: _exit while a transaction larger than the cache spills;
 * torn == 1: _exit in the middle of the write of the commit's frames. */
static void crash_child(const char *path, int torn) {
  sqlite3 *db = open_db(path, 0);
  if (!db || make_schema(db) || exec(db, "PRAGMA cache_size=10")) _exit(2);
  for (int i = 0; i < M_COMMITS; i++)
    if (write_txn(db, i, K_ROWS, 1)) _exit(3);
  if (torn) {
    __atomic_store_n(&crash_budget, 5000, __ATOMIC_SEQ_CST);
    write_txn(db, 500, K_ROWS, 1);
    _exit(4); /* the commit's write never came */
  }
  if (exec(db, "BEGIN IMMEDIATE")) _exit(5);
  for (int i = 0; i < 400; i++)
    if (exec(db, "INSERT INTO t(txn, pad) VALUES (501, randomblob(600))")) _exit(6);
  _exit(0);
}

/* After the child's crash: exactly its M_COMMITS transactions, through a
 * new connection (the child's wal-index) and through recovery. */
static int check_crash(int torn) {
  char path[128];
  db_path(path, sizeof path, torn ? "torn" : "crash");
  fflush(stderr);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) crash_child(path, torn);
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(recovered(path, CONSISTENT) == M_COMMITS * K_ROWS);
  sqlite3 *db = open_db(path, 0);
  CHECK(db);
  CHECK(query_int(db, CONSISTENT) == M_COMMITS * K_ROWS);
  CHECK(integrity_ok(db));
  CHECK(write_txn(db, 600, K_ROWS, 1) == SQLITE_OK);
  CHECK(query_int(db, CONSISTENT) == (M_COMMITS + 1) * K_ROWS);
  sqlite3_close(db);
  test_remove_db(path);
  return 0;
}

static int test_crash_mid_transaction(void) { return check_crash(0); }

static int test_crash_mid_commit_write(void) { return check_crash(1); }

/* --- wiring ----------------------------------------------------------------- */

/* dbc_open's SQLite connections use the walbuf VFS. */
static int test_dbc_open_uses_it(void) {
  char path[128], msg[256];
  db_path(path, sizeof path, "dbc");
  __atomic_store_n(&walbuf_used, 1, __ATOMIC_SEQ_CST);
  dbc *c = NULL;
  CHECK(dbc_open(path, &c, msg, sizeof msg) == DB_OK);
  sqlite3_vfs *vfs = NULL;
  CHECK(sqlite3_file_control(c->lite, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) == SQLITE_OK && vfs);
  CHECK_STR(vfs->zName, "flowhost-walbuf");
  dbc_close(c);
  test_remove_db(path);
  return 0;
}

/* FLOWHOST_WALBUF=0: no VFS of ours (decided once per process, so only
 * when no case before this one in the process asked for it). */
static int test_env_turns_it_off(void) {
  if (__atomic_load_n(&walbuf_used, __ATOMIC_SEQ_CST)) {
    fprintf(stderr, "  (skipped: walbuf already set up in this process)\n");
    return 0;
  }
  setenv("FLOWHOST_WALBUF", "0", 1);
  CHECK(walbuf_vfs_name() == NULL);
  CHECK(sqlite3_vfs_find("flowhost-walbuf") == NULL);
  return 0;
}

int main(int argc, char **argv) {
  under_register();
  static const test_case tests[] = {
      {"concurrent_commits", test_concurrent_commits},
      {"spill_rollback", test_spill_rollback},
      {"one_write_per_commit", test_one_write_per_commit},
      {"write_error", test_write_error},
      {"run_written_before_calls", test_run_written_before_calls},
      {"wal_filled_ahead", test_wal_filled_ahead},
      {"crash_mid_transaction", test_crash_mid_transaction},
      {"crash_mid_commit_write", test_crash_mid_commit_write},
      {"dbc_open_uses_it", test_dbc_open_uses_it},
      {"env_turns_it_off", test_env_turns_it_off},
      {NULL, NULL},
  };
  int rc = test_main(tests, argc, argv);
  remove_made();
  return rc;
}
