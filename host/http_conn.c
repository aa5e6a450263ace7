/* http_conn — the connections of the HTTP host: who may connect, how long a
 * connection may take to send its request, and (for the fuzzers) feeding
 * one request through the whole stack without a network.
 *
 * Slow clients.  libmicrohttpd's own timeout measures idleness only, so a
 * client that trickles a byte now and then holds its connection forever,
 * and enough of them hold every connection.  Three rules keep a slot for
 * everyone else:
 *  - a deadline: a connection must deliver each whole request, headers and
 *    body, within request_timeout seconds of opening (or of the end of the
 *    previous answer on a kept-alive connection); the reaper thread shuts
 *    down the socket of one that did not (MHD then closes it);
 *  - a per-address limit (per_ip_limit connections; IPv6 counts by /64);
 *  - a global limit with a reserve: once fewer than conn_reserve slots are
 *    free, an address that already holds HTTP_RESERVE_SHARE connections
 *    gets no more, so the last slots go to addresses that hold few.
 * The acceptor (http_accept.c) asks the policy (http_conn_admit) before
 * it gives a connection to a worker, and the connection is in the list
 * from then on, so a burst of connections is counted one by one even
 * before the workers report them; the worker's report of its start
 * (http_conn_notify) finds it there by its descriptor.  An embedded
 * server's MHD asks http_conn_accept and the start makes the entry.  The
 * request callbacks of http.c mark a connection busy while its request is
 * answered (no deadline then: a handler may take its time budget).  One
 * mutex guards the connection list; MHD reports a connection's end before
 * it closes the socket, and the reaper leaves alone the few entries no
 * worker has reported yet, so it never shuts down a reused descriptor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fhlog.h"
#include "fhtime.h"
#include "http_internal.h"
#include "metrics.h"

#define REAP_EVERY 0.25       /* seconds between the reaper's rounds */
#define LOG_EVERY 10.0        /* seconds between two summaries of refusals */

struct http_conn {
  struct http_conn *prev, *next;
  int fd;
  http_addr addr;
  double since;     /* monotonic: when it began waiting for its current request */
  int busy;         /* a request of it is being answered */
  int away;         /* ... by an executor (http_exec.c): its worker is free meanwhile */
  int reaped;       /* shut down past its deadline; MHD closes it next */
  int worker;       /* the index of the worker (MHD daemon) that has it */
  int started;      /* its worker reported it (until then it is the acceptor's) */
};

/* --- addresses ------------------------------------------------------------------- */

void http_addr_of(const struct sockaddr *sa, http_addr *out) {
  memset(out, 0, sizeof *out);
  if (!sa) return;
  if (sa->sa_family == AF_INET) {
    out->family = AF_INET;
    memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(b, mapped, 12)) {
      out->family = AF_INET;
      memcpy(out->bytes, b + 12, 4);
    } else {
      out->family = AF_INET6;
      memcpy(out->bytes, b, 8);   /* the /64: one site's many addresses count as one */
    }
  }
}

void http_addr_text(const http_addr *a, char out[HTTP_ADDR_LEN]) {
  char buf[INET6_ADDRSTRLEN];
  if (a->family == AF_INET && inet_ntop(AF_INET, a->bytes, buf, sizeof buf))
    snprintf(out, HTTP_ADDR_LEN, "%s", buf);
  else if (a->family == AF_INET6 && inet_ntop(AF_INET6, a->bytes, buf, sizeof buf))
    snprintf(out, HTTP_ADDR_LEN, "%s/64", buf);
  else
    snprintf(out, HTTP_ADDR_LEN, "-");
}

void http_client_addr(http_req *r, char out[HTTP_ADDR_LEN]) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  http_addr a;
  http_addr_of(ci ? ci->client_addr : NULL, &a);
  http_addr_text(&a, out);
}

