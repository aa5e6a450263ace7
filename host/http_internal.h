/* http_internal — what the http_*.c units share: the server and request
 * structures and the functions each unit offers the others.  Private to
 * the http layer (see http.h for the split).
 *
 * Ownership: a request (http_req) is made when MHD reports its URI, lives
 * in MHD's per-request pointer, and is freed when MHD reports it complete.
 * Handlers fill the reply fields of the request (out_*); http.c turns them
 * into the MHD response once the handler returns.
 */
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "auth.h"
#include "engine.h"
#include "engine_listen.h"
#include "http.h"
#include "identity.h"

#define HTTP_MAX_PARAMS 24
#define HTTP_SESSION_COOKIE "flowhost_session"
#define HTTP_SESSION_SECONDS (12 * 3600)
/* Once fewer than conn_reserve connections are free, an address holding
 * this many gets no more (http_conn.c). */
#define HTTP_RESERVE_SHARE 8
#define HTTP_ADDR_LEN 64
/* How long one answer of the database probe serves /api/health. */
#define HTTP_HEALTH_CACHE_SECONDS 1.0
#define HTTP_HEALTH_WAIT_MS 250

/* A client address as the limits count it: IPv4, or the /64 of IPv6. */
typedef struct http_addr {
  int family;                  /* AF_INET, AF_INET6; 0 unknown */
  unsigned char bytes[16];
} http_addr;

typedef struct http_exec http_exec;   /* http_exec.c */

typedef struct http_svg {
  char *flow;
  long generation;
  char *svg;
  size_t len;
} http_svg;

struct http_server {
  http_options opt;
  char *db_path;
  char *host;
  char *web_root;              /* realpath of the web folder; NULL: none */
  /* one MHD daemon per worker thread, each polling its own connections
   * (http_accept.c gives them out); embedded: one, without a thread,
   * run by http_feed */
  struct MHD_Daemon **workers;
  int nworkers;
  int listen_fd;
  int port;
  pthread_t acceptor;          /* http_accept.c */
  int acceptor_running;
  int acceptor_wake[2];        /* a pipe: a byte written stops the acceptor; -1 none */
  http_exec *exec;             /* the executors of writes (http_exec.c); NULL: embedded */
  pthread_key_t engine_key;    /* this thread's engine (a worker's or an executor's) */
  pthread_mutex_t mu;          /* engines, svg cache, in_flight */
  pthread_cond_t idle;         /* signalled when in_flight drops to 0 */
  engine **engines;
  int nengines, capengines;
  struct identity_cache *idc;  /* the engines' sign-ins kept (PostgreSQL; NULL: none) */
  engine_listener *idl;        /* ... and the listener that tells it of changes */
  http_svg *svgs;
  int nsvgs;
  int in_flight;
  atomic_int stopping;         /* replies close their connection */
  char dummy_hash[AUTH_HASH_LEN];   /* failed logins of unknown users cost the same */
  double health_at;            /* monotonic time of health (guarded by mu); 0 none */
  identity_db_state health;

  /* connections (http_conn.c), guarded by conns_mu */
  pthread_mutex_t conns_mu;
  struct http_conn *conns;
  int nconns;
  int *worker_conns;           /* open connections per worker (nworkers) */
  int *worker_busy;            /* ... of them with a request being answered */
  int next_worker;             /* where the search for the least busy one starts */
  unsigned long refused;       /* by the limits, since the reaper's last look */
  pthread_t reaper;
  pthread_cond_t reaper_cv;    /* on CLOCK_MONOTONIC */
  int reaper_stop, reaper_running;
  int feed_fd;                 /* embedded: the loopback listener of http_feed; -1 none */
};

typedef struct http_kv {
  char *key;
  char *value;
} http_kv;

typedef struct http_req {
  http_server *srv;
  struct MHD_Connection *conn;
  double started;              /* monotonic */
  char *uri;                   /* raw, as received (for the log) */
  char method[12];
  char *path;                  /* percent-decoded path without the query; NULL if malformed */
  http_kv params[HTTP_MAX_PARAMS];
  int nparams;
  int query_error;             /* malformed, duplicated or too many parameters */
  int headers_seen;
  int counted;                 /* in the server's in_flight count */
  char *body;
  size_t body_len, body_cap;
  int too_large;
  size_t discarded;
  int exec_state;              /* HTTP_EXEC_*: where an executor stands with it */
  struct http_req *exec_next;  /* the executors' queue */

  /* authentication (http_auth.c) */
  fh_actor actor;
  int has_actor;
  int by_cookie;               /* authenticated by the session cookie */
  char session_digest[AUTH_DIGEST_LEN];
  char csrf[IDENTITY_CSRF_LEN];

  /* the reply */
  int out_status;              /* 0 until a handler answered */
  json_t *out_json;
  char *out_raw;               /* malloc'd, with out_raw_len and out_type */
  size_t out_raw_len;
  const char *out_type;
  char out_cookie[256];        /* Set-Cookie value, "" for none */
  char out_allow[64];          /* Allow header for 405, "" for none */
  char out_retry_after[16];    /* Retry-After header (429), "" for none */
  int out_fd;                  /* a file to send (static files); -1 for none */
  uint64_t out_fd_size;
  int logged_status;
  int metrics_route;           /* 1 + the metrics slot of the route it matched; 0 none yet */
  char out_etag[24];           /* ETag header, "" for none */
  int out_cacheable;           /* Cache-Control: no-cache (revalidate) instead of no-store */
} http_req;

