/* engine_events — messages and signals from outside (HTTP, CLI, the Lua
 * module) and from Send nodes: delivering one to the receivers that wait
 * for it, keeping a message nobody waits for yet.
 *
 * A message goes to the oldest receiver waiting for its name and key; when
 * none waits it is kept (until its ttl ends) for the first receiver created
 * later.  Both sides are race-free without a lock across processes: keeping
 * a message is refused in the same transaction when a receiver waits by
 * then, and writing a new receiver is refused (the action starts over and
 * takes the message) when a message for it was kept meanwhile.  A signal
 * reaches every receiver waiting at that moment and is never kept.
 *
 * May call: engine.c's bracket, engine_run, store (receivers, kept messages).
 */
#include "engine_internal.h"

#include <stdio.h>

#include "fhlog.h"
#include "fhtime.h"
#include "metrics.h"

#define NAME_MAX_LEN 100
#define KEY_MAX 200
/* The longest a message may be kept: ten years (timestamps stay well
 * inside the four-digit years they are compared in as text). */
#define TTL_MAX (10.0 * 365 * 86400)
/* Send nodes delivering to flows whose receivers send again: a chain this
 * long is a loop, not a conversation. */
#define MAX_SEND_DEPTH 16

static int name_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > NAME_MAX_LEN || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return 0;
  }
  return 1;
}

static int check_args(const fh_actor *a, const engine_send_args *m, fherr *err) {
  const char *what = m->signal ? "signal" : "message";
  if (!name_ok(m->name))
    return fherr_set(err, FH_BAD_REQUEST, "%s name must match ^[a-z_][a-z0-9_.-]*$ (at most %d characters)", what,
                     NAME_MAX_LEN);
  if (!m->signal && (!m->key || !m->key[0] || strlen(m->key) > KEY_MAX))
    return fherr_set(err, FH_BAD_REQUEST, "\"key\" must be a non-empty string (at most %d bytes) or an integer",
                     KEY_MAX);
  if (m->data && !json_is_object(m->data)) return fherr_set(err, FH_BAD_REQUEST, "\"data\" must be an object");
  if (!m->signal && !(m->ttl <= TTL_MAX))
    return fherr_set(err, FH_BAD_REQUEST, "\"ttl\" must be at most %.0f seconds (ten years)", TTL_MAX);
  char perm[NAME_MAX_LEN + 16];
  snprintf(perm, sizeof perm, "message.%s", m->name);
  if (!fh_actor_has_perm(a, perm))
    return fherr_set(err, FH_FORBIDDEN, "you may not send '%s' (needs the permission %s)", m->name, perm);
  return FH_OK;
}

typedef struct delivery {
  int64_t task_id;
  const engine_send_args *m;
  int64_t message_id;   /* a kept message the receiver takes (0: none) */
  int delivered;
  int gone;             /* that kept message was taken by someone else */
} delivery;

static int deliver_body(run *r, void *arg, fherr *err) {
  delivery *d = arg;
  d->delivered = 0;
  if (d->message_id) {   /* taking it deletes it in the receiver's write: once */
    int there = 0;
    int rc = store_message_exists(r->e->st, d->message_id, &there, err);
    if (rc) return rc;
    if (!there) {
      d->gone = 1;
      return FH_OK;
    }
  }
  ptask *t = pstate_task(&r->ps, d->task_id);
  const fd_node *n = t && r->fd ? flowdef_node(r->fd, node_part(t->row.flow_task)) : NULL;
  /* taken, timed out or canceled since it was found: the next one */
  if (!t || !n || n->kind != NODE_RECEIVE || t->row.status != TASK_STARTED || strcmp(t->row.event_name, d->m->name) ||
      (d->m->signal ? t->row.event_key[0] != '\0' : strcmp(t->row.event_key, d->m->key)) ||
      !proc_status_is_running(r->ps.proc.status))
    return FH_OK;
  int rc = run_deliver(r, t, n, d->m->data, err);
  if (!rc && d->message_id) rc = pstate_consume(&r->ps, d->message_id, err);
  if (!rc) rc = run_finish(r, err);
  if (!rc) d->delivered = 1;
  return rc;
}

