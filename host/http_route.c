/* http_route — the routes of /api (http-api.md): matching, then for each
 * one authentication, query and body checks, and the engine call.
 *
 * Conventions of this layer (documented in http-api.md's terms):
 *  - an id segment that is not a positive integer matches no route: 404;
 *  - a known path with a method it does not take: 405 method_not_allowed
 *    (same error shape) with an Allow header; HEAD is answered as GET;
 *  - checks run in this order: route (404/405), authentication (401, and
 *    403 for a missing CSRF token), query parameters (400), body (400),
 *    then the engine's own answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_hosts.h"
#include "engine_versions.h"
#include "fhtime.h"
#include "http_internal.h"
#include "http_admin.h"

#define MAX_SEGS 8
/* the longest ttl of a kept message: ten years, so its expiry stays a
 * four-digit-year timestamp */
#define HTTP_MESSAGE_TTL_MAX (10 * 365 * 86400)

typedef struct match {
  const char *seg[MAX_SEGS];   /* into a copy of the path */
  int nseg;
  int64_t id;                  /* the {id} segment */
  const char *name;            /* the {flow} or {event} segment */
  const char *name2;           /* the {node} or {action} segment */
} match;

typedef void (*handler)(http_req *r, engine *e, const match *m);

typedef struct route {
  const char *method;
  const char *pattern;   /* segments after /api; {id} integer, {flow} {node} names, {action} a task action,
                            {event} any non-empty segment (the engine checks message and signal names) */
  handler fn;
} route;

static const char *const TASK_ACTIONS[] = {"assign", "unassign", "reassign", "execute", "cancel", "undo", "revive", NULL};
static const char *const TASK_STATUSES[] = {"NEW", "ASSIGNED", "STARTED", "SCHEDULED", "DONE",
                                            "CANCELED", "ERROR", "REVIVED", NULL};
static const char *const PROCESS_STATUSES[] = {"NEW", "STARTED", "DONE", "CANCELED", NULL};

static int in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(*list, s)) return 1;
  return 0;
}

/* --- parameter helpers ---------------------------------------------------------- */

static int param_limit(http_req *r, int *limit, fherr *err) {
  *limit = 0;
  const char *s = http_param(r, "limit");
  if (!s) return FH_OK;
  char *end;
  errno = 0;
  long v = s[0] >= '0' && s[0] <= '9' ? strtol(s, &end, 10) : -1;
  if (v < 1 || v > 500 || errno || *end) return fherr_set(err, FH_BAD_REQUEST, "limit must be an integer from 1 to 500");
  *limit = (int)v;
  return FH_OK;
}

static int param_status(http_req *r, const char *const *allowed, const char **out, fherr *err) {
  *out = http_param(r, "status");
  if (*out && !in_list(*out, allowed)) return fherr_set(err, FH_BAD_REQUEST, "unknown status '%.32s'", *out);
  return FH_OK;
}

/* since/until: ISO dates or timestamps, normalized to the stored form.
 * A plain date as `until` includes that whole day. */
static int param_time(http_req *r, const char *key, int end_of_day, char out[FH_TIME_LEN], int *have, fherr *err) {
  *have = 0;
  const char *s = http_param(r, key);
  if (!s) return FH_OK;
  double t = strlen(s) <= 40 ? fhtime_parse(s) : -1;
  /* a real calendar date and clock time: read back, it must say what was
   * sent (2024-02-30 would be March 1st, 24:00 the next day) */
  char back[FH_TIME_LEN];
  fhtime_format(t, back);
  size_t n = strlen(s) == 10 ? 10 : 19;
  if (t < 0 || strncmp(back, s, n))
    return fherr_set(err, FH_BAD_REQUEST, "%s must be an ISO date (YYYY-MM-DD) or timestamp", key);
  if (end_of_day && strlen(s) == 10) t += 86400;
  fhtime_format(t, out);
  *have = 1;
  return FH_OK;
}

/* The request's actor, after the checks every route needs. */
static int prepare(http_req *r, engine *e, const char *const *params, fherr *err) {
  int rc = http_authenticate(r, e, err);
  return rc ? rc : http_params_check(r, params, err);
}

/* prepare() for a handler that only reads: the sign-in and what the handler
 * reads come from one snapshot, which it ends with engine_read_end(e, *began)
 * (engine.h: on SQLite the WAL read lock once a request). */
