/* engine_run_events — the event model inside a run: joins that never hang
 * (and partial joins), terminate ends, first-wins splits, Cancel regions,
 * boundary timers (:OnTimeout), due dates, and Receive and Send nodes.
 *
 * Split rounds are found by token: a branch of split task S carries
 * "<S's token>/<S id>_<k>", so everything started inside round S is the set
 * of tasks whose token begins with "<S's token>/<S id>_", and the join of
 * that round has join_of "<S's token>/<S id>".  Canceling "the rest" of a
 * round is therefore a prefix walk over the process in memory.
 *
 * May call: activation (keys, data, seconds), engine_state, store (kept
 * messages).  Called by engine_run.c and engine_jobs.c.
 */
#include "engine_internal.h"

#include <math.h>
#include <stdio.h>

#include "fhtime.h"

/* The longest key a message may carry (st_task.event_key holds it). */
#define KEY_MAX 200

void run_cancel_task(ptask *t) {
  t->row.status = TASK_CANCELED;
  fhtime_now(t->row.finished_at);
  t->row.lease_until[0] = '\0';
  t->dirty = 1;
}

static const fd_node *node_of(run *r, const st_task *t) {
  return r->fd ? flowdef_node(r->fd, node_part(t->flow_task)) : NULL;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Cancels the active tasks whose token begins with prefix, except `keep`
 * (0: none) and those inside branch `spare` (NULL: none); *n counts them.
 * The instances an action left out go with their controller, which has
 * their token (run_settle_groups). */
static void cancel_under(run *r, const char *prefix, int64_t keep, const char *spare, int *n) {
  size_t slen = spare ? strlen(spare) : 0;
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (t->row.id == keep || !task_status_is_active(t->row.status) || !starts_with(t->row.token, prefix)) continue;
    if (spare && !strncmp(t->row.token, spare, slen) && (t->row.token[slen] == '\0' || t->row.token[slen] == '/'))
      continue;
    run_cancel_task(t);
    if (n) (*n)++;
  }
}

/* --- seconds and keys from the flow ---------------------------------------------- */

/* Seconds from a fixed value (>= 0) or from the node's callback `key`. */
static int seconds_of(run *r, const fd_node *n, st_task *t, double fixed, const char *key, double *out, fherr *err) {
  *out = fixed;
  if (fixed >= 0) return FH_OK;
  act_ctx c;
  run_ctx(r, n, t, t->id != 0, &c);
  json_t *v = NULL;
  int rc = activation_value(r->e->vm, &c, key, &v, err);
  if (rc) return rc;
  int ok = json_is_number(v) && isfinite(json_number_value(v)) && json_number_value(v) >= 0;
  if (ok) *out = json_number_value(v);
  json_decref(v);
  return ok ? FH_OK : fherr_set(err, FH_FLOW_ERROR, "%s of '%s' must return a number of seconds >= 0", key, n->name);
}

/* A message key: a non-empty string or an integer (as its decimal text). */
static int key_of(run *r, const fd_node *n, st_task *t, int stored, char *out, size_t size, fherr *err) {
  if (!n->has_key_fn) {
    snprintf(out, size, "%s", n->key_value ? n->key_value : "");
    return out[0] ? FH_OK : fherr_set(err, FH_FLOW_ERROR, "'%s' has no key", n->name);
  }
  act_ctx c;
  run_ctx(r, n, t, stored, &c);
  json_t *v = NULL;
  int rc = activation_value(r->e->vm, &c, "key", &v, err);
  if (rc) return rc;
  if (json_is_integer(v)) snprintf(out, size, "%lld", (long long)json_integer_value(v));
  else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= KEY_MAX)
    snprintf(out, size, "%s", json_string_value(v));
  else rc = fherr_set(err, FH_FLOW_ERROR, "key of '%s' must return a non-empty string (at most %d bytes) or an integer",
                      n->name, KEY_MAX);
  json_decref(v);
  return rc;
}

int run_set_up_due(run *r, const fd_node *n, st_task *t, fherr *err) {
  double seconds;
  int rc = seconds_of(r, n, t, n->due_seconds, "due", &seconds, err);
  if (!rc) fhtime_format(fhtime_epoch() + seconds, t->due_at);
  return rc;
}

