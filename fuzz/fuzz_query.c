/* fuzz_query — arbitrary bytes as the values of the list parameters.
 *
 * Input: one byte picking the list (GET /api/tasks, /api/processes,
 * /api/tasks/counts, /api/flows) and the caller (alice, an admin, or bob),
 * then the values of view, status, limit, after, process, sort, since,
 * until and flow, in that order, separated by NUL bytes; a value left out
 * sends no parameter, an empty one "key=".  Each value is percent-encoded,
 * so the handler sees exactly the fuzzed bytes; a tenth segment goes as it
 * is, after the others, for http_parse_uri.  Through the embedded server:
 * http_json.c's query parsing, http_route.c's checks of limit, after,
 * process, status, view, sort, since and until, then the engine's lists.
 * Answers: 200, 400, 403 (view=all for bob, no manager), or libmicrohttpd's
 * own 414/431; a 5xx, an answer out of the contract's shape, or a page
 * longer than its limit is a bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_http_lib.h"

static const char *const LISTS[] = {"/api/tasks", "/api/processes", "/api/tasks/counts", "/api/flows"};
static const char *const KEYS[] = {"view", "status", "limit", "after", "process", "sort", "since", "until", "flow"};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

/* Tasks in every view for the lists to find. */
static void ensure_tasks(void) {
  json_t *data = json_pack("{s:s}", "text", "fuzz"), *out = NULL;
  fherr err = {0};
  for (int i = 0; i < 3; i++) {
    engine_start(fuzz_http_engine(), fuzz_http_admin(), "helloworld", "start", data, &out, &err);
    json_decref(out);
    out = NULL;
    fherr_clear(&err);
  }
  json_decref(data);
}

/* The query string: key=value for each value present, then the raw rest. */
static void build_query(char *q, size_t cap, const uint8_t *data, size_t size, long *limit) {
  size_t at = 0;
  *limit = -1;
  for (size_t k = 0; k <= NKEYS && at <= size; k++) {
    const uint8_t *end = memchr(data + at, 0, size - at);
    size_t len = end ? (size_t)(end - (data + at)) : size - at;
    if (at == size && !end) break;
    size_t used = strlen(q);
    if (k == NKEYS) {   /* the rest, unencoded */
      snprintf(q + used, cap - used, "&%.*s", (int)len, (const char *)data + at);
      break;
    }
    snprintf(q + used, cap - used, "%s%s=", used ? "&" : "", KEYS[k]);
    fuzz_percent(q, cap, data + at, len);
    if (!strcmp(KEYS[k], "limit") && len < 8) {   /* checked below, if the list was given */
      char digits[8];
      memcpy(digits, data + at, len);
      digits[len] = '\0';
      *limit = atol(digits);
    }
    at += len + 1;
    if (!end) break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  if (size < 1 || size > 8 * 1024) return 0;
  fuzz_http_begin(1000);
  if (runs++ % 1000 == 0) ensure_tasks();
  char *q = calloc(1, size * 3 + 256), *text = malloc(size * 3 + 512);
  long limit;
  if (!q || !text) {
    free(q);
    free(text);
    return 0;
  }
  build_query(q, size * 3 + 256, data + 1, size - 1, &limit);
  size_t used = (size_t)sprintf(text, "GET %s%s%s HTTP/1.1\r\nHost: f\r\nConnection: close\r\nAuthorization: Bearer %s\r\n\r\n",
                                LISTS[data[0] % 4], q[0] ? "?" : "", q, data[0] & 4 ? FUZZ_BOB_TOKEN : FUZZ_ALICE_TOKEN);
  fuzz_reply r;
  fuzz_http_send(text, used, &r);
  if (r.status != 0 && r.status != 200 && r.status != 400 && r.status != 403 && r.status != 414 && r.status != 431)
    fuzz_fail("an answer a list never gives", r.text);
  if (r.status == 200 && data[0] % 4 < 2 && limit >= 1) {
    json_t *v = json_loadb(r.body, r.body_len, 0, NULL);
    if ((long)json_array_size(json_object_get(v, "items")) > limit) fuzz_fail("a page longer than its limit", r.text);
    json_decref(v);
  }
  free(q);
  free(text);
  fuzz_reply_free(&r);
  return 0;
}
