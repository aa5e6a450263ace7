/* http_admin — the administration routes of the HTTP API and the answers
 * that depend on the caller's role (see http_admin.h; the contract is
 * docs/http-api.md, Administration).
 *
 * Every administration route is for admins only: after authentication a
 * non-admin gets 403, whatever else is wrong with the request.  The
 * routes match on their own small table (user and group names may hold
 * characters a flow name may not, permissions hold dots), so the core
 * table of http_route.c only gains one call.
 */
#include "http_admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_admin.h"
#include "fhlog.h"
#include "identity_admin.h"

#define ADMIN_SEGS 6

typedef struct amatch {
  const char *a, *b;   /* the first and second '*' segments */
  int64_t id;          /* the '#' segment */
} amatch;

typedef void (*admin_fn)(http_req *r, engine *e, const amatch *m);

typedef struct aroute {
  const char *method;
  const char *pattern;   /* '/'-separated: literal, '*' any name, '#' an id */
  admin_fn fn;
} aroute;

/* --- common steps ------------------------------------------------------------ */

/* Authentication, then admins only, then the query parameters. */
static int admin_prepare(http_req *r, engine *e, const char *const *params, fherr *err) {
  int rc = http_authenticate(r, e, err);
  if (rc) return rc;
  if (!r->actor.is_admin) return fherr_set(err, FH_FORBIDDEN, "administration is for admins");
  return http_params_check(r, params, err);
}

static void reply(http_req *r, int rc, int status, json_t *out, fherr *err) {
  if (rc) {
    json_decref(out);
    http_reply_fherr(r, err);
  } else {
    http_reply_json(r, status, out);
  }
}

/* A required string member of the body, 1..max bytes. */
static int body_string(json_t *body, const char *key, size_t max, const char **out, fherr *err) {
  json_t *v = json_object_get(body, key);
  *out = json_string_value(v);
  if (!*out || !**out || strlen(*out) > max)
    return fherr_set(err, FH_BAD_REQUEST, "\"%s\" must be a non-empty string (at most %zu bytes)", key, max);
  return FH_OK;
}

/* An optional boolean member: -1 when absent. */
static int body_bool(json_t *body, const char *key, int *out, fherr *err) {
  json_t *v = json_object_get(body, key);
  *out = -1;
  if (!v) return FH_OK;
  if (!json_is_boolean(v)) return fherr_set(err, FH_BAD_REQUEST, "\"%s\" must be true or false", key);
  *out = json_is_true(v);
  return FH_OK;
}

/* A user's answer {"user": {...}}, read after a write. */
static int user_answer(engine *e, const char *name, json_t **out, fherr *err) {
  json_t *u = NULL;
  int rc = identity_admin_users(e, name, &u, err);
  if (!rc) *out = json_pack("{s:o}", "user", u);
  return rc;
}

static int group_answer(engine *e, const char *name, json_t **out, fherr *err) {
  json_t *g = NULL;
  int rc = identity_admin_groups(e, name, &g, err);
  if (!rc) *out = json_pack("{s:o}", "group", g);
  return rc;
}

/* User routes take no '@' names: those are groups. */
static int user_segment(const char *name, fherr *err) {
  if (name[0] == '@' || strlen(name) > IDENTITY_NAME_MAX)
    return fherr_set(err, FH_NOT_FOUND, "unknown user '%.80s'", name);
  return FH_OK;
}

/* --- users -------------------------------------------------------------------- */

static void h_users(http_req *r, engine *e, const amatch *m) {
  (void)m;
  fherr err = {0};
  json_t *out = NULL, *items = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = identity_admin_users(e, NULL, &items, &err);
  if (!rc) out = json_pack("{s:o}", "items", items);
  reply(r, rc, 200, out, &err);
}

static void h_user(http_req *r, engine *e, const amatch *m) {
  fherr err = {0};
  json_t *out = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = user_segment(m->a, &err);
  if (!rc) rc = user_answer(e, m->a, &out, &err);
  reply(r, rc, 200, out, &err);
}

