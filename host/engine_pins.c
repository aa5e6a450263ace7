/* engine_pins — the definitions pinned processes run on.
 *
 * A flow with version = "pin" keeps each running process on the version it
 * started with.  When an action loads such a process and its recorded
 * version is not the one loaded now, the engine compiles that version from
 * its stored source into its own Lua state under the key "flow@hash" (so
 * its callbacks are found apart from the current ones) and the run uses
 * that definition.  The compiled versions are kept for the life of the Lua
 * state; a restarted host loads them again from the database on first use.
 * Calls store_versions (the version and its source), flowdef, fhlog.
 */
#include "engine_internal.h"

#include <stdio.h>

#include "fhlog.h"
#include "store_versions.h"

typedef struct pin {
  char key[160];       /* "flow@hash": the definition's name in the Lua state */
  flowdef *def;        /* its name is the flow's own */
  struct pin *next;
} pin;

void engine_pins_reset(engine *e) {
  pin *p = e->pins;
  while (p) {
    pin *next = p->next;
    flowdef_free(p->def);
    free(p);
    p = next;
  }
  e->pins = NULL;
  e->pins_version++;
}

static pin *pin_find(engine *e, const char *key) {
  for (pin *p = e->pins; p; p = p->next)
    if (!strcmp(p->key, key)) return p;
  return NULL;
}

/* Compiles version hash of flow into the engine's state (NULL on failure,
 * logged: the process then runs on the current definition). */
static pin *pin_load(engine *e, const char *flow, const char *hash, const char *key) {
  char full[VERSION_HASH_LEN], path[512];
  char *src = NULL;
  fherr err = {0};
  pin *p = calloc(1, sizeof *p);
  if (p && !store_version_find(e->st, flow, hash, full, &src, NULL, &err) && src) {
    snprintf(path, sizeof path, "%s/%s.lua@%s", flowreg_dir(e->reg), flow, hash);
    if (!flowdef_load(e->vm, key, path, src, strlen(src), &p->def, &err)) {
      free(p->def->name);
      p->def->name = strdup(flow);
    }
  }
  free(src);
  if (!p || !p->def || !p->def->name) {
    fhlog(FHLOG_WARN, "flow %s: pinned version %s does not load (%s); its processes use the current one", flow,
          hash, err.code ? err.message : "out of memory");
    if (p) flowdef_free(p->def);
    free(p);
    fherr_clear(&err);
    return NULL;
  }
  snprintf(p->key, sizeof p->key, "%s", key);
  p->next = e->pins;
  e->pins = p;
  e->pins_version++;
  return p;
}

void engine_pinned_def(engine *e, const st_process *proc, const flowdef **fd, const char **lua_flow) {
  const flow_entry *fe = flowgen_find(e->gen, proc->flow);
  if (!fe || !fe->def || !fe->def->pin || !proc->id) return;
  char hash[VERSION_HASH_LEN];
  fherr err = {0};
  if (store_version_of_process(e->st, proc->id, hash, &err) || !hash[0] || !strcmp(hash, fe->hash)) {
    fherr_clear(&err);
    return;
  }
  char key[160];
  snprintf(key, sizeof key, "%s@%s", proc->flow, hash);
  pin *p = pin_find(e, key);
  if (!p) p = pin_load(e, proc->flow, hash, key);
  if (!p) return;
  *fd = p->def;
  *lua_flow = p->key;
}

void engine_pins_preload(engine *e) {
  for (int i = 0; e->gen && i < e->gen->n; i++) {
    const flow_entry *fe = &e->gen->entries[i];
    if (!fe->def || !fe->def->pin) continue;
    json_t *list = NULL;
    fherr err = {0};
    if (store_version_list(e->st, fe->name, &list, &err)) {
      fherr_clear(&err);
      continue;
    }
    size_t k;
    json_t *v;
    json_array_foreach(list, k, v) {
      const char *hash = json_string_value(json_object_get(v, "hash"));
      if (!hash || !strcmp(hash, fe->hash) || json_integer_value(json_object_get(v, "running")) == 0) continue;
      char key[160];
      snprintf(key, sizeof key, "%s@%s", fe->name, hash);
      if (!pin_find(e, key)) pin_load(e, fe->name, hash, key);
    }
    json_decref(list);
  }
}

const flowdef *engine_pin_def(const engine *e, int i) {
  const pin *p = e->pins;
  while (p && i-- > 0) p = p->next;
  return p ? p->def : NULL;
}
