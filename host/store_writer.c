/* store_writer — connections, the group-commit writer and transactions.
 *
 * It opens and closes connections (pragmas, WAL), keeps one writer
 * connection per database file shared by every store of this process, and
 * implements store_open/store_close and store_begin/commit/rollback and the
 * savepoints on top of it.  It calls only SQLite, the helpers of
 * store_internal.h and store_migrate (store_schema.c); it runs no row SQL
 * but the transaction statements.  It is separate from store.c the way
 * SQLite's wal.c is from pager.c: how a write becomes durable is one concern,
 * what the rows are is another.
 */
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fhlog.h"
#include "fhtime.h"
#include "metrics.h"
#include "store_internal.h"
#include "store_walbuf.h"

/* --mmap: the file read through a mapping shared by the connections
 * instead of a pread per page into each one's own 2 MB cache.  At a
 * million processes the pages that check rows here and there (a
 * search's matches, a user's participation) read 2x faster mapped
 * (bench/README.md, section 25); the mapped pages count in the
 * process's resident size, so it is the operator's choice. */
static _Atomic int64_t mmap_bytes;

void store_sqlite_mmap(int64_t bytes) { atomic_store(&mmap_bytes, bytes > 0 ? bytes : 0); }

/* Group commit.  Every store of one database file inside this process
 * shares one writer connection.  A write action takes the writer (a mutex,
 * so the lock is handed over at once instead of SQLite's sleep-and-retry),
 * runs inside the writer's open transaction (in a savepoint of its own,
 * or, a combined action, run again if another fails: run_request), and
 * releases it.  If other actions are queued, it leaves the transaction open for them
 * and waits until the batch is committed; the last one of the batch (or the
 * one that finds it full or old) commits for all: one fsync for many
 * actions, and still no caller hears "done" before its work is durable.
 * If the commit fails, every action of the batch gets the error.
 * Private databases (":memory:") have no writer and commit alone.
 *
 * At synchronous=FULL SQLite syncs the WAL inside the commit, holding the
 * write lock: nobody can write while the disk flushes.  Over the walbuf
 * VFS the writer connection instead commits at NORMAL (the same WAL
 * frames, in the same order, without the sync) and lets go of mu; then
 * each committer waits until a sync that began after its commit was
 * written has finished, running that sync itself if none is under way
 * (group commit on the sync: one fdatasync covers every commit written
 * before it, and the next batch writes meanwhile).  No caller hears
 * "done" before its commit is durable, as before.  What changes is that
 * another connection may read a commit up to one sync before it is
 * durable, as at NORMAL; a power loss in that window loses it, and
 * everything written after it (the WAL is replayed as a prefix), so no
 * acknowledged write can depend on a lost one.  A failed sync breaks the
 * writer for good: after it the kernel may report later syncs as clean
 * although the pages it failed to write are gone (as PostgreSQL, which
 * stops).  FLOWHOST_WALBUF=0 goes back to SQLite's own FULL. */
#define SYNC_FAILED "storage error: the write-ahead log could not be synced"
#define COMMIT_FAILED "storage error: the commit failed"
#define BATCH_MAX 64
#define ACTS_BITS 24   /* of w->written_acts: the actions' count, mod 2^24 */
#define ACTS_MASK ((1UL << ACTS_BITS) - 1)
#define BATCH_AGE 0.010   /* seconds a batch stays open at most */

static pthread_mutex_t writers_mu = PTHREAD_MUTEX_INITIALIZER;
static writer *writers;

/* Opens a connection with the pragmas every connection needs (SQLite) or
 * the session settings (PostgreSQL). */
static int conn_open(store *st, conn *c, const char *path, const store_options *opt, fherr *err) {
  char msg[256];
  int rc = dbc_open(path, &c->db, msg, sizeof msg);
  if (rc != DB_OK) {
    /* a server that does not answer is the contract's 503, as a lock is */
    int code = c->db && c->db->kind == DB_KIND_PG ? FH_BUSY : FH_INTERNAL;
    fherr_set(err, code, "cannot open database %s: %s", c->db && c->db->kind == DB_KIND_PG ? "(postgresql)" : path, msg);
    return code;
  }
  conn *saved = st->cur;
  st->cur = c;
  int wait_ms = opt && opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
  if (c->db->kind == DB_KIND_PG) {
    /* SQLite's busy timeout: a row lock not had within it is a 503 (55P03).
     * jit off: a statement the planner costs high (a page whose rows it
     * guesses in the millions) was compiled first, 13-15 ms for a page
     * that then ran in 1-8 ms; compiling pays only for long analytic
     * queries, which flowhost does not run. */
    snprintf(c->db->setup, sizeof c->db->setup, "SET lock_timeout = %d; SET jit = off", wait_ms);
    rc = sq_exec(st, c->db->setup, err);
    st->cur = saved;
    return rc;
  }
  sqlite3_extended_result_codes(c->db->lite, 0);
  dbc_busy_wait(c->db, wait_ms);
  /* 2 KiB pages for a new database file (an existing one keeps its own):
   * a commit writes every page it touched whole into the WAL, and SQLite
   * checksums and copies each; an automatic process touches ~7 pages, so
   * half-size pages are ~10% less of the writer's time and +17% processes
   * per second, for one more b-tree level at a million processes, which
   * the list and count benchmarks still answer in well under 5 ms
   * (bench/README.md, section 10).  Only before the file's header is
   * written, i.e. before WAL mode. */
  sq_exec(st, "PRAGMA page_size = 2048", NULL);
  /* Switching to WAL needs a moment with no other connection reading, and
   * SQLite does not wait for it through the busy handler: retry briefly,
   * as several workers open the same file at start-up. */
  for (int attempt = 0;; attempt++) {
    rc = sq_exec(st, "PRAGMA journal_mode = WAL", err);
    if (rc != FH_BUSY || attempt == 200) break;
    sqlite3_sleep(10);
  }
  /* wal_autocheckpoint: a checkpoint costs two fsyncs (the WAL, then the
   * database file) whatever it copies, and a write of an automatic
   * process puts ~7 pages into the WAL: at SQLite's default of 1,000
   * pages the fsyncs of checkpoints were ~30% of the writer's time at
   * NORMAL.  16 MiB of WAL (8,192 pages of 2 KiB) cut their count by
   * eight; the pages a checkpoint copies grow less, since the same hot
   * pages are rewritten (bench/README.md, issue 13). */
  int page_size = 0;
  dbs *ps = NULL;
  if (!rc && dbs_prepare(c->db, -1, "PRAGMA page_size", &ps) == DB_OK && dbs_step(ps) == DB_ROW)
    page_size = dbs_col_int(ps, 0);
  dbs_finalize(ps);
  char pragmas[320];
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA synchronous = %s; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"
           " PRAGMA wal_autocheckpoint = %d; PRAGMA mmap_size = %lld;",
           (!opt || opt->synchronous_full) ? "FULL" : "NORMAL", page_size > 0 ? (16 << 20) / page_size : 4000,
           (long long)atomic_load(&mmap_bytes));
  if (!rc) rc = sq_exec(st, pragmas, err);
  st->cur = saved;
  return rc;
}

