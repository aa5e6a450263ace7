/* http_auth — who is asking: bearer tokens, the session cookie and its CSRF
 * token, and the session routes (login, current user, logout).
 *
 * Raw session ids and tokens never reach the database: identity stores and
 * looks up only their digests (auth_digest).  Secrets are compared in
 * constant time (auth_equal), and a login for an unknown user still pays
 * for one password verification, so timing does not tell which names exist.
 * Sign-ins are throttled by identity per user name and client address
 * (429 too_many_requests with Retry-After); a user disabled, or whose
 * password changed, has no session or token left, and load_actor refuses a
 * disabled user whatever it comes with.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

int http_auth_init(http_server *s, fherr *err) {
  if (auth_hash_password("flowhost: no user has this password", s->dummy_hash))
    return fherr_set(err, FH_INTERNAL, "cannot hash a password (out of memory?)");
  return FH_OK;
}

static int is_write_method(const char *method) {
  return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* r->actor just read (rc: how): a disabled user is FH_UNAUTH. */
static int actor_ready(http_req *r, int rc, fherr *uerr, fherr *err) {
  if (rc) {
    if (err) *err = *uerr;
    else fherr_clear(uerr);
    return rc;
  }
  if (!r->actor.is_active) {
    fh_actor_free(&r->actor);
    return fherr_set(err, FH_UNAUTH, "this user is disabled");
  }
  r->has_actor = 1;
  return FH_OK;
}

/* Makes r->actor for user uid; an unknown or disabled user is FH_UNAUTH. */
static int load_actor(http_req *r, engine *e, int64_t uid, fherr *err) {
  fherr uerr = {0};
  int rc = identity_actor_by_id(e, uid, &r->actor, &uerr);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(&uerr);
    return fherr_set(err, FH_UNAUTH, "the user of this session or token no longer exists");
  }
  return actor_ready(r, rc, &uerr, err);
}

static int by_bearer(http_req *r, engine *e, const char *header, fherr *err) {
  if (strncasecmp(header, "Bearer ", 7) != 0)
    return fherr_set(err, FH_UNAUTH, "unsupported Authorization scheme (use: Bearer TOKEN)");
  const char *token = header + 7;
  while (*token == ' ') token++;
  size_t len = strlen(token);
  if (len == 0 || len >= AUTH_TOKEN_LEN + 64) return fherr_set(err, FH_UNAUTH, "invalid API token");
  /* the token and its user in one statement, read on every request */
  fherr terr = {0};
  int rc = identity_token_actor(e, token, &r->actor, &terr);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(&terr);
    return fherr_set(err, FH_UNAUTH, "invalid API token");
  }
  return actor_ready(r, rc, &terr, err);
}

static int by_cookie(http_req *r, engine *e, const char *cookie, fherr *err) {
  if (!cookie[0] || strlen(cookie) >= AUTH_TOKEN_LEN + 64) return fherr_set(err, FH_UNAUTH, "invalid session; sign in again");
  fherr serr = {0};
  int no_user = 0;
  int rc = identity_session_actor(e, cookie, r->session_digest, r->csrf, &r->actor, &no_user, &serr);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(&serr);
    if (no_user) return fherr_set(err, FH_UNAUTH, "the user of this session or token no longer exists");
    r->session_digest[0] = '\0';
    return fherr_set(err, FH_UNAUTH, "the session has expired; sign in again");
  }
  if ((rc = actor_ready(r, rc, &serr, err))) return rc;
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

/* Signed out is an answer, not an error: a request with no credentials at
 * all (no cookie, no token) gets 200 {"user": null}, so the UI's first probe
 * logs no 401.  A bad token or an ended session stays 401: its holder must
 * learn that it no longer works. */
void http_session_get(http_req *r) {
  fherr err = {0};
  engine *e = http_engine(r, &err);
  if (!e || http_params_check(r, NULL, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  int anonymous = !MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) &&
                  !MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, HTTP_SESSION_COOKIE);
  int rc = http_authenticate(r, e, &err);
  if (rc == FH_UNAUTH && anonymous) {
    fherr_clear(&err);
    http_reply_json(r, 200, json_pack("{s:n, s:n}", "user", "csrf_token"));
    return;
  }
  if (rc) {
    http_reply_fherr(r, &err);
    return;
  }
  http_reply_json(r, 200, session_json(r));
}

/* A sign-in's answer once identity said OK: the session cookie and the user. */
static void login_ok(http_req *r, engine *e, const identity_login_res *res) {
  fherr err = {0};
  snprintf(r->session_digest, sizeof r->session_digest, "%s", res->digest);
  snprintf(r->csrf, sizeof r->csrf, "%s", res->csrf);
  if (load_actor(r, e, res->user_id, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  r->by_cookie = 1;
  snprintf(r->out_cookie, sizeof r->out_cookie, "%s=%s; HttpOnly; SameSite=Lax; Path=/; Max-Age=%d",
           HTTP_SESSION_COOKIE, res->token, HTTP_SESSION_SECONDS);
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
  char addr[HTTP_ADDR_LEN];
  http_client_addr(r, addr);
  identity_login_req in = {.username = json_string_value(jname), .password = json_string_value(jpass),
                           .addr = addr, .dummy_hash = r->srv->dummy_hash, .seconds = HTTP_SESSION_SECONDS};
  identity_login_res res;
  int rc = identity_login(e, &in, &res, &err);
  json_decref(body);
  if (rc) {
    http_reply_fherr(r, &err);
  } else if (res.status == IDENTITY_LOGIN_THROTTLED) {
    snprintf(r->out_retry_after, sizeof r->out_retry_after, "%d", res.retry_after);
    http_reply_error(r, 429, "too_many_requests", "too many failed sign-ins; try again in %d s", res.retry_after);
  } else if (res.status == IDENTITY_LOGIN_WRONG) {
    http_reply_error(r, 401, "unauthenticated", "wrong user name or password");
  } else {
    login_ok(r, e, &res);
  }
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
  if (r->by_cookie && identity_session_delete(e, r->session_digest, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  snprintf(r->out_cookie, sizeof r->out_cookie, "%s=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0",
           HTTP_SESSION_COOKIE);
  http_reply_json(r, 200, json_pack("{s:s}", "status", "signed_out"));
}
