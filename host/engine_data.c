/* engine_data — the engine's side of process data beyond the data itself:
 * searching by `search = true` fields (turning data.* parameters into store
 * filters), the audit of what each write changed and who it is credited
 * to, and comments on processes and tasks.
 *
 * The audit and the search index are prepared here for pstate_write and
 * written by the store in the action's own short transaction, so they can
 * never disagree with the data.  Comments outside an execute are short
 * writes of their own.
 *
 * May call: store, engine_rules.c (who may see what), flowdef.
 */
#include "engine_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "fhlog.h"
#include "fhtime.h"

/* --- what a write records ------------------------------------------------------- */

void pdata_free(pdata *d) {
  free(d->comment);
  memset(d, 0, sizeof *d);
}

void data_write_free(data_write *dw) {
  free(dw->search);
  free(dw->changes);
  memset(dw, 0, sizeof *dw);
}

void data_credit(run *r, const ptask *t) {
  r->ps.notes.task_id = t->row.id;
  r->ps.notes.user_id = r->actor && !r->actor->is_system ? r->actor->id : 0;
}

/* JSON array text of the flow's searchable field names; NULL: none.  The
 * names are copied, not referenced: a definition is shared by the engines
 * of all threads, and taking a reference writes its count (ThreadSanitizer
 * saw two engines syncing at once race on it). */
static char *search_fields_text(const flowdef *fd) {
  if (!fd) return NULL;
  json_t *names = json_array();
  size_t i;
  json_t *f;
  json_array_foreach(fd->fields, i, f) {
    const char *name = json_string_value(json_object_get(f, "name"));
    if (name && json_is_true(json_object_get(f, "search"))) json_array_append_new(names, json_string(name));
  }
  char *text = json_array_size(names) ? dump_json(names) : NULL;
  json_decref(names);
  return text;
}

/* {field, old, new}, as json_pack("{s:s, s:O, s:O}") built it (no entry
 * when field is not UTF-8), without parsing a format for every change. */
static void add_change(json_t *changes, const char *field, json_t *old, json_t *new) {
  json_t *name = json_string(field);
  if (!name) return;
  json_t *change = json_object();
  json_object_set_new_nocheck(change, "field", name);
  json_object_set_nocheck(change, "old", old ? old : json_null());
  json_object_set_nocheck(change, "new", new ? new : json_null());
  json_array_append_new(changes, change);
}

/* [{field, old, new}] of the top-level keys that differ (a removed key's new is null). */
static json_t *diff_data(const json_t *old, const json_t *new) {
  json_t *changes = json_array();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)new, k, v) {
    json_t *was = json_object_get(old, k);
    if (!was || !json_equal(was, v)) add_change(changes, k, was, v);
  }
  json_object_foreach((json_t *)old, k, v) {
    if (!json_object_get(new, k)) add_change(changes, k, v, NULL);
  }
  return changes;
}