static void conn_close(conn *c) {
  if (c->db)
    for (int i = 0; i < Q__COUNT; i++) dbs_finalize(c->stmt[i]);
  dbc_close(c->db);
  memset(c, 0, sizeof *c);
}

/* --- checkpoints beside the writes ------------------------------------------
 *
 * A checkpoint copies the WAL's pages back into the database file and
 * fsyncs both (at NORMAL the WAL was never synced: its 16 MiB go to disk
 * first).  Run by the committing thread, as SQLite's autocheckpoint does,
 * that blocked every write for ~5 ms per fsync, about 15% of one thread's
 * time at NORMAL (bench/README.md, section 12).  Instead the writer's WAL
 * hook hands the checkpoint to a thread of its own with its own connection,
 * which copies while the writes go on, pass after pass until little is
 * left; the writer then copies that short rest itself, cheaply (its fsyncs
 * find little to write), so that the WAL is all copied and the next write
 * starts it again from the beginning.  A background pass alone cannot
 * achieve that: by its end the writer has always appended more.  Past four
 * times the threshold the writes wait for the thread's turn to end and the
 * writer checkpoints, so the WAL stays bounded. */
#define CKPT_PASSES 3   /* background passes per turn at most */

/* Frames the writer copies itself at most (the rest of a turn). */
static int ckpt_tail(const writer *w) { return w->ckpt_at / 8; }

static void *ckpt_main(void *arg) {
  writer *w = arg;
  int failing = 0;
  pthread_mutex_lock(&w->ckpt_mu);
  for (;;) {
    while (!w->ckpt_kick && !w->ckpt_stop) pthread_cond_wait(&w->ckpt_cond, &w->ckpt_mu);
    if (w->ckpt_stop) break;
    w->ckpt_kick = 0;
    w->ckpt_busy = 1;
    unsigned gen = w->ckpt_kick_gen;
    pthread_mutex_unlock(&w->ckpt_mu);
    int log = 0, done = 0, rc = SQLITE_OK;
    for (int pass = 0; pass < CKPT_PASSES; pass++) {
      rc = sqlite3_wal_checkpoint_v2(w->ckpt_c.db->lite, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK || log - done <= ckpt_tail(w)) break;
    }
    int ok = rc == SQLITE_OK;
    /* BUSY: another connection (another program's) was checkpointing;
     * anything else (a full disk) is said once per run of failures, and
     * the next turn tries again */
    if (!ok && rc != SQLITE_BUSY && !failing)
      fhlog(FHLOG_WARN, "checkpoint of %s failed (the WAL grows until one succeeds): %s", w->path,
            sqlite3_errstr(rc));
    failing = !ok && rc != SQLITE_BUSY;
    pthread_mutex_lock(&w->ckpt_mu);
    if (ok) w->ckpt_passes++;
    w->ckpt_busy = 0;
    w->ckpt_done = ok ? done : 0;
    w->ckpt_done_gen = gen;
    pthread_cond_broadcast(&w->ckpt_cond);   /* a turn ended (tests wait for it) */
  }
  pthread_mutex_unlock(&w->ckpt_mu);
  return NULL;
}

/* The writer connection's WAL hook, after each commit (mu held): frames,
 * the WAL's size in frames.  Kicks the thread, or copies the short rest. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames) {
  writer *w = arg;
  if (frames < w->ckpt_frames) {   /* fewer frames than after the last commit: started again */
    pthread_mutex_lock(&w->ckpt_mu);
    w->ckpt_gen++;
    pthread_mutex_unlock(&w->ckpt_mu);
  }
  w->ckpt_frames = frames;
  if (frames < w->ckpt_at) return SQLITE_OK;
  pthread_mutex_lock(&w->ckpt_mu);
  int cap = frames >= 4 * w->ckpt_at;
  /* past the cap the writes wait (mu is held) until the thread's turn ends */
  while (cap && w->ckpt_busy) pthread_cond_wait(&w->ckpt_cond, &w->ckpt_mu);
  int done = w->ckpt_done_gen == w->ckpt_gen ? w->ckpt_done : 0;
  int finish = cap || (!w->ckpt_busy && frames - done <= ckpt_tail(w));
  if (!w->ckpt_busy && !finish) {
    w->ckpt_kick = 1;
    w->ckpt_kick_gen = w->ckpt_gen;
    pthread_cond_broadcast(&w->ckpt_cond);   /* others may wait on it for a turn's end */
  }
  pthread_mutex_unlock(&w->ckpt_mu);
  if (finish) {
    int log = 0, copied = 0;
    /* SQLITE_BUSY (not past the cap): the thread began meanwhile; the next commit looks again */
    if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK) {
      pthread_mutex_lock(&w->ckpt_mu);
      w->ckpt_done = copied;
      w->ckpt_done_gen = w->ckpt_gen;
      w->ckpt_finishes++;
      pthread_mutex_unlock(&w->ckpt_mu);
    }
  }
  return SQLITE_OK;
}

/* Starts the checkpoint thread of a new writer (SQLite): its connection,
 * then the hook.  Without either, SQLite's autocheckpoint stays. */
