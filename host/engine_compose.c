/* engine_compose — composition: subprocesses and multiple instances.
 *
 * A Subprocess task is a job (SCHEDULED, due at once).  Its first run
 * starts the child process on a run of its own and writes it in the same
 * transaction as the parent (the task STARTED with child_id set), so a
 * child exists exactly when its task says so.  A child that ends (DONE or
 * CANCELED) wakes that task in its own final write: the task becomes due
 * again and the parent's version rises, and the task's second run takes
 * the child over (output and on, or ERROR for a canceled child).  Both
 * runs happen right after the write that made them due (engine_after_write)
 * and, should a crash come between, by any job worker later.  A canceled
 * Subprocess task cancels its child after the write; children a crash left
 * running are canceled at the first look for due work.
 *
 * A :ForEach node gets a controller task (type "foreach", STARTED, data
 * {total, next, done, items}) and one task per item (group_id = the
 * controller, data {item, index}), all at once or one after another.  An
 * instance that ends DONE goes to the group instead of to :Next; the group
 * continues the flow once every instance ended or the complete condition
 * holds, canceling the rest (unless cancel_rest = false: they run on and
 * end at the finished group).  The group's :OnTimeout guard the controller.
 *
 * May call: engine_run, engine_state, activation (list, complete, input,
 * output), store (the child's row, children, orphans).
 */
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhlog.h"
#include "fhtime.h"

static json_t *task_data(const ptask *t) {
  json_t *d = parse_json_text(t->row.data);
  if (!json_is_object(d)) {
    json_decref(d);
    d = json_object();
  }
  return d;
}

static int set_task_data(ptask *t, json_t *d, fherr *err) {
  char *text = json_dumps(d, JSON_COMPACT);
  json_decref(d);
  if (!text) return fherr_set(err, FH_INTERNAL, "out of memory");
  free(t->row.data);
  t->row.data = text;
  t->dirty = 1;
  return FH_OK;
}

/* --- a group's counters -------------------------------------------------------- */

/* The controller's data is written with its counters first,
 * {"total":T,"next":N,"done":D,"items":[...]}, so that an instance that
 * ends (and a group that starts its instances) reads and rewrites the
 * three numbers in the text and copies the list as it is: parsing the
 * list and printing it again for one number was a third of an instance's
 * action in a group of 10,000.  Data of any other layout (a group started
 * by an older host, or data a complete function set) is parsed whole. */
typedef struct counters {
  int total, next, done;
  size_t rest;   /* where the text goes on after "done"'s number; 0: not that layout */
} counters;

/* A counter's number at s + *at: digits only, as json_dumps prints an int
 * of a group (0..10,000); anything else is not the layout. */
static int read_count(const char *s, size_t *at, const char *key, int *v) {
  size_t klen = strlen(key);
  if (strncmp(s + *at, key, klen)) return 0;
  size_t i = *at + klen, start = i;
  long n = 0;
  while (s[i] >= '0' && s[i] <= '9' && i - start < 9) n = n * 10 + (s[i++] - '0');
  if (i == start || (s[i] >= '0' && s[i] <= '9')) return 0;
  *v = (int)n;
  *at = i;
  return 1;
}

static void counters_read(const ptask *ctrl, counters *c) {
  memset(c, 0, sizeof *c);
  const char *s = ctrl->row.data ? ctrl->row.data : "";
  size_t at = 0;
  if (read_count(s, &at, "{\"total\":", &c->total) && read_count(s, &at, ",\"next\":", &c->next) &&
      read_count(s, &at, ",\"done\":", &c->done) && (s[at] == ',' || s[at] == '}')) {
    c->rest = at;
    return;
  }
  json_t *d = task_data(ctrl);
  c->total = (int)json_integer_value(json_object_get(d, "total"));
  c->next = (int)json_integer_value(json_object_get(d, "next"));
  c->done = (int)json_integer_value(json_object_get(d, "done"));
  json_decref(d);
}

