/* http_auth — who is asking: bearer tokens, the session cookie and its CSRF
 * token, and the session routes (login, current user, logout).
 *
 * Raw session ids and tokens never reach the database: only their digests
 * (auth_digest) are stored and looked up.  Secrets are compared in
 * constant time (auth_equal), and a login for an unknown user still pays
 * for one password verification, so timing does not tell which names exist.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fhtime.h"
#include "http_internal.h"

int http_auth_init(http_server *s, fherr *err) {
  if (auth_hash_password("flowhost: no user has this password", s->dummy_hash))
    return fherr_set(err, FH_INTERNAL, "cannot hash a password (out of memory?)");
  return FH_OK;
}

static int is_write_method(const char *method) {
  return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Makes r->actor for user uid; an unknown or disabled user is FH_UNAUTH. */
static int load_actor(http_req *r, engine *e, int64_t uid, fherr *err) {
  fherr uerr = {0};
  int rc = engine_actor_by_id(e, uid, &r->actor, &uerr);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(&uerr);
    return fherr_set(err, FH_UNAUTH, "the user of this session or token no longer exists");
  }
  if (rc) {
    if (err) *err = uerr;
    else fherr_clear(&uerr);
    return rc;
  }
  if (!r->actor.is_active) {
    fh_actor_free(&r->actor);
    return fherr_set(err, FH_UNAUTH, "this user is disabled");
  }
  r->has_actor = 1;
  return FH_OK;
}

static int by_bearer(http_req *r, engine *e, const char *header, fherr *err) {
  if (strncasecmp(header, "Bearer ", 7) != 0)
    return fherr_set(err, FH_UNAUTH, "unsupported Authorization scheme (use: Bearer TOKEN)");
  const char *token = header + 7;
  while (*token == ' ') token++;
  size_t len = strlen(token);
  if (len == 0 || len >= AUTH_TOKEN_LEN + 64) return fherr_set(err, FH_UNAUTH, "invalid API token");
  char digest[AUTH_DIGEST_LEN];
  auth_digest(token, digest);
  int64_t uid = 0;
  fherr terr = {0};
  int rc = store_token_get(engine_store(e), digest, &uid, &terr);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(&terr);
    return fherr_set(err, FH_UNAUTH, "invalid API token");
  }
  if (rc) {
    if (err) *err = terr;
    else fherr_clear(&terr);
    return rc;
  }
  return load_actor(r, e, uid, err);
}

static int by_cookie(http_req *r, engine *e, const char *cookie, fherr *err) {
  if (!cookie[0] || strlen(cookie) >= AUTH_TOKEN_LEN + 64) return fherr_set(err, FH_UNAUTH, "invalid session; sign in again");
  auth_digest(cookie, r->session_digest);
  int64_t uid = 0;
  fherr serr = {0};
  int rc = store_session_get(engine_store(e), r->session_digest, &uid, r->csrf, &serr);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(&serr);
    r->session_digest[0] = '\0';
    return fherr_set(err, FH_UNAUTH, "the session has expired; sign in again");
  }
  if (rc) {
    if (err) *err = serr;
    else fherr_clear(&serr);
    return rc;
  }
  if ((rc = load_actor(r, e, uid, err))) return rc;
  r->by_cookie = 1;
  if (is_write_method(r->method)) {
    const char *sent = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    if (!sent || !auth_equal(sent, r->csrf))
      return fherr_set(err, FH_FORBIDDEN, sent ? "wrong X-CSRF-Token" : "missing X-CSRF-Token header");
  }
  return FH_OK;
}

int http_authenticate(http_req *r, engine *e, fherr *err) {
  const char *authz = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (authz) return by_bearer(r, e, authz, err);
  const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, HTTP_SESSION_COOKIE);
  if (cookie) return by_cookie(r, e, cookie, err);
  return fherr_set(err, FH_UNAUTH, "sign in or send an API token (Authorization: Bearer ...)");
}

/* --- the session routes ---------------------------------------------------------- */

static json_t *session_json(http_req *r) {
  return json_pack("{s:o, s:o}", "user", fh_actor_to_json(&r->actor), "csrf_token",
                   r->by_cookie ? json_string(r->csrf) : json_null());
}

void http_session_get(http_req *r) {
  fherr err = {0};
  engine *e = http_engine(r, &err);
  if (!e || http_params_check(r, NULL, &err) || http_authenticate(r, e, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  http_reply_json(r, 200, session_json(r));
}

void http_session_login(http_req *r) {
  static const char *const fields[] = {"username", "password", NULL};
  fherr err = {0};
  json_t *body = NULL;
  engine *e = http_engine(r, &err);
  if (!e || http_params_check(r, NULL, &err) || http_body_object(r, fields, &body, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  json_t *jname = json_object_get(body, "username"), *jpass = json_object_get(body, "password");
  if (!json_is_string(jname) || !json_is_string(jpass)) {
    json_decref(body);
    http_reply_error(r, 400, "bad_request", "the body must be {\"username\": string, \"password\": string}");
    return;
  }
  const char *name = json_string_value(jname), *password = json_string_value(jpass);
  st_user u;
  memset(&u, 0, sizeof u);
  int found = 0, ok = 0;
  if (strlen(name) < sizeof u.username && strlen(password) <= 4096) {
    int rc = store_user_get(engine_store(e), name, &u, &err);
    if (rc && rc != FH_NOT_FOUND) {
      json_decref(body);
      http_reply_fherr(r, &err);
      return;
    }
    fherr_clear(&err);
    found = rc == FH_OK;
  }
  if (found && u.is_active && u.password_hash) ok = auth_verify_password(u.password_hash, password);
  else auth_verify_password(r->srv->dummy_hash, password);
  int64_t uid = u.id;
  if (found) st_user_free(&u);
  json_decref(body);
  if (!ok) {
    http_reply_error(r, 401, "unauthenticated", "wrong user name or password");
    return;
  }
  char token[AUTH_TOKEN_LEN], expires[FH_TIME_LEN];
  auth_random_token(token);
  auth_digest(token, r->session_digest);
  auth_random_token(r->csrf);
  fhtime_format(fhtime_epoch() + HTTP_SESSION_SECONDS, expires);
  if (store_session_add(engine_store(e), r->session_digest, uid, r->csrf, expires, &err) ||
      load_actor(r, e, uid, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  r->by_cookie = 1;
  snprintf(r->out_cookie, sizeof r->out_cookie, "%s=%s; HttpOnly; SameSite=Lax; Path=/; Max-Age=%d",
           HTTP_SESSION_COOKIE, token, HTTP_SESSION_SECONDS);
  http_reply_json(r, 200, session_json(r));
}

void http_session_logout(http_req *r) {
  fherr err = {0};
  json_t *body = NULL;
  engine *e = http_engine(r, &err);
  if (!e || http_params_check(r, NULL, &err) || http_authenticate(r, e, &err) ||
      http_body_object(r, NULL, &body, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  json_decref(body);
  if (r->by_cookie && store_session_delete(engine_store(e), r->session_digest, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  snprintf(r->out_cookie, sizeof r->out_cookie, "%s=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0",
           HTTP_SESSION_COOKIE);
  http_reply_json(r, 200, json_pack("{s:s}", "status", "signed_out"));
}