enum { HTTP_EXEC_NONE, HTTP_EXEC_QUEUED, HTTP_EXEC_ANSWERED };

/* --- http.c ---------------------------------------------------------------- */

/* Answers the request: fills its reply fields (on a worker, or on an
 * executor for a write). */
void http_dispatch(http_req *r);

/* This thread's engine, made on first use; NULL with err set on failure. */
engine *http_engine(http_req *r, fherr *err);
/* The SVG of a flow chart, cached per flow and flow generation.  *svg is a
 * malloc'd copy for the caller. */
int http_flow_svg(http_req *r, engine *e, const char *flow, char **svg, size_t *len, fherr *err);

/* The database's state for /api/health: a probe, at most one per
 * HTTP_HEALTH_CACHE_SECONDS for the whole server. */
void http_db_state(http_req *r, engine *e, identity_db_state *out);

/* --- http_conn.c ----------------------------------------------------------- */

/* The accept policy and the connection notifications given to MHD. */
enum MHD_Result http_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void http_conn_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);
/* A request of the connection is being answered (busy 1) or was answered:
 * no deadline while busy; the next request's starts when it is answered. */
void http_conn_busy(http_server *s, struct MHD_Connection *mc, int busy);
/* Its request (busy) went to an executor: it no longer weighs on its
 * worker in the choice of the next connections' workers; still busy (no
 * deadline) until answered.  From the worker's own thread. */
void http_conn_away(http_server *s, struct MHD_Connection *mc);
/* 1 if the connection's worker holds no other connection (none admitted to
 * it either): nothing waits while it answers this one. */
int http_conn_alone(http_server *s, struct MHD_Connection *mc);
/* The acceptor's side of the same policy (http_accept.c): 1 if the
 * connection on fd from addr may come in, with *worker the worker that
 * holds the fewest connections; it is counted from now on (against the
 * limits too), before its worker reports it.  0: refused (the caller
 * closes fd).  http_conn_forget: MHD did not take it after all. */
int http_conn_admit(http_server *s, int fd, const struct sockaddr *addr, int *worker);
void http_conn_forget(http_server *s, int fd);
/* Starts the reaper thread (not for an embedded server); stops it.  The
 * server's nworkers is set before. */
int http_conns_start(http_server *s, fherr *err);
void http_conns_stop(http_server *s);
void http_addr_of(const struct sockaddr *sa, http_addr *out);
void http_addr_text(const http_addr *a, char out[HTTP_ADDR_LEN]);
/* The request's client address as text ("127.0.0.1", "2001:db8::/64"). */
void http_client_addr(http_req *r, char out[HTTP_ADDR_LEN]);
/* An embedded server only: sends one request's text over a new local
 * connection, runs MHD until the answer is complete, and hands back the
 * raw answer (malloc'd, NUL-terminated; NULL when none).  -1 when the
 * connection could not be made.  For the fuzzers: the whole real path. */
int http_feed(http_server *s, const char *text, size_t len, char **reply, size_t *reply_len);

/* --- http_accept.c --------------------------------------------------------- */

/* Starts the thread that accepts connections on listen_fd; stops it (the
 * listening socket stays open: its owner closes it). */
int http_accept_start(http_server *s, fherr *err);
void http_accept_stop(http_server *s);

/* --- http_exec.c ----------------------------------------------------------- */

/* Starts the executor threads (http_options.executors, default one per
 * worker); stops them: a request queued after
 * http_exec_abandon is answered 503 without being run, one being answered
 * is waited for; once stopped, writes are answered on their workers.
 * http_exec_free (after the workers stopped) frees what is left. */
int http_exec_start(http_server *s, fherr *err);
void http_exec_abandon(http_server *s);
void http_exec_stop(http_server *s);
void http_exec_free(http_server *s);
/* 1 if the request, its body in, is a write an executor answers: an API
 * request by POST, PUT, PATCH or DELETE whose worker holds other
 * connections. */
