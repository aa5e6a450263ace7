/* identity — users, groups, permissions, passwords, API tokens, sessions,
 * sign-ins (checked, throttled per name and address, opening a session) and
 * their revocation (a new password or a disabled user ends every session
 * and token), for the CLI, the HTTP layer, `serve` and the Lua module, so
 * none of them touches the store; also the database probe of /api/health.
 * It may call engine_store() and the store_* functions (and auth_* for the
 * secrets), nothing else of the engine.  Every write is one short
 * transaction through the store's write path (store_begin .. store_commit,
 * store_rollback on error), so it joins the group-commit writer like the
 * engine's actions do; slow work (password hashing and checking) happens
 * outside the transactions.  Reads run outside a transaction.
 */
#include "identity.h"

#include "engine_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fhtime.h"
#include "identity_cache.h"
#include "login_turn.h"
#include "store.h"

/* --- the write path -------------------------------------------------------- */

static int write_begin(engine *e, store **st, fherr *err) {
  *st = engine_store(e);
  return store_begin(*st, err);
}

/* Commits, or rolls back when rc says the write failed. */
static int commit_or_rollback(store *st, int rc, fherr *err) {
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

/* ... and a commit forgets the sign-ins this process keeps
 * (identity_cache.h): other hosts hear of it by NOTIFY.  The writes of a
 * sign-in (throttling, a new session, expired ones purged) change nothing
 * a cache holds and only commit, so that signing in does not empty it. */
static int write_end(engine *e, store *st, int rc, fherr *err) {
  if (rc) return commit_or_rollback(st, rc, err);
  rc = commit_or_rollback(st, rc, err);
  engine_identity_changed(e);   /* a failed commit may still have committed */
  return rc;
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

/* The actor of a user read with its permissions (rc: how the read went);
 * takes the permissions and groups over. */
static int actor_of_row(int rc, st_actor *a, fh_actor *out) {
  if (rc) return rc;
  memset(out, 0, sizeof *out);
  out->id = a->user.id;
  snprintf(out->username, sizeof out->username, "%s", a->user.username);
  out->is_admin = a->user.is_admin;
  out->is_active = a->user.is_active;
  out->perms = a->perms;
  out->groups = a->groups;
  a->perms = a->groups = NULL;
  st_actor_free(a);
  return FH_OK;
}

int identity_actor(engine *e, const char *username, fh_actor *out, fherr *err) {
  st_actor a;
  return actor_of_row(store_user_actor(engine_store(e), username, &a, err), &a, out);
}

int identity_actor_by_id(engine *e, int64_t id, fh_actor *out, fherr *err) {
  st_actor a;
  return actor_of_row(store_user_actor_by_id(engine_store(e), id, &a, err), &a, out);
}

/* --- users ------------------------------------------------------------------ */

static int check_name(const char *username, fherr *err) {
  size_t n = strlen(username);
  if (n == 0 || n > IDENTITY_NAME_MAX)
    return fherr_set(err, FH_BAD_REQUEST, "a user name must be 1 to %d bytes long (this one has %zu)",
                     IDENTITY_NAME_MAX, n);
  if (username[0] == '@') return fherr_set(err, FH_BAD_REQUEST, "a user name may not start with '@' (groups do)");
  for (const unsigned char *p = (const unsigned char *)username; *p; p++)
    if (*p < 0x20 || *p == 0x7f) return fherr_set(err, FH_BAD_REQUEST, "a user name may not hold control characters");
  return FH_OK;
}

static int add_hashed(engine *e, const char *username, const char *hash, int is_admin, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(e, st, store_user_add(st, username, hash, is_admin, NULL, err), err);
}

int identity_user_add(engine *e, const char *username, const char *password, int is_admin, fherr *err) {
  if (check_name(username, err)) return FH_BAD_REQUEST;
  char hash[AUTH_HASH_LEN];
  if (password && hash_password(password, hash, err)) return FH_INTERNAL;
  return add_hashed(e, username, password ? hash : NULL, is_admin, err);
}

int identity_user_add_random(engine *e, const char *username, int is_admin,
                             char password[IDENTITY_PASSWORD_LEN], fherr *err) {
  password[0] = '\0';
  if (check_name(username, err)) return FH_BAD_REQUEST;
  random_password(password);
  return identity_user_add(e, username, password, is_admin, err);
}

/* Ends every session and token of the user named, inside an open write. */
static int revoke_all(store *st, const char *username, identity_ended *ended, fherr *err) {
  st_user u;
  int rc = store_user_get(st, username, &u, err);
  if (rc) return rc;
  identity_ended none;
  if (!ended) ended = &none;
  rc = store_user_revoke(st, u.id, &ended->sessions, &ended->tokens, err);
  st_user_free(&u);
  return rc;
}

int identity_set_password(engine *e, const char *username, const char *password, identity_ended *ended, fherr *err) {
  char hash[AUTH_HASH_LEN];
  if (ended) *ended = (identity_ended){0, 0};
  if (hash_password(password, hash, err)) return FH_INTERNAL;
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  rc = store_user_set_password(st, username, hash, err);
  if (!rc) rc = revoke_all(st, username, ended, err);
  return write_end(e, st, rc, err);
}

int identity_set_active(engine *e, const char *username, int active, identity_ended *ended, fherr *err) {
  if (ended) *ended = (identity_ended){0, 0};
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  rc = store_user_set_active(st, username, active, err);
  if (!rc && !active) rc = revoke_all(st, username, ended, err);
  return write_end(e, st, rc, err);
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
  if ((rc = write_end(e, st, rc, err))) *created = 0;
  return rc;
}

int identity_user_count(engine *e, int64_t *n, fherr *err) { return store_user_count(engine_store(e), n, err); }

int identity_users_list(engine *e, json_t **out, fherr *err) { return store_user_list(engine_store(e), out, err); }

int identity_users_with_perm(engine *e, const char *perm, json_t **out, fherr *err) {
  return store_users_with_perm(engine_store(e), perm, out, err);
}

/* --- signing in --------------------------------------------------------------- */

#define LOGIN_FIRST_WAIT 15.0   /* seconds; doubled by each further failure */
#define LOGIN_MAX_WAIT 900.0

/* The wait after `failures`, of which `free` cost nothing. */
static double wait_after(int64_t failures, int64_t free) {
  if (failures < free) return 0;
  double w = LOGIN_FIRST_WAIT;
  for (int64_t i = free; i < failures && w < LOGIN_MAX_WAIT; i++) w *= 2;
  return w < LOGIN_MAX_WAIT ? w : LOGIN_MAX_WAIT;
}

/* Seconds until `last` + `wait` from now (0 when past). */
static double left(const char *last, double wait, double now) {
  if (!wait || !last[0]) return 0;
  double at = fhtime_parse(last);
  return at < 0 || at + wait <= now ? 0 : at + wait - now;
}

/* How long this name from this address must wait (0: it may try now). */
static double throttle_wait(const st_login_failures *f, double now) {
  int64_t free = f->name >= IDENTITY_LOGIN_ATTACKED ? 1 : IDENTITY_LOGIN_PAIR_FREE;
  double a = left(f->pair_last, f->pair ? wait_after(f->pair, free) : 0, now);
  double b = left(f->addr_last, wait_after(f->addr, IDENTITY_LOGIN_ADDR_FREE), now);
  return a > b ? a : b;
}

/* Checks the throttle and, when the try may go on, counts it as a failure
 * at once, in the same write: parallel tries (also on other hosts) cannot
 * slip past the count.  A success takes it back (open_session). */
static int login_admit(engine *e, const char *name, const char *addr, double *wait, fherr *err) {
  double now = fhtime_epoch();
  char now_s[FH_TIME_LEN], since[FH_TIME_LEN];
  fhtime_format(now, now_s);
  fhtime_format(now - IDENTITY_LOGIN_WINDOW, since);
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  st_login_failures f;
  rc = store_login_failures(st, name, addr, since, &f, err);
  *wait = rc ? 0 : throttle_wait(&f, now);
  if (!rc && *wait > 0) {   /* throttled: nothing to write */
    store_rollback(st);
    return FH_OK;
  }
  if (!rc) rc = store_login_failure_add(st, name, addr, now_s, since, err);
  return commit_or_rollback(st, rc, err);
}

/* Opens the session of a verified sign-in, unless the user was disabled or
 * got another password since the check (then *opened stays 0). */
static int open_session(engine *e, const st_user *checked, const char *name, const identity_login_req *in,
                        identity_login_res *out, int *opened, fherr *err) {
  char now[FH_TIME_LEN], expires[FH_TIME_LEN];
  fhtime_now(now);
  fhtime_format(fhtime_epoch() + in->seconds, expires);
  auth_random_token(out->token);
  auth_digest(out->token, out->digest);
  auth_random_token(out->csrf);
  *opened = 0;
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  st_user u;
  if ((rc = store_user_get_by_id(st, checked->id, &u, err))) {
    if (rc == FH_NOT_FOUND) fherr_clear(err);   /* deleted meanwhile: a wrong sign-in */
    return commit_or_rollback(st, rc == FH_NOT_FOUND ? FH_OK : rc, err);
  }
  int same = u.is_active && u.password_hash && !strcmp(u.password_hash, checked->password_hash);
  st_user_free(&u);
  if (same && !(rc = store_login_failure_forget(st, name, in->addr, err)) && !(rc = store_session_purge(st, now, err)))
    rc = store_session_add(st, out->digest, checked->id, out->csrf, expires, err);
  if ((rc = commit_or_rollback(st, rc, err))) return rc;
  *opened = same;
  return FH_OK;
}

/* One try, in its turn: counted, checked, and its session opened. */
static int login_try(engine *e, const identity_login_req *in, const char *name, int checkable,
                     identity_login_res *out, fherr *err) {
  double wait = 0;
  int rc = login_admit(e, name, in->addr, &wait, err);
  if (rc) return rc;
  if (wait > 0) {
    out->status = IDENTITY_LOGIN_THROTTLED;
    out->retry_after = (int)ceil(wait);
    return FH_OK;
  }
  st_user u;
  memset(&u, 0, sizeof u);
  int found = 0;
  if (checkable) {
    rc = store_user_get(engine_store(e), in->username, &u, err);
    if (rc && rc != FH_NOT_FOUND) return rc;
    if (rc) fherr_clear(err);
    found = rc == FH_OK;
  }
  int ok = 0;
  if (found && u.is_active && u.password_hash) ok = auth_verify_password(u.password_hash, in->password);
  else auth_verify_password(in->dummy_hash, in->password);
  int opened = 0;
  rc = ok ? open_session(e, &u, name, in, out, &opened, err) : FH_OK;
  if (!rc && opened) {
    out->status = IDENTITY_LOGIN_OK;
    out->user_id = u.id;
  }
  if (found) st_user_free(&u);
  return rc;
}

int identity_login(engine *e, const identity_login_req *in, identity_login_res *out, fherr *err) {
  memset(out, 0, sizeof *out);
  out->status = IDENTITY_LOGIN_WRONG;
  int checkable = strlen(in->username) <= IDENTITY_NAME_MAX && strlen(in->password) <= IDENTITY_PASSWORD_MAX;
  const char *name = checkable ? in->username : "";   /* nobody has such a name; the address still counts */
  /* the tries from this address one after another (login_turn.h) */
  login_turn *turn = login_turn_take(in->addr);
  int rc = login_try(e, in, name, checkable, out, err);
  login_turn_give(turn);
  return rc;
}

/* --- groups and permissions ------------------------------------------------- */

typedef int (*pair_write)(store *st, const char *a, const char *b, fherr *err);

static int write_pair(engine *e, pair_write fn, const char *a, const char *b, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(e, st, fn(st, a, b, err), err);
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
    if (!u.is_active) rc = fherr_set(err, FH_CONFLICT, "user '%s' is disabled (flowhost user enable)", username);
    else rc = store_token_add(st, digest, u.id, name, err);
    st_user_free(&u);
  }
  return write_end(e, st, rc, err);
}

int identity_token_resolve(engine *e, const char *token, int64_t *user_id, fherr *err) {
  char digest[AUTH_DIGEST_LEN];
  auth_digest(token, digest);
  return store_token_get(engine_store(e), digest, user_id, err);
}

/* A stamped cache (SQLite) told the database's count of identity changes
 * before a look-up (identity_cache.h). */
static void cache_catch_up(engine *e) {
  if (!identity_cache_stamped(e->idc)) return;
  int64_t count = 0;
  int rc = store_identity_stamp(engine_store(e), &count, NULL);
  identity_cache_stamp(e->idc, rc == FH_OK, count);
}

int identity_token_actor(engine *e, const char *token, fh_actor *out, fherr *err) {
  char digest[AUTH_DIGEST_LEN];
  auth_digest(token, digest);
  int rc = FH_OK;
  cache_catch_up(e);
  if (!identity_cache_get(e->idc, IDENTITY_BY_TOKEN, digest, "", out, NULL, 0)) {
    uint64_t gen = identity_cache_begin(e->idc);
    st_actor a;
    rc = actor_of_row(store_token_actor(engine_store(e), digest, &a, err), &a, out);
    if (!rc) identity_cache_put(e->idc, gen, IDENTITY_BY_TOKEN, digest, out, NULL, NULL);
  }
  if (!rc && e->uses) {   /* written later, by serve's bookkeeping thread (token_use.h) */
    char now[FH_TIME_LEN];
    fhtime_now(now);
    token_uses_note(e->uses, digest, now);
  }
  return rc;
}

int identity_tokens_used(engine *e, const token_use *uses, size_t n, fherr *err) {
  if (!n) return FH_OK;
  store *st;
  int rc = write_begin(e, &st, err);
  for (size_t i = 0; i < n && !rc; i++) rc = store_token_used(st, uses[i].digest, uses[i].at, err);
  return commit_or_rollback(st, rc, err);   /* a token's use changes nothing a sign-in is */
}

int identity_token_list(engine *e, const char *username, json_t **out, fherr *err) {
  *out = NULL;
  store *st = engine_store(e);
  st_user u;
  int rc = store_user_get(st, username, &u, err);
  if (rc) return rc;
  rc = store_token_list(st, u.id, out, err);
  st_user_free(&u);
  return rc;
}

/* Decimal digits only, at most 18 of them: an id (a raw token has 64 hex
 * characters). */
static int token_id_of(const char *s, int64_t *id) {
  size_t n = strlen(s);
  if (n == 0 || n > 18 || strspn(s, "0123456789") != n) return 0;
  *id = strtoll(s, NULL, 10);
  return 1;
}

int identity_token_revoke(engine *e, const char *token_or_id, int64_t *id, char *username, fherr *err) {
  char digest[AUTH_DIGEST_LEN];
  int64_t want = 0;
  int by_id = token_id_of(token_or_id, &want);
  if (!by_id) auth_digest(token_or_id, digest);
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  char who[64] = "";
  rc = store_token_find(st, want, by_id ? NULL : digest, id, who, err);
  if (!rc) rc = store_token_delete(st, *id, err);
  if (!rc) snprintf(username, IDENTITY_NAME_MAX + 1, "%s", who);
  return write_end(e, st, rc, err);
}

/* --- sessions ------------------------------------------------------------------- */

int identity_session_create(engine *e, int64_t user_id, int seconds, char token[AUTH_TOKEN_LEN],
                            char digest[AUTH_DIGEST_LEN], char csrf[IDENTITY_CSRF_LEN], fherr *err) {
  char expires[FH_TIME_LEN];
  auth_random_token(token);
  auth_digest(token, digest);
  auth_random_token(csrf);
  fhtime_format(fhtime_epoch() + seconds, expires);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  rc = store_session_purge(st, now, err);
  return commit_or_rollback(st, rc ? rc : store_session_add(st, digest, user_id, csrf, expires, err), err);
}

int identity_session_actor(engine *e, const char *token, char digest[AUTH_DIGEST_LEN], char csrf[IDENTITY_CSRF_LEN],
                           fh_actor *out, int *no_user, fherr *err) {
  *no_user = 0;
  auth_digest(token, digest);
  char now[FH_TIME_LEN], expires[FH_TIME_LEN];
  fhtime_now(now);
  cache_catch_up(e);
  if (identity_cache_get(e->idc, IDENTITY_BY_SESSION, digest, now, out, csrf, IDENTITY_CSRF_LEN)) return FH_OK;
  uint64_t gen = identity_cache_begin(e->idc);
  int64_t uid = 0;
  int rc = store_session_get(engine_store(e), digest, now, &uid, csrf, expires, err);
  if (rc) return rc;
  rc = identity_actor_by_id(e, uid, out, err);
  *no_user = rc == FH_NOT_FOUND;
  if (!rc) identity_cache_put(e->idc, gen, IDENTITY_BY_SESSION, digest, out, csrf, expires);
  return rc;
}

int identity_session_delete(engine *e, const char *digest, fherr *err) {
  store *st;
  int rc = write_begin(e, &st, err);
  if (rc) return rc;
  return write_end(e, st, store_session_delete(st, digest, err), err);
}

/* --- the database ------------------------------------------------------------------ */

static const char *const DB_STATE_NAMES[] = {
    [STORE_DB_OK] = "ok", [STORE_DB_LOCKED] = "locked", [STORE_DB_FULL] = "full",
    [STORE_DB_READ_ONLY] = "read_only", [STORE_DB_ERROR] = "error", [STORE_DB_DOWN] = "down"};

void identity_db_unopened(const char *db_path, const fherr *why, identity_db_state *out) {
  st_db_probe p;
  store_db_unopened(db_path, why, &p);
  out->state = DB_STATE_NAMES[p.state];
  out->free_bytes = p.free_bytes;
  snprintf(out->detail, sizeof out->detail, "%s", p.detail);
}

void identity_db_probe(engine *e, int wait_ms, identity_db_state *out) {
  st_db_probe p;
  store_db_probe(engine_store(e), wait_ms, &p);
  out->state = DB_STATE_NAMES[p.state];
  out->free_bytes = p.free_bytes;
  snprintf(out->detail, sizeof out->detail, "%s", p.detail);
}