static void ckpt_start(writer *w, store *st, const char *path, const store_options *opt) {
  if (w->c.db->kind != DB_KIND_SQLITE) return;
  dbs *s = NULL;
  if (dbs_prepare(w->c.db, -1, "PRAGMA wal_autocheckpoint", &s) == DB_OK && dbs_step(s) == DB_ROW)
    w->ckpt_at = dbs_col_int(s, 0);
  dbs_finalize(s);
  if (w->ckpt_at <= 0) return;
  fherr err = {0};
  conn *saved = st->cur;
  int rc = conn_open(st, &w->ckpt_c, path, opt, &err);
  st->cur = saved;
  fherr_clear(&err);
  if (rc) {
    conn_close(&w->ckpt_c);
    return;
  }
  pthread_mutex_init(&w->ckpt_mu, NULL);
  pthread_cond_init(&w->ckpt_cond, NULL);
  if (pthread_create(&w->ckpt_thread, NULL, ckpt_main, w) != 0) {
    pthread_mutex_destroy(&w->ckpt_mu);
    pthread_cond_destroy(&w->ckpt_cond);
    conn_close(&w->ckpt_c);
    return;
  }
  w->ckpt_running = 1;
  sqlite3_wal_hook(w->c.db->lite, on_wal, w);
}

static void ckpt_stop(writer *w) {
  if (!w->ckpt_running) return;
  sqlite3_wal_hook(w->c.db->lite, NULL, NULL);
  pthread_mutex_lock(&w->ckpt_mu);
  w->ckpt_stop = 1;
  pthread_cond_broadcast(&w->ckpt_cond);
  pthread_mutex_unlock(&w->ckpt_mu);
  pthread_join(w->ckpt_thread, NULL);
  conn_close(&w->ckpt_c);
  pthread_mutex_destroy(&w->ckpt_mu);
  pthread_cond_destroy(&w->ckpt_cond);
  w->ckpt_running = 0;
}

int store_path_is_private(const char *path) {
  if (db_kind_of(path) == DB_KIND_PG) return 0;
  path = db_sqlite_path(path);
  return !path || !*path || !strcmp(path, ":memory:") || !strncmp(path, "file:", 5);
}

static void syncer_start(writer *w);
static void syncer_stop(writer *w);

/* The writer of a database file, shared by every store of this process
 * that opened the same file; NULL (no error) for private databases. */
static int writer_acquire(store *st, const char *path, const store_options *opt, fherr *err) {
  char resolved[PATH_MAX];
  st->w = NULL;
  /* PostgreSQL: each store has its own connection and commits alone; the
   * server's WAL groups the commits of concurrent transactions */
  if (db_kind_of(path) == DB_KIND_PG || store_path_is_private(path)) return FH_OK;
  path = db_sqlite_path(path);
  if (!realpath(path, resolved)) return FH_OK;
  pthread_mutex_lock(&writers_mu);
  writer *w = writers;
  while (w && strcmp(w->path, resolved) != 0) w = w->next;
  int rc = FH_OK;
  if (!w) {
    w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(resolved))) {
      free(w);
      pthread_mutex_unlock(&writers_mu);
      return fherr_set(err, FH_INTERNAL, "out of memory");
    }
    if ((rc = conn_open(st, &w->c, path, opt, err))) {
      conn_close(&w->c);
      free(w->path);
      free(w);
      pthread_mutex_unlock(&writers_mu);
      return rc;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->ids.mu, NULL);
    pthread_mutex_init(&w->done_mu, NULL);
    for (int i = 0; i < RESULTS; i++) pthread_cond_init(&w->done[i], NULL);
    pthread_mutex_init(&w->sync_mu, NULL);
    for (int i = 0; i < 2; i++) pthread_cond_init(&w->sync_cond[i], NULL);
    pthread_mutex_init(&w->q_mu, NULL);
    w->wal_fd = -1;
    ckpt_start(w, st, path, opt);
    /* FULL over walbuf: the syncs are ours, outside mu (see above) */
    if ((!opt || opt->synchronous_full) && walbuf_vfs_name()) {
      conn *saved = st->cur;
      st->cur = &w->c;
      w->defer_sync = sq_exec(st, "PRAGMA synchronous = NORMAL", NULL) == FH_OK;
      st->cur = saved;
      if (w->defer_sync) syncer_start(w);
    }
    w->next = writers;
    writers = w;
  }
  w->refs++;
  pthread_mutex_unlock(&writers_mu);
  st->w = w;
  return FH_OK;
}

static void writer_release(writer *w) {
  if (!w) return;
  pthread_mutex_lock(&writers_mu);
  if (--w->refs == 0) {
    writer **pp = &writers;
    while (*pp != w) pp = &(*pp)->next;
    *pp = w->next;
    ckpt_stop(w);
    syncer_stop(w);
    conn_close(&w->c);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->ids.mu);
    pthread_mutex_destroy(&w->done_mu);
    for (int i = 0; i < RESULTS; i++) pthread_cond_destroy(&w->done[i]);
    pthread_mutex_destroy(&w->sync_mu);
    for (int i = 0; i < 2; i++) pthread_cond_destroy(&w->sync_cond[i]);
    pthread_mutex_destroy(&w->q_mu);
    free(w->path);
    free(w);
  }
  pthread_mutex_unlock(&writers_mu);
}

void store_library_init(void) { dbc_library_init(); }

int store_open(const char *path, const store_options *opt, store **out, fherr *err) {
  *out = NULL;
  store *st = calloc(1, sizeof *st);
  if (!st) return fherr_set(err, FH_INTERNAL, "out of memory");
  st->cur = &st->own;
  pthread_mutex_init(&st->ids.mu, NULL);
  int rc = conn_open(st, &st->own, path, opt, err);
  if (!rc) rc = store_migrate(st, err);
  if (!rc) rc = writer_acquire(st, path, opt, err);
  if (rc) {
    store_close(st);
    return rc;
  }
  *out = st;
  return FH_OK;
}

void store_close(store *st) {
  if (!st) return;
  store_rollback(st);
  writer_release(st->w);
  conn_close(&st->own);
  pthread_mutex_destroy(&st->ids.mu);
  sq_forget_flows_many(st);
  free(st);
}

