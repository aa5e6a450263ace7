/* upkeep — the thread of the index upkeep (see upkeep.h); calls the
 * engine (engine_admin.h) and fhlog. */
#include "upkeep.h"

#include <pthread.h>
#include <stdlib.h>

#include "engine.h"
#include "engine_admin.h"
#include "fhlog.h"
#include "stopper.h"

struct upkeep {
  engine *e;
  double seconds;
  pthread_t thread;
  int started;
  stopper stop;
};

static void *upkeep_loop(void *arg) {
  upkeep *u = arg;
  int failing = 0;
  while (stopper_sleep(&u->stop, u->seconds)) {
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
  stopper_init(&u->stop);
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
  stopper_stop(&u->stop);
  if (u->started) pthread_join(u->thread, NULL);
  engine_close(u->e);
  stopper_destroy(&u->stop);
  free(u);
}
