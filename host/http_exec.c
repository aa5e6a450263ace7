/* http_exec — the executors: threads that answer the API's writes apart
 * from the threads that hold the connections.
 *
 * A worker (an MHD daemon with one polling thread, http.c) serves every
 * connection it was given, one request at a time.  A write runs the flow's
 * Lua callbacks (a start function, a handler, an assignment), each up to
 * its time budget, and a sign-in hashes a password; answered on the worker,
 * it held up every other connection of that worker, kept-alive ones
 * included: a browser's page load waited seconds behind another user's
 * long handler.  The acceptor only kept new connections away from it.
 *
 * So a write (an API request by POST, PUT, PATCH or DELETE) is queued here once
 * its body is in: its connection is suspended (MHD no longer watches it),
 * one of the executors answers it with an engine of its own, and resumes
 * the connection; MHD then calls the worker's request callback again,
 * which sends the reply made here.  Reads stay on the worker: they run no
 * callback but `summary`, and a hop to another thread would cost the
 * pages a tenth of their speed.  So does a write whose worker holds no
 * other connection: nobody waits for that worker, and the acceptor gives
 * new connections to workers not answering a request.  The hop (two
 * wake-ups) cost the helloworld cycle over HTTP 7% where every write took
 * it (bench/README.md, section 47).
 *
 * A stop answers the requests still queued after the grace period with 503
 * instead of running them, waits for those being answered (a callback
 * ends by its budget), and only then lets the workers stop: MHD must not
 * be stopped with a connection suspended.
 */
#include <pthread.h>
#include <stdlib.h>

#include "fhlog.h"
#include "http_internal.h"
#include "metrics.h"

struct http_exec {
  pthread_mutex_t mu;
  pthread_cond_t ready;        /* a request was queued, or the executors stop */
  http_req *head, *tail;       /* the queue, linked through exec_next */
  int stopping;                /* the threads end once the queue is empty */
  int abandon;                 /* queued requests get 503 instead of their answer */
  int nthreads;
  pthread_t *threads;
};

/* Answers r here (on an executor's thread, or at a stop on the stopping
 * one: 503) and gives its connection back to its worker, which sends the
 * reply. */
static void answer(http_req *r, int abandon) {
  if (abandon)
    http_reply_error(r, 503, "busy", "the server is stopping; the request was not run");
  else
    http_dispatch(r);
  /* logged as answered even if MHD finds the client gone before it asks
   * for the reply, as a reply queued on the worker is */
  r->logged_status = r->out_status;
  r->exec_state = HTTP_EXEC_ANSWERED;
  MHD_resume_connection(r->conn);   /* MHD's mutex orders the reply's fields before the worker reads them */
}

static void *executor_main(void *arg) {
  http_exec *x = arg;
  pthread_mutex_lock(&x->mu);
  for (;;) {
    while (!x->head && !x->stopping) pthread_cond_wait(&x->ready, &x->mu);
    http_req *r = x->head;
    if (!r) break;   /* stopping, and nothing left */
    x->head = r->exec_next;
    if (!x->head) x->tail = NULL;
    int abandon = x->abandon;
    pthread_mutex_unlock(&x->mu);
    metrics_http_writes(-1, 1);
    answer(r, abandon);
    metrics_http_writes(0, -1);
    pthread_mutex_lock(&x->mu);
  }
  pthread_mutex_unlock(&x->mu);
  return NULL;
}

int http_exec_start(http_server *s, fherr *err) {
  int n = s->opt.executors > 0 ? s->opt.executors : s->nworkers;
  http_exec *x = calloc(1, sizeof *x);
  if (!x || !(x->threads = calloc((size_t)n, sizeof *x->threads))) {
    free(x);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  pthread_mutex_init(&x->mu, NULL);
  pthread_cond_init(&x->ready, NULL);
  s->exec = x;
  for (int i = 0; i < n; i++) {
    if (pthread_create(&x->threads[i], NULL, executor_main, x)) {
      http_exec_stop(s);
      return fherr_set(err, FH_INTERNAL, "cannot start the executor threads");
    }
    x->nthreads++;
  }
  return FH_OK;
}

int http_exec_wants(const http_req *r) {
  if (!r->srv->exec || r->too_large || !r->path) return 0;
  /* the methods of the API's writes; GET, HEAD, OPTIONS and unknown ones (405) are quick */
  if (strcmp(r->method, "POST") && strcmp(r->method, "PUT") && strcmp(r->method, "PATCH") &&
      strcmp(r->method, "DELETE"))
    return 0;
  if (strcmp(r->path, "/api") && strncmp(r->path, "/api/", 5)) return 0;
  return !http_conn_alone(r->srv, r->conn);
}

int http_exec_submit(http_req *r) {
  http_exec *x = r->srv->exec;
  pthread_mutex_lock(&x->mu);
  if (x->stopping) {
    pthread_mutex_unlock(&x->mu);
    return -1;
  }
  /* suspended before an executor can see it: resuming a connection that
   * is not suspended is undefined */
  MHD_suspend_connection(r->conn);
  r->exec_state = HTTP_EXEC_QUEUED;
  r->exec_next = NULL;
  if (x->tail) x->tail->exec_next = r;
  else x->head = r;
  x->tail = r;
  metrics_http_writes(1, 0);
  pthread_cond_signal(&x->ready);
  pthread_mutex_unlock(&x->mu);
  /* before this callback returns, so before the worker can report it answered */
  http_conn_away(r->srv, r->conn);
  return 0;
}

void http_exec_abandon(http_server *s) {
  http_exec *x = s->exec;
  if (!x) return;
  pthread_mutex_lock(&x->mu);
  http_req *queued = x->head;
  x->head = x->tail = NULL;
  x->abandon = 1;   /* and any write that comes after this */
  pthread_mutex_unlock(&x->mu);
  /* answered here, now: the executors may all be inside long callbacks */
  int n = 0;
  while (queued) {
    http_req *r = queued;
    queued = r->exec_next;
    metrics_http_writes(-1, 0);
    answer(r, 1);
    n++;
  }
  if (n) fhlog(FHLOG_WARN, "%d queued writes answered 503 (stopping)", n);
}

void http_exec_stop(http_server *s) {
  http_exec *x = s->exec;
  if (!x) return;
  pthread_mutex_lock(&x->mu);
  x->stopping = 1;
  pthread_cond_broadcast(&x->ready);
  pthread_mutex_unlock(&x->mu);
  for (int i = 0; i < x->nthreads; i++) pthread_join(x->threads[i], NULL);
  x->nthreads = 0;
}

void http_exec_free(http_server *s) {
  http_exec *x = s->exec;
  if (!x) return;
  pthread_cond_destroy(&x->ready);
  pthread_mutex_destroy(&x->mu);
  free(x->threads);
  free(x);
  s->exec = NULL;
}
