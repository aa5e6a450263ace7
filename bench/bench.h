/* bench — what the benchmark programs share. */
#ifndef BENCH_H
#define BENCH_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "fhtime.h"

/* A text built piece by piece into a buffer of fixed size: a piece that
 * does not fit marks it full and nothing more is added (the caller gives
 * up on a full text). */
typedef struct bench_text {
  char *s;
  size_t len, cap;
  int full;
} bench_text;

static inline void bench_text_add(bench_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void bench_text_add(bench_text *t, const char *fmt, ...) {
  if (t->full) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= t->cap - t->len) {
    t->full = 1;
    t->s[t->len] = '\0';
    return;
  }
  t->len += (size_t)k;
}

/* Removes a SQLite database file and its WAL side files (a PostgreSQL URL:
 * nothing). */
static inline void bench_remove_db(const char *path) {
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  if (strstr(path, "://")) return;
  for (int i = 0; i < 3; i++) {
    char file[512];
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    unlink(file);
  }
}

/* Loads the flows of bench/ under FLOWHOST_SOURCE (default ".") and opens
 * an engine on a fresh database file db; prints the error and returns 1 on
 * failure. */
static inline int bench_open(const char *db, int synchronous_full, flowreg **reg, engine **e) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/bench/flows", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  bench_remove_db(db);
  fherr err = {0};
  *reg = flowreg_new(flows, lua, &err);
  if (!*reg || flowreg_load_all(*reg, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  engine_options eo = {.flows = *reg, .db_path = db, .synchronous_full = synchronous_full};
  if (engine_open(&eo, e, &err)) return fprintf(stderr, "%s\n", err.message), 1;
  return 0;
}

/* One thread's share of a slice: n actions of `one` on its target (an open
 * engine or store, kept across slices as a server keeps them). */
typedef struct bench_worker {
  int (*one)(void *target, json_t *data);   /* 0: it succeeded */
  void *target;
  int n, done;
  pthread_barrier_t *go;
  double ended;
} bench_worker;

static inline void *bench_run_worker(void *p) {
  bench_worker *w = p;
  pthread_barrier_wait(w->go);
  json_t *data = json_pack("{s:i}", "n", 3);
  for (int i = 0; i < w->n; i++)
    if (w->one(w->target, data) == 0) w->done++;
  w->ended = fhtime_monotonic();
  json_decref(data);
  return NULL;
}

/* n actions over `threads` targets at once (at most 16), from a common
 * start to the last one's end: the seconds are added to *seconds; returns
 * how many succeeded. */
static inline int bench_run_slice(int (*one)(void *, json_t *), void *const *targets, int n, int threads,
                                  double *seconds) {
  pthread_t t[16];
  bench_worker args[16];
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; i++) {
    args[i] = (bench_worker){.one = one, .target = targets[i], .n = n / threads, .go = &go};
    pthread_create(&t[i], NULL, bench_run_worker, &args[i]);
  }
  pthread_barrier_wait(&go);
  double t0 = fhtime_monotonic(), end = t0;
  int done = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    done += args[i].done;
    if (args[i].ended > end) end = args[i].ended;
  }
  pthread_barrier_destroy(&go);
  *seconds += end - t0;
  return done;
}

#endif
