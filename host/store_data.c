/* store_data — what is kept about a process's data beside the data itself:
 * the search index of its `search = true` fields, comments on it and its
 * tasks, and the audit of who submitted which field values.
 *
 * The index and the audit are written by store_write_process, in the same
 * short transaction as the process row (store_data_write_rows), so the
 * index never disagrees with the data.  A search is a walk of the index
 * (process_search's primary key: field, value, process id): the list
 * statements of store.c are given the filters here (sq_prep_filtered),
 * except the process list, whose filtered form is built here so that the
 * index drives it in process id order and LIMIT stops the walk.
 */
#include "store_internal.h"

#include <math.h>

/* Text of the Q_DATA_* statements (prepared once per connection, like
 * STORE_SQL's, into the same cache). */
static const char *const DATA_SQL[Q_DATA_LAST - Q_DATA_FIRST + 1] = {
    [Q_DATA_SEARCH_DELETE - Q_DATA_FIRST] = "DELETE FROM process_search WHERE process_id = ?1",
    /* only scalar values are searchable; booleans come out of json_each as 1 and 0; the
     * data is parsed once, whatever the number of fields */
    [Q_DATA_SEARCH_INSERT - Q_DATA_FIRST] =
        "INSERT OR IGNORE INTO process_search(field, value, process_id)"
        " SELECT d.key, d.value, ?1 FROM json_each(?2) d"
        " WHERE d.type IN ('integer', 'real', 'text', 'true', 'false') AND d.key IN (SELECT value FROM json_each(?3))",
    /* the next id of the process's range (schema migration 14); a new
     * process's first entry is the range's first id */
    [Q_DATA_AUDIT_ADD - Q_DATA_FIRST] =
        "INSERT INTO data_audit(id, process_id, task_id, user_id, at, changes)"
        " VALUES((SELECT coalesce(max(id) + 1, ?1 << 20) FROM data_audit WHERE id >= ?1 << 20 AND id < (?1 + 1) << 20),"
        " ?1, ?2, ?3, ?4, ?5)",
    [Q_DATA_AUDIT_FIRST - Q_DATA_FIRST] =
        "INSERT INTO data_audit(id, process_id, task_id, user_id, at, changes) VALUES(?1 << 20, ?1, ?2, ?3, ?4, ?5)",
    [Q_DATA_COMMENT_ADD - Q_DATA_FIRST] =
        "INSERT INTO comment(process_id, task_id, user_id, created_at, text) VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_DATA_COMMENTS - Q_DATA_FIRST] =
        "SELECT c.id, c.task_id, u.username, c.created_at, c.text FROM comment c LEFT JOIN user u ON u.id = c.user_id"
        " WHERE c.process_id = ?1 AND (?2 IS NULL OR c.task_id = ?2) ORDER BY c.id",
    [Q_DATA_AUDIT_LIST - Q_DATA_FIRST] =
        "SELECT a.id, a.task_id, t.flow_task, u.username, a.at, a.changes FROM data_audit a"
        " LEFT JOIN user u ON u.id = a.user_id LEFT JOIN task t ON t.id = a.task_id"
        " WHERE a.id >= ?1 << 20 AND a.id < (?1 + 1) << 20 ORDER BY a.id",
    [Q_DATA_INDEXED_GET - Q_DATA_FIRST] = "SELECT fields FROM search_indexed WHERE flow = ?1",
    [Q_DATA_INDEXED_SET - Q_DATA_FIRST] =
        "INSERT INTO search_indexed(flow, fields) VALUES(?1, ?2) ON CONFLICT(flow) DO UPDATE SET fields = ?2",
    [Q_DATA_REINDEX_IDS - Q_DATA_FIRST] = "SELECT id, data FROM process WHERE flow = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
};

/* The same statements for PostgreSQL (schema in store_schema_pg.c): a
 * value is kept in num (numbers, booleans as 1 and 0) or txt (texts), each
 * with its own index, instead of SQLite's one column of mixed type. */
