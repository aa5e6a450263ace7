/* engine_upkeep — the engine side of the index upkeep (engine_admin.h's
 * engine_index_upkeep): asks the store to rebuild the bloated partial
 * indexes of PostgreSQL (store_upkeep.h) and logs what it did. */
#include "engine_admin.h"

#include <jansson.h>

#include "engine_internal.h"
#include "fhlog.h"
#include "store_db.h"
#include "store_upkeep.h"

/* more than the partial indexes the schema has: the rest waits a round */
#define UPKEEP_MAX 16

int engine_index_upkeep(engine *e, int *rebuilt, fherr *err) {
  store_index_rebuild done[UPKEEP_MAX];
  int n = 0;
  int rc = store_index_upkeep(e->st, done, UPKEEP_MAX, &n, err);
  for (int i = 0; i < n; i++)
    fhlog(FHLOG_INFO, "index %s rebuilt: %lld pages for %lld entries, now %lld", done[i].index, done[i].pages_before,
          done[i].entries, done[i].pages_after);
  *rebuilt = n;
  return rc;
}

int engine_db_is_postgres(const char *db_path) { return db_kind_of(db_path) == DB_KIND_PG; }

int engine_index_upkeep_now(const char *db_path, json_t **out, fherr *err) {
  *out = NULL;
  store *st = NULL;
  store_options opt = {0};
  int rc = store_open(db_path, &opt, &st, err);
  store_index_rebuild done[UPKEEP_MAX];
  int n = 0;
  if (!rc) rc = store_index_upkeep(st, done, UPKEEP_MAX, &n, err);
  store_close(st);
  json_t *rebuilt = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(rebuilt, json_pack("{s:s, s:I, s:I, s:I}", "index", done[i].index, "pages_before",
                                             (json_int_t)done[i].pages_before, "pages_after",
                                             (json_int_t)done[i].pages_after, "entries", (json_int_t)done[i].entries));
  if (rc) {
    json_decref(rebuilt);
    return rc;
  }
  *out = json_pack("{s:o}", "rebuilt", rebuilt);
  return FH_OK;
}
