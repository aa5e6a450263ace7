/* jobs — the pool of background workers: one thread and one engine each,
 * looping on engine_run_due and sleeping until the next due time or a wake-up;
 * calls the engine and fhlog. */
#include "jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "engine_listen.h"
#include "fhlog.h"

/* How long an idle worker waits when the due work is leased by another. */
#define LEASED_PAUSE 0.2

typedef struct worker {
  jobs *pool;
  pthread_t thread;
  int index;
  int started;
} worker;

struct jobs {
  jobs_options opt;
  char *db_path;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int stopping;
  unsigned long wakeups;   /* bumped by jobs_wake; guarded by mu */
  worker *workers;
  int n;
  engine_listener *listener;   /* PostgreSQL: other hosts' writes wake us */
};

/* The longest a worker sleeps without a wake-up: jobs scheduled by another
 * process sharing the database (the CLI, say; another host without the
 * listener) are picked up this fast. */
static void sleep_until_due(jobs *j, double seconds, unsigned long seen) {
  if (seconds < 0 || seconds > j->opt.poll_seconds) seconds = j->opt.poll_seconds;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  long ns = until.tv_nsec + (long)(seconds * 1e9);
  until.tv_sec += ns / 1000000000L;
  until.tv_nsec = ns % 1000000000L;
  pthread_mutex_lock(&j->mu);
  while (!j->stopping && j->wakeups == seen)
    if (pthread_cond_timedwait(&j->cond, &j->mu, &until) != 0) break;
  pthread_mutex_unlock(&j->mu);
}

static void *work(void *arg) {
  worker *w = arg;
  jobs *j = w->pool;
  char name[32];
  /* the pid names the host in the leases it writes (task.lease_owner), so that
   * with several hosts on one database a lease says whose it is */
  snprintf(name, sizeof name, "job-worker-%d@%ld", w->index, (long)getpid());
  engine_options eo = {.flows = j->opt.flows, .db_path = j->db_path, .synchronous_full = j->opt.synchronous_full,
                       .budget_seconds = j->opt.budget_seconds, .lease_grace = j->opt.lease_grace,
                       .worker_name = name};
  engine *e = NULL;
  fherr err = {0};
  if (engine_open(&eo, &e, &err)) {
    fhlog(FHLOG_ERROR, "%s cannot start: %s", name, err.message);
    fherr_clear(&err);
    return NULL;
  }
  for (;;) {
    pthread_mutex_lock(&j->mu);
    int stop = j->stopping;
    unsigned long seen = j->wakeups;
    pthread_mutex_unlock(&j->mu);
    if (stop) break;
    int ran = 0;
    /* One at a time, so a stop request is honoured between jobs. */
    int rc = engine_run_due(e, 1, &ran, &err);
    if (rc) {
      if (rc != FH_BUSY) fhlog(FHLOG_ERROR, "%s: %s", name, err.message);
      fherr_clear(&err);
      sleep_until_due(j, 0.2, seen);
      continue;
    }
    if (ran) continue;
    double due = -1;
    if (engine_next_due(e, &due, &err)) fherr_clear(&err);
    /* Due now, yet nothing was ours: another worker (of any host) holds
     * its lease.  Look again soon, not at once: a worker spun on the claim
     * for as long as a peer's job ran. */
    if (due == 0) due = LEASED_PAUSE;
    sleep_until_due(j, due, seen);
  }
  engine_close(e);
  return NULL;
}

static void wake_cb(void *arg) { jobs_wake(arg); }

int jobs_start(const jobs_options *opt, jobs **out, fherr *err) {
  *out = NULL;
  jobs *j = calloc(1, sizeof *j);
  if (!j) return fherr_set(err, FH_INTERNAL, "out of memory");
  j->opt = *opt;
  if (!(j->opt.poll_seconds > 0)) j->opt.poll_seconds = JOBS_POLL_DEFAULT;
  j->db_path = strdup(opt->db_path);
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cond, NULL);
  if (opt->workers > 0) j->workers = calloc(opt->workers, sizeof *j->workers);
  for (int i = 0; i < opt->workers && j->workers; i++) {
    worker *w = &j->workers[i];
    w->pool = j;
    w->index = i + 1;
    if (pthread_create(&w->thread, NULL, work, w) != 0) {
      jobs_stop(j);
      return fherr_set(err, FH_INTERNAL, "cannot start job worker %d", i + 1);
    }
    w->started = 1;
    j->n++;
  }
  if (j->n && engine_listen_start(j->db_path, wake_cb, j, &j->listener, err)) {
    jobs_stop(j);
    return err->code;
  }
  *out = j;
  return FH_OK;
}

void jobs_wake(jobs *j) {
  if (!j) return;
  pthread_mutex_lock(&j->mu);
  j->wakeups++;
  pthread_cond_broadcast(&j->cond);
  pthread_mutex_unlock(&j->mu);
}

void jobs_stop(jobs *j) {
  if (!j) return;
  engine_listen_stop(j->listener);   /* first: it calls jobs_wake */
  pthread_mutex_lock(&j->mu);
  j->stopping = 1;
  pthread_cond_broadcast(&j->cond);
  pthread_mutex_unlock(&j->mu);
  for (int i = 0; i < j->opt.workers && j->workers; i++)
    if (j->workers[i].started) pthread_join(j->workers[i].thread, NULL);
  pthread_cond_destroy(&j->cond);
  pthread_mutex_destroy(&j->mu);
  free(j->workers);
  free(j->db_path);
  free(j);
}
