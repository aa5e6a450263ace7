/* engine_admin — the engine side of the administration API: the
 * permissions the loaded flows know (to check a grant and to list them
 * per flow), the scheduled work (jobs and timers waiting), the incidents
 * (tasks in ERROR), and how a flow error reads for a user by role.
 * Everything here is for admins; the HTTP layer checks that first.
 */
#ifndef ENGINE_ADMIN_H
#define ENGINE_ADMIN_H

#include <jansson.h>

#include "engine.h"
#include "fherr.h"

/* FH_OK when perm has a known form: <flow>.manage, <flow>.start,
 * <flow>.<node> of a Start or View node, a node's declared :Permission of a
 * loaded flow, or message.<name> (a valid message name); else
 * FH_BAD_REQUEST saying the forms. */
int engine_admin_permission_check(engine *e, const char *perm, fherr *err);
/* {"items": [{"flow","title","permissions": [{"name","kind","node"?,"title"?}]}],
 *  "forms": [...]} with kind "manage", "start" or "task". */
int engine_admin_permissions(engine *e, json_t **out, fherr *err);
/* {"items": [{"id","process_id","flow","flow_title","node","title","type",
 * "due_at","attempts","last_error"}]}: SCHEDULED tasks, earliest first. */
int engine_admin_scheduled(engine *e, int limit, json_t **out, fherr *err);
/* `flowhost compact`: the SQLite database at db_path rewritten with pages
 * of page_size bytes, offline (store_compact.h says what *out holds and
 * the errors).  No engine is open on it: it needs the file to itself. */
int engine_admin_compact(const char *db_path, int page_size, json_t **out, fherr *err);
/* PostgreSQL: the bloated partial indexes of open work rebuilt, each
 * logged (store_upkeep.h; engine_upkeep.c); *rebuilt how many (0 on
 * SQLite, or while another host does it). */
int engine_index_upkeep(engine *e, int *rebuilt, fherr *err);
/* `flowhost compact` on PostgreSQL: the upkeep's round now, on a store of
 * its own; *out {"rebuilt": [{"index", "pages_before", "pages_after",
 * "entries"}]} (empty: nothing bloated, or another host at it). */
int engine_index_upkeep_now(const char *db_path, json_t **out, fherr *err);
/* Whether db_path names a PostgreSQL database (the rest is SQLite). */
int engine_db_is_postgres(const char *db_path);

/* Admins, the system and managers of flow see Lua errors and tracebacks. */
int engine_admin_sees_details(const fh_actor *a, const char *flow);
/* Rewrites a flow error (FH_FLOW_ERROR) for a user who is neither an
 * admin nor a manager of `flow`: a plain message naming the step (from
 * err->fields "node" when the engine knew it) and that administrators
 * can see the details; the traceback is dropped.  Others keep the Lua
 * error and traceback.  flow may be NULL (unknown: plain unless admin);
 * node (may be NULL) names the step when the engine did not (the task
 * acted on: a view's validate that raised). */
void engine_admin_flow_error_for(engine *e, const fh_actor *a, const char *flow, const char *node, fherr *err);
/* Drops the Lua error of a task JSON (its "error") for such a user,
 * keeping {"message": plain, "hidden": true}. */
void engine_admin_task_error_for(const fh_actor *a, json_t *task);
/* The flow and node of a task (for engine_admin_flow_error_for); "" when unknown. */
void engine_admin_task_flow(engine *e, int64_t task_id, char flow[64], char node[64]);

#endif
