/* http_external — the routes of external workers (http-api.md, "External
 * tasks"): POST /api/external/fetch and POST /api/external/{id}/complete,
 * /fail, /extend.  Each checks authentication, that there is no query and
 * that the body is a JSON object of known keys, then hands the body to the
 * engine (engine_external.c), which checks every field, and sends its
 * answer as is.
 */
#include <string.h>

#include "http_internal.h"

/* The keys each call takes (the engine checks them again, for the Lua module). */
static const char *const *keys_of(const char *verb) {
  static const char *const fetch[] = {"worker", "topics", "max", "lease", NULL};
  static const char *const complete[] = {"worker", "data", NULL};
  static const char *const fail[] = {"worker", "message", "retry_in", NULL};
  static const char *const extend[] = {"worker", "lease", NULL};
  return !strcmp(verb, "fetch") ? fetch : !strcmp(verb, "complete") ? complete : !strcmp(verb, "fail") ? fail : extend;
}

void http_external(http_req *r, engine *e, const char *verb, int64_t id) {
  fherr err = {0};
  json_t *body = NULL, *out = NULL;
  int rc = http_authenticate(r, e, &err);
  if (!rc) rc = http_params_check(r, NULL, &err);
  if (!rc) rc = http_body_object(r, keys_of(verb), &body, &err);
  if (!rc) rc = engine_external(e, &r->actor, verb, id, body, &out, &err);
  json_decref(body);
  if (rc) {
    json_decref(out);
    http_reply_fherr(r, &err);
  } else {
    http_reply_json(r, 200, out);
  }
}