/* The counters of c go into the controller's data (read by counters_read). */
static int counters_write(ptask *ctrl, const counters *c, fherr *err) {
  if (!c->rest) {
    json_t *d = task_data(ctrl);
    json_object_set_new(d, "next", json_integer(c->next));
    json_object_set_new(d, "done", json_integer(c->done));
    return set_task_data(ctrl, d, err);
  }
  char head[80];
  int nhead = snprintf(head, sizeof head, "{\"total\":%d,\"next\":%d,\"done\":%d", c->total, c->next, c->done);
  const char *rest = ctrl->row.data + c->rest;
  size_t nrest = strlen(rest);
  char *text = malloc((size_t)nhead + nrest + 1);
  if (!text) return fherr_set(err, FH_INTERNAL, "out of memory");
  memcpy(text, head, (size_t)nhead);
  memcpy(text + nhead, rest, nrest + 1);
  free(ctrl->row.data);
  ctrl->row.data = text;
  ctrl->dirty = 1;
  return FH_OK;
}

/* --- multiple instances -------------------------------------------------------- */

/* The list a :ForEach runs over: the process field it names, or what its
 * function returns (an empty table is an empty list). */
static int group_items(run *r, const fd_node *n, json_t **items, fherr *err) {
  json_t *v = NULL;
  if (n->foreach_field) {
    v = json_incref(json_object_get(r->data, n->foreach_field));
    if (!v) return fherr_set(err, FH_FLOW_ERROR, "'%s': the process field '%s' holds no list", n->name, n->foreach_field);
  } else {
    act_ctx c;
    run_ctx(r, n, NULL, 0, &c);
    int rc = activation_value(r->e->vm, &c, "foreach", &v, err);
    if (rc) return rc;
  }
  if (json_is_object(v) && json_object_size(v) == 0) {
    json_decref(v);
    v = json_array();
  }
  if (!json_is_array(v)) {
    json_decref(v);
    return fherr_set(err, FH_FLOW_ERROR, "'%s': :ForEach needs a list (a Lua array)", n->name);
  }
  if (json_array_size(v) > COMPOSE_MAX_ITEMS) {
    json_decref(v);
    return fherr_set(err, FH_FLOW_ERROR, "'%s': :ForEach over more than %d items", n->name, COMPOSE_MAX_ITEMS);
  }
  *items = v;
  return FH_OK;
}

/* Instance `index` (0-based) of the group, item `item` of its list,
 * coming from task prev. */
static int create_instance(run *r, const fd_node *n, ptask *ctrl, json_t *item, int index, int64_t prev, fherr *err) {
  json_t *data = json_pack("{s:O, s:i}", "item", item ? item : json_null(), "index", index + 1);
  int rc = data ? run_create_one(r, n, ctrl->row.token, prev, ctrl->row.id, data, NULL, err)
                : fherr_set(err, FH_INTERNAL, "out of memory");
  json_decref(data);
  return rc;
}

static size_t skip_space(const char *s, size_t i) {
  while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') i++;
  return i;
}

/* The end of the JSON value that starts at s + i (its whitespace before
 * skipped), 0 if the text ends first: strings with their escapes, arrays
 * and objects by their depth, other values up to the next delimiter. */
static size_t skip_value(const char *s, size_t i) {
  i = skip_space(s, i);
  int depth = 0;
  do {
    char ch = s[i];
    if (!ch) return 0;
    if (ch == '"') {
      for (i++; s[i] != '"'; i++)
        if (!s[i] || (s[i] == '\\' && !s[++i])) return 0;
      i++;
    } else if (ch == '[' || ch == '{') {
      depth++;
      i++;
    } else if (ch == ']' || ch == '}') {
      if (--depth < 0) return 0;
      i++;
    } else if (depth > 0) {
      i++;
    } else {
      while (s[i] && !strchr(",]} \t\n\r", s[i])) i++;
    }
  } while (depth > 0);
  return i;
}

/* Item `index` (0-based) of the list in the controller's data of the
 * counters' layout, found by skipping the items before it in the text
 * rather than parsing the list (a group in turn of 10,000 parsed it for
 * each instance): *item NULL past the list's end.  0: not that layout. */
