/* engine_external — external tasks: work that a worker outside the host
 * (any language, over HTTP) fetches, does and reports back.
 *
 * An External node's task is SCHEDULED with its topic in event_name; the
 * host's own job workers never claim it (store.c skips the type).  A fetch
 * leases tasks to a worker in one short write (store_external.c); a lease
 * that runs out makes the task fetchable again.  Complete, fail and extend
 * act only for the worker holding a live lease: complete and fail under
 * the process lock on a fresh copy, in one short write, like a job's end
 * (engine_jobs.c), so that a canceled or re-leased task is never touched.
 *
 * May call: engine_run (run_deliver, run_finish), engine_state, store.
 */
#include "engine_internal.h"

#include <math.h>
#include <stdio.h>

#include "fhtime.h"
#include "metrics.h"

void run_set_up_external(const fd_node *n, st_task *t) {
  t->status = TASK_SCHEDULED;
  snprintf(t->due_at, sizeof t->due_at, "%s", t->created_at);
  snprintf(t->event_name, sizeof t->event_name, "%s", n->topic ? n->topic : "");
}

json_t *view_external_json(const st_task *t) {
  int leased = t->status == TASK_SCHEDULED && t->lease_until[0];
  return json_pack("{s:s, s:o, s:o, s:i}", "topic", t->event_name, "worker",
                   leased && t->lease_owner[0] ? json_string(t->lease_owner) : json_null(), "lease_until",
                   leased ? json_string(t->lease_until) : json_null(), "attempts", t->attempts);
}

static int may_topic(const fh_actor *a, const char *topic) {
  char perm[160];
  snprintf(perm, sizeof perm, "external.%s", topic);
  return fh_actor_has_perm(a, perm);
}

/* --- fetch ------------------------------------------------------------------ */

static json_t *fetched_item(engine *e, const st_external *x, const char *until) {
  st_process p = {0};
  fherr perr = {0};
  json_t *data = NULL;
  if (!store_process_get(e->st, x->process_id, &p, &perr)) data = parse_json_text(p.data);
  st_process_free(&p);
  fherr_clear(&perr);
  const char *dot = strchr(x->flow_task, '.');
  return json_pack("{s:I, s:s, s:I, s:s#, s:s, s:o, s:i, s:s}", "id", (json_int_t)x->id, "topic", x->topic,
                   "process_id", (json_int_t)x->process_id, "flow", x->flow_task,
                   (int)(dot ? dot - x->flow_task : 0), "node", node_part(x->flow_task), "data",
                   data ? data : json_object(), "attempts", x->attempts, "lease_until", until);
}

/* "flow.node" of every External node of the flows served now: a task of
 * a node that left its flow (obsolete) is not offered.  A task keeps the
 * topic it was created with (as a Receive keeps its message name). */
static json_t *external_nodes(engine *e) {
  json_t *names = json_array();
  for (int i = 0; i < e->gen->n; i++) {
    const flowdef *fd = e->gen->entries[i].def;
    for (int k = 0; fd && k < fd->nnodes; k++) {
      if (fd->nodes[k].kind != NODE_EXTERNAL) continue;
      char name[160];
      snprintf(name, sizeof name, "%s.%s", fd->name, fd->nodes[k].name);
      json_array_append_new(names, json_string(name));
    }
  }
  return names;
}

static int fetch(engine *e, const fh_actor *a, const char *worker, const json_t *topics, int max, double lease,
                 json_t **out, fherr *err) {
  size_t i;
  json_t *topic;
  json_array_foreach(topics, i, topic) {
    if (!may_topic(a, json_string_value(topic)))
      return fherr_set(err, FH_FORBIDDEN, "you may not work on topic '%s' (needs permission external.%s)",
                       json_string_value(topic), json_string_value(topic));
  }
  char now[FH_TIME_LEN], until[FH_TIME_LEN];
  fhtime_now(now);
  fhtime_format(fhtime_epoch() + lease, until);
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  json_t *nodes = external_nodes(e);
  st_external *rows = NULL;
  int n = 0;
  rc = store_external_fetch(e->st, topics, nodes, max, now, worker, until, &rows, &n, err);
  json_decref(nodes);
  if (rc) return rc;
  json_t *items = json_array();
  for (int k = 0; k < n; k++) {
    json_array_append_new(items, fetched_item(e, &rows[k], until));
    metrics_external(METRICS_EXTERNAL_FETCHED);
    if (rows[k].expired) metrics_external(METRICS_EXTERNAL_LEASE_EXPIRED);
  }
  free(rows);
  *out = json_pack("{s:o}", "items", items);
  return FH_OK;
}