void data_prepare_write(engine *e, const pstate *ps, const char *old_data, const char *new_text, const json_t *data,
                        data_write *dw, int *used) {
  memset(dw, 0, sizeof *dw);
  *used = 0;
  int changed = !old_data || strcmp(old_data, new_text);
  if (!changed && !ps->notes.comment) return;
  fhtime_now(dw->at);
  dw->w = (store_data_write){.task_id = ps->notes.task_id, .user_id = ps->notes.user_id, .at = dw->at,
                             .comment = ps->notes.comment};
  if (changed) {
    /* the audit never stops a write: data it cannot read counts as empty */
    json_t *old = old_data ? json_loads(old_data, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (!json_is_object(old)) {
      json_decref(old);
      old = json_object();
    }
    json_t *changes = json_is_object(data) ? diff_data(old, data) : json_array();
    json_decref(old);
    if (json_array_size(changes)) dw->changes = dump_json(changes);
    json_decref(changes);
    dw->search = search_fields_text(engine_find_def(e, ps->proc.flow));
  }
  dw->w.search_fields = dw->search;
  dw->w.changes = dw->changes;
  *used = dw->search || dw->changes || dw->w.comment;
}

/* --- comments ---------------------------------------------------------------- */

static size_t utf8_length(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* A comment's text: a string of 1..DATA_COMMENT_MAX characters, not only spaces. */
static int check_text(const json_t *text, const char *what, fherr *err) {
  if (!json_is_string(text)) return fherr_set(err, FH_BAD_REQUEST, "\"%s\" must be a string", what);
  const char *s = json_string_value(text);
  size_t n = utf8_length(s);
  if (strlen(s) != json_string_length(text)) return fherr_set(err, FH_BAD_REQUEST, "\"%s\" must not hold NUL", what);
  if (strspn(s, " \t\r\n") == strlen(s))
    return fherr_set(err, FH_BAD_REQUEST, "\"%s\" must not be empty", what);
  if (n > DATA_COMMENT_MAX)
    return fherr_set(err, FH_BAD_REQUEST, "\"%s\" is too long (%zu characters, at most %d)", what, n,
                     DATA_COMMENT_MAX);
  return FH_OK;
}

int data_take_comment(run *r, const ptask *t, const fd_node *n, const json_t *args, fherr *err) {
  json_t *c = args ? json_object_get(args, "comment") : NULL;
  if (!c || json_is_null(c)) {
    if (n && n->comment_required)
      return fherr_set(err, FH_BAD_REQUEST, "this task needs a comment: send {\"comment\": \"...\"} with the data");
    return FH_OK;
  }
  int rc = check_text(c, "comment", err);
  if (rc) return rc;
  free(r->ps.notes.comment);
  if (!(r->ps.notes.comment = strdup(json_string_value(c)))) return fherr_set(err, FH_INTERNAL, "out of memory");
  data_credit(r, t);
  return FH_OK;
}

/* The process of a comment request, if a may see it: *pid set.  A task
 * seen only from the queue (its process is not the user's yet) is 403.
 * reading: a read's answer (its permission calls bounded), not a write's. */
static int comment_target(engine *e, const fh_actor *a, int64_t *pid, int64_t task_id, int reading, fherr *err) {
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  if (task_id && (rc = store_task_process(e->st, task_id, pid, err)))
    return rc == FH_NOT_FOUND ? fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id) : rc;
  run r;
  if ((rc = run_init(&r, e, a, *pid, err))) {
    run_free(&r);
    return rc;
  }
  if (reading) run_read_begin(&r);   /* a queue member's :Permission(fn) (rules_may_see_task) */
  int visible = engine_can_see_process(e, a, &r.ps.proc, err);
  if (visible < 0) rc = err && err->code ? err->code : FH_INTERNAL;
  else if (!visible && !task_id) rc = fherr_set(err, FH_NOT_FOUND, "process %lld not found", (long long)*pid);
  else if (!visible) {
    ptask *t = pstate_task(&r.ps, task_id);
    const fd_node *n = t && r.fd ? flowdef_node(r.fd, node_part(t->row.flow_task)) : NULL;
    rc = t ? rules_may_see_task(&r, t, n, err) : fherr_set(err, FH_NOT_FOUND, "task %lld not found", (long long)task_id);
    if (!rc) rc = fherr_set(err, FH_FORBIDDEN, "take the task first: its comments are for those who see its process");
  }
  run_free(&r);
  return rc;
}

int engine_comments_list(engine *e, const fh_actor *a, int64_t process_id, int64_t task_id, json_t **out,
                         fherr *err) {
  *out = NULL;
  int64_t pid = process_id;
  json_t *items = NULL;
  int rc = comment_target(e, a, &pid, task_id, 1, err);
  if (!rc) rc = store_comment_list(e->st, pid, task_id, &items, err);
  if (!rc) *out = json_pack("{s:o}", "items", items);
  return rc;
}

int engine_comment_add(engine *e, const fh_actor *a, int64_t process_id, int64_t task_id, const json_t *text,
                       json_t **out, fherr *err) {
  *out = NULL;
  int64_t pid = process_id, id = 0;
  int rc = check_text(text, "text", err);
  if (!rc) rc = comment_target(e, a, &pid, task_id, 0, err);
  if (!rc) rc = store_comment_add(e->st, pid, task_id, a->is_system ? 0 : a->id, json_string_value(text), &id, err);
  json_t *items = NULL;
  if (!rc) rc = store_comment_list(e->st, pid, task_id, &items, err);
  if (!rc) {   /* the new one, as the list shows it */
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c) if (json_integer_value(json_object_get(c, "id")) == id) *out = json_incref(c);
    json_decref(items);
    if (!*out) rc = fherr_set(err, FH_INTERNAL, "the new comment is gone");
  }
  return rc;
}

int engine_audit_list(engine *e, const fh_actor *a, int64_t process_id, json_t **out, fherr *err) {
  *out = NULL;
  int64_t pid = process_id;
  json_t *items = NULL;
  int rc = comment_target(e, a, &pid, 0, 1, err);
  if (!rc) rc = store_audit_list(e->st, pid, &items, err);
  if (!rc) *out = json_pack("{s:o}", "items", items);
  return rc;
}

/* --- search ------------------------------------------------------------------- */

void engine_index_search(engine *e) {
  fherr err = {0};
  if (engine_sync_flows(e, &err)) fhlog(FHLOG_WARN, "search index not checked: %s", err.message);
  fherr_clear(&err);
}

void data_sync_search(engine *e) {
  if (e->defer_indexing) return;   /* the job workers do it */
  for (int i = 0; i < e->gen->n; i++) {
    const flow_entry *fe = &e->gen->entries[i];
    if (!fe->def) continue;
    char *fields = search_fields_text(fe->def);
    int64_t n = 0;
    fherr err = {0};
    /* small batches: each holds the write lock of the database for its few milliseconds */
    if (store_search_reindex(e->st, fe->name, fields ? fields : "[]", 250, &n, &err))
      fhlog(FHLOG_ERROR, "search index of flow '%s': %s", fe->name, err.message);
    else if (n)
      fhlog(FHLOG_INFO, "search index of flow '%s': %lld processes indexed", fe->name, (long long)n);
    free(fields);
    fherr_clear(&err);
  }
}

