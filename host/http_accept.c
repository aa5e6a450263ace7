/* http_accept — the acceptor: one thread takes each new connection off the
 * listening socket and gives it to the worker that holds the fewest,
 * avoiding one inside a long callback (http_conn_admit chooses it, under
 * the connection limits).
 *
 * Each worker is an MHD daemon with a polling thread of its own and no
 * listening socket; MHD_add_connection hands it a connection from this
 * thread and wakes it (MHD_USE_ITC).  MHD's own thread pool, where every
 * worker watches the shared listening socket, let whichever woke first
 * take up to ten connections in a row: a client that opened its
 * connections at once (a proxy's kept-alive upstream connections, wrk)
 * often had all of them on one worker, its requests answered one after
 * another on one CPU while the other workers slept.  The benchmark's
 * queue page ran at 9,300 requests/s with 43% of both CPUs idle in one
 * run of three, at 17,000-22,000 in the others (bench/README.md, section
 * 44); the same happened to the static file.
 *
 * A connection the policy refuses is closed at once, as MHD's accept policy
 * did.  When accept fails for want of descriptors or memory, the thread
 * waits a moment before it tries again (the connection stays in the
 * kernel's queue meanwhile), so it does not spin on it; such failures
 * are logged at most once per LOG_EVERY seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fhlog.h"
#include "fhtime.h"
#include "http_internal.h"

#define BACKOFF_MS 50         /* after a failed accept that will fail again at once */
#define LOG_EVERY 10.0        /* seconds between two reports of failed accepts */
#define BURST 64              /* connections taken before looking at the wake-up pipe again */

/* Takes what the kernel has queued, up to BURST; 1 when accept failed in a
 * way that calls for a pause. */
static int take_queued(http_server *s, double *logged) {
  for (int i = 0; i < BURST; i++) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      double now = fhtime_monotonic();
      if (now - *logged >= LOG_EVERY) {
        fhlog(FHLOG_WARN, "cannot accept connections: %s", strerror(errno));
        *logged = now;
      }
      return 1;
    }
    int worker;
    if (!http_conn_admit(s, fd, (struct sockaddr *)&ss, &worker)) {
      close(fd);
      continue;
    }
    /* MHD closes the socket itself when it cannot take it */
    if (MHD_add_connection(s->workers[worker], fd, (struct sockaddr *)&ss, len) != MHD_YES) http_conn_forget(s, fd);
  }
  return 0;
}

/* Waits BACKOFF_MS, or less when told to stop; 1 when told to stop. */
static int pause_or_stop(http_server *s) {
  struct pollfd w = {.fd = s->acceptor_wake[0], .events = POLLIN};
  int n = poll(&w, 1, BACKOFF_MS);
  if (n < 0) {   /* poll cannot even wait on the pipe (no memory): wait without it */
    struct timespec ts = {0, BACKOFF_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
  return n > 0;
}

static void *acceptor_main(void *arg) {
  http_server *s = arg;
  double logged = -LOG_EVERY;
  for (;;) {
    struct pollfd p[2] = {{.fd = s->acceptor_wake[0], .events = POLLIN}, {.fd = s->listen_fd, .events = POLLIN}};
    int n = poll(p, 2, -1);
    if (n < 0) {   /* EINTR, or no memory for the wait: look again (after a pause) */
      if (errno != EINTR && pause_or_stop(s)) break;
      continue;
    }
    if (p[0].revents) break;   /* told to stop */
    if (p[1].revents & (POLLERR | POLLNVAL)) {
      fhlog(FHLOG_ERROR, "the listening socket failed: no new connections are taken");
      break;
    }
    if ((p[1].revents & POLLIN) && take_queued(s, &logged) && pause_or_stop(s)) break;
  }
  return NULL;
}

int http_accept_start(http_server *s, fherr *err) {
  if (pipe2(s->acceptor_wake, O_CLOEXEC) != 0) {
    s->acceptor_wake[0] = s->acceptor_wake[1] = -1;
    return fherr_set(err, FH_INTERNAL, "pipe: %s", strerror(errno));
  }
  if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
    close(s->acceptor_wake[0]);
    close(s->acceptor_wake[1]);
    s->acceptor_wake[0] = s->acceptor_wake[1] = -1;
    return fherr_set(err, FH_INTERNAL, "cannot start the acceptor thread");
  }
  s->acceptor_running = 1;
  return FH_OK;
}

void http_accept_stop(http_server *s) {
  if (!s->acceptor_running) return;
  char byte = 1;
  while (write(s->acceptor_wake[1], &byte, 1) < 0 && errno == EINTR) {
  }
  pthread_join(s->acceptor, NULL);
  s->acceptor_running = 0;
  close(s->acceptor_wake[0]);
  close(s->acceptor_wake[1]);
  s->acceptor_wake[0] = s->acceptor_wake[1] = -1;
}
