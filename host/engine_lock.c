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

void engine_lock_process(const void *host, int64_t process_id) {
  pthread_mutex_lock(&table_mu);
  plock *l = find(host, process_id);
  if (!l) {
    l = calloc(1, sizeof *l);
    if (!l) {   /* no memory for a lock: the version check still keeps the data right */
      pthread_mutex_unlock(&table_mu);
      return;
    }
    l->host = host;
    l->id = process_id;
    pthread_cond_init(&l->free, NULL);
    l->next = table;
    table = l;
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

/* --- an action's locks: this host's, then the database's --------------- */

int engine_hold_process(engine *e, int64_t process_id, int *shared, fherr *err) {
  engine_lock_process(e->reg, process_id);
  int rc = store_process_lock(e->st, process_id, shared, err);
  if (rc) engine_unlock_process(e->reg, process_id);
  return rc;
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
