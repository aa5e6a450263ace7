/* hostbeat — the thread that records this host's flow versions and beats
 * (see hostbeat.h); calls the engine (engine_hosts.h), fhtime and fhlog. */
#include "hostbeat.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "engine_hosts.h"
#include "fhlog.h"
#include "fhtime.h"
#include "identity.h"
#include "stopper.h"

/* How often the thread looks at the registry's generation: a reload shows
 * in GET /api/flows this fast. */
#define TICK_SECONDS 0.25

struct hostbeat {
  flowreg *reg;
  token_uses *uses;
  int uses_failing;   /* the last write of uses failed (logged once) */
  char *name;
  engine *e;
  pthread_t thread;
  int started;
  stopper stop;
};

/* Logs the first failure of a run of them and the recovery. */
static void note(hostbeat *h, int rc, fherr *err, int *failing) {
  if (rc && !*failing) fhlog(FHLOG_WARN, "host %s: flow versions not recorded (retrying): %s", h->name, err->message);
  if (!rc && *failing) fhlog(FHLOG_INFO, "host %s: flow versions recorded again", h->name);
  *failing = rc != 0;
  fherr_clear(err);
}

/* Writes the tokens' uses noted since the last time; on failure they are
 * noted again, for the next beat. */
static void write_uses(hostbeat *h) {
  token_use *uses;
  size_t n;
  if (token_uses_take(h->uses, &uses, &n) || !n) return;
  fherr err = {0};
  int rc = identity_tokens_used(h->e, uses, n, &err);
  if (rc) {
    for (size_t i = 0; i < n; i++) token_uses_note(h->uses, uses[i].digest, uses[i].at);
    if (!h->uses_failing) fhlog(FHLOG_WARN, "host %s: tokens' last use not recorded (retrying): %s", h->name, err.message);
  } else if (h->uses_failing) {
    fhlog(FHLOG_INFO, "host %s: tokens' last use recorded again", h->name);
  }
  h->uses_failing = rc != 0;
  fherr_clear(&err);
  free(uses);
}

static void *beat_loop(void *arg) {
  hostbeat *h = arg;
  long recorded = -2;   /* the generation whose hashes are in the table */
  double last = 0;
  int failing = 0;
  fherr err = {0};
  do {
    flowgen *gen = flowreg_acquire(h->reg);
    long current = gen ? gen->number : -1;
    if (gen) flowgen_release(h->reg, gen);
    double now = fhtime_monotonic();
    int rc = FH_OK;
    if (current != recorded) rc = engine_hosts_record(h->e, h->name, &recorded, &err);
    else if (now - last >= ENGINE_HOSTS_BEAT) {
      rc = engine_hosts_beat(h->e, h->name, &err);
      write_uses(h);
    } else {
      continue;
    }
    if (rc) recorded = -2;   /* write it all again once the database is back */
    else last = now;
    note(h, rc, &err, &failing);
  } while (stopper_sleep(&h->stop, TICK_SECONDS));
  return NULL;
}

/* The name, or HOSTNAME:PORT (malloc'd). */
static char *name_or_default(const char *name, int port) {
  if (name) return strdup(name);
  char host[256], out[320];
  if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
  host[sizeof host - 1] = '\0';
  snprintf(out, sizeof out, "%s:%d", host, port);
  return strdup(out);
}

int hostbeat_start(flowreg *reg, const char *db_path, int synchronous_full, const char *name, int port,
                   token_uses *uses, hostbeat **out, fherr *err) {
  *out = NULL;
  hostbeat *h = calloc(1, sizeof *h);
  if (!h || !(h->name = name_or_default(name, port))) {
    free(h);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  h->reg = reg;
  h->uses = uses;
  engine_options eo = {.flows = reg, .db_path = db_path, .synchronous_full = synchronous_full,
                       .worker_name = "hostbeat"};
  int rc = engine_open(&eo, &h->e, err);
  if (rc) {
    free(h->name);
    free(h);
    return rc;
  }
  engine_hosts_check_name(h->e, h->name);
  stopper_init(&h->stop);
  if (pthread_create(&h->thread, NULL, beat_loop, h) != 0) {
    hostbeat_stop(h);
    return fherr_set(err, FH_INTERNAL, "cannot start the host heartbeat");
  }
  h->started = 1;
  *out = h;
  return FH_OK;
}

void hostbeat_stop(hostbeat *h) {
  if (!h) return;
  stopper_stop(&h->stop);
  if (h->started) pthread_join(h->thread, NULL);
  write_uses(h);
  engine_hosts_forget(h->e, h->name);
  engine_close(h->e);
  stopper_destroy(&h->stop);
  free(h->name);
  free(h);
}