static const char *const DATA_SQL_PG[Q_DATA_LAST - Q_DATA_FIRST + 1] = {
    [Q_DATA_SEARCH_DELETE - Q_DATA_FIRST] = "DELETE FROM process_search WHERE process_id = $1",
    /* data that is not an object (or not JSON text the server reads) indexes nothing */
    [Q_DATA_SEARCH_INSERT - Q_DATA_FIRST] =
        "INSERT INTO process_search(field, num, txt, process_id)"
        " SELECT d.key, CASE json_typeof(d.value) WHEN 'number' THEN (d.value#>>'{}')::double precision"
        " WHEN 'boolean' THEN CASE WHEN d.value#>>'{}' = 'true' THEN 1 ELSE 0 END END,"
        " CASE WHEN json_typeof(d.value) = 'string' THEN d.value#>>'{}' END, $1::bigint"
        " FROM json_each(CASE WHEN json_typeof($2::json) = 'object' THEN $2::json ELSE '{}'::json END) d"
        " WHERE json_typeof(d.value) IN ('number', 'string', 'boolean')"
        " AND d.key IN (SELECT json_array_elements_text($3::json)) ON CONFLICT DO NOTHING",
    [Q_DATA_AUDIT_ADD - Q_DATA_FIRST] =
        "INSERT INTO data_audit(process_id, task_id, user_id, at, changes) VALUES($1, $2, $3, $4, $5)",
    [Q_DATA_AUDIT_FIRST - Q_DATA_FIRST] =
        "INSERT INTO data_audit(process_id, task_id, user_id, at, changes) VALUES($1, $2, $3, $4, $5)",
    [Q_DATA_COMMENT_ADD - Q_DATA_FIRST] =
        "INSERT INTO comment(process_id, task_id, user_id, created_at, text) VALUES($1, $2, $3, $4, $5) RETURNING id",
    [Q_DATA_COMMENTS - Q_DATA_FIRST] =
        "SELECT c.id, c.task_id, u.username, c.created_at, c.text FROM comment c LEFT JOIN \"user\" u ON u.id = c.user_id"
        " WHERE c.process_id = $1 AND ($2::bigint IS NULL OR c.task_id = $2) ORDER BY c.id",
    [Q_DATA_AUDIT_LIST - Q_DATA_FIRST] =
        "SELECT a.id, a.task_id, t.flow_task, u.username, a.at, a.changes FROM data_audit a"
        " LEFT JOIN \"user\" u ON u.id = a.user_id LEFT JOIN task t ON t.id = a.task_id"
        " WHERE a.process_id = $1 ORDER BY a.id",
    [Q_DATA_INDEXED_GET - Q_DATA_FIRST] = "SELECT fields FROM search_indexed WHERE flow = $1",
    [Q_DATA_INDEXED_SET - Q_DATA_FIRST] =
        "INSERT INTO search_indexed(flow, fields) VALUES($1, $2) ON CONFLICT(flow) DO UPDATE SET fields = $2",
    [Q_DATA_REINDEX_IDS - Q_DATA_FIRST] =
        "SELECT id, data FROM process WHERE flow = $1 AND id > $2 ORDER BY id LIMIT $3",
};

const char *store_data_text(int q, int pg) {
  if (q < Q_DATA_FIRST || q > Q_DATA_LAST) return NULL;
  return pg ? DATA_SQL_PG[q - Q_DATA_FIRST] : DATA_SQL[q - Q_DATA_FIRST];
}

static int is_pg(store *st) { return st->cur->db->kind == DB_KIND_PG; }

static dbs *data_prep(store *st, int q, fherr *err) {
  if (!st->cur->stmt[q]) {
    int rc = dbs_prepare(st->cur->db, q, store_data_text(q, is_pg(st)), &st->cur->stmt[q]);
    if (rc != DB_OK) {
      sq_fail(st, err, rc, "prepare");
      return NULL;
    }
    if (store_pg_deferrable(q)) dbs_defer_ok(st->cur->stmt[q]);
  }
  return st->cur->stmt[q];
}

