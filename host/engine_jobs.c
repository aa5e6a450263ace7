/* engine_jobs — running due jobs and timers.
 *
 * A worker claims one due task with a lease (a short transaction of its
 * own), runs a job's callback on a copy of the process with no lock and no
 * transaction held (jobs may take long), then, under the process lock, on a
 * fresh copy: checks that the task is still its own (not canceled, not
 * re-claimed after the lease ran out), takes over the top-level data keys
 * the job changed, completes the task and runs what follows in job mode,
 * and writes it all in one short transaction.  A failed job is retried with
 * backoff or left in ERROR with its traceback.
 *
 * May call: engine_run, engine_state, engine_lock, activation (through
 * engine_run), store (claims and leases).
 */
#include "engine_internal.h"

#include <math.h>
#include <stdio.h>

#include "fhlog.h"
#include "fhtime.h"
#include "metrics.h"

/* What the job's callback did, taken from its copy of the process. */
typedef struct job_result {
  int failed;
  fherr cause;
  json_t *before;        /* the process data the job saw */
  json_t *after;         /* what it left */
  char *task_data;       /* the job task's data it left */
  metrics_job outcome;   /* what settle made of it */
} job_result;

static void job_result_free(job_result *j) {
  fherr_clear(&j->cause);
  json_decref(j->before);
  json_decref(j->after);
  free(j->task_data);
}

/* Applies to `current` the top-level keys that the job changed relative to
 * what it saw, so edits made by people while the job ran survive. */
static void merge_job_changes(json_t *current, const json_t *before, const json_t *after) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)after, k, v) {
    json_t *was = json_object_get(before, k);
    if (!was || !json_equal(was, v)) json_object_set(current, k, v);
  }
  json_object_foreach((json_t *)before, k, v) {
    if (!json_object_get(after, k)) json_object_del(current, k);
  }
}

static const fd_node *node_of(run *r, const st_task *t) {
  return r->fd ? flowdef_node(r->fd, node_part(t->flow_task)) : NULL;
}

/* Runs the job's callback on a copy of its process, holding nothing.  Its
 * transitions would act on that copy only, so the copy refuses them. */
static void run_job_callback(engine *e, const st_task *claimed, job_result *j) {
  fh_actor system;
  fh_actor_system(&system);
  run r;
  memset(j, 0, sizeof *j);
  if (run_init(&r, e, &system, claimed->process_id, &j->cause)) {
    j->failed = 1;
    run_free(&r);
    return;
  }
  r.job_mode = 1;
  const fd_node *n = node_of(&r, claimed);
  ptask *t = pstate_task(&r.ps, claimed->id);
  j->before = json_deep_copy(r.data);
  if (!strcmp(claimed->type, "timeout") || !strcmp(claimed->type, "subprocess")) {
    /* a boundary timer, a child to start or to take over: all under the lock */
  } else if (n && n->kind == NODE_JOB && t) {
    double old = luavm_set_budget(e->vm, n->timeout > 0 ? n->timeout : e->budget);
    r.door_closed = 1;
    j->failed = run_invoke(&r, t, n, "fn", NULL, &j->cause) != FH_OK;
    luavm_set_budget(e->vm, old);
    j->after = json_incref(r.data);
    j->task_data = t->row.data ? strdup(t->row.data) : NULL;
  } else if (!n || n->kind != NODE_TIMER) {
    fherr_set(&j->cause, FH_FLOW_ERROR, "node '%s' no longer exists as a job or timer", node_part(claimed->flow_task));
    j->failed = 1;
  }
  run_free(&r);
}

/* A failed job: again after a backoff while attempts are left, else ERROR. */
static void record_failure(ptask *t, const fd_node *n, const job_result *j) {
  st_task *row = &t->row;
  row->attempts++;
  row->lease_until[0] = '\0';
  free(row->error_message);
  row->error_message = strdup(j->cause.message);
  int again = n && n->kind == NODE_JOB && row->attempts < n->retry_attempts;
  /* failed jobs are logged like failed human actions (issue 14) */
  fhlog(FHLOG_ERROR, "job %s (task %lld, process %lld) failed on attempt %d%s: %s | %s", row->flow_task,
        (long long)row->id, (long long)row->process_id, row->attempts, again ? ", runs again later" : ", now ERROR",
        j->cause.message, j->cause.traceback ? j->cause.traceback : "");
  if (again) {
    fhtime_format(fhtime_epoch() + n->retry_backoff * pow(2, row->attempts - 1), row->due_at);
  } else {
    row->status = TASK_ERROR;
    free(row->error_traceback);
    row->error_traceback = j->cause.traceback ? strdup(j->cause.traceback) : NULL;
  }
  t->dirty = 1;
}

