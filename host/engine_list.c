/* engine_list — the task lists (inbox, queue, archive, all) written as
 * JSON text in one pass: each row straight from the store into a jsonw
 * buffer, in the shape and the bytes of view_task_json() + dump.
 *
 * Why a writer of its own rather than view_task_json(): a page of 50 rows
 * built as jansson trees spent more time allocating, printing and freeing
 * them than reading the rows.  The row's process status and version come
 * with the row (the list statements join the process), so a page reads a
 * process only when its summary is not in the engine's summary cache.
 * tests/c/test_jsonw.c checks these bytes against view_task_json's.
 *
 * May call: store (reads), engine_view (queue permissions, summaries),
 * engine_admin (who sees error details), engine_pins (pinned definitions).
 */
#include "engine_internal.h"

#include <stdio.h>

#include "engine_admin.h"
#include "jsonw.h"

/* --- one task ---------------------------------------------------------------- */

/* The flow part of "flow.node" ("" without a dot), as view_task_json cuts it. */
static void flow_of(const char *flow_task, char flow[64]) {
  const char *dot = strchr(flow_task, '.');
  size_t n = dot ? (size_t)(dot - flow_task) : 0;
  if (n > 63) n = 63;
  memcpy(flow, flow_task, n);
  flow[n] = '\0';
}

/* "3,4" from the task row -> [3,4]: task ids, positive, written by the
 * store (strtoll was a sixth of a row's JSON).  Anything else ends it. */
static void write_previous(jsonw *w, const char *previous) {
  JW_KEY(w, "previous");
  jw_array(w);
  for (const char *p = previous; p && *p >= '0' && *p <= '9';) {
    int64_t id = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++) id = id * 10 + (*p - '0');
    if (*p >= '0' && *p <= '9') break;   /* more than 18 digits: no id of ours */
    jw_int(w, id);
    if (*p == ',') p++;
  }
  jw_array_end(w);
}

/* The error, or (hide: the actor does not see this flow's details) the
 * same plain message http_admin_redact() puts in its place. */
static void write_error(jsonw *w, const st_task *t, const char *title, int hide) {
  JW_KEY(w, "error");
  jw_object(w);
  JW_KEY(w, "message");
  if (hide) {
    char message[300];
    snprintf(message, sizeof message, "The step '%.150s' failed. An administrator can see the details.",
             title ? title : "?");
    jw_string(w, message);
    JW_KEY(w, "hidden");
    jw_bool(w, 1);
  } else {
    jw_string(w, t->error_message);
    JW_KEY(w, "traceback");
    jw_string(w, t->error_traceback);
  }
  jw_object_end(w);
}

/* The members view_task_json() gives every task, in its order. */
static void write_task_core(jsonw *w, const st_task *t, const char *flow, const char *type, const char *title) {
  JW_KEY(w, "id");
  jw_int(w, t->id);
  JW_KEY(w, "process_id");
  jw_int(w, t->process_id);
  JW_KEY(w, "flow");
  jw_string(w, flow);
  JW_KEY(w, "node");
  jw_string(w, node_part(t->flow_task));
  JW_KEY(w, "type");
  jw_string(w, type);
  JW_KEY(w, "title");
  jw_string(w, title);
  JW_KEY(w, "status");
  jw_string(w, task_status_name(t->status));
  JW_KEY(w, "owner");
  jw_string_or_null(w, t->owner_name);
  JW_KEY(w, "token");
  jw_string(w, t->token);
  write_previous(w, t->previous);
  JW_KEY(w, "data");
  jw_object_text(w, t->data);
  JW_KEY(w, "created_at");
  jw_string(w, t->created_at);
  JW_KEY(w, "assigned_at");
  jw_string_or_null(w, t->assigned_at);
  JW_KEY(w, "started_at");
  jw_string_or_null(w, t->started_at);
  JW_KEY(w, "finished_at");
  jw_string_or_null(w, t->finished_at);
}

