/* http_json — JSON in and out for the HTTP layer: replies, the error shape,
 * query strings, request bodies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fhlog.h"
#include "http_internal.h"

/* --- replies ----------------------------------------------------------------- */

static void drop_reply(http_req *r) {
  json_decref(r->out_json);
  r->out_json = NULL;
  free(r->out_raw);
  r->out_raw = NULL;
  r->out_raw_len = 0;
}

void http_reply_json(http_req *r, int status, json_t *body) {
  drop_reply(r);
  r->out_status = status;
  r->out_json = body ? body : json_object();
  r->out_type = "application/json";
}

void http_reply_raw(http_req *r, int status, const char *type, char *bytes, size_t len) {
  drop_reply(r);
  r->out_status = status;
  r->out_raw = bytes;
  r->out_raw_len = len;
  r->out_type = type;
}

/* The message as a JSON string: one that echoes bytes of the request that
 * are not UTF-8 has every byte above 0x7f replaced by '?' (else jansson
 * refuses it, and the error lost its shape: found by fuzz_query). */
static json_t *message_string(const char *message) {
  json_t *m = json_string(message);
  if (m) return m;
  char safe[1024];
  size_t i = 0;
  for (; message[i] && i < sizeof safe - 1; i++) safe[i] = (unsigned char)message[i] < 0x80 ? message[i] : '?';
  safe[i] = '\0';
  return json_string(safe);
}

/* fields: borrowed, may be NULL */
static void reply_error_shape(http_req *r, int status, const char *code, const char *message, json_t *fields) {
  json_t *e = json_pack("{s:s, s:o}", "code", code, "message", message_string(message));
  if (e && fields) json_object_set(e, "fields", fields);
  http_reply_json(r, status, e ? json_pack("{s:o}", "error", e) : NULL);
}

void http_reply_fherr(http_req *r, fherr *err) {
  int code = err->code ? err->code : FH_INTERNAL;
  const char *message = err->message[0] ? err->message : fherr_code_name(code);
  if (code == FH_INTERNAL) fhlog(FHLOG_ERROR, "internal error on %s %s: %s", r->method, r->uri, message);
  if (code == FH_FLOW_ERROR && err->traceback)
    fhlog(FHLOG_ERROR, "flow error on %s %s: %s | %s", r->method, r->uri, message, err->traceback);
  json_t *fields = NULL;
  if (code == FH_INVALID) fields = err->fields ? json_incref(err->fields) : json_object();
  reply_error_shape(r, fherr_http_status(code), fherr_code_name(code), message, fields);
  json_decref(fields);
  fherr_clear(err);
}

void http_reply_error(http_req *r, int status, const char *code, const char *fmt, ...) {
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  reply_error_shape(r, status, code, message, NULL);
}