/* --- writing ------------------------------------------------------------------ */

/* The index rows of one process: dropped and written again from its data. */
static int index_process(store *st, int64_t pid, const char *data, const char *fields, int is_new, fherr *err) {
  dbs *s;
  int rc = FH_OK;
  if (!is_new) {
    if (!(s = data_prep(st, Q_DATA_SEARCH_DELETE, err))) return FH_INTERNAL;
    dbs_bind_int64(s, 1, pid);
    if ((rc = sq_run(st, s, err, "drop search index rows"))) return rc;
  }
  if (!strcmp(fields, "[]")) return FH_OK;
  if (!(s = data_prep(st, Q_DATA_SEARCH_INSERT, err))) return FH_INTERNAL;
  dbs_bind_int64(s, 1, pid);
  dbs_bind_text(s, 2, data ? data : "{}");
  dbs_bind_text(s, 3, fields);
  return sq_run(st, s, err, "index process data");
}

static int audit_add(store *st, int64_t pid, int is_new, const store_data_write *d, fherr *err) {
  dbs *s = data_prep(st, is_new ? Q_DATA_AUDIT_FIRST : Q_DATA_AUDIT_ADD, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  sq_bind_id_or_null(s, 2, d->task_id);
  sq_bind_id_or_null(s, 3, d->user_id);
  dbs_bind_text(s, 4, d->at);
  dbs_bind_text(s, 5, d->changes);
  return sq_run(st, s, err, "record audit");
}

static int comment_insert(store *st, int64_t pid, int64_t task_id, int64_t user_id, const char *at, const char *text,
                          int64_t *id, fherr *err) {
  dbs *s = data_prep(st, Q_DATA_COMMENT_ADD, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  sq_bind_id_or_null(s, 2, task_id);
  sq_bind_id_or_null(s, 3, user_id);
  dbs_bind_text(s, 4, at);
  dbs_bind_text(s, 5, text);
  int rc = sq_run(st, s, err, "add comment");
  if (!rc && id) *id = dbc_last_insert_id(st->cur->db);
  return rc;
}

/* The process row is written already (store_write_process). */
int store_data_write_rows(store *st, const st_process *p, int is_new, const store_data_write *d, fherr *err) {
  int rc = FH_OK;
  if (d->search_fields) rc = index_process(st, p->id, p->data, d->search_fields, is_new, err);
  if (!rc && d->changes) rc = audit_add(st, p->id, is_new, d, err);
  if (!rc && d->comment) rc = comment_insert(st, p->id, d->task_id, d->user_id, d->at, d->comment, NULL, err);
  return rc;
}

/* --- searching ----------------------------------------------------------------- */

static int is_lower(store_cmp c) { return c == STORE_CMP_GE || c == STORE_CMP_GT; }
static int is_upper(store_cmp c) { return c == STORE_CMP_LE || c == STORE_CMP_LT; }

/* "alias.field = ?a AND alias.value <op> ?b", with (bound) the other end
 * that keeps a one-sided range to one kind of value: every number sorts
 * before every text. */
static void filter_cond(char *buf, size_t cap, const char *alias, const store_data_filter *f, int param, int bound,
                        int pg) {
  static const char *const ops[] = {"=", ">=", "<=", ">", "<"};
  if (pg) {   /* one column per kind: a comparison never meets the other kind */
    snprintf(buf, cap, "%s.field = CAST(?%d AS text) AND %s.%s %s CAST(?%d AS %s)", alias, param, alias,
             f->is_number ? "num" : "txt", ops[f->cmp], param + 1, f->is_number ? "double precision" : "text");
    return;
  }
  const char *end = !bound || f->cmp == STORE_CMP_EQ ? "" : f->is_number ? " AND %s.value < ''" : " AND %s.value >= ''";
  if (bound && f->is_number && is_upper(f->cmp)) end = "";   /* numbers are the low end anyway */
  if (bound && !f->is_number && is_lower(f->cmp)) end = "";  /* and texts the high end (no blobs) */
  char b[64];
  snprintf(b, sizeof b, end, alias);
  snprintf(buf, cap, "%s.field = ?%d AND %s.value %s ?%d%s", alias, param, alias, ops[f->cmp], param + 1, b);
}

/* The conditions on s0, the walk: every filter on f[0]'s field (amount_gte
 * with amount_lt is one range; SQLite bounds an index range by one
 * condition per end, so the kind bound is added only for a missing end). */
static void walk_cond(char *buf, size_t cap, const store_data_filter *f, int n, int base, int pg) {
  int lower = 0, upper = 0;
  buf[0] = '\0';
  for (int i = 0; i < n; i++) {
    if (strcmp(f[i].field, f[0].field)) continue;
    lower |= is_lower(f[i].cmp);
    upper |= is_upper(f[i].cmp);
    char cond[256];
    filter_cond(cond, sizeof cond, "s0", &f[i], base + 2 * i, 0, pg);
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, "%s%s", i ? " AND " : "", cond);
  }
  size_t used = strlen(buf);
  if (pg) return;
  if (f[0].is_number && lower && !upper) snprintf(buf + used, cap - used, " AND s0.value < ''");
  if (!f[0].is_number && upper && !lower) snprintf(buf + used, cap - used, " AND s0.value >= ''");
}

static void bind_filters(dbs *s, const store_data_filter *f, int n, int base) {
  for (int i = 0; i < n; i++) {
    dbs_bind_text(s, base + 2 * i, f[i].field);
    if (f[i].is_number && f[i].num == floor(f[i].num) && fabs(f[i].num) < 9e15)
      dbs_bind_int64(s, base + 1 + 2 * i, (int64_t)f[i].num);
    else if (f[i].is_number)
      dbs_bind_double(s, base + 1 + 2 * i, f[i].num);
    else
      dbs_bind_text(s, base + 1 + 2 * i, f[i].text);
  }
}

/* " AND EXISTS (...)" for each filter on another field than f[0]'s (those
 * are in walk_cond), on the process id column col. */
static void append_exists(char *sql, size_t cap, const store_data_filter *f, int n, const char *col, int base, int pg) {
  for (int i = 1; i < n; i++) {
    if (!strcmp(f[i].field, f[0].field)) continue;
    char alias[16], cond[256];
    snprintf(alias, sizeof alias, "s%d", i);
    filter_cond(cond, sizeof cond, alias, &f[i], base + 2 * i, 1, pg);
    size_t used = strlen(sql);
    snprintf(sql + used, cap - used, " AND EXISTS (SELECT 1 FROM process_search %s WHERE %s AND %s.process_id = %s)",
             alias, cond, alias, col);
  }
}

#define FILTERS_MAX 8

static dbs *prepare_text(store *st, const char *sql, fherr *err) {
  return sq_prepare_once(st, sql, "prepare search", err);
}

/* An exact match drives the walk when there is one: its rows come in
 * process id order, so the page needs no sort.  s0 is NOT INDEXED: it is
 * read through its primary key (field, value, process id) only, never by
 * walking process_search_process in id order and testing every entry
 * (which SQLite prefers for a range, to save the sort: 1 s at 1M). */
static int driving_filter(const store_data_filter *f, int n) {
  for (int i = 0; i < n; i++)
    if (f[i].cmp == STORE_CMP_EQ) return i;
  return 0;
}

/* The filters with the driving one first. */
static void order_filters(const store_data_filter *in, int n, store_data_filter *out) {
  int first = driving_filter(in, n);
  out[0] = in[first];
  for (int i = 0, k = 1; i < n; i++)
    if (i != first) out[k++] = in[i];
}

/* Fewer processes than this match the filters' first condition: a task list
 * looks up their tasks and sorts them; more, and it walks the tasks in page
 * order and keeps those of a matching process (a page is found early). */
#define NARROW_MATCHES 2000

static int count_matches(store *st, const store_data_filter *given, int n, int *narrow, fherr *err) {
  char sql[4096], cond[2048];
  int pg = is_pg(st);
  /* only the filters of the walk, numbered without gaps: PostgreSQL
   * refuses a parameter the text does not use (SQLite ignores it) */
  store_data_filter f[FILTERS_MAX];
  int k = 0;
  for (int i = 0; i < n; i++)
    if (!strcmp(given[i].field, given[0].field)) f[k++] = given[i];
  n = k;
  walk_cond(cond, sizeof cond, f, n, 1, pg);   /* only the walk: the other fields do not narrow it */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM process_search s0%s WHERE %s LIMIT %d) m",
           pg ? "" : " NOT INDEXED", cond, NARROW_MATCHES);
  dbs *s = prepare_text(st, sql, err);
  if (!s) return sq_prep_failed(err);
  bind_filters(s, f, n, 1);
  int rc = dbs_step(s);
  *narrow = rc == DB_ROW && dbs_col_int64(s, 0) < NARROW_MATCHES;
  dbs_finalize(s);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "count search matches");
}

