/* identity — who the users are: accounts, groups, permissions, passwords,
 * API tokens and sessions, and the actors built from them.
 *
 * Every function takes the calling thread's engine and returns FH_OK or an
 * fherr code (FH_NOT_FOUND for an unknown user, token or session,
 * FH_CONFLICT for a user that already exists, FH_BAD_REQUEST for a user
 * name it refuses).  Passwords are hashed here
 * (argon2id, see auth.h); raw tokens and session ids are handed to the
 * caller once and stored only as digests.  Each write is one short
 * transaction of its own, committed (durable) before the call returns.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include <jansson.h>
#include <stdint.h>

#include "auth.h"
#include "engine.h"
#include "fherr.h"
#include "token_use.h"

#define IDENTITY_PASSWORD_LEN 17   /* a generated password: 16 characters + NUL */
#define IDENTITY_CSRF_LEN 129      /* a session's CSRF token, NUL included */
/* The longest user name in bytes: what a user row, an actor and a sign-in
 * hold.  Adding a longer one (or an empty one, one starting with '@', which
 * names a group, or one with control characters) is FH_BAD_REQUEST. */
#define IDENTITY_NAME_MAX 63
#define IDENTITY_PASSWORD_MAX 4096 /* bytes of a password that a sign-in checks */

/* --- actors ------------------------------------------------------------ */

/* The actor of a user (with its effective permissions and groups), by name
 * or by id; free it with fh_actor_free(). */
int identity_actor(engine *e, const char *username, fh_actor *out, fherr *err);
int identity_actor_by_id(engine *e, int64_t id, fh_actor *out, fherr *err);

/* --- users ------------------------------------------------------------- */

/* password NULL: the user cannot sign in (tests, token-only accounts). */
int identity_user_add(engine *e, const char *username, const char *password, int is_admin, fherr *err);
/* Adds the user with a new random password, copied into `password`. */
int identity_user_add_random(engine *e, const char *username, int is_admin,
                             char password[IDENTITY_PASSWORD_LEN], fherr *err);
/* What a password change or a disable ended (either pointer may be NULL). */
typedef struct identity_ended {
  int64_t sessions, tokens;
} identity_ended;

/* Sets the password and ends every session and API token of the user, in
 * one write. */
int identity_set_password(engine *e, const char *username, const char *password, identity_ended *ended, fherr *err);
/* Disables (active 0: no sign-in, no session, no token works; every
 * session and token is ended) or enables a user. */
int identity_set_active(engine *e, const char *username, int active, identity_ended *ended, fherr *err);
/* On a database without users, adds `admin` (an admin) with a random
 * password copied into `password`; *created says whether it did. */
int identity_ensure_admin(engine *e, char password[IDENTITY_PASSWORD_LEN], int *created, fherr *err);
int identity_user_count(engine *e, int64_t *n, fherr *err);
/* [{"username","is_admin","groups":[...],"permissions":[...]}] */
int identity_users_list(engine *e, json_t **out, fherr *err);
/* Names of the users holding perm (directly, by a group, or as admins). */
int identity_users_with_perm(engine *e, const char *perm, json_t **out, fherr *err);

/* --- signing in ------------------------------------------------------------ */

/* Sign-ins are throttled per user name and per client address, with the
 * counts in the database (every host on it sees them).  Failures older
 * than IDENTITY_LOGIN_WINDOW seconds are forgotten.  A (name, address)
 * pair may fail IDENTITY_LOGIN_PAIR_FREE times, then waits 15 s before its
 * next try, doubling with each further failure up to 15 min; an address
 * may fail IDENTITY_LOGIN_ADDR_FREE times over all names before the same
 * waits apply to everything it tries.  A name that failed
 * IDENTITY_LOGIN_ATTACKED times from all addresses together is under
 * attack: then an address waits after its first failure for that name.
 * An address that has not failed for the name never waits for the name's
 * sake, so an attacker cannot lock its owner out; a successful sign-in
 * forgets the failures of that name from that address.  A throttled try
 * is answered at once: it checks no password and counts nothing.  The
 * tries from one address take turns within a host (login_turn.h). */
#define IDENTITY_LOGIN_WINDOW 900
#define IDENTITY_LOGIN_PAIR_FREE 5
#define IDENTITY_LOGIN_ADDR_FREE 20
#define IDENTITY_LOGIN_ATTACKED 10

typedef enum { IDENTITY_LOGIN_OK, IDENTITY_LOGIN_WRONG, IDENTITY_LOGIN_THROTTLED } identity_login_status;

