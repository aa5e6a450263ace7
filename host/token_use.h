/* token_use — when each API token was last used (api_token.last_used_at,
 * shown by `flowhost token list` and GET /api/users/{name}/tokens).
 *
 * A request that signs in with a token notes the time here, in memory;
 * serve's bookkeeping thread (hostbeat.c) takes what was noted and writes
 * it every ENGINE_HOSTS_BEAT seconds and once more at a clean stop.  So a
 * sign-in never writes: a write per request would cost a commit (an fsync
 * at synchronous=FULL, a wait where another program holds SQLite's write
 * lock) and, on PostgreSQL, had it changed what a token stands for, a
 * NOTIFY to every host.  The record is the latest use to within a beat.
 *
 * Each token is pending once, with its latest time.  The table holds the
 * tokens that signed in since the last take (only tokens that exist are
 * noted, so it is bounded by the tokens of the database); a table that
 * cannot grow drops a note (a use shown a beat or more late), never a
 * request.  Thread-safe (one mutex).
 */
#ifndef TOKEN_USE_H
#define TOKEN_USE_H

#include <stddef.h>

#include "auth.h"
#include "fhtime.h"

typedef struct token_uses token_uses;

/* One pending use: the token's digest and when it was last used. */
typedef struct token_use {
  char digest[AUTH_DIGEST_LEN];
  char at[FH_TIME_LEN];
} token_use;

token_uses *token_uses_new(void);   /* NULL: out of memory */
void token_uses_free(token_uses *t);   /* NULL-safe */

/* The token of digest was used at `at` (an ISO time, fhtime_now); a later
 * time replaces an earlier one.  NULL-safe. */
void token_uses_note(token_uses *t, const char *digest, const char *at);

/* Hands over the pending uses and empties the table: *out (free() it,
 * NULL when *n is 0).  -1 when out of memory (they stay pending). */
int token_uses_take(token_uses *t, token_use **out, size_t *n);

#endif
