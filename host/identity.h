/* identity — who the users are: accounts, groups, permissions, passwords,
 * API tokens and sessions, and the actors built from them.
 *
 * Every function takes the calling thread's engine and returns FH_OK or an
 * fherr code (FH_NOT_FOUND for an unknown user, token or session,
 * FH_CONFLICT for a user that already exists).  Passwords are hashed here
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

#define IDENTITY_PASSWORD_LEN 17   /* a generated password: 16 characters + NUL */
#define IDENTITY_CSRF_LEN 129      /* a session's CSRF token, NUL included */

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
int identity_set_password(engine *e, const char *username, const char *password, fherr *err);
/* On a database without users, adds `admin` (an admin) with a random
 * password copied into `password`; *created says whether it did. */
int identity_ensure_admin(engine *e, char password[IDENTITY_PASSWORD_LEN], int *created, fherr *err);
int identity_user_count(engine *e, int64_t *n, fherr *err);
/* [{"username","is_admin","groups":[...],"permissions":[...]}] */
int identity_users_list(engine *e, json_t **out, fherr *err);
/* Names of the users holding perm (directly, by a group, or as admins). */
int identity_users_with_perm(engine *e, const char *perm, json_t **out, fherr *err);
/* Checks a sign-in: *user_id is set when the user exists, is active and the
 * password matches, else 0 (FH_OK either way).  A failed check of an unknown
 * user still verifies against dummy_hash, so it costs the same time. */
int identity_check_login(engine *e, const char *username, const char *password, const char *dummy_hash,
                         int64_t *user_id, fherr *err);

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

/* --- sessions ------------------------------------------------------------ */

/* A new session of the user for `seconds`: the raw id (for the cookie), its
 * digest (to delete it later) and its CSRF token. */
int identity_session_create(engine *e, int64_t user_id, int seconds, char token[AUTH_TOKEN_LEN],
                            char digest[AUTH_DIGEST_LEN], char csrf[IDENTITY_CSRF_LEN], fherr *err);
/* The user and CSRF token of a raw session id; digest always gets its
 * digest.  FH_NOT_FOUND when unknown or expired. */
int identity_session_resolve(engine *e, const char *token, char digest[AUTH_DIGEST_LEN], int64_t *user_id,
                             char csrf[IDENTITY_CSRF_LEN], fherr *err);
int identity_session_delete(engine *e, const char *digest, fherr *err);

#endif
