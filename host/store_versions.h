/* store_versions — the stored versions of each flow (table flow_version)
 * and the processes that run on them (process.flow_version).
 *
 * A version is a flow's source text named by its content hash.  The host
 * marks the version it starts processes on as current; a trigger stamps it
 * on every new process in the insert's own transaction, so a process never
 * exists without the version it started on.  Only store units speak SQL:
 * the engine (engine_versions.c) asks here.
 */
#ifndef STORE_VERSIONS_H
#define STORE_VERSIONS_H

#include <jansson.h>
#include <stdint.h>

#include "fherr.h"
#include "store.h"

#define VERSION_HASH_LEN 20   /* 16 hex digits and room */

/* The flow's current version ("" if none). */
int store_version_current(store *st, const char *flow, char hash[VERSION_HASH_LEN], fherr *err);
/* In one transaction: stores (flow, hash, source) if new, makes it the
 * flow's current version with its report (JSON text, may be NULL) and, with
 * move, moves the running processes of the flow to it.  Nothing is written
 * when the current version is no longer `expect` (another host or thread
 * got there first): then *changed is 0. */
int store_version_make_current(store *st, const char *flow, const char *hash, const char *source, size_t len,
                               int pin, const char *expect, const char *report, int move, int *changed,
                               fherr *err);
/* [{hash, pin, current, created_at, running, running_capped?}] newest
 * first; running counts the flow's running processes on it, exactly up to
 * 999: from 1,000 on it is 999 with running_capped: true ("more than 999"),
 * as each count reads at most 1,000 index entries.  A last entry
 * {hash: null, running, running_capped?} counts running processes older
 * than versions, when there are any. */
int store_version_list(store *st, const char *flow, json_t **out, fherr *err);
/* The version lists of the flows of a JSON array of names, in two
 * statements: {flow: [as store_version_list]} (a flow without versions or
 * processes: no key or an empty list). */
int store_version_lists(store *st, const json_t *flows, json_t **out, fherr *err);
/* The full hash of the version of flow whose hash starts with prefix, and
 * its source (malloc'd, may be NULL) and pin.  FH_NOT_FOUND, or
 * FH_BAD_REQUEST when the prefix names several. */
int store_version_find(store *st, const char *flow, const char *prefix, char hash[VERSION_HASH_LEN],
                       char **source, int *pin, fherr *err);
/* The running processes of flow on version hash (NULL: on no version):
 * [{id, data: {...}, tasks: [{id, node, status}]}] with their active tasks. */
int store_version_running(store *st, const char *flow, const char *hash, json_t **out, fherr *err);
/* The names of the flows that have running processes: ["a", ...]. */
int store_version_running_flows(store *st, json_t **out, fherr *err);
/* {flow: report} of every current version that has a report. */
int store_version_reports(store *st, json_t **out, fherr *err);
/* The version a process records ("" when none). */
int store_version_of_process(store *st, int64_t process_id, char hash[VERSION_HASH_LEN], fherr *err);
/* In one transaction: the active tasks of the flow's running processes on
 * `from` (NULL: every version but `to`, and none) at node map[2i] move to
 * node map[2i+1], and the processes to version `to` (raising their row
 * version, so an action that read them before starts over). */
int store_version_move(store *st, const char *flow, const char *from, const char *to, const char *const *map,
                       int nmap, int64_t *moved, fherr *err);
/* In one transaction: the stored versions of `flow` (NULL: of every flow)
 * that are not current, that no process records (in any status) and that
 * no host seen after `seen_after` (an fhtime text) serves; deleted unless
 * dry_run.  *out: [{flow, hash, created_at}] of them, oldest first per flow. */
int store_version_prune(store *st, const char *flow, const char *seen_after, int dry_run, json_t **out,
                        fherr *err);

#endif