typedef struct identity_login_req {
  const char *username, *password;
  const char *addr;          /* the client's address: the throttle's key */
  const char *dummy_hash;    /* verified for unknown users, so timing says nothing */
  int seconds;               /* the session's life */
} identity_login_req;

typedef struct identity_login_res {
  identity_login_status status;
  int retry_after;                   /* THROTTLED: seconds to wait */
  int64_t user_id;                   /* OK: the user, and the new session: */
  char token[AUTH_TOKEN_LEN];        /* raw id for the cookie */
  char digest[AUTH_DIGEST_LEN];
  char csrf[IDENTITY_CSRF_LEN];
} identity_login_res;

/* Checks a sign-in and, when the user is active and the password matches,
 * opens a session (OK); WRONG for anything else (unknown user, disabled,
 * wrong password, a password changed meanwhile); THROTTLED with
 * retry_after.  FH_OK in all three cases; an fherr code only when the
 * database failed (FH_BUSY: locked or full). */
int identity_login(engine *e, const identity_login_req *in, identity_login_res *out, fherr *err);

/* --- groups and permissions (subject "alice" or "@group") --------------- */

int identity_grant(engine *e, const char *subject, const char *perm, fherr *err);
int identity_revoke(engine *e, const char *subject, const char *perm, fherr *err);
int identity_join(engine *e, const char *username, const char *group, fherr *err);
int identity_leave(engine *e, const char *username, const char *group, fherr *err);

/* --- API tokens ---------------------------------------------------------- */

/* A new token of the user (name: a label, may be NULL); token gets it raw. */
int identity_token_create(engine *e, const char *username, const char *name, char token[AUTH_TOKEN_LEN],
                          fherr *err);
/* The user of a raw token; FH_NOT_FOUND for an unknown one. */
int identity_token_resolve(engine *e, const char *token, int64_t *user_id, fherr *err);
/* The actor of a raw token (its user read with the token, its permissions
 * and groups in one more statement); FH_NOT_FOUND for an unknown token.
 * Read from the database, or from the host's identity cache, which hears
 * of every change (identity_cache.h): a token revoked on another host of
 * the same database stops working at once.  A token that signs in is noted
 * in the engine's token_uses (token_use.h), not written. */
int identity_token_actor(engine *e, const char *token, fh_actor *out, fherr *err);
/* Records the uses taken from a token_uses table (api_token.last_used_at),
 * in one transaction; a time never moves a token's record back. */
int identity_tokens_used(engine *e, const token_use *uses, size_t n, fherr *err);
/* [{"id","name","created_at","last_used_at"}] of a user's tokens. */
int identity_token_list(engine *e, const char *username, json_t **out, fherr *err);
/* Ends one token, given raw or by its id (decimal digits); *id and
 * username (IDENTITY_NAME_MAX + 1 bytes) say which; FH_NOT_FOUND if none. */
int identity_token_revoke(engine *e, const char *token_or_id, int64_t *id, char *username, fherr *err);

/* --- sessions ------------------------------------------------------------ */

/* A new session of the user for `seconds`: the raw id (for the cookie), its
 * digest (to delete it later) and its CSRF token. */
int identity_session_create(engine *e, int64_t user_id, int seconds, char token[AUTH_TOKEN_LEN],
                            char digest[AUTH_DIGEST_LEN], char csrf[IDENTITY_CSRF_LEN], fherr *err);
/* The user (as identity_actor_by_id; free it with fh_actor_free) and CSRF
 * token of a raw session id; digest always gets its digest.  FH_NOT_FOUND
 * when the session is unknown or expired, or (*no_user) its user is gone.
 * Kept by the host's identity cache, if it has one, as tokens are. */
int identity_session_actor(engine *e, const char *token, char digest[AUTH_DIGEST_LEN], char csrf[IDENTITY_CSRF_LEN],
                           fh_actor *out, int *no_user, fherr *err);
int identity_session_delete(engine *e, const char *digest, fherr *err);

/* --- the database (GET /api/health) --------------------------------------- */

/* Here because identity is the host's one door to the store besides the
 * engine: the state of the database, found by a one-row write that waits
 * at most wait_ms for the write lock, and the free space of its disk. */
typedef struct identity_db_state {
  const char *state;       /* "ok", "locked", "full", "read_only", "error", "down" */
  long long free_bytes;    /* -1: unknown */
  char detail[256];        /* why, when not "ok" */
} identity_db_state;

void identity_db_probe(engine *e, int wait_ms, identity_db_state *out);
/* The state of a database no engine could be opened on (why: engine_open's
 * error), for the health of a host whose database server is away. */
void identity_db_unopened(const char *db_path, const fherr *why, identity_db_state *out);

#endif