/* A write action queued for whoever holds mu (store_write_fn, below). */
typedef struct write_req {
  store *st;
  store_write_cb fn;
  const void *arg;
  fherr *err;
  int rc;                  /* the outcome: fn's, then its batch's and its sync's */
  unsigned long seq;       /* the commit to wait for (on the durable list) */
  int state;               /* REQ_FINAL, REQ_KICKED (atomic; the owner sleeps on it) */
  struct write_req *next;  /* in the queue */
  struct write_req *wait_next;   /* on open_owners, then on the durable list */
} write_req;

/* A queued action's owner waits on its request's state word (a futex)
 * until REQ_FINAL (its outcome is final: it returns) or REQ_KICKED (the
 * writer is free and its action heads the queue: it tries to take it).
 * Not a condition under q_mu: woken under that mutex, an owner went
 * straight back to sleep on it while the sync thread held it to wake the
 * next (6% of all context switches with 8 clients, perf sched_switch).
 *
 * It first waits awake for up to WAIT_AWAKE seconds, giving its CPU to
 * any other thread (sched_yield) between looks, and only then sleeps,
 * saying so in the word (REQ_ASLEEP) so that the one who sets a bit makes
 * the wake-up call only for a sleeper.  These waits are short (a batch's
 * commit; at FULL a WAL sync or two), and a thread put to sleep and woken
 * again on this kind of machine costs more than the wait: an idle CPU
 * leaves its idle state through the hypervisor on each wake-up (section
 * 16 of bench/README.md: 117 us of CPU per process on two CPUs, 61 on
 * one).  engine_bench with 8 threads at NORMAL, interleaved runs against
 * sleeping at once: 21,300-23,200 processes/s against 17,700-18,900; at
 * FULL +5-20%, within the noise of the disk (bench/README.md, section
 * 36).  A thread that waits longer (a slow disk's sync) sleeps after
 * WAIT_AWAKE; with nothing else to run, the waiting costs a CPU the time
 * it waits, and gives way to any thread that has work. */
enum { REQ_FINAL = 1, REQ_KICKED = 2, REQ_ASLEEP = 4 };
#define WAIT_AWAKE 500e-6

