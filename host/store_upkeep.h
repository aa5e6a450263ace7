/* store_upkeep — PostgreSQL's partial indexes of open tasks and processes
 * kept compact.
 *
 * A b-tree of PostgreSQL frees a leaf page only once it is empty.  The
 * partial indexes of open work (task_open, task_queue_node,
 * task_queue_due, ...) take every task while it is open and lose it when it
 * finishes, so in a database whose tasks mostly finished, the few that
 * stayed open hold a leaf page each: at 1,000,000 processes with 1 in 150
 * still open, task_queue_node had 9,947 pages for 7,210 entries.  The
 * planner then takes a walk of such an index for dear and reads a whole
 * status's range elsewhere (bob's queue: 15 ms a page; 0.4 ms once the
 * index was rebuilt, 43 pages).  SQLite merges pages that fall under a
 * third full by itself: there is nothing to do.
 *
 * store_index_upkeep rebuilds the bloated ones with REINDEX CONCURRENTLY
 * (writers and readers go on meanwhile), one host at a time (an advisory
 * lock tried, never waited for), and first drops what a rebuild cut short
 * left behind (an invalid copy named ..._ccnew). */
#ifndef STORE_UPKEEP_H
#define STORE_UPKEEP_H

#include "fherr.h"
#include "store.h"

/* An index is bloated from this many pages (2 MiB of 8 KiB pages) when it
 * has more than STORE_BLOAT_FACTOR times the pages its entries need,
 * counted at STORE_ENTRIES_PER_PAGE (a rebuilt task_queue_node holds 140
 * a page; every partial index of ours holds more than 64). */
#define STORE_BLOAT_MIN_PAGES 256
#define STORE_BLOAT_FACTOR 4
#define STORE_ENTRIES_PER_PAGE 64

typedef struct store_index_rebuild {
  char index[64];
  long long pages_before, pages_after;
  long long entries;   /* as the statistics had them */
} store_index_rebuild;

/* Rebuilds up to cap bloated partial indexes of task and process into
 * out[0..*n-1] (*n 0: none bloated, another host at it, or SQLite).  An
 * error stops at the index it names; those before it are in out. */
int store_index_upkeep(store *st, store_index_rebuild *out, int cap, int *n, fherr *err);

#endif