dbs *sq_prep_filtered(store *st, const char *base_sql, const char *key_col, const store_data_filter *given,
                               int n, fherr *err) {
  if (n > FILTERS_MAX) {
    fherr_set(err, FH_BAD_REQUEST, "at most %d data filters", FILTERS_MAX);
    return NULL;
  }
  store_data_filter f[FILTERS_MAX];
  order_filters(given, n, f);
  int narrow = 0;
  if (count_matches(st, f, n, &narrow, err)) return NULL;
  /* the outer ORDER BY is the last one (the columns have subqueries with their own) */
  const char *order = NULL;
  for (const char *p = strstr(base_sql, " ORDER BY "); p; p = strstr(p + 1, " ORDER BY ")) order = p;
  size_t cap = 2 * strlen(base_sql) + 512 * (n + 1);   /* (the narrow form repeats the conditions) */
  char *sql = malloc(cap);
  if (!order || !sql) {
    free(sql);
    fherr_set(err, FH_INTERNAL, "cannot build the search");
    return NULL;
  }
  char cond[2048];
  /* the filters' parameters follow the list's (?1..?13 on PostgreSQL, which
   * wants every parameter up to the last one used; SQLite's start at 20) */
  int pg = is_pg(st), base = pg ? 14 : 20;
  walk_cond(cond, sizeof cond, f, n, base, pg);
  /* Few matches: the page's ids first, sorted from the matches' tasks by
   * the list's own conditions and order, then the page's rows; sorting
   * whole rows built every matching task's row (its columns, its user and
   * process) to keep 50: 20-28 ms for 2,000 tasks at 1M, against 5.  The
   * list's conditions start at LIST_CONDS. */
  const char *conds = narrow && key_col[0] == 't' ? strstr(base_sql, LIST_CONDS) : NULL;
  if (conds && conds < order) {
    conds += strlen(LIST_CONDS);
    /* the outer statement reads the page's rows by id: not through the
     * index its walk was told to take (INDEXED BY before the WHERE) */
    const char *hint = strstr(base_sql, " INDEXED BY ");
    int head = (int)(conds - base_sql), skip = 0;
    if (hint && hint < conds) {
      const char *end = strchr(hint + strlen(" INDEXED BY "), ' ');
      head = (int)(hint - base_sql);
      skip = end ? (int)(end - base_sql) : head;
    }
    snprintf(sql, cap, "%.*s%.*s t.id IN (SELECT t.id FROM task t WHERE %.*s AND %s IN (SELECT s0.process_id"
             " FROM process_search s0%s WHERE %s", head, base_sql, skip ? (int)(conds - base_sql) - skip : 0,
             base_sql + skip, (int)(order - conds), conds, key_col, pg ? "" : " NOT INDEXED", cond);
  } else {
    conds = NULL;
    /* unary + keeps SQLite from driving the list by this IN when it is wide */
    snprintf(sql, cap, "%.*s AND %s%s IN (SELECT s0.process_id FROM process_search s0%s WHERE %s",
             (int)(order - base_sql), base_sql, narrow || pg ? "" : "+", key_col, pg ? "" : " NOT INDEXED", cond);
  }
  append_exists(sql, cap, f, n, "s0.process_id", base, pg);
  size_t used = strlen(sql);
  if (conds)   /* the inner page in the list's order, the outer sorted again */
    snprintf(sql + used, cap - used, ")%s)%s", order, order);
  else
    snprintf(sql + used, cap - used, ")%s", order);
  dbs *s = prepare_text(st, sql, err);
  free(sql);
  if (s) bind_filters(s, f, n, base);
  return s;
}

