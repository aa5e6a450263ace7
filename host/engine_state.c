/* engine_state — one process in memory while an action works on it: its
 * row, its open tasks (the ended ones too once the action asks about one),
 * what the action adds (tasks, links) and changes (rows marked dirty), and
 * writing all of that back in one short transaction.
 *
 * The run reads and changes only this copy, so no transaction is open while
 * callbacks run.  Ids of new tasks (and of a new process) are taken from the
 * store before the write, because callbacks and split tokens see them.  The
 * write is conditional on the process version read here; FH_STALE means
 * another writer changed the process meanwhile and the action starts over.
 *
 * May call: store.  Called by engine_run.c, engine.c, engine_jobs.c.
 */
#include "engine_internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "fhtime.h"

int idlist_push(idlist *l, int64_t id, fherr *err) {
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 4;
    int64_t *grown = realloc(l->v, sizeof *grown * cap);
    if (!grown) return fherr_set(err, FH_INTERNAL, "out of memory");
    l->v = grown;
    l->cap = cap;
  }
  l->v[l->n++] = id;
  return FH_OK;
}

void idlist_free(idlist *l) {
  free(l->v);
  memset(l, 0, sizeof *l);
}

static void drop_sends(pstate *ps, int from) {
  for (int i = from; i < ps->nsends; i++) {
    free(ps->sends[i].name);
    free(ps->sends[i].key);
    free(ps->sends[i].data);
  }
  if (from < ps->nsends) ps->nsends = from;
}

/* --- ptask memory ---------------------------------------------------------------
 * A ptask is ~2 KB: glibc serves that size from its large bins and first
 * consolidates the fast bins, so a malloc per task row was ~2% of an
 * automatic process's CPU.  Each thread keeps a few freed ones for its next
 * rows (a list through their first bytes), given back to malloc when the
 * thread ends.  Not under AddressSanitizer, which should see every free. */
#if defined(__SANITIZE_ADDRESS__)
#define SPARE_MAX 0
#else
#define SPARE_MAX 32
#endif

static __thread ptask *spare_list;
static __thread int spare_n;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_drop(void *unused) {
  (void)unused;
  while (spare_list) {
    ptask *next = *(ptask **)spare_list;
    free(spare_list);
    spare_list = next;
  }
  spare_n = 0;
}

static void spare_key_make(void) { pthread_key_create(&spare_key, spare_drop); }

static ptask *ptask_new(void) {
  ptask *t = spare_list;
  if (!t) return malloc(sizeof *t);
  spare_list = *(ptask **)t;
  spare_n--;
  return t;
}

static void ptask_release(ptask *t) {
  if (!t) return;
  if (spare_n >= SPARE_MAX) {
    free(t);
    return;
  }
  if (!spare_n) {   /* a non-NULL value, so that spare_drop runs when the thread ends */
    pthread_once(&spare_once, spare_key_make);
    pthread_setspecific(spare_key, &spare_n);
  }
  *(ptask **)t = spare_list;
  spare_list = t;
  spare_n++;
}

void pstate_free(pstate *ps) {
  st_process_free(&ps->proc);
  for (int i = 0; i < ps->ntasks; i++) {
    st_task_free(&ps->tasks[i]->row);
    ptask_release(ps->tasks[i]);
  }
  free(ps->tasks);
  free(ps->links);
  free(ps->consume);
  drop_sends(ps, 0);
  free(ps->sends);
  idlist_free(&ps->run_now);
  idlist_free(&ps->orphans);
  pdata_free(&ps->notes);
  fherr_clear(&ps->more_err);
  memset(ps, 0, sizeof *ps);
}

static int grow_tasks(pstate *ps, fherr *err) {
  if (ps->ntasks < ps->cap) return FH_OK;
  int cap = ps->cap ? ps->cap * 2 : 16;
  ptask **grown = realloc(ps->tasks, sizeof *grown * cap);
  if (!grown) return fherr_set(err, FH_INTERNAL, "out of memory");
  ps->tasks = grown;
  ps->cap = cap;
  return FH_OK;
}

_Static_assert(offsetof(ptask, row) == 0, "append_row zeroes what follows the row");

