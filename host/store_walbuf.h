/* store_walbuf — a SQLite VFS that gathers the frames of one commit into
 * the write-ahead log and writes them with one pwrite (issue 13): SQLite
 * writes every WAL frame as two writes (its 24-byte header, then the page).
 * See store_walbuf.c for the protocol and why it is safe.
 */
#ifndef STORE_WALBUF_H
#define STORE_WALBUF_H

/* The VFS name to open SQLite connections with: "flowhost-walbuf",
 * registered once (not as the default) over the VFS that is the default at
 * that moment.  NULL (SQLite's default VFS) when FLOWHOST_WALBUF=0 is in
 * the environment or the registration failed. */
const char *walbuf_vfs_name(void);

typedef struct sqlite3 sqlite3;
/* A descriptor of the WAL file of db (opened through this VFS, in WAL mode,
 * its WAL open), for fdatasync(2) by another thread while db goes on
 * writing; valid while db keeps that WAL open.  -1 when there is none. */
int walbuf_wal_fd(sqlite3 *db);

#endif