/* the user ?5 took part in the search row's process (participant_user by key) */
#define TOOK_PART "EXISTS (SELECT 1 FROM participant pa WHERE pa.user_id = ?5 AND pa.process_id = s0.process_id)"

/* A user who is no manager sees the matches they took part in: checked
 * match by match on the search row's process id (participant_user by
 * key), before the process row is read, and as the walk meets them; the
 * set of every process of the user was built for every page before (15
 * ms for a user of 100,000 processes at 1M).  A manager also sees the
 * processes of the flows they manage, and all of a managed flow asked for. */
static const char *search_visibility(const store_process_query *q) {
  if (!q->visible_to || (q->flow && q->flow_managed)) return "";
  if (!q->managed_flows_json || !strcmp(q->managed_flows_json, "[]")) return " AND " TOOK_PART;
  return " AND (" TOOK_PART " OR p.flow IN (SELECT value FROM json_each(coalesce(?6, '[]'))))";
}

static char *process_search_sql(const store_process_query *q, const store_data_filter *f, int n) {
  size_t cap = 2048 + 512 * n;
  char *sql = malloc(cap);
  if (!sql) return NULL;
  char cond[2048];
  walk_cond(cond, sizeof cond, f, n, 20, 0);
  snprintf(sql, cap,
           PROC_LIST_COLS " FROM process_search s0 NOT INDEXED CROSS JOIN process p ON p.id = s0.process_id"
           " LEFT JOIN user u ON u.id = p.created_by WHERE %s%s%s%s%s%s",
           cond, q->flow ? " AND p.flow = ?1" : "", q->status ? " AND p.status = ?2" : "",
           q->after ? " AND s0.process_id < ?3" : "", q->parent ? " AND p.parent_id = ?7" : "",
           search_visibility(q));
  append_exists(sql, cap, f, n, "p.id", 20, 0);
  size_t used = strlen(sql);
  snprintf(sql + used, cap - used, " ORDER BY s0.process_id DESC LIMIT ?4");
  return sql;
}