/* The members that only some tasks have, in view_task_json()'s order. */
static void write_task_extras(jsonw *w, const st_task *t, const fd_node *n, int is_timeout) {
  if (t->due_at[0] && (t->status == TASK_SCHEDULED || (n && n->has_due && !is_timeout))) {
    JW_KEY(w, "due_at");
    jw_string(w, t->due_at);
  }
  if (is_timeout) {
    int index = atoi(t->event_key) - 1;
    JW_KEY(w, "timeout");
    jw_object(w);
    JW_KEY(w, "guards");
    jw_int(w, t->guards);
    JW_KEY(w, "node");
    jw_string(w, t->event_name);
    JW_KEY(w, "interrupting");
    jw_bool(w, n && index >= 0 && index < n->ntimeouts ? n->timeouts[index].interrupting : 1);
    jw_object_end(w);
  } else if (!strcmp(t->type, "receive") && t->event_name[0]) {
    JW_KEY(w, "waits_for");
    jw_object(w);
    jw_key(w, t->event_key[0] ? "message" : "signal");
    jw_string(w, t->event_name);
    if (t->event_key[0]) {
      JW_KEY(w, "key");
      jw_string(w, t->event_key);
    }
    jw_object_end(w);
  }
  if (t->attempts) {
    JW_KEY(w, "attempts");
    jw_int(w, t->attempts);
  }
  if (!strcmp(t->type, "external")) {
    int leased = t->status == TASK_SCHEDULED && t->lease_until[0];
    JW_KEY(w, "external");
    jw_object(w);
    JW_KEY(w, "topic");
    jw_string(w, t->event_name);
    JW_KEY(w, "worker");
    jw_string(w, leased && t->lease_owner[0] ? t->lease_owner : NULL);
    JW_KEY(w, "lease_until");
    jw_string(w, leased ? t->lease_until : NULL);
    JW_KEY(w, "attempts");
    jw_int(w, t->attempts);
    jw_object_end(w);
  }
  if (n && n->priority && !is_timeout) {
    JW_KEY(w, "priority");
    jw_string(w, node_priority_name(n->priority));
  }
  if (t->child_id) {
    JW_KEY(w, "child_id");
    jw_int(w, t->child_id);
  }
  if (t->group_id) {
    JW_KEY(w, "group_id");
    jw_int(w, t->group_id);
  }
}

/* view_task_write, also handing back the flow's current definition (NULL:
 * none), which a list row needs again for its flow's title. */
static void write_task(jsonw *w, engine *e, const st_task *t, const fh_actor *hide_for, const flowdef **current) {
  char flow[64];
  flow_of(t->flow_task, flow);
  const fd_node *n = view_task_node(e, t, flow, current);
  int is_timeout = !strcmp(t->type, "timeout");
  /* a timer row and a group's controller are rows of their node, of their own type */
  const char *type = is_timeout || !strcmp(t->type, "foreach") ? t->type : n ? node_kind_name(n->kind) : "obsolete";
  const char *title = n ? n->title : node_part(t->flow_task);
  jw_object(w);
  write_task_core(w, t, flow, type, title);
  if (t->error_message) write_error(w, t, title, hide_for && !engine_admin_sees_details(hide_for, flow));
  write_task_extras(w, t, n, is_timeout);
}

void view_task_write(jsonw *w, engine *e, const st_task *t, const fh_actor *hide_for) {
  const flowdef *current;
  write_task(w, e, t, hide_for, &current);
}

/* --- a list row -------------------------------------------------------------- */

/* The summary of the row's process: from the summary cache when its version
 * is there (the cache's text, valid until the next summary is cached), else
 * read and computed (and cached; *computed is then the caller's to free).
 * NULL: the process is gone. */
static const char *row_summary(engine *e, const st_task *t, proc_status *status, char **computed) {
  *status = t->process_status;
  *computed = NULL;
  const char *known = summary_cache_get(e, t->process_id, t->process_version);
  if (known) return known;
  st_process p;
  if (store_process_get(e->st, t->process_id, &p, NULL)) return NULL;
  *computed = summary_compute(e, &p);
  *status = p.status;
  st_process_free(&p);
  return *computed ? *computed : "";
}

/* The summaries a batch of rows will miss in the cache, read in one
 * statement and cached before the rows are written: a page whose
 * processes the thread has not summarised lately (another thread served
 * them, they changed, or a minute passed) read its processes one by one,
 * 50 round trips to PostgreSQL.  A row still missing (a process written
 * between the two reads, or gone) is read alone, as before. */
