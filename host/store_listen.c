/* store_listen — the LISTEN connection of a host (see store_listen.h): a
 * thread that connects without blocking (so a stop is never held up by a
 * server that does not answer), LISTENs on flowhost_due (or on
 * flowhost_identity), sleeps in poll() on the connection's socket and an
 * eventfd, and calls back on each batch of notifications; calls libpq and
 * fhlog. */
#include "store_listen.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fhlog.h"
#include "pqlib.h"
#include "store_db.h"

/* A connection attempt gives up after this long (as the store's own). */
#define CONNECT_SECONDS 10
/* The pause before the next attempt grows from the first to the last. */
#define RETRY_FIRST_MS 250
#define RETRY_LAST_MS 5000
/* The in-line start of a due Subprocess task gets this long (seconds). */
#define SUBPROCESS_GRACE 0.5

struct store_listener {
  char *url;
  const char *channel;   /* STORE_DUE_CHANNEL or STORE_IDENTITY_CHANNEL */
  const char *what;      /* in the log: "job wake-ups" or "identity changes" */
  store_wake_fn wake;    /* the due channel's */
  store_changed_fn changed;   /* the identity channel's */
  void *arg;
  pthread_t thread;
  int efd;               /* store_listen_stop writes it */
  PGconn *pg;            /* owned by the thread; NULL while away */
};

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Waits for events on fd (-1: none) for at most timeout_ms (-1: no limit).
 * 1: fd is ready; 0: the time is up; -1: stop. */
static int wait_fd(store_listener *l, int fd, short events, int timeout_ms) {
  struct pollfd p[2] = {{.fd = l->efd, .events = POLLIN}, {.fd = fd, .events = events}};
  int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -1;
  if (p[0].revents) return -1;
  return n > 0 && fd >= 0 && p[1].revents ? 1 : 0;
}

/* A connection made with PQconnectPoll; NULL when it failed (*why says
 * why, a static text or the server's message copied) or on stop (*stop). */
static PGconn *connect_async(store_listener *l, char *why, size_t cap, int *stop) {
  /* the URL comes last, so what it says (connect_timeout...) wins */
  const char *const keys[] = {"keepalives_idle", "keepalives_interval", "keepalives_count", "dbname", NULL};
  const char *const vals[] = {"30", "10", "3", l->url, NULL};
  if (pqlib_load(why, cap)) return NULL;
  PGconn *c = pq.PQconnectStartParams(keys, vals, 1);
  if (!c || pq.PQstatus(c) == CONNECTION_BAD) {
    snprintf(why, cap, "%s", c ? pq.PQerrorMessage(c) : "out of memory");
    pq.PQfinish(c);
    return NULL;
  }
  double deadline = now_seconds() + CONNECT_SECONDS;
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
    int left_ms = (int)((deadline - now_seconds()) * 1000);
    int r = left_ms > 0 ? wait_fd(l, pq.PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, left_ms) : 0;
    if (r <= 0) {
      *stop = r < 0;
      snprintf(why, cap, "no answer within %d s", CONNECT_SECONDS);
      pq.PQfinish(c);
      return NULL;
    }
    st = pq.PQconnectPoll(c);
  }
  if (st == PGRES_POLLING_FAILED) {
    snprintf(why, cap, "%s", pq.PQerrorMessage(c));
    pq.PQfinish(c);
    return NULL;
  }
  return c;
}

static void quiet_notices(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* A connection that LISTENs; NULL as connect_async. */
static PGconn *open_listening(store_listener *l, char *why, size_t cap, int *stop) {
  PGconn *c = connect_async(l, why, cap, stop);
  if (!c) return NULL;
  char listen[64];
  snprintf(listen, sizeof listen, "LISTEN %s", l->channel);
  PGresult *res = pq.PQexec(c, listen);
  int ok = pq.PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok) snprintf(why, cap, "%s", pq.PQerrorMessage(c));
  pq.PQclear(res);
  /* the server's FATAL on a dropped connection is reported by drain() */
  pq.PQsetNoticeProcessor(c, quiet_notices, NULL);
  if (ok && pq.PQsetnonblocking(c, 1) == 0) return c;
  pq.PQfinish(c);
  return NULL;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
}

/* Reads what arrived; 0 when the connection is lost.  *jobs and *subs:
 * the job and Subprocess notifications among it (on the identity channel
 * every notification counts as a job's). */
static int drain(store_listener *l, int *jobs, int *subs) {
  *jobs = *subs = 0;
  if (!pq.PQconsumeInput(l->pg) || pq.PQstatus(l->pg) != CONNECTION_OK) return 0;
  PGnotify *n;
  while ((n = pq.PQnotifies(l->pg))) {
    if (l->changed || !strcmp(n->extra, STORE_DUE_JOB)) (*jobs)++;
    else if (!strcmp(n->extra, STORE_DUE_SUBPROCESS)) (*subs)++;
    pq.PQfreemem(n);
  }
  return 1;
}

