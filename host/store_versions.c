/* store_versions — SQL of flow versions and of the processes running on
 * them (see store_versions.h).  The statements are prepared per call: they
 * run at reloads, on version pages and in CLI commands, never per action.
 * They are written in what SQLite and PostgreSQL both read (IS [NOT]
 * DISTINCT FROM, CAST, <> 0 for a flag): the shim only turns ?N into $N. */
#include "store_versions.h"

#include "fhtime.h"
#include "store_internal.h"

#define ACTIVE "('NEW', 'ASSIGNED', 'STARTED', 'SCHEDULED', 'ERROR')"

#define WHAT "versions"   /* names this unit in its storage errors */

static dbs *prep(store *st, const char *sql, fherr *err) { return sq_prepare_once(st, sql, WHAT, err); }
static int run_once(store *st, dbs *s, fherr *err) { return sq_run_once(st, s, WHAT, err); }

static void copy_text(char *dst, size_t cap, dbs *s, int col) {
  const char *v = dbs_col_text(s, col);
  snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

static int current_of(store *st, const char *flow, char hash[VERSION_HASH_LEN], fherr *err) {
  hash[0] = '\0';
  dbs *s = prep(st, "SELECT hash FROM flow_version WHERE flow = ?1 AND is_current <> 0", err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, flow);
  int rc = dbs_step(s);
  if (rc == DB_ROW) copy_text(hash, VERSION_HASH_LEN, s, 0);
  dbs_finalize(s);
  return rc == DB_ROW || rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, "versions");
}

static int insert_and_mark(store *st, const char *flow, const char *hash, const char *source, size_t len, int pin,
                           fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  dbs *s = prep(st,
                         "INSERT INTO flow_version(flow, hash, source, pin, created_at) VALUES(?1, ?2, ?3, ?4, ?5)"
                         " ON CONFLICT(flow, hash) DO UPDATE SET pin = excluded.pin",
                         err);
  if (s) {
    dbs_bind_text(s, 1, flow);
    dbs_bind_text(s, 2, hash);
    dbs_bind_textn(s, 3, source, (int)len);
    dbs_bind_int(s, 4, pin);
    dbs_bind_text(s, 5, now);
  }
  int rc = run_once(st, s, err);
  if (!rc) {
    s = prep(st, "UPDATE flow_version SET is_current = 0 WHERE flow = ?1 AND is_current <> 0", err);
    if (s) dbs_bind_text(s, 1, flow);
    rc = run_once(st, s, err);
  }
  if (!rc) {
    s = prep(st, "UPDATE flow_version SET is_current = 1 WHERE flow = ?1 AND hash = ?2", err);
    if (s) {
      dbs_bind_text(s, 1, flow);
      dbs_bind_text(s, 2, hash);
    }
    rc = run_once(st, s, err);
  }
  return rc;
}

int store_version_current(store *st, const char *flow, char hash[VERSION_HASH_LEN], fherr *err) {
  return current_of(st, flow, hash, err);
}

static int move_processes(store *st, const char *flow, const char *from, const char *to, int64_t *moved,
                          fherr *err);
static int set_report(store *st, const char *flow, const char *hash, const char *report, fherr *err);

int store_version_make_current(store *st, const char *flow, const char *hash, const char *source, size_t len,
                               int pin, const char *expect, const char *report, int move, int *changed,
                               fherr *err) {
  *changed = 0;
  int rc = store_begin(st, err);
  if (rc) return rc;
  char prev[VERSION_HASH_LEN];
  int64_t moved = 0;
  rc = current_of(st, flow, prev, err);   /* again, now that we write */
  if (!rc && !strcmp(prev, expect ? expect : "") && strcmp(prev, hash)) {
    rc = insert_and_mark(st, flow, hash, source, len, pin, err);
    if (!rc && report) rc = set_report(st, flow, hash, report, err);
    if (!rc && move) rc = move_processes(st, flow, NULL, hash, &moved, err);
    *changed = !rc;
  }
  if (rc) {
    store_rollback(st);
    *changed = 0;
    return rc;
  }
  if ((rc = store_commit(st, err))) *changed = 0;
  return rc;
}

/* The edit-impact report (JSON text) of the reload that made hash current. */
static int set_report(store *st, const char *flow, const char *hash, const char *report, fherr *err) {
  dbs *s = prep(st, "UPDATE flow_version SET report = ?3 WHERE flow = ?1 AND hash = ?2", err);
  if (s) {
    dbs_bind_text(s, 1, flow);
    dbs_bind_text(s, 2, hash);
    sq_bind_text_or_null(s, 3, report);
  }
  return run_once(st, s, err);
}

