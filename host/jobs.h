/* jobs — the background workers of `flowhost serve` (--jobs N).
 *
 * Each worker owns an engine (its own Lua state and database connection)
 * and loops on engine_run_due(): claim a due job or timer with a lease, run
 * it outside any transaction, then write its result and activate what
 * follows in one transaction.  Workers sleep until the next task is due, a
 * wake-up (jobs_wake, called after each action that may have scheduled
 * something), or at most a second (--poll), so jobs made by other processes
 * sharing the database are seen too.  On PostgreSQL a listener wakes them
 * when any host's write made work due (LISTEN/NOTIFY, store_listen.h).
 */
#ifndef JOBS_H
#define JOBS_H

#include "fherr.h"
#include "flowreg.h"

typedef struct jobs jobs;

typedef struct jobs_options {
  flowreg *flows;
  const char *db_path;
  int synchronous_full;
  int workers;             /* 0: no workers (jobs_start returns a no-op pool) */
  double budget_seconds;
  double lease_grace;      /* see engine_options */
  double poll_seconds;     /* the longest sleep without a wake-up (0: JOBS_POLL_DEFAULT) */
} jobs_options;

/* Without a wake-up, workers look for due work this often (serve --poll):
 * the safety net under the wake-ups (in-process, and on PostgreSQL the
 * LISTEN/NOTIFY of every host's writes, store_listen.h). */
#define JOBS_POLL_DEFAULT 1.0

int jobs_start(const jobs_options *opt, jobs **out, fherr *err);
void jobs_wake(jobs *j);   /* NULL-safe */
/* Stops the workers after their current job and joins them. */
void jobs_stop(jobs *j);

#endif
