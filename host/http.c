/* http — the daemons: listening socket, one MHD daemon per worker thread
 * (connections given out by http_accept.c; or an embedded daemon without
 * either, for the fuzzers), request lifecycle (URI ->
 * headers -> body -> dispatch, on the worker for a read, on an executor
 * for a write (http_exec.c) -> response -> completion), the access log,
 * per-thread engines, the flow chart cache and the cached database state of
 * /api/health.  Connection limits and the request deadline: http_conn.c. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fhlog.h"
#include "fhtime.h"
#include "graph.h"
#include "http_internal.h"
#include "jobs.h"
#include "metrics.h"

#define STOP_GRACE_SECONDS 10   /* http_options.stop_grace's default */
/* then, for the replies of writes the executors finished meanwhile */
#define RESUMED_GRACE_SECONDS 2
#define MAX_SVGS 256
/* A chunked body past the limit is read and dropped up to this much, so the
 * client still gets its 413; beyond it the connection is closed. */
#define MAX_DISCARD (16u << 20)

/* --- per-thread engines ------------------------------------------------------------ */

engine *http_engine(http_req *r, fherr *err) {
  http_server *s = r->srv;
  engine *e = pthread_getspecific(s->engine_key);
  if (e) return e;
  engine_options eo = {.flows = s->opt.flows, .db_path = s->db_path, .synchronous_full = s->opt.synchronous_full,
                       .budget_seconds = s->opt.budget_seconds, .worker_name = "http",
                       .defer_indexing = s->opt.index_elsewhere, .identity_cache = s->idc,
                       .token_uses = s->opt.token_uses};
  if (engine_open(&eo, &e, err)) return NULL;
  pthread_mutex_lock(&s->mu);
  if (s->nengines == s->capengines) {
    int cap = s->capengines ? s->capengines * 2 : 8;
    engine **grown = realloc(s->engines, sizeof *grown * cap);
    if (!grown) {
      pthread_mutex_unlock(&s->mu);
      engine_close(e);
      fherr_set(err, FH_INTERNAL, "out of memory");
      return NULL;
    }
    s->engines = grown;
    s->capengines = cap;
  }
  s->engines[s->nengines++] = e;
  pthread_mutex_unlock(&s->mu);
  pthread_setspecific(s->engine_key, e);
  return e;
}

/* --- flow charts ---------------------------------------------------------------------- */

int http_flow_svg(http_req *r, engine *e, const char *flow, char **svg, size_t *len, fherr *err) {
  http_server *s = r->srv;
  *svg = NULL;
  *len = 0;
  flowgen *gen = flowreg_acquire(s->opt.flows);
  long number = gen ? gen->number : -1;
  if (gen) flowgen_release(s->opt.flows, gen);
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->nsvgs; i++) {
    http_svg *c = &s->svgs[i];
    if (c->generation == number && !strcmp(c->flow, flow)) {
      *svg = malloc(c->len + 1);
      if (*svg) {
        memcpy(*svg, c->svg, c->len + 1);
        *len = c->len;
      }
      pthread_mutex_unlock(&s->mu);
      return *svg ? FH_OK : fherr_set(err, FH_INTERNAL, "out of memory");
    }
  }
  pthread_mutex_unlock(&s->mu);

  char *dot = NULL;
  int rc = engine_flow_dot(e, flow, &dot, err);
  if (rc) return rc;
  rc = graph_render_svg(dot, svg, len, err);
  free(dot);
  if (rc) return rc;

  /* Keep a copy; an entry of an older generation of the same flow is replaced. */
  char *copy = malloc(*len + 1);
  char *name = strdup(flow);
  if (!copy || !name) {
    free(copy);
    free(name);
    return FH_OK;
  }
  memcpy(copy, *svg, *len + 1);
  pthread_mutex_lock(&s->mu);
  int slot = -1;
  for (int i = 0; i < s->nsvgs && slot < 0; i++)
    if (!strcmp(s->svgs[i].flow, flow)) slot = i;
  if (slot < 0) slot = s->nsvgs < MAX_SVGS ? s->nsvgs++ : 0;
  free(s->svgs[slot].flow);
  free(s->svgs[slot].svg);
  s->svgs[slot] = (http_svg){.flow = name, .generation = number, .svg = copy, .len = *len};
  pthread_mutex_unlock(&s->mu);
  return FH_OK;
}

