/* engine_summary — a per-engine cache of process summaries for the lists.
 *
 * A list page shows each row's process summary, computed by the flow's Lua
 * `summary` function from the process's data: per row a JSON parse and a
 * Lua call, the largest share of an inbox request after serialising.  The
 * summary depends on what a process write changes (data, status) and on
 * the flow's definition, so an entry is keyed by the process id, its
 * version (raised by every write) and the generation of the definitions;
 * it is also recomputed once older than SUMMARY_TTL seconds, for summaries
 * that read the clock.  One cache per engine (per thread): no locks.
 *
 * Set-associative by process id, SUMMARY_WAYS entries a set, the least
 * recently used one evicted: memory stays bounded (4,096 entries, as
 * many as before), and the processes of the pages one thread serves in
 * turn do not evict each other.  Direct-mapped (one entry per id modulo
 * 4,096) they did: the ~400 processes of counts_bench's 19 pages at
 * 1,000,000 processes were read and summarised 32 times more per round
 * of the pages, one round trip each (bench/README.md, section 23).
 * The process list (engine_proclist.c) reads its summaries here too.
 */
#include "engine_internal.h"

#include "fhtime.h"

#define SUMMARY_SETS 1024
#define SUMMARY_WAYS 4
#define SUMMARY_TTL 60.0

typedef struct summary_slot {
  int64_t process_id, version;
  long gen;
  double at;
  uint64_t used;   /* the cache's tick at the last hit or store: the LRU order in a set */
  char *text;      /* NULL: a free slot */
} summary_slot;

struct summary_cache {
  uint64_t tick;
  summary_slot slot[SUMMARY_SETS][SUMMARY_WAYS];
};

static summary_slot *set_of(engine *e, int64_t process_id) {
  if (!e->summaries && !(e->summaries = calloc(1, sizeof *e->summaries))) return NULL;
  return e->summaries->slot[(uint64_t)process_id % SUMMARY_SETS];
}

static summary_slot *find(summary_slot *set, int64_t process_id) {
  for (int w = 0; w < SUMMARY_WAYS; w++)
    if (set[w].text && set[w].process_id == process_id) return &set[w];
  return NULL;
}

const char *summary_cache_get(engine *e, int64_t process_id, int64_t version) {
  summary_slot *set = set_of(e, process_id), *s = set ? find(set, process_id) : NULL;
  if (!s || s->version != version) return NULL;
  if (!e->gen || s->gen != e->gen->number || fhtime_monotonic() - s->at > SUMMARY_TTL) return NULL;
  s->used = ++e->summaries->tick;
  return s->text;
}

/* The slot a new summary of process_id goes to: its own, a free one, or the
 * set's least recently used. */
static summary_slot *victim(summary_slot *set, int64_t process_id) {
  summary_slot *s = find(set, process_id);
  if (s) return s;
  summary_slot *lru = &set[0];
  for (int w = 0; w < SUMMARY_WAYS; w++) {
    if (!set[w].text) return &set[w];
    if (set[w].used < lru->used) lru = &set[w];
  }
  return lru;
}

void summary_cache_put(engine *e, int64_t process_id, int64_t version, const char *text) {
  summary_slot *set = set_of(e, process_id);
  if (!set || !e->gen) return;
  char *copy = strdup(text ? text : "");
  if (!copy) return;
  summary_slot *s = victim(set, process_id);
  free(s->text);
  *s = (summary_slot){.process_id = process_id, .version = version, .gen = e->gen->number,
                      .at = fhtime_monotonic(), .used = ++e->summaries->tick, .text = copy};
}

char *summary_compute(engine *e, const st_process *p) {
  if (e->summaries_spent >= SUMMARY_PAGE_SECONDS) return view_summary_default(e, p);
  double t0 = fhtime_monotonic();
  json_t *data = parse_json_text(p->data);
  char *summary = view_summary(e, p, data);
  summary_cache_put(e, p->id, p->version, summary);
  json_decref(data);
  e->summaries_spent += fhtime_monotonic() - t0;
  return summary;
}

void summary_cache_free(engine *e) {
  if (!e->summaries) return;
  for (int i = 0; i < SUMMARY_SETS; i++)
    for (int w = 0; w < SUMMARY_WAYS; w++) free(e->summaries->slot[i][w].text);
  free(e->summaries);
  e->summaries = NULL;
}
