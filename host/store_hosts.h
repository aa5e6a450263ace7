/* store_hosts — which version of each flow each host serves (table
 * flow_host): one row per (host, flow) with the content hash the host
 * serves (NULL: the flow fails to load there), since when it serves that
 * hash, and the host's heartbeat (seen_at).  `serve` records them at each
 * load and reload and beats periodically (hostbeat.c); GET /api/flows lists
 * the hosts seen lately, so that an operator sees whether a deploy reached
 * every host.  Only store units speak SQL: the engine asks here
 * (engine_hosts.c). */
#ifndef STORE_HOSTS_H
#define STORE_HOSTS_H

#include <jansson.h>

#include "fherr.h"
#include "fhtime.h"
#include "store.h"

/* In one transaction: the host serves flows[i] at hashes[i] (NULL or "":
 * fails to load) as of now; `since` stays for an unchanged hash; rows of
 * flows the host no longer serves go, and those of hosts not seen for a
 * day. */
int store_hosts_record(store *st, const char *host, const char *const *flows, const char *const *hashes, int n,
                       const char *now, fherr *err);
/* The host is alive (one UPDATE). */
int store_hosts_beat(store *st, const char *host, const char *now, fherr *err);
/* The last time a host of that name was seen (out: "" when never). */
int store_hosts_last_seen(store *st, const char *host, char out[FH_TIME_LEN], fherr *err);
/* The host stopped serving: its rows go. */
int store_hosts_forget(store *st, const char *host, fherr *err);
/* {flow: [{name, hash, since, seen_at}, ...]} of the hosts seen at or after
 * seen_after, by host name. */
int store_hosts_list(store *st, const char *seen_after, json_t **out, fherr *err);

#endif