/* --- the database's state ---------------------------------------------------------------- */

void http_db_state(http_req *r, engine *e, identity_db_state *out) {
  http_server *s = r->srv;
  double now = fhtime_monotonic();
  pthread_mutex_lock(&s->mu);
  int fresh = s->health_at > 0 && now - s->health_at < HTTP_HEALTH_CACHE_SECONDS;
  if (fresh) *out = s->health;
  pthread_mutex_unlock(&s->mu);
  if (fresh) return;
  identity_db_probe(e, HTTP_HEALTH_WAIT_MS, out);
  pthread_mutex_lock(&s->mu);
  s->health = *out;
  s->health_at = fhtime_monotonic();
  pthread_mutex_unlock(&s->mu);
}

/* --- request lifecycle ----------------------------------------------------------------- */

static void req_free(http_req *r) {
  free(r->uri);
  free(r->path);
  for (int i = 0; i < r->nparams; i++) {
    free(r->params[i].key);
    free(r->params[i].value);
  }
  free(r->body);
  fh_actor_free(&r->actor);
  json_decref(r->out_json);
  free(r->out_raw);
  if (r->out_fd >= 0) close(r->out_fd);
  free(r);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  http_server *s = cls;
  http_req *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->srv = s;
  r->conn = conn;
  r->started = fhtime_monotonic();
  r->uri = strdup(uri ? uri : "");
  r->out_fd = -1;
  return r;
}

/* From here until MHD reports the request complete, a graceful stop waits
 * for it.  Requests still sending their headers or body are not waited for. */
static void count_in_flight(http_req *r) {
  if (r->counted) return;
  r->counted = 1;
  pthread_mutex_lock(&r->srv->mu);
  r->srv->in_flight++;
  pthread_mutex_unlock(&r->srv->mu);
  http_conn_busy(r->srv, r->conn, 1);   /* received: no deadline while it is answered */
}

/* One line per request: client, method, path, status, duration (spaces and
 * control bytes of the path shown as '?'). */
static void access_log(http_req *r, enum MHD_RequestTerminationCode toe) {
  char path[256];
  size_t n = 0;
  for (const char *p = r->uri ? r->uri : ""; *p && n < sizeof path - 4; p++)
    path[n++] = (unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ' ? '?' : *p;
  if (r->uri && strlen(r->uri) > n) path[n++] = '~';
  path[n] = '\0';
  char client[64] = "-";
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr) {
    if (getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                             : sizeof(struct sockaddr_in),
                    client, sizeof client, NULL, 0, NI_NUMERICHOST) != 0)
      snprintf(client, sizeof client, "-");
  }
  static const char *const why[] = {"", " (error)", " (timeout)", " (shutdown)", " (read error)", " (client abort)"};
  fhlog(FHLOG_INFO, "%s %s %s %d %.1fms%s", client, r->method[0] ? r->method : "-", path, r->logged_status,
        (fhtime_monotonic() - r->started) * 1000.0,
        (unsigned)toe < sizeof why / sizeof why[0] ? why[toe] : " (aborted)");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
  http_server *s = cls;
  http_req *r = *req_cls;
  if (!r) return;
  *req_cls = NULL;
  http_conn_busy(s, conn, 0);
  if (s->opt.access_log) access_log(r, toe);
  int route = r->metrics_route ? r->metrics_route - 1
                                : metrics_http_route(http_metrics_method(r->method), NULL, "unmatched");
  metrics_http_request(route, r->logged_status, fhtime_monotonic() - r->started);
  /* A write may have scheduled a job or a timer: let a worker look now
   * rather than at its next poll. */
  if (s->opt.jobs && !strcmp(r->method, "POST") && r->logged_status >= 200 && r->logged_status < 300)
    jobs_wake(s->opt.jobs);
  int counted = r->counted;
  req_free(r);
  if (counted) {
    pthread_mutex_lock(&s->mu);
    if (--s->in_flight == 0) pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
  }
}