/* Delivers to receiver task_id (taking kept message message_id, if not 0);
 * *task its JSON when it took the message, *gone when that kept message
 * was taken by another receiver first. */
static int deliver_to(engine *e, int64_t task_id, int64_t pid, const engine_send_args *m, int64_t message_id,
                      json_t **task, int *gone, fherr *err) {
  fh_actor system;
  fh_actor_system(&system);
  delivery d = {.task_id = task_id, .m = m, .message_id = message_id};
  run r;
  *task = NULL;
  int rc = engine_act_on_process(e, &system, pid, deliver_body, &d, &r, err);
  if (gone) *gone = d.gone;
  if (!rc && d.delivered) {
    ptask *t = pstate_task(&r.ps, task_id);
    if (t) *task = view_task_json(e, &t->row);
  }
  run_free(&r);
  return rc;
}

static int send_signal(engine *e, const engine_send_args *m, json_t *completed, fherr *err) {
  int64_t after = 0;
  for (;;) {
    int64_t id, pid;
    int rc = store_receiver_next(e->st, m->name, NULL, after, &id, &pid, err);
    if (rc || !id) return rc;
    after = id;
    json_t *task = NULL;
    if ((rc = deliver_to(e, id, pid, m, 0, &task, NULL, err))) return rc;
    if (task) json_array_append_new(completed, task);
  }
}

static int send_message(engine *e, const engine_send_args *m, json_t *completed, json_t **kept, fherr *err) {
  *kept = NULL;
  for (int attempt = 0; attempt < 1000; attempt++) {
    int64_t after = 0, id = 0, pid = 0;
    int rc;
    for (;;) {
      if ((rc = store_receiver_next(e->st, m->name, m->key, after, &id, &pid, err))) return rc;
      if (!id) break;
      json_t *task = NULL;
      if ((rc = deliver_to(e, id, pid, m, 0, &task, NULL, err))) {
        /* one receiver refusing the data (its fields) is the sender's error */
        return rc;
      }
      if (task) {
        json_array_append_new(completed, task);
        return FH_OK;
      }
      after = id;
    }
    char now[FH_TIME_LEN], until[FH_TIME_LEN];
    fhtime_now(now);
    fhtime_format(fhtime_epoch() + (m->ttl > 0 ? m->ttl : e->message_ttl), until);
    char *text = m->data ? json_dumps(m->data, JSON_COMPACT) : NULL;
    int64_t mid = 0;
    rc = store_message_keep(e->st, m->name, m->key, text, now, until, &mid, err);
    free(text);
    if (rc == FH_STALE) {   /* a receiver appeared meanwhile */
      fherr_clear(err);
      continue;
    }
    if (!rc) *kept = json_pack("{s:I, s:s}", "id", (json_int_t)mid, "expires_at", until);
    return rc;
  }
  return fherr_set(err, FH_CONFLICT, "message '%s' could not be delivered nor kept", m->name);
}

static int send_as(engine *e, const fh_actor *a, const engine_send_args *m, json_t **out, fherr *err) {
  *out = NULL;
  int rc = check_args(a, m, err);
  if (rc) return rc;
  if ((rc = engine_sync_flows(e, err))) return rc;
  json_t *completed = json_array(), *kept = NULL;
  rc = m->signal ? send_signal(e, m, completed, err) : send_message(e, m, completed, &kept, err);
  if (rc) {
    json_decref(completed);
    return rc;
  }
  if (m->signal) *out = json_pack("{s:s, s:o}", "signal", m->name, "completed", completed);
  else
    *out = json_pack("{s:s, s:s, s:o, s:o}", "message", m->name, "key", m->key, "completed", completed, "kept",
                     kept ? kept : json_null());
  return FH_OK;
}

