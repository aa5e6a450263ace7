/* store_walbuf — one write per commit into SQLite's write-ahead log.
 *
 * SQLite's wal.c writes a frame in walWriteOneFrame as two xWrite calls, the
 * 24-byte frame header and then the page, and sqlite3WalFrames writes all
 * frames of a commit back to back; at synchronous=NORMAL nothing else
 * happens in between.  A one-row flowhost commit writes ~17 frames, so ~34
 * pwrite(2) calls.  This VFS wraps the default one and, for the WAL file
 * only (xOpen flags & SQLITE_OPEN_WAL), appends writes that continue the
 * current run (offset == end of the buffered bytes) to a buffer and writes
 * the run with one xWrite of the real file.  Every other file is passed
 * through untouched.
 *
 * When the run reaches the file:
 *   - A frame header whose bytes 4..7 ("database size after commit") are
 *     non-zero marks a commit frame.  The xWrite of the page that follows it
 *     writes the whole run at once and returns that write's result: the
 *     commit's frames are in the file when sqlite3WalFrames returns from
 *     walWriteOneFrame, i.e. before it runs walIndexAppend and
 *     walIndexWriteHdr.  Other connections and processes read frames from
 *     the file only once the wal-index header (published by
 *     walIndexWriteHdr) says they exist, and recovery only trusts frames up
 *     to the last valid commit frame, so they never see a frame that is
 *     still in the buffer: same ordering as without the buffer.  A failed
 *     write fails the commit exactly as a failed direct write would, and
 *     the run is dropped: written later, a failed commit's complete frames
 *     would make recovery after a crash revive a transaction SQLite
 *     reported as failed.
 *   - Frames not followed by a commit frame (a transaction spilling its
 *     cache, or one rolled back) are written before EVERY other method call
 *     on the WAL file (xRead, xSync, xTruncate, xFileSize, xFileControl,
 *     locks, xClose) and before every shm and lock call on the
 *     connection's main database file:
 *     SQLite takes and releases the WAL write lock with xShmLock on that
 *     file and publishes the wal-index header around xShmBarrier, so a
 *     buffered frame reaches the file while this connection still holds
 *     the write lock and can never land late over frames another
 *     connection committed since.  The main file finds its WAL with
 *     sqlite3_database_file_object(): the link is per connection, so it
 *     holds whichever thread runs the connection.
 * The real file thus always receives the exact sequence of writes SQLite
 * issued, in order, merely coalesced: a write or call that is not a
 * contiguous append first writes the pending run, and if that fails it
 * returns the error without doing anything else, keeping the run for the
 * next attempt (nothing is silently lost).  Only when SQLite releases a
 * lock (it ignores that result) or closes the file is a run that cannot be
 * written dropped: the lock is released all the same, and such frames were
 * never committed (a commit's run is written, or its commit failed).
 *
 * Overwrites go straight through (after the run): sqlite3WalFrames
 * rewriting in place a page this transaction spilled earlier, and the frame
 * headers walRewriteChecksums rewrites, each right after reading that whole
 * frame (so no commit header waits in the run for xShmBarrier, which cannot
 * report an error).  Anything unexpected (a write that is none of these,
 * nor the 32-byte WAL header at offset 0, a 24-byte frame header or the
 * page right after it) writes the run and passes that file through
 * unbuffered from then on.  xSectorSize and xDeviceCharacteristics are
 * pure queries and do not write the run.
 *
 * A WAL file also keeps a second descriptor of its own (sync_fd, opened by
 * name with the file): walbuf_wal_fd gives it to the group commit of
 * store_writer.c, which makes commits durable with fdatasync(2) on it
 * outside the connection's lock.  fdatasync acts on the file, not on the
 * descriptor, so it covers every write SQLite made through its own.
 *
 * A WAL file grows a MiB ahead of its frames, with zeros (wb_fill).
 *
 * FLOWHOST_WALBUF=0 in the environment turns the VFS off (README.md).
 */
