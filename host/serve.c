/* serve — `flowhost serve`: loads the flows, makes the first admin on an
 * empty database, runs the HTTP host until SIGINT/SIGTERM, then shuts
 * everything down in order and exits 0. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jobs.h"
#include "engine.h"
#include "metrics.h"
#include "engine_metrics.h"
#include "engine_versions.h"
#include "fhlog.h"
#include "flowreg.h"
#include "graph.h"
#include "http.h"
#include "identity.h"
#include "hostbeat.h"
#include "upkeep.h"
#include "reload.h"
#include "token_use.h"

static const char SERVE_USAGE[] =
    "usage: flowhost serve [--flows DIR] [--db FILE] [--listen HOST:PORT] [--web DIR] [--threads N] [--jobs N]\n"
    "                     [--executors N] [--metrics-listen HOST:PORT] [--metrics-max-age S] [--index-upkeep S]\n"
    "\n"
    "  --flows DIR        flow files (default: flows)\n"
    "  --db FILE          SQLite database (default: flowhost.db); a postgresql:// URL: PostgreSQL\n"
    "  --listen HOST:PORT address to serve on (default: 127.0.0.1:8080; port 0 picks a free one)\n"
    "  --web DIR          static files of the web UI (default: web)\n"
    "  --threads N        HTTP worker threads (default: 4); each new connection goes to the one\n"
    "                     that holds the fewest, avoiding one inside a long callback\n"
    "  --executors N      threads answering the API's writes of workers that hold other connections\n"
    "                     too (default: --threads): as many writes' callbacks run at once\n"
    "  --name NAME        this host's name in GET /api/flows' list of the hosts serving each flow\n"
    "                     (default: HOSTNAME:PORT; each host on one database needs its own)\n"
    "  --jobs N           background job workers (default: 1; 0 runs no jobs)\n"
    "  --budget S         time budget of each Lua callback in seconds (default: 5)\n"
    "  --poll S           how often job workers look for due work without a wake-up (default: 1);\n"
    "                     on PostgreSQL every host's writes wake them at once (LISTEN/NOTIFY)\n"
    "  --lease-grace S    how long a job's lease outlasts its budget (default: 30);\n"
    "                     after a crash, jobs of a dead worker run again once it expires\n"
    "  --index-upkeep S   PostgreSQL: how often the host rebuilds the indexes of open work that\n"
    "                     finished tasks left sparse (default: 600; 0: never; docs/architecture-pg.md)\n"
    "  --request-timeout S  seconds a client has to send a whole request (default: 15)\n"
    "  --max-connections N  connections at once (default: 1024; the last quarter is kept\n"
    "                     for addresses that hold few)\n"
    "  --per-address N    connections per client address, IPv6 per /64 (default: 128)\n"
    "  --metrics-listen HOST:PORT  also serve GET /metrics there, without authentication:\n"
    "                     keep it on a private address (default: off; /metrics on --listen is for admins)\n"
    "  --metrics-max-age S  seconds the task and job gauges of /metrics are kept between reads of the\n"
    "                     database (default: 5; 0: read at every scrape)\n"
    "  --lua-unsafe       flows get Lua's full libraries (os.execute, io, debug, C modules);\n"
    "                     by default they run sandboxed (docs/flow-dsl.md, \"Sandbox\")\n"
    "  --lua DIR, --sync full|normal, --mmap MIB   as for every command\n";

static int serve_usage(const char *why) {
  if (why) fprintf(stderr, "flowhost: %s\n\n", why);
  fputs(SERVE_USAGE, stderr);
  return 2;
}

typedef struct serve_opts {
  char host[256];
  int port;
  const char *web_dir;
  int threads;
  int executors;   /* 0: as many as threads */
  int jobs;
  double budget;
  double lease_grace;
  double poll;
  int index_upkeep;          /* --index-upkeep seconds; 0: off */
  int request_timeout;
  int max_connections;
  int per_address;
  char metrics_host[256];    /* "" when there is no --metrics-listen */
  int metrics_port;
  double metrics_max_age;    /* --metrics-max-age */
  const char *name;          /* --name; NULL: HOSTNAME:PORT */
} serve_opts;