/* POST /api/users {"username", "password"?, "is_admin"?} */
static void h_user_create(http_req *r, engine *e, const amatch *m) {
  (void)m;
  static const char *const fields[] = {"username", "password", "is_admin", NULL};
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  const char *name = NULL, *password = NULL;
  int is_admin = -1;
  char generated[IDENTITY_PASSWORD_LEN] = "";
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = http_body_object(r, fields, &body, &err);
  if (!rc) rc = body_string(body, "username", 4096, &name, &err);
  if (!rc && json_object_get(body, "password")) rc = body_string(body, "password", IDENTITY_PASSWORD_MAX, &password, &err);
  if (!rc) rc = body_bool(body, "is_admin", &is_admin, &err);
  if (!rc) rc = password ? identity_user_add(e, name, password, is_admin == 1, &err)
                         : identity_user_add_random(e, name, is_admin == 1, generated, &err);
  if (!rc) rc = user_answer(e, name, &out, &err);
  if (!rc && !password) json_object_set_new(out, "password", json_string(generated));
  if (!rc) fhlog(FHLOG_INFO, "admin %s created user %s", r->actor.username, name);
  json_decref(body);
  reply(r, rc, 201, out, &err);
}

/* The change a PATCH body asks for. */
static int change_of(json_t *body, identity_user_change *c, fherr *err) {
  *c = (identity_user_change){.active = -1, .is_admin = -1};
  int reset = -1;
  int rc = body_bool(body, "active", &c->active, err);
  if (!rc) rc = body_bool(body, "is_admin", &c->is_admin, err);
  if (!rc) rc = body_bool(body, "reset_password", &reset, err);
  if (!rc && json_object_get(body, "password"))
    rc = body_string(body, "password", IDENTITY_PASSWORD_MAX, &c->password, err);
  if (rc) return rc;
  if (reset == 1 && c->password) return fherr_set(err, FH_BAD_REQUEST, "give \"password\" or \"reset_password\", not both");
  if (reset == 0) return fherr_set(err, FH_BAD_REQUEST, "\"reset_password\" can only be true");
  c->random_password = reset == 1;
  if (c->active < 0 && c->is_admin < 0 && !c->password && !c->random_password)
    return fherr_set(err, FH_BAD_REQUEST, "nothing to change: give active, is_admin, password or reset_password");
  return FH_OK;
}

/* PATCH /api/users/{name} {"active"?, "is_admin"?, "password"? | "reset_password"?} */
static void h_user_patch(http_req *r, engine *e, const amatch *m) {
  static const char *const fields[] = {"active", "is_admin", "password", "reset_password", NULL};
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  identity_user_change c;
  identity_ended ended = {0, 0};
  char generated[IDENTITY_PASSWORD_LEN] = "";
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = user_segment(m->a, &err);
  if (!rc) rc = http_body_object(r, fields, &body, &err);
  if (!rc) rc = change_of(body, &c, &err);
  if (!rc) rc = identity_admin_change(e, m->a, &c, generated, &ended, &err);
  if (!rc) rc = user_answer(e, m->a, &out, &err);
  if (!rc) {
    json_object_set_new(out, "ended", json_pack("{s:I, s:I}", "sessions", (json_int_t)ended.sessions, "tokens",
                                                (json_int_t)ended.tokens));
    if (c.random_password) json_object_set_new(out, "password", json_string(generated));
    fhlog(FHLOG_INFO, "admin %s changed user %s", r->actor.username, m->a);
  }
  json_decref(body);
  reply(r, rc, 200, out, &err);
}

static void h_user_tokens(http_req *r, engine *e, const amatch *m) {
  fherr err = {0};
  json_t *out = NULL, *items = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = user_segment(m->a, &err);
  if (!rc) rc = identity_token_list(e, m->a, &items, &err);
  if (!rc) out = json_pack("{s:o}", "items", items);
  reply(r, rc, 200, out, &err);
}

/* Is token id one of the user's?  FH_NOT_FOUND when not. */
static int token_of_user(engine *e, const char *user, int64_t id, fherr *err) {
  json_t *items = NULL;
  int rc = identity_token_list(e, user, &items, err);
  if (rc) return rc;
  int found = 0;
  size_t i;
  json_t *t;
  json_array_foreach(items, i, t) found |= json_integer_value(json_object_get(t, "id")) == id;
  json_decref(items);
  return found ? FH_OK : fherr_set(err, FH_NOT_FOUND, "user '%s' has no token %lld", user, (long long)id);
}