static int prepare_read(http_req *r, engine *e, const char *const *params, int *began, fherr *err) {
  int rc = engine_read_begin(e, began, err);
  return rc ? rc : prepare(r, e, params, err);
}

static void answer(http_req *r, int rc, int status, json_t *out, fherr *err) {
  if (rc) {
    json_decref(out);
    http_reply_fherr(r, err);
  } else {
    http_reply_json(r, status, out);
  }
}

/* --- handlers ------------------------------------------------------------------- */

/* 200 whatever the state: "status" says "degraded" when the database
 * does not take writes (http-api.md, Operations). */
static void reply_health(http_req *r, const identity_db_state *dbs) {
  identity_db_state db = *dbs;
  flowgen *gen = flowreg_acquire(r->srv->opt.flows);
  int n = gen ? gen->n : 0;
  int errors = gen ? flowgen_count_errors(gen) : 0;
  if (gen) flowgen_release(r->srv->opt.flows, gen);
  int ok = !strcmp(db.state, "ok");
  json_t *out = json_pack("{s:s, s:i, s:i, s:s}", "status", ok ? "ok" : "degraded", "flows", n, "flow_errors",
                          errors, "db", db.state);
  if (out) {
    json_object_set_new(out, "db_free_bytes", db.free_bytes >= 0 ? json_integer(db.free_bytes) : json_null());
    if (!ok) json_object_set_new(out, "db_detail", json_string(db.detail));
  }
  http_reply_json(r, 200, out);
}