/* The node right after the job could not even be created (a start, an
 * obsolete node, a join it cannot reach): everything the run did is
 * dropped and the job's own task shows the error for a manager (a revive
 * runs the job again). */
static int fail_after_job(run *r, const st_task *claimed, const fherr *cause, fherr *err) {
  const fh_actor *a = r->actor;
  engine *e = r->e;
  run_free(r);
  int rc = run_init(r, e, a, claimed->process_id, err);
  r->job_mode = 1;
  if (rc) return rc;
  ptask *t = pstate_task(&r->ps, claimed->id);
  if (!t) return FH_OK;
  t->row.status = TASK_ERROR;
  free(t->row.error_message);
  t->row.error_message = strdup(cause->message[0] ? cause->message : "error after the job");
  fhlog(FHLOG_ERROR, "job %s (task %lld, process %lld): what follows it failed, now ERROR: %s", t->row.flow_task,
        (long long)t->row.id, (long long)t->row.process_id, t->row.error_message);
  t->row.lease_until[0] = '\0';
  t->dirty = 1;
  return FH_OK;
}

static int still_ours(const ptask *t, const st_task *claimed) {
  return t && t->row.status == TASK_SCHEDULED && !strcmp(t->row.lease_owner, claimed->lease_owner) &&
         !strcmp(t->row.lease_until, claimed->lease_until);
}

/* The job's result on a fresh copy of the process (its lock held). */
static int settle(run *r, const st_task *claimed, job_result *j, int *dropped, fherr *err) {
  ptask *t = pstate_task(&r->ps, claimed->id);
  const fd_node *n = node_of(r, claimed);
  *dropped = !still_ours(t, claimed);
  j->outcome = *dropped ? METRICS_JOB_DROPPED : METRICS_JOB_DONE;
  if (*dropped) return FH_OK;   /* canceled or re-claimed meanwhile: the result is dropped */
  if (j->failed) {
    record_failure(t, n, j);
    j->outcome = t->row.status == TASK_ERROR ? METRICS_JOB_FAILED : METRICS_JOB_RETRIED;
    return FH_OK;
  }
  if (!strcmp(t->row.type, "timeout")) {
    if (!proc_status_is_running(r->ps.proc.status)) {
      run_cancel_task(t);
      return FH_OK;
    }
    int rc = run_fire_timeout(r, t, err);
    return rc ? rc : run_finish(r, err);
  }
  if (!strcmp(t->row.type, "subprocess")) {
    int rc = n ? run_subprocess_step(r, t, n, err) : FH_OK;
    return rc ? rc : run_finish(r, err);
  }
  if (j->after) merge_job_changes(r->data, j->before, j->after);
  if (j->after) {
    free(t->row.data);
    t->row.data = j->task_data ? strdup(j->task_data) : NULL;
  }
  free(t->row.error_message);
  t->row.error_message = NULL;
  run_complete_task(t);
  if (!proc_status_is_running(r->ps.proc.status)) return FH_OK;   /* ended meanwhile: record, go no further */
  fherr cause = {0};
  int rc = run_follow_next(r, t, n, &cause);
  if (rc == FH_FLOW_ERROR) rc = fail_after_job(r, claimed, &cause, err);
  else if (rc) fherr_set(err, cause.code, "%s", cause.message);
  else rc = run_finish(r, err);
  fherr_clear(&cause);
  return rc;
}

