/* jobs — the background workers of `flowhost serve` (--jobs N).
 *
 * Each worker owns an engine (its own Lua state and database connection)
 * and loops on engine_run_due(): claim a due job or timer with a lease, run
 * it outside any transaction, then write its result and activate what
 * follows in one transaction.  Workers sleep until the next task is due, a
 * wake-up (jobs_wake, called after each action that may have scheduled
 * something), or at most a second, so jobs made by other processes sharing
 * the database are seen too.
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
} jobs_options;

int jobs_start(const jobs_options *opt, jobs **out, fherr *err);
void jobs_wake(jobs *j);   /* NULL-safe */
/* Stops the workers after their current job and joins them. */
void jobs_stop(jobs *j);

#endif