static int item_in_text(const ptask *ctrl, const counters *c, int index, json_t **item) {
  static const char KEY[] = ",\"items\":[";
  const char *s = ctrl->row.data;
  *item = NULL;
  if (!c->rest || strncmp(s + c->rest, KEY, sizeof KEY - 1)) return 0;
  size_t i = c->rest + sizeof KEY - 1;
  for (int k = 0;; k++) {
    i = skip_space(s, i);
    if (s[i] == ']') return 1;
    size_t end = skip_value(s, i);
    if (!end) return 0;
    if (k == index) {
      *item = json_loadb(s + i, end - i, JSON_DECODE_ANY, NULL);
      return *item != NULL;
    }
    end = skip_space(s, end);
    if (s[end] != ',') return s[end] == ']';
    i = end + 1;
  }
}

/* The next instance in turn (parallel = false): the controller's "next"
 * moves on, in its data as the task JSON shows it. */
static int start_instance(run *r, const fd_node *n, ptask *ctrl, int index, int64_t prev, fherr *err) {
  counters c;
  counters_read(ctrl, &c);
  json_t *item = NULL;
  if (!item_in_text(ctrl, &c, index, &item)) {
    json_t *d = task_data(ctrl);
    item = json_incref(json_array_get(json_object_get(d, "items"), index));
    json_decref(d);
  }
  c.next = index + 1;
  int rc = counters_write(ctrl, &c, err);
  if (!rc) rc = create_instance(r, n, ctrl, item, index, prev, err);
  json_decref(item);
  return rc;
}

/* Every instance at once (parallel = true): the list is read and the
 * controller's data written once for the whole group, not once per
 * instance, which made a group of 10,000 cost 10,000 times its list. */
static int start_all_instances(run *r, const fd_node *n, ptask *ctrl, json_t *items, fherr *err) {
  int total = (int)json_array_size(items), rc = FH_OK;
  for (int i = 0; i < total && !rc; i++) rc = create_instance(r, n, ctrl, json_array_get(items, i), i, ctrl->row.id, err);
  if (rc) return rc;
  counters c;
  counters_read(ctrl, &c);
  c.next = total;
  return counters_write(ctrl, &c, err);
}

static void cancel_members(run *r, const ptask *ctrl, int *n) {
  pstate_need_members(&r->ps);   /* a failed read fails the write */
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *t = r->ps.tasks[i];
    if (t->row.group_id != ctrl->row.id || !task_status_is_active(t->row.status)) continue;
    run_cancel_task(t);
    if (n) (*n)++;
  }
}

/* The group is through: what is left of it is canceled (or, with
 * cancel_rest = false, runs on and ends at the group), the flow goes on. */
static int finish_group(run *r, ptask *ctrl, const fd_node *n, fherr *err) {
  if (n->foreach_cancel_rest) cancel_members(r, ctrl, NULL);
  run_complete_task(ctrl);
  return run_follow_next(r, ctrl, n, err);
}

int run_create_group(run *r, const fd_node *n, const char *token, int64_t prev, fherr *err) {
  json_t *items = NULL;
  int rc = group_items(r, n, &items, err);
  if (rc) return rc;
  int total = (int)json_array_size(items);
  st_task row = {0};
  row.process_id = r->ps.proc.id;
  snprintf(row.flow_task, sizeof row.flow_task, "%s.%s", r->ps.proc.flow, n->name);
  snprintf(row.type, sizeof row.type, "foreach");
  row.status = TASK_STARTED;
  snprintf(row.token, sizeof row.token, "%s", token);
  fhtime_now(row.created_at);
  snprintf(row.started_at, sizeof row.started_at, "%s", row.created_at);
  json_t *d = json_pack("{s:i, s:i, s:i, s:O}", "total", total, "next", 0, "done", 0, "items", items);   /* counters first */
  row.data = json_dumps(d, JSON_COMPACT);
  json_decref(d);
  ptask *ctrl = NULL;
  rc = row.data ? run_add_task(r, &row, prev, &ctrl, err) : fherr_set(err, FH_INTERNAL, "out of memory");
  st_task_free(&row);
  if (!rc && n->ntimeouts) rc = run_arm_timeouts(r, ctrl, n, err);
  if (!rc && total == 0) rc = finish_group(r, ctrl, n, err);
  else if (!rc) rc = n->foreach_parallel ? start_all_instances(r, n, ctrl, items, err)
                                         : start_instance(r, n, ctrl, 0, ctrl->row.id, err);
  json_decref(items);
  return rc;
}