#include "store_walbuf.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* WB_MAX_BUF: the unix VFS writes at most 0x1ffff bytes per xWrite
 * (seekAndWriteFd masks the length with it; a longer write comes back as
 * SQLITE_FULL), so a run never grows past that: ~31 frames of 4 KiB. */
enum { WB_FRAME_HDR = 24, WB_WAL_HDR = 32, WB_MAX_BUF = 0x1ffff, WB_MIN_BUF = 64 << 10 };

typedef struct wb_file wb_file;
struct wb_file {
  sqlite3_file base;            /* pMethods points at methods below */
  sqlite3_io_methods methods;   /* the template, with the real file's iVersion */
  sqlite3_file *real;           /* the default VFS's file, right after this struct */
  wb_file *wal;                 /* main database file: its connection's WAL file */
  wb_file *main;                /* WAL file: the main database file linking to it */
  int is_wal;                   /* buffering this file (it is a WAL file) */
  int passthrough;              /* an unexpected write was seen: no more buffering */
  int expect_page;              /* the last write was a frame header */
  int commit_hdr;               /* ... of a commit frame */
  int page_size;                /* learnt from the WAL header or the first frame */
  unsigned char *buf;           /* the pending run: len bytes at file offset start */
  size_t len, cap;
  sqlite3_int64 start;
  sqlite3_int64 hdr_end;        /* where the page after the last header goes */
  sqlite3_int64 reread_off;     /* offset of a whole frame just read, else -1 */
  int sync_fd;                  /* WAL file: a descriptor of its own for fdatasync, else -1 */
  sqlite3_int64 filled;         /* WAL file: bytes known to be in the file (see wb_fill) */
};

static sqlite3_vfs wb_vfs;
static const char *wb_name;
static pthread_once_t wb_once = PTHREAD_ONCE_INIT;

static sqlite3_vfs *real_vfs(void) { return (sqlite3_vfs *)wb_vfs.pAppData; }

static sqlite3_file *real_of(sqlite3_file *f) { return ((wb_file *)f)->real; }

/* A WAL file grows ahead of its writes, WB_FILL_STEP at a time, with zeros.
 * An fdatasync of a file whose size changed must also commit the file's
 * metadata (ext4: a journal commit and a second flush of the device); one
 * that only overwrote written blocks does not.  On this machine a 4 KiB
 * write plus fdatasync takes ~100 us overwriting and ~220 us appending,
 * and a new database's WAL grows for its first 16-20 MiB (the checkpoint
 * restarts it from the front after that).  PostgreSQL zero-fills its WAL
 * segments for the same reason.  Zeros are never taken for frames: a frame
 * is valid only with the WAL header's salts and a running checksum, so
 * recovery stops at the first zero frame, as it stops at stale frames of a
 * WAL that restarted.  The size is asked of the file before filling (the
 * write lock is held while frames are written, so nobody else writes it
 * then), never assumed, so the zeros only ever go past its end; a fill that
 * fails (a full disk) is left, and the run's own write reports its error. */
enum { WB_FILL_STEP = 1 << 20, WB_ZERO_CHUNK = 64 << 10 };
static const unsigned char wb_zeros[WB_ZERO_CHUNK];

static void wb_fill(wb_file *w, sqlite3_int64 end) {
  if (end <= w->filled) return;
  sqlite3_int64 size = 0;
  if (w->real->pMethods->xFileSize(w->real, &size) != SQLITE_OK) return;
  w->filled = size;
  if (end <= size) return;
  sqlite3_int64 to = (end + WB_FILL_STEP - 1) / WB_FILL_STEP * WB_FILL_STEP;
  for (sqlite3_int64 off = size; off < to;) {
    int n = to - off < WB_ZERO_CHUNK ? (int)(to - off) : WB_ZERO_CHUNK;
    if (w->real->pMethods->xWrite(w->real, wb_zeros, n, off) != SQLITE_OK) return;
    off += n;
    w->filled = off;
  }
}