static int parse_int(const char *s, int lo, int hi, int *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return 0;
  *out = (int)v;
  return 1;
}

/* Seconds from lo to 3600. */
static int parse_seconds(const char *s, double lo, double *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !(v >= lo && v <= 3600)) return 0;
  *out = v;
  return 1;
}

/* "127.0.0.1:8080", "localhost:0", "[::1]:8080" */
static int parse_listen(const char *s, serve_opts *o) {
  const char *colon;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':') return 0;
    if ((size_t)(close - s - 1) >= sizeof o->host || close == s + 1) return 0;
    snprintf(o->host, sizeof o->host, "%.*s", (int)(close - s - 1), s + 1);
    colon = close + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof o->host) return 0;
    snprintf(o->host, sizeof o->host, "%.*s", (int)(colon - s), s);
  }
  return parse_int(colon + 1, 0, 65535, &o->port);
}

/* A host name is shown in lists and logs: printable, not too long. */
static int valid_host_name(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > 100) return 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f) return 0;
  return 1;
}

/* argv holds the word "serve" and the options, global ones included (cli_main
 * has read those already), in any order. */
static int parse_serve_args(int argc, char **argv, serve_opts *o) {
  static const char *const globals[] = {"flows", "db", "lua", "sync", "mmap", NULL};
  int seen_command = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!seen_command && !strcmp(a, "serve")) {
      seen_command = 1;
      continue;
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {   /* README points here */
      fputs(SERVE_USAGE, stdout);
      return -1;
    }
    if (strncmp(a, "--", 2) != 0 || !a[2]) return serve_usage("serve takes options only");
    if (!strcmp(a, "--lua-unsafe")) continue;   /* a global flag, read by cli_main */
    char name[32];
    const char *value;
    const char *eq = strchr(a + 2, '=');
    if (eq) {
      snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
      value = eq + 1;
    } else {
      snprintf(name, sizeof name, "%s", a + 2);
      if (i + 1 >= argc) {
        fprintf(stderr, "flowhost: option needs a value: %s\n\n", a);
        return serve_usage(NULL);
      }
      value = argv[++i];
    }
    int known_global = 0;
    for (const char *const *g = globals; *g; g++) known_global |= !strcmp(*g, name);
    if (known_global) continue;
    if (!strcmp(name, "listen")) {
      if (!parse_listen(value, o)) return serve_usage("--listen must be HOST:PORT (port 0 to 65535)");
    } else if (!strcmp(name, "metrics-listen")) {
      serve_opts m = {.port = 0};
      if (!parse_listen(value, &m)) return serve_usage("--metrics-listen must be HOST:PORT (port 0 to 65535)");
      snprintf(o->metrics_host, sizeof o->metrics_host, "%s", m.host);
      o->metrics_port = m.port;
    } else if (!strcmp(name, "metrics-max-age")) {
      if (!parse_seconds(value, 0, &o->metrics_max_age))
        return serve_usage("--metrics-max-age must be seconds (0 to 3600)");
    } else if (!strcmp(name, "name")) {
      if (!valid_host_name(value)) return serve_usage("--name must be 1 to 100 printable characters");
      o->name = value;
    } else if (!strcmp(name, "web")) {
      o->web_dir = value;
    } else if (!strcmp(name, "threads")) {
      if (!parse_int(value, 1, 256, &o->threads)) return serve_usage("--threads must be from 1 to 256");
    } else if (!strcmp(name, "executors")) {
      if (!parse_int(value, 1, 256, &o->executors)) return serve_usage("--executors must be from 1 to 256");
    } else if (!strcmp(name, "jobs")) {
      if (!parse_int(value, 0, 256, &o->jobs)) return serve_usage("--jobs must be from 0 to 256");
    } else if (!strcmp(name, "budget")) {
      if (!parse_seconds(value, 0.01, &o->budget)) return serve_usage("--budget must be seconds (0.01 to 3600)");
    } else if (!strcmp(name, "request-timeout")) {
      if (!parse_int(value, 1, 3600, &o->request_timeout)) return serve_usage("--request-timeout must be 1 to 3600");
    } else if (!strcmp(name, "max-connections")) {
      if (!parse_int(value, 16, 65536, &o->max_connections)) return serve_usage("--max-connections must be 16 to 65536");
    } else if (!strcmp(name, "per-address")) {
      if (!parse_int(value, 1, 65536, &o->per_address)) return serve_usage("--per-address must be 1 to 65536");
    } else if (!strcmp(name, "poll")) {
      if (!parse_seconds(value, 0.01, &o->poll)) return serve_usage("--poll must be seconds (0.01 to 3600)");
    } else if (!strcmp(name, "index-upkeep")) {
      if (!parse_int(value, 0, 86400, &o->index_upkeep)) return serve_usage("--index-upkeep must be 0 to 86400 seconds");
    } else if (!strcmp(name, "lease-grace")) {
      if (!parse_seconds(value, 0.01, &o->lease_grace)) return serve_usage("--lease-grace must be seconds (0.01 to 3600)");
    } else {
      fprintf(stderr, "flowhost: unknown option --%s\n\n", name);
      return serve_usage(NULL);
    }
  }
  return 0;
}

