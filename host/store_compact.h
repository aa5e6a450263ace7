/* store_compact — rewrites a SQLite database file whole (VACUUM), with the
 * page size asked for: it gives the disk back what deleted rows left
 * free, and brings a database made before flowhost chose 2 KiB pages to
 * them (a page size is fixed when a file is made and changes only by
 * rewriting it, outside WAL mode).  Offline: it needs the file to itself.
 */
#ifndef STORE_COMPACT_H
#define STORE_COMPACT_H

#include <jansson.h>

#include "fherr.h"

/* Compacts the SQLite database at path to pages of page_size bytes (a
 * power of two, 512 to 65536).  *out: {"page_size": {"before", "after"},
 * "bytes": {"before", "after"} (the file and its WAL), "seconds"}.
 * FH_INVALID: a PostgreSQL URL, a private database, a bad page size, or a
 * file that is not a flowhost database; FH_NOT_FOUND: no file there;
 * FH_BUSY: another program has it open (a running flowhost): nothing was
 * changed.  The rewrite is one transaction: if it fails or the program
 * dies during it, the file is as it was. */
int store_compact(const char *path, int page_size, json_t **out, fherr *err);

#endif
