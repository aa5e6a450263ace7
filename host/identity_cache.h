/* identity_cache — what a bearer token or a session cookie stands for (the
 * user with its permissions and groups; a session's CSRF token and expiry),
 * kept in memory by a host, so that a request signs in without a round
 * trip to the database (PostgreSQL) or reading the user with its
 * permissions and groups (SQLite: ~50,000 instructions a request).
 *
 * It is right across hosts because it hears of every change: triggers of
 * the user, group, permission, token and session tables notify
 * flowhost_identity on commit (migration 6 of store_schema_pg.c), whoever
 * writes, and the host's listener (store_listen_identity) calls
 * identity_cache_notified; this host's own identity writes call
 * identity_cache_forget after their commit, so that they hold at once.  A
 * change forgets every entry: changes are rare, sign-ins are not.
 *
 * On SQLite there is nothing to listen to.  Triggers of the same tables
 * count the changes in one row instead (migration 23 of store_schema.c),
 * and a stamped cache is told that count (identity_cache_stamp) before
 * each look-up: one row read in place of the user's three.  A count other
 * than the last one told forgets every entry.  Every entry of a generation
 * was read after the count it was told was current, so it is never older
 * than what the database held when the request read the count.
 *
 * While the listener is away (before it first listens, after its
 * connection was lost) nothing is kept or served, since a change would go
 * unnoticed.  A read that began before a change must not put its answer
 * back after it: identity_cache_begin gives the generation a read begins
 * in, a change moves it on, and a put of an older one is dropped.  An
 * entry also ages out after IDENTITY_CACHE_SECONDS, and a session's at its
 * expiry.  One table for the host's threads, behind a mutex, direct-mapped
 * (a slot per digest hash, the newer entry wins): bounded memory.
 */
#ifndef IDENTITY_CACHE_H
#define IDENTITY_CACHE_H

#include <stdint.h>

#include "auth.h"
#include "engine.h"
#include "fhtime.h"

#define IDENTITY_CACHE_SLOTS 1024
#define IDENTITY_CACHE_CSRF 129   /* a session's CSRF token, NUL included (IDENTITY_CSRF_LEN) */
/* The longest an entry serves, even if a notification were lost. */
#define IDENTITY_CACHE_SECONDS 10

typedef struct identity_cache identity_cache;

/* The kinds of key: a token's digest, a session's. */
typedef enum { IDENTITY_BY_TOKEN, IDENTITY_BY_SESSION } identity_key_kind;

/* A cache of the database db_key (its connection string); the process's
 * caches of one database are found by identity_cache_forget_db. */
identity_cache *identity_cache_new(const char *db_key);
/* ... that learns of changes from a count read before each look-up, not
 * from a listener (SQLite) */
identity_cache *identity_cache_new_stamped(const char *db_key);
int identity_cache_stamped(const identity_cache *c);   /* NULL-safe: 0 */
/* A stamped cache's count of changes as the database holds it now (ok 0:
 * it could not be read, and nothing is served or kept until it can). */
void identity_cache_stamp(identity_cache *c, int ok, int64_t count);
void identity_cache_free(identity_cache *c);   /* NULL-safe */

/* Every entry is forgotten (this host changed an identity table). */
void identity_cache_forget(identity_cache *c);
/* ... in every cache of the database db_key in this process (NULL: none):
 * an identity write through any engine holds at once for all of them. */
void identity_cache_forget_db(const char *db_key);
/* The listener's call (store_changed_fn): live 1 after a change was
 * notified or once it listens, 0 when it lost its connection. */
void identity_cache_notified(void *cache, int live);

/* The generation a read from the database begins in, for the put of its
 * answer; 0 while nothing can be kept. */
uint64_t identity_cache_begin(identity_cache *c);

/* 1 and *a filled (its perms and groups copied: fh_actor_free), and for a
 * session its csrf, when a live entry is there; 0 otherwise.  now: the
 * time a session must not have expired at. */
int identity_cache_get(identity_cache *c, identity_key_kind kind, const char *digest, const char *now, fh_actor *a,
                       char *csrf, size_t csrf_size);
/* Keeps a (copied) for the digest, unless gen is 0 or no longer current.
 * csrf and expires_at: a session's (NULL for a token). */
void identity_cache_put(identity_cache *c, uint64_t gen, identity_key_kind kind, const char *digest,
                        const fh_actor *a, const char *csrf, const char *expires_at);

#endif
