/* engine_proclist — the process list (GET /api/processes) written as JSON
 * text in one pass, in the shape and the bytes of view_process_json() +
 * dump: each row from the store straight into a jsonw buffer, its data
 * copied as stored (jw_object_text), its summary from the engine's summary
 * cache (engine_summary.c) by the process's version.
 *
 * Why: built as jansson trees, a page of 50 cost the host more than the
 * database took to answer it.  Each row went from the statement into a
 * JSON object, back into a struct, had its data parsed, its summary
 * computed by the flow's Lua at every call, and the whole tree was printed
 * and freed (bench/README.md, section 34).  tests/c/test_jsonw.c checks
 * the bytes against view_process_json's.
 *
 * May call: store (reads), engine_view (summaries, managed flows),
 * engine_data (the data.* filters).
 */
#include "engine_internal.h"

#include "jsonw.h"

void proclist_write_process(jsonw *w, engine *e, const st_process *p) {
  char *computed = NULL;
  const char *summary = summary_cache_get(e, p->id, p->version);
  if (!summary) summary = computed = summary_compute(e, p);
  jw_object(w);
  JW_KEY(w, "id");
  jw_int(w, p->id);
  JW_KEY(w, "flow");
  jw_string(w, p->flow);
  JW_KEY(w, "status");
  jw_string(w, proc_status_name(p->status));
  JW_KEY(w, "summary");
  jw_string(w, summary ? summary : "");
  JW_KEY(w, "data");
  jw_object_text(w, p->data);
  JW_KEY(w, "created_by");
  jw_string_or_null(w, p->created_by_name);
  JW_KEY(w, "created_at");
  jw_string(w, p->created_at);
  JW_KEY(w, "finished_at");
  jw_string_or_null(w, p->finished_at);
  if (p->parent_id) {
    JW_KEY(w, "parent");
    jw_object(w);
    JW_KEY(w, "process_id");
    jw_int(w, p->parent_id);
    JW_KEY(w, "task_id");
    jw_int(w, p->parent_task_id);
    jw_object_end(w);
  }
  jw_object_end(w);
  free(computed);
}

/* {"items": [...], "next_after": id|null} of rows (one more than limit
 * when there is a next page) */
static char *page_text(engine *e, const st_process *rows, int n, int limit, size_t *len) {
  read_budget_begin(e);
  jsonw w;
  jw_init(&w);
  jw_object(&w);
  JW_KEY(&w, "items");
  jw_array(&w);
  for (int i = 0; i < n && i < limit; i++) proclist_write_process(&w, e, &rows[i]);
  jw_array_end(&w);
  JW_KEY(&w, "next_after");
  if (n > limit) jw_int(&w, rows[limit - 1].id);
  else jw_null(&w);
  jw_object_end(&w);
  return jw_take(&w, len);
}

int engine_processes_list_text(engine *e, const fh_actor *a, const engine_process_query *q, char **out,
                               size_t *len, fherr *err) {
  *out = NULL;
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  int limit = q->limit > 0 ? q->limit : 50;
  if (limit > 500) limit = 500;
  store_process_query sq = {.flow = q->flow, .status = q->status, .after = q->after, .limit = limit + 1,
                            .parent = q->parent};
  json_t *managed = NULL;
  char *managed_text = NULL;
  store_data_filter *filters = NULL;
  if (q->data && json_object_size(q->data) && (rc = data_filters_make(e, q->flow, q->data, &filters, &sq.nfilters, err)))
    return rc;
  sq.filters = filters;
  if (!a->is_admin && !a->is_system) {
    sq.visible_to = a->id;
    managed = view_managed_flows(e, a);
    managed_text = dump_json(managed);
    sq.managed_flows_json = managed_text;
    size_t k;
    json_t *f;
    json_array_foreach(managed, k, f) if (q->flow && !strcmp(json_string_value(f), q->flow)) sq.flow_managed = 1;
  }
  st_process *rows = NULL;
  int n = 0, began = 0;   /* one read snapshot for the page's statements */
  if (!(rc = store_read_begin(e->st, &began, err))) {
    rc = store_process_list(e->st, &sq, &rows, &n, err);
    store_read_end(e->st, began);
  }
  if (!rc && !(*out = page_text(e, rows, n, limit, len))) rc = fherr_set(err, FH_INTERNAL, "out of memory");
  st_process_array_free(rows, n);
  json_decref(managed);
  free(managed_text);
  free(filters);
  return rc;
}

int engine_processes_list(engine *e, const fh_actor *a, const engine_process_query *q, json_t **out, fherr *err) {
  *out = NULL;
  char *text = NULL;
  size_t len = 0;
  int rc = engine_processes_list_text(e, a, q, &text, &len, err);
  if (rc) return rc;
  *out = json_loadb(text, len, 0, NULL);
  free(text);
  return *out ? FH_OK : fherr_set(err, FH_INTERNAL, "cannot read the process list back");
}