int run_set_up_receive(run *r, const fd_node *n, st_task *t, fherr *err) {
  t->status = TASK_STARTED;
  snprintf(t->started_at, sizeof t->started_at, "%s", t->created_at);
  snprintf(t->event_name, sizeof t->event_name, "%s", n->message ? n->message : n->signal);
  return n->message ? key_of(r, n, t, 0, t->event_key, sizeof t->event_key, err) : FH_OK;
}

/* --- boundary timers ------------------------------------------------------------- */

int run_arm_timeouts(run *r, ptask *guarded, const fd_node *n, fherr *err) {
  for (int i = 0; i < n->ntimeouts; i++) {
    char key[32];
    snprintf(key, sizeof key, "timeout_%d", i + 1);
    double seconds;
    int rc = seconds_of(r, n, &guarded->row, n->timeouts[i].seconds, key, &seconds, err);
    if (rc) return rc;
    st_task t = {0};
    snprintf(t.flow_task, sizeof t.flow_task, "%s", guarded->row.flow_task);
    snprintf(t.type, sizeof t.type, "timeout");
    t.status = TASK_SCHEDULED;
    snprintf(t.token, sizeof t.token, "%s", guarded->row.token);
    fhtime_now(t.created_at);
    fhtime_format(fhtime_epoch() + seconds, t.due_at);
    snprintf(t.event_name, sizeof t.event_name, "%s", n->timeouts[i].to);
    snprintf(t.event_key, sizeof t.event_key, "%d", i + 1);
    t.guards = guarded->row.id;
    ptask *added = NULL;
    if ((rc = pstate_add_task(r->e, &r->ps, &t, &added, err))) return rc;
  }
  return FH_OK;
}

static int is_timeout_row(const st_task *t) { return !strcmp(t->type, "timeout"); }

/* The guarded task ended: its timers go with it. */
static void disarm(run *r, int64_t guarded, int64_t except, int *n) {
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (t->row.guards != guarded || t->row.id == except || t->row.status != TASK_SCHEDULED ||
        !is_timeout_row(&t->row))
      continue;
    run_cancel_task(t);
    if (n) (*n)++;
  }
}

int run_fire_timeout(run *r, ptask *timer, fherr *err) {
  ptask *g = pstate_task(&r->ps, timer->row.guards);
  const fd_node *gn = g ? node_of(r, &g->row) : NULL;
  const fd_node *target = r->fd ? flowdef_node(r->fd, timer->row.event_name) : NULL;
  int index = atoi(timer->row.event_key) - 1;
  if (!g || !task_status_is_active(g->row.status) || !target) {
    run_cancel_task(timer);   /* nothing left to guard, or the target is gone */
    return FH_OK;
  }
  int interrupting = gn && index >= 0 && index < gn->ntimeouts ? gn->timeouts[index].interrupting : 1;
  run_complete_task(timer);
  timer->settled = 1;   /* a timer that fires is not a branch's win */
  if (interrupting) {
    run_cancel_task(g);
    disarm(r, g->row.id, timer->row.id, NULL);
  }
  return run_create_task(r, target, g->row.token, timer->row.id, err);
}

/* --- receivers ---------------------------------------------------------------------- */

static int clean_message(run *r, const fd_node *n, const json_t *data, json_t **clean, fherr *err) {
  json_t *empty = json_object();
  const json_t *in = json_is_object(data) ? data : empty;
  int rc = n->nfields ? run_clean_form(r, n, in, clean, err) : run_clean_known(r, in, clean, err);
  json_decref(empty);
  return rc;
}

/* A new receiver takes the oldest kept message its fields accept; one they
 * refuse stays kept for another receiver.  The newest id seen now is
 * remembered: a message kept after it makes this write stale. */
int run_take_kept(run *r, ptask *t, const fd_node *n, fherr *err) {
  if (!n->message || n->transient) return FH_OK;
  t->awaits = 1;
  int rc = store_message_last_id(r->e->st, &t->kept_seen, err);
  char now[FH_TIME_LEN];
  fhtime_now(now);
  for (int64_t after = 0; !rc;) {
    int64_t id = 0;
    char *text = NULL;
    if ((rc = store_message_find(r->e->st, t->row.event_name, t->row.event_key, now, after, &id, &text, err)) || !id)
      return rc;
    after = id;
    json_t *data = parse_json_text(text);
    free(text);
    json_t *clean = NULL;
    fherr cerr = {0};
    int refused = clean_message(r, n, data, &clean, &cerr) != FH_OK;
    fherr_clear(&cerr);
    json_decref(clean);
    if (refused) {
      json_decref(data);
      continue;
    }
    if (!r->deliveries) r->deliveries = json_object();
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)t->row.id);
    json_object_set_new(r->deliveries, idtext, data);
    if ((rc = pstate_consume(&r->ps, id, err))) return rc;
    return run_enqueue(r, t->row.id, err);
  }
  return rc;
}