/* running (and running_capped) of a version list entry from a count of
 * COUNT_CAPPED. */
static json_t *with_running(json_t *entry, int64_t n) {
  int capped = n >= RUNNING_CAP;
  json_object_set_new(entry, "running", json_integer(capped ? RUNNING_CAP - 1 : n));
  if (capped) json_object_set_new(entry, "running_capped", json_true());
  return entry;
}

/* Every version list of the flows named in `flows` (a JSON array) at
 * once, for GET /api/flows: two statements, kept prepared, for the page instead of two per
 * flow (each prepared anew: 64% of the page's time with 57 flows). */
/* flow's list in by_flow, made empty when it has none yet */
static json_t *list_of(json_t *by_flow, const char *flow) {
  json_t *list = json_object_get(by_flow, flow);
  if (!list) json_object_set_new(by_flow, flow, list = json_array());
  return list;
}

int store_version_lists(store *st, const json_t *flows, json_t **out, fherr *err) {
  *out = NULL;
  char *names = json_dumps(flows, JSON_COMPACT);
  if (!names) return fherr_set(err, FH_INTERNAL, "out of memory");
  json_t *by_flow = json_object();
  dbs *s = sq_prep(st, Q_VERSION_LISTS, err);
  int rc = s ? DB_DONE : -1;
  if (s) {
    dbs_bind_text(s, 1, names);
    while ((rc = dbs_step(s)) == DB_ROW) {
      json_t *list = list_of(by_flow, (const char *)dbs_col_text(s, 0));
      json_t *entry = json_pack("{s:s, s:b, s:b, s:s}", "hash", dbs_col_text(s, 1), "pin", dbs_col_int(s, 2),
                                "current", dbs_col_int(s, 3), "created_at", dbs_col_text(s, 4));
      json_array_append_new(list, with_running(entry, dbs_col_int64(s, 5)));
    }
    sq_done(s);
  }
  /* those started before versions were recorded, last in each list */
  s = rc == DB_DONE ? sq_prep(st, Q_VERSION_OLDER, err) : NULL;
  if (s) {
    dbs_bind_text(s, 1, names);
    while ((rc = dbs_step(s)) == DB_ROW) {
      int64_t older = dbs_col_int64(s, 1);
      json_t *list = list_of(by_flow, (const char *)dbs_col_text(s, 0));
      if (older) json_array_append_new(list, with_running(json_pack("{s:n}", "hash"), older));
    }
    sq_done(s);
  } else if (rc == DB_DONE) {
    rc = -1;   /* the second could not be prepared: err says why */
  }
  free(names);
  if (rc != DB_DONE) {
    json_decref(by_flow);
    return rc == -1 ? err->code : sq_fail(st, err, rc, "versions");
  }
  *out = by_flow;
  return FH_OK;
}

int store_version_find(store *st, const char *flow, const char *prefix, char hash[VERSION_HASH_LEN],
                       char **source, int *pin, fherr *err) {
  if (source) *source = NULL;
  hash[0] = '\0';
  size_t n = strlen(prefix);
  if (!n || n >= VERSION_HASH_LEN || strspn(prefix, "0123456789abcdef") != n)
    return fherr_set(err, FH_BAD_REQUEST, "'%s' is not a version hash (hex digits)", prefix);
  dbs *s = prep(st, "SELECT hash, source, pin FROM flow_version WHERE flow = ?1 AND substr(hash, 1, CAST(?3 AS integer)) = ?2",
                         err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, flow);
  dbs_bind_text(s, 2, prefix);
  dbs_bind_int(s, 3, (int)n);
  int found = 0, rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    if (found++) continue;
    copy_text(hash, VERSION_HASH_LEN, s, 0);
    if (source) *source = sq_dup_col(s, 1);
    if (pin) *pin = dbs_col_int(s, 2);
  }
  dbs_finalize(s);
  if (rc != DB_DONE) rc = sq_fail(st, err, rc, "versions");
  else if (!found) rc = fherr_set(err, FH_NOT_FOUND, "flow '%s' has no version %s", flow, prefix);
  else if (found > 1) rc = fherr_set(err, FH_BAD_REQUEST, "version %s of flow '%s' is ambiguous", prefix, flow);
  else rc = FH_OK;
  if (rc && source) {
    free(*source);
    *source = NULL;
  }
  return rc;
}