int http_exec_wants(const http_req *r);
/* Queues it and suspends its connection (from the request callback only);
 * -1: the executors have stopped, answer it here. */
int http_exec_submit(http_req *r);

/* --- http_json.c ----------------------------------------------------------- */

/* Replies: take ownership of body (json_t reference or malloc'd bytes). */
void http_reply_json(http_req *r, int status, json_t *body);
void http_reply_raw(http_req *r, int status, const char *type, char *bytes, size_t len);
/* The error shape {"error": {"code","message","fields"?}} from an fherr
 * (cleared afterwards), or from a code and message. */
void http_reply_fherr(http_req *r, fherr *err);
void http_reply_error(http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Splits and decodes the raw URI into r->path and r->params. */
void http_parse_uri(http_req *r);
/* Percent-decodes src[0..len) into a new string; NULL when malformed or
 * when it decodes to a NUL byte.  plus_is_space for query strings. */
char *http_percent_decode(const char *src, size_t len, int plus_is_space);
/* Query parameters: fails with FH_BAD_REQUEST when one is not in allowed. */
int http_params_check(http_req *r, const char *const *allowed, fherr *err);
const char *http_param(http_req *r, const char *key);
/* Optional positive integer parameter (0 when absent). */
int http_param_id(http_req *r, const char *key, int64_t *out, fherr *err);

/* The body as a JSON object ({} when empty); every key must be in allowed
 * (NULL: no key is allowed).  FH_BAD_REQUEST on anything else. */
int http_body_object(http_req *r, const char *const *allowed, json_t **out, fherr *err);

/* --- http_auth.c ----------------------------------------------------------- */

/* Fills r->actor from the bearer token or the session cookie: FH_UNAUTH
 * when neither is valid; FH_FORBIDDEN when a cookie-authenticated request
 * that changes something lacks the right X-CSRF-Token. */
int http_authenticate(http_req *r, engine *e, fherr *err);
void http_session_get(http_req *r);
void http_session_login(http_req *r);
void http_session_logout(http_req *r);
/* Prepares the dummy hash used for unknown users (call once at start). */
int http_auth_init(http_server *s, fherr *err);

/* --- http_route.c ---------------------------------------------------------- */

/* --- http_data.c: search parameters, comments, audit ----------------------- */

/* The data.<name> parameters as {"<name>": "value"} (NULL when none). */
int http_data_params(http_req *r, json_t **out, fherr *err);
/* GET|POST /api/processes/{id}/comments, GET|POST /api/tasks/{id}/comments
 * (one of the ids 0), GET /api/processes/{id}/audit. */
void http_data_comments(http_req *r, engine *e, int64_t process_id, int64_t task_id);
void http_data_audit(http_req *r, engine *e, int64_t process_id);

/* Answers one /api request (r->path starts with "/api"). */
void http_route_api(http_req *r);

/* A path segment as an {id}: a positive decimal integer without leading
 * zeros, at most 18 digits (http_route.c; the admin routes use it too). */
int http_segment_id(const char *s, int64_t *out);

/* The next segment of a route pattern ("tasks/{id}/actions") after *p: its
 * start and *len, *p moved past it; NULL after the last.  In place: a
 * request tried ~30 patterns, each copied (snprintf) and cut (strtok_r),
 * 2% of an inbox page. */
static inline const char *http_pattern_next(const char **p, size_t *len) {
  const char *s = *p;
  while (*s == '/') s++;
  if (!*s) return NULL;
  const char *end = strchr(s, '/');
  *len = end ? (size_t)(end - s) : strlen(s);
  *p = s + *len;
  return s;
}

/* Whether the pattern segment (s, n) is the text t. */
static inline int http_segment_is(const char *s, size_t n, const char *t) { return !strncmp(s, t, n) && !t[n]; }

/* --- http_metrics.c -------------------------------------------------------- */

/* GET /metrics (admins; anyone on a metrics_only server). */
void http_metrics(http_req *r);
/* GET /api/openapi.json: the embedded document, with an ETag. */
void http_openapi(http_req *r);
/* Counts the request under this route (static strings: see metrics.h). */
void http_metrics_route(http_req *r, const char *method, const char *prefix, const char *pattern);
/* The method as a bounded label: GET ... OPTIONS, else "other". */
const char *http_metrics_method(const char *method);
/* --- http_external.c ------------------------------------------------------- */

/* POST /api/external/fetch (verb "fetch", id 0) and
 * POST /api/external/{id}/{complete|fail|extend}. */
void http_external(http_req *r, engine *e, const char *verb, int64_t id);

/* --- http_static.c --------------------------------------------------------- */

/* Answers a request outside /api from the web folder. */
void http_static(http_req *r);

#endif
