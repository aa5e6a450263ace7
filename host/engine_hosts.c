/* engine_hosts — records the flow versions this host serves and adds the
 * hosts to the flow list (see engine_hosts.h); calls flowreg, fhtime,
 * store_hosts and fhlog. */
#include "engine_hosts.h"

#include "engine_internal.h"
#include "fhlog.h"
#include "fhtime.h"
#include "store_hosts.h"

void engine_hosts_live_since(char out[FH_TIME_LEN]) { fhtime_format(fhtime_epoch() - ENGINE_HOSTS_STALE, out); }

int engine_hosts_record(engine *e, const char *host, long *number, fherr *err) {
  flowgen *gen = flowreg_acquire(e->reg);
  int n = gen ? gen->n : 0;
  const char **names = calloc((size_t)n + 1, sizeof *names);
  const char **hashes = calloc((size_t)n + 1, sizeof *hashes);
  int rc = FH_OK;
  if (!names || !hashes) rc = fherr_set(err, FH_INTERNAL, "out of memory");
  for (int i = 0; !rc && i < n; i++) {
    names[i] = gen->entries[i].name;
    hashes[i] = gen->entries[i].def ? gen->entries[i].hash : NULL;   /* NULL: fails to load here */
  }
  char now[FH_TIME_LEN];
  fhtime_now(now);
  if (!rc) rc = store_hosts_record(e->st, host, names, hashes, n, now, err);
  *number = gen ? gen->number : -1;
  free(names);
  free(hashes);
  if (gen) flowgen_release(e->reg, gen);
  return rc;
}

int engine_hosts_beat(engine *e, const char *host, fherr *err) {
  char now[FH_TIME_LEN];
  fhtime_now(now);
  return store_hosts_beat(e->st, host, now, err);
}

void engine_hosts_check_name(engine *e, const char *host) {
  char seen[FH_TIME_LEN], after[FH_TIME_LEN];
  fherr err = {0};
  engine_hosts_live_since(after);
  if (store_hosts_last_seen(e->st, host, seen, &err)) {
    fhlog(FHLOG_WARN, "host %s: cannot tell whether another host runs under this name: %s", host, err.message);
    fherr_clear(&err);
  } else if (seen[0] && strcmp(seen, after) >= 0) {
    fhlog(FHLOG_WARN,
          "host %s: a host of this name was seen on this database at %s: if it still runs, give each host its "
          "own --name (they would overwrite each other's flow versions in GET /api/flows); if it was this "
          "host before a restart, nothing is wrong",
          host, seen);
  }
}

void engine_hosts_forget(engine *e, const char *host) {
  fherr err = {0};
  if (store_hosts_forget(e->st, host, &err))
    fhlog(FHLOG_WARN, "host %s: its flow versions stay listed until they age out: %s", host, err.message);
  fherr_clear(&err);
}

static int manages_any(const fh_actor *a, json_t *flows) {
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(flows, "items"), i, item) {
    const char *name = json_string_value(json_object_get(item, "name"));
    if (name && engine_is_manager(a, name)) return 1;
  }
  return 0;
}

void engine_hosts_decorate_flows(engine *e, const fh_actor *a, json_t *flows) {
  if (!a->is_admin && !manages_any(a, flows)) return;   /* no query for them */
  char after[FH_TIME_LEN];
  engine_hosts_live_since(after);
  json_t *all = NULL;
  fherr err = {0};
  if (store_hosts_list(e->st, after, &all, &err)) {
    fhlog(FHLOG_WARN, "flow list: the hosts serving each flow are left out: %s", err.message);
    fherr_clear(&err);
    return;
  }
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(flows, "items"), i, item) {
    const char *name = json_string_value(json_object_get(item, "name"));
    if (!name || !(a->is_admin || engine_is_manager(a, name))) continue;
    json_t *hosts = json_object_get(all, name);
    json_object_set_new(item, "hosts", hosts ? json_incref(hosts) : json_array());
  }
  json_decref(all);
}
