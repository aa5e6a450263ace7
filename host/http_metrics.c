/* http_metrics — the operator's routes: GET /metrics (Prometheus text
 * format 0.0.4: metrics.c's counters and the engine's gauges) and
 * GET /api/openapi.json (the embedded OpenAPI document), and the route
 * label every request is counted under.
 *
 * /metrics is for admins (bearer token or session) on the main listener;
 * on the --metrics-listen listener (a server with metrics_only) it needs
 * no authentication and is the only thing served there: that address must
 * stay private (http-api.md, Operations).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_metrics.h"
#include "http_internal.h"
#include "metrics.h"
#include "openapi_doc.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A method as a label: only the ones HTTP defines, so a client cannot
 * make new series by inventing methods. */
const char *http_metrics_method(const char *method) {
  static const char *const KNOWN[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", NULL};
  for (const char *const *k = KNOWN; *k; k++)
    if (!strcmp(*k, method)) return *k;
  return "other";
}

void http_metrics_route(http_req *r, const char *method, const char *prefix, const char *pattern) {
  r->metrics_route = 1 + metrics_http_route(method, prefix, pattern);
}

static int only_get(http_req *r) {
  if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")) return 1;
  snprintf(r->out_allow, sizeof r->out_allow, "GET, HEAD");
  http_reply_error(r, 405, "method_not_allowed", "%s is not allowed here (allowed: GET, HEAD)", r->method);
  return 0;
}

/* Admins only on the main listener: 401 without credentials, 403 for
 * anyone else. */
static int may_scrape(http_req *r, engine *e, fherr *err) {
  if (r->srv->opt.metrics_only) return FH_OK;
  int rc = http_authenticate(r, e, err);
  if (rc) return rc;
  if (!r->actor.is_admin) return fherr_set(err, FH_FORBIDDEN, "only an admin may read the metrics");
  return FH_OK;
}

void http_metrics(http_req *r) {
  http_metrics_route(r, "GET", NULL, "/metrics");
  if (!only_get(r)) return;
  fherr err = {0};
  engine *e = http_engine(r, &err);
  int rc = e ? http_params_check(r, NULL, &err) : FH_INTERNAL;
  if (!rc) rc = may_scrape(r, e, &err);
  metrics_buf b = {0};
  if (!rc) {
    metrics_render(&b);
    rc = engine_metrics_render(e, &b, &err);
  }
  if (!rc && b.failed) rc = fherr_set(&err, FH_INTERNAL, "out of memory while writing the metrics");
  fh_actor_free(&r->actor);
  r->has_actor = 0;
  if (rc) {
    metrics_buf_free(&b);
    http_reply_fherr(r, &err);
    return;
  }
  http_reply_raw(r, 200, METRICS_TYPE, b.text, b.len);
}

/* FNV-1a of the document: its ETag, the same for every answer of one build. */
static void openapi_etag(char out[24]) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < FLOWHOST_OPENAPI_JSON_LEN; i++) {
    h ^= FLOWHOST_OPENAPI_JSON[i];
    h *= 1099511628211ULL;
  }
  snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

void http_openapi(http_req *r) {
  fherr err = {0};
  if (http_params_check(r, NULL, &err)) {
    http_reply_fherr(r, &err);
    return;
  }
  openapi_etag(r->out_etag);
  r->out_cacheable = 1;
  const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
  if (inm && strstr(inm, r->out_etag)) {
    http_reply_raw(r, 304, NULL, NULL, 0);
    return;
  }
  char *copy = malloc(FLOWHOST_OPENAPI_JSON_LEN + 1);
  if (!copy) {
    http_reply_error(r, 500, "internal", "out of memory");
    return;
  }
  memcpy(copy, FLOWHOST_OPENAPI_JSON, FLOWHOST_OPENAPI_JSON_LEN);
  copy[FLOWHOST_OPENAPI_JSON_LEN] = '\0';
  http_reply_raw(r, 200, "application/json", copy, FLOWHOST_OPENAPI_JSON_LEN);
}