static void summaries_prefetch(engine *e, const st_task *rows, int n) {
  int64_t *ids = malloc(sizeof *ids * (size_t)(n > 0 ? n : 1));
  int m = 0;
  for (int i = 0; ids && i < n; i++) {
    const st_task *t = &rows[i];
    if (!t->has_process || summary_cache_get(e, t->process_id, t->process_version)) continue;
    int seen = 0;
    for (int j = 0; j < m && !seen; j++) seen = ids[j] == t->process_id;
    if (!seen) ids[m++] = t->process_id;
  }
  st_process *procs = NULL;
  int got = 0;
  if (m > 1 && !store_process_get_many(e->st, ids, m, &procs, &got, NULL)) {
    for (int i = 0; i < got; i++) {
      free(summary_compute(e, &procs[i]));
      st_process_free(&procs[i]);
    }
    free(procs);
  }
  free(ids);
}

/* A listed task: the task, its process's summary and status, its flow's title. */
static void write_list_item(jsonw *w, engine *e, const st_task *t, const fh_actor *hide_for) {
  const flowdef *fd;
  write_task(w, e, t, hide_for, &fd);
  proc_status status = PROC_NEW;
  char *computed = NULL;
  const char *summary = t->has_process ? row_summary(e, t, &status, &computed) : NULL;
  JW_KEY(w, "process_summary");
  jw_string(w, summary);
  JW_KEY(w, "process_status");
  jw_string(w, summary ? proc_status_name(status) : NULL);
  free(computed);
  JW_KEY(w, "flow_title");
  if (fd && fd->title) {
    jw_string(w, fd->title);
  } else {
    char flow[64];
    flow_of(t->flow_task, flow);
    jw_string(w, flow);
  }
  jw_object_end(w);
}

/* --- the list -------------------------------------------------------------- */

/* What a task list asks the store, and what it needs to free after. */
typedef struct list_query {
  store_task_query sq;
  json_t *fn_nodes, *managed;
  char *names_text, *managed_text;
  store_data_filter *filters;   /* data.* parameters (engine_data.c) */
} list_query;

static void list_query_free(list_query *lq) {
  free(lq->filters);
  free(lq->names_text);
  free(lq->managed_text);
  json_decref(lq->fn_nodes);
  json_decref(lq->managed);
}

static int view_of(const char *view, int *out) {
  static const char *const names[] = {"inbox", "queue", "archive", "all"};
  static const int views[] = {STORE_VIEW_INBOX, STORE_VIEW_QUEUE, STORE_VIEW_ARCHIVE, STORE_VIEW_ALL};
  for (int i = 0; i < 4; i++)
    if (!strcmp(view, names[i])) return *out = views[i], 1;
  return 0;
}

/* The queue's node names ("flow.node", a JSON array text) of one flow: a
 * queue filtered by flow is the queue of those nodes, which the store reads
 * node by node like any queue; with the flow as a filter it walked every
 * queued task of the user's nodes in id order to keep that flow's (93 ms
 * at 100,000 processes on PostgreSQL).  NULL: out of memory. */
static char *names_of_flow(const char *names_text, const char *flow) {
  json_t *all = json_loads(names_text, 0, NULL), *mine = json_array();
  size_t i, len = strlen(flow);
  json_t *name;
  json_array_foreach(all, i, name) {
    const char *n = json_string_value(name);
    if (n && !strncmp(n, flow, len) && n[len] == '.') json_array_append(mine, name);
  }
  char *text = all && mine ? json_dumps(mine, JSON_COMPACT) : NULL;
  json_decref(all);
  json_decref(mine);
  return text;
}

