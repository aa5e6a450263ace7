/* http — the HTTP host of `flowhost serve`: the JSON API of http-api.md and
 * the static files of the web UI, over libmicrohttpd.
 *
 * A server runs a pool of MHD threads (epoll when available, else poll).
 * Each pool thread makes its own engine the first time it needs one (own
 * database connection and Lua state; engines are never shared between
 * threads); the server keeps them all and closes them when it stops.
 * The flow registry is shared and not owned.
 *
 * The layer is split by job: http.c (daemon, request lifecycle, access
 * log, per-thread engines), http_conn.c (connection limits, the request
 * deadline), http_route.c (the /api routes), http_auth.c
 * (sessions, bearer tokens, CSRF), http_static.c (files of the web folder),
 * http_json.c (JSON bodies, query strings, replies).  They share
 * http_internal.h; nothing outside the layer includes it.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "fherr.h"
#include "flowreg.h"

typedef struct http_options {
  flowreg *flows;            /* shared, not owned */
  const char *db_path;
  int synchronous_full;      /* passed to every engine */
  const char *host;          /* address to listen on: "127.0.0.1", "::1", "0.0.0.0" */
  int port;                  /* 0: the system picks a free port (see http_port) */
  const char *web_dir;       /* static files; NULL or missing: only /api is served */
  int threads;               /* pool size; default 4 */
  int executors;             /* threads answering writes (http_exec.c); default: threads */
  size_t max_body;           /* bytes; default 1 MiB */
  unsigned conn_timeout;     /* seconds of inactivity; default 30 */
  unsigned request_timeout;  /* seconds to deliver a whole request (headers and body); default 15 */
  unsigned per_ip_limit;     /* connections per client address (IPv6: per /64); default 128 */
  unsigned conn_limit;       /* connections in total; default 1024 */
  unsigned conn_reserve;     /* the last slots, only for addresses holding few; default conn_limit / 4 */
  int embedded;              /* no socket, no threads: requests come through http_feed (fuzzers) */
  int access_log;            /* one line per request on stderr */
  double budget_seconds;     /* Lua callback budget of every engine; default 5 */
  struct jobs *jobs;         /* woken after each successful write; may be NULL */
  int metrics_only;          /* serves GET /metrics alone, without authentication (--metrics-listen) */
  int index_elsewhere;       /* job workers re-index search fields after a reload: requests never do */
  struct token_uses *token_uses;   /* shared, not owned: where sign-ins by token are noted (NULL: nowhere) */
  int stop_grace;            /* seconds http_stop lets the requests in flight run, writes queued for an
                                executor among them, before those still queued are answered 503; default 10 */
} http_options;

typedef struct http_server http_server;

/* Binds, starts the pool and returns once the server accepts connections.
 * On error nothing is left running and *out is NULL. */
int http_start(const http_options *opt, http_server **out, fherr *err);
/* The port actually bound (useful with port 0). */
int http_port(const http_server *s);
/* Stops accepting new connections at once (new ones are refused); the
 * requests under way go on.  NULL-safe; http_stop does it too. */
void http_quiesce(http_server *s);
/* Stops accepting, lets requests in flight finish (up to a grace period),
 * stops the pool, closes every engine and frees the server.  NULL-safe. */
void http_stop(http_server *s);

#endif
