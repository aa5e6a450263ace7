/* fherr — setting and clearing the error value, and its code names and HTTP
 * statuses; calls only libc and jansson. */
#include "fherr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int fherr_set(fherr *err, int code, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

void fherr_clear(fherr *err) {
  if (!err) return;
  json_decref(err->fields);
  free(err->traceback);
  err->fields = NULL;
  err->traceback = NULL;
  err->code = FH_OK;
  err->message[0] = '\0';
  err->file[0] = '\0';
  err->line = 0;
}

const char *fherr_code_name(int code) {
  switch (code) {
  case FH_OK: return "ok";
  case FH_BAD_REQUEST: return "bad_request";
  case FH_INVALID: return "invalid";
  case FH_UNAUTH: return "unauthenticated";
  case FH_FORBIDDEN: return "forbidden";
  case FH_NOT_FOUND: return "not_found";
  case FH_CONFLICT: case FH_STALE: return "conflict";
  case FH_TOO_LARGE: return "too_large";
  case FH_FLOW_ERROR: return "flow_error";
  case FH_BUSY: return "busy";
  default: return "internal";
  }
}

int fherr_http_status(int code) {
  switch (code) {
  case FH_OK: return 200;
  case FH_BAD_REQUEST: case FH_INVALID: return 400;
  case FH_UNAUTH: return 401;
  case FH_FORBIDDEN: return 403;
  case FH_NOT_FOUND: return 404;
  case FH_CONFLICT: case FH_STALE: return 409;
  case FH_TOO_LARGE: return 413;
  case FH_FLOW_ERROR: return 422;
  case FH_BUSY: return 503;
  default: return 500;
  }
}
