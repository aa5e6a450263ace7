/* test_fixture_engine — an engine on tests/fixtures/flows with its database
 * in a test's temporary directory, and its removal; for the C tests that
 * compare what the engine writes (test_jsonw.c, test_views.c). */
#ifndef TEST_FIXTURE_ENGINE_H
#define TEST_FIXTURE_ENGINE_H

#include "engine_internal.h"
#include "test.h"

/* ... keeping the sign-ins of requests in idc (NULL: none) */
static inline engine *open_fixture_engine_with(const char *dir, flowreg **reg, struct identity_cache *idc) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512], db[128];
  snprintf(flows, sizeof flows, "%s/tests/fixtures/flows", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  snprintf(db, sizeof db, "%s/db", dir);
  fherr err = {0};
  *reg = flowreg_new(flows, lua, &err);
  if (*reg) flowreg_load_all(*reg, &err);
  fherr_clear(&err);
  engine *e = NULL;
  engine_options eo = {.flows = *reg, .db_path = db, .synchronous_full = 0, .identity_cache = idc};
  if (*reg && engine_open(&eo, &e, &err)) fprintf(stderr, "  engine: %s\n", err.message);
  if (e && engine_sync_flows(e, &err)) fprintf(stderr, "  sync: %s\n", err.message);
  fherr_clear(&err);
  return e;
}

static inline engine *open_fixture_engine(const char *dir, flowreg **reg) {
  return open_fixture_engine_with(dir, reg, NULL);
}

/* Closes what open_fixture_engine opened (either may be NULL) and removes dir. */
static inline void close_fixture_engine(engine *e, flowreg *reg, const char *dir) {
  if (e) engine_close(e);
  if (reg) flowreg_free(reg);
  char db[128];
  snprintf(db, sizeof db, "%s/db", dir);
  test_remove_db(db);
  rmdir(dir);
}

#endif