/* Takes the row over (its heap strings included). */
static int append_row(pstate *ps, st_task *row, ptask **out, fherr *err) {
  ptask *t = ptask_new();   /* not zeroed: the row (most of its ~2 KB) is copied over at once */
  if (!t || grow_tasks(ps, err)) {
    ptask_release(t);
    st_task_free(row);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  t->row = *row;
  memset((char *)t + sizeof t->row, 0, sizeof *t - sizeof t->row);   /* the row is the first member */
  t->stored = row->status;
  ps->tasks[ps->ntasks++] = t;
  if (out) *out = t;
  return FH_OK;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void copy_row(const st_task *src, st_task *dst) {
  *dst = *src;
  dst->data = dup_or_null(src->data);
  dst->error_message = dup_or_null(src->error_message);
  dst->error_traceback = dup_or_null(src->error_traceback);
  dst->previous = dup_or_null(src->previous);
}

int pstate_load_one(engine *e, const st_task *task, pstate *ps, fherr *err) {
  memset(ps, 0, sizeof *ps);
  ps->ended_at = ps->members_at = -1;
  int rc = store_process_get(e->st, task->process_id, &ps->proc, err);
  if (rc) return rc;
  st_task row;
  copy_row(task, &row);
  return append_row(ps, &row, NULL, err);
}

/* Appends the rows (taken over, the array freed). */
static int append_rows(pstate *ps, st_task *rows, int n, fherr *err) {
  int rc = FH_OK, done = 0;
  for (; done < n && !rc; done++) rc = append_row(ps, &rows[done], NULL, err);
  for (int i = done; i < n; i++) st_task_free(&rows[i]);   /* left after a failure */
  free(rows);
  return rc;
}

/* Records why a read failed (e, taken over), the first failure only: the
 * action's write fails with it. */
static int read_failed(pstate *ps, fherr *e, int rc) {
  if (ps->more_err.code) {
    fherr_clear(e);
    return rc;
  }
  ps->more_err = *e;
  if (!ps->more_err.code) ps->more_err.code = rc;
  ps->more_err_at = ps->ntasks;
  return rc;
}

/* A process that ran for long has most of its tasks ended: an action on
 * it read them all, so its cost grew with its history (a process whose
 * timer ticked 10,000 times read 20,000 rows a tick).  Camunda keeps its
 * runtime apart from its history for this; here the ended tasks stay in
 * the same table and are read only when asked for.  So are the open
 * instances of a large group: an action on one of 10,000 read them all. */
int pstate_load_live(engine *e, int64_t process_id, pstate *ps, fherr *err) {
  memset(ps, 0, sizeof *ps);
  ps->ended_at = ps->members_at = -1;
  st_task *rows = NULL;
  int n = 0;
  int rc = store_process_load_live(e->st, process_id, &ps->proc, &rows, &n, err);
  if (rc) return rc;
  ps->more_st = e->st;
  if ((rc = append_rows(ps, rows, n, err))) return rc;
  for (int i = 0; i < ps->ntasks && !ps->members_out; i++)
    ps->members_out = ps->tasks[i]->row.status == TASK_STARTED && !strcmp(ps->tasks[i]->row.type, "foreach");
  return FH_OK;
}

int pstate_need_ended(const pstate *cps) {
  pstate *ps = (pstate *)cps;   /* a read of what the state stands for, not a change of it */
  if (!ps->more_st || ps->ended_at >= 0) return ps->more_err.code;
  ps->ended_at = ps->ntasks;
  st_task *rows = NULL;
  int n = 0;
  fherr e = {0};
  int rc = store_task_ended_of_process(ps->more_st, ps->proc.id, &rows, &n, &e);
  if (!rc) rc = append_rows(ps, rows, n, &e);
  return rc ? read_failed(ps, &e, rc) : FH_OK;
}

static int by_value(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Whether the load left out instances that are not read yet. */
static int members_unread(const pstate *ps) { return ps->more_st && ps->members_out && ps->members_at < 0; }

int pstate_need_members(const pstate *cps) {
  pstate *ps = (pstate *)cps;   /* as pstate_need_ended */
  if (!members_unread(ps)) return ps->more_err.code;
  st_task *rows = NULL;
  int n = 0, nhave = 0;
  fherr e = {0};
  int rc = store_task_open_members(ps->more_st, ps->proc.id, &rows, &n, &e);
  if (rc) return read_failed(ps, &e, rc);
  /* those read already (the one acted on, a group's that no longer runs)
   * are in the answer too: kept as they are here, since this action may
   * have changed them */
  int64_t *have = malloc(sizeof *have * ((size_t)ps->ntasks + 1));
  if (!have) {
    st_task_array_free(rows, n);
    return read_failed(ps, &e, fherr_set(&e, FH_INTERNAL, "out of memory"));
  }
  for (int i = 0; i < ps->ntasks; i++)
    if (ps->tasks[i]->row.group_id && !ps->tasks[i]->is_new) have[nhave++] = ps->tasks[i]->row.id;
  qsort(have, (size_t)nhave, sizeof *have, by_value);
  ps->members_at = ps->ntasks;
  int kept = 0;
  for (int i = 0; i < n; i++) {
    if (bsearch(&rows[i].id, have, (size_t)nhave, sizeof *have, by_value)) st_task_free(&rows[i]);
    else rows[kept++] = rows[i];
  }
  free(have);
  rc = append_rows(ps, rows, kept, &e);
  return rc ? read_failed(ps, &e, rc) : FH_OK;
}

/* Reads instance id if the load left it out: whether it did. */
static int read_member(const pstate *cps, int64_t id) {
  pstate *ps = (pstate *)cps;
  if (!members_unread(ps)) return 0;
  st_task row;
  int found = 0;
  fherr e = {0};
  int rc = store_task_open_member(ps->more_st, ps->proc.id, id, &row, &found, &e);
  if (!rc && found) rc = append_row(ps, &row, NULL, &e);
  if (rc) read_failed(ps, &e, rc);
  return !rc && found;
}

/* Whether this call read ended tasks that were not there (a look-up that
 * missed may then look again). */
static int read_more(const pstate *ps) {
  return ps->more_st && ps->ended_at < 0 && pstate_need_ended(ps) == FH_OK;
}

/* What a status adds to a group's counts. */
static void count_status(task_status st, int sign, int *active, int *done) {
  if (task_status_is_active(st)) *active += sign;
  else if (st == TASK_DONE) *done += sign;
}

int pstate_group_changed(const pstate *ps, int64_t group) {
  for (int i = 0; i < ps->ntasks; i++) {
    const ptask *t = ps->tasks[i];
    if (t->row.group_id == group && (t->is_new || t->row.status != t->stored)) return 1;
  }
  return 0;
}

int pstate_group_active(const pstate *cps, int64_t group, int *done) {
  pstate *ps = (pstate *)cps;
  int active = 0, dn = 0;
  int all_read = !ps->more_st || (!members_unread(ps) && ps->ended_at >= 0);
  if (!all_read && ps->counted != group) {   /* the store's counts (the same until the write) */
    int64_t a = 0, d = 0;
    fherr e = {0};
    int rc = store_group_count(ps->more_st, ps->proc.id, group, &a, &d, &e);
    if (rc) {
      read_failed(ps, &e, rc);
      if (done) *done = 0;
      return 1;   /* the group is not through: nothing follows from a count not read */
    }
    ps->counted = group;
    ps->counted_active = (int)a, ps->counted_done = (int)d;
  }
  if (!all_read) active = ps->counted_active, dn = ps->counted_done;   /* then what this action changed */
  for (int i = 0; i < ps->ntasks; i++) {
    const ptask *t = ps->tasks[i];
    if (t->row.group_id != group) continue;
    if (!all_read && !t->is_new) count_status(t->stored, -1, &active, &dn);
    count_status(t->row.status, 1, &active, &dn);
  }
  if (done) *done = dn;
  return active;
}

/* Only tasks that have not ended can change (a finished task is history),
 * so a checkpoint keeps copies of those alone: a long process whose
 * automatic nodes loop costs what is still open, not everything it did. */
static int task_can_change(const ptask *t) {
  return t->row.status != TASK_DONE && t->row.status != TASK_CANCELED;
}

int pstate_checkpoint(const pstate *ps, pstate_mark *m, fherr *err) {
  memset(m, 0, sizeof *m);
  m->ntasks = ps->ntasks;
  m->nlinks = ps->nlinks;
  m->nconsume = ps->nconsume;
  m->nsends = ps->nsends;
  m->proc = ps->proc;
  m->proc.data = dup_or_null(ps->proc.data);
  for (int i = 0; i < ps->ntasks; i++)
    if (task_can_change(ps->tasks[i])) m->nsaved++;
  m->saved = calloc(m->nsaved ? m->nsaved : 1, sizeof *m->saved);
  if (!m->saved) {
    free(m->proc.data);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  int k = 0;
  for (int i = 0; i < ps->ntasks; i++) {
    const ptask *t = ps->tasks[i];
    if (!task_can_change(t)) continue;
    m->saved[k].index = i;
    m->saved[k].is_new = t->is_new;
    m->saved[k].dirty = t->dirty;
    copy_row(&t->row, &m->saved[k].row);
    k++;
  }
  return FH_OK;
}

void pstate_rollback(pstate *ps, pstate_mark *m) {
  for (int i = m->ntasks; i < ps->ntasks; i++) {
    st_task_free(&ps->tasks[i]->row);
    ptask_release(ps->tasks[i]);
  }
  /* read after it: read again if asked for */
  if (ps->ended_at >= m->ntasks) ps->ended_at = -1;
  if (ps->members_at >= m->ntasks) ps->members_at = -1;
  if (ps->more_err.code && ps->more_err_at >= m->ntasks) fherr_clear(&ps->more_err);
  ps->ntasks = m->ntasks;
  ps->nlinks = m->nlinks;
  ps->nconsume = m->nconsume;
  drop_sends(ps, m->nsends);
  for (int k = 0; k < m->nsaved; k++) {
    ptask *t = ps->tasks[m->saved[k].index];
    st_task_free(&t->row);
    t->row = m->saved[k].row;
    t->is_new = m->saved[k].is_new;
    t->dirty = m->saved[k].dirty;
  }
  m->nsaved = 0;
  st_process_free(&ps->proc);
  ps->proc = m->proc;
  m->proc.data = NULL;
  pstate_mark_free(m);
}

void pstate_mark_free(pstate_mark *m) {
  for (int k = 0; k < m->nsaved; k++) st_task_free(&m->saved[k].row);
  free(m->saved);
  free(m->proc.data);
  memset(m, 0, sizeof *m);
}

/* The position of task id in ps, -1 if none: the one after the last found
 * first (the tasks an action made, looked up in order for its answer: a
 * group of 10,000 searched 50,000,000 times), then the newest first (an
 * action looks up the tasks it just made). */
static int task_index(const pstate *ps, int64_t id) {
  int *last = &((pstate *)ps)->last_found;   /* a hint, not part of what the state stands for */
  if (*last + 1 < ps->ntasks && *last + 1 >= 0 && ps->tasks[*last + 1]->row.id == id) return ++*last;
  for (int i = ps->ntasks - 1; i >= 0; i--)
    if (ps->tasks[i]->row.id == id) return *last = i;
  return -1;
}

ptask *pstate_task(const pstate *ps, int64_t id) {
  int i = task_index(ps, id);
  if (i < 0 && id > 0 && read_member(ps, id)) i = ps->ntasks - 1;
  if (i < 0 && id > 0 && read_more(ps)) i = task_index(ps, id);
  return i < 0 ? NULL : ps->tasks[i];
}

int pstate_add_task(engine *e, pstate *ps, const st_task *row, ptask **out, fherr *err) {
  st_task copy;
  copy_row(row, &copy);
  copy.previous = NULL;
  int rc = store_next_id(e->st, STORE_ID_TASK, &copy.id, err);
  if (rc) {
    st_task_free(&copy);
    return rc;
  }
  copy.process_id = ps->proc.id;
  if ((rc = append_row(ps, &copy, out, err))) return rc;
  (*out)->is_new = 1;
  return FH_OK;
}

/* Writes ",id" (or "id" at the start of text) at out; returns the end.
 * By hand: sprintf was most of what linking a new task cost. */
static char *put_id(char *text, char *out, long long id) {
  if (out != text) *out++ = ',';
  char digits[24];
  int n = 0;
  unsigned long long v = id < 0 ? 0ULL - (unsigned long long)id : (unsigned long long)id;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) > 0);
  if (id < 0) *out++ = '-';
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
  return out;
}

/* Adds prev to the row's "3,4" text, kept in id order as the store reads
 * it back. */
static int previous_add(st_task *row, int64_t prev, fherr *err) {
  size_t len = row->previous ? strlen(row->previous) : 0;
  char *text = malloc(len + 24), *out = text;
  if (!text) return fherr_set(err, FH_INTERNAL, "out of memory");
  *text = '\0';
  int placed = 0;
  for (const char *p = row->previous; p && *p;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    if (end == p) break;
    if (!placed && prev < id) {
      out = put_id(text, out, (long long)prev);
      placed = 1;
    }
    out = put_id(text, out, id);
    p = *end == ',' ? end + 1 : end;
  }
  if (!placed) put_id(text, out, (long long)prev);
  free(row->previous);
  row->previous = text;
  return FH_OK;
}

int pstate_link(pstate *ps, ptask *t, int64_t prev, fherr *err) {
  if (!prev) return FH_OK;
  for (int i = 0; i < ps->nlinks; i++)
    if (ps->links[2 * i] == t->row.id && ps->links[2 * i + 1] == prev) return FH_OK;
  if (ps->nlinks == ps->lcap) {
    int cap = ps->lcap ? ps->lcap * 2 : 16;
    int64_t *grown = realloc(ps->links, sizeof *grown * 2 * cap);
    if (!grown) return fherr_set(err, FH_INTERNAL, "out of memory");
    ps->links = grown;
    ps->lcap = cap;
  }
  ps->links[2 * ps->nlinks] = t->row.id;
  ps->links[2 * ps->nlinks + 1] = prev;
  ps->nlinks++;
  return previous_add(&t->row, prev, err);
}

int pstate_consume(pstate *ps, int64_t message_id, fherr *err) {
  if (ps->nconsume == ps->ccap) {
    int cap = ps->ccap ? ps->ccap * 2 : 4;
    int64_t *grown = realloc(ps->consume, sizeof *grown * cap);
    if (!grown) return fherr_set(err, FH_INTERNAL, "out of memory");
    ps->consume = grown;
    ps->ccap = cap;
  }
  ps->consume[ps->nconsume++] = message_id;
  return FH_OK;
}

int pstate_send(pstate *ps, int signal, const char *name, const char *key, const char *data, fherr *err) {
  if (ps->nsends == ps->scap) {
    int cap = ps->scap ? ps->scap * 2 : 4;
    psend *grown = realloc(ps->sends, sizeof *grown * cap);
    if (!grown) return fherr_set(err, FH_INTERNAL, "out of memory");
    ps->sends = grown;
    ps->scap = cap;
  }
  psend *s = &ps->sends[ps->nsends];
  *s = (psend){.signal = signal, .name = strdup(name), .key = key ? strdup(key) : NULL,
               .data = strdup(data ? data : "{}")};
  if (!s->name || !s->data || (key && !s->key)) {
    free(s->name), free(s->key), free(s->data);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  ps->nsends++;
  return FH_OK;
}

void pstate_members_if_orphaned(const pstate *ps) {
  if (!members_unread(ps)) return;
  for (int i = 0; i < ps->ntasks; i++) {
    const ptask *t = ps->tasks[i];
    if (t->stored == TASK_STARTED && t->row.status != TASK_STARTED && !t->is_new && !strcmp(t->row.type, "foreach")) {
      pstate_need_members(ps);
      return;
    }
  }
}

int pstate_count_active(const pstate *ps, const char *prefix, int64_t except) {
  pstate_members_if_orphaned(ps);
  int n = 0;
  size_t plen = prefix ? strlen(prefix) : 0;
  for (int i = 0; i < ps->ntasks; i++) {
    const st_task *t = &ps->tasks[i]->row;
    if (t->id == except || !task_status_is_active(t->status)) continue;
    if (prefix && strncmp(t->token, prefix, plen) != 0) continue;
    n++;
  }
  return n;
}

static ptask *newest_join(const pstate *ps, const char *flow_task, const char *join_of) {
  ptask *best = NULL;
  for (int i = 0; i < ps->ntasks; i++) {
    const st_task *t = &ps->tasks[i]->row;
    if (t->join_of[0] && !strcmp(t->join_of, join_of) && !strcmp(t->flow_task, flow_task) &&
        (!best || t->id > best->row.id))
      best = ps->tasks[i];
  }
  return best;
}

/* The newest join task of the round (one, but for a revive), the ended
 * ones read if none is open: a late branch ends at a finished join. */
ptask *pstate_find_join(const pstate *ps, const char *flow_task, const char *join_of) {
  ptask *join = newest_join(ps, flow_task, join_of);
  return join || !read_more(ps) ? join : newest_join(ps, flow_task, join_of);
}

/* The owner of the task of flow_task done last (by finished_at, then id:
 * the ended tasks are read after the open ones, not in id order). */
int64_t pstate_latest_owner(const pstate *ps, const char *flow_task) {
  pstate_need_ended(ps);
  const st_task *best = NULL;
  for (int i = 0; i < ps->ntasks; i++) {
    const st_task *t = &ps->tasks[i]->row;
    if (t->status != TASK_DONE || strcmp(t->flow_task, flow_task)) continue;
    int c = best ? strcmp(t->finished_at, best->finished_at) : 1;
    if (c > 0 || (c == 0 && t->id > best->id)) best = t;
  }
  return best ? best->owner_id : 0;
}

static int has_done_type(const pstate *ps, const char *type) {
  for (int i = 0; i < ps->ntasks; i++)
    if (ps->tasks[i]->row.status == TASK_DONE && !strcmp(ps->tasks[i]->row.type, type)) return 1;
  return 0;
}

/* Asked when nothing is active any more: usually the End was done by this
 * very action, and the ended tasks need not be read. */
int pstate_has_done_type(const pstate *ps, const char *type) {
  if (has_done_type(ps, type)) return 1;
  return read_more(ps) && has_done_type(ps, type);
}

/* --- history = "lean" ---------------------------------------------------------- */

/* A Split whose task no later action reads: its branches carry its id in
 * their tokens, and a Join finds its round by them.  Only a first-wins
 * Split (first_wins) and a Cancel's region (round_of, in
 * engine_run_events.c) look for the Split's task itself. */
static int split_runs_through(const flowdef *fd, const st_task *t) {
  const fd_node *n = flowdef_node(fd, node_part(t->flow_task));
  return n && n->kind == NODE_SPLIT && !n->first && !n->cancel_target;
}

/* A Join whose round is over: nothing under it is active any more (an
 * ERROR task counts, a revive may bring it), so no branch can arrive later
 * and look for it (pstate_find_join), and a blocking Join's later rounds
 * would find nothing running in it (earlier_round_running). */
static int join_round_over(const pstate *ps, const st_task *t) {
  char prefix[sizeof t->join_of + 1];
  snprintf(prefix, sizeof prefix, "%s_", t->join_of);
  return t->join_of[0] && pstate_count_active(ps, prefix, t->id) == 0;
}

/* A step that ran through: created and done in this action, of a kind
 * that keeps nothing for later, by nobody (no owner) but a StartFunction,
 * whose owner is the process's creator (its created_by says who; a human
 * Start stays, in its owner's archive).  An End only when the process
 * ended with it: while other branches run, the process ends once nothing
 * is active and an End is done (run_finish reads its row).  A Split as
 * split_runs_through says, a Join as join_round_over. */
static int runs_through(const pstate *ps, const st_task *t, int ended) {
  static const char *const kinds[] = {"handler", "if", "switch", "send"};
  if (t->status != TASK_DONE || t->group_id || t->child_id) return 0;
  if (!strcmp(t->type, "start_function")) return 1;
  if (t->owner_id) return 0;
  if (!strcmp(t->type, "end")) return ended;
  if (!strcmp(t->type, "split")) return split_runs_through(ps->lean, t);
  if (!strcmp(t->type, "join")) return join_round_over(ps, t);
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(t->type, kinds[i])) return 1;
  return 0;
}

/* Drops id from the row's "3,4" text (a link to a task never written). */
static void previous_drop(st_task *row, int64_t id) {
  char *out = row->previous;
  for (const char *p = row->previous; p && *p;) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p) break;
    if (v != id) out = put_id(row->previous, out, v);
    p = *end == ',' ? end + 1 : end;
  }
  if (out) *out = '\0';
}

