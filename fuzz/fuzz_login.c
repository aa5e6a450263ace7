/* fuzz_login — arbitrary bytes as the body of POST /api/session.
 *
 * Through the embedded server (fuzz_http_lib): libmicrohttpd reads the
 * request, http.c and http_json.c take the body (Content-Type, JSON object,
 * allowed keys), http_auth.c checks the fields and identity_login throttles
 * (in the database), verifies the password (alice and bob have
 * FUZZ_PASSWORD) and opens a session.  Allowed answers: 200 with a session
 * cookie, 400, 401, 413, 429 with Retry-After; anything else, a 5xx, or an
 * answer out of the contract's shape is a bug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_http_lib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_http_begin(2000);
  char head[256];
  int n = snprintf(head, sizeof head,
                   "POST /api/session HTTP/1.1\r\nHost: f\r\nConnection: close\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", size);
  char *text = malloc((size_t)n + size + 1);
  if (!text) return 0;
  memcpy(text, head, (size_t)n);
  if (size) memcpy(text + n, data, size);
  fuzz_reply r;
  fuzz_http_send(text, (size_t)n + size, &r);
  free(text);
  char buf[512];
  switch (r.status) {
  case 200:
    if (!strstr(fuzz_reply_header(&r, "Set-Cookie", buf, sizeof buf), "flowhost_session="))
      fuzz_fail("a sign-in without a session cookie", r.text);
    if (!strstr(r.body, "\"username\":\"alice\"") && !strstr(r.body, "\"username\":\"bob\""))
      fuzz_fail("a sign-in as nobody known", r.text);
    break;
  case 429:
    if (atoi(fuzz_reply_header(&r, "Retry-After", buf, sizeof buf)) < 1) fuzz_fail("429 without Retry-After", r.text);
    break;
  case 0: case 400: case 401: case 413:
    break;
  default:
    fuzz_fail("an answer a sign-in never gives", r.text);
  }
  fuzz_reply_free(&r);
  return 0;
}