/* Waits until FINAL or KICKED is set; returns the state seen then. */
static int req_wait(int *state) {
  int seen;
  double until = fhtime_monotonic() + WAIT_AWAKE;
  do {
    if ((seen = __atomic_load_n(state, __ATOMIC_ACQUIRE)) & (REQ_FINAL | REQ_KICKED)) return seen;
    sched_yield();
  } while (fhtime_monotonic() < until);
  for (;;) {
    seen = __atomic_load_n(state, __ATOMIC_ACQUIRE);
    if (seen & (REQ_FINAL | REQ_KICKED)) return seen;
    if (!(seen & REQ_ASLEEP)) {   /* a bit set meanwhile fails the exchange: looked at again */
      if (!__atomic_compare_exchange_n(state, &seen, seen | REQ_ASLEEP, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
      seen |= REQ_ASLEEP;
    }
    syscall(SYS_futex, state, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
  }
}

/* Sets a bit and wakes the owner if it sleeps.  The wake may come after
 * the owner saw the bit and returned: it names an address and reads
 * nothing there, and a sleeper that later uses that stack address takes
 * it as a spurious wake-up, as every sleep must. */
static void req_set(int *state, int bit) {
  int was = __atomic_fetch_or(state, bit, __ATOMIC_ACQ_REL);
  if (was & REQ_ASLEEP) syscall(SYS_futex, state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Tells a queued action's owner its final outcome (why: the message of a
 * failure, NULL: its own).  r may be gone as soon as REQ_FINAL is set. */
static void finalize(write_req *r, int rc, const char *why) {
  if (rc && r->err && why) fherr_set(r->err, rc, "%s", why);
  r->rc = rc;
  req_set(&r->state, REQ_FINAL);
}

/* Records the outcome of the writer's current batch and wakes its waiters;
 * why, when it failed (NULL: a message of its own). */
static void batch_done(writer *w, int rc, const char *why) {
  w->open = 0;
  pthread_mutex_lock(&w->done_mu);
  w->results[w->batch % RESULTS] = rc;
  char *slot = w->whys[w->batch % RESULTS];
  if (rc && why) snprintf(slot, sizeof w->whys[0], "%.*s", (int)sizeof w->whys[0] - 1, why);
  else slot[0] = '\0';
  w->seqs[w->batch % RESULTS] = __atomic_load_n(&w->written, __ATOMIC_SEQ_CST);
  w->committed = w->batch;
  pthread_cond_broadcast(&w->done[w->batch % RESULTS]);
  pthread_mutex_unlock(&w->done_mu);
}

static void settle_owners(writer *w, int rc, const char *why, unsigned long seq);

/* The error of an action whose batch SQLite rolled back by itself. */
static int batch_lost(writer *w, fherr *err) {
  return dbc_errcode(w->c.db) == DB_FULL ? fherr_set(err, FH_BUSY, "the database's disk is full; try again later")
                                         : fherr_set(err, FH_INTERNAL, "storage error: the transaction was rolled back");
}

/* SQLite rolled the whole batch back by itself (an I/O error, or a full
 * disk: that one is the contract's 503, not a bug). */
static void check_batch_alive(writer *w) {
  if (w->open && dbc_autocommit(w->c.db)) {
    fherr lost = {0};
    batch_done(w, batch_lost(w, &lost), lost.message);
    settle_owners(w, lost.code, lost.message, 0);
  }
}

/* --- durability at FULL -------------------------------------------------------
 *
 * One sync at a time covers every commit written before it began.  The
 * waiters of the sync under way sleep on its condition (sync_cond[gen % 2])
 * and only they wake at its end; those that need a later one sleep on the
 * next condition.  A committer that finds no sync under way runs one
 * itself: alone, it waits no longer than the disk.  If others committed
 * meanwhile and wait for a later sync, it hands them to the writer's sync
 * thread instead of syncing on for them, and returns to its caller.  That
 * thread then syncs back to back for as long as commits come in: it never
 * has to be woken between two syncs (a woken waiter would first have to be
 * scheduled on a CPU the other clients keep busy), and no client is kept
 * from its own work to sync for the others.  engine_bench 8000 (FULL),
 * five interleaved pairs against the committers taking turns at the syncs:
 * 4 clients 1.34-1.40 processes per raw commit instead of 1.18-1.28, 8
 * clients 1.81-1.89 instead of 1.68-1.79, one client unchanged (it never
 * hands on); 46k context switches per 16,000 processes with 8 clients,
 * where one condition for all the waiters had 61k. */

/* Queued actions whose commit the last sync made durable (or all, once a
 * sync failed) hear their outcome; sync_mu held. */
static void release_durable(writer *w) {
  while (w->durable_head && (w->sync_broken || w->durable_head->seq <= w->synced)) {
    write_req *r = w->durable_head;
    if (!(w->durable_head = r->wait_next)) w->durable_tail = NULL;
    if (w->sync_broken) finalize(r, FH_INTERNAL, SYNC_FAILED);
    else finalize(r, FH_OK, NULL);
  }
}

/* One sync, sync_mu held (let go while fdatasync runs). */
static void sync_once(writer *w) {
  w->syncing = 1;
  w->sync_gen++;
  w->sync_later = 0;
  /* the commit published last with its count of actions (publish_commit
   * stores this word before w->written: every commit a waiter knows of is
   * in it) */
  unsigned long packed = __atomic_load_n(&w->written_acts, __ATOMIC_SEQ_CST);
  unsigned long upto = w->sync_upto = packed >> ACTS_BITS, acts = packed & ACTS_MASK;
  int fd = __atomic_load_n(&w->wal_fd, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&w->sync_mu);
  double began = fhtime_monotonic();
  int ok = fd >= 0 && fdatasync(fd) == 0;
  double took = fhtime_monotonic() - began;
  pthread_mutex_lock(&w->sync_mu);
  w->syncing = 0;
  unsigned long made = 0;
  if (ok && upto > w->synced) {
    w->synced = upto;
    made = (acts - w->acts_synced) & ACTS_MASK;
    w->acts_synced = acts;
  }
  metrics_wal_sync(took, made, ok);
  if (!ok) {
    w->sync_broken = 1;
    fhlog(FHLOG_ERROR, "cannot sync the write-ahead log of %s: nothing written from now on is durable; "
                       "restart flowhost", w->path);
    pthread_cond_broadcast(&w->sync_cond[(w->sync_gen + 1) % 2]);
  }
  pthread_cond_broadcast(&w->sync_cond[w->sync_gen % 2]);
  release_durable(w);
}

/* After a sync: if commits still wait for a later one (waiters, or queued
 * actions on the durable list), the writer's thread takes the syncs on.
 * Without it (it could not be started), this thread syncs for the queued
 * actions, which sleep until then, and wakes one waiter to sync next.
 * sync_mu held. */
static void hand_on(writer *w) {
  if (w->sync_broken || w->syncing || w->syncer_busy || (w->sync_later == 0 && !w->durable_head)) return;
  if (w->syncer_running) {
    w->syncer_busy = 1;
    pthread_cond_signal(&w->syncer_cond);
    return;
  }
  while (w->durable_head && !w->sync_broken) sync_once(w);
  pthread_cond_signal(&w->sync_cond[(w->sync_gen + 1) % 2]);
}

/* Called by whoever committed a batch it does not wait for itself: the
 * queued actions of that batch sleep until a sync covers it, so someone
 * must run one.  This thread does, when none is under way (alone, it waits
 * no longer than the disk); otherwise the one under way hands on. */
static void drive_sync(writer *w) {
  if (!w->defer_sync) return;
  pthread_mutex_lock(&w->sync_mu);
  if (w->durable_head && !w->syncing && !w->syncer_busy && !w->sync_broken) sync_once(w);
  hand_on(w);
  pthread_mutex_unlock(&w->sync_mu);
}

/* The writer's sync thread: once handed the syncs, it syncs while anything
 * written is not durable yet, then waits to be handed them again. */
static void *syncer_main(void *arg) {
  writer *w = arg;
  pthread_mutex_lock(&w->sync_mu);
  for (;;) {
    while (!w->syncer_stop && !w->syncer_busy) pthread_cond_wait(&w->syncer_cond, &w->sync_mu);
    if (w->syncer_stop) break;
    while (!w->sync_broken && __atomic_load_n(&w->written, __ATOMIC_SEQ_CST) > w->synced) {
      sync_once(w);
      w->syncer_syncs++;
    }
    w->syncer_busy = 0;
  }
  pthread_mutex_unlock(&w->sync_mu);
  return NULL;
}

/* Without the thread (it could not be started) the committers sync in turns. */
static void syncer_start(writer *w) {
  pthread_cond_init(&w->syncer_cond, NULL);
  w->syncer_running = pthread_create(&w->syncer, NULL, syncer_main, w) == 0;
  if (!w->syncer_running) pthread_cond_destroy(&w->syncer_cond);
}

static void syncer_stop(writer *w) {
  if (!w->syncer_running) return;
  pthread_mutex_lock(&w->sync_mu);
  w->syncer_stop = 1;
  pthread_cond_signal(&w->syncer_cond);
  pthread_mutex_unlock(&w->sync_mu);
  pthread_join(w->syncer, NULL);
  pthread_cond_destroy(&w->syncer_cond);
  w->syncer_running = 0;
}

/* Waits until the commits up to seq (a value of w->written) are durable. */
static int wait_durable(writer *w, unsigned long seq, fherr *err) {
  int rc = FH_OK;
  pthread_mutex_lock(&w->sync_mu);
  while (w->synced < seq && !w->sync_broken) {
    if (w->syncing) {   /* this sync covers seq, or the next one will */
      int later = seq > w->sync_upto;
      w->sync_later += later;
      pthread_cond_wait(&w->sync_cond[(w->sync_gen + (unsigned long)later) % 2], &w->sync_mu);
    } else if (w->syncer_busy) {   /* the thread is about to begin the next sync */
      pthread_cond_wait(&w->sync_cond[(w->sync_gen + 1) % 2], &w->sync_mu);
    } else {
      sync_once(w);
      hand_on(w);
    }
  }
  if (w->synced < seq) rc = fherr_set(err, FH_INTERNAL, SYNC_FAILED);
  pthread_mutex_unlock(&w->sync_mu);
  return rc;
}

/* The WAL synced through the connection's own file, holding mu: for when
 * walbuf has no descriptor of it. */
static int sync_here(writer *w, int actions, fherr *err) {
  sqlite3_file *f = NULL;
  double began = fhtime_monotonic();
  int ok = sqlite3_file_control(w->c.db->lite, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) == SQLITE_OK && f &&
           f->pMethods && f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) == SQLITE_OK;
  metrics_wal_sync(fhtime_monotonic() - began, ok ? (unsigned long)actions : 0, ok);
  return ok ? FH_OK : fherr_set(err, FH_INTERNAL, SYNC_FAILED);
}

/* Counts commit n+1 and its actions as written (mu held: the only
 * writer of both) and returns n+1: first in the word a sync reads, then
 * in w->written, which the waiters take their numbers from. */
static unsigned long publish_commit(writer *w, int actions) {
  unsigned long seq = __atomic_load_n(&w->written, __ATOMIC_SEQ_CST) + 1;
  unsigned long acts = (__atomic_load_n(&w->written_acts, __ATOMIC_RELAXED) + (unsigned long)actions) & ACTS_MASK;
  __atomic_store_n(&w->written_acts, seq << ACTS_BITS | acts, __ATOMIC_SEQ_CST);
  __atomic_store_n(&w->written, seq, __ATOMIC_SEQ_CST);
  return seq;
}

/* Lets go of the writer, and wakes the first queued combined write (if
 * any) to take it over: whoever releases mu hands the queue on, so a
 * queued action never waits for a holder that has gone. */
static void writer_unlock(writer *w) {
  pthread_mutex_unlock(&w->mu);
  pthread_mutex_lock(&w->q_mu);
  if (w->q_head) req_set(&w->q_head->state, REQ_KICKED);   /* queued: not final, its owner waits */
  pthread_mutex_unlock(&w->q_mu);
}

static int batch_is_young(writer *w) {
  return w->pending + 1 < BATCH_MAX && fhtime_monotonic() - w->opened_at < BATCH_AGE;
}

/* Commits the open batch (holding mu), through st's statements on the
 * writer connection; *seq: the WAL write to wait for when the sync is
 * deferred (0: none).  n: the actions of the batch. */
static int commit_batch(writer *w, store *st, int n, unsigned long *seq, fherr *err) {
  *seq = 0;
  conn *saved = st->cur;
  st->cur = &w->c;
  int rc = sq_simple(st, Q_COMMIT, err);
  if (rc) sq_simple(st, Q_ROLLBACK, NULL);
  st->cur = saved;
  if (!rc && w->defer_sync) {
    if (__atomic_load_n(&w->wal_fd, __ATOMIC_SEQ_CST) < 0)
      __atomic_store_n(&w->wal_fd, walbuf_wal_fd(w->c.db->lite), __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&w->wal_fd, __ATOMIC_SEQ_CST) >= 0) *seq = publish_commit(w, n);
    else rc = sync_here(w, n, err);   /* no descriptor of the WAL (none could be opened) */
  }
  metrics_commit(n, rc);
  batch_done(w, rc, err ? err->message : NULL);
  settle_owners(w, rc, err && err->message[0] ? err->message : NULL, *seq);
  return rc;
}

/* The queued actions run into the batch just decided (mu held): a failed
 * batch fails them; a commit already durable (or at NORMAL) is final; a
 * deferred one puts them on the durable list, in commit order, for the
 * sync that covers seq. */
static void settle_owners(writer *w, int rc, const char *why, unsigned long seq) {
  write_req *r = w->open_owners, *next;
  w->open_owners = NULL;
  if (!r) return;
  if (rc || !seq) {
    for (; r; r = next) {
      next = r->wait_next;   /* r may be gone once its owner hears */
      finalize(r, rc, rc ? (why ? why : COMMIT_FAILED) : NULL);
    }
    return;
  }
  pthread_mutex_lock(&w->sync_mu);
  if (w->syncing && seq > w->sync_upto) w->sync_later++;   /* the sync under way hands on */
  for (; r; r = next) {
    next = r->wait_next;
    if (seq <= w->synced || w->sync_broken) {   /* a sync begun since the commit covered it */
      finalize(r, w->sync_broken ? FH_INTERNAL : FH_OK,
               w->sync_broken ? SYNC_FAILED : NULL);
      continue;
    }
    r->seq = seq;
    r->wait_next = NULL;
    if (w->durable_tail) w->durable_tail->wait_next = r;
    else w->durable_head = r;
    w->durable_tail = r;
  }
  pthread_mutex_unlock(&w->sync_mu);
}

/* Waits until batch `mine` is committed and durable. */
static int wait_batch(writer *w, unsigned long mine, fherr *err) {
  pthread_mutex_lock(&w->done_mu);
  while (w->committed < mine) pthread_cond_wait(&w->done[mine % RESULTS], &w->done_mu);
  int rc = w->results[mine % RESULTS];
  unsigned long seq = w->seqs[mine % RESULTS];
  if (rc) fherr_set(err, rc, "%s", w->whys[mine % RESULTS][0] ? w->whys[mine % RESULTS] : COMMIT_FAILED);
  pthread_mutex_unlock(&w->done_mu);
  if (rc) return rc;
  return w->defer_sync ? wait_durable(w, seq, err) : FH_OK;
}

/* Ends this store's write action.  keep: its changes are in the batch and
 * the caller must hear only once they are durable. */
static int end_write(store *st, int keep, fherr *err) {
  writer *w = st->w;
  unsigned long mine = w->batch;
  st->cur = &st->own;
  st->in_write = 0;
  check_batch_alive(w);
  if (keep && !w->open) {   /* lost with the batch */
    int rc = batch_lost(w, err);
    writer_unlock(w);
    return rc;
  }
  int queued = __atomic_load_n(&w->waiting, __ATOMIC_SEQ_CST);
  if (w->open && queued > 0 && batch_is_young(w)) {
    if (keep) w->pending++;
    writer_unlock(w);
    return keep ? wait_batch(w, mine, err) : FH_OK;
  }
  int rc = FH_OK;
  unsigned long seq = 0;
  if (w->open) rc = commit_batch(w, st, w->pending + (keep ? 1 : 0), &seq, err);
  writer_unlock(w);
  if (keep && !rc && seq) rc = wait_durable(w, seq, err);   /* its sync covers the queued actions too */
  else drive_sync(w);
  return keep ? rc : FH_OK;
}

/* --- combined writes --------------------------------------------------------
 *
 * With many actions at once, handing mu from one to the next costs more
 * than their SQL: every hand-over wakes a sleeping thread, the lock is idle
 * until it runs, and the connection's pages move to its core.  So an action
 * given as a function (store_write_fn) queues itself; whoever holds mu (or
 * takes it, finding it free) runs every queued action in its batch, one
 * after another (without savepoints while the batch holds only such
 * actions, run_request), then commits the batch or
 * leaves it open for the actions still waiting for mu, as end_write does.
 * The owners wait once, until their outcome is final: their action failed,
 * or its batch was decided (settle_owners) and, at FULL, the sync covering
 * its commit has ended (release_durable).
 * (Flat combining: Hendler, Incze, Shavit, Tzafrir, SPAA 2010.) */

/* A combined action's store on the writer's connection, or back on its own. */
static void on_writer(store *st, writer *w) {
  st_forget_write_participant(st);
  st->cur = &w->c;
  st->in_write = 1;
}

static void off_writer(store *st) {
  st_forget_write_participant(st);   /* the commit may still fail */
  st->cur = &st->own;
  st->in_write = 0;
}

/* A combined action failed in a batch of combined actions only, which run
 * without savepoints (run_request): the batch is rolled back and the
 * actions it kept are run again, in their order, which leaves what a
 * savepoint's rollback would have left (a combined action is a function
 * of its arguments and what it reads).  One that fails now (it read what
 * the failed one wrote) is taken out and hears why, and the rest run again
 * without it.  If the batch cannot be begun again, all of them hear why.
 * The rest of the batch takes savepoints, so that a batch runs its actions
 * again once at most.  self: the failed action's store, on the writer; mu
 * held. */
static void run_kept_again(writer *w, store *self) {
  for (int again = 1; again;) {
    again = 0;
    sq_simple(self, Q_ROLLBACK, NULL);
    write_req *order = NULL, *r, *next;   /* open_owners holds the newest first */
    for (r = w->open_owners; r; r = next) {
      next = r->wait_next;
      r->wait_next = order;
      order = r;
    }
    w->open_owners = NULL;
    w->pending = 0;
    fherr why = {0};
    if (sq_simple(self, Q_BEGIN, &why)) {
      batch_done(w, FH_OK, NULL);   /* no classic action was in it: nobody waits on its slot */
      for (r = order; r; r = next) {
        next = r->wait_next;
        finalize(r, why.code, why.message);
      }
      fherr_clear(&why);
      return;
    }
    for (r = order; r; r = next) {
      next = r->wait_next;
      int rc = FH_OK;
      if (!again) {   /* after a failure the rest only wait for the next round */
        if (r->st != self) on_writer(r->st, w);
        rc = r->fn(r->st, r->arg, r->err);
        if (r->st != self) off_writer(r->st);
      }
      if (rc) {
        again = 1;
        finalize(r, rc, NULL);   /* its own message, in r->err */
        continue;
      }
      w->pending++;
      r->wait_next = w->open_owners;
      w->open_owners = r;
    }
  }
  w->opaque = 1;
}

/* Runs one queued action in the open batch (opening one if needed); mu is
 * held.  A batch it opens holds just it so far: then it needs no savepoint
 * (its rollback is the batch's), as in store_begin.  In a batch that holds
 * combined actions only, none runs in a savepoint: a savepoint made SQLite
 * copy every page the action then changed into its statement journal, and
 * 8 threads at NORMAL ran 21,400-25,000 processes/s without them against
 * 17,700-19,600 with (bench/README.md, section 36).  If one fails, the
 * others are run again (run_kept_again).  Once a classic action
 * (store_begin) is in the batch, which cannot be run again, each combined
 * action takes a savepoint as before (w->opaque). */
static void run_request(writer *w, write_req *r) {
  store *st = r->st;
  on_writer(st, w);
  check_batch_alive(w);
  int whole = 0, rc = FH_OK;
  if (!w->open) {
    if (!(rc = sq_simple(st, Q_BEGIN, r->err))) {
      w->open = 1;
      w->batch++;
      w->pending = 0;
      w->opaque = 0;
      w->opened_at = fhtime_monotonic();
      whole = 1;
    }
  }
  int saved = !whole && w->opaque;
  if (!rc && saved) rc = sq_simple(st, Q_ACTION_SAVE, r->err);
  if (!rc) {
    rc = r->fn(st, r->arg, r->err);
    if (!rc && saved) rc = sq_simple(st, Q_ACTION_RELEASE, r->err);
    if (rc && whole && !dbc_autocommit(st->cur->db)) {
      sq_simple(st, Q_ROLLBACK, NULL);
      batch_done(w, FH_OK, NULL);   /* nothing of anybody's is lost (see store_rollback) */
    } else if (rc && saved && !dbc_autocommit(st->cur->db)) {
      sq_simple(st, Q_ACTION_ROLLBACK, NULL);
      sq_simple(st, Q_ACTION_RELEASE, NULL);
    } else if (rc && !dbc_autocommit(st->cur->db)) {
      run_kept_again(w, st);
    }
  }
  check_batch_alive(w);
  if (!rc && !w->open) rc = batch_lost(w, r->err);
  if (!rc) {   /* its owner hears when the batch is decided (settle_owners) */
    w->pending++;
    r->wait_next = w->open_owners;
    w->open_owners = r;
  }
  off_writer(st);
  r->rc = rc;
}

/* Commits the open batch of combined writes: its outcome (and the reason
 * of a failure) reaches their owners through the batch's slot. */
static void commit_served(writer *w, store *self) {
  unsigned long seq;
  fherr why = {0};
  commit_batch(w, self, w->pending, &seq, &why);
  fherr_clear(&why);
}

/* Holding mu: runs the queue dry (at most BATCH_MAX actions, so that no
 * thread serves others for ever under a steady load: the rest are handed
 * on with mu), commits as end_write would, lets go of mu and sees that a
 * sync will cover what it committed.  self: the caller's store, for the
 * commit. */
static void combine(writer *w, store *self) {
  for (int n = 0; n < BATCH_MAX; n++) {
    pthread_mutex_lock(&w->q_mu);
    write_req *r = w->q_head;
    if (r && !(w->q_head = r->next)) w->q_tail = NULL;
    pthread_mutex_unlock(&w->q_mu);
    if (!r) break;
    __atomic_sub_fetch(&w->waiting, 1, __ATOMIC_SEQ_CST);
    run_request(w, r);
    /* failed by itself: final now (its message is in r->err); the others
     * hear when their batch is decided */
    if (r->rc) finalize(r, r->rc, NULL);
    if (w->open && !batch_is_young(w)) commit_served(w, self);
  }
  if (w->open && !(__atomic_load_n(&w->waiting, __ATOMIC_SEQ_CST) > 0 && batch_is_young(w))) commit_served(w, self);
  writer_unlock(w);
  drive_sync(w);
}

int store_write_fn(store *st, store_write_cb fn, const void *arg, fherr *err) {
  writer *w = st->w;
  if (!w || st->in_write) {   /* alone (private database, PostgreSQL), or refused by store_begin */
    int rc = store_begin(st, err);
    if (rc) return rc;
    if ((rc = fn(st, arg, err))) {
      store_rollback(st);
      return rc;
    }
    return store_commit(st, err);
  }
  write_req r = {.st = st, .fn = fn, .arg = arg, .err = err};
  __atomic_add_fetch(&w->waiting, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(&w->q_mu);
  if (w->q_tail) w->q_tail->next = &r;
  else w->q_head = &r;
  w->q_tail = &r;
  pthread_mutex_unlock(&w->q_mu);
  for (;;) {
    if (pthread_mutex_trylock(&w->mu) == 0) combine(w, st);
    if (req_wait(&r.state) & REQ_FINAL) break;
    __atomic_fetch_and(&r.state, ~(REQ_KICKED | REQ_ASLEEP), __ATOMIC_RELAXED);   /* a later kick sets it again */
  }
  return r.rc;   /* final: its own, its batch's or its sync's */
}

int store_begin(store *st, fherr *err) {
  writer *w = st->w;
  st_forget_write_participant(st);
  if (!w) return sq_simple(st, Q_BEGIN, err);
  if (st->in_write) return fherr_set(err, FH_INTERNAL, "a write action is already open on this store");
  __atomic_add_fetch(&w->waiting, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(&w->mu);
  __atomic_sub_fetch(&w->waiting, 1, __ATOMIC_SEQ_CST);
  st->cur = &w->c;
  st->in_write = 1;
  check_batch_alive(w);
  int rc = FH_OK;
  st->whole_batch = 0;
  if (!w->open) {
    if (!(rc = sq_simple(st, Q_BEGIN, err))) {
      w->open = 1;
      w->batch++;
      w->pending = 0;
      w->opened_at = fhtime_monotonic();
      st->whole_batch = 1;   /* alone in the batch: ROLLBACK undoes just this action */
    }
  }
  w->opaque = 1;   /* it cannot be run again: combined actions after it take savepoints */
  if (!rc && !st->whole_batch) rc = sq_simple(st, Q_ACTION_SAVE, err);
  if (rc) end_write(st, 0, NULL);
  return rc;
}

int store_commit(store *st, fherr *err) {
  st_forget_write_participant(st);   /* the commit may still fail */
  if (!st->w) {
    int rc = st->unlock_pid ? store_lock_commit(st, err) : sq_simple(st, Q_COMMIT, err);
    metrics_commit(1, rc);
    /* PostgreSQL: a connection lost while its COMMIT was on the way may
     * have committed; the caller cannot know, so the answer must not say
     * "nothing was written" */
    if (rc && st->cur->db->kind == DB_KIND_PG && st->cur->db->lost)
      fherr_set(err, FH_BUSY, "the connection to the database broke during the commit: "
                              "the action may have been written; look before repeating it");
    if (rc) store_rollback(st);
    return rc;
  }
  if (!st->in_write) return FH_OK;
  int rc = st->whole_batch ? FH_OK : sq_simple(st, Q_ACTION_RELEASE, err);
  if (rc) {
    sq_simple(st, Q_ACTION_ROLLBACK, NULL);
    sq_simple(st, Q_ACTION_RELEASE, NULL);
    end_write(st, 0, NULL);
    return rc;
  }
  return end_write(st, 1, err);
}

void store_rollback(store *st) {
  st_forget_write_participant(st);
  if (!st->w) {
    if (st->cur->db && !dbc_autocommit(st->cur->db)) sq_simple(st, Q_ROLLBACK, NULL);
    return;
  }
  if (!st->in_write) return;
  if (st->whole_batch && !dbc_autocommit(st->cur->db)) {
    sq_simple(st, Q_ROLLBACK, NULL);
    /* nothing of anybody's is lost and nobody waits on it: recorded as a
     * success, so that a waiter reading the results ring late sees none */
    batch_done(st->w, FH_OK, NULL);
  } else if (!dbc_autocommit(st->cur->db)) {
    sq_simple(st, Q_ACTION_ROLLBACK, NULL);
    sq_simple(st, Q_ACTION_RELEASE, NULL);
  }
  end_write(st, 0, NULL);
}

/* A deferred read transaction on the store's own connection: the statements
 * until store_read_end() read one snapshot and take the WAL read lock once,
 * not once each.  Nothing is begun (*began = 0) inside a write, inside an
 * open transaction, or on a private database (whose writes use this very
 * connection). */
int store_read_begin(store *st, int *began, fherr *err) {
  *began = 0;
  if (!st->w || st->in_write || !dbc_autocommit(st->cur->db)) return FH_OK;
  int rc = sq_simple(st, Q_READ_BEGIN, err);
  if (!rc) *began = 1;
  return rc;
}

void store_read_end(store *st, int began) {
  if (!began || st->in_write || dbc_autocommit(st->cur->db)) return;
  if (sq_simple(st, Q_COMMIT, NULL)) sq_simple(st, Q_ROLLBACK, NULL);
}

int store_savepoint(store *st, fherr *err) { return sq_simple(st, Q_SAVEPOINT, err); }
int store_release(store *st, fherr *err) { return sq_simple(st, Q_RELEASE, err); }
void store_rollback_to(store *st) {
  sq_simple(st, Q_ROLLBACK_TO, NULL);
  sq_simple(st, Q_RELEASE, NULL);
}