static void report_flows(flowreg *reg) {
  flowgen *gen = flowreg_acquire(reg);
  if (!gen) return;
  for (int i = 0; i < gen->n; i++) {
    const flow_entry *fe = &gen->entries[i];
    if (fe->has_error)
      fhlog(FHLOG_ERROR, "flow %s failed to load: %s:%d: %s", fe->name, fe->error_file, fe->error_line,
            fe->error_message);
  }
  fhlog(FHLOG_INFO, "%d flows loaded from %s (%d with errors)", gen->n, flowreg_dir(reg),
        flowgen_count_errors(gen));
  flowgen_release(reg, gen);
}

/* On a database without users, creates `admin` with a random password and
 * prints it once. */
static int bootstrap_admin(flowreg *reg, const cli_globals *g, fherr *err) {
  engine_options eo = {.flows = reg, .db_path = g->db_path, .synchronous_full = !g->sync_normal,
                       .worker_name = "serve"};
  engine *e;
  int rc = engine_open(&eo, &e, err);
  if (rc) return rc;
  char password[IDENTITY_PASSWORD_LEN];
  int created = 0;
  if (!(rc = identity_ensure_admin(e, password, &created, err)) && created) {
    printf("created user admin with password %s\n", password);
    fflush(stdout);
  }
  if (!rc) engine_versions_record(e);   /* before serving: the workers find them current */
  if (!rc) engine_index_search(e);   /* before listening: no request waits for it */
  engine_close(e);
  return rc;
}

/* The registry of the flows, sandboxed unless --lua-unsafe (then said in the log). */
static flowreg *new_flows(const cli_globals *g, fherr *err) {
  flowreg *reg = flowreg_new(g->flows_dir, g->lua_dir, err);
  if (reg) flowreg_set_lua_unsafe(reg, g->lua_unsafe);
  if (reg && g->lua_unsafe)
    fhlog(FHLOG_WARN, "--lua-unsafe: flows get Lua's full libraries; their system calls are beyond the time budget");
  return reg;
}

/* Shutting down waits for the requests and the job under way; each Lua
 * callback among them ends within its time budget, but a --budget or job
 * timeout can be long, and a --lua-unsafe flow may sit in a system call.
 * A shutdown still going after SHUTDOWN_LIMIT seconds ends the process as
 * a crash would: nothing half-done is committed, and jobs under way run
 * again once their lease expires. */
