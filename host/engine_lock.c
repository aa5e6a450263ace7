/* engine_lock — the process locks of one host: a small table of the
 * processes some action is working on right now, each with the number of
 * actions holding or waiting for it.
 *
 * An action holds its process's lock while it computes (callbacks
 * included) and writes; nothing else waits on it, so a slow callback
 * delays its own process only.  Locks never nest: an action works on one
 * process.  The table is keyed by (host, process id), where the host is
 * the engines' shared flow registry.  Other hosts on the same PostgreSQL
 * database are kept apart by the cross-host lock of store_lock.c, taken
 * after this one (engine_hold_process); other programs on a SQLite file by
 * the version check of the write.
 *
 * May call: pthreads, store (the cross-host lock).
 */
#include "engine_internal.h"

#include <pthread.h>

typedef struct plock {
  const void *host;
  int64_t id;
  int held;
  int users;              /* holding or waiting */
  pthread_cond_t free;
  struct plock *next;
} plock;

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static plock *table;      /* short: only the processes being acted on now */

static plock *find(const void *host, int64_t id) {
  for (plock *l = table; l; l = l->next)
    if (l->id == id && l->host == host) return l;
  return NULL;
}

/* A new entry of the table, free and unused; NULL without memory (table_mu held). */
static plock *add(const void *host, int64_t id) {
  plock *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->host = host;
  l->id = id;
  pthread_cond_init(&l->free, NULL);
  l->next = table;
  table = l;
  return l;
}

void engine_lock_process(const void *host, int64_t process_id) {
  pthread_mutex_lock(&table_mu);
  plock *l = find(host, process_id);
  if (!l && !(l = add(host, process_id))) {   /* no memory for a lock: the version check still keeps the data right */
    pthread_mutex_unlock(&table_mu);
    return;
  }
  l->users++;
  while (l->held) pthread_cond_wait(&l->free, &table_mu);
  l->held = 1;
  pthread_mutex_unlock(&table_mu);
}

void engine_unlock_process(const void *host, int64_t process_id) {
  pthread_mutex_lock(&table_mu);
  plock *l = find(host, process_id);
  if (l) {
    l->held = 0;
    if (--l->users == 0) {
      plock **pp = &table;
      while (*pp != l) pp = &(*pp)->next;
      *pp = l->next;
      pthread_cond_destroy(&l->free);
      free(l);
    } else {
      pthread_cond_signal(&l->free);
    }
  }
  pthread_mutex_unlock(&table_mu);
}

/* Takes the lock only if nobody holds or waits for it; 1 if taken. */
static int trylock_process(const void *host, int64_t process_id) {
  pthread_mutex_lock(&table_mu);
  plock *l = find(host, process_id) ? NULL : add(host, process_id);
  int taken = l != NULL;
  if (l) l->users = l->held = 1;
  pthread_mutex_unlock(&table_mu);
  return taken;
}

/* --- an action's locks: this host's, then the database's --------------- */

int engine_hold_process(engine *e, int64_t process_id, int *shared, fherr *err) {
  engine_lock_process(e->reg, process_id);
  int rc = store_process_lock(e->st, process_id, shared, err);
  if (rc) engine_unlock_process(e->reg, process_id);
  return rc;
}

/* The database's lock came first here, with the look-up of the task's
 * process (one round trip on PostgreSQL instead of two).  Waiting for this
 * host's lock while holding it could deadlock with an action that holds
 * this host's and waits for the database's, so this host's is only tried;
 * if it is busy, or the database's was, both are let go and taken again
 * in the usual order. */
int engine_hold_task_process(engine *e, int64_t task_id, int want_ids, int64_t *process_id, int *shared, fherr *err) {
  int held = 0;
  int rc = store_task_process_lock(e->st, task_id, want_ids, process_id, &held, err);
  if (rc) return rc;
  if (held && trylock_process(e->reg, *process_id)) {
    *shared = 1;
    return FH_OK;
  }
  store_process_unlock(e->st, *process_id, &held);
  return engine_hold_process(e, *process_id, shared, err);
}

void engine_hold_as_flow_says(engine *e, const struct run *r, int64_t process_id, int *shared) {
  /* lock = "none": the action computes without the cross-host lock; the
   * write's version check makes it start over if another host wrote */
  if (*shared && r->fd && !r->fd->lock_process) store_process_unlock(e->st, process_id, shared);
}

void engine_release_process(engine *e, int64_t process_id, int *shared) {
  store_process_unlock(e->st, process_id, shared);
  engine_unlock_process(e->reg, process_id);
}