static enum MHD_Result send_reply(http_req *r) {
  struct MHD_Response *resp;
  int is_file = r->out_fd >= 0;
  if (!r->out_status) {
    fherr err = {0};
    fherr_set(&err, FH_INTERNAL, "no answer was made for this request");
    http_reply_fherr(r, &err);
  }
  const char *type = r->out_type;
  if (r->out_fd >= 0) {
    resp = MHD_create_response_from_fd64(r->out_fd_size, r->out_fd);
    if (resp) r->out_fd = -1;   /* the response owns it now */
  } else if (r->out_json) {
    char *text = json_dumps(r->out_json, JSON_COMPACT);
    if (!text) return MHD_NO;
    resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) free(text);
    type = "application/json";
  } else if (r->out_raw) {
    resp = MHD_create_response_from_buffer(r->out_raw_len, r->out_raw, MHD_RESPMEM_MUST_FREE);
    if (resp) r->out_raw = NULL;
  } else {
    resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  }
  if (!resp) return MHD_NO;
  if (type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, is_file || r->out_cacheable ? "no-cache" : "no-store");
  if (r->out_etag[0]) MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->out_etag);
  if (r->out_cookie[0]) MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->out_cookie);
  if (r->out_allow[0]) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->out_allow);
  if (r->out_retry_after[0]) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, r->out_retry_after);
  if (r->out_status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"flowhost\"");
  if (atomic_load(&r->srv->stopping) || r->too_large) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->out_status, resp);
  MHD_destroy_response(resp);
  r->logged_status = r->out_status;
  return ret;
}

static void too_large(http_req *r) {
  r->too_large = 1;
  free(r->body);
  r->body = NULL;
  r->body_len = r->body_cap = 0;
  http_reply_error(r, 413, "too_large", "the body is larger than %zu bytes", r->srv->opt.max_body);
}

static int append_body(http_req *r, const char *data, size_t n) {
  size_t max = r->srv->opt.max_body;
  if (r->too_large || n > max - r->body_len) return -1;
  if (r->body_len + n + 1 > r->body_cap) {
    size_t cap = r->body_cap ? r->body_cap : 4096;
    while (cap < r->body_len + n + 1) cap *= 2;
    if (cap > max + 1) cap = max + 1;
    char *grown = realloc(r->body, cap);
    if (!grown) return -1;
    r->body = grown;
    r->body_cap = cap;
  }
  memcpy(r->body + r->body_len, data, n);
  r->body_len += n;
  r->body[r->body_len] = '\0';
  return 0;
}

void http_dispatch(http_req *r) {
  if (r->path && !strcmp(r->path, "/metrics")) {   /* route: GET /metrics */
    http_metrics(r);
    return;
  }
  if (r->srv->opt.metrics_only) {   /* the private metrics listener serves nothing else */
    http_reply_error(r, 404, "not_found", "only /metrics is served here");
    return;
  }
  if (!r->path) {
    if (r->uri && !strncmp(r->uri, "/api", 4)) http_reply_error(r, 400, "bad_request", "malformed request path");
    else http_static(r);
    return;
  }
  if (!strcmp(r->path, "/api") || !strncmp(r->path, "/api/", 5)) http_route_api(r);
  else {
    http_metrics_route(r, http_metrics_method(r->method), NULL, "static");
    http_static(r);
  }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req_cls) {
  (void)cls;
  (void)url;
  (void)version;
  http_req *r = *req_cls;
  if (!r) return MHD_NO;   /* out of memory when the request began */
  if (!r->headers_seen) {
    r->headers_seen = 1;
    r->conn = conn;
    snprintf(r->method, sizeof r->method, "%s", method);
    http_parse_uri(r);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(cl, &end, 10);
      if (errno || *end || v > r->srv->opt.max_body) {
        count_in_flight(r);
        too_large(r);
        return send_reply(r);
      }
    }
    return MHD_YES;
  }
  if (*upload_size) {
    if (append_body(r, upload, *upload_size)) {
      if (!r->too_large) too_large(r);
      r->discarded += *upload_size;
      if (r->discarded > MAX_DISCARD) return MHD_NO;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  count_in_flight(r);
  /* a write goes to an executor (http_exec.c); it comes back here with its reply made */
  if (r->exec_state == HTTP_EXEC_NONE && http_exec_wants(r) && !http_exec_submit(r)) return MHD_YES;
  if (r->exec_state == HTTP_EXEC_NONE && !r->too_large) http_dispatch(r);
  return send_reply(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  fhlog(FHLOG_ERROR, "http: %s", msg);
}

/* --- start / stop ------------------------------------------------------------------------ */

static int open_listener(const char *host, int port, int *fd_out, int *port_out, fherr *err) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  int grc = getaddrinfo(host, service, &hints, &res);
  if (grc) return fherr_set(err, FH_BAD_REQUEST, "cannot listen on %s: %s", host, gai_strerror(grc));
  int fd = -1, saved = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      saved = errno;
      continue;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0) break;
    saved = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return fherr_set(err, FH_INTERNAL, "cannot listen on %s:%d: %s", host, port, strerror(saved));
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
    close(fd);
    return fherr_set(err, FH_INTERNAL, "getsockname: %s", strerror(errno));
  }
  *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  *fd_out = fd;
  return FH_OK;
}

