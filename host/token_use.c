/* token_use — the tokens used since the last write of their times (see
 * token_use.h): an open-addressing table keyed by digest, behind a mutex. */
#include "token_use.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_SLOTS 64   /* a power of two */

struct token_uses {
  pthread_mutex_t mu;
  token_use *slots;   /* digest[0] == '\0': empty */
  size_t cap, used;
};

token_uses *token_uses_new(void) {
  token_uses *t = calloc(1, sizeof *t);
  if (!t || !(t->slots = calloc(FIRST_SLOTS, sizeof *t->slots))) {
    free(t);
    return NULL;
  }
  t->cap = FIRST_SLOTS;
  pthread_mutex_init(&t->mu, NULL);
  return t;
}

void token_uses_free(token_uses *t) {
  if (!t) return;
  pthread_mutex_destroy(&t->mu);
  free(t->slots);
  free(t);
}

/* FNV-1a of the digest (itself a hash: any mixing spreads it). */
static size_t hash_of(const char *digest) {
  uint32_t h = 2166136261u;
  for (const char *p = digest; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  return h;
}

/* The slot of digest in slots (cap a power of two): its own or the empty
 * one where it goes. */
static token_use *slot_of(token_use *slots, size_t cap, const char *digest) {
  for (size_t i = hash_of(digest) & (cap - 1);; i = (i + 1) & (cap - 1))
    if (!slots[i].digest[0] || !strcmp(slots[i].digest, digest)) return &slots[i];
}

/* Doubles the table; -1 when out of memory (it stays as it was). */
static int grow(token_uses *t) {
  size_t cap = t->cap * 2;
  token_use *slots = calloc(cap, sizeof *slots);
  if (!slots) return -1;
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].digest[0]) *slot_of(slots, cap, t->slots[i].digest) = t->slots[i];
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
  return 0;
}

void token_uses_note(token_uses *t, const char *digest, const char *at) {
  if (!t || !digest[0] || strlen(digest) >= AUTH_DIGEST_LEN) return;
  pthread_mutex_lock(&t->mu);
  /* at most three quarters full, so that a probe ends soon */
  if ((t->used + 1) * 4 <= t->cap * 3 || grow(t) == 0) {
    token_use *u = slot_of(t->slots, t->cap, digest);
    if (!u->digest[0]) {
      snprintf(u->digest, sizeof u->digest, "%s", digest);
      t->used++;
      u->at[0] = '\0';
    }
    if (strcmp(at, u->at) > 0) snprintf(u->at, sizeof u->at, "%s", at);   /* ISO times sort as text */
  }
  pthread_mutex_unlock(&t->mu);
}

int token_uses_take(token_uses *t, token_use **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!t) return 0;
  pthread_mutex_lock(&t->mu);
  int rc = 0;
  if (t->used) {
    token_use *taken = malloc(t->used * sizeof *taken);
    if (taken) {
      for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].digest[0]) taken[(*n)++] = t->slots[i];
      memset(t->slots, 0, t->cap * sizeof *t->slots);
      t->used = 0;
      *out = taken;
    } else {
      rc = -1;
    }
  }
  pthread_mutex_unlock(&t->mu);
  return rc;
}