/* The schema of searchable field `name` of flow (NULL: of the first loaded
 * flow that has one), or NULL. */
static json_t *search_field(engine *e, const char *flow, const char *name, size_t len) {
  for (int i = 0; i < e->gen->n; i++) {
    const flow_entry *fe = &e->gen->entries[i];
    if (!fe->def || (flow && strcmp(fe->name, flow))) continue;
    size_t k;
    json_t *f;
    json_array_foreach(fe->def->fields, k, f) {
      const char *fname = json_string_value(json_object_get(f, "name"));
      if (fname && strlen(fname) == len && !strncmp(fname, name, len) && json_is_true(json_object_get(f, "search")))
        return f;
    }
  }
  return NULL;
}

static int parse_number(const char *s, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return *s && !*end && !errno && isfinite(*out) && !strchr(s, ' ') && !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
}

static int is_date(const char *s) {
  if (strlen(s) != 10) return 0;
  double t = fhtime_parse(s);
  char back[FH_TIME_LEN];
  if (t < 0) return 0;
  fhtime_format(t, back);
  return !strncmp(back, s, 10);
}

/* The value of one filter, read as the field's type says. */
static int filter_value(const char *param, const json_t *field, const char *value, store_data_filter *f, fherr *err) {
  const char *type = json_string_value(json_object_get(field, "type"));
  type = type ? type : "string";
  int numeric = !strcmp(type, "integer") || !strcmp(type, "number");
  if (f->cmp != STORE_CMP_EQ && !numeric && strcmp(type, "date"))
    return fherr_set(err, FH_BAD_REQUEST, "data.%s: ranges work on number and date fields, '%s' is a %s field", param,
                     json_string_value(json_object_get(field, "name")), type);
  if (numeric) {
    f->is_number = 1;
    if (!parse_number(value, &f->num)) return fherr_set(err, FH_BAD_REQUEST, "data.%s must be a number", param);
  } else if (!strcmp(type, "boolean")) {
    f->is_number = 1;
    if (strcmp(value, "true") && strcmp(value, "false"))
      return fherr_set(err, FH_BAD_REQUEST, "data.%s must be true or false", param);
    f->num = !strcmp(value, "true");
  } else if (!strcmp(type, "date") && !is_date(value)) {
    return fherr_set(err, FH_BAD_REQUEST, "data.%s must be a date (YYYY-MM-DD)", param);
  } else {
    f->text = value;
  }
  return FH_OK;
}

/* One data.<param>=value: a range suffix counts only when the name before
 * it is a searchable field (a field may itself be called "amount_lt"). */
static int make_filter(engine *e, const char *flow, const char *param, const char *value, store_data_filter *f,
                       fherr *err) {
  static const struct { const char *suffix; store_cmp cmp; } RANGES[] = {
      {"_gte", STORE_CMP_GE}, {"_lte", STORE_CMP_LE}, {"_gt", STORE_CMP_GT}, {"_lt", STORE_CMP_LT}};
  size_t len = strlen(param);
  json_t *field = NULL;
  f->cmp = STORE_CMP_EQ;
  for (size_t i = 0; i < sizeof RANGES / sizeof RANGES[0] && !field; i++) {
    size_t sl = strlen(RANGES[i].suffix);
    if (len > sl && !strcmp(param + len - sl, RANGES[i].suffix) && (field = search_field(e, flow, param, len - sl)))
      f->cmp = RANGES[i].cmp;
  }
  if (!field) field = search_field(e, flow, param, len);
  if (!field) {
    if (flow)
      return fherr_set(err, FH_BAD_REQUEST, "data.%.64s: '%.64s' is not a searchable field of flow '%s'", param,
                       param, flow);
    return fherr_set(err, FH_BAD_REQUEST, "data.%.64s: '%.64s' is not a searchable field of any flow", param, param);
  }
  f->field = json_string_value(json_object_get(field, "name"));
  if (strlen(value) > 1000) return fherr_set(err, FH_BAD_REQUEST, "data.%s: the value is too long", param);
  return filter_value(param, field, value, f, err);
}

#define DATA_FILTERS_MAX 8

int data_filters_make(engine *e, const char *flow, const json_t *params, store_data_filter **out, int *n,
                      fherr *err) {
  *out = NULL;
  *n = 0;
  size_t count = json_object_size(params);
  if (count > DATA_FILTERS_MAX)
    return fherr_set(err, FH_BAD_REQUEST, "at most %d data.* parameters", DATA_FILTERS_MAX);
  store_data_filter *f = calloc(count + 1, sizeof *f);
  if (!f) return fherr_set(err, FH_INTERNAL, "out of memory");
  const char *k;
  json_t *v;
  int rc = FH_OK;
  json_object_foreach((json_t *)params, k, v) {
    if (rc) break;
    rc = make_filter(e, flow, k, json_string_value(v) ? json_string_value(v) : "", &f[*n], err);
    if (!rc) (*n)++;
  }
  if (rc) {
    free(f);
    *n = 0;
    return rc;
  }
  *out = f;
  return FH_OK;
}