static void server_free(http_server *s) {
  http_exec_free(s);
  for (int i = 0; i < s->nengines; i++) engine_close(s->engines[i]);
  free(s->workers);
  free(s->worker_conns);
  free(s->worker_busy);
  free(s->engines);
  engine_identity_cache_stop(s->idc, s->idl);
  for (int i = 0; i < s->nsvgs; i++) {
    free(s->svgs[i].flow);
    free(s->svgs[i].svg);
  }
  free(s->svgs);
  pthread_key_delete(s->engine_key);
  pthread_cond_destroy(&s->idle);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->reaper_cv);
  pthread_mutex_destroy(&s->conns_mu);
  if (s->feed_fd >= 0) close(s->feed_fd);
  free(s->db_path);
  free(s->host);
  free(s->web_root);
  free(s);
}

static void set_defaults(http_options *o) {
  if (o->threads <= 0) o->threads = 4;
  if (!o->max_body) o->max_body = 1u << 20;
  if (!o->conn_timeout) o->conn_timeout = 30;
  if (!o->request_timeout) o->request_timeout = 15;
  if (!o->per_ip_limit) o->per_ip_limit = 128;
  if (!o->conn_limit) o->conn_limit = 1024;
  if (!o->conn_reserve) o->conn_reserve = o->conn_limit / 4;
  if (o->conn_reserve >= o->conn_limit) o->conn_reserve = o->conn_limit / 2;
}

/* The server without its daemons: options, locks, the web folder, the
 * dummy hash.  On error it is freed. */
static int server_new(const http_options *opt, http_server **out, fherr *err) {
  http_server *s = calloc(1, sizeof *s);
  if (!s) return fherr_set(err, FH_INTERNAL, "out of memory");
  if (pthread_key_create(&s->engine_key, NULL) != 0) {
    free(s);
    return fherr_set(err, FH_INTERNAL, "pthread_key_create failed");
  }
  s->opt = *opt;
  set_defaults(&s->opt);
  s->listen_fd = s->feed_fd = -1;
  s->acceptor_wake[0] = s->acceptor_wake[1] = -1;
  s->nworkers = s->opt.embedded ? 1 : s->opt.threads;
  s->workers = calloc((size_t)s->nworkers, sizeof *s->workers);
  s->db_path = strdup(opt->db_path);
  s->host = strdup(opt->host ? opt->host : "127.0.0.1");
  s->svgs = calloc(MAX_SVGS, sizeof *s->svgs);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->idle, NULL);
  pthread_mutex_init(&s->conns_mu, NULL);
  int rc = http_conns_start(s, err);   /* inits reaper_cv (server_free destroys it) whatever happens */
  if (!rc && (!s->db_path || !s->host || !s->svgs || !s->workers)) rc = fherr_set(err, FH_INTERNAL, "out of memory");
  if (!rc && opt->web_dir) {
    char resolved[PATH_MAX];
    struct stat sb;
    if (realpath(opt->web_dir, resolved) && stat(resolved, &sb) == 0 && S_ISDIR(sb.st_mode))
      s->web_root = strdup(resolved);
    else
      fhlog(FHLOG_WARN, "web folder '%s' not found; serving the API only", opt->web_dir);
  }
  if (!rc) rc = http_auth_init(s, err);
  /* the sign-ins of requests kept in memory (not for the metrics listener) */
  if (!rc && !opt->metrics_only) rc = engine_identity_cache_start(s->db_path, &s->idc, &s->idl, err);
  if (rc) {
    http_conns_stop(s);
    server_free(s);
    return rc;
  }
  *out = s;
  return FH_OK;
}