int run_deliver(run *r, ptask *t, const fd_node *n, const json_t *data, fherr *err) {
  json_t *clean = NULL;
  int rc = clean_message(r, n, data, &clean, err);
  if (rc) return rc;
  run_merge_into(r->data, clean);
  json_decref(clean);
  run_complete_task(t);
  return run_follow_next(r, t, n, err);
}

int run_activate_receive(run *r, ptask *t, const fd_node *n, fherr *err) {
  char idtext[24];
  snprintf(idtext, sizeof idtext, "%lld", (long long)t->row.id);
  json_t *data = r->deliveries ? json_object_get(r->deliveries, idtext) : NULL;
  if (!data || t->row.status != TASK_STARTED) return FH_OK;
  return run_deliver(r, t, n, data, err);
}

/* --- automatic event nodes ------------------------------------------------------------ */

int run_activate_send(run *r, ptask *t, const fd_node *n, fherr *err) {
  char key[KEY_MAX + 1] = "";
  int rc = n->message ? key_of(r, n, &t->row, 1, key, sizeof key, err) : FH_OK;
  if (rc) return rc;
  json_t *data = NULL;
  if (n->has_data_fn) {
    act_ctx c;
    run_ctx(r, n, &t->row, 1, &c);
    if ((rc = activation_value(r->e->vm, &c, "data", &data, err))) return rc;
    if (data && !json_is_object(data)) {
      json_decref(data);
      return fherr_set(err, FH_FLOW_ERROR, "data of '%s' must return a table of fields", n->name);
    }
  }
  char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
  json_decref(data);
  rc = pstate_send(&r->ps, n->signal != NULL, n->message ? n->message : n->signal, n->message ? key : NULL, text,
                   err);
  free(text);
  if (rc) return rc;
  run_complete_task(t);
  return run_follow_next(r, t, n, err);
}

/* The round of split node `split` that token lies in: the prefix of that
 * round's branches ("<token>/<id>_") and its join_of ("<token>/<id>"). */
static int round_of(run *r, const char *split, const char *token, char *join_of, size_t size) {
  char ft[160];
  snprintf(ft, sizeof ft, "%s.%s", r->ps.proc.flow, split);
  for (const char *p = token + strlen(token); p > token; p--) {
    if (*p != '/') continue;
    long long id = strtoll(p + 1, NULL, 10);
    ptask *s = pstate_task(&r->ps, id);
    if (s && !strcmp(s->row.flow_task, ft)) {
      snprintf(join_of, size, "%.*s%lld", (int)(p + 1 - token), token, id);
      return 1;
    }
  }
  /* outside the region: its newest round */
  pstate_need_ended(&r->ps);
  const st_task *newest = NULL;
  for (int i = 0; i < r->ps.ntasks; i++) {
    const st_task *s = &r->ps.tasks[i]->row;
    if (!strcmp(s->flow_task, ft) && s->status == TASK_DONE && (!newest || s->id > newest->id)) newest = s;
  }
  if (newest) snprintf(join_of, size, "%s/%lld", newest->token, (long long)newest->id);
  return newest != NULL;
}

/* Cancels a split round: its branches' active tasks and the joins waiting
 * on it; the Cancel's :Next (if any) goes on outside the round, on the
 * split's own token. */
int run_activate_cancel(run *r, ptask *t, const fd_node *n, fherr *err) {
  char join_of[300], prefix[304];
  int found = n->region && round_of(r, n->region, t->row.token, join_of, sizeof join_of);
  run_complete_task(t);
  if (!found) return run_follow_next(r, t, n, err);
  snprintf(prefix, sizeof prefix, "%s_", join_of);
  cancel_under(r, prefix, t->row.id, NULL, NULL);
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *j = r->ps.tasks[i];
    if (j->row.status == TASK_STARTED && !strcmp(j->row.join_of, join_of)) run_cancel_task(j);
  }
  char outer[300];
  snprintf(outer, sizeof outer, "%.*s", (int)(strrchr(join_of, '/') - join_of), join_of);
  for (int i = 0; i < n->nedges; i++) {
    int rc = run_create_task(r, &r->fd->nodes[n->edges[i].to_index], outer, t->row.id, err);
    if (rc) return rc;
  }
  return FH_OK;
}