/* The PostgreSQL form: every parameter ?1..?7 appears (the server must
 * type each one up to the last), an absent one is NULL and its condition
 * folds away in the plan made for the values; the filters follow at ?8. */
static char *process_search_sql_pg(const store_data_filter *f, int n) {
  size_t cap = 2048 + 512 * n;
  char *sql = malloc(cap);
  if (!sql) return NULL;
  char cond[2048];
  walk_cond(cond, sizeof cond, f, n, 8, 1);
  snprintf(sql, cap,
           PROC_LIST_COLS " FROM process_search s0 JOIN process p ON p.id = s0.process_id"
           " LEFT JOIN \"user\" u ON u.id = p.created_by WHERE %s"
           " AND (CAST(?1 AS text) IS NULL OR p.flow = ?1) AND (CAST(?2 AS text) IS NULL OR p.status = ?2)"
           " AND (CAST(?3 AS bigint) IS NULL OR s0.process_id < ?3)"
           " AND (CAST(?7 AS bigint) IS NULL OR p.parent_id = ?7)"
           " AND (CAST(?5 AS bigint) IS NULL"
           " OR " TOOK_PART
           " OR p.flow IN (SELECT json_array_elements_text(coalesce(CAST(?6 AS text), '[]')::json)))",
           cond);
  append_exists(sql, cap, f, n, "p.id", 8, 1);
  size_t used = strlen(sql);
  snprintf(sql + used, cap - used, " ORDER BY s0.process_id DESC LIMIT CAST(?4 AS bigint)");
  return sql;
}