/* Enough instances are DONE: complete = N, or the complete function. */
static int enough_done(run *r, ptask *ctrl, const fd_node *n, int done, int *yes, fherr *err) {
  *yes = n->complete_count > 0 && done >= n->complete_count;
  if (*yes || !n->has_complete_fn) return FH_OK;
  act_ctx c;
  run_ctx(r, n, &ctrl->row, 1, &c);
  json_t *arg = json_integer(done);
  int rc = activation_decide(r->e->vm, &c, "complete", arg, yes, err);
  json_decref(arg);
  return rc;
}

int run_instance_done(run *r, ptask *inst, const fd_node *n, fherr *err) {
  ptask *ctrl = pstate_task(&r->ps, inst->row.group_id);
  if (!ctrl || ctrl->row.status != TASK_STARTED) return FH_OK;   /* the group is over: it ends here */
  int done = 0, yes = 0;
  int active = pstate_group_active(&r->ps, ctrl->row.id, &done);
  counters c;
  counters_read(ctrl, &c);
  c.done = done;
  int rc = counters_write(ctrl, &c, err);
  if (!rc) rc = enough_done(r, ctrl, n, done, &yes, err);
  if (rc || yes) return rc ? rc : finish_group(r, ctrl, n, err);
  if (n->has_complete_fn) counters_read(ctrl, &c);   /* it may have changed the group's data (activation.task.data) */
  if (!n->foreach_parallel && c.next < c.total) return start_instance(r, n, ctrl, c.next, inst->row.id, err);
  return active == 0 && c.next >= c.total ? finish_group(r, ctrl, n, err) : FH_OK;
}

/* The newest member of a group (what the next instance in turn comes from). */
static int64_t last_member(const run *r, const ptask *ctrl) {
  int64_t last = ctrl->row.id;
  pstate_need_ended(&r->ps);
  for (int i = 0; i < r->ps.ntasks; i++)
    if (r->ps.tasks[i]->row.group_id == ctrl->row.id && r->ps.tasks[i]->row.id > last) last = r->ps.tasks[i]->row.id;
  return last;
}

int run_settle_groups(run *r, int *changed, fherr *err) {
  *changed = 0;
  for (int i = 0; i < r->ps.ntasks; i++) {
    ptask *ctrl = r->ps.tasks[i];
    if (strcmp(ctrl->row.type, "foreach")) continue;
    if (ctrl->row.status == TASK_CANCELED) {   /* canceled with its process, a region, a timeout... */
      cancel_members(r, ctrl, changed);
      continue;
    }
    /* a group none of whose instances this action changed was settled by
     * the action that last did (and a STARTED group has one active) */
    if (ctrl->row.status != TASK_STARTED || !pstate_group_changed(&r->ps, ctrl->row.id) ||
        pstate_group_active(&r->ps, ctrl->row.id, NULL) > 0)
      continue;
    /* every instance ended, some other way than DONE (canceled, timed out) */
    const fd_node *n = r->fd ? flowdef_node(r->fd, node_part(ctrl->row.flow_task)) : NULL;
    if (!n) continue;
    counters c;
    counters_read(ctrl, &c);
    int rc = !n->foreach_parallel && c.next < c.total ? start_instance(r, n, ctrl, c.next, last_member(r, ctrl), err)
                                                      : finish_group(r, ctrl, n, err);
    if (rc) return rc;
    (*changed)++;
  }
  return FH_OK;
}

