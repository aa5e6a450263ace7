/* engine_summary — a per-engine cache of process summaries for task lists.
 *
 * A list page shows each row's process summary, computed by the flow's Lua
 * `summary` function from the process's data: per row a JSON parse and a
 * Lua call, the largest share of an inbox request after serialising.  The
 * summary depends on what a process write changes (data, status) and on
 * the flow's definition, so an entry is keyed by the process id, its
 * version (raised by every write) and the generation of the definitions;
 * it is also recomputed once older than SUMMARY_TTL seconds, for summaries
 * that read the clock.  One cache per engine (per thread): no locks.
 * Direct-mapped by process id: a collision evicts, memory stays bounded.
 */
#include "engine_internal.h"

#include "fhtime.h"

#define SUMMARY_SLOTS 4096
#define SUMMARY_TTL 60.0

typedef struct summary_slot {
  int64_t process_id, version;
  long gen;
  double at;
  char *text;
} summary_slot;

struct summary_cache {
  summary_slot slot[SUMMARY_SLOTS];
};

static summary_slot *slot_of(engine *e, int64_t process_id) {
  if (!e->summaries && !(e->summaries = calloc(1, sizeof *e->summaries))) return NULL;
  return &e->summaries->slot[(uint64_t)process_id % SUMMARY_SLOTS];
}

const char *summary_cache_get(engine *e, int64_t process_id, int64_t version) {
  summary_slot *s = slot_of(e, process_id);
  if (!s || !s->text || s->process_id != process_id || s->version != version) return NULL;
  if (!e->gen || s->gen != e->gen->number || fhtime_monotonic() - s->at > SUMMARY_TTL) return NULL;
  return s->text;
}

void summary_cache_put(engine *e, int64_t process_id, int64_t version, const char *text) {
  summary_slot *s = slot_of(e, process_id);
  if (!s || !e->gen) return;
  char *copy = strdup(text ? text : "");
  if (!copy) return;
  free(s->text);
  *s = (summary_slot){.process_id = process_id, .version = version, .gen = e->gen->number,
                      .at = fhtime_monotonic(), .text = copy};
}

void summary_cache_free(engine *e) {
  if (!e->summaries) return;
  for (int i = 0; i < SUMMARY_SLOTS; i++) free(e->summaries->slot[i].text);
  free(e->summaries);
  e->summaries = NULL;
}
