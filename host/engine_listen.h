/* engine_listen — the engine's side of the wake-ups that cross hosts: the
 * job pool (jobs.c) asks here for a listener on its database, which calls
 * it back when a write of any host made a job or timer due (PostgreSQL's
 * LISTEN/NOTIFY, store_listen.h).  On SQLite there is none: in-process
 * wake-ups and the poll do it. */
#ifndef ENGINE_LISTEN_H
#define ENGINE_LISTEN_H

#include "fherr.h"

typedef struct store_listener engine_listener;

/* *out NULL (and FH_OK) when the database has no notifications. */
int engine_listen_start(const char *db_path, void (*wake)(void *arg), void *arg, engine_listener **out,
                        fherr *err);
void engine_listen_stop(engine_listener *l);   /* NULL-safe */

/* A host's identity cache of db_path (identity_cache.h) with the listener
 * that tells it of every change; for engine_options.identity_cache.
 * *cache and *listener NULL (and FH_OK) when the database has no
 * notifications (SQLite): sign-ins are then read every time. */
struct identity_cache;
int engine_identity_cache_start(const char *db_path, struct identity_cache **cache, engine_listener **listener,
                                fherr *err);
/* After the last engine that uses it is closed; NULL-safe. */
void engine_identity_cache_stop(struct identity_cache *cache, engine_listener *listener);

#endif
