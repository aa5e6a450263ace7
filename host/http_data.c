/* http_data — the HTTP side of process data beyond the data itself: the
 * data.<field> search parameters of the lists, comments on processes and
 * tasks, and a process's audit (http-api.md, "Search, comments, audit").
 *
 * Same order of checks as http_route.c: authentication (401/403 CSRF),
 * query parameters, body (400), then the engine's answer.
 */
#include <string.h>

#include "http_internal.h"

int http_data_params(http_req *r, json_t **out, fherr *err) {
  *out = NULL;
  for (int i = 0; i < r->nparams; i++) {
    const char *k = r->params[i].key;
    if (strncmp(k, "data.", 5)) continue;
    if (!k[5] || strlen(k + 5) > 64) {
      json_decref(*out);
      *out = NULL;
      return fherr_set(err, FH_BAD_REQUEST, "'%.70s' must be data.<field> with a field name", k);
    }
    if (!*out) *out = json_object();
    json_object_set_new(*out, k + 5, json_string(r->params[i].value ? r->params[i].value : ""));
  }
  return FH_OK;
}

static void reply(http_req *r, int rc, int status, json_t *out, fherr *err) {
  if (rc) {
    json_decref(out);
    http_reply_fherr(r, err);
  } else {
    http_reply_json(r, status, out);
  }
}

void http_data_comments(http_req *r, engine *e, int64_t process_id, int64_t task_id) {
  static const char *const fields[] = {"text", NULL};
  fherr err = {0};
  json_t *out = NULL, *body = NULL;
  int post = !strcmp(r->method, "POST"), began = 0;
  /* a GET reads one snapshot, its sign-in included (engine_read_begin) */
  int rc = post ? FH_OK : engine_read_begin(e, &began, &err);
  if (!rc) rc = http_authenticate(r, e, &err);
  if (!rc) rc = http_params_check(r, NULL, &err);
  if (!rc && post) rc = http_body_object(r, fields, &body, &err);
  if (!rc && post && !json_object_get(body, "text"))
    rc = fherr_set(&err, FH_BAD_REQUEST, "a comment needs {\"text\": \"...\"}");
  if (!rc && post) rc = engine_comment_add(e, &r->actor, process_id, task_id, json_object_get(body, "text"), &out, &err);
  else if (!rc) rc = engine_comments_list(e, &r->actor, process_id, task_id, &out, &err);
  engine_read_end(e, began);
  json_decref(body);
  reply(r, rc, post ? 201 : 200, out, &err);
}

void http_data_audit(http_req *r, engine *e, int64_t process_id) {
  fherr err = {0};
  json_t *out = NULL;
  int began = 0;
  int rc = engine_read_begin(e, &began, &err);
  if (!rc) rc = http_authenticate(r, e, &err);
  if (!rc) rc = http_params_check(r, NULL, &err);
  if (!rc) rc = engine_audit_list(e, &r->actor, process_id, &out, &err);
  engine_read_end(e, began);
  reply(r, rc, 200, out, &err);
}
