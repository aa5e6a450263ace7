/* fuzz_body — arbitrary bytes as the body of every route that takes one.
 *
 * Input: one byte picking the route, one picking the Content-Type (and
 * whether the body goes chunked, in 7-byte chunks with chunk extensions
 * and a trailer), then the body.  Routes: start helloworld, execute,
 * reassign, unassign and assign a task, cancel a process, send a message,
 * a signal, sign in, sign out (with alice's session and CSRF token).  The
 * task is the approve task of a fresh helloworld process, taken by alice.
 * Through the embedded server: libmicrohttpd (lengths, chunks), http.c's
 * body reading (the 1 MiB limit), the real body checker http_body_object
 * (Content-Type, JSON object, allowed keys), the handlers' checks and the
 * engine.  A 5xx or an answer out of the contract's shape is a bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_http_lib.h"

enum { START, EXECUTE, REASSIGN, UNASSIGN, ASSIGN, CANCEL, MESSAGE, SIGNAL, LOGIN, LOGOUT, NROUTES };
static const char *const TYPES[] = {"application/json", "application/json; charset=utf-8", "text/plain", NULL,
                                    "APPLICATION/JSON", "application/jsonx", "application/json;", "multipart/form-data"};

/* A fresh helloworld process; *task its approve task, taken by alice. */
static int64_t fresh_process(int64_t *task) {
  engine *e = fuzz_http_engine();
  json_t *data = json_pack("{s:s}", "text", "fuzz"), *out = NULL;
  fherr err = {0};
  if (engine_start(e, fuzz_http_admin(), "helloworld", "start", data, &out, &err)) fuzz_fail("start", err.message);
  json_decref(data);
  int64_t pid = json_integer_value(json_object_get(json_object_get(out, "process"), "id"));
  size_t i;
  json_t *t;
  *task = 0;
  json_array_foreach(json_object_get(out, "tasks"), i, t) {
    if (!strcmp(json_string_value(json_object_get(t, "node")), "approve")) *task = json_integer_value(json_object_get(t, "id"));
  }
  json_decref(out);
  out = NULL;
  if (!*task || engine_task_action(e, fuzz_http_admin(), *task, "assign", NULL, &out, &err)) fuzz_fail("assign", err.message);
  json_decref(out);
  return pid;
}

static void request_line(char *text, int route, int64_t pid, int64_t task) {
  static const char *const actions[] = {[EXECUTE] = "execute", [REASSIGN] = "reassign", [UNASSIGN] = "unassign",
                                        [ASSIGN] = "assign"};
  switch (route) {
  case START: sprintf(text, "POST /api/flows/helloworld/start/start"); break;
  case CANCEL: sprintf(text, "POST /api/processes/%lld/cancel", (long long)pid); break;
  case MESSAGE: sprintf(text, "POST /api/messages/payment"); break;
  case SIGNAL: sprintf(text, "POST /api/signals/bell"); break;
  case LOGIN: sprintf(text, "POST /api/session"); break;
  case LOGOUT: sprintf(text, "DELETE /api/session"); break;
  default: sprintf(text, "POST /api/tasks/%lld/%s", (long long)task, actions[route]);
  }
}

/* The body in 7-byte chunks, every other one with an extension, and a trailer. */
static size_t chunked(char *out, const uint8_t *body, size_t n) {
  size_t used = 0;
  for (size_t at = 0, k = 0; at < n; at += 7, k++) {
    size_t len = n - at < 7 ? n - at : 7;
    used += (size_t)sprintf(out + used, "%zx%s\r\n", len, k % 2 ? ";ext=\"v\"" : "");
    memcpy(out + used, body + at, len);
    used += len;
    memcpy(out + used, "\r\n", 2);
    used += 2;
  }
  return used + (size_t)sprintf(out + used, "0\r\nX-Trailer: t\r\n\r\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > 256 * 1024) return 0;
  fuzz_http_begin(300);
  int route = data[0] % NROUTES, is_chunked = data[1] & 8;
  const char *type = TYPES[data[1] % 8];
  int64_t task = 0, pid = route == START || route >= MESSAGE ? 0 : fresh_process(&task);
  const uint8_t *body = data + 2;
  size_t n = size - 2;
  char *text = malloc(n * 3 + 1024);
  if (!text) return 0;
  request_line(text, route, pid, task);
  size_t used = strlen(text);
  used += (size_t)sprintf(text + used, " HTTP/1.1\r\nHost: f\r\nConnection: close\r\n");
  if (route == LOGOUT)
    used += (size_t)sprintf(text + used, "Cookie: flowhost_session=" FUZZ_SESSION "\r\nX-CSRF-Token: " FUZZ_CSRF "\r\n");
  else if (route != LOGIN)
    used += (size_t)sprintf(text + used, "Authorization: Bearer " FUZZ_ALICE_TOKEN "\r\n");
  if (type) used += (size_t)sprintf(text + used, "Content-Type: %s\r\n", type);
  if (is_chunked) {
    used += (size_t)sprintf(text + used, "Transfer-Encoding: chunked\r\n\r\n");
    used += chunked(text + used, body, n);
  } else {
    used += (size_t)sprintf(text + used, "Content-Length: %zu\r\n\r\n", n);
    memcpy(text + used, body, n);
    used += n;
  }
  fuzz_reply r;
  fuzz_http_send(text, used, &r);
  free(text);
  int s = r.status;
  if (s && s != 200 && s != 201 && s != 400 && s != 401 && s != 403 && s != 404 && s != 409 && s != 413 &&
      s != 422 && s != 429)
    fuzz_fail("an answer a body never gets", r.text);
  /* a body that is not blank is taken only as application/json */
  int blank = 1, json_type = type && (data[1] % 8 == 0 || data[1] % 8 == 1 || data[1] % 8 == 4 || data[1] % 8 == 6);
  for (size_t i = 0; i < n && blank; i++) blank = strchr(" \t\r\n", body[i]) && body[i];
  if ((s == 200 || s == 201) && !blank && !json_type) fuzz_fail("a body taken that is not sent as JSON", r.text);
  fuzz_reply_free(&r);
  return 0;
}