static int same_addr(const http_addr *a, const http_addr *b) {
  return a->family == b->family && !memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

/* --- the accept policy and the connection list ----------------------------------- */

/* Whether a new connection from a must be refused (conns_mu held). */
static int refuse_locked(http_server *s, const http_addr *a) {
  unsigned limit = s->opt.conn_limit, reserve = s->opt.conn_reserve;
  unsigned mine = 0;
  for (struct http_conn *c = s->conns; c; c = c->next) mine += same_addr(&c->addr, a);
  unsigned total = (unsigned)s->nconns;
  int refuse = mine >= s->opt.per_ip_limit || total >= limit ||
               (total + reserve >= limit && mine >= HTTP_RESERVE_SHARE);
  if (refuse) s->refused++;
  return refuse;
}

enum MHD_Result http_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
  (void)addrlen;
  http_server *s = cls;
  http_addr a;
  http_addr_of(addr, &a);
  pthread_mutex_lock(&s->conns_mu);
  int refuse = refuse_locked(s, &a);
  pthread_mutex_unlock(&s->conns_mu);
  return refuse ? MHD_NO : MHD_YES;
}

/* conns_mu held: c joins the list, counted on its worker. */
static void link_conn(http_server *s, struct http_conn *c) {
  c->next = s->conns;
  c->prev = NULL;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  s->worker_conns[c->worker]++;
  if (!s->opt.metrics_only) metrics_http_connections(c->worker, 1);
}

/* conns_mu held: c leaves the list (the caller frees it). */
static void unlink_conn(http_server *s, struct http_conn *c) {
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
  s->worker_conns[c->worker]--;
  if (c->busy && !c->away) s->worker_busy[c->worker]--;
  if (!s->opt.metrics_only) metrics_http_connections(c->worker, -1);
}

/* A request its worker is answering counts as this many connections: a
 * worker answers one request at a time, so a connection given to a worker
 * that is busy with a slow one waits for it.  A new connection goes
 * elsewhere unless every other worker holds this many more connections,
 * which may all be asking at once too.  A write an executor answers does
 * not count: its worker is free meanwhile. */
#define BUSY_WEIGHT 8

/* conns_mu held: the worker with the fewest connections, counting a
 * request being answered as BUSY_WEIGHT; among equals the next after the
 * last one chosen, so that idle workers take turns. */
static int least_busy_worker(http_server *s) {
  int best = -1, best_load = 0;
  for (int k = 0; k < s->nworkers; k++) {
    int w = (s->next_worker + k) % s->nworkers;
    int load = s->worker_conns[w] + BUSY_WEIGHT * s->worker_busy[w];
    if (best < 0 || load < best_load) {
      best = w;
      best_load = load;
    }
  }
  s->next_worker = (best + 1) % s->nworkers;
  return best;
}

int http_conn_admit(http_server *s, int fd, const struct sockaddr *addr, int *worker) {
  http_addr a;
  http_addr_of(addr, &a);
  struct http_conn *c = calloc(1, sizeof *c);
  pthread_mutex_lock(&s->conns_mu);
  int ok = c && !refuse_locked(s, &a);
  if (ok) {
    c->fd = fd;
    c->addr = a;
    c->since = fhtime_monotonic();
    c->worker = *worker = least_busy_worker(s);
    link_conn(s, c);
  }
  pthread_mutex_unlock(&s->conns_mu);
  if (!ok) free(c);
  return ok;
}

/* conns_mu held: the newest entry of fd that no worker reported yet. */
static struct http_conn *unstarted_of(http_server *s, int fd) {
  for (struct http_conn *c = s->conns; c; c = c->next)
    if (!c->started && c->fd == fd) return c;
  return NULL;
}

void http_conn_forget(http_server *s, int fd) {
  pthread_mutex_lock(&s->conns_mu);
  struct http_conn *c = unstarted_of(s, fd);
  if (c) unlink_conn(s, c);
  pthread_mutex_unlock(&s->conns_mu);
  free(c);
}

static void conn_started(http_server *s, struct MHD_Connection *mc, void **socket_context) {
  const union MHD_ConnectionInfo *fd = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
  int sock = fd ? fd->connect_fd : -1;
  pthread_mutex_lock(&s->conns_mu);
  struct http_conn *c = sock >= 0 ? unstarted_of(s, sock) : NULL;
  if (c) c->started = 1;
  /* Older entries of the same descriptor were never reported: MHD gave
   * up on them between taking them and starting them, and the
   * descriptor came back for this one.  Not counted any longer. */
  for (struct http_conn *old = c ? c->next : NULL, *next; old; old = next) {
    next = old->next;
    if (!old->started && old->fd == sock) {
      unlink_conn(s, old);
      free(old);
    }
  }
  pthread_mutex_unlock(&s->conns_mu);
  if (!c) {   /* an embedded server's: MHD asked http_conn_accept */
    c = calloc(1, sizeof *c);
    if (!c) return;   /* untracked: no deadline, counted by MHD's own limits only */
    const union MHD_ConnectionInfo *ca = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const union MHD_ConnectionInfo *d = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_DAEMON);
    for (int w = 0; d && w < s->nworkers; w++)
      if (s->workers[w] == d->daemon) c->worker = w;
    c->fd = sock;
    http_addr_of(ca ? ca->client_addr : NULL, &c->addr);
    c->since = fhtime_monotonic();
    c->started = 1;
    pthread_mutex_lock(&s->conns_mu);
    link_conn(s, c);
    pthread_mutex_unlock(&s->conns_mu);
  }
  *socket_context = c;
}

