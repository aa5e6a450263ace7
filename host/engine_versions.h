/* engine_versions — flow versions seen from the engine: the content hash of
 * each loaded definition recorded as the flow's current version (the one new
 * processes start on), the edit-impact report of each reload, the version
 * list with running counts, and moving running processes between versions.
 *
 * The comparison itself is impact.c; the SQL is store_versions.c; the old
 * definitions are compiled again from their stored source by flowreg.
 */
#ifndef ENGINE_VERSIONS_H
#define ENGINE_VERSIONS_H

#include <jansson.h>

#include "engine.h"

/* Called when the engine's generation changed: each loaded flow's version
 * becomes current; when it replaces another, the impact report on the
 * processes running on the old one is logged and stored, and (a "follow"
 * flow) those processes move to the new version.  Never fails the caller:
 * trouble is logged. */
void engine_versions_note(engine *e);
/* The same for the registry's current generation, with no Lua state: the
 * host records its versions once before it serves. */
void engine_versions_record(engine *e);
/* The impact reports of replacing what runs now in flow by definition nw
 * (hash new_hash; nw NULL: the flow is gone): one report per version that
 * has running processes, appended to the array reports. */
int engine_versions_check(engine *e, const char *flow, const flowdef *nw, const char *new_hash, json_t *reports,
                          fherr *err);
/* The flows that have running processes (["a", ...]). */
int engine_versions_running_flows(engine *e, json_t **out, fherr *err);
/* GET /api/flows/{flow}/versions: {flow, current, versions: [...]}. */
int engine_versions_list(engine *e, const char *flow, json_t **out, fherr *err);
/* {flow: report} of the last reload of every flow. */
int engine_versions_reports(engine *e, json_t **out, fherr *err);
/* GET /api/flows: each item gets version, version_mode, versions (running
 * counts) and reload_report; GET /api/processes/{id}: flow_version. */
void engine_versions_decorate_flows(engine *e, json_t *flows);
void engine_versions_decorate_process(engine *e, json_t *process_view);
/* The version process id records ("" when none). */
int engine_process_version(engine *e, int64_t process_id, char hash[20], fherr *err);
/* flowhost migrate: moves the running processes of flow on `from` (NULL:
 * every other version) to version `to` (a hash prefix), their tasks at
 * node map[2i] to map[2i+1] first.  Refuses with FH_CONFLICT, *out holding
 * the impact reports, when that would strand running work; else *out is
 * {flow, to, moved, reports}. */
int engine_versions_migrate(engine *e, const char *flow, const char *to, const char *from, const char *const *map,
                            int nmap, json_t **out, fherr *err);
/* flowhost prune-versions: deletes (unless dry_run) the stored versions of
 * flow (NULL: every flow) that are not current, that no process records and
 * that no host seen within ENGINE_HOSTS_STALE serves; *out is {pruned:
 * [{flow, hash, created_at}], dry_run}. */
int engine_versions_prune(engine *e, const char *flow, int dry_run, json_t **out, fherr *err);

#endif