/* --- the worker's answers ----------------------------------------------------- */

typedef struct ext_call {
  int64_t id;
  const char *worker;
  const json_t *data;      /* complete */
  const char *message;     /* fail */
  double retry_in;         /* fail: < 0 the :Retry backoff */
} ext_call;

/* The task exists, is external, and the actor may work on its topic. */
static int check_task(engine *e, const fh_actor *a, int64_t id, int64_t *pid, fherr *err) {
  st_task t = {0};
  int rc = store_task_get(e->st, id, &t, err);
  if (rc == FH_NOT_FOUND || (!rc && strcmp(t.type, "external"))) {
    rc = fherr_set(err, FH_NOT_FOUND, "external task %lld not found", (long long)id);
  } else if (!rc && !may_topic(a, t.event_name)) {
    rc = fherr_set(err, FH_FORBIDDEN, "you may not work on topic '%s' (needs permission external.%s)", t.event_name,
                   t.event_name);
  }
  if (!rc) *pid = t.process_id;
  st_task_free(&t);
  return rc;
}

/* The task on the fresh copy, still leased to this worker and not run out. */
static int live_lease(run *r, const ext_call *c, ptask **t, const fd_node **n, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  *t = pstate_task(&r->ps, c->id);
  *n = *t && r->fd ? flowdef_node(r->fd, node_part((*t)->row.flow_task)) : NULL;
  const st_task *row = *t ? &(*t)->row : NULL;
  if (!row || row->status != TASK_SCHEDULED || strcmp(row->lease_owner, c->worker) || !row->lease_until[0] ||
      strcmp(row->lease_until, now) < 0)
    return fherr_set(err, FH_CONFLICT, "task %lld: worker '%s' holds no live lease on it", (long long)c->id,
                     c->worker);
  if (!*n || (*n)->kind != NODE_EXTERNAL)
    return fherr_set(err, FH_CONFLICT, "task %lld: its node no longer exists as an External node", (long long)c->id);
  if (!proc_status_is_running(r->ps.proc.status))
    return fherr_set(err, FH_CONFLICT, "task %lld: its process is %s", (long long)c->id,
                     proc_status_name(r->ps.proc.status));
  return FH_OK;
}

/* What follows runs as after a job: a failing automatic node becomes an
 * ERROR task for a manager instead of refusing the worker's result. */
static int complete_body(run *r, void *arg, fherr *err) {
  const ext_call *c = arg;
  ptask *t;
  const fd_node *n;
  int rc = live_lease(r, c, &t, &n, err);
  if (rc) return rc;
  r->job_mode = 1;
  free(t->row.error_message);
  t->row.error_message = NULL;
  rc = run_deliver(r, t, n, c->data, err);
  return rc ? rc : run_finish(r, err);
}

/* Again after the backoff while attempts are left, else ERROR (as a job). */
static int fail_body(run *r, void *arg, fherr *err) {
  const ext_call *c = arg;
  ptask *t;
  const fd_node *n;
  int rc = live_lease(r, c, &t, &n, err);
  if (rc) return rc;
  st_task *row = &t->row;
  row->attempts++;
  row->lease_until[0] = '\0';
  free(row->error_message);
  row->error_message = strdup(c->message);
  if (row->attempts < n->retry_attempts) {
    double wait = c->retry_in >= 0 ? c->retry_in : n->retry_backoff * pow(2, row->attempts - 1);
    fhtime_format(fhtime_epoch() + wait, row->due_at);
  } else {
    row->status = TASK_ERROR;
    free(row->error_traceback);
    row->error_traceback = NULL;
  }
  t->dirty = 1;
  return FH_OK;
}

