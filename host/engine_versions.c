/* engine_versions — records loaded versions, reports what reloads do to
 * running processes and moves processes between versions (see
 * engine_versions.h) and prunes the ones nothing uses.  Calls impact,
 * flowreg (compiling stored sources), store_versions, engine_hosts (which
 * hosts still run) and fhlog. */
#include "engine_versions.h"

#include "engine_hosts.h"
#include "engine_internal.h"
#include "fhlog.h"
#include "impact.h"
#include "store_versions.h"

/* The stored version `hash` of flow compiled again (NULL when it does not
 * load any more, say a lib/ module it needs changed). */
static flowdef *compile_version(engine *e, const char *flow, const char *hash) {
  char full[VERSION_HASH_LEN];
  char *src = NULL;
  fherr err = {0};
  flowdef *def = NULL;
  if (!store_version_find(e->st, flow, hash, full, &src, NULL, &err) && src)
    flowreg_compile_text(e->reg, flow, src, strlen(src), &def, &err);
  if (err.code) fhlog(FHLOG_WARN, "version %s of flow %s: %s", hash, flow, err.message);
  fherr_clear(&err);
  free(src);
  return def;
}

/* Renames the task nodes of running (in place) as map says. */
static void apply_map(json_t *running, const char *const *map, int nmap) {
  size_t i, j;
  json_t *p, *t;
  json_array_foreach(running, i, p) json_array_foreach(json_object_get(p, "tasks"), j, t) {
    const char *node = json_string_value(json_object_get(t, "node"));
    for (int k = 0; node && k < nmap; k++)
      if (!strcmp(node, map[2 * k])) {
        json_object_set_new(t, "node", json_string(map[2 * k + 1]));
        break;
      }
  }
}

/* The report of moving the processes on run_hash (NULL: on none), which run
 * the definition of def_hash, to nw. */
static int compare_one(engine *e, const char *flow, const char *def_hash, const char *run_hash, const flowdef *nw,
                       const char *new_hash, const char *const *map, int nmap, json_t **out, fherr *err) {
  json_t *running = NULL;
  int rc = store_version_running(e->st, flow, run_hash, &running, err);
  if (rc) return rc;
  apply_map(running, map, nmap);
  /* (a flow that is gone needs no old definition) */
  flowdef *old = nw && def_hash && *def_hash ? compile_version(e, flow, def_hash) : NULL;
  *out = impact_compare(flow, old, run_hash, nw, new_hash, running);
  if (nw && !old && def_hash && *def_hash) json_object_set_new(*out, "old_failed", json_true());
  flowdef_free(old);
  json_decref(running);
  return FH_OK;
}

static int check_mapped(engine *e, const char *flow, const flowdef *nw, const char *new_hash,
                        const char *const *map, int nmap, json_t *reports, fherr *err) {
  json_t *list = NULL;
  int rc = store_version_list(e->st, flow, &list, err);
  if (rc) return rc;
  const char *current = NULL;
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) if (json_is_true(json_object_get(v, "current"))) current =
      json_string_value(json_object_get(v, "hash"));
  json_array_foreach(list, i, v) {
    const char *hash = json_string_value(json_object_get(v, "hash"));
    if (json_integer_value(json_object_get(v, "running")) == 0 || (hash && new_hash && !strcmp(hash, new_hash)))
      continue;
    json_t *report = NULL;
    /* processes older than versions run what is current */
    if ((rc = compare_one(e, flow, hash ? hash : current, hash, nw, new_hash, map, nmap, &report, err))) break;
    json_array_append_new(reports, report);
  }
  json_decref(list);
  return rc;
}

int engine_versions_check(engine *e, const char *flow, const flowdef *nw, const char *new_hash, json_t *reports,
                          fherr *err) {
  return check_mapped(e, flow, nw, new_hash, NULL, 0, reports, err);
}

static void log_report(const json_t *report) {
  char *text = impact_to_text(report);
  int level = impact_strands(report) ? FHLOG_WARN : FHLOG_INFO;
  /* strtok_r: every engine logs the report of a reload at once, and
   * strtok's one hidden position would send one thread on into another's
   * text (ThreadSanitizer caught it in reload_reload_race) */
  char *pos = NULL;
  for (char *line = text ? strtok_r(text, "\n", &pos) : NULL; line; line = strtok_r(NULL, "\n", &pos))
    fhlog(level, "%s", line);
  free(text);
}