int run_activate_end(run *r, ptask *t, const fd_node *n, fherr *err) {
  (void)err;
  if (n->terminate) cancel_under(r, "", t->row.id, NULL, NULL);
  run_complete_task(t);
  return FH_OK;
}

/* --- critical sections ------------------------------------------------------------------ */

/* Whether the flow may have a node of kind k (a process without its
 * definition may have any). */
static int flow_has(const run *r, node_kind k, int first_split) {
  if (!r->fd) return 1;
  for (int i = 0; i < r->fd->nnodes; i++)
    if (r->fd->nodes[i].kind == k && (!first_split || r->fd->nodes[i].first)) return 1;
  return 0;
}

/* A Lock task that holds its lock: DONE with event_key "held" (it becomes
 * "released" when the lock is let go); on branch `token` only, unless NULL.
 * A held lock is an ended task that still counts: read them all. */
static ptask *lock_holder(run *r, const char *name, const char *token) {
  pstate_need_ended(&r->ps);
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (!strcmp(t->row.type, "lock") && t->row.status == TASK_DONE && !strcmp(t->row.event_name, name) &&
        !strcmp(t->row.event_key, "held") && (!token || !strcmp(t->row.token, token)))
      return t;
  }
  return NULL;
}

static int take_lock(run *r, ptask *t, const fd_node *n, fherr *err) {
  snprintf(t->row.event_key, sizeof t->row.event_key, "held");
  run_complete_task(t);
  return run_follow_next(r, t, n, err);
}

int run_activate_lock(run *r, ptask *t, const fd_node *n, fherr *err) {
  if (t->row.status != TASK_NEW) return FH_OK;
  snprintf(t->row.event_name, sizeof t->row.event_name, "%s", n->lock_name);
  if (!lock_holder(r, n->lock_name, NULL)) return take_lock(r, t, n, err);
  t->row.status = TASK_STARTED;   /* waits for the lock */
  fhtime_now(t->row.started_at);
  t->dirty = 1;
  return FH_OK;
}

/* Lets lock `name` go and hands it to the oldest waiting Lock task. */
static int release_lock(run *r, ptask *holder, fherr *err) {
  snprintf(holder->row.event_key, sizeof holder->row.event_key, "released");
  holder->dirty = 1;
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *w = r->ps.tasks[i];
    if (strcmp(w->row.type, "lock") || w->row.status != TASK_STARTED || strcmp(w->row.event_name, holder->row.event_name))
      continue;
    const fd_node *wn = node_of(r, &w->row);
    return wn ? take_lock(r, w, wn, err) : FH_OK;
  }
  return FH_OK;
}

/* Only the branch that holds the lock lets it go (a task revived inside a
 * section after its branch lost the lock releases nothing). */
int run_activate_unlock(run *r, ptask *t, const fd_node *n, fherr *err) {
  ptask *holder = lock_holder(r, n->lock_name, t->row.token);
  run_complete_task(t);
  int rc = holder ? release_lock(r, holder, err) : FH_OK;
  return rc ? rc : run_follow_next(r, t, n, err);
}

/* Active tasks on token `token` itself or under it. */
static int active_on_branch(const run *r, const char *token) {
  size_t len = strlen(token);
  int n = 0;
  pstate_members_if_orphaned(&r->ps);   /* else a running group counts as its controller */
  for (int i = 0; i < r->ps.ntasks; i++) {
    const st_task *t = &r->ps.tasks[i]->row;
    if (task_status_is_active(t->status) && !strncmp(t->token, token, len) && (t->token[len] == '\0' || t->token[len] == '/'))
      n++;
  }
  return n;
}

/* A lock whose holding branch has nothing active any more (it ended or was
 * canceled without Unlock) is let go. */
static int release_abandoned(run *r, int *changed, fherr *err) {
  if (!flow_has(r, NODE_LOCK, 0)) return FH_OK;
  pstate_need_ended(&r->ps);
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *h = r->ps.tasks[i];
    if (strcmp(h->row.type, "lock") || h->row.status != TASK_DONE || strcmp(h->row.event_key, "held") ||
        active_on_branch(r, h->row.token) > 0)
      continue;
    int rc = release_lock(r, h, err);
    if (rc) return rc;
    (*changed)++;
  }
  return FH_OK;
}