static int run_one_due(engine *e, const st_task *claimed, fherr *err) {
  double started = fhtime_monotonic();
  metrics_job_running(1);
  job_result j;
  run_job_callback(e, claimed, &j);
  fh_actor system;
  fh_actor_system(&system);
  int rc = FH_OK;
  for (int attempt = 1; attempt <= ENGINE_MAX_TRIES; attempt++) {
    run r;
    int dropped = 0, shared;
    if ((rc = engine_hold_process(e, claimed->process_id, &shared, err))) break;
    rc = run_init(&r, e, &system, claimed->process_id, err);
    r.job_mode = 1;
    if (!rc) engine_hold_as_flow_says(e, &r, claimed->process_id, &shared);
    if (!rc) rc = settle(&r, claimed, &j, &dropped, err);
    if (!rc && !dropped) rc = run_write(&r, err);
    engine_release_process(e, claimed->process_id, &shared);
    if (!rc && !dropped) engine_after_write(e, &r);
    run_free(&r);
    if (rc != FH_STALE) break;
    metrics_action_restarted();
    fherr_clear(err);
  }
  if (!rc) metrics_job_outcome(j.outcome);
  metrics_action_done(METRICS_ACTION_JOB, rc, started);
  metrics_job_running(-1);
  job_result_free(&j);
  return rc;
}

int engine_run_task_now(engine *e, int64_t task_id, fherr *err) {
  char now[FH_TIME_LEN], until[FH_TIME_LEN], owner[96];
  fhtime_now(now);
  fhtime_format(fhtime_epoch() + e->budget + e->lease_grace, until);
  snprintf(owner, sizeof owner, "%s:%ld", e->worker, (long)random());
  st_task claimed;
  int rc = store_task_claim_id(e->st, task_id, now, owner, until, &claimed, err);
  if (rc == FH_NOT_FOUND) {   /* not due, or a worker has it: it runs there */
    fherr_clear(err);
    return FH_OK;
  }
  if (!rc) rc = run_one_due(e, &claimed, err);
  st_task_free(&claimed);
  return rc;
}

/* Claims the next due task; FH_NOT_FOUND when none is due.  The lease
 * outlasts the job's time budget; if the worker dies, the task becomes
 * claimable again once it expires. */
static int claim_next(engine *e, st_task *claimed, fherr *err) {
  char now[FH_TIME_LEN], until[FH_TIME_LEN], owner[96];
  fhtime_now(now);
  fhtime_format(fhtime_epoch() + e->budget + e->lease_grace, until);
  snprintf(owner, sizeof owner, "%s:%ld", e->worker, (long)random());
  int rc = store_task_claim_due(e->st, now, owner, until, claimed, err);
  if (rc) return rc;
  char flow[64];
  const char *dot = strchr(claimed->flow_task, '.');
  snprintf(flow, sizeof flow, "%.*s", dot ? (int)(dot - claimed->flow_task) : 0, claimed->flow_task);
  const flowdef *fd = engine_find_def(e, flow);
  const fd_node *n = fd ? flowdef_node(fd, node_part(claimed->flow_task)) : NULL;
  if (n && n->kind == NODE_JOB && n->timeout > 0 && strcmp(claimed->type, "timeout")) {   /* the job's own timeout */
    fhtime_format(fhtime_epoch() + n->timeout + e->lease_grace, until);
    if (!store_task_lease(e->st, claimed->id, claimed->lease_owner, until, err))
      snprintf(claimed->lease_until, sizeof claimed->lease_until, "%s", until);
  }
  return FH_OK;
}

/* Kept messages whose time is up are deleted (they are ignored by
 * receivers from then on anyway: this only keeps the table small). */
static int expire_messages(engine *e, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  double wait;
  int rc = store_message_next_expiry(e->st, now, &wait, err);
  if (rc || wait < 0 || wait > 0) return rc;
  int64_t n;
  return store_message_expire(e->st, now, &n, err);
}

int engine_run_due(engine *e, int max, int *ran, fherr *err) {
  *ran = 0;
  int rc0 = expire_messages(e, err);
  if (!rc0 && !e->swept) {   /* what a crash may have left half done */
    rc0 = engine_deliver_undelivered(e, err);
    if (!rc0) rc0 = engine_cancel_orphans(e, err);
    e->swept = !rc0;
  }
  if (rc0) return rc0;
  while (max <= 0 || *ran < max) {
    int rc = engine_sync_flows(e, err);
    if (rc) return rc;
    st_task claimed;
    rc = claim_next(e, &claimed, err);
    if (rc == FH_NOT_FOUND) {
      if (err) fherr_clear(err);
      return FH_OK;
    }
    if (rc) return rc;
    rc = run_one_due(e, &claimed, err);
    st_task_free(&claimed);
    (*ran)++;
    if (rc && rc != FH_FLOW_ERROR) return rc;
    if (err) fherr_clear(err);
  }
  return FH_OK;
}