/* --- the URI ------------------------------------------------------------------ */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char *http_percent_decode(const char *src, size_t len, int plus_is_space) {
  char *out = malloc(len + 1);
  if (!out) return NULL;
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (c == '%') {
      int hi = i + 1 < len ? hexval(src[i + 1]) : -1;
      int lo = i + 2 < len ? hexval(src[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        free(out);
        return NULL;
      }
      out[n++] = (char)(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out[n++] = ' ';
    } else {
      out[n++] = c;
    }
  }
  out[n] = '\0';
  return out;
}

static int add_param(http_req *r, const char *piece, size_t len) {
  if (len == 0) return 0;
  if (r->nparams == HTTP_MAX_PARAMS) return -1;
  const char *eq = memchr(piece, '=', len);
  size_t klen = eq ? (size_t)(eq - piece) : len;
  char *key = http_percent_decode(piece, klen, 1);
  char *value = eq ? http_percent_decode(eq + 1, len - klen - 1, 1) : strdup("");
  if (!key || !value || !key[0]) {
    free(key);
    free(value);
    return -1;
  }
  for (int i = 0; i < r->nparams; i++) {
    if (!strcmp(r->params[i].key, key)) {
      free(key);
      free(value);
      return -1;
    }
  }
  r->params[r->nparams].key = key;
  r->params[r->nparams].value = value;
  r->nparams++;
  return 0;
}

void http_parse_uri(http_req *r) {
  const char *uri = r->uri ? r->uri : "";
  size_t end = strcspn(uri, "#");
  const char *q = memchr(uri, '?', end);
  size_t plen = q ? (size_t)(q - uri) : end;
  if (uri[0] == '/') r->path = http_percent_decode(uri, plen, 0);
  if (!q) return;
  const char *s = q + 1;
  const char *stop = uri + end;
  while (s < stop) {
    const char *amp = memchr(s, '&', (size_t)(stop - s));
    size_t len = amp ? (size_t)(amp - s) : (size_t)(stop - s);
    if (add_param(r, s, len)) {
      r->query_error = 1;
      return;
    }
    s += len + 1;
  }
}

int http_params_check(http_req *r, const char *const *allowed, fherr *err) {
  if (r->query_error)
    return fherr_set(err, FH_BAD_REQUEST, "malformed query string (bad escape, repeated or too many parameters)");
  for (int i = 0; i < r->nparams; i++) {
    int ok = 0;
    for (const char *const *a = allowed; a && *a && !ok; a++)
      ok = !strcmp(*a, r->params[i].key) || (!strcmp(*a, "data.*") && !strncmp(r->params[i].key, "data.", 5));
    if (!ok) return fherr_set(err, FH_BAD_REQUEST, "unknown query parameter '%.64s'", r->params[i].key);
  }
  return FH_OK;
}

const char *http_param(http_req *r, const char *key) {
  for (int i = 0; i < r->nparams; i++)
    if (!strcmp(r->params[i].key, key)) return r->params[i].value;
  return NULL;
}

int http_param_id(http_req *r, const char *key, int64_t *out, fherr *err) {
  *out = 0;
  const char *s = http_param(r, key);
  if (!s) return FH_OK;
  char *end;
  errno = 0;
  long long v = s[0] >= '0' && s[0] <= '9' ? strtoll(s, &end, 10) : -1;
  if (v <= 0 || errno || *end) return fherr_set(err, FH_BAD_REQUEST, "parameter '%s' must be a positive integer", key);
  *out = v;
  return FH_OK;
}

/* --- bodies ------------------------------------------------------------------ */

/* A body must say it is JSON: with the CSRF token this keeps cross-site
 * "simple" requests (forms, text/plain, untyped blobs) out. */
static int is_json_type(const char *type) {
  if (!type) return 0;
  size_t n = strlen("application/json");
  if (strncasecmp(type, "application/json", n)) return 0;
  return type[n] == '\0' || type[n] == ';' || type[n] == ' ';
}

int http_body_object(http_req *r, const char *const *allowed, json_t **out, fherr *err) {
  *out = NULL;
  size_t i = 0;
  /* (strchr would count the NUL byte too: a body of NULs is no blank one, fuzz_body) */
  while (i < r->body_len && r->body[i] && strchr(" \t\r\n", r->body[i])) i++;
  if (i == r->body_len) {
    *out = json_object();
    return FH_OK;
  }
  const char *type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (!is_json_type(type)) return fherr_set(err, FH_BAD_REQUEST, "a body must be sent as Content-Type: application/json");
  json_error_t jerr;
  json_t *v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!v) return fherr_set(err, FH_BAD_REQUEST, "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
                           jerr.line, jerr.column);
  if (!json_is_object(v)) {
    json_decref(v);
    return fherr_set(err, FH_BAD_REQUEST, "the body must be a JSON object");
  }
  const char *k;
  json_t *val;
  json_object_foreach(v, k, val) {
    int ok = 0;
    for (const char *const *a = allowed; a && *a && !ok; a++) ok = !strcmp(*a, k);
    if (!ok) {
      fherr_set(err, FH_BAD_REQUEST, "unknown field '%.64s' in the body", k);
      json_decref(v);
      return FH_BAD_REQUEST;
    }
  }
  *out = v;
  return FH_OK;
}
