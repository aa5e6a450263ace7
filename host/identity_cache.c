/* identity_cache — a host's table of what tokens and sessions stand for
 * (see identity_cache.h for when it may serve and why that is right). */
#include "identity_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
  uint64_t gen;           /* 0: empty */
  identity_key_kind kind;
  char digest[AUTH_DIGEST_LEN];
  double kept_at;         /* fhtime_epoch() */
  fh_actor actor;         /* perms and groups owned */
  char csrf[IDENTITY_CACHE_CSRF];
  char expires_at[FH_TIME_LEN];   /* a session's; "" for a token */
} entry;

struct identity_cache {
  identity_cache *next;   /* in the process's list (registry) */
  char *db_key;
  pthread_mutex_t mu;
  uint64_t gen;           /* moves on at every change */
  int live;               /* the listener listens (stamped: the count was read) */
  int stamped;            /* no listener: identity_cache_stamp tells of changes */
  int64_t count;          /* stamped: the count of changes last told */
  entry slots[IDENTITY_CACHE_SLOTS];
};

/* The process's caches: registry_mu, then a cache's mu. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static identity_cache *registry;

identity_cache *identity_cache_new(const char *db_key) {
  identity_cache *c = calloc(1, sizeof *c);
  if (!c || !(c->db_key = strdup(db_key))) {
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  c->gen = 1;
  pthread_mutex_lock(&registry_mu);
  c->next = registry;
  registry = c;
  pthread_mutex_unlock(&registry_mu);
  return c;
}

identity_cache *identity_cache_new_stamped(const char *db_key) {
  identity_cache *c = identity_cache_new(db_key);
  if (c) c->stamped = 1;   /* set before any thread sees it */
  return c;
}

int identity_cache_stamped(const identity_cache *c) { return c && c->stamped; }

static void clear(entry *en) {
  fh_actor_free(&en->actor);
  en->gen = 0;
}

static void clear_all(identity_cache *c) {
  for (int i = 0; i < IDENTITY_CACHE_SLOTS; i++)
    if (c->slots[i].gen) clear(&c->slots[i]);
}

void identity_cache_free(identity_cache *c) {
  if (!c) return;
  pthread_mutex_lock(&registry_mu);
  for (identity_cache **p = &registry; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  pthread_mutex_unlock(&registry_mu);
  clear_all(c);
  free(c->db_key);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* Forgets everything: a generation of its own, so that no read begun
 * before can put its answer back.  live -1: the listener's state stays. */
static void change(identity_cache *c, int live) {
  pthread_mutex_lock(&c->mu);
  c->gen++;
  if (live >= 0) c->live = live;
  clear_all(c);
  pthread_mutex_unlock(&c->mu);
}

void identity_cache_forget(identity_cache *c) {
  if (c) change(c, -1);
}

void identity_cache_forget_db(const char *db_key) {
  if (!db_key) return;
  pthread_mutex_lock(&registry_mu);
  for (identity_cache *c = registry; c; c = c->next)
    if (!strcmp(c->db_key, db_key)) identity_cache_forget(c);
  pthread_mutex_unlock(&registry_mu);
}

void identity_cache_notified(void *cache, int live) { change(cache, live); }

/* Two threads' counts may arrive out of order (the older read finished
 * later): each then forgets everything once more, which costs a read,
 * never serves an older answer. */
void identity_cache_stamp(identity_cache *c, int ok, int64_t count) {
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  if (ok ? !c->live || count != c->count : c->live) {
    c->gen++;
    c->live = ok;
    c->count = count;
    clear_all(c);
  }
  pthread_mutex_unlock(&c->mu);
}

uint64_t identity_cache_begin(identity_cache *c) {
  if (!c) return 0;
  pthread_mutex_lock(&c->mu);
  uint64_t gen = c->live ? c->gen : 0;
  pthread_mutex_unlock(&c->mu);
  return gen;
}

/* FNV-1a of the digest (itself a hash: any mixing spreads it). */
static entry *slot_of(identity_cache *c, identity_key_kind kind, const char *digest) {
  uint32_t h = 2166136261u ^ (uint32_t)kind;
  for (const char *p = digest; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  return &c->slots[h % IDENTITY_CACHE_SLOTS];
}

static int copy_actor(fh_actor *dst, const fh_actor *src) {
  *dst = *src;
  dst->perms = src->perms ? json_deep_copy(src->perms) : NULL;
  dst->groups = src->groups ? json_deep_copy(src->groups) : NULL;
  if ((src->perms && !dst->perms) || (src->groups && !dst->groups)) {
    fh_actor_free(dst);
    return -1;
  }
  return 0;
}

int identity_cache_get(identity_cache *c, identity_key_kind kind, const char *digest, const char *now, fh_actor *a,
                       char *csrf, size_t csrf_size) {
  if (!c) return 0;
  double at = fhtime_epoch();
  int hit = 0;
  pthread_mutex_lock(&c->mu);
  entry *en = slot_of(c, kind, digest);
  if (c->live && en->gen == c->gen && en->kind == kind && !strcmp(en->digest, digest)) {
    int fresh = at >= en->kept_at && at - en->kept_at < IDENTITY_CACHE_SECONDS;
    int unexpired = !en->expires_at[0] || strcmp(en->expires_at, now) > 0;   /* ISO times sort as text */
    /* copied under the lock: jansson's json_decref reads the count it
     * decrements atomically without an atomic load, so two threads must
     * never hold references to the same value */
    if (fresh && unexpired && copy_actor(a, &en->actor) == 0) {
      if (csrf) snprintf(csrf, csrf_size, "%s", en->csrf);
      hit = 1;
    } else if (!fresh || !unexpired) {
      clear(en);
    }
  }
  pthread_mutex_unlock(&c->mu);
  return hit;
}

void identity_cache_put(identity_cache *c, uint64_t gen, identity_key_kind kind, const char *digest,
                        const fh_actor *a, const char *csrf, const char *expires_at) {
  if (!c || !gen || strlen(digest) >= AUTH_DIGEST_LEN || (csrf && strlen(csrf) >= IDENTITY_CACHE_CSRF)) return;
  fh_actor copy;
  if (copy_actor(&copy, a)) return;
  double at = fhtime_epoch();
  pthread_mutex_lock(&c->mu);
  if (c->live && gen == c->gen) {
    entry *en = slot_of(c, kind, digest);
    if (en->gen) clear(en);
    en->gen = gen;
    en->kind = kind;
    snprintf(en->digest, sizeof en->digest, "%s", digest);
    en->kept_at = at;
    en->actor = copy;
    snprintf(en->csrf, sizeof en->csrf, "%s", csrf ? csrf : "");
    snprintf(en->expires_at, sizeof en->expires_at, "%s", expires_at ? expires_at : "");
    copy.perms = copy.groups = NULL;
  }
  pthread_mutex_unlock(&c->mu);
  fh_actor_free(&copy);
}