static void conn_closed(http_server *s, void **socket_context) {
  struct http_conn *c = *socket_context;
  if (!c) return;
  pthread_mutex_lock(&s->conns_mu);
  unlink_conn(s, c);
  pthread_mutex_unlock(&s->conns_mu);
  *socket_context = NULL;
  free(c);
}

void http_conn_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                      enum MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED) conn_started(cls, mc, socket_context);
  else conn_closed(cls, socket_context);
}

/* The entry MHD keeps with the connection (conn_started); NULL: none. */
static struct http_conn *conn_of(struct MHD_Connection *mc) {
  const union MHD_ConnectionInfo *ci = mc ? MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
  return ci ? ci->socket_context : NULL;
}

void http_conn_busy(http_server *s, struct MHD_Connection *mc, int busy) {
  struct http_conn *c = conn_of(mc);
  if (!c) return;
  pthread_mutex_lock(&s->conns_mu);
  if (c->busy != busy && !c->away) s->worker_busy[c->worker] += busy ? 1 : -1;
  c->busy = busy;
  if (!busy) {
    c->away = 0;
    c->since = fhtime_monotonic();   /* the next request's deadline starts now */
  }
  pthread_mutex_unlock(&s->conns_mu);
}

void http_conn_away(http_server *s, struct MHD_Connection *mc) {
  struct http_conn *c = conn_of(mc);
  if (!c) return;
  pthread_mutex_lock(&s->conns_mu);
  if (c->busy && !c->away) s->worker_busy[c->worker]--;
  c->away = c->busy;
  pthread_mutex_unlock(&s->conns_mu);
}

int http_conn_alone(http_server *s, struct MHD_Connection *mc) {
  struct http_conn *c = conn_of(mc);
  if (!c) return 0;
  pthread_mutex_lock(&s->conns_mu);
  int alone = s->worker_conns[c->worker] <= 1;   /* connections admitted to it and not yet started count */
  pthread_mutex_unlock(&s->conns_mu);
  return alone;
}

/* --- the reaper ------------------------------------------------------------------- */

/* Shuts down the connections past their deadline; returns how many. */
static unsigned long reap(http_server *s, double now) {
  unsigned long n = 0;
  for (struct http_conn *c = s->conns; c; c = c->next) {
    if (!c->started || c->busy || c->reaped || c->fd < 0 || now - c->since <= s->opt.request_timeout) continue;
    shutdown(c->fd, SHUT_RDWR);
    c->reaped = 1;
    n++;
  }
  return n;
}

static void *reaper_main(void *arg) {
  http_server *s = arg;
  unsigned long reaped = 0, refused = 0;
  double logged = fhtime_monotonic();
  pthread_mutex_lock(&s->conns_mu);
  while (!s->reaper_stop) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)(REAP_EVERY * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->reaper_cv, &s->conns_mu, &ts);
    double now = fhtime_monotonic();
    reaped += reap(s, now);
    refused += s->refused;
    s->refused = 0;
    if ((reaped || refused) && now - logged >= LOG_EVERY) {
      int held = s->nconns;
      pthread_mutex_unlock(&s->conns_mu);
      fhlog(FHLOG_WARN, "connections: %lu refused by the limits, %lu closed for not sending a whole request "
                        "within %u s (%d open)", refused, reaped, s->opt.request_timeout, held);
      pthread_mutex_lock(&s->conns_mu);
      reaped = refused = 0;
      logged = now;
    }
  }
  pthread_mutex_unlock(&s->conns_mu);
  return NULL;
}

