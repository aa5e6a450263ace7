/* fuzz_route — arbitrary bytes as the method and path of a request.
 *
 * Input: one byte picking the method (GET HEAD POST DELETE PUT PATCH
 * OPTIONS, or one made of the next bytes) and whether alice's API token
 * goes along, then the request target.  Bytes that would end the request
 * line (controls, space) are percent-encoded; everything else goes as it
 * is, so the fuzzer writes escapes, query strings and '..' of its own.
 * Through the embedded server: libmicrohttpd's request line, http.c's URI
 * split, http_route.c's matcher (ids, names, actions, 404/405 with Allow),
 * the handlers and the engine (alice is an admin; processes 1 and 2 exist),
 * or http_static.c for paths outside /api.  A 5xx or an answer out of the
 * contract's shape is a bug; so is an /api answer that is not JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_http_lib.h"

static const char *const METHODS[] = {"GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"};
#define NMETHODS (sizeof METHODS / sizeof METHODS[0])

/* Two processes to find: one running, one with its first task taken. */
static void ensure_processes(void) {
  json_t *data = json_pack("{s:s}", "text", "fuzz"), *out = NULL;
  fherr err = {0};
  for (int i = 0; i < 2; i++) {
    engine_start(fuzz_http_engine(), fuzz_http_admin(), "helloworld", "start", data, &out, &err);
    json_decref(out);
    out = NULL;
    fherr_clear(&err);
  }
  json_decref(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  if (size < 1 || size > 16 * 1024) return 0;
  fuzz_http_begin(1000);
  if (runs++ % 1000 == 0) ensure_processes();
  char *text = malloc(size * 3 + 512);
  if (!text) return 0;
  size_t used = 0;
  if (data[0] % 8 < NMETHODS) {
    used = (size_t)sprintf(text, "%s ", METHODS[data[0] % 8]);
  }
  size_t at = 1;
  if (data[0] % 8 == NMETHODS) {   /* a method of its own: letters up to the first space */
    while (at < size && at < 17 && data[at] > ' ' && data[at] < 0x7f) text[used++] = (char)data[at++];
    text[used++] = ' ';
  }
  for (; at < size; at++) {
    uint8_t c = data[at];
    if (c <= ' ' || c == 0x7f) used += (size_t)sprintf(text + used, "%%%02X", c);
    else text[used++] = (char)c;
  }
  used += (size_t)sprintf(text + used, " HTTP/1.1\r\nHost: f\r\nConnection: close\r\n%sContent-Length: 0\r\n\r\n",
                          data[0] & 8 ? "Authorization: Bearer " FUZZ_ALICE_TOKEN "\r\n" : "");
  fuzz_reply r;
  fuzz_http_send(text, used, &r);
  /* every answer of ours under /api is JSON; libmicrohttpd's own (a
   * malformed or oversized request: 400, 413, 414, 431) are not ours */
  char type[128];
  const char *target = strchr(text, ' ');
  int api = target && !strncmp(target + 1, "/api", 4) && strchr("/ ?", target[5]) &&
            !strstr(fuzz_reply_header(&r, "Content-Type", type, sizeof type), "image/svg+xml");
  int mhd = r.status == 400 || r.status == 413 || r.status == 414 || r.status == 431;
  if (api && r.status && !mhd && r.body_len > 0 &&
      !strstr(fuzz_reply_header(&r, "Content-Type", type, sizeof type), "application/json"))
    fuzz_fail("an /api answer that is not JSON", r.text);
  free(text);
  fuzz_reply_free(&r);
  return 0;
}