static void h_health(http_req *r, engine *e, const match *m) {
  (void)m;
  fherr err = {0};
  if (http_params_check(r, NULL, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  identity_db_state db;
  http_db_state(r, e, &db);
  reply_health(r, &db);
}

/* The health of a host whose thread could open no engine (the database
 * server is away): still 200, "degraded", with why. */
static void health_without_engine(http_req *r, fherr *why) {
  fherr err = {0};
  if (http_params_check(r, NULL, &err)) {
    http_reply_fherr(r, &err);
  } else {
    identity_db_state db;
    identity_db_unopened(r->srv->db_path, why, &db);
    reply_health(r, &db);
  }
  fherr_clear(why);
}

static void h_flows(http_req *r, engine *e, const match *m) {
  (void)m;
  fherr err = {0};
  json_t *out = NULL;
  int began = 0;
  int rc = prepare_read(r, e, NULL, &began, &err);
  if (!rc) rc = engine_flows_list(e, &r->actor, &out, &err);
  if (!rc) engine_versions_decorate_flows(e, out);
  if (!rc) engine_hosts_decorate_flows(e, &r->actor, out);
  engine_read_end(e, began);
  answer(r, rc, 200, out, &err);
}

static void h_flow(http_req *r, engine *e, const match *m) {
  fherr err = {0};
  json_t *out = NULL;
  int began = 0;
  int rc = prepare_read(r, e, NULL, &began, &err);
  if (!rc) rc = engine_flow_get(e, &r->actor, m->name, &out, &err);
  engine_read_end(e, began);
  answer(r, rc, 200, out, &err);
}

static void h_flow_versions(http_req *r, engine *e, const match *m) {
  fherr err = {0};
  json_t *out = NULL;
  int began = 0;
  int rc = prepare_read(r, e, NULL, &began, &err);
  if (!rc) rc = engine_versions_list(e, m->name, &out, &err);
  engine_read_end(e, began);
  answer(r, rc, 200, out, &err);
}

static void h_graph(http_req *r, engine *e, const match *m) {
  fherr err = {0};
  char *svg = NULL;
  size_t len = 0;
  int rc = prepare(r, e, NULL, &err);
  if (!rc) rc = http_flow_svg(r, e, m->name, &svg, &len, &err);
  if (rc) http_reply_fherr(r, &err);
  else http_reply_raw(r, 200, "image/svg+xml", svg, len);
}

/* {"data": object|null} -> the data object (borrowed from body) or NULL. */
static int data_of(json_t *body, json_t **data, fherr *err) {
  *data = json_object_get(body, "data");
  if (*data && !json_is_object(*data) && !json_is_null(*data))
    return fherr_set(err, FH_BAD_REQUEST, "\"data\" must be an object");
  if (*data && json_is_null(*data)) *data = NULL;
  return FH_OK;
}

static void h_start(http_req *r, engine *e, const match *m) {
  static const char *const fields[] = {"data", NULL};
  fherr err = {0};
  json_t *body = NULL, *out = NULL, *data = NULL;
  int rc = prepare(r, e, NULL, &err);
  if (!rc) rc = http_body_object(r, fields, &body, &err);
  if (!rc) rc = data_of(body, &data, &err);
  if (!rc) rc = engine_start(e, &r->actor, m->name, m->name2, data, &out, &err);
  json_decref(body);
  if (rc == FH_FLOW_ERROR) http_admin_reply_flow_error(r, e, m->name, &err);   /* by role */
  else answer(r, rc, 201, out, &err);
}

static void h_processes(http_req *r, engine *e, const match *m) {
  (void)m;
  static const char *const params[] = {"flow", "status", "limit", "after", "parent", "data.*", NULL};
  fherr err = {0};
  json_t *out = NULL, *data = NULL;
  engine_process_query q = {.flow = NULL};
  int began = 0;
  int rc = prepare_read(r, e, params, &began, &err);
  if (!rc) rc = http_data_params(r, &data, &err);
  q.data = data;
  if (!rc) rc = param_limit(r, &q.limit, &err);
  if (!rc) rc = http_param_id(r, "after", &q.after, &err);
  if (!rc) rc = http_param_id(r, "parent", &q.parent, &err);
  if (!rc) rc = param_status(r, PROCESS_STATUSES, &q.status, &err);
  q.flow = http_param(r, "flow");
  char *text = NULL;   /* written as text in one pass, as the task lists */
  size_t len = 0;
  if (!rc) rc = engine_processes_list_text(e, &r->actor, &q, &text, &len, &err);
  engine_read_end(e, began);
  json_decref(data);
  if (rc) answer(r, rc, 200, out, &err);
  else http_reply_raw(r, 200, "application/json", text, len);
}

static void h_process(http_req *r, engine *e, const match *m) {
  fherr err = {0};
  json_t *out = NULL;
  int began = 0;
  int rc = prepare_read(r, e, NULL, &began, &err);
  if (!rc) rc = engine_process_get(e, &r->actor, m->id, &out, &err);
  if (!rc) engine_versions_decorate_process(e, out);
  engine_read_end(e, began);
  if (!rc) http_admin_redact(r, out);
  answer(r, rc, 200, out, &err);
}

static void h_process_cancel(http_req *r, engine *e, const match *m) {
  fherr err = {0};
  json_t *out = NULL, *body = NULL;
  int rc = prepare(r, e, NULL, &err);
  if (!rc) rc = http_body_object(r, NULL, &body, &err);
  if (!rc) rc = engine_process_cancel(e, &r->actor, m->id, &out, &err);
  json_decref(body);
  answer(r, rc, 200, out, &err);
}

static void h_tasks(http_req *r, engine *e, const match *m) {
  (void)m;
  static const char *const params[] = {"view", "flow", "process", "status", "limit", "after",
                                       "sort", "since", "until", "finished_since", "finished_until", "data.*", NULL};
  fherr err = {0};
  json_t *out = NULL, *data = NULL;
  engine_task_query q = {.view = NULL};
  char since[FH_TIME_LEN], until[FH_TIME_LEN], fsince[FH_TIME_LEN], funtil[FH_TIME_LEN];
  int have_since = 0, have_until = 0, have_fsince = 0, have_funtil = 0;
  int began = 0;
  int rc = prepare_read(r, e, params, &began, &err);
  if (!rc) rc = param_limit(r, &q.limit, &err);
  if (!rc) rc = http_param_id(r, "after", &q.after, &err);
  if (!rc) rc = http_param_id(r, "process", &q.process_id, &err);
  if (!rc) rc = param_status(r, TASK_STATUSES, &q.status, &err);
  if (!rc) rc = param_time(r, "since", 0, since, &have_since, &err);
  if (!rc) rc = param_time(r, "until", 1, until, &have_until, &err);
  if (!rc) rc = param_time(r, "finished_since", 0, fsince, &have_fsince, &err);
  if (!rc) rc = param_time(r, "finished_until", 1, funtil, &have_funtil, &err);
  if (!rc) rc = http_data_params(r, &data, &err);
  q.data = data;
  if (!rc) {
    const char *view = http_param(r, "view"), *sort = http_param(r, "sort");
    static const char *const views[] = {"inbox", "queue", "archive", "all", NULL};
    if (view && !in_list(view, views)) rc = fherr_set(&err, FH_BAD_REQUEST, "view must be inbox, queue, archive or all");
    else if (sort && strcmp(sort, "created_at") && strcmp(sort, "-created_at") && strcmp(sort, "due_at") &&
             strcmp(sort, "finished_at") && strcmp(sort, "-finished_at"))
      rc = fherr_set(&err, FH_BAD_REQUEST, "sort must be created_at, -created_at, due_at, finished_at or -finished_at");
    q.view = view ? view : "inbox";
    q.ascending = sort && (!strcmp(sort, "created_at") || !strcmp(sort, "finished_at"));
    q.by_due = sort && !strcmp(sort, "due_at");
    q.by_finished = sort && strstr(sort, "finished_at") != NULL;
  }
  q.flow = http_param(r, "flow");
  q.since = have_since ? since : NULL;
  q.until = have_until ? until : NULL;
  q.finished_since = have_fsince ? fsince : NULL;
  q.finished_until = have_funtil ? funtil : NULL;
  /* written as text in one pass, errors hidden as http_admin_redact() does */
  char *text = NULL;
  size_t len = 0;
  if (!rc) rc = engine_tasks_list_text(e, &r->actor, &q, !r->actor.is_admin, &text, &len, &err);
  engine_read_end(e, began);
  json_decref(data);
  if (rc) answer(r, rc, 200, out, &err);
  else http_reply_raw(r, 200, "application/json", text, len);
}

static void h_task_counts(http_req *r, engine *e, const match *m) {
  (void)m;
  fherr err = {0};
  json_t *out = NULL;
  int began = 0;
  int rc = prepare_read(r, e, NULL, &began, &err);
  if (!rc) rc = engine_tasks_counts(e, &r->actor, &out, &err);
  engine_read_end(e, began);
  answer(r, rc, 200, out, &err);
}

static void h_task(http_req *r, engine *e, const match *m) {
  fherr err = {0};
  json_t *out = NULL;
  int began = 0;
  int rc = prepare_read(r, e, NULL, &began, &err);
  if (!rc) rc = engine_task_get(e, &r->actor, m->id, &out, &err);
  engine_read_end(e, began);
  if (!rc) http_admin_redact(r, out);
  answer(r, rc, 200, out, &err);
}

static void h_task_action(http_req *r, engine *e, const match *m) {
  static const char *const with_user[] = {"user", NULL};
  static const char *const with_data[] = {"data", "comment", NULL};
  const char *action = m->name2;
  const char *const *fields = !strcmp(action, "reassign") ? with_user : !strcmp(action, "execute") ? with_data : NULL;
  fherr err = {0};
  json_t *out = NULL, *body = NULL, *data = NULL;
  int rc = prepare(r, e, NULL, &err);
  if (!rc) rc = http_body_object(r, fields, &body, &err);
  if (!rc && !strcmp(action, "reassign") && !json_is_string(json_object_get(body, "user")))
    rc = fherr_set(&err, FH_BAD_REQUEST, "reassign needs {\"user\": \"name\"}");
  if (!rc && !strcmp(action, "execute")) rc = data_of(body, &data, &err);
  if (!rc && !strcmp(action, "execute") && !data) json_object_del(body, "data");
  if (!rc) rc = engine_task_action(e, &r->actor, m->id, action, body, &out, &err);
  json_decref(body);
  if (!rc) http_admin_redact(r, out);
  if (rc == FH_FLOW_ERROR) http_admin_reply_task_error(r, e, m->id, &err);   /* by role */
  else answer(r, rc, 200, out, &err);
}

/* A message's correlation key: a non-empty string as is, an integer as its
 * decimal text into buf (so 17 and "17" are the same key). */
static int key_of(json_t *body, char *buf, size_t size, const char **key, fherr *err) {
  json_t *k = json_object_get(body, "key");
  *key = NULL;
  if (json_is_integer(k)) {
    snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
    *key = buf;
  } else if (json_is_string(k) && json_string_length(k) > 0) {
    *key = json_string_value(k);
  } else {
    return fherr_set(err, FH_BAD_REQUEST, "\"key\" must be a non-empty string or an integer");
  }
  return FH_OK;
}

/* Seconds a message nobody waits for is kept: absent (0, the host's
 * default) or a number > 0, at most HTTP_MESSAGE_TTL_MAX. */
static int ttl_of(json_t *body, double *ttl, fherr *err) {
  json_t *t = json_object_get(body, "ttl");
  *ttl = 0;
  if (!t) return FH_OK;
  double v = json_is_number(t) ? json_number_value(t) : -1;
  if (!(v > 0) || v > HTTP_MESSAGE_TTL_MAX)
    return fherr_set(err, FH_BAD_REQUEST, "\"ttl\" must be a number of seconds > 0 (at most %d)", HTTP_MESSAGE_TTL_MAX);
  *ttl = v;
  return FH_OK;
}

/* POST /api/messages/{name} {"key", "data"?, "ttl"?} and
 * POST /api/signals/{name} {"data"?}: the engine's answer as is. */
static void h_send(http_req *r, engine *e, const match *m, int signal) {
  static const char *const message_fields[] = {"key", "data", "ttl", NULL};
  static const char *const signal_fields[] = {"data", NULL};
  fherr err = {0};
  json_t *body = NULL, *out = NULL, *data = NULL;
  char digits[32];
  engine_send_args args = {.signal = signal, .name = m->name};
  int rc = prepare(r, e, NULL, &err);
  if (!rc) rc = http_body_object(r, signal ? signal_fields : message_fields, &body, &err);
  if (!rc && !signal) rc = key_of(body, digits, sizeof digits, &args.key, &err);
  if (!rc) rc = data_of(body, &data, &err);
  if (!rc && !signal) rc = ttl_of(body, &args.ttl, &err);
  args.data = data;
  if (!rc) rc = engine_send(e, &r->actor, &args, &out, &err);
  json_decref(body);
  answer(r, rc, 200, out, &err);
}

static void h_message(http_req *r, engine *e, const match *m) { h_send(r, e, m, 0); }
static void h_signal(http_req *r, engine *e, const match *m) { h_send(r, e, m, 1); }

/* External workers (http_external.c). */
static void h_external_fetch(http_req *r, engine *e, const match *m) { http_external(r, e, "fetch", m->id); }
static void h_external_complete(http_req *r, engine *e, const match *m) { http_external(r, e, "complete", m->id); }
static void h_external_fail(http_req *r, engine *e, const match *m) { http_external(r, e, "fail", m->id); }
static void h_external_extend(http_req *r, engine *e, const match *m) { http_external(r, e, "extend", m->id); }

static void h_session(http_req *r, engine *e, const match *m) {
  (void)e;
  (void)m;
  if (!strcmp(r->method, "POST")) http_session_login(r);
  else if (!strcmp(r->method, "DELETE")) http_session_logout(r);
  else http_session_get(r);
}

static void h_openapi(http_req *r, engine *e, const match *m) {
  (void)e;
  (void)m;
  http_openapi(r);
}
static void h_process_comments(http_req *r, engine *e, const match *m) { http_data_comments(r, e, m->id, 0); }
static void h_task_comments(http_req *r, engine *e, const match *m) { http_data_comments(r, e, 0, m->id); }
static void h_process_audit(http_req *r, engine *e, const match *m) { http_data_audit(r, e, m->id); }

static const route ROUTES[] = {
    {"GET", "health", h_health},
    {"GET", "session", h_session},
    {"POST", "session", h_session},
    {"DELETE", "session", h_session},
    {"GET", "flows", h_flows},
    {"GET", "flows/{flow}", h_flow},
    {"GET", "flows/{flow}/graph.svg", h_graph},
    {"GET", "flows/{flow}/versions", h_flow_versions},
    {"POST", "flows/{flow}/start/{node}", h_start},
    {"GET", "processes", h_processes},
    {"GET", "processes/{id}", h_process},
    {"POST", "processes/{id}/cancel", h_process_cancel},
    {"GET", "tasks", h_tasks},
    {"GET", "tasks/counts", h_task_counts},
    {"GET", "tasks/{id}", h_task},
    {"POST", "tasks/{id}/{action}", h_task_action},
    {"POST", "messages/{event}", h_message},
    {"POST", "signals/{event}", h_signal},
    {"GET", "openapi.json", h_openapi},
    {"POST", "external/fetch", h_external_fetch},
    {"POST", "external/{id}/complete", h_external_complete},
    {"POST", "external/{id}/fail", h_external_fail},
    {"POST", "external/{id}/extend", h_external_extend},
    {"GET", "processes/{id}/comments", h_process_comments},
    {"POST", "processes/{id}/comments", h_process_comments},
    {"GET", "tasks/{id}/comments", h_task_comments},
    {"POST", "tasks/{id}/comments", h_task_comments},
    {"GET", "processes/{id}/audit", h_process_audit},
};

/* --- matching ---------------------------------------------------------------------- */

int http_segment_id(const char *s, int64_t *out) {
  if (!s[0] || s[0] < '1' || s[0] > '9' || strlen(s) > 18) return 0;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  *out = strtoll(s, NULL, 10);
  return 1;
}

static int is_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 63) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

static int match_route(const route *rt, const match *path, match *m) {
  const char *pattern = rt->pattern;
  *m = *path;
  int i = 0;
  size_t n;
  for (const char *p; (p = http_pattern_next(&pattern, &n)); i++) {
    if (i >= path->nseg) return 0;
    const char *s = path->seg[i];
    if (http_segment_is(p, n, "{id}")) {
      if (!http_segment_id(s, &m->id)) return 0;
    } else if (http_segment_is(p, n, "{flow}")) {
      if (!is_name(s)) return 0;
      m->name = s;
    } else if (http_segment_is(p, n, "{node}")) {
      if (!is_name(s)) return 0;
      m->name2 = s;
    } else if (http_segment_is(p, n, "{event}")) {
      if (!s[0]) return 0;
      m->name = s;
    } else if (http_segment_is(p, n, "{action}")) {
      if (!in_list(s, TASK_ACTIONS)) return 0;
      m->name2 = s;
    } else if (!http_segment_is(p, n, s)) {
      return 0;
    }
  }
  return i == path->nseg;
}

void http_route_api(http_req *r) {
  char copy[512];
  if (strlen(r->path) >= sizeof copy) {
    http_reply_error(r, 404, "not_found", "no such route");
    return;
  }
  snprintf(copy, sizeof copy, "%s", r->path + 4);   /* after "/api" */
  match path = {.nseg = 0};
  /* Split on '/', keeping empty segments so "/api/tasks/" is not "/api/tasks". */
  char *s = copy;
  if (*s == '/') s++;
  else if (*s) {
    http_reply_error(r, 404, "not_found", "no such route");
    return;
  }
  while (s) {
    char *slash = strchr(s, '/');
    if (slash) *slash = '\0';
    if (path.nseg == MAX_SEGS) {
      http_reply_error(r, 404, "not_found", "no such route");
      return;
    }
    path.seg[path.nseg++] = s;
    s = slash ? slash + 1 : NULL;
  }
  if (http_admin_route(r, path.seg, path.nseg)) return;   /* users, groups, ... (http_admin.c) */
  const char *method = !strcmp(r->method, "HEAD") ? "GET" : r->method;
  char allow[64] = "";
  for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
    match m;
    if (!match_route(&ROUTES[i], &path, &m)) continue;
    if (strcmp(ROUTES[i].method, method)) {
      size_t used = strlen(allow);
      snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", ROUTES[i].method);
      continue;
    }
    http_metrics_route(r, ROUTES[i].method, "/api/", ROUTES[i].pattern);
    fherr err = {0};
    engine *e = http_engine(r, &err);
    if (!e && ROUTES[i].fn == h_health) {
      health_without_engine(r, &err);
      return;
    }
    if (!e) {
      http_reply_fherr(r, &err);
      return;
    }
    ROUTES[i].fn(r, e, &m);
    fh_actor_free(&r->actor);
    r->has_actor = 0;
    return;
  }
  if (allow[0]) {
    snprintf(r->out_allow, sizeof r->out_allow, "%s%s", allow, strstr(allow, "GET") ? ", HEAD" : "");
    http_reply_error(r, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)", r->method, r->out_allow);
    return;
  }
  http_reply_error(r, 404, "not_found", "no such route: %.200s", r->path);
}