int http_conns_start(http_server *s, fherr *err) {
  size_t nw = (size_t)(s->nworkers > 0 ? s->nworkers : 1);
  s->worker_conns = calloc(nw, sizeof *s->worker_conns);
  s->worker_busy = calloc(nw, sizeof *s->worker_busy);
  if (!s->worker_conns || !s->worker_busy) return fherr_set(err, FH_INTERNAL, "out of memory");
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->reaper_cv, &ca);
  pthread_condattr_destroy(&ca);
  if (s->opt.embedded) return FH_OK;   /* fed by the caller: no deadline to keep */
  if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0)
    return fherr_set(err, FH_INTERNAL, "cannot start the connection reaper thread");
  s->reaper_running = 1;
  return FH_OK;
}

void http_conns_stop(http_server *s) {
  if (!s->reaper_running) return;
  pthread_mutex_lock(&s->conns_mu);
  s->reaper_stop = 1;
  pthread_cond_signal(&s->reaper_cv);
  pthread_mutex_unlock(&s->conns_mu);
  pthread_join(s->reaper, NULL);
  s->reaper_running = 0;
}

/* --- feeding a request (embedded servers) -------------------------------------------- */

/* Appends what the client end can read now; -1 once the server closed it. */
static int drain(int fd, char **buf, size_t *len, size_t *cap) {
  for (;;) {
    if (*cap - *len < 4096) {
      size_t want = *cap ? *cap * 2 : 8192;
      char *grown = realloc(*buf, want);
      if (!grown) return -1;
      *buf = grown;
      *cap = want;
    }
    ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
    if (n > 0) {
      *len += (size_t)n;
      continue;
    }
    if (n == 0) return -1;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  }
}

/* A new loopback TCP connection: *client our end, *server_end MHD's; the
 * listening socket is made on first use and kept (s->feed_fd). */
static int feed_pair(http_server *s, int *client, int *server_end, struct sockaddr_in *peer) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (s->feed_fd < 0) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) {
      if (fd >= 0) close(fd);
      return -1;
    }
    s->feed_fd = fd;
  }
  if (getsockname(s->feed_fd, (struct sockaddr *)&a, &len) != 0) return -1;
  /* non-blocking, and accept retried: a signal (libFuzzer's timer) may
   * interrupt either */
  *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (*client < 0) return -1;
  if (connect(*client, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS && errno != EINTR) {
    close(*client);
    return -1;
  }
  do {
    len = sizeof *peer;
    *server_end = accept4(s->feed_fd, (struct sockaddr *)peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  } while (*server_end < 0 && errno == EINTR);
  if (*server_end < 0) {
    close(*client);
    return -1;
  }
  return 0;
}

int http_feed(http_server *s, const char *text, size_t len, char **reply, size_t *reply_len) {
  *reply = NULL;
  *reply_len = 0;
  int cl, sv;
  struct sockaddr_in peer;
  if (!s->opt.embedded || feed_pair(s, &cl, &sv, &peer) != 0) return -1;
  if (MHD_add_connection(s->workers[0], sv, (const struct sockaddr *)&peer, sizeof peer) != MHD_YES) {
    close(cl);   /* MHD closed sv */
    return -1;
  }
  size_t sent = 0, cap = 0;
  int shut = 0, idle = 0;
  while (idle < 1000) {   /* rounds without progress: MHD waits for nothing we can give */
    int moved = 0;
    if (sent < len) {
      ssize_t n = write(cl, text + sent, len - sent);
      if (n > 0) sent += (size_t)n;
      moved = n > 0;
    } else if (!shut && idle >= 20) {
      /* all sent and MHD waits for more (an incomplete request, or one
       * that keeps the connection): the client is done, as a real one
       * that closes would be; earlier, MHD could drop a queued answer */
      shutdown(cl, SHUT_WR);
      shut = moved = 1;
    }
    MHD_run(s->workers[0]);
    size_t before = *reply_len;
    if (drain(cl, reply, reply_len, &cap) < 0) break;
    idle = moved || *reply_len > before ? 0 : idle + 1;
  }
  /* a reset, not a close: neither end lingers in TIME_WAIT, so thousands of
   * feeds a second do not run out of loopback ports */
  struct linger reset = {.l_onoff = 1, .l_linger = 0};
  setsockopt(cl, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  close(cl);
  MHD_run(s->workers[0]);   /* let MHD see the end and close its side */
  if (*reply) (*reply)[*reply_len] = '\0';
  return 0;
}
