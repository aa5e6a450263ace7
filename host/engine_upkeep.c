/* engine_upkeep — the engine side of the index upkeep (engine_admin.h's
 * engine_index_upkeep): asks the store to rebuild the bloated partial
 * indexes of PostgreSQL (store_upkeep.h) and logs what it did. */
#include "engine_admin.h"

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
