/* bench — what the benchmark programs share. */
#ifndef BENCH_H
#define BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"

/* Removes a SQLite database file and its WAL side files. */
static inline void bench_remove_db(const char *path) {
  static const char *const suffixes[] = {"", "-wal", "-shm"};
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

#endif
