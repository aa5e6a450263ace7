/* fuzz_auth — arbitrary bytes as the Cookie, Authorization and
 * X-CSRF-Token headers of a request.
 *
 * Input: one byte picking the request (GET/DELETE /api/session, GET
 * /api/tasks, GET /api/tasks/counts, POST /api/tasks/1/assign, POST
 * /api/processes/1/cancel), then up to three header values separated by
 * NUL bytes, in that order; a value left out or empty sends no header.  Values go in as they are, CR and LF included, so a
 * value may also end its header and start others.  Through the embedded
 * server: libmicrohttpd parses the headers and cookies, http_auth.c takes
 * a bearer token or the session cookie (alice's FUZZ_SESSION and its
 * FUZZ_CSRF, tokens FUZZ_ALICE_TOKEN and FUZZ_BOB_TOKEN are valid), checks
 * the CSRF token on writes, and the route answers.  A 5xx or an answer out
 * of the contract's shape is a bug; so is a write accepted with a cookie
 * but without the right CSRF token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_http_lib.h"

static const char *const REQUESTS[][2] = {
    {"GET", "/api/session"},   {"DELETE", "/api/session"},        {"GET", "/api/tasks"},
    {"GET", "/api/tasks/counts"}, {"POST", "/api/tasks/1/assign"}, {"POST", "/api/processes/1/cancel"},
};
#define NREQUESTS (sizeof REQUESTS / sizeof REQUESTS[0])
static const char *const HEADERS[] = {"Cookie", "Authorization", "X-CSRF-Token"};

/* Appends "Name: value\r\n" for each value present; returns the length. */
static size_t add_headers(char *text, size_t used, const uint8_t *data, size_t size, const uint8_t **csrf,
                          size_t *csrf_len) {
  size_t at = 0;
  *csrf = NULL;
  for (int h = 0; h < 3 && at <= size; h++) {
    const uint8_t *end = memchr(data + at, 0, size - at);
    size_t len = end ? (size_t)(end - (data + at)) : size - at;
    if (at == size && !end) break;   /* no more values */
    if (len == 0) {                   /* left out: no header */
      at++;
      if (!end) break;
      continue;
    }
    used += (size_t)sprintf(text + used, "%s: ", HEADERS[h]);
    memcpy(text + used, data + at, len);
    used += len;
    memcpy(text + used, "\r\n", 2);
    used += 2;
    if (h == 2) {
      *csrf = data + at;
      *csrf_len = len;
    }
    at += len + 1;
    if (!end) break;
  }
  return used;
}

/* Does data hold word, in any case? */
static int holds(const uint8_t *data, size_t size, const char *word) {
  size_t n = strlen(word);
  for (size_t i = 0; i + n <= size; i++) {
    size_t j = 0;
    while (j < n && (data[i + j] | 0x20) == word[j]) j++;
    if (j == n) return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  fuzz_http_begin(1000);
  const char *const *rq = REQUESTS[data[0] % NREQUESTS];
  char *text = malloc(size * 2 + 512);
  if (!text) return 0;
  size_t used = (size_t)sprintf(text, "%s %s HTTP/1.1\r\nHost: f\r\nConnection: close\r\n", rq[0], rq[1]);
  const uint8_t *csrf;
  size_t csrf_len = 0;
  used = add_headers(text, used, data + 1, size - 1, &csrf, &csrf_len);
  used += (size_t)sprintf(text + used, "Content-Length: 0\r\n\r\n");
  fuzz_reply r;
  fuzz_http_send(text, used, &r);
  free(text);
  int csrf_ok = csrf && csrf_len == strlen(FUZZ_CSRF) && !memcmp(csrf, FUZZ_CSRF, csrf_len);
  /* a write that got through without a bearer token must have carried the
   * CSRF token (unless the input names one elsewhere, in a header of its own) */
  if (strcmp(rq[0], "GET") && r.status >= 200 && r.status < 300 && !csrf_ok && !holds(data + 1, size - 1, "bearer") &&
      !holds(data + 1, size - 1, "csrf"))
    fuzz_fail("a cookie write without the CSRF token", r.text);
  fuzz_reply_free(&r);
  return 0;
}