static int act(engine *e, const fh_actor *a, const ext_call *c, action_body body, int full, json_t **out,
               fherr *err) {
  *out = NULL;
  int64_t pid = 0;
  int rc = engine_sync_flows(e, err);
  if (!rc) rc = check_task(e, a, c->id, &pid, err);
  if (rc) return rc;
  fh_actor system;   /* permission was the topic's; what follows runs as a job does */
  fh_actor_system(&system);
  run r;
  rc = engine_act_on_process(e, &system, pid, body, (void *)c, &r, err);
  if (!rc) {
    *out = full ? run_result(&r) : json_object();
    ptask *t = pstate_task(&r.ps, c->id);
    if (t) json_object_set_new(*out, "task", view_task_json(e, &t->row));
  }
  run_free(&r);
  return rc;
}

/* The lease moves only while this worker holds it live (store_external.c). */
static int extend(engine *e, const fh_actor *a, int64_t id, const char *worker, double lease, json_t **out,
                  fherr *err) {
  int64_t pid = 0;
  int rc = check_task(e, a, id, &pid, err);
  if (rc) return rc;
  char now[FH_TIME_LEN], until[FH_TIME_LEN];
  fhtime_now(now);
  fhtime_format(fhtime_epoch() + lease, until);
  if ((rc = store_external_extend(e->st, id, worker, now, until, err))) return rc;
  *out = json_pack("{s:I, s:s}", "id", (json_int_t)id, "lease_until", until);
  return FH_OK;
}

/* --- the request bodies ------------------------------------------------------ */

#define WORKER_MAX 63     /* the lease owner column of a task row holds 63 bytes */
#define TOPICS_MAX 50
#define TOPIC_MAX 100     /* as the DSL's topic (a message name) */
#define MESSAGE_MAX 4000  /* a failure's message, kept on the task */
#define RETRY_IN_MAX (365.0 * 86400)

/* Every key of body is one of allowed (NULL-terminated). */
static int known_keys(const json_t *body, const char *const *allowed, fherr *err) {
  if (!json_is_object(body)) return fherr_set(err, FH_BAD_REQUEST, "the body must be a JSON object");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)body, k, v) {
    const char *const *p = allowed;
    while (*p && strcmp(*p, k)) p++;
    if (!*p) return fherr_set(err, FH_BAD_REQUEST, "unknown field \"%.100s\"", k);
  }
  return FH_OK;
}

/* Printable ASCII without spaces: it is shown on task pages and in logs. */
static int printable_name(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max) return 0;
  for (; *s; s++)
    if (*s <= ' ' || *s > '~') return 0;
  return 1;
}