/* The kept tasks the unwritten task at position `from` came from, through
 * unwritten ones: added to out (*n of cap; ids).  Each task is visited once
 * (seen, one flag per position, cleared by the caller); the stack holds
 * positions still to walk, at most one per task, so a long chain of steps
 * in one action (a loop of Handlers) needs no deep recursion. */
static void kept_ancestors(const pstate *ps, int from, char *seen, int *stack, int64_t *out, int *n, int cap) {
  int top = 0;
  stack[top++] = from;
  seen[from] = 1;
  while (top > 0) {
    const ptask *t = ps->tasks[stack[--top]];
    for (const char *p = t->row.previous; p && *p;) {
      char *end;
      long long id = strtoll(p, &end, 10);
      if (end == p) break;
      p = *end == ',' ? end + 1 : end;
      int i = task_index(ps, id);
      if (i < 0 || seen[i]) continue;
      seen[i] = 1;
      if (ps->tasks[i]->unwritten) stack[top++] = i;
      else if (*n < cap) out[(*n)++] = id;
    }
  }
}

/* In a flow of history = "lean" (docs/flow-dsl.md), marks the steps this
 * action ran through, which are not written: an automatic process then
 * costs its process row and its audit entry instead of a task row more per
 * step (bench/README.md, section 48).  What a later action reads of them
 * stays: the tasks a kept Join counts as arrived are its links (arrivals
 * in engine_run_events.c), so those are written.  A kept task that came from
 * unwritten ones is linked to the kept tasks they came from instead (a
 * View after two Handlers, to the View before them); the data's credit to
 * an unwritten one goes to no task. */