/* Writes the pending run with one write of the real file.  On failure the
 * run stays pending (see the opening comment). */
static int wb_flush(wb_file *w) {
  if (!w || !w->len) return SQLITE_OK;
  w->expect_page = 0;
  wb_fill(w, w->start + (sqlite3_int64)w->len);
  int rc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->len, w->start);
  if (rc == SQLITE_OK) w->len = 0;
  return rc;
}

/* Before a lock is released: the run is written or dropped, never kept. */
static int wb_flush_or_drop(wb_file *w) {
  int rc = wb_flush(w);
  if (w) w->len = 0;
  return rc;
}

/* Makes room for n more bytes (n <= WB_MAX_BUF). */
static int wb_reserve(wb_file *w, size_t n) {
  if (w->len + n <= w->cap) return SQLITE_OK;
  size_t cap = w->cap ? w->cap : WB_MIN_BUF;
  while (cap < w->len + n) cap *= 2;
  if (cap > WB_MAX_BUF) cap = WB_MAX_BUF;
  unsigned char *b = realloc(w->buf, cap);
  if (!b) return SQLITE_NOMEM;
  w->buf = b;
  w->cap = cap;
  return SQLITE_OK;
}

/* Appends a write to the run, writing the pending run first when the write
 * does not continue it or does not fit; writes too large go straight
 * through. */
static int wb_append(wb_file *w, const void *p, int n, sqlite3_int64 off) {
  int contiguous = w->len && off == w->start + (sqlite3_int64)w->len;
  if (!contiguous || w->len + (size_t)n > WB_MAX_BUF) {
    int rc = wb_flush(w);
    if (rc) return rc;
  }
  if ((size_t)n > WB_MAX_BUF) return w->real->pMethods->xWrite(w->real, p, n, off);
  if (wb_reserve(w, (size_t)n)) {
    int rc = wb_flush(w);
    return rc ? rc : w->real->pMethods->xWrite(w->real, p, n, off);
  }
  if (!w->len) w->start = off;
  memcpy(w->buf + w->len, p, (size_t)n);
  w->len += (size_t)n;
  return SQLITE_OK;
}

static int valid_page_size(int n) { return n >= 512 && n <= 65536 && (n & (n - 1)) == 0; }

static unsigned get_be32(const unsigned char *b) {
  return (unsigned)b[0] << 24 | (unsigned)b[1] << 16 | (unsigned)b[2] << 8 | b[3];
}

/* An unexpected write: the run first, then this write, then no more buffering. */
static int wb_give_up(wb_file *w, const void *p, int n, sqlite3_int64 off) {
  int rc = wb_flush(w);
  if (rc) return rc;
  w->passthrough = 1;
  return w->real->pMethods->xWrite(w->real, p, n, off);
}

/* The page after a frame header: appended; a commit's run is written now. */
static int wb_write_page(wb_file *w, const void *p, int n, sqlite3_int64 off) {
  int commit = w->commit_hdr;
  w->expect_page = 0;
  if (!w->page_size) w->page_size = n;
  int rc = wb_append(w, p, n, off);
  if (!commit) return rc;
  if (rc == SQLITE_OK) rc = wb_flush(w);
  w->len = 0; /* a failed commit's frames must never reach the file later */
  return rc;
}

/* A frame header (24 bytes) or the WAL header (32 bytes at offset 0). */
static int wb_write_header(wb_file *w, const void *p, int n, sqlite3_int64 off) {
  const unsigned char *b = p;
  if (n == WB_WAL_HDR) {
    int ps = (int)get_be32(b + 8);
    if (ps == 1) ps = 65536; /* the WAL header's way to say 64 KiB */
    if (!valid_page_size(ps) || (w->page_size && w->page_size != ps)) return wb_give_up(w, p, n, off);
    w->page_size = ps;
    return wb_append(w, p, n, off);
  }
  int rc = wb_append(w, p, n, off);
  if (rc) return rc;
  w->expect_page = 1;
  w->commit_hdr = get_be32(b + 4) != 0;
  w->hdr_end = off + WB_FRAME_HDR;
  return SQLITE_OK;
}