/* --- subprocesses ----------------------------------------------------------------- */

/* A failure of the child's start or take-over without a Lua error: the
 * task is ERROR (run_mark_error) for a manager to revive or cancel. */
static int task_error(ptask *t, const char *message) {
  fherr cause = {0};
  fherr_set(&cause, FH_FLOW_ERROR, "%s", message);
  run_mark_error(t, &cause);
  fherr_clear(&cause);
  return FH_OK;
}

/* The child's input: input(self, activation) or nothing. */
static int child_input(run *r, ptask *t, const fd_node *n, json_t **input, fherr *err) {
  *input = NULL;
  if (!n->has_input_fn) return FH_OK;
  act_ctx c;
  run_ctx(r, n, &t->row, 1, &c);
  int rc = activation_value(r->e->vm, &c, "input", input, err);
  if (!rc && *input && !json_is_object(*input)) {
    json_decref(*input);
    *input = NULL;
    rc = fherr_set(err, FH_FLOW_ERROR, "input of '%s' must return a table of fields", n->name);
  }
  return rc;
}

/* The child's run, started at its StartFunction (not written yet). */
static int child_run(run *r, ptask *t, const fd_node *n, const json_t *input, run **out, fherr *err) {
  const flowdef *cd = engine_find_def(r->e, n->subflow);
  const fd_node *sn = cd ? flowdef_node(cd, n->sub_start) : NULL;
  if (!cd) return fherr_set(err, FH_FLOW_ERROR, "subprocess '%s': there is no flow '%s'", n->name, n->subflow);
  if (!sn || sn->kind != NODE_START_FUNCTION)
    return fherr_set(err, FH_FLOW_ERROR, "subprocess '%s': flow '%s' has no StartFunction '%s'", n->name, n->subflow,
                     n->sub_start);
  if (r->ps.proc.depth + 1 > COMPOSE_MAX_DEPTH)
    return fherr_set(err, FH_FLOW_ERROR, "subprocess '%s': processes nested deeper than %d (a flow calling itself "
                     "without end?)", n->name, COMPOSE_MAX_DEPTH);
  run *c = calloc(1, sizeof *c);
  if (!c) return fherr_set(err, FH_INTERNAL, "out of memory");
  run_init_new(c, r->e, r->actor, cd);
  st_process *p = &c->ps.proc;
  p->parent_task_id = t->row.id;
  p->parent_id = r->ps.proc.id;
  p->depth = r->ps.proc.depth + 1;
  /* the person who started the parent sees the child as theirs too */
  p->created_by = r->ps.proc.created_by;
  snprintf(p->created_by_name, sizeof p->created_by_name, "%s", r->ps.proc.created_by_name);
  json_t *empty = json_object();
  int rc = run_start(c, sn, input ? input : empty, err);
  json_decref(empty);
  if (rc) {
    run_free(c);
    free(c);
    return rc;
  }
  *out = c;
  return FH_OK;
}

/* The child ended: output(self, activation, child) and on, or ERROR.
 * data: the child's process data. */
static int take_over(run *r, ptask *t, const fd_node *n, const st_process *child, const json_t *data, fherr *err) {
  if (child->status == PROC_CANCELED) {
    char text[160];
    snprintf(text, sizeof text, "child process %lld (%s) was canceled", (long long)child->id, child->flow);
    return task_error(t, text);
  }
  if (n->has_output_fn) {
    json_t *c = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)child->id, "status", proc_status_name(child->status),
                          "flow", child->flow, "data", json_deep_copy(data));
    fherr cause = {0};
    int rc = run_invoke(r, t, n, "output", c, &cause);
    json_decref(c);
    if (rc == FH_FLOW_ERROR) {
      run_mark_error(t, &cause);
      fherr_clear(&cause);
      return FH_OK;
    }
    if (rc) return fherr_set(err, cause.code, "%s", cause.message);
  }
  free(t->row.error_message);
  t->row.error_message = NULL;
  run_complete_task(t);
  return run_follow_next(r, t, n, err);
}