static void h_user_token_revoke(http_req *r, engine *e, const amatch *m) {
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  int64_t id = 0;
  char idtext[32], who[IDENTITY_NAME_MAX + 1];
  snprintf(idtext, sizeof idtext, "%lld", (long long)m->id);
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = user_segment(m->a, &err);
  if (!rc) rc = http_body_object(r, NULL, &body, &err);
  if (!rc) rc = token_of_user(e, m->a, m->id, &err);
  if (!rc) rc = identity_token_revoke(e, idtext, &id, who, &err);
  if (!rc) out = json_pack("{s:I, s:s}", "revoked", (json_int_t)id, "user", who);
  if (!rc) fhlog(FHLOG_INFO, "admin %s revoked token %lld of %s", r->actor.username, (long long)id, who);
  json_decref(body);
  reply(r, rc, 200, out, &err);
}

/* --- grants --------------------------------------------------------------------- */

/* subject: "alice" or "@group"; perm from the body (grant) or the path. */
static int grant_change(http_req *r, engine *e, const char *subject, const char *path_perm, json_t **body,
                        fherr *err) {
  static const char *const fields[] = {"permission", NULL};
  const char *perm = path_perm;
  int rc = http_body_object(r, path_perm ? NULL : fields, body, err);
  if (!rc && !path_perm) rc = body_string(*body, "permission", 200, &perm, err);
  if (!rc && !path_perm) rc = engine_admin_permission_check(e, perm, err);
  if (!rc) rc = identity_admin_grant(e, subject, perm, !path_perm, err);
  if (!rc) fhlog(FHLOG_INFO, "admin %s %s %s %s", r->actor.username, path_perm ? "revoked" : "granted", perm, subject);
  return rc;
}

static void user_grant(http_req *r, engine *e, const amatch *m, const char *path_perm) {
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = user_segment(m->a, &err);
  if (!rc) rc = grant_change(r, e, m->a, path_perm, &body, &err);
  if (!rc) rc = user_answer(e, m->a, &out, &err);
  json_decref(body);
  reply(r, rc, 200, out, &err);
}

static void h_user_grant(http_req *r, engine *e, const amatch *m) { user_grant(r, e, m, NULL); }
static void h_user_ungrant(http_req *r, engine *e, const amatch *m) { user_grant(r, e, m, m->b); }

static void group_grant(http_req *r, engine *e, const amatch *m, const char *path_perm) {
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  char subject[IDENTITY_NAME_MAX + 2];
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc && strlen(m->a) > IDENTITY_NAME_MAX) rc = fherr_set(&err, FH_NOT_FOUND, "unknown group");
  snprintf(subject, sizeof subject, "@%s", m->a);
  if (!rc) rc = grant_change(r, e, subject, path_perm, &body, &err);
  if (!rc) rc = group_answer(e, m->a, &out, &err);
  json_decref(body);
  reply(r, rc, 200, out, &err);
}

static void h_group_grant(http_req *r, engine *e, const amatch *m) { group_grant(r, e, m, NULL); }
static void h_group_ungrant(http_req *r, engine *e, const amatch *m) { group_grant(r, e, m, m->b); }

/* --- groups ----------------------------------------------------------------------- */

static void h_groups(http_req *r, engine *e, const amatch *m) {
  (void)m;
  fherr err = {0};
  json_t *out = NULL, *items = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = identity_admin_groups(e, NULL, &items, &err);
  if (!rc) out = json_pack("{s:o}", "items", items);
  reply(r, rc, 200, out, &err);
}

static void h_group(http_req *r, engine *e, const amatch *m) {
  fherr err = {0};
  json_t *out = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = group_answer(e, m->a, &out, &err);
  reply(r, rc, 200, out, &err);
}

/* POST /api/groups {"name"} */
static void h_group_create(http_req *r, engine *e, const amatch *m) {
  (void)m;
  static const char *const fields[] = {"name", NULL};
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  const char *name = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = http_body_object(r, fields, &body, &err);
  if (!rc) rc = body_string(body, "name", 4096, &name, &err);
  if (!rc) rc = identity_admin_group_add(e, name, &err);
  if (!rc) fhlog(FHLOG_INFO, "admin %s created group %s", r->actor.username, name);
  if (!rc) rc = group_answer(e, name, &out, &err);
  json_decref(body);
  reply(r, rc, 201, out, &err);
}