static int wb_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off) {
  wb_file *w = (wb_file *)f;
  if (!w->is_wal || w->passthrough) return w->real->pMethods->xWrite(w->real, p, n, off);
  sqlite3_int64 reread = w->reread_off;
  w->reread_off = -1;
  if (n == WB_FRAME_HDR && off == reread && !w->expect_page) {
    /* walRewriteChecksums: a frame header rewritten right after reading
     * that frame.  Straight through, so that no commit header ever waits
     * in the run for the xShmBarrier, which cannot report an error. */
    int rc = wb_flush(w);
    return rc ? rc : w->real->pMethods->xWrite(w->real, p, n, off);
  }
  if (w->expect_page) {
    int size_ok = w->page_size ? n == w->page_size : valid_page_size(n);
    if (off == w->hdr_end && size_ok) return wb_write_page(w, p, n, off);
    return wb_give_up(w, p, n, off);
  }
  if ((n == WB_WAL_HDR && off == 0) || n == WB_FRAME_HDR) return wb_write_header(w, p, n, off);
  if (w->page_size && n == w->page_size) {
    /* sqlite3WalFrames rewriting, in place, a frame this transaction spilled */
    int rc = wb_flush(w);
    return rc ? rc : w->real->pMethods->xWrite(w->real, p, n, off);
  }
  return wb_give_up(w, p, n, off);
}

/* The WAL file's run before any other call on it (a no-op for other files). */
static int wb_own(sqlite3_file *f) {
  wb_file *w = (wb_file *)f;
  return w->is_wal ? wb_flush(w) : SQLITE_OK;
}

/* Before a shm or lock call: the run of this file, or of the connection's
 * WAL file when this is the main database file. */
static wb_file *wb_pending_for(sqlite3_file *f) {
  wb_file *w = (wb_file *)f;
  return w->is_wal ? w : w->wal;
}

static int wb_close(sqlite3_file *f) {
  wb_file *w = (wb_file *)f;
  int frc = w->is_wal ? wb_flush_or_drop(w) : SQLITE_OK;
  if (w->main) w->main->wal = NULL;
  if (w->wal) w->wal->main = NULL;
  int rc = w->real->pMethods->xClose(w->real);
  if (w->sync_fd >= 0) close(w->sync_fd);
  w->sync_fd = -1;
  free(w->buf);
  w->buf = NULL;
  return frc ? frc : rc;
}