/* One loaded flow: its version becomes current, with the report of what
 * that does to the processes running on the version it replaces; those of
 * a "follow" flow move to it in the same transaction (as the engine runs
 * them on it from now on). */
static void note_entry(engine *e, const flow_entry *fe) {
  char prev[VERSION_HASH_LEN];
  int changed = 0;
  fherr err = {0};
  json_t *report = NULL;
  char *json = NULL;
  if (store_version_current(e->st, fe->name, prev, &err) || !strcmp(prev, fe->hash)) goto out;
  if (prev[0] && !compare_one(e, fe->name, prev, prev, fe->def, fe->hash, NULL, 0, &report, &err)) {
    json_object_set_new(report, "pinned", json_boolean(fe->def->pin));
    json = json_dumps(report, JSON_COMPACT);
  }
  if (!err.code && !store_version_make_current(e->st, fe->name, fe->hash, fe->source, fe->source_len, fe->def->pin,
                                               prev, json, !fe->def->pin, &changed, &err) &&
      changed && report)
    log_report(report);
out:
  if (err.code) fhlog(FHLOG_WARN, "flow %s: version %s not recorded: %s", fe->name, fe->hash, err.message);
  fherr_clear(&err);
  json_decref(report);
  free(json);
}

void engine_versions_record(engine *e) {
  flowgen *gen = flowreg_acquire(e->reg);
  flowgen *held = e->gen;
  e->gen = gen;
  engine_versions_note(e);
  e->gen = held;
  flowgen_release(e->reg, gen);
}

void engine_versions_note(engine *e) {
  for (int i = 0; e->gen && i < e->gen->n; i++) {
    const flow_entry *fe = &e->gen->entries[i];
    if (fe->def && fe->source && fe->hash[0]) note_entry(e, fe);
  }
}

int engine_versions_list(engine *e, const char *flow, json_t **out, fherr *err) {
  *out = NULL;
  int rc = engine_sync_flows(e, err);
  if (rc) return rc;
  const flow_entry *fe = flowgen_find(e->gen, flow);
  if (!fe) return fherr_set(err, FH_NOT_FOUND, "unknown flow '%s'", flow);
  json_t *list = NULL;
  if ((rc = store_version_list(e->st, flow, &list, err))) return rc;
  *out = json_pack("{s:s, s:s?, s:s, s:o}", "flow", flow, "current", fe->hash[0] ? fe->hash : NULL, "version",
                   fe->def && fe->def->pin ? "pin" : "follow", "versions", list);
  return FH_OK;
}

int engine_versions_running_flows(engine *e, json_t **out, fherr *err) {
  return store_version_running_flows(e->st, out, err);
}

int engine_versions_reports(engine *e, json_t **out, fherr *err) { return store_version_reports(e->st, out, err); }

int engine_process_version(engine *e, int64_t process_id, char hash[20], fherr *err) {
  return store_version_of_process(e->st, process_id, hash, err);
}

/* Every map target must be a node of the target definition. */
static int check_map(const flowdef *to, const char *const *map, int nmap, fherr *err) {
  for (int i = 0; i < nmap; i++)
    if (!flowdef_node(to, map[2 * i + 1]))
      return fherr_set(err, FH_BAD_REQUEST, "--map %s=%s: the target version has no node '%s'", map[2 * i],
                       map[2 * i + 1], map[2 * i + 1]);
  return FH_OK;
}