/* The process of id in list (its tasks array), appended when new. */
static json_t *process_slot(json_t *list, json_int_t id, const char *data) {
  json_t *last = json_array_get(list, json_array_size(list) - 1);
  if (last && json_integer_value(json_object_get(last, "id")) == id) return json_object_get(last, "tasks");
  json_t *d = data ? json_loads(data, 0, NULL) : NULL;
  if (!json_is_object(d)) {
    json_decref(d);
    d = json_object();
  }
  json_t *tasks = json_array();
  json_array_append_new(list, json_pack("{s:I, s:o, s:o}", "id", id, "data", d, "tasks", tasks));
  return tasks;
}

int store_version_running(store *st, const char *flow, const char *hash, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = prep(st,
                         "SELECT p.id, p.data, t.id, t.flow_task, t.status FROM process p"
                         " LEFT JOIN task t ON t.process_id = p.id AND t.status IN " ACTIVE
                         " WHERE p.flow = ?1 AND p.flow_version IS NOT DISTINCT FROM ?2 AND p.status IN " RUNNING
                         " ORDER BY p.id, t.id",
                         err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, flow);
  sq_bind_text_or_null(s, 2, hash);
  json_t *list = json_array();
  size_t prefix = strlen(flow) + 1;   /* flow_task is "flow.node" */
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    json_t *tasks = process_slot(list, dbs_col_int64(s, 0), (const char *)dbs_col_text(s, 1));
    if (dbs_col_type(s, 2) == DB_NULL) continue;
    const char *ft = (const char *)dbs_col_text(s, 3);
    const char *node = ft && strlen(ft) > prefix ? ft + prefix : "";
    json_array_append_new(tasks, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)dbs_col_int64(s, 2), "node",
                                           node, "status", dbs_col_text(s, 4)));
  }
  dbs_finalize(s);
  if (rc != DB_DONE) {
    json_decref(list);
    return sq_fail(st, err, rc, "versions");
  }
  *out = list;
  return FH_OK;
}

int store_version_running_flows(store *st, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = prep(st, "SELECT DISTINCT flow FROM process WHERE status IN " RUNNING " ORDER BY flow", err);
  if (!s) return sq_prep_failed(err);
  json_t *list = json_array();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) json_array_append_new(list, json_string((const char *)dbs_col_text(s, 0)));
  dbs_finalize(s);
  if (rc != DB_DONE) {
    json_decref(list);
    return sq_fail(st, err, rc, "versions");
  }
  *out = list;
  return FH_OK;
}

int store_version_reports(store *st, json_t **out, fherr *err) {
  *out = NULL;
  dbs *s = sq_prep(st, Q_VERSION_REPORTS, err);   /* (prepared once: every GET /api/flows reads it) */
  if (!s) return sq_prep_failed(err);
  json_t *all = json_object();
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW) {
    json_t *r = json_loads((const char *)dbs_col_text(s, 1), 0, NULL);
    if (r) json_object_set_new(all, (const char *)dbs_col_text(s, 0), r);
  }
  sq_done(s);
  if (rc != DB_DONE) {
    json_decref(all);
    return sq_fail(st, err, rc, "versions");
  }
  *out = all;
  return FH_OK;
}

