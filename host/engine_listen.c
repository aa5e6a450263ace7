/* engine_listen — hands the job pool's listener, and the identity cache's,
 * over to the store unit that speaks LISTEN (store_listen.c). */
#include "engine_listen.h"

#include "identity_cache.h"
#include "store_db.h"
#include "store_listen.h"

int engine_listen_start(const char *db_path, void (*wake)(void *arg), void *arg, engine_listener **out,
                        fherr *err) {
  return store_listen_start(db_path, wake, arg, out, err);
}

void engine_listen_stop(engine_listener *l) { store_listen_stop(l); }

int engine_identity_cache_start(const char *db_path, identity_cache **cache, engine_listener **listener, fherr *err) {
  *listener = NULL;
  int sqlite = db_kind_of(db_path) == DB_KIND_SQLITE;   /* told by its count of changes, not a listener */
  if (!(*cache = sqlite ? identity_cache_new_stamped(db_path) : identity_cache_new(db_path)))
    return fherr_set(err, FH_INTERNAL, "out of memory");
  if (sqlite) return FH_OK;
  int rc = store_listen_identity(db_path, identity_cache_notified, *cache, listener, err);
  if (rc || !*listener) {   /* nothing tells it of changes: no cache */
    identity_cache_free(*cache);
    *cache = NULL;
  }
  return rc;
}

void engine_identity_cache_stop(identity_cache *cache, engine_listener *listener) {
  store_listen_stop(listener);   /* its thread calls the cache */
  identity_cache_free(cache);
}