static int mark_unwritten(pstate *ps, fherr *err) {
  if (!ps->lean) return FH_OK;
  int ended = !proc_status_is_running(ps->proc.status), any = 0;
  for (int i = 0; i < ps->ntasks; i++) {
    ptask *t = ps->tasks[i];
    if (t->is_new && runs_through(ps, &t->row, ended)) any = t->unwritten = 1;
  }
  if (!any) return FH_OK;
  for (int i = 0; i < ps->nlinks; i++) {
    ptask *to = pstate_task(ps, ps->links[2 * i]), *from = pstate_task(ps, ps->links[2 * i + 1]);
    if (to && from && !to->unwritten && !strcmp(to->row.type, "join")) from->unwritten = 0;
  }
  /* the links kept as they are, and (kept task, kept ancestor) pairs for
   * the ones that went through unwritten tasks */
  int kept = 0, nbridge = 0, cap = ps->ntasks;
  int64_t *bridge = malloc(sizeof *bridge * 2 * ((size_t)cap + 1)), *found = malloc(sizeof *found * ((size_t)cap + 1));
  int *stack = malloc(sizeof *stack * ((size_t)cap + 1));
  char *seen = calloc((size_t)cap + 1, 1);
  if (!bridge || !found || !stack || !seen) {
    free(bridge), free(found), free(stack), free(seen);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  for (int i = 0; i < ps->nlinks; i++) {
    ptask *to = pstate_task(ps, ps->links[2 * i]), *from = pstate_task(ps, ps->links[2 * i + 1]);
    if ((to && to->unwritten) || (from && from->unwritten)) {
      if (to && !to->unwritten) {
        previous_drop(&to->row, ps->links[2 * i + 1]);
        int n = 0, at = task_index(ps, ps->links[2 * i + 1]);
        memset(seen, 0, (size_t)cap);
        if (at >= 0) kept_ancestors(ps, at, seen, stack, found, &n, cap);
        for (int k = 0; k < n && nbridge < cap; k++) {
          bridge[2 * nbridge] = to->row.id;
          bridge[2 * nbridge++ + 1] = found[k];
        }
      }
      continue;
    }
    ps->links[2 * kept] = ps->links[2 * i];
    ps->links[2 * kept + 1] = ps->links[2 * i + 1];
    kept++;
  }
  ps->nlinks = kept;
  int rc = FH_OK;
  for (int k = 0; !rc && k < nbridge; k++) rc = pstate_link(ps, pstate_task(ps, bridge[2 * k]), bridge[2 * k + 1], err);
  free(bridge), free(found), free(stack), free(seen);
  ptask *credited = ps->notes.task_id ? pstate_task(ps, ps->notes.task_id) : NULL;
  if (credited && credited->unwritten) ps->notes.task_id = 0;
  return rc;
}

static int by_id(const void *a, const void *b) {
  int64_t x = (*(const st_task *const *)a)->id, y = (*(const st_task *const *)b)->id;
  return (x > y) - (x < y);
}

/* Collects the rows to insert and to update, in id order, and the new
 * receivers still waiting (a message kept for one meanwhile makes the
 * write stale, so that the action starts over and takes it). */
static int collect(pstate *ps, const st_task ***ins, int *nins, const st_task ***upd, int *nupd,
                   store_await **awaits, int *nawaits, fherr *err) {
  *ins = calloc(ps->ntasks + 1, sizeof **ins);
  *upd = calloc(ps->ntasks + 1, sizeof **upd);
  *awaits = calloc(ps->ntasks + 1, sizeof **awaits);
  *nins = *nupd = *nawaits = 0;
  if (!*ins || !*upd || !*awaits) return fherr_set(err, FH_INTERNAL, "out of memory");
  for (int i = 0; i < ps->ntasks; i++) {
    ptask *t = ps->tasks[i];
    if (t->unwritten) continue;
    if (t->is_new) (*ins)[(*nins)++] = &t->row;
    else if (t->dirty) (*upd)[(*nupd)++] = &t->row;
    if (t->is_new && t->awaits && t->row.status == TASK_STARTED)
      (*awaits)[(*nawaits)++] = (store_await){.name = t->row.event_name, .key = t->row.event_key,
                                              .at = t->row.created_at, .seen = t->kept_seen};
  }
  qsort(*upd, (size_t)*nupd, sizeof **upd, by_id);   /* tasks read later (ended, instances) came after */
  return FH_OK;
}

/* One state's part of a write: the store_write and the arrays it points to. */
typedef struct prepared {
  store_write w;
  const st_task **ins, **upd;
  store_await *awaits;
  store_message_out *out;
  char now[FH_TIME_LEN], until[FH_TIME_LEN];
  data_write dw;
} prepared;

static void prepared_free(prepared *p) {
  data_write_free(&p->dw);
  free(p->out);
  free(p->ins);
  free(p->upd);
  free(p->awaits);
}

/* A process that ended as a Subprocess's child wakes that task (the
 * parent's continuation runs as a job); one that ends in the same write
 * that starts it is seen by its parent there. */
static int wakes_parent(const pstate *ps) {
  return ps->proc.parent_task_id && !ps->is_new &&
         (ps->proc.status == PROC_DONE || ps->proc.status == PROC_CANCELED);
}

static int prepare(engine *e, pstate *ps, const json_t *data, prepared *p, fherr *err) {
  memset(p, 0, sizeof *p);
  int rc = mark_unwritten(ps, err);
  if (rc) return rc;
  char *text = dump_json(data);
  if (!text) return fherr_set(err, FH_INTERNAL, "cannot encode process data");
  int used = 0;
  data_prepare_write(e, ps, ps->is_new ? NULL : ps->proc.data, text, data, &p->dw, &used);
  free(ps->proc.data);
  ps->proc.data = text;
  int nins, nupd, nawaits, nout = 0;
  p->out = calloc(ps->nsends + 1, sizeof *p->out);
  rc = p->out ? collect(ps, &p->ins, &nins, &p->upd, &nupd, &p->awaits, &nawaits, err)
                  : fherr_set(err, FH_INTERNAL, "out of memory");
  if (rc) return rc;
  fhtime_now(p->now);
  fhtime_format(fhtime_epoch() + e->message_ttl, p->until);
  for (int i = 0; i < ps->nsends; i++)
    if (!ps->sends[i].signal)
      p->out[nout++] = (store_message_out){.name = ps->sends[i].name, .key = ps->sends[i].key,
                                           .data = ps->sends[i].data, .created_at = p->now, .expires_at = p->until};
  p->w = (store_write){.process = &ps->proc, .process_is_new = ps->is_new, .inserts = p->ins, .ninserts = nins,
                       .updates = p->upd, .nupdates = nupd, .links = ps->links, .nlinks = ps->nlinks,
                       .consume = ps->consume, .nconsume = ps->nconsume, .awaits = p->awaits, .nawaits = nawaits,
                       .sends = p->out, .nsends = nout, .data = used ? &p->dw.w : NULL};
  if (wakes_parent(ps)) {
    p->w.wake_task = ps->proc.parent_task_id;
    p->w.wake_at = p->now;
  }
  return FH_OK;
}

/* What a written task sets off after the write: a Subprocess task due now
 * starts its child at once, one canceled takes its child along. */
static void note_follow_up(pstate *ps, const ptask *t) {
  if (!(t->is_new || t->dirty)) return;
  if (t->row.status == TASK_SCHEDULED && !strcmp(t->row.type, "subprocess") && !t->row.lease_until[0])
    idlist_push(&ps->run_now, t->row.id, NULL);   /* best effort: a worker finds it anyway */
  if (t->row.child_id && t->row.status == TASK_CANCELED) idlist_push(&ps->orphans, t->row.child_id, NULL);
}

/* Written: the state now matches the store. */
static void written(pstate *ps, const prepared *p) {
  for (int i = 0, k = 0; i < ps->nsends; i++)
    if (!ps->sends[i].signal) ps->sends[i].id = p->out[k++].id;
  if (p->w.wake_task) ps->woke = p->w.wake_task;
  for (int i = 0; i < ps->ntasks; i++) note_follow_up(ps, ps->tasks[i]);
  ps->is_new = 0;
  ps->more_st = NULL;       /* the store holds this state's tasks now: reading more would read them twice */
  pdata_free(&ps->notes);   /* recorded: a later write of this state credits anew */
  ps->proc.version++;
  ps->nlinks = 0;
  ps->nconsume = 0;
  for (int i = 0; i < ps->ntasks; i++) {
    ps->tasks[i]->is_new = ps->tasks[i]->dirty = 0;
    ps->tasks[i]->stored = ps->tasks[i]->row.status;
  }
}

int pstate_write(engine *e, pstate *ps, const json_t *data, pstate *also, const json_t *also_data, fherr *err) {
  prepared a, b;
  memset(&b, 0, sizeof b);
  const pstate *failed = ps->more_err.code ? ps : also && also->more_err.code ? also : NULL;
  if (failed)   /* an answer built without tasks it asked for is not written */
    return fherr_set(err, failed->more_err.code, "reading the process's tasks: %s", failed->more_err.message);
  int rc = prepare(e, ps, data, &a, err);
  if (!rc && also && !(rc = prepare(e, also, also_data, &b, err))) a.w.also = &b.w;
  if (!rc) rc = store_write_process(e->st, &a.w, err);
  if (!rc) {
    written(ps, &a);
    if (also) written(also, &b);
  }
  prepared_free(&a);
  prepared_free(&b);
  return rc;
}