int store_process_list_filtered(store *st, const store_process_query *q, st_process **out, int *count, fherr *err) {
  *out = NULL;
  *count = 0;
  int n = q->nfilters;
  if (n > FILTERS_MAX) return fherr_set(err, FH_BAD_REQUEST, "at most %d data filters", FILTERS_MAX);
  store_data_filter f[FILTERS_MAX];
  order_filters(q->filters, n, f);
  int pg = is_pg(st), base = pg ? 8 : 20;
  char *sql = pg ? process_search_sql_pg(f, n) : process_search_sql(q, f, n);
  dbs *s = sql ? prepare_text(st, sql, err) : NULL;
  free(sql);
  if (!s) return err && err->code ? err->code : fherr_set(err, FH_INTERNAL, "out of memory");
  if (q->flow) dbs_bind_text(s, 1, q->flow);
  if (q->status) dbs_bind_text(s, 2, q->status);
  if (q->after) dbs_bind_int64(s, 3, q->after);
  dbs_bind_int(s, 4, q->limit > 0 ? q->limit : 50);
  if (q->visible_to) {
    dbs_bind_int64(s, 5, q->visible_to);
    sq_bind_text_or_null(s, 6, q->managed_flows_json);
  }
  if (q->parent) dbs_bind_int64(s, 7, q->parent);
  if (pg && !q->parent) dbs_bind_null(s, 7);   /* the server takes ?1..?7 (absent ones NULL) */
  bind_filters(s, f, n, base);
  int rc = sq_read_processes(st, s, out, count, "search processes", err);
  dbs_finalize(s);
  return rc;
}

/* --- comments and audit ------------------------------------------------------------ */

int store_comment_add(store *st, int64_t pid, int64_t task_id, int64_t user_id, const char *text, int64_t *id,
                      fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  int rc = store_begin(st, err);
  if (rc) return rc;
  if ((rc = comment_insert(st, pid, task_id, user_id, now, text, id, err))) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

static json_t *text_or_null(dbs *s, int col) {
  const char *v = dbs_col_text(s, col);
  return v ? json_string((const char *)v) : json_null();
}

static json_t *id_or_null(dbs *s, int col) {
  return dbs_col_type(s, col) == DB_NULL ? json_null() : json_integer(dbs_col_int64(s, col));
}

int store_comment_list(store *st, int64_t pid, int64_t task_id, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = data_prep(st, Q_DATA_COMMENTS, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  sq_bind_id_or_null(s, 2, task_id);
  json_t *arr = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    json_t *row = json_pack("{s:I}", "id", (json_int_t)dbs_col_int64(s, 0));
    json_object_set_new(row, "task_id", id_or_null(s, 1));
    json_object_set_new(row, "author", text_or_null(s, 2));
    json_object_set_new(row, "created_at", text_or_null(s, 3));
    json_object_set_new(row, "text", text_or_null(s, 4));
    json_array_append_new(arr, row);
  }
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(arr);
    return sq_fail(st, err, rc, "list comments");
  }
  *out = arr;
  return FH_OK;
}

