/* fherr — the error value every flowhost layer hands back to its caller.
 *
 * A function that can fail returns an int (FH_OK or one of the codes below)
 * and, when given a non-NULL fherr, fills it with a human message and, for
 * validation failures, a JSON object mapping field -> message.  The codes are
 * the error codes of the HTTP contract, so the http layer maps them 1:1.
 * Whoever owns the fherr calls fherr_clear() to release `fields`/`traceback`.
 */
#ifndef FHERR_H
#define FHERR_H

#include <jansson.h>

enum {
  FH_OK = 0,
  FH_BAD_REQUEST,   /* 400 bad_request */
  FH_INVALID,       /* 400 invalid (fields set) */
  FH_UNAUTH,        /* 401 unauthenticated */
  FH_FORBIDDEN,     /* 403 forbidden */
  FH_NOT_FOUND,     /* 404 not_found */
  FH_CONFLICT,      /* 409 conflict */
  FH_TOO_LARGE,     /* 413 too_large */
  FH_FLOW_ERROR,    /* 422 flow_error: Lua raised; transaction rolled back */
  FH_BUSY,          /* 503 busy */
  FH_INTERNAL,      /* 500 internal: a bug or an I/O failure */
  FH_STALE          /* 409 conflict: the process changed since it was read
                       (the engine retries; only repeated losses reach a caller) */
};

typedef struct fherr {
  int code;
  char message[1024];
  json_t *fields;     /* owned; field -> message, FH_INVALID only */
  char *traceback;    /* owned; Lua traceback, FH_FLOW_ERROR only */
  char file[256];     /* where a Lua error points, when known ("" if not) */
  int line;           /* 0 when unknown */
} fherr;

/* Sets code and a printf-style message; returns code so callers can
 * `return fherr_set(err, FH_CONFLICT, "...")`.  err may be NULL. */
int fherr_set(fherr *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fherr_clear(fherr *err);
const char *fherr_code_name(int code);
int fherr_http_status(int code);

#endif