/* The poll timeout until a deferred wake-up (-1: none pending). */
static int ms_until(double at) {
  if (at < 0) return -1;
  double left = at - now_seconds();
  return left > 0 ? (int)(left * 1000) + 1 : 0;
}

static void lost(store_listener *l, int *away, int *pause_ms) {
  char why[256];
  snprintf(why, sizeof why, "%s", pq.PQerrorMessage(l->pg));
  trim(why);
  fhlog(FHLOG_WARN, "%s: connection lost (%s); %s, reconnecting", l->what, why,
        l->changed ? "signing in from the database meanwhile" : "polling meanwhile");
  pq.PQfinish(l->pg);
  l->pg = NULL;
  if (l->changed) l->changed(l->arg, 0);
  *away = 1;
  *pause_ms = RETRY_FIRST_MS;
}

/* Connects (again): 1 when listening, 0 when not yet, -1 on stop.  After
 * an outage the workers are woken, as what was notified meanwhile is lost. */
static int reconnect(store_listener *l, int *pause_ms, int *away) {
  if (*pause_ms && wait_fd(l, -1, 0, *pause_ms) < 0) return -1;
  char why[256];
  int stop = 0;
  l->pg = open_listening(l, why, sizeof why, &stop);
  if (stop) return -1;
  if (!l->pg) {
    trim(why);
    if (!*away)
      fhlog(FHLOG_WARN, "%s: cannot listen (%s); %s, trying again", l->what, why,
            l->changed ? "signing in from the database meanwhile" : "polling meanwhile");
    *away = 1;
    *pause_ms = *pause_ms ? (*pause_ms * 2 > RETRY_LAST_MS ? RETRY_LAST_MS : *pause_ms * 2) : RETRY_FIRST_MS;
    return 0;
  }
  if (*away) fhlog(FHLOG_INFO, "%s: listening again", l->what);
  if (l->changed) l->changed(l->arg, 1);   /* from now on every change is heard */
  else if (*away) l->wake(l->arg);
  *away = 0;
  *pause_ms = 0;
  return 1;
}

static void *listen_loop(void *arg) {
  store_listener *l = arg;
  int pause_ms = 0, away = 0;
  double deferred = -1;   /* when to wake for Subprocess tasks (-1: not) */
  for (;;) {
    if (!l->pg) {
      int r = reconnect(l, &pause_ms, &away);
      if (r < 0) break;
      if (r == 0) continue;
      deferred = -1;   /* reconnect() woke the workers */
    }
    int r = wait_fd(l, pq.PQsocket(l->pg), POLLIN, ms_until(deferred));
    if (r < 0) break;
    if (deferred >= 0 && now_seconds() >= deferred) {
      deferred = -1;
      l->wake(l->arg);
    }
    if (r == 0) continue;
    int jobs = 0, subs = 0;
    if (!drain(l, &jobs, &subs)) {
      lost(l, &away, &pause_ms);
      continue;
    }
    if (subs && deferred < 0) deferred = now_seconds() + SUBPROCESS_GRACE;
    if (jobs && l->changed) l->changed(l->arg, 1);
    else if (jobs) l->wake(l->arg);
  }
  if (l->pg) pq.PQfinish(l->pg);
  l->pg = NULL;
  return NULL;
}

static int start(const char *url, store_listener *proto, store_listener **out, fherr *err) {
  *out = NULL;
  if (db_kind_of(url) != DB_KIND_PG) return FH_OK;
  store_listener *l = calloc(1, sizeof *l);
  if (!l || !(l->url = strdup(url))) {
    free(l);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  l->channel = proto->channel;
  l->what = proto->what;
  l->wake = proto->wake;
  l->changed = proto->changed;
  l->arg = proto->arg;
  l->efd = eventfd(0, EFD_CLOEXEC);
  if (l->efd < 0 || pthread_create(&l->thread, NULL, listen_loop, l) != 0) {
    if (l->efd >= 0) close(l->efd);
    free(l->url);
    free(l);
    return fherr_set(err, FH_INTERNAL, "cannot start the listener of %s", proto->what);
  }
  *out = l;
  return FH_OK;
}

int store_listen_start(const char *url, store_wake_fn wake, void *arg, store_listener **out, fherr *err) {
  store_listener proto = {.channel = STORE_DUE_CHANNEL, .what = "job wake-ups", .wake = wake, .arg = arg};
  return start(url, &proto, out, err);
}

int store_listen_identity(const char *url, store_changed_fn changed, void *arg, store_listener **out, fherr *err) {
  store_listener proto = {.channel = STORE_IDENTITY_CHANNEL, .what = "identity changes", .changed = changed, .arg = arg};
  return start(url, &proto, out, err);
}

void store_listen_stop(store_listener *l) {
  if (!l) return;
  uint64_t one = 1;
  if (write(l->efd, &one, sizeof one) < 0) fhlog(FHLOG_WARN, "%s: cannot stop the listener", l->what);
  pthread_join(l->thread, NULL);
  close(l->efd);
  free(l->url);
  free(l);
}
