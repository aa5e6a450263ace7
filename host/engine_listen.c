/* engine_listen — hands the job pool's listener over to the store unit
 * that speaks LISTEN (store_listen.c); nothing of its own. */
#include "engine_listen.h"

#include "store_listen.h"

int engine_listen_start(const char *db_path, void (*wake)(void *arg), void *arg, engine_listener **out,
                        fherr *err) {
  return store_listen_start(db_path, wake, arg, out, err);
}

void engine_listen_stop(engine_listener *l) { store_listen_stop(l); }