static void member_change(http_req *r, engine *e, const amatch *m, int join) {
  static const char *const fields[] = {"user", NULL};
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  const char *user = m->b;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = http_body_object(r, join ? fields : NULL, &body, &err);
  if (!rc && join) rc = body_string(body, "user", IDENTITY_NAME_MAX, &user, &err);
  if (!rc) rc = identity_admin_member(e, m->a, user, join, &err);
  if (!rc) fhlog(FHLOG_INFO, "admin %s %s %s %s group %s", r->actor.username, join ? "added" : "removed", user,
                 join ? "to" : "from", m->a);
  if (!rc) rc = group_answer(e, m->a, &out, &err);
  json_decref(body);
  reply(r, rc, 200, out, &err);
}

static void h_member_add(http_req *r, engine *e, const amatch *m) { member_change(r, e, m, 1); }
static void h_member_remove(http_req *r, engine *e, const amatch *m) { member_change(r, e, m, 0); }

/* --- flows' permissions, scheduled work, incidents ---------------------------------- */

static void h_permissions(http_req *r, engine *e, const amatch *m) {
  (void)m;
  fherr err = {0};
  json_t *out = NULL;
  int rc = admin_prepare(r, e, NULL, &err);
  if (!rc) rc = engine_admin_permissions(e, &out, &err);
  reply(r, rc, 200, out, &err);
}

static int limit_of(http_req *r, int *limit, fherr *err) {
  const char *s = http_param(r, "limit");
  *limit = 100;
  if (!s) return FH_OK;
  char *end;
  errno = 0;
  long v = s[0] >= '0' && s[0] <= '9' ? strtol(s, &end, 10) : -1;
  if (v < 1 || v > 500 || errno || *end) return fherr_set(err, FH_BAD_REQUEST, "limit must be an integer from 1 to 500");
  *limit = (int)v;
  return FH_OK;
}

static void h_scheduled(http_req *r, engine *e, const amatch *m) {
  (void)m;
  static const char *const params[] = {"limit", NULL};
  fherr err = {0};
  json_t *out = NULL;
  int limit = 100;
  int rc = admin_prepare(r, e, params, &err);
  if (!rc) rc = limit_of(r, &limit, &err);
  if (!rc) rc = engine_admin_scheduled(e, limit, &out, &err);
  reply(r, rc, 200, out, &err);
}

/* Tasks in ERROR of every flow, with message, traceback and attempts. */
static void h_incidents(http_req *r, engine *e, const amatch *m) {
  (void)m;
  static const char *const params[] = {"flow", "limit", "after", NULL};
  fherr err = {0};
  json_t *out = NULL;
  engine_task_query q = {.view = "all", .status = "ERROR"};
  int rc = admin_prepare(r, e, params, &err);
  if (!rc) rc = limit_of(r, &q.limit, &err);
  if (!rc) rc = http_param_id(r, "after", &q.after, &err);
  q.flow = http_param(r, "flow");
  if (!rc) rc = engine_tasks_list(e, &r->actor, &q, &out, &err);
  reply(r, rc, 200, out, &err);
}

static const aroute ROUTES[] = {
    {"GET", "users", h_users},
    {"POST", "users", h_user_create},
    {"GET", "users/*", h_user},
    {"PATCH", "users/*", h_user_patch},
    {"GET", "users/*/tokens", h_user_tokens},
    {"DELETE", "users/*/tokens/#", h_user_token_revoke},
    {"POST", "users/*/grants", h_user_grant},
    {"DELETE", "users/*/grants/*", h_user_ungrant},
    {"GET", "groups", h_groups},
    {"POST", "groups", h_group_create},
    {"GET", "groups/*", h_group},
    {"POST", "groups/*/members", h_member_add},
    {"DELETE", "groups/*/members/*", h_member_remove},
    {"POST", "groups/*/grants", h_group_grant},
    {"DELETE", "groups/*/grants/*", h_group_ungrant},
    {"GET", "permissions", h_permissions},
    {"GET", "admin/scheduled", h_scheduled},
    {"GET", "admin/incidents", h_incidents},
};

