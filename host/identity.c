/* identity — users, groups, permissions, passwords, API tokens and sessions
 * for the CLI, the HTTP layer, `serve` and the Lua module, so none of them
 * touches the store.  It may call engine_store() and the store_* functions
 * (and auth_* for the secrets), nothing else of the engine.  Every write is
 * one short transaction through the store's write path (store_begin ..
 * store_commit, store_rollback on error), so it joins the group-commit
 * writer like the engine's actions do; slow work (password hashing) happens
 * before the transaction opens.  Reads run outside a transaction.
 */
#include "identity.h"

#include "engine_internal.h"

#include <stdio.h>
#include <string.h>

#include "fhtime.h"
#include "store.h"

/* --- the write path -------------------------------------------------------- */

static int write_begin(engine *e, store **st, fherr *err) {
  *st = engine_store(e);
  return store_begin(*st, err);
}

/* Commits, or rolls back when rc says the write failed. */
static int write_end(store *st, int rc, fherr *err) {
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

/* --- passwords -------------------------------------------------------------- */

static int hash_password(const char *password, char hash[AUTH_HASH_LEN], fherr *err) {
  if (auth_hash_password(password, hash)) return fherr_set(err, FH_INTERNAL, "cannot hash the password (out of memory)");
  return FH_OK;
}

/* 16 hex characters (64 random bits) from a random token. */
static void random_password(char out[IDENTITY_PASSWORD_LEN]) {
  char token[AUTH_TOKEN_LEN];
  auth_random_token(token);
  memcpy(out, token, IDENTITY_PASSWORD_LEN - 1);
  out[IDENTITY_PASSWORD_LEN - 1] = '\0';
}

/* --- actors ----------------------------------------------------------------- */

static int actor_from_user(store *st, const st_user *u, fh_actor *out, fherr *err) {
  memset(out, 0, sizeof *out);
  out->id = u->id;
  snprintf(out->username, sizeof out->username, "%s", u->username);
  out->is_admin = u->is_admin;
  out->is_active = u->is_active;
  return store_user_perms(st, u->id, &out->perms, &out->groups, err);
}

/* The actor of a user row just read (rc: how the read went). */
static int actor_of(store *st, int rc, st_user *u, fh_actor *out, fherr *err) {
  if (rc) return rc;
  rc = actor_from_user(st, u, out, err);
  st_user_free(u);
  return rc;
}

int identity_actor(engine *e, const char *username, fh_actor *out, fherr *err) {
  store *st = engine_store(e);
  st_user u;
  return actor_of(st, store_user_get(st, username, &u, err), &u, out, err);
}

int identity_actor_by_id(engine *e, int64_t id, fh_actor *out, fherr *err) {
  store *st = engine_store(e);
  st_user u;
  return actor_of(st, store_user_get_by_id(st, id, &u, err), &u, out, err);
}

/* --- users ------------------------------------------------------------------ */

static int add_hashed(engine *e, const char *username, const char *hash, int is_admin, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(st, store_user_add(st, username, hash, is_admin, NULL, err), err);
}

int identity_user_add(engine *e, const char *username, const char *password, int is_admin, fherr *err) {
  char hash[AUTH_HASH_LEN];
  if (password && hash_password(password, hash, err)) return FH_INTERNAL;
  return add_hashed(e, username, password ? hash : NULL, is_admin, err);
}

int identity_user_add_random(engine *e, const char *username, int is_admin,
                             char password[IDENTITY_PASSWORD_LEN], fherr *err) {
  random_password(password);
  return identity_user_add(e, username, password, is_admin, err);
}

int identity_set_password(engine *e, const char *username, const char *password, fherr *err) {
  char hash[AUTH_HASH_LEN];
  if (hash_password(password, hash, err)) return FH_INTERNAL;
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(st, store_user_set_password(st, username, hash, err), err);
}

/* Counts outside the transaction first, so a database that has users pays
 * for no hash; counts again inside it, so two hosts starting together make
 * one admin. */
int identity_ensure_admin(engine *e, char password[IDENTITY_PASSWORD_LEN], int *created, fherr *err) {
  *created = 0;
  int64_t n = 0;
  int rc = store_user_count(engine_store(e), &n, err);
  if (rc || n > 0) return rc;
  char hash[AUTH_HASH_LEN];
  random_password(password);
  if (hash_password(password, hash, err)) return FH_INTERNAL;
  store *st;
  if ((rc = write_begin(e, &st, err))) return rc;
  rc = store_user_count(st, &n, err);
  if (!rc && n == 0 && !(rc = store_user_add(st, "admin", hash, 1, NULL, err))) *created = 1;
  if ((rc = write_end(st, rc, err))) *created = 0;
  return rc;
}

int identity_user_count(engine *e, int64_t *n, fherr *err) { return store_user_count(engine_store(e), n, err); }

int identity_users_list(engine *e, json_t **out, fherr *err) { return store_user_list(engine_store(e), out, err); }

int identity_users_with_perm(engine *e, const char *perm, json_t **out, fherr *err) {
  return store_users_with_perm(engine_store(e), perm, out, err);
}

int identity_check_login(engine *e, const char *username, const char *password, const char *dummy_hash,
                         int64_t *user_id, fherr *err) {
  st_user u;
  memset(&u, 0, sizeof u);
  int found = 0, ok = 0;
  *user_id = 0;
  if (strlen(username) < sizeof u.username && strlen(password) <= 4096) {
    int rc = store_user_get(engine_store(e), username, &u, err);
    if (rc && rc != FH_NOT_FOUND) return rc;
    if (rc) fherr_clear(err);
    found = rc == FH_OK;
  }
  if (found && u.is_active && u.password_hash) ok = auth_verify_password(u.password_hash, password);
  else auth_verify_password(dummy_hash, password);
  if (ok) *user_id = u.id;
  if (found) st_user_free(&u);
  return FH_OK;
}

/* --- groups and permissions ------------------------------------------------- */

typedef int (*pair_write)(store *st, const char *a, const char *b, fherr *err);

static int write_pair(engine *e, pair_write fn, const char *a, const char *b, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(st, fn(st, a, b, err), err);
}

int identity_grant(engine *e, const char *subject, const char *perm, fherr *err) {
  return write_pair(e, store_grant, subject, perm, err);
}
int identity_revoke(engine *e, const char *subject, const char *perm, fherr *err) {
  return write_pair(e, store_revoke, subject, perm, err);
}
int identity_join(engine *e, const char *username, const char *group, fherr *err) {
  return write_pair(e, store_group_join, username, group, err);
}
int identity_leave(engine *e, const char *username, const char *group, fherr *err) {
  return write_pair(e, store_group_leave, username, group, err);
}

/* --- API tokens --------------------------------------------------------------- */

int identity_token_create(engine *e, const char *username, const char *name, char token[AUTH_TOKEN_LEN],
                          fherr *err) {
  char digest[AUTH_DIGEST_LEN];
  auth_random_token(token);
  auth_digest(token, digest);
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  st_user u;
  if (!(rc = store_user_get(st, username, &u, err))) {
    rc = store_token_add(st, digest, u.id, name, err);
    st_user_free(&u);
  }
  return write_end(st, rc, err);
}

int identity_token_resolve(engine *e, const char *token, int64_t *user_id, fherr *err) {
  char digest[AUTH_DIGEST_LEN];
  auth_digest(token, digest);
  return store_token_get(engine_store(e), digest, user_id, err);
}

/* --- sessions ------------------------------------------------------------------- */

int identity_session_create(engine *e, int64_t user_id, int seconds, char token[AUTH_TOKEN_LEN],
                            char digest[AUTH_DIGEST_LEN], char csrf[IDENTITY_CSRF_LEN], fherr *err) {
  char expires[FH_TIME_LEN];
  auth_random_token(token);
  auth_digest(token, digest);
  auth_random_token(csrf);
  fhtime_format(fhtime_epoch() + seconds, expires);
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(st, store_session_add(st, digest, user_id, csrf, expires, err), err);
}

int identity_session_resolve(engine *e, const char *token, char digest[AUTH_DIGEST_LEN], int64_t *user_id,
                             char csrf[IDENTITY_CSRF_LEN], fherr *err) {
  auth_digest(token, digest);
  return store_session_get(engine_store(e), digest, user_id, csrf, err);
}

int identity_session_delete(engine *e, const char *digest, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(st, store_session_delete(st, digest, err), err);
}