int engine_next_due(engine *e, double *seconds, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  double expiry;
  int rc = store_task_next_due(e->st, now, seconds, err);
  if (!rc) rc = store_message_next_expiry(e->st, now, &expiry, err);
  if (!rc && expiry >= 0 && (*seconds < 0 || expiry < *seconds)) *seconds = expiry;
  return rc;
}

/* --- the test clock ----------------------------------------------------
 * engine_advance moves the manual clock (fhtime) from due time to due time
 * rather than straight to the end, so that what runs at each step sees the
 * time it was due at (a timer set by a task that fired mid-way is due
 * relative to then) and everything runs in due-time order. */

/* Bounds on one advance: a flow whose timer schedules itself again (at
 * once, or every second over a long window) would otherwise never let the
 * advance end; past them it fails, saying so. */
#define ADVANCE_MAX_STEPS 100000
#define ADVANCE_MAX_RUNS 10000
#define ADVANCE_MAX_SECONDS 1e10   /* about three centuries */

/* The absolute time of the next due task; < 0: none.  Read against the
 * clock's text, as the store compares it, to the millisecond. */
static int next_due_at(engine *e, double *at, fherr *err) {
  double wait;
  int rc = engine_next_due(e, &wait, err);
  if (rc) return rc;
  if (wait < 0) {
    *at = -1;
    return FH_OK;
  }
  char now[FH_TIME_LEN];
  fhtime_now(now);
  *at = floor((fhtime_parse(now) + wait) * 1000.0 + 0.5) / 1000.0;
  return FH_OK;
}

/* Runs what is due now, at most what is left of ADVANCE_MAX_RUNS. */
static int run_due_counted(engine *e, int *ran, int *n, fherr *err) {
  *n = 0;
  int rc = engine_run_due(e, ADVANCE_MAX_RUNS + 1 - *ran, n, err);
  *ran += *n;
  if (!rc && *ran > ADVANCE_MAX_RUNS)
    rc = fherr_set(err, FH_CONFLICT, "advance: more than %d tasks ran (a timer that schedules itself at once?)",
                   ADVANCE_MAX_RUNS);
  return rc;
}

int engine_advance(engine *e, double seconds, int *ran, fherr *err) {
  *ran = 0;
  if (!fhtime_is_manual()) return fherr_set(err, FH_CONFLICT, "the clock is not manual");
  if (!isfinite(seconds) || seconds < 0)
    return fherr_set(err, FH_INVALID, "advance: seconds must be a finite number >= 0");
  if (seconds > ADVANCE_MAX_SECONDS)   /* past it the microsecond count would overflow */
    return fherr_set(err, FH_INVALID, "advance: at most %.0f seconds at once", ADVANCE_MAX_SECONDS);
  /* to the microsecond the clock keeps, so that the comparisons below see
   * the time the clock will show (0.29 + 0.01 is not quite 0.3) */
  double target = llround((fhtime_epoch() + seconds) * 1e6) / 1e6;
  int n = 0, rc;
  for (int step = 0;; step++) {
    if (step == ADVANCE_MAX_STEPS)
      return fherr_set(err, FH_CONFLICT, "advance: more than %d due times in the window (a timer that repeats?)",
                       ADVANCE_MAX_STEPS);
    if ((rc = run_due_counted(e, ran, &n, err))) return rc;
    double at;
    if ((rc = next_due_at(e, &at, err))) return rc;
    if (at < 0 || at > target) break;
    double now = fhtime_epoch();
    /* due already and yet nothing ran: held by a lease, which only time frees */
    if (at <= now && n == 0) break;
    if (at > now) fhtime_set_manual(at);
  }
  if (target > fhtime_epoch()) fhtime_set_manual(target);
  return run_due_counted(e, ran, &n, err);
}
