/* store_compact — VACUUM of a SQLite database file to a chosen page size
 * (see store_compact.h).
 *
 * SQLite changes a file's page size only by rewriting it, and only out of
 * WAL mode; leaving WAL mode needs the file to itself (another connection
 * keeps it: SQLite answers busy, and then nothing has been changed).  So:
 * the WAL copied back and deleted, the rollback journal for the rewrite
 * (VACUUM is one transaction: a crash in it leaves the old file, restored
 * from the journal on the next open), then WAL again, as flowhost opens
 * every file.
 */
#include "store_compact.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fhtime.h"
#include "store_db.h"
#include "store_internal.h"

#define IN_USE "the database is in use by another program (a running flowhost?): stop it first; nothing was changed"

/* The file's size plus its WAL's (0 for a missing one). */
static long long file_bytes(const char *path) {
  char wal[4096];
  struct stat sb;
  long long n = stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
  snprintf(wal, sizeof wal, "%s-wal", path);
  if (stat(wal, &sb) == 0) n += (long long)sb.st_size;
  return n;
}

/* The first column of sql's first row as an integer (*text: as text, when
 * given); the SQLite result code of the step. */
static int one_value(dbc *c, const char *sql, long long *num, char *text, size_t cap) {
  dbs *s = NULL;
  int rc = dbs_prepare(c, -1, sql, &s);
  if (rc == DB_OK) {
    rc = dbs_step(s);
    if (rc == DB_ROW) {
      if (num) *num = dbs_col_int64(s, 0);
      if (text) snprintf(text, cap, "%s", dbs_col_text(s, 0) ? dbs_col_text(s, 0) : "");
      rc = DB_OK;
    }
  }
  dbs_finalize(s);
  return rc;
}

static int valid_page_size(int n) { return n >= 512 && n <= 65536 && (n & (n - 1)) == 0; }

/* Out of WAL mode, rewritten, back into it; the file is open in c. */
static int rewrite(dbc *c, int page_size, fherr *err) {
  char mode[32] = "";
  /* Leaving WAL mode copies the WAL back and deletes it, once no other
   * connection has the file open.  Not waited for: a checkpoint that
   * waited for a running server's readers would hold the WAL's write lock
   * meanwhile, and stall that server's writes. */
  dbc_busy_wait(c, 0);
  if (one_value(c, "PRAGMA journal_mode = DELETE", NULL, mode, sizeof mode) != DB_OK || strcmp(mode, "delete"))
    return fherr_set(err, FH_BUSY, IN_USE);
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA page_size = %d", page_size);
  int rc = dbc_exec(c, sql) == DB_OK && dbc_exec(c, "VACUUM") == DB_OK
               ? FH_OK
               : fherr_set(err, dbc_errcode(c) == DB_BUSY ? FH_BUSY : FH_INTERNAL, "VACUUM failed: %s%s",
                           dbc_errmsg(c), dbc_errcode(c) == DB_FULL ? " (it needs free disk as large as the file)" : "");
  /* WAL again in any case, as every connection of flowhost opens it */
  if (one_value(c, "PRAGMA journal_mode = WAL", NULL, mode, sizeof mode) != DB_OK || strcmp(mode, "wal"))
    if (!rc) rc = fherr_set(err, FH_INTERNAL, "the database could not go back to WAL mode: %s", dbc_errmsg(c));
  return rc;
}

int store_compact(const char *path, int page_size, json_t **out, fherr *err) {
  *out = NULL;
  if (db_kind_of(path) == DB_KIND_PG)
    return fherr_set(err, FH_INVALID, "compact rewrites SQLite files; PostgreSQL gives space back by its own VACUUM");
  if (store_path_is_private(path)) return fherr_set(err, FH_INVALID, "compact needs a database file, not %s", path);
  if (!valid_page_size(page_size))
    return fherr_set(err, FH_INVALID, "the page size must be a power of two from 512 to 65536, not %d", page_size);
  const char *file = db_sqlite_path(path);
  struct stat sb;
  if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode)) return fherr_set(err, FH_NOT_FOUND, "no database file at %s", file);
  double began = fhtime_monotonic();
  long long bytes_before = file_bytes(file);
  dbc *c = NULL;
  char msg[256];
  if (dbc_open(path, &c, msg, sizeof msg) != DB_OK) {
    dbc_close(c);
    return fherr_set(err, FH_INTERNAL, "cannot open %s: %s", file, msg);
  }
  sqlite3_extended_result_codes(c->lite, 0);
  long long tables = 0, before = 0, after = 0;
  int rc = FH_OK;
  if (one_value(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('process', 'task')", &tables,
                NULL, 0) != DB_OK)
    rc = fherr_set(err, dbc_errcode(c) == DB_BUSY ? FH_BUSY : FH_INVALID, "%s: %s", file,
                   dbc_errcode(c) == DB_BUSY ? IN_USE : dbc_errmsg(c));
  else if (tables != 2)
    rc = fherr_set(err, FH_INVALID, "%s is not a flowhost database", file);
  if (!rc && one_value(c, "PRAGMA page_size", &before, NULL, 0) != DB_OK)
    rc = fherr_set(err, FH_INTERNAL, "cannot read the page size: %s", dbc_errmsg(c));
  if (!rc) rc = rewrite(c, page_size, err);
  if (!rc && one_value(c, "PRAGMA page_size", &after, NULL, 0) != DB_OK)
    rc = fherr_set(err, FH_INTERNAL, "cannot read the page size: %s", dbc_errmsg(c));
  dbc_close(c);
  if (rc) return rc;
  *out = json_pack("{s:{s:I, s:I}, s:{s:I, s:I}, s:f}", "page_size", "before", (json_int_t)before, "after",
                   (json_int_t)after, "bytes", "before", (json_int_t)bytes_before, "after",
                   (json_int_t)file_bytes(file), "seconds", fhtime_monotonic() - began);
  return *out ? FH_OK : fherr_set(err, FH_INTERNAL, "out of memory");
}