static int start_child(run *r, ptask *t, const fd_node *n, fherr *err) {
  json_t *input = NULL;
  run *c = NULL;
  fherr cause = {0};
  int rc = child_input(r, t, n, &input, &cause);
  if (!rc) rc = child_run(r, t, n, input, &c, &cause);
  json_decref(input);
  if (rc == FH_FLOW_ERROR) {
    run_mark_error(t, &cause);
    fherr_clear(&cause);
    return FH_OK;
  }
  if (rc) {
    fherr_set(err, cause.code, "%s", cause.message);
    fherr_clear(&cause);
    return rc;
  }
  r->child = c;
  t->row.child_id = c->ps.proc.id;
  if (proc_status_is_running(c->ps.proc.status)) {
    t->row.status = TASK_STARTED;
    t->row.lease_until[0] = t->row.due_at[0] = '\0';
    fhtime_now(t->row.started_at);
    t->dirty = 1;
    return FH_OK;
  }
  return take_over(r, t, n, &c->ps.proc, c->data, err);   /* it ran to its end at once */
}

int run_subprocess_step(run *r, ptask *t, const fd_node *n, fherr *err) {
  if (!proc_status_is_running(r->ps.proc.status)) {
    run_cancel_task(t);
    return FH_OK;
  }
  if (!t->row.child_id) return start_child(r, t, n, err);
  st_process child;
  int rc = store_process_get(r->e->st, t->row.child_id, &child, err);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(err);
    return task_error(t, "its child process is gone");
  }
  if (rc) return rc;
  if (proc_status_is_running(child.status)) {   /* woken early: wait on */
    t->row.status = TASK_STARTED;
    t->row.lease_until[0] = t->row.due_at[0] = '\0';
    t->dirty = 1;
  } else {
    json_t *data = parse_json_text(child.data);
    rc = take_over(r, t, n, &child, data, err);
    json_decref(data);
  }
  st_process_free(&child);
  return rc;
}

/* --- after the write ---------------------------------------------------------------- */

static void cancel_child(engine *e, int64_t pid) {
  fh_actor system;
  fh_actor_system(&system);
  json_t *out = NULL;
  fherr err = {0};
  st_process p;
  if (store_process_get(e->st, pid, &p, &err)) {   /* gone: nothing to do */
    fherr_clear(&err);
    return;
  }
  int running = proc_status_is_running(p.status);
  st_process_free(&p);
  if (running && engine_process_cancel(e, &system, pid, &out, &err))
    fhlog(FHLOG_WARN, "child process %lld could not be canceled: %s", (long long)pid, err.message);
  json_decref(out);
  fherr_clear(&err);
}

static void run_due_now(engine *e, int64_t task_id) {
  fherr err = {0};
  if (engine_run_task_now(e, task_id, &err))
    fhlog(FHLOG_WARN, "task %lld: %s (a job worker tries again)", (long long)task_id, err.message);
  fherr_clear(&err);
}

static void follow_up(engine *e, pstate *ps) {
  for (int i = 0; i < ps->orphans.n; i++) cancel_child(e, ps->orphans.v[i]);
  for (int i = 0; i < ps->run_now.n; i++) run_due_now(e, ps->run_now.v[i]);
  if (ps->woke) run_due_now(e, ps->woke);
  idlist_free(&ps->orphans);
  idlist_free(&ps->run_now);
  ps->woke = 0;
}

void engine_after_write(engine *e, run *r) {
  engine_flush_outbox(e, r);
  if (r->child) engine_flush_outbox(e, r->child);
  follow_up(e, &r->ps);
  if (r->child) follow_up(e, &r->child->ps);
}

int engine_cancel_orphans(engine *e, fherr *err) {
  int64_t after = 0;
  for (;;) {
    int64_t id;
    int rc = store_process_orphan_next(e->st, after, &id, err);
    if (rc || !id) return rc;
    after = id;
    cancel_child(e, id);
  }
}