int store_version_of_process(store *st, int64_t process_id, char hash[VERSION_HASH_LEN], fherr *err) {
  hash[0] = '\0';
  dbs *s = prep(st, "SELECT flow_version FROM process WHERE id = ?1", err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_int64(s, 1, process_id);
  int rc = dbs_step(s);
  if (rc == DB_ROW) copy_text(hash, VERSION_HASH_LEN, s, 0);
  dbs_finalize(s);
  if (rc == DB_DONE) return fherr_set(err, FH_NOT_FOUND, "no process %lld", (long long)process_id);
  return rc == DB_ROW ? FH_OK : sq_fail(st, err, rc, "versions");
}

/* The processes a move takes: running, of flow, on `from` (?3; NULL: on
 * anything but `to`, ?2). */
#define MOVED_PROCESSES                                                                         \
  "SELECT id FROM process WHERE flow = ?1 AND status IN " RUNNING " AND (CASE WHEN CAST(?3 AS text) IS NULL" \
  " THEN flow_version IS DISTINCT FROM CAST(?2 AS text) ELSE flow_version = ?3 END)"

static int move_tasks(store *st, const char *flow, const char *from, const char *to, const char *old_node,
                      const char *new_node, fherr *err) {
  char old_ft[256], new_ft[256];
  snprintf(old_ft, sizeof old_ft, "%s.%s", flow, old_node);
  snprintf(new_ft, sizeof new_ft, "%s.%s", flow, new_node);
  dbs *s = prep(st,
                         "UPDATE task SET flow_task = ?5 WHERE flow_task = ?4 AND status IN " ACTIVE
                         " AND process_id IN (" MOVED_PROCESSES ")",
                         err);
  if (s) {
    dbs_bind_text(s, 1, flow);
    dbs_bind_text(s, 2, to);
    sq_bind_text_or_null(s, 3, from);
    dbs_bind_text(s, 4, old_ft);
    dbs_bind_text(s, 5, new_ft);
  }
  return run_once(st, s, err);
}

static int move_processes(store *st, const char *flow, const char *from, const char *to, int64_t *moved,
                          fherr *err) {
  dbs *s = prep(st,
                         "UPDATE process SET flow_version = ?2, version = version + 1 WHERE id IN (" MOVED_PROCESSES
                         ")",
                         err);
  if (s) {
    dbs_bind_text(s, 1, flow);
    dbs_bind_text(s, 2, to);
    sq_bind_text_or_null(s, 3, from);
  }
  int rc = run_once(st, s, err);
  if (!rc) *moved = dbc_changes(st->cur->db);
  return rc;
}

/* The versions no process records and no live host serves: nothing reads
 * them but the version list (`migrate --to` one would first need it). */
static int prunable(store *st, const char *flow, const char *seen_after, json_t *list, fherr *err) {
  dbs *s = prep(st,
                "SELECT v.flow, v.hash, v.created_at FROM flow_version v"
                " WHERE v.is_current = 0 AND (?1 = '' OR v.flow = ?1)"
                " AND NOT EXISTS (SELECT 1 FROM process p WHERE p.flow = v.flow AND p.flow_version = v.hash)"
                " AND NOT EXISTS (SELECT 1 FROM flow_host h WHERE h.flow = v.flow AND h.hash = v.hash"
                "  AND h.seen_at >= ?2)"
                " ORDER BY v.flow, v.created_at, v.hash",
                err);
  if (!s) return sq_prep_failed(err);
  dbs_bind_text(s, 1, flow ? flow : "");
  dbs_bind_text(s, 2, seen_after);
  int rc;
  while ((rc = dbs_step(s)) == DB_ROW)
    json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "flow", dbs_col_text(s, 0), "hash",
                                          dbs_col_text(s, 1), "created_at", dbs_col_text(s, 2)));
  dbs_finalize(s);
  return rc == DB_DONE ? FH_OK : sq_fail(st, err, rc, WHAT);
}

static int delete_version(store *st, const char *flow, const char *hash, fherr *err) {
  dbs *s = prep(st, "DELETE FROM flow_version WHERE flow = ?1 AND hash = ?2", err);
  if (s) {
    dbs_bind_text(s, 1, flow);
    dbs_bind_text(s, 2, hash);
  }
  return run_once(st, s, err);
}

int store_version_prune(store *st, const char *flow, const char *seen_after, int dry_run, json_t **out,
                        fherr *err) {
  *out = NULL;
  json_t *list = json_array();
  int rc = store_begin(st, err);   /* the choice and the deletes see one state */
  if (!rc) rc = prunable(st, flow, seen_after, list, err);
  for (size_t i = 0; !rc && !dry_run && i < json_array_size(list); i++) {
    const json_t *v = json_array_get(list, i);
    rc = delete_version(st, json_string_value(json_object_get(v, "flow")),
                        json_string_value(json_object_get(v, "hash")), err);
  }
  if (!rc && !dry_run) rc = store_commit(st, err);
  else store_rollback(st);
  if (rc) {
    json_decref(list);
    return rc;
  }
  *out = list;
  return FH_OK;
}

int store_version_move(store *st, const char *flow, const char *from, const char *to, const char *const *map,
                       int nmap, int64_t *moved, fherr *err) {
  *moved = 0;
  int rc = store_begin(st, err);
  if (rc) return rc;
  for (int i = 0; i < nmap && !rc; i++) rc = move_tasks(st, flow, from, to, map[2 * i], map[2 * i + 1], err);
  if (!rc) rc = move_processes(st, flow, from, to, moved, err);
  if (rc) {
    store_rollback(st);
    *moved = 0;
    return rc;
  }
  if ((rc = store_commit(st, err))) *moved = 0;
  return rc;
}

/* One flow's list: the lists' statements for a list of one. */
int store_version_list(store *st, const char *flow, json_t **out, fherr *err) {
  *out = NULL;
  json_t *names = json_pack("[s]", flow), *all = NULL;
  int rc = names ? store_version_lists(st, names, &all, err) : fherr_set(err, FH_INTERNAL, "out of memory");
  json_decref(names);
  if (rc) return rc;
  json_t *list = json_object_get(all, flow);
  *out = list ? json_incref(list) : json_array();
  json_decref(all);
  return FH_OK;
}