static int wb_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off) {
  wb_file *w = (wb_file *)f;
  int rc = wb_own(f);
  if (w->is_wal) w->reread_off = w->page_size && n == w->page_size + WB_FRAME_HDR ? off : -1;
  return rc ? rc : real_of(f)->pMethods->xRead(real_of(f), p, n, off);
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size) {
  wb_file *w = (wb_file *)f;
  int rc = wb_own(f);
  if (w->filled > size) w->filled = size;
  return rc ? rc : real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int wb_sync(sqlite3_file *f, int flags) {
  int rc = wb_own(f);
  return rc ? rc : real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int wb_file_size(sqlite3_file *f, sqlite3_int64 *size) {
  int rc = wb_own(f);
  return rc ? rc : real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int wb_lock(sqlite3_file *f, int level) {
  int rc = wb_flush(wb_pending_for(f));
  return rc ? rc : real_of(f)->pMethods->xLock(real_of(f), level);
}

static int wb_unlock(sqlite3_file *f, int level) {
  int frc = wb_flush_or_drop(wb_pending_for(f));
  int rc = real_of(f)->pMethods->xUnlock(real_of(f), level);
  return frc ? frc : rc;
}

static int wb_check_reserved(sqlite3_file *f, int *out) {
  int rc = wb_flush(wb_pending_for(f));
  return rc ? rc : real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int wb_file_control(sqlite3_file *f, int op, void *arg) {
  int rc = wb_own(f);
  return rc ? rc : real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int wb_sector_size(sqlite3_file *f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }

static int wb_device_chars(sqlite3_file *f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int wb_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp) {
  int rc = wb_flush(wb_pending_for(f));
  return rc ? rc : real_of(f)->pMethods->xShmMap(real_of(f), pg, pgsz, extend, pp);
}

/* Releasing always happens (SQLite ignores its result); taking a lock does
 * not happen when the pending run cannot be written. */
static int wb_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
  wb_file *pending = wb_pending_for(f);
  if (!(flags & SQLITE_SHM_UNLOCK)) {
    int rc = wb_flush(pending);
    return rc ? rc : real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
  }
  int frc = wb_flush_or_drop(pending);
  int rc = real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
  return frc ? frc : rc;
}

/* Cannot report an error: a run that cannot be written stays pending and
 * fails the next call that can. */
static void wb_shm_barrier(sqlite3_file *f) {
  (void)wb_flush(wb_pending_for(f));
  real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int wb_shm_unmap(sqlite3_file *f, int del) {
  int frc = wb_flush_or_drop(wb_pending_for(f));
  int rc = real_of(f)->pMethods->xShmUnmap(real_of(f), del);
  return frc ? frc : rc;
}

static int wb_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp) {
  int rc = wb_own(f);
  return rc ? rc : real_of(f)->pMethods->xFetch(real_of(f), off, n, pp);
}

static int wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
  return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods wb_methods = {
    3,           wb_close,       wb_read,         wb_write,        wb_truncate,   wb_sync,
    wb_file_size, wb_lock,       wb_unlock,       wb_check_reserved, wb_file_control, wb_sector_size,
    wb_device_chars, wb_shm_map, wb_shm_lock,     wb_shm_barrier,  wb_shm_unmap,  wb_fetch,
    wb_unfetch,
};

/* A WAL file buffers only when its main database file is one of ours: that
 * file's shm and lock calls write the run (see the opening comment). */
static void wb_link_wal(wb_file *w, const char *name) {
  sqlite3_file *m = name ? sqlite3_database_file_object(name) : NULL;
  if (!m || !m->pMethods || m->pMethods->xClose != wb_close) return;
  w->main = (wb_file *)m;
  w->main->wal = w;
  w->is_wal = 1;
}

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
  (void)vfs;
  wb_file *w = (wb_file *)f;
  memset(w, 0, sizeof *w);
  w->real = (sqlite3_file *)(w + 1);
  w->reread_off = -1;
  w->sync_fd = -1;
  int rc = real_vfs()->xOpen(real_vfs(), name, w->real, flags, out_flags);
  if (!w->real->pMethods) return rc;
  w->methods = wb_methods;
  w->methods.iVersion = w->real->pMethods->iVersion;
  f->pMethods = &w->methods;
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL)) {
    wb_link_wal(w, name);
    /* the file exists now (the real xOpen created it): the same inode */
    if (name) w->sync_fd = open(name, O_RDONLY | O_CLOEXEC);
  }
  return rc;
}

int walbuf_wal_fd(sqlite3 *db) {
  sqlite3_file *f = NULL;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK || !f || !f->pMethods ||
      f->pMethods->xClose != wb_close)
    return -1;
  const wb_file *w = (const wb_file *)f;
  return w->is_wal ? w->sync_fd : -1;
}

/* The VFS methods other than xOpen: the real VFS's. */
static int wb_delete(sqlite3_vfs *v, const char *name, int sync_dir) {
  (void)v;
  return real_vfs()->xDelete(real_vfs(), name, sync_dir);
}

