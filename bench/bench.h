/* bench — what the benchmark programs share. */
#ifndef BENCH_H
#define BENCH_H

#include <stdio.h>
#include <unistd.h>

/* Removes a SQLite database file and its WAL side files. */
static inline void bench_remove_db(const char *path) {
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char file[512];
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    unlink(file);
  }
}

#endif