int store_audit_list(store *st, int64_t pid, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = data_prep(st, Q_DATA_AUDIT_LIST, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, pid);
  json_t *arr = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    json_t *row = json_pack("{s:I}", "id", (json_int_t)dbs_col_int64(s, 0));
    json_object_set_new(row, "task_id", id_or_null(s, 1));
    const char *ft = dbs_col_text(s, 2);
    const char *dot = ft ? strchr((const char *)ft, '.') : NULL;
    json_object_set_new(row, "node", dot ? json_string(dot + 1) : json_null());
    json_object_set_new(row, "user", text_or_null(s, 3));
    json_object_set_new(row, "at", text_or_null(s, 4));
    const char *ch = dbs_col_text(s, 5);
    json_t *changes = ch ? json_loads((const char *)ch, 0, NULL) : NULL;
    json_object_set_new(row, "changes", changes ? changes : json_array());
    json_array_append_new(arr, row);
  }
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(arr);
    return sq_fail(st, err, rc, "list audit");
  }
  *out = arr;
  return FH_OK;
}

/* --- indexing the processes of a flow that gained (or lost) a search field ------- */

static int indexed_for(store *st, const char *flow, const char *fields, int *same, fherr *err) {
  *same = 0;
  dbs *s = data_prep(st, Q_DATA_INDEXED_GET, err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, flow);
  int rc = dbs_step(s);
  *same = -1;   /* no row */
  if (rc == DB_ROW) *same = !strcmp((const char *)dbs_col_text(s, 0), fields);
  sq_done(s);
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "read search state");
}

static int record_indexed(store *st, const char *flow, const char *fields, fherr *err);

/* One batch, in a write of its own: *last the highest id done, *n how many. */
static int reindex_batch(store *st, const char *flow, const char *fields, int batch, int64_t *last, int *n,
                         fherr *err) {
  *n = 0;
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *s = data_prep(st, Q_DATA_REINDEX_IDS, err);
  if (!s) rc = FH_INTERNAL;
  int64_t ids[1024] = {0};
  char *datas[1024] = {0};   /* (-O3 cannot see that only the first *n are read) */
  if (!rc) {
    dbs_bind_text(s, 1, flow);
    dbs_bind_int64(s, 2, *last);
    dbs_bind_int(s, 3, batch);
    int step;
    while (*n < batch && (step = dbs_step(s)) == DB_ROW) {
      ids[*n] = dbs_col_int64(s, 0);
      datas[(*n)++] = sq_dup_col(s, 1);
    }
    sq_done(s);
  }
  for (int i = 0; i < *n; i++) {
    if (!rc) rc = index_process(st, ids[i], datas[i], fields, 0, err);
    free(datas[i]);
  }
  if (*n > 0) *last = ids[*n - 1];
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}

int store_search_reindex(store *st, const char *flow, const char *fields, int batch, int64_t *indexed, fherr *err) {
  *indexed = 0;
  if (batch < 1 || batch > 1024) batch = 1024;
  int same = 0;
  int rc = indexed_for(st, flow, fields, &same, err);
  if (rc || same == 1) return rc;
  /* never indexed and nothing to index: only remember that */
  if (same < 0 && !strcmp(fields, "[]")) return record_indexed(st, flow, fields, err);
  int64_t last = 0;
  for (int n = batch; n == batch;) {
    if ((rc = reindex_batch(st, flow, fields, batch, &last, &n, err))) return rc;
    *indexed += n;
  }
  return record_indexed(st, flow, fields, err);
}

static int record_indexed(store *st, const char *flow, const char *fields, fherr *err) {
  int rc = store_begin(st, err);
  if (rc) return rc;
  dbs *s = data_prep(st, Q_DATA_INDEXED_SET, err);
  if (!s) rc = FH_INTERNAL;
  if (!rc) {
    dbs_bind_text(s, 1, flow);
    dbs_bind_text(s, 2, fields);
    rc = sq_run(st, s, err, "record search state");
  }
  if (rc) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st, err);
}