#define SHUTDOWN_LIMIT 8
/* The requests in flight get this long; then writes still queued for an
 * executor are answered 503 (nothing of them written: the client may send
 * them again to a host that runs) instead of being cut off by the limit
 * with no answer at all, and the write being answered has the rest of
 * the limit to end by its budget. */
#define SHUTDOWN_WRITES_GRACE 5

static void *shutdown_watchdog(void *arg) {
  (void)arg;
  struct timespec left = {SHUTDOWN_LIMIT, 0};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  fhlog(FHLOG_ERROR, "shutdown took over %d s; exiting now without waiting for the work under way", SHUTDOWN_LIMIT);
  _exit(1);
}

/* Arms the limit (a detached thread; the process normally exits first). */
static void start_shutdown_watchdog(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, shutdown_watchdog, NULL) == 0) pthread_detach(t);
  else fhlog(FHLOG_WARN, "no shutdown watchdog: the shutdown waits for every callback's budget");
}

/* The private listener of --metrics-listen: GET /metrics only, one
 * thread, few connections; NULL (and no error) when not asked for. */
static int start_metrics_listener(const serve_opts *o, const http_options *main, http_server **out, fherr *err) {
  *out = NULL;
  if (!o->metrics_host[0]) return FH_OK;
  http_options mo = {.flows = main->flows, .db_path = main->db_path, .synchronous_full = main->synchronous_full,
                     .host = o->metrics_host, .port = o->metrics_port, .threads = 1, .conn_limit = 64,
                     .per_ip_limit = 16, .budget_seconds = main->budget_seconds, .metrics_only = 1};
  int rc = http_start(&mo, out, err);
  if (rc) return rc;
  if (strchr(o->metrics_host, ':')) printf("metrics on http://[%s]:%d/metrics\n", o->metrics_host, http_port(*out));
  else printf("metrics on http://%s:%d/metrics\n", o->metrics_host, http_port(*out));
  return FH_OK;
}

/* Every connection is a descriptor: lift the soft limit toward the hard one
 * so that the connection limit, not EMFILE, is what refuses clients. */
static void raise_fd_limit(int connections) {
  struct rlimit rl;
  rlim_t want = (rlim_t)connections + 256;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
    fhlog(FHLOG_WARN, "only %llu file descriptors: fewer than %d connections may fit",
          (unsigned long long)rl.rlim_cur, connections);
}

