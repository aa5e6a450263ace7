#include "engine_internal.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>

#include "fhtime.h"

/* --- jobs and timers ------------------------------------------------------ */

/* Applies to `current` the top-level keys that the job changed relative to
 * its snapshot, so edits made by people while the job ran survive. */
static void merge_job_changes(json_t *current, const json_t *snapshot, const json_t *result) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)result, k, v) {
    json_t *before = json_object_get(snapshot, k);
    if (!before || !json_equal(before, v)) json_object_set(current, k, v);
  }
  json_object_foreach((json_t *)snapshot, k, v) {
    if (!json_object_get(result, k)) json_object_del(current, k);
  }
}

/* Re-reads the claimed task inside the write transaction: a job whose
 * task was canceled, or re-claimed after its lease ran out, is stale. */
static int still_ours(engine *e, const st_task *claimed, st_task *now, fherr *err) {
  int rc = store_task_get(e->st, claimed->id, now, err);
  if (rc) return 0;
  return !strcmp(now->status, "SCHEDULED") && !strcmp(now->lease_owner, claimed->lease_owner) &&
         !strcmp(now->lease_until, claimed->lease_until);
}

static int run_one_due(engine *e, st_task *claimed, fherr *err) {
  fh_actor system;
  fh_actor_system(&system);
  run r;
  int rc = run_init(&r, e, &system, claimed->process_id, err);
  if (rc) {
    run_free(&r);
    return rc;
  }
  r.job_mode = 1;
  const fd_node *n = r.fd ? flowdef_node(r.fd, node_part(claimed->flow_task)) : NULL;
  fherr cause = {0};
  json_t *snapshot = json_deep_copy(r.data);
  int job_failed = 0;
  if (n && n->kind == NODE_JOB) {
    /* The job runs with no transaction open: other actions go on meanwhile. */
    double old = luavm_set_budget(e->vm, n->timeout > 0 ? n->timeout : e->budget);
    job_failed = run_invoke_node(&r, claimed, n, "fn", NULL, 0, &cause) != FH_OK;
    luavm_set_budget(e->vm, old);
  } else if (!n || n->kind != NODE_TIMER) {
    fherr_set(&cause, FH_FLOW_ERROR, "node '%s' no longer exists as a job or timer", node_part(claimed->flow_task));
    job_failed = 1;
  }
  if ((rc = store_begin(e->st, err))) goto out;
  st_task t = {0};
  if (!still_ours(e, claimed, &t, err)) {
    st_task_free(&t);
    store_rollback(e->st);
    goto out;   /* canceled or re-claimed meanwhile: the result is dropped */
  }
  st_process fresh;
  if ((rc = store_process_get(e->st, r.proc.id, &fresh, err))) {
    st_task_free(&t);
    goto done;
  }
  json_t *current = parse_json_text(fresh.data);
  snprintf(r.proc.status, sizeof r.proc.status, "%s", fresh.status);
  st_process_free(&fresh);
  if (job_failed) {
    json_decref(current);
    t.attempts++;
    t.lease_until[0] = '\0';
    if (n && n->kind == NODE_JOB && t.attempts < n->retry_attempts) {
      double delay = n->retry_backoff * pow(2, t.attempts - 1);
      fhtime_format(fhtime_epoch() + delay, t.due_at);
      free(t.error_message);
      t.error_message = strdup(cause.message);
    } else {
      snprintf(t.status, sizeof t.status, "ERROR");
      free(t.error_message);
      free(t.error_traceback);
      t.error_message = strdup(cause.message);
      t.error_traceback = cause.traceback ? strdup(cause.traceback) : NULL;
    }
    rc = store_task_update(e->st, &t, err);
    st_task_free(&t);
    goto done;
  }
  merge_job_changes(current, snapshot, r.data);
  json_decref(r.data);
  r.data = current;
  free(t.data);
  t.data = claimed->data ? strdup(claimed->data) : NULL;
  free(t.error_message);
  t.error_message = NULL;
  if (strcmp(r.proc.status, "NEW") && strcmp(r.proc.status, "STARTED")) {
    rc = run_complete_task(&r, &t, err);   /* the process ended meanwhile: record, go no further */
  } else if (!(rc = run_complete_task(&r, &t, err))) {
    if (!(rc = run_follow_next(&r, &t, n, err))) rc = run_finish(&r, err);
    else if (rc == FH_FLOW_ERROR) {
      /* The node right after the job could not even be created (a start,
       * obsolete or join node it cannot reach): the job's own task shows
       * the error for a manager, and its result is dropped (a revive runs
       * the job again). */
      store_rollback(e->st);
      st_task_free(&t);
      json_decref(snapshot);
      run_free(&r);
      fherr_clear(&cause);
      if ((rc = store_begin(e->st, err))) return rc;
      st_task again;
      if (!store_task_get(e->st, claimed->id, &again, err)) {
        snprintf(again.status, sizeof again.status, "ERROR");
        free(again.error_message);
        again.error_message = strdup(err ? err->message : "error after the job");
        again.lease_until[0] = '\0';
        rc = store_task_update(e->st, &again, err);
        st_task_free(&again);
      }
      return engine_end_txn(e, rc, err);
    }
  }
  st_task_free(&t);
done:
  rc = engine_end_txn(e, rc, err);
out:
  json_decref(snapshot);
  fherr_clear(&cause);
  run_free(&r);
  return rc;
}

int engine_run_due(engine *e, int max, int *ran, fherr *err) {
  *ran = 0;
  int rc;
  while (max <= 0 || *ran < max) {
    if ((rc = engine_begin(e, err))) return rc;
    char now[FH_TIME_LEN], until[FH_TIME_LEN];
    fhtime_now(now);
    st_task claimed;
    /* The lease outlasts the job's time budget; if the worker dies, the job
     * becomes claimable again once it expires. */
    fhtime_format(fhtime_epoch() + e->budget + e->lease_grace, until);
    char owner[96];
    snprintf(owner, sizeof owner, "%s:%ld", e->worker, (long)random());
    rc = store_task_claim_due(e->st, now, owner, until, &claimed, err);
    if (rc == FH_NOT_FOUND) {
      store_rollback(e->st);
      if (err) fherr_clear(err);
      return FH_OK;
    }
    if (rc || (rc = store_commit(e->st, err))) {
      store_rollback(e->st);
      return rc;
    }
    const flowdef *fd = NULL;
    char flow[64];
    const char *dot = strchr(claimed.flow_task, '.');
    snprintf(flow, sizeof flow, "%.*s", dot ? (int)(dot - claimed.flow_task) : 0, claimed.flow_task);
    fd = engine_find_def(e, flow);
    const fd_node *n = fd ? flowdef_node(fd, node_part(claimed.flow_task)) : NULL;
    if (n && n->kind == NODE_JOB && n->timeout > 0) {
      /* re-lease for the job's own timeout */
      if (!(rc = store_begin(e->st, err))) {
        st_task t;
        if (!store_task_get(e->st, claimed.id, &t, err)) {
          fhtime_format(fhtime_epoch() + n->timeout + e->lease_grace, t.lease_until);
          store_task_update(e->st, &t, err);
          snprintf(claimed.lease_until, sizeof claimed.lease_until, "%s", t.lease_until);
          st_task_free(&t);
        }
        rc = engine_end_txn(e, rc, err);
      }
    }
    if (!rc) rc = run_one_due(e, &claimed, err);
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
  return store_task_next_due(e->st, now, seconds, err);
}

