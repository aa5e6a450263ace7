/* engine_hosts — which version of each flow each `serve` host serves, seen
 * from the engine: the host records the content hash of every flow of the
 * registry's current generation (at its start and at each reload) and beats
 * periodically (hostbeat.c does both); GET /api/flows lists, per flow, the
 * hosts seen lately with their hash, since when, and when last seen.  The
 * SQL is store_hosts.c. */
#ifndef ENGINE_HOSTS_H
#define ENGINE_HOSTS_H

#include <jansson.h>

#include "engine.h"
#include "fhtime.h"

/* A host that has not beaten for this long drops out of GET /api/flows
 * (serve beats every ENGINE_HOSTS_BEAT seconds). */
#define ENGINE_HOSTS_BEAT 10
#define ENGINE_HOSTS_STALE 45

/* The oldest heartbeat of a host still counted as running (now minus
 * ENGINE_HOSTS_STALE), as an fhtime text. */
void engine_hosts_live_since(char out[FH_TIME_LEN]);
/* Records the hashes of the registry's current generation as host's;
 * *number: that generation's number. */
int engine_hosts_record(engine *e, const char *host, long *number, fherr *err);
int engine_hosts_beat(engine *e, const char *host, fherr *err);
/* Before a host's first record: a warning in the log when a host of the
 * same name beat within ENGINE_HOSTS_STALE (two hosts of one --name write
 * the same rows, and each drops the other's flows from the list).  Never
 * fails: trouble is logged. */
void engine_hosts_check_name(engine *e, const char *host);
/* The host stops serving: it drops out at once.  Trouble is logged. */
void engine_hosts_forget(engine *e, const char *host);
/* Each item of GET /api/flows that actor a manages (admins: every one) gets
 * "hosts": [{name, hash, since, seen_at}], the hosts seen lately that serve
 * it (host names and ports are for operators, as load errors are).  Never
 * fails: trouble is logged. */
void engine_hosts_decorate_flows(engine *e, const fh_actor *a, json_t *flows);

#endif