/* The embedded daemon: no socket and no thread, run by http_feed. */
static struct MHD_Daemon *start_embedded(http_server *s) {
  return MHD_start_daemon(MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET, 0, http_conn_accept, s, on_request, s,
                          MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_NOTIFY_CONNECTION, http_conn_notify, s,
                          MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                          MHD_OPTION_END);
}

/* A worker: a daemon with a polling thread of its own and no listening
 * socket; the acceptor gives it its connections, having applied the
 * limits to the whole server (MHD's own, per worker, are the same
 * numbers and never reached first). */
static struct MHD_Daemon *start_worker(http_server *s) {
  const http_options *o = &s->opt;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                   MHD_ALLOW_SUSPEND_RESUME;
  flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
  return MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_CONNECTION_TIMEOUT,
      o->conn_timeout, MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_limit, MHD_OPTION_CONNECTION_LIMIT, o->conn_limit,
      MHD_OPTION_NOTIFY_CONNECTION, http_conn_notify, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
}

static void stop_workers(http_server *s) {
  for (int i = 0; i < s->nworkers; i++)
    if (s->workers[i]) MHD_stop_daemon(s->workers[i]);
}

int http_start(const http_options *opt, http_server **out, fherr *err) {
  *out = NULL;
  http_server *s;
  int rc = server_new(opt, &s, err);
  if (rc) return rc;
  if (opt->embedded) {
    if (!(s->workers[0] = start_embedded(s))) rc = fherr_set(err, FH_INTERNAL, "libmicrohttpd failed to start");
  } else if (!(rc = open_listener(s->host, opt->port, &s->listen_fd, &s->port, err))) {
    if (!opt->metrics_only) rc = http_exec_start(s, err);
    for (int i = 0; !rc && i < s->nworkers; i++)
      if (!(s->workers[i] = start_worker(s)))
        rc = fherr_set(err, FH_INTERNAL, "libmicrohttpd failed to start on %s:%d", s->host, s->port);
    if (!rc) rc = http_accept_start(s, err);
    if (!rc && !opt->metrics_only) metrics_http_workers(s->nworkers);
  }
  if (rc) {
    http_conns_stop(s);
    http_exec_stop(s);   /* nothing was suspended: no worker answered anything yet */
    stop_workers(s);
    if (s->listen_fd >= 0) close(s->listen_fd);
    server_free(s);
    return rc;
  }
  *out = s;
  return FH_OK;
}

int http_port(const http_server *s) { return s ? s->port : 0; }

void http_quiesce(http_server *s) {
  if (!s || atomic_exchange(&s->stopping, 1) || s->opt.embedded) return;
  http_accept_stop(s);
  /* Nobody accepts any more; shutting the socket down makes the kernel
   * refuse new connections instead of queueing them unanswered. */
  shutdown(s->listen_fd, SHUT_RDWR);
}

/* Waits up to `seconds` for the requests in flight to be answered; returns
 * how many are left. */
static int wait_in_flight(http_server *s, int seconds) {
  pthread_mutex_lock(&s->mu);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  while (s->in_flight > 0)
    if (pthread_cond_timedwait(&s->idle, &s->mu, &deadline) == ETIMEDOUT) break;
  int left = s->in_flight;
  pthread_mutex_unlock(&s->mu);
  return left;
}

void http_stop(http_server *s) {
  if (!s) return;
  /* Stop accepting; let requests in flight finish (their responses say
   * "Connection: close"); then stop the pool. */
  http_quiesce(s);
  int left = wait_in_flight(s, s->opt.stop_grace > 0 ? s->opt.stop_grace : STOP_GRACE_SECONDS);
  if (left > 0) fhlog(FHLOG_WARN, "%d requests still running; closing them", left);
  /* Writes still queued are answered 503; one being answered ends by its
   * budget.  Their replies are then sent by the workers: a worker must
   * not stop with a connection suspended (MHD). */
  http_exec_abandon(s);
  http_exec_stop(s);
  wait_in_flight(s, RESUMED_GRACE_SECONDS);
  http_conns_stop(s);
  stop_workers(s);
  if (s->listen_fd >= 0) close(s->listen_fd);
  server_free(s);
}