static _Thread_local int send_depth;

int engine_send(engine *e, const fh_actor *a, const engine_send_args *m, json_t **out, fherr *err) {
  send_depth++;
  double started = fhtime_monotonic();
  int rc = send_as(e, a, m, out, err);
  send_depth--;
  metrics_action_done(m->signal ? METRICS_ACTION_SIGNAL : METRICS_ACTION_MESSAGE, rc, started);
  return rc;
}

/* Offers kept message id to the receivers waiting for it, oldest first,
 * until one takes it (deleting it in the same write); a receiver whose
 * fields refuse the data leaves it kept for the next one. */
static void deliver_kept(engine *e, int64_t id, const engine_send_args *m) {
  int64_t after = 0;
  for (;;) {
    int64_t tid, pid;
    fherr err = {0};
    int rc = store_receiver_next(e->st, m->name, m->key, after, &tid, &pid, &err);
    if (rc || !tid) {
      if (rc) fhlog(FHLOG_WARN, "message %lld ('%s'): %s", (long long)id, m->name, err.message);
      fherr_clear(&err);
      return;
    }
    after = tid;
    json_t *task = NULL;
    int gone = 0;
    rc = deliver_to(e, tid, pid, m, id, &task, &gone, &err);
    if (rc) fhlog(FHLOG_WARN, "message %lld ('%s') refused by task %lld: %s", (long long)id, m->name, (long long)tid,
                  err.message);
    fherr_clear(&err);
    int taken = task != NULL;
    json_decref(task);
    if (taken || gone) return;
  }
}

/* deliver_kept, then (nobody took it) the message stays kept as any other. */
static void offer_kept(engine *e, int64_t id, const engine_send_args *m) {
  deliver_kept(e, id, m);
  fherr err = {0};
  int there = 0;
  if (!store_message_exists(e->st, id, &there, &err) && there && store_message_offered(e->st, id, &err))
    fhlog(FHLOG_WARN, "message %lld: %s", (long long)id, err.message);
  fherr_clear(&err);
}

void engine_flush_outbox(engine *e, run *r) {
  fh_actor system;
  fh_actor_system(&system);
  for (int i = 0; i < r->ps.nsends; i++) {
    const psend *s = &r->ps.sends[i];
    json_t *data = json_loads(s->data, 0, NULL);
    engine_send_args m = {.signal = s->signal, .name = s->name, .key = s->key, .data = data};
    if (send_depth >= MAX_SEND_DEPTH) {
      fhlog(FHLOG_WARN, "send '%s' stopped: Send nodes chained deeper than %d (a loop between flows?)%s", m.name,
            MAX_SEND_DEPTH, s->signal ? "" : "; the message stays kept");
    } else if (s->signal) {
      json_t *out = NULL;
      fherr err = {0};
      if (engine_send(e, &system, &m, &out, &err))
        fhlog(FHLOG_WARN, "signal '%s' from process %lld failed: %s", m.name, (long long)r->ps.proc.id, err.message);
      json_decref(out);
      fherr_clear(&err);
    } else if (s->id) {
      send_depth++;
      offer_kept(e, s->id, &m);
      send_depth--;
    }
    json_decref(data);
  }
}

/* Messages of Send nodes whose delivery a crash cut off (kept, while a
 * receiver created before them waits): delivered now.  Once per engine, at
 * its first look for due work. */
int engine_deliver_undelivered(engine *e, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  int64_t after = 0;
  for (;;) {
    int64_t id;
    char *name, *key, *text;
    int rc = store_message_undelivered(e->st, now, after, &id, &name, &key, &text, err);
    if (rc || !id) return rc;
    after = id;
    json_t *data = json_loads(text, 0, NULL);
    engine_send_args m = {.name = name, .key = key, .data = data};
    offer_kept(e, id, &m);
    json_decref(data);
    free(name), free(key), free(text);
  }
}