static int wb_access(sqlite3_vfs *v, const char *name, int flags, int *out) {
  (void)v;
  return real_vfs()->xAccess(real_vfs(), name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out) {
  (void)v;
  return real_vfs()->xFullPathname(real_vfs(), name, n, out);
}

static void *wb_dlopen(sqlite3_vfs *v, const char *name) {
  (void)v;
  return real_vfs()->xDlOpen(real_vfs(), name);
}

static void wb_dlerror(sqlite3_vfs *v, int n, char *msg) {
  (void)v;
  real_vfs()->xDlError(real_vfs(), n, msg);
}

static void (*wb_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void) {
  (void)v;
  return real_vfs()->xDlSym(real_vfs(), h, sym);
}

static void wb_dlclose(sqlite3_vfs *v, void *h) {
  (void)v;
  real_vfs()->xDlClose(real_vfs(), h);
}

static int wb_randomness(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  return real_vfs()->xRandomness(real_vfs(), n, out);
}

static int wb_sleep(sqlite3_vfs *v, int us) {
  (void)v;
  return real_vfs()->xSleep(real_vfs(), us);
}

static int wb_current_time(sqlite3_vfs *v, double *out) {
  (void)v;
  return real_vfs()->xCurrentTime(real_vfs(), out);
}

static int wb_last_error(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  return real_vfs()->xGetLastError ? real_vfs()->xGetLastError(real_vfs(), n, out) : 0;
}

static int wb_current_time64(sqlite3_vfs *v, sqlite3_int64 *out) {
  (void)v;
  return real_vfs()->xCurrentTimeInt64(real_vfs(), out);
}

static int wb_set_syscall(sqlite3_vfs *v, const char *name, sqlite3_syscall_ptr p) {
  (void)v;
  return real_vfs()->xSetSystemCall(real_vfs(), name, p);
}

static sqlite3_syscall_ptr wb_get_syscall(sqlite3_vfs *v, const char *name) {
  (void)v;
  return real_vfs()->xGetSystemCall(real_vfs(), name);
}

static const char *wb_next_syscall(sqlite3_vfs *v, const char *name) {
  (void)v;
  return real_vfs()->xNextSystemCall(real_vfs(), name);
}

/* Registers "flowhost-walbuf" over the default VFS, keeping its iVersion so
 * SQLite only calls the optional methods the real VFS has. */
static void wb_register(void) {
  const char *env = getenv("FLOWHOST_WALBUF");
  if (env && !strcmp(env, "0")) return;
  if (sqlite3_initialize() != SQLITE_OK) return;
  sqlite3_vfs *real = sqlite3_vfs_find(NULL);
  if (!real) return;
  sqlite3_vfs v = {
      .iVersion = real->iVersion < 3 ? real->iVersion : 3,
      .szOsFile = (int)sizeof(wb_file) + real->szOsFile,
      .mxPathname = real->mxPathname,
      .zName = "flowhost-walbuf",
      .pAppData = real,
      .xOpen = wb_open,
      .xDelete = wb_delete,
      .xAccess = wb_access,
      .xFullPathname = wb_full_pathname,
      .xDlOpen = real->xDlOpen ? wb_dlopen : NULL,
      .xDlError = real->xDlError ? wb_dlerror : NULL,
      .xDlSym = real->xDlSym ? wb_dlsym : NULL,
      .xDlClose = real->xDlClose ? wb_dlclose : NULL,
      .xRandomness = wb_randomness,
      .xSleep = wb_sleep,
      .xCurrentTime = wb_current_time,
      .xGetLastError = wb_last_error,
      .xCurrentTimeInt64 = real->iVersion >= 2 && real->xCurrentTimeInt64 ? wb_current_time64 : NULL,
      .xSetSystemCall = real->iVersion >= 3 && real->xSetSystemCall ? wb_set_syscall : NULL,
      .xGetSystemCall = real->iVersion >= 3 && real->xGetSystemCall ? wb_get_syscall : NULL,
      .xNextSystemCall = real->iVersion >= 3 && real->xNextSystemCall ? wb_next_syscall : NULL,
  };
  wb_vfs = v;
  if (sqlite3_vfs_register(&wb_vfs, 0) == SQLITE_OK) wb_name = wb_vfs.zName;
}

const char *walbuf_vfs_name(void) {
  pthread_once(&wb_once, wb_register);
  return wb_name;
}
