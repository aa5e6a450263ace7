/* fuzz_http — arbitrary bytes as the request URI of the HTTP API.
 *
 * Of the HTTP layer, only the URI handling runs without a connection:
 * http_parse_uri (path and query split, percent-decoding), then the query
 * checks every route makes (allowed parameters, integer ids).  Bodies and
 * routes need a live libmicrohttpd connection (the Content-Type header, the
 * session cookie) and the server's per-thread engines, so they are fuzzed
 * through the engine by fuzz_form instead.
 *
 * Input: the URI as MHD hands it over (a C string: the bytes up to the
 * first NUL).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

static const char *const TASK_PARAMS[] = {"view", "flow", "process", "status", "since", "until", "order",
                                          "limit", "after", NULL};

static void free_req(http_req *r) {
  free(r->uri);
  free(r->path);
  for (int i = 0; i < r->nparams; i++) {
    free(r->params[i].key);
    free(r->params[i].value);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  http_req r;
  memset(&r, 0, sizeof r);
  r.out_fd = -1;
  r.uri = strndup((const char *)data, size);
  if (!r.uri) return 0;
  http_parse_uri(&r);

  if (r.path && strlen(r.path) > strlen(r.uri)) abort();   /* decoding never grows */
  if (r.nparams < 0 || r.nparams > HTTP_MAX_PARAMS) abort();
  for (int i = 0; i < r.nparams; i++) {
    if (!r.params[i].key[0]) abort();
    if (http_param(&r, r.params[i].key) != r.params[i].value) abort();   /* keys are unique */
  }
  fherr err = {0};
  int rc = http_params_check(&r, TASK_PARAMS, &err);
  if (rc == FH_OK) {
    int64_t id;
    if (http_param_id(&r, "after", &id, &err) == FH_OK && id < 0) abort();
    if (http_param_id(&r, "process", &id, &err) == FH_OK && id < 0) abort();
  } else if (rc != FH_BAD_REQUEST || !err.message[0]) {
    abort();
  }
  fherr_clear(&err);
  if (r.path) {
    char *again = http_percent_decode(r.path, strlen(r.path), 0);   /* decoded text decodes again or fails */
    free(again);
  }
  free_req(&r);
  return 0;
}
