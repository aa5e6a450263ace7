/* impact — what an edit of a flow does to the processes running on it.
 *
 * Compares two definitions of one flow (the version running processes are
 * on, and the edited one) against those processes (as store_version_running
 * lists them: id, data, active tasks with their node) and reports findings:
 *   node_removed    tasks wait at a node the edit drops (stranded); when a new
 *                   node of the same kind sits at the same place in the graph
 *                   it is named with the `flowhost rename-node` command to run
 *   node_changed    tasks wait at a node whose kind changed (stranded)
 *   field_removed   processes hold a value of a field the edit drops (a note)
 *   field_retyped   processes hold a value the new type refuses (stranded)
 *   field_required  processes lack a field that became required (stranded)
 *   join_changed    a join's incoming branches or split changed while
 *                   processes have work in its branches (stranded)
 *   flow_removed    the edited files no longer define the flow (stranded)
 * Pure C on flowdefs and JSON: used by `flowhost check --against`, by
 * `flowhost migrate` and by the host at every reload (engine_versions.c).
 */
#ifndef IMPACT_H
#define IMPACT_H

#include <jansson.h>

#include "flowdef.h"

/* The report {flow, from, to, running, stranded, findings: [...]}.  nw NULL:
 * the flow is gone.  `running` is borrowed. */
json_t *impact_compare(const char *flow, const flowdef *old, const char *from, const flowdef *nw, const char *to,
                       const json_t *running);
/* Would running work be stranded (any finding that strands)? */
int impact_strands(const json_t *report);
/* The report as plain text lines (malloc'd). */
char *impact_to_text(const json_t *report);

#endif