/* --- matching ------------------------------------------------------------------------ */

static int match(const char *pattern, const char *const *seg, int nseg, amatch *m) {
  *m = (amatch){NULL, NULL, 0};
  int i = 0;
  size_t n;
  for (const char *p; (p = http_pattern_next(&pattern, &n)); i++) {
    if (i >= nseg) return 0;
    if (http_segment_is(p, n, "*")) {
      if (!seg[i][0]) return 0;
      if (!m->a) m->a = seg[i];
      else m->b = seg[i];
    } else if (http_segment_is(p, n, "#")) {
      if (!http_segment_id(seg[i], &m->id)) return 0;
    } else if (!http_segment_is(p, n, seg[i])) {
      return 0;
    }
  }
  return i == nseg;
}

static void run_route(http_req *r, const aroute *rt, const amatch *m) {
  fherr err = {0};
  engine *e = http_engine(r, &err);
  if (!e) {
    http_reply_fherr(r, &err);
    return;
  }
  rt->fn(r, e, m);
  fh_actor_free(&r->actor);
  r->has_actor = 0;
}

int http_admin_route(http_req *r, const char *const *seg, int nseg) {
  if (nseg < 1 || nseg > ADMIN_SEGS) return 0;
  const char *method = !strcmp(r->method, "HEAD") ? "GET" : r->method;
  char allow[64] = "";
  for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
    amatch m;
    if (!match(ROUTES[i].pattern, seg, nseg, &m)) continue;
    if (!strcmp(ROUTES[i].method, method)) {
      run_route(r, &ROUTES[i], &m);
      return 1;
    }
    size_t used = strlen(allow);
    snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", ROUTES[i].method);
  }
  if (!allow[0]) return 0;
  snprintf(r->out_allow, sizeof r->out_allow, "%s%s", allow, strstr(allow, "GET") ? ", HEAD" : "");
  http_reply_error(r, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)", r->method, r->out_allow);
  return 1;
}

/* --- answers by role ------------------------------------------------------------------- */

/* node: the step when the engine did not name it (NULL: none). */
static void reply_flow_error(http_req *r, engine *e, const char *flow, const char *node, fherr *err) {
  if (err->code != FH_FLOW_ERROR) {
    http_reply_fherr(r, err);
    return;
  }
  fhlog(FHLOG_ERROR, "flow error on %s %s by %s: %s | %s", r->method, r->uri, r->actor.username, err->message,
        err->traceback ? err->traceback : "(no traceback)");
  if (!engine_admin_sees_details(&r->actor, flow)) {
    engine_admin_flow_error_for(e, &r->actor, flow, node, err);   /* plain message, no traceback */
    http_reply_fherr(r, err);
    return;
  }
  json_t *e2 = json_pack("{s:s, s:s}", "code", "flow_error", "message", err->message);
  if (e2 && err->traceback) json_object_set_new(e2, "traceback", json_string(err->traceback));
  json_t *named = json_object_get(err->fields, "node");
  if (e2 && (named || (node && node[0]))) json_object_set_new(e2, "node", named ? json_incref(named) : json_string(node));
  fherr_clear(err);
  http_reply_json(r, 422, e2 ? json_pack("{s:o}", "error", e2) : NULL);
}

void http_admin_reply_flow_error(http_req *r, engine *e, const char *flow, fherr *err) {
  reply_flow_error(r, e, flow, NULL, err);
}

void http_admin_reply_task_error(http_req *r, engine *e, int64_t task_id, fherr *err) {
  char flow[64] = "", node[64] = "";
  if (err->code == FH_FLOW_ERROR) engine_admin_task_flow(e, task_id, flow, node);
  reply_flow_error(r, e, flow, node, err);
}

static void redact_array(http_req *r, json_t *arr) {
  size_t i;
  json_t *t;
  json_array_foreach(arr, i, t) engine_admin_task_error_for(&r->actor, t);
}

void http_admin_redact(http_req *r, json_t *out) {
  if (!out || r->actor.is_admin) return;
  json_t *t = json_object_get(out, "task");
  if (t) engine_admin_task_error_for(&r->actor, t);
  redact_array(r, json_object_get(out, "tasks"));
  redact_array(r, json_object_get(out, "items"));
}