int engine_versions_migrate(engine *e, const char *flow, const char *to, const char *from, const char *const *map,
                            int nmap, json_t **out, fherr *err) {
  *out = NULL;
  char to_hash[VERSION_HASH_LEN], from_hash[VERSION_HASH_LEN];
  int rc = store_version_find(e->st, flow, to, to_hash, NULL, NULL, err);
  if (!rc && from) rc = store_version_find(e->st, flow, from, from_hash, NULL, NULL, err);
  if (rc) return rc;
  flowdef *target = compile_version(e, flow, to_hash);
  if (!target) return fherr_set(err, FH_CONFLICT, "version %s of flow '%s' does not load any more", to_hash, flow);
  json_t *reports = json_array();
  if (!(rc = check_map(target, map, nmap, err))) rc = check_mapped(e, flow, target, to_hash, map, nmap, reports, err);
  flowdef_free(target);
  if (from && !rc) {   /* only the reports about `from` count */
    for (size_t i = json_array_size(reports); i-- > 0;) {
      const char *h = json_string_value(json_object_get(json_array_get(reports, i), "from"));
      if (!h || strcmp(h, from_hash)) json_array_remove(reports, i);
    }
  }
  int stranded = 0;
  for (size_t i = 0; !rc && i < json_array_size(reports); i++) stranded |= impact_strands(json_array_get(reports, i));
  if (!rc && stranded) {
    *out = reports;
    return fherr_set(err, FH_CONFLICT, "moving the processes of '%s' to %s would strand running work", flow, to_hash);
  }
  int64_t moved = 0;
  if (!rc) rc = store_version_move(e->st, flow, from ? from_hash : NULL, to_hash, map, nmap, &moved, err);
  if (rc) {
    json_decref(reports);
    return rc;
  }
  *out = json_pack("{s:s, s:s, s:I, s:o}", "flow", flow, "to", to_hash, "moved", (json_int_t)moved, "reports", reports);
  return FH_OK;
}

int engine_versions_prune(engine *e, const char *flow, int dry_run, json_t **out, fherr *err) {
  *out = NULL;
  char after[FH_TIME_LEN];
  engine_hosts_live_since(after);
  json_t *list = NULL;
  int rc = store_version_prune(e->st, flow, after, dry_run, &list, err);
  if (rc) return rc;
  *out = json_pack("{s:o, s:b}", "pruned", list, "dry_run", dry_run);
  return FH_OK;
}

/* One item of GET /api/flows gets its version, mode, running counts per
 * version (capped as store_version_list caps them) and the report of its
 * last reload. */
static void decorate_flow(engine *e, json_t *item, const json_t *reports, json_t *lists) {
  const char *name = json_string_value(json_object_get(item, "name"));
  const flow_entry *fe = name ? flowgen_find(e->gen, name) : NULL;
  if (!fe) return;
  json_object_set_new(item, "version", fe->hash[0] ? json_string(fe->hash) : json_null());
  json_object_set_new(item, "version_mode", json_string(fe->def && fe->def->pin ? "pin" : "follow"));
  json_t *list = json_object_get(lists, name);
  if (lists) {
    json_t *counts = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (json_integer_value(json_object_get(v, "running")) ||
                                       json_is_true(json_object_get(v, "current")))
        json_array_append_new(counts, json_pack("{s:O, s:O, s:O*}", "hash", json_object_get(v, "hash"), "running",
                                                json_object_get(v, "running"), "running_capped",
                                                json_object_get(v, "running_capped")));
    json_object_set_new(item, "versions", counts);
  }
  json_t *report = json_object_get(reports, name);
  /* only the report about the version loaded now */
  if (report && !json_equal(json_object_get(report, "to"), json_object_get(item, "version"))) report = NULL;
  json_object_set(item, "reload_report", report ? report : json_null());
}

void engine_versions_decorate_flows(engine *e, json_t *flows) {
  json_t *reports = NULL;
  fherr err = {0};
  if (store_version_reports(e->st, &reports, &err)) fherr_clear(&err);
  size_t i;
  json_t *item, *names = json_array(), *lists = NULL;
  json_array_foreach(json_object_get(flows, "items"), i, item) json_array_append(names, json_object_get(item, "name"));
  if (store_version_lists(e->st, names, &lists, &err)) fherr_clear(&err);   /* no versions shown */
  json_array_foreach(json_object_get(flows, "items"), i, item) decorate_flow(e, item, reports, lists);
  json_decref(names);
  json_decref(lists);
  json_decref(reports);
}

void engine_versions_decorate_process(engine *e, json_t *process_view) {
  json_t *p = json_object_get(process_view, "process");
  if (!p) p = process_view;
  json_int_t id = json_integer_value(json_object_get(p, "id"));
  char hash[VERSION_HASH_LEN];
  fherr err = {0};
  if (id && !store_version_of_process(e->st, id, hash, &err))
    json_object_set_new(p, "flow_version", hash[0] ? json_string(hash) : json_null());
  fherr_clear(&err);
}
