/* upkeep — `serve`'s thread that keeps the database's indexes in shape:
 * every `--index-upkeep` seconds, with an engine of its own, it asks for
 * the bloated partial indexes of PostgreSQL to be rebuilt
 * (engine_index_upkeep; on SQLite there is nothing to do and no thread
 * starts).  A rebuild runs beside the requests (REINDEX CONCURRENTLY) and
 * one host does it at a time; trouble is logged and tried again at the
 * next round.
 */
#ifndef UPKEEP_H
#define UPKEEP_H

#include "fherr.h"
#include "flowreg.h"

/* Seconds between rounds by default (serve --index-upkeep). */
#define UPKEEP_DEFAULT_SECONDS 600

typedef struct upkeep upkeep;

/* Starts the thread for a PostgreSQL db_path, a round every `seconds`;
 * *out NULL (and FH_OK) for SQLite or seconds <= 0. */
int upkeep_start(flowreg *reg, const char *db_path, double seconds, upkeep **out, fherr *err);
/* Stops the thread (a rebuild under way finishes first); NULL-safe. */
void upkeep_stop(upkeep *u);

#endif
