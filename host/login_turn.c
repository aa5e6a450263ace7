/* login_turn — the sign-ins from one client address take turns within a
 * host (why: login_turn.h).  A list of the addresses with a try under way,
 * each with how many tries hold or wait for it; a condition variable on
 * the monotonic clock wakes the waiters when a turn is given back.
 */
#include "login_turn.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct login_turn {
  struct login_turn *next;
  char *addr;
  int busy;    /* a try holds the turn */
  int users;   /* tries holding or waiting for it: the entry goes with the last */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static pthread_once_t cv_once = PTHREAD_ONCE_INIT;
static login_turn *addresses;

static void cv_init(void) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&cv, &a);
  pthread_condattr_destroy(&a);
}

/* The entry of addr, made if there is none; NULL: out of memory.  Under mu. */
static login_turn *entry(const char *addr) {
  for (login_turn *t = addresses; t; t = t->next)
    if (!strcmp(t->addr, addr)) return t;
  login_turn *t = calloc(1, sizeof *t);
  if (t && (t->addr = strdup(addr))) {
    t->next = addresses;
    addresses = t;
    return t;
  }
  free(t);
  return NULL;
}

/* One user less; the last one removes the entry.  Under mu. */
static void leave(login_turn *t) {
  if (--t->users > 0) return;
  for (login_turn **p = &addresses; *p; p = &(*p)->next)
    if (*p == t) {
      *p = t->next;
      break;
    }
  free(t->addr);
  free(t);
}

login_turn *login_turn_take(const char *addr) {
  pthread_once(&cv_once, cv_init);
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += (time_t)LOGIN_TURN_WAIT;
  pthread_mutex_lock(&mu);
  login_turn *t = entry(addr);
  if (t) {
    t->users++;
    int rc = 0;
    while (t->busy && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&cv, &mu, &until);
    if (t->busy) {   /* waited long enough: on without a turn */
      leave(t);
      t = NULL;
    } else {
      t->busy = 1;
    }
  }
  pthread_mutex_unlock(&mu);
  return t;
}

void login_turn_give(login_turn *t) {
  if (!t) return;
  pthread_mutex_lock(&mu);
  t->busy = 0;
  leave(t);
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

int login_turn_addresses(void) {
  pthread_mutex_lock(&mu);
  int n = 0;
  for (const login_turn *t = addresses; t; t = t->next) n++;
  pthread_mutex_unlock(&mu);
  return n;
}