int serve_main(const cli_globals *g, int argc, char **argv) {
  serve_opts o = {.host = "127.0.0.1", .port = 8080, .web_dir = "web", .threads = 4, .jobs = 1,
                  .metrics_max_age = ENGINE_METRICS_MAX_AGE, .index_upkeep = UPKEEP_DEFAULT_SECONDS};
  if (g->as_user) return serve_usage("serve does not take --as");
  int prc = parse_serve_args(argc, argv, &o);
  if (prc) return prc < 0 ? 0 : prc;   /* -1: --help printed */
  engine_metrics_set_max_age(o.metrics_max_age);

  /* Threads started from here on inherit this mask: only the main thread
   * takes SIGINT/SIGTERM (in sigwait below); a closed peer is not fatal. */
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

  /* A request's memory (a page of rows, its JSON, libpq's results) is
   * 128-256 KiB at the top of its thread's malloc arena.  Under glibc's
   * default trim threshold (128 KiB) each request's frees gave it back to
   * the kernel (madvise) and the next request faulted it in again: 1.4
   * madvise per inbox page on PostgreSQL, a quarter of the host's CPU.  Up
   * to 512 KiB stays in each arena (bench/README.md, section 17). */
  mallopt(M_TRIM_THRESHOLD, 512 * 1024);
  metrics_process_started();
  fherr err = {0};
  int code = 1;
  http_server *srv = NULL, *metrics_srv = NULL;
  reload *rl = NULL;
  jobs *pool = NULL;
  hostbeat *beat = NULL;
  upkeep *indexes = NULL;
  token_uses *uses = NULL;   /* the requests note, the heartbeat writes (token_use.h) */
  flowreg *reg = new_flows(g, &err);
  if (!reg || flowreg_load_all(reg, &err)) goto out;
  report_flows(reg);
  if (!(uses = token_uses_new())) {
    fherr_set(&err, FH_INTERNAL, "out of memory");
    goto out;
  }

  jobs_options jo = {.flows = reg, .db_path = g->db_path, .synchronous_full = !g->sync_normal,
                     .workers = o.jobs, .budget_seconds = o.budget, .lease_grace = o.lease_grace,
                     .poll_seconds = o.poll};
  if (jobs_start(&jo, &pool, &err)) goto out;

  http_options ho = {.flows = reg, .db_path = g->db_path, .synchronous_full = !g->sync_normal, .host = o.host,
                     .port = o.port, .web_dir = o.web_dir, .threads = o.threads, .executors = o.executors,
                     .access_log = 1, .budget_seconds = o.budget, .jobs = pool,
                     .request_timeout = (unsigned)o.request_timeout, .conn_limit = (unsigned)o.max_connections,
                     .per_ip_limit = (unsigned)o.per_address, .token_uses = uses,
                     .stop_grace = SHUTDOWN_WRITES_GRACE, .index_elsewhere = o.jobs > 0};
  raise_fd_limit(o.max_connections ? o.max_connections : 1024);
  if (http_start(&ho, &srv, &err)) goto out;
  if (start_metrics_listener(&o, &ho, &metrics_srv, &err)) goto out;
  /* Only once the address is ours: a start that cannot bind (port taken)
   * creates no admin and prints no password it would then forget. */
  if (bootstrap_admin(reg, g, &err)) goto out;

  if (hostbeat_start(reg, g->db_path, !g->sync_normal, o.name, http_port(srv), uses, &beat, &err)) goto out;
  if (upkeep_start(reg, g->db_path, o.index_upkeep, &indexes, &err)) goto out;

  /* Hot reload of the flows folder: without it the host still serves. */
  fherr rerr = {0};
  if (reload_start(reg, &rl, &rerr)) {
    fhlog(FHLOG_WARN, "hot reload is off: %s", rerr.message);
    fherr_clear(&rerr);
  }

  if (strchr(o.host, ':')) printf("listening on http://[%s]:%d\n", o.host, http_port(srv));
  else printf("listening on http://%s:%d\n", o.host, http_port(srv));
  fflush(stdout);
  fhlog(FHLOG_INFO, "open the address above in a browser and log in; list users with `flowhost user list`");
  fhlog(FHLOG_INFO, "set a password with `flowhost user passwd NAME --password PW` (add --db if not %s)", g->db_path);

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  fhlog(FHLOG_INFO, "%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  start_shutdown_watchdog();
  http_quiesce(srv);   /* refuse new connections now; requests under way go on */

  reload_stop(rl);   /* no more flow swaps during shutdown */
  rl = NULL;
  hostbeat_stop(beat);   /* the host drops out of the flow list at once; the tokens' uses written */
  beat = NULL;
  upkeep_stop(indexes);   /* a rebuild under way finishes (REINDEX CONCURRENTLY cannot be cut short cleanly) */
  indexes = NULL;
  http_stop(srv);   /* requests in flight finish; engines and their databases close */
  srv = NULL;
  http_stop(metrics_srv);
  metrics_srv = NULL;
  jobs_stop(pool);   /* after the last request that could wake it; a job under way finishes */
  pool = NULL;
  code = 0;
out:
  if (code) {
    fhlog(FHLOG_ERROR, "serve: %s", err.message[0] ? err.message : "failed to start");
    fherr_clear(&err);
  }
  reload_stop(rl);
  hostbeat_stop(beat);
  upkeep_stop(indexes);
  http_stop(metrics_srv);
  http_stop(srv);
  jobs_stop(pool);
  token_uses_free(uses);   /* after every engine that notes in it */
  flowreg_free(reg);
  graph_end();
  return code;
}
