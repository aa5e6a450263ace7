/* identity_admin — users, groups and grants as the administration API
 * changes them (see identity_admin.h).  Like identity.c it may call
 * engine_store() and the store_* functions (here mostly store_admin.h),
 * nothing else of the engine; every write is one transaction of its own.
 */
#include "identity_admin.h"

#include "engine_internal.h"

#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_admin.h"

static int write_begin(engine *e, store **st, fherr *err) {
  *st = engine_store(e);
  return store_begin(*st, err);
}

/* Commits (or rolls back on rc); a commit forgets the sign-ins this
 * process keeps (identity_cache.h): other hosts hear of it by NOTIFY. */
static int write_end(engine *e, store *st, int rc, fherr *err) {
  if (rc) {
    store_rollback(st);
    return rc;
  }
  rc = store_commit(st, err);
  engine_identity_changed(e);
  return rc;
}

int identity_admin_users(engine *e, const char *username, json_t **out, fherr *err) {
  return store_admin_users(engine_store(e), username, out, err);
}

/* --- changing a user ----------------------------------------------------------- */

/* FH_CONFLICT when the change would leave no active admin. */
static int keep_an_admin(store *st, const st_user *u, const identity_user_change *c, fherr *err) {
  int was = u->is_admin && u->is_active;
  int admin = c->is_admin >= 0 ? c->is_admin : u->is_admin;
  int active = c->active >= 0 ? c->active : u->is_active;
  if (!was || (admin && active)) return FH_OK;
  int64_t n = 0;
  int rc = store_admin_count_admins(st, &n, err);
  if (rc) return rc;
  if (n <= 1)
    return fherr_set(err, FH_CONFLICT, "'%s' is the last active admin: make another user an admin first", u->username);
  return FH_OK;
}

/* Inside the write: the checks, then every part asked for. */
static int apply_change(store *st, const char *username, const identity_user_change *c, const char *hash,
                        identity_ended *ended, fherr *err) {
  st_user u;
  int rc = store_user_get(st, username, &u, err);
  if (rc) return rc;
  rc = keep_an_admin(st, &u, c, err);
  int64_t uid = u.id;
  st_user_free(&u);
  if (!rc && c->is_admin >= 0) rc = store_admin_set_admin(st, username, c->is_admin, err);
  if (!rc && c->active >= 0) rc = store_user_set_active(st, username, c->active, err);
  if (!rc && hash) rc = store_user_set_password(st, username, hash, err);
  /* a disabled user or a new password: every session and token ends */
  if (!rc && (c->active == 0 || hash)) rc = store_user_revoke(st, uid, &ended->sessions, &ended->tokens, err);
  return rc;
}

int identity_admin_change(engine *e, const char *username, const identity_user_change *c,
                          char password_out[IDENTITY_PASSWORD_LEN], identity_ended *ended, fherr *err) {
  identity_ended none;
  if (!ended) ended = &none;
  *ended = (identity_ended){0, 0};
  password_out[0] = '\0';
  const char *password = c->password;
  if (c->random_password) {
    char token[AUTH_TOKEN_LEN];
    auth_random_token(token);
    memcpy(password_out, token, IDENTITY_PASSWORD_LEN - 1);
    password_out[IDENTITY_PASSWORD_LEN - 1] = '\0';
    password = password_out;
  }
  char hash[AUTH_HASH_LEN];
  if (password && auth_hash_password(password, hash))
    return fherr_set(err, FH_INTERNAL, "cannot hash the password (out of memory)");
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  rc = write_end(e, st, apply_change(st, username, c, password ? hash : NULL, ended, err), err);
  if (rc) password_out[0] = '\0';
  return rc;
}

/* --- groups ---------------------------------------------------------------------- */

int identity_admin_check_group(const char *name, fherr *err) {
  size_t n = strlen(name);
  if (n == 0 || n > IDENTITY_NAME_MAX)
    return fherr_set(err, FH_BAD_REQUEST, "a group name must be 1 to %d bytes long", IDENTITY_NAME_MAX);
  if (name[0] == '@') return fherr_set(err, FH_BAD_REQUEST, "a group name is given without its '@'");
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p < 0x20 || *p == 0x7f) return fherr_set(err, FH_BAD_REQUEST, "a group name may not hold control characters");
  return FH_OK;
}

int identity_admin_groups(engine *e, const char *name, json_t **out, fherr *err) {
  return store_admin_groups(engine_store(e), name, out, err);
}

int identity_admin_group_add(engine *e, const char *name, fherr *err) {
  if (identity_admin_check_group(name, err)) return FH_BAD_REQUEST;
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(e, st, store_admin_group_add(st, name, err), err);
}

static int group_exists(store *st, const char *name, fherr *err) {
  json_t *g = NULL;
  int rc = store_admin_groups(st, name, &g, err);
  json_decref(g);
  return rc;
}

static int user_exists(store *st, const char *name, fherr *err) {
  st_user u;
  int rc = store_user_get(st, name, &u, err);
  if (!rc) st_user_free(&u);
  return rc;
}

int identity_admin_member(engine *e, const char *group, const char *username, int join, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  rc = group_exists(st, group, err);
  if (!rc) rc = user_exists(st, username, err);
  if (!rc) rc = join ? store_group_join(st, username, group, err) : store_admin_leave(st, username, group, err);
  return write_end(e, st, rc, err);
}

int identity_admin_grant(engine *e, const char *subject, const char *perm, int grant, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  rc = subject[0] == '@' ? group_exists(st, subject + 1, err) : user_exists(st, subject, err);
  if (!rc) rc = grant ? store_grant(st, subject, perm, err) : store_admin_revoke(st, subject, perm, err);
  return write_end(e, st, rc, err);
}