/* The DSL's topic names: ^[a-z_][a-z0-9_.-]*$, at most TOPIC_MAX. */
static int topic_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > TOPIC_MAX || !((*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-')) return 0;
  return 1;
}

static int worker_of(const json_t *body, const char **worker, fherr *err) {
  *worker = json_string_value(json_object_get(body, "worker"));
  if (!*worker || !printable_name(*worker, WORKER_MAX))
    return fherr_set(err, FH_BAD_REQUEST, "\"worker\" must be a string of 1 to %d printable characters, no spaces",
                     WORKER_MAX);
  return FH_OK;
}

/* An optional number in [lo, hi] (an integer if whole); *out keeps its
 * default when absent. */
static int number_of(const json_t *body, const char *key, double lo, double hi, int whole, double *out, fherr *err) {
  json_t *v = json_object_get(body, key);
  if (!v) return FH_OK;
  double x = json_is_number(v) ? json_number_value(v) : NAN;
  if (!(x >= lo && x <= hi) || (whole && x != floor(x)))
    return fherr_set(err, FH_BAD_REQUEST, "\"%s\" must be %s from %g to %g", key, whole ? "an integer" : "a number",
                     lo, hi);
  *out = x;
  return FH_OK;
}

static int topics_of(const json_t *body, const json_t **topics, fherr *err) {
  *topics = json_object_get(body, "topics");
  size_t n = json_array_size(*topics);
  if (!json_is_array(*topics) || n == 0 || n > TOPICS_MAX)
    return fherr_set(err, FH_BAD_REQUEST, "\"topics\" must be an array of 1 to %d topic names", TOPICS_MAX);
  size_t i;
  json_t *t;
  json_array_foreach(*topics, i, t) {
    if (!json_is_string(t) || !topic_name(json_string_value(t)))
      return fherr_set(err, FH_BAD_REQUEST, "\"topics\"[%zu] must be a name matching ^[a-z_][a-z0-9_.-]*$", i);
  }
  return FH_OK;
}

static int fetch_call(engine *e, const fh_actor *a, const json_t *body, json_t **out, fherr *err) {
  static const char *const keys[] = {"worker", "topics", "max", "lease", NULL};
  const char *worker;
  const json_t *topics;
  double max = 1, lease = 30;
  int rc = known_keys(body, keys, err);
  if (!rc) rc = worker_of(body, &worker, err);
  if (!rc) rc = topics_of(body, &topics, err);
  if (!rc) rc = number_of(body, "max", 1, ENGINE_EXTERNAL_MAX, 1, &max, err);
  if (!rc) rc = number_of(body, "lease", 1, ENGINE_EXTERNAL_LEASE_MAX, 0, &lease, err);
  return rc ? rc : fetch(e, a, worker, topics, (int)max, lease, out, err);
}

static int complete_call(engine *e, const fh_actor *a, int64_t id, const json_t *body, json_t **out, fherr *err) {
  static const char *const keys[] = {"worker", "data", NULL};
  ext_call c = {.id = id, .retry_in = -1};
  int rc = known_keys(body, keys, err);
  if (!rc) rc = worker_of(body, &c.worker, err);
  c.data = json_object_get(body, "data");
  if (!rc && c.data && !json_is_object(c.data)) rc = fherr_set(err, FH_BAD_REQUEST, "\"data\" must be an object");
  if (!rc && !(rc = act(e, a, &c, complete_body, 1, out, err))) metrics_external(METRICS_EXTERNAL_COMPLETED);
  return rc;
}

static int fail_call(engine *e, const fh_actor *a, int64_t id, const json_t *body, json_t **out, fherr *err) {
  static const char *const keys[] = {"worker", "message", "retry_in", NULL};
  ext_call c = {.id = id, .retry_in = -1};
  int rc = known_keys(body, keys, err);
  if (!rc) rc = worker_of(body, &c.worker, err);
  c.message = json_string_value(json_object_get(body, "message"));
  if (!rc && (!c.message || !*c.message || strlen(c.message) > MESSAGE_MAX))
    rc = fherr_set(err, FH_BAD_REQUEST, "\"message\" must be a string of 1 to %d bytes", MESSAGE_MAX);
  if (!rc) rc = number_of(body, "retry_in", 0, RETRY_IN_MAX, 0, &c.retry_in, err);
  if (!rc && !(rc = act(e, a, &c, fail_body, 0, out, err))) metrics_external(METRICS_EXTERNAL_FAILED);
  return rc;
}

static int extend_call(engine *e, const fh_actor *a, int64_t id, const json_t *body, json_t **out, fherr *err) {
  static const char *const keys[] = {"worker", "lease", NULL};
  const char *worker;
  double lease = -1;
  int rc = known_keys(body, keys, err);
  if (!rc) rc = worker_of(body, &worker, err);
  if (!rc && !json_object_get(body, "lease")) rc = fherr_set(err, FH_BAD_REQUEST, "\"lease\" is required");
  if (!rc) rc = number_of(body, "lease", 1, ENGINE_EXTERNAL_LEASE_MAX, 0, &lease, err);
  return rc ? rc : extend(e, a, id, worker, lease, out, err);
}

int engine_external(engine *e, const fh_actor *a, const char *verb, int64_t id, const json_t *body, json_t **out,
                    fherr *err) {
  *out = NULL;
  if (!strcmp(verb, "fetch")) return fetch_call(e, a, body, out, err);
  if (!strcmp(verb, "complete")) return complete_call(e, a, id, body, out, err);
  if (!strcmp(verb, "fail")) return fail_call(e, a, id, body, out, err);
  if (!strcmp(verb, "extend")) return extend_call(e, a, id, body, out, err);
  return fherr_set(err, FH_NOT_FOUND, "unknown external call '%s'", verb);
}

int engine_external_lease_expiries(engine *e, int64_t *n, fherr *err) {
  return store_external_lease_expiries(e->st, n, err);
}