static int list_query_make(engine *e, const fh_actor *a, const engine_task_query *q, int limit, list_query *lq,
                           fherr *err) {
  memset(lq, 0, sizeof *lq);
  store_task_query *sq = &lq->sq;
  if (!view_of(q->view ? q->view : "inbox", &sq->view))
    return fherr_set(err, FH_BAD_REQUEST, "view must be inbox, queue, archive or all");
  if (sq->view == STORE_VIEW_QUEUE) {
    if (!view_assignable(e, a, &lq->names_text, NULL, &lq->fn_nodes))
      return fherr_set(err, FH_INTERNAL, "out of memory");
    if (q->flow) {
      char *mine = names_of_flow(lq->names_text, q->flow);
      if (!mine) return fherr_set(err, FH_INTERNAL, "out of memory");
      free(lq->names_text);
      lq->names_text = mine;
    }
    sq->assignable_json = lq->names_text;
  } else if (sq->view == STORE_VIEW_ALL && !a->is_admin && !a->is_system) {
    lq->managed = view_managed_flows(e, a);
    if (json_array_size(lq->managed) == 0) return fherr_set(err, FH_FORBIDDEN, "view=all is for managers");
    sq->managed_flows_json = lq->managed_text = dump_json(lq->managed);
  }
  sq->user_id = a->id;
  sq->user_name = a->username;
  sq->flow = sq->view == STORE_VIEW_QUEUE ? NULL : q->flow;   /* the queue's names say it */
  sq->process_id = q->process_id;
  sq->status = q->status;
  sq->since = q->since;
  sq->until = q->until;
  sq->ascending = q->ascending;
  sq->by_due = q->by_due;
  sq->by_finished = q->by_finished;
  sq->finished_since = q->finished_since;
  sq->finished_until = q->finished_until;
  sq->limit = limit + 1;
  int rc = q->data && json_object_size(q->data)
               ? data_filters_make(e, q->flow, q->data, &lq->filters, &sq->nfilters, err) : FH_OK;
  sq->filters = lq->filters;
  return rc;
}

/* Reads rows after `after` until `limit` items are written (into the open
 * "items" array) or the rows run out; *next is the page key of a following
 * page, 0 if none.  Rows of :Permission(fn) nodes are decided one by one,
 * so a batch may yield fewer items than asked: read on until the page is
 * full. */
static int list_fill(engine *e, const fh_actor *a, const fh_actor *hide_for, list_query *lq, int64_t after,
                     int limit, jsonw *w, int64_t *next, fherr *err) {
  int64_t last_shown = 0;
  int shown = 0, full = 0, rc = FH_OK;
  *next = 0;
  read_budget_begin(e);
  while (!full) {
    st_task *rows = NULL;
    int n = 0;
    lq->sq.after = after;
    if ((rc = store_task_list(e->st, &lq->sq, &rows, &n, err))) break;
    summaries_prefetch(e, rows, n < limit - shown ? n : limit - shown);   /* the rows this page can show */
    for (int i = 0; i < n && !full; i++) {
      st_task *t = &rows[i];
      after = t->id;
      if (lq->fn_nodes && json_object_get(lq->fn_nodes, t->flow_task) && !view_may_take(e, a, t)) continue;
      if (shown == limit) {   /* one more exists: the page ends at the last shown */
        *next = last_shown;
        full = 1;
        break;
      }
      write_list_item(w, e, t, hide_for);
      shown++;
      last_shown = t->id;
    }
    int exhausted = n < lq->sq.limit;
    st_task_array_free(rows, n);
    if (exhausted) break;
  }
  return rc;
}

int engine_tasks_list_text(engine *e, const fh_actor *a, const engine_task_query *q, int hide_errors, char **out,
                           size_t *len, fherr *err) {
  *out = NULL;
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  int limit = q->limit > 0 ? q->limit : STORE_PAGE_DEFAULT;
  if (limit > 500) limit = 500;
  list_query lq;
  int began = 0;   /* one read snapshot (one WAL read lock) for the page */
  if ((rc = list_query_make(e, a, q, limit, &lq, err)) || (rc = store_read_begin(e->st, &began, err))) {
    list_query_free(&lq);
    return rc;
  }
  jsonw w;
  jw_init(&w);
  jw_object(&w);
  JW_KEY(&w, "items");
  jw_array(&w);
  int64_t next = 0;
  rc = list_fill(e, a, hide_errors ? a : NULL, &lq, q->after, limit, &w, &next, err);
  store_read_end(e->st, began);
  jw_array_end(&w);
  JW_KEY(&w, "next_after");
  if (next) jw_int(&w, next);
  else jw_null(&w);
  jw_object_end(&w);
  list_query_free(&lq);
  if (rc) {
    jw_free(&w);
    return rc;
  }
  *out = jw_take(&w, len);
  return *out ? FH_OK : fherr_set(err, FH_INTERNAL, "out of memory");
}

int engine_tasks_list(engine *e, const fh_actor *a, const engine_task_query *q, json_t **out, fherr *err) {
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  int rc = engine_tasks_list_text(e, a, q, 0, &text, &len, err);
  if (rc) return rc;
  *out = json_loadb(text, len, 0, NULL);
  free(text);
  return *out ? FH_OK : fherr_set(err, FH_INTERNAL, "cannot read the task list back");
}
