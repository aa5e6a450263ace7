/* pqlib — libpq loaded on first use (see pqlib.h). */
#include "pqlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

pqlib pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[256];   /* empty: loaded */

static void load(void) {
  void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(failure, sizeof failure, "PostgreSQL needs libpq (Debian: apt-get install libpq5): %s", dlerror());
    return;
  }
#define PQLIB_RESOLVE(f)                                                                  \
  if (!failure[0] && !(*(void **)&pq.f = dlsym(lib, #f)))                                 \
    snprintf(failure, sizeof failure, "this libpq has no %s (PostgreSQL 14 or newer needed)", #f);
  PQLIB_FUNCS(PQLIB_RESOLVE)
#undef PQLIB_RESOLVE
}

int pqlib_load(char *msg, size_t cap) {
  pthread_once(&once, load);
  if (!failure[0]) return 0;
  snprintf(msg, cap, "%s", failure);
  return -1;
}
