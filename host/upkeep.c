/* upkeep — the thread of the index upkeep (see upkeep.h); calls the
 * engine (engine_admin.h) and fhlog. */
#include "upkeep.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "engine.h"
#include "engine_admin.h"
#include "fhlog.h"

struct upkeep {
  engine *e;
  double seconds;
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int stopping;
};

/* Waits a round; 0 once asked to stop. */
static int wait_round(upkeep *u) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  double whole = (double)(long)u->seconds;
  long ns = until.tv_nsec + (long)((u->seconds - whole) * 1e9);
  until.tv_sec += (time_t)whole + ns / 1000000000L;
  until.tv_nsec = ns % 1000000000L;
  pthread_mutex_lock(&u->mu);
  while (!u->stopping)
    if (pthread_cond_timedwait(&u->cond, &u->mu, &until) != 0) break;
  int go = !u->stopping;
  pthread_mutex_unlock(&u->mu);
  return go;
}

static void *upkeep_loop(void *arg) {
  upkeep *u = arg;
  int failing = 0;
  while (wait_round(u)) {
    fherr err = {0};
    int rebuilt = 0;
    int rc = engine_index_upkeep(u->e, &rebuilt, &err);
    if (rc && !failing) fhlog(FHLOG_WARN, "index upkeep failed (trying again in %.0f s): %s", u->seconds, err.message);
    if (!rc && failing) fhlog(FHLOG_INFO, "index upkeep works again");
    failing = rc != 0;
    fherr_clear(&err);
  }
  return NULL;
}

int upkeep_start(flowreg *reg, const char *db_path, double seconds, upkeep **out, fherr *err) {
  *out = NULL;
  if (!engine_db_is_postgres(db_path) || seconds <= 0) return FH_OK;
  upkeep *u = calloc(1, sizeof *u);
  if (!u) return fherr_set(err, FH_INTERNAL, "out of memory");
  u->seconds = seconds;
  engine_options eo = {.flows = reg, .db_path = db_path, .synchronous_full = 1, .worker_name = "upkeep"};
  int rc = engine_open(&eo, &u->e, err);
  if (rc) {
    free(u);
    return rc;
  }
  pthread_mutex_init(&u->mu, NULL);
  pthread_cond_init(&u->cond, NULL);
  if (pthread_create(&u->thread, NULL, upkeep_loop, u) != 0) {
    upkeep_stop(u);
    return fherr_set(err, FH_INTERNAL, "cannot start the index upkeep");
  }
  u->started = 1;
  *out = u;
  return FH_OK;
}

void upkeep_stop(upkeep *u) {
  if (!u) return;
  pthread_mutex_lock(&u->mu);
  u->stopping = 1;
  pthread_cond_broadcast(&u->cond);
  pthread_mutex_unlock(&u->mu);
  if (u->started) pthread_join(u->thread, NULL);
  engine_close(u->e);
  pthread_cond_destroy(&u->cond);
  pthread_mutex_destroy(&u->mu);
  free(u);
}