/* --- joins -------------------------------------------------------------------------------- */

static int arrivals(const st_task *join) {
  int n = 0;
  for (const char *p = join->previous; p && *p; p++)
    if (p == join->previous || *p == ',') n++;
  return n;
}

/* Join { block }: an earlier round of this join whose branches still run. */
static int earlier_round_running(run *r, const ptask *t) {
  pstate_need_ended(&r->ps);   /* a finished join whose round still runs */
  for (int i = 0; i < r->ps.ntasks; i++) {
    const st_task *j = &r->ps.tasks[i]->row;
    if (j->id >= t->row.id || !j->join_of[0] || strcmp(j->flow_task, t->row.flow_task)) continue;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s_", j->join_of);
    if (pstate_count_active(&r->ps, prefix, j->id) > 0 || j->status == TASK_STARTED) return 1;
  }
  return 0;
}

/* A join fires when `wait` branches arrived, or when nothing of its round
 * is active any more (the other branches ended some other way); a blocking
 * join not before its earlier rounds are complete. */
static int join_ready(run *r, const ptask *t, const fd_node *n) {
  if (n->block && earlier_round_running(r, t)) return 0;
  char prefix[300];
  snprintf(prefix, sizeof prefix, "%s_", t->row.join_of);
  if (pstate_count_active(&r->ps, prefix, t->row.id) == 0) return 1;
  int wait = n->wait ? n->wait : (n->wait_all ? 0 : 1);
  return wait > 0 && arrivals(&t->row) >= wait;
}

int run_activate_join(run *r, ptask *t, const fd_node *n, fherr *err) {
  if (t->row.status != TASK_STARTED || !join_ready(r, t, n)) return FH_OK;
  if (n->cancel_rest) {
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s_", t->row.join_of);
    cancel_under(r, prefix, t->row.id, NULL, NULL);
  }
  run_complete_task(t);
  return run_follow_next(r, t, n, err);
}

/* --- after the queue --------------------------------------------------------------------- */

static int is_waiting_kind(const char *type) {
  return !strcmp(type, "view") || !strcmp(type, "function") || !strcmp(type, "job") || !strcmp(type, "timer") ||
         !strcmp(type, "receive") || !strcmp(type, "external");
}

/* A waiting task of a first-wins split's branch is DONE: the other branches
 * of every enclosing first-wins round are canceled. */
static void first_wins(run *r, const ptask *winner, int *changed) {
  if (!flow_has(r, NODE_SPLIT, 1)) return;   /* else each Split of the token would be read, ended as it is */
  const char *token = winner->row.token;
  for (const char *p = token + strlen(token); p > token; p--) {
    if (*p != '/') continue;
    char *end;
    long long id = strtoll(p + 1, &end, 10);
    ptask *s = pstate_task(&r->ps, id);
    const fd_node *sn = s ? node_of(r, &s->row) : NULL;
    if (!sn || sn->kind != NODE_SPLIT || !sn->first || *end != '_') continue;
    char prefix[300], branch[300];
    snprintf(prefix, sizeof prefix, "%.*s_", (int)(end - token), token);
    const char *stop = strchr(end, '/');
    snprintf(branch, sizeof branch, "%.*s", stop ? (int)(stop - token) : (int)strlen(token), token);
    cancel_under(r, prefix, winner->row.id, branch, changed);
  }
}

int run_settle_events(run *r, int *changed, fherr *err) {
  *changed = 0;
  int rc0 = release_abandoned(r, changed, err);
  if (rc0) return rc0;
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (t->settled || t->row.status != TASK_DONE || !t->dirty) continue;
    t->settled = 1;
    if (is_waiting_kind(t->row.type) && strchr(t->row.token, '/')) first_wins(r, t, changed);
  }
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (t->row.status != TASK_SCHEDULED || !is_timeout_row(&t->row)) continue;
    ptask *g = pstate_task(&r->ps, t->row.guards);
    if (g && g->row.status != TASK_DONE && g->row.status != TASK_CANCELED) continue;
    run_cancel_task(t);
    (*changed)++;
  }
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (t->row.status != TASK_STARTED || !t->row.join_of[0]) continue;
    const fd_node *n = node_of(r, &t->row);
    if (!n || n->kind != NODE_JOIN || !join_ready(r, t, n)) continue;
    int rc = run_enqueue(r, t->row.id, err);
    if (rc) return rc;
  }
  return FH_OK;
}
