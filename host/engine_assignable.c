/* engine_assignable — the human nodes an actor may take: the queue's
 * "flow.node" names, and those of :Permission(fn) nodes, asked task by task.
 *
 * Every queue page and every top bar asks for them, and the answer only
 * changes with the flows loaded, the pinned versions and the actor's
 * permissions.  Working it out walks every node of every flow (a host of 56
 * flows: 15% of a queue page's CPU in the host), so each engine keeps the
 * answers of the last few actors, keyed by exactly those three.  An engine
 * serves one request at a time, so nothing here is locked.
 */
#include "engine_internal.h"

#include <stdio.h>

#define ASSIGNABLE_SLOTS 8

typedef struct assignable_slot {
  long gen;            /* flowgen number */
  long pins;           /* engine pins_version */
  int privileged;      /* admin or system: every node, none asked one by one */
  json_t *perms;       /* a copy of the actor's permissions (NULL: none); unused when privileged */
  char *names_text;    /* JSON array text */
  char *plain_text;    /* the same without fn_nodes's (counted in SQL) */
  json_t *fn_nodes;    /* {"flow.node": true} */
} assignable_slot;

struct assignable_memo {
  assignable_slot slots[ASSIGNABLE_SLOTS];
  int next;            /* the slot replaced next (round robin) */
};

/* Adds the View nodes of fd the actor may assign to names (and fn_nodes);
 * with dedupe, only those not listed yet (a pinned version's nodes). */
static void add_assignable(const flowdef *fd, const fh_actor *a, int dedupe, json_t *names, json_t *fn_nodes) {
  for (int j = 0; fd && j < fd->nnodes; j++) {
    const fd_node *n = &fd->nodes[j];
    if (n->kind != NODE_VIEW) continue;
    int yes = a->is_admin || a->is_system || (!n->permission && !n->permission_fn) ||
              (n->permission && fh_actor_has_perm(a, n->permission)) || n->permission_fn;
    if (!yes) continue;
    char ft[160];
    snprintf(ft, sizeof ft, "%s.%s", fd->name, n->name);
    size_t k;
    json_t *have;
    int dup = 0;
    if (dedupe) json_array_foreach(names, k, have) dup = dup || !strcmp(json_string_value(have), ft);
    if (dup) continue;
    json_array_append_new(names, json_string(ft));
    if (n->permission_fn && !a->is_admin && !a->is_system) json_object_set_new(fn_nodes, ft, json_true());
  }
}

static void slot_clear(assignable_slot *s) {
  json_decref(s->perms);
  json_decref(s->fn_nodes);
  free(s->names_text);
  free(s->plain_text);
  memset(s, 0, sizeof *s);
}

static int slot_matches(const assignable_slot *s, long gen, long pins, int privileged, const json_t *perms) {
  if (!s->names_text || s->gen != gen || s->pins != pins || s->privileged != privileged) return 0;
  if (privileged) return 1;
  if (!s->perms || !perms) return !s->perms && !perms;
  return json_equal(s->perms, perms);
}

/* Works the answer out into slot s. */
static int slot_fill(engine *e, const fh_actor *a, assignable_slot *s, long gen, long pins, int privileged) {
  json_t *names = json_array();
  s->fn_nodes = json_object();
  for (int i = 0; i < e->gen->n; i++) add_assignable(e->gen->entries[i].def, a, 0, names, s->fn_nodes);
  const flowdef *pinned;
  for (int i = 0; (pinned = engine_pin_def(e, i)); i++) add_assignable(pinned, a, 1, names, s->fn_nodes);
  json_t *plain = json_array();
  size_t k;
  json_t *v;
  json_array_foreach(names, k, v) if (!json_object_get(s->fn_nodes, json_string_value(v))) json_array_append(plain, v);
  s->names_text = json_dumps(names, JSON_COMPACT);
  s->plain_text = json_dumps(plain, JSON_COMPACT);
  json_decref(names);
  json_decref(plain);
  s->perms = !privileged && a->perms ? json_deep_copy(a->perms) : NULL;
  s->gen = gen;
  s->pins = pins;
  s->privileged = privileged;
  if (!s->names_text || !s->plain_text || !s->fn_nodes || (!privileged && a->perms && !s->perms)) {
    slot_clear(s);
    return 0;
  }
  return 1;
}

int view_assignable(engine *e, const fh_actor *a, char **names_text, char **plain_text, json_t **fn_nodes) {
  if (names_text) *names_text = NULL;
  if (plain_text) *plain_text = NULL;
  *fn_nodes = NULL;
  if (!e->assignable && !(e->assignable = calloc(1, sizeof *e->assignable))) return 0;
  struct assignable_memo *m = e->assignable;
  long gen = e->gen->number, pins = e->pins_version;
  int privileged = a->is_admin || a->is_system;
  assignable_slot *s = NULL;
  for (int i = 0; i < ASSIGNABLE_SLOTS && !s; i++)
    if (slot_matches(&m->slots[i], gen, pins, privileged, a->perms)) s = &m->slots[i];
  if (!s) {
    s = &m->slots[m->next];
    m->next = (m->next + 1) % ASSIGNABLE_SLOTS;
    slot_clear(s);
    if (!slot_fill(e, a, s, gen, pins, privileged)) return 0;
  }
  /* the caller's own copies: a permission function asked while a page is
   * read may run a list of its own on this engine and replace the slot */
  if (names_text) *names_text = strdup(s->names_text);
  if (plain_text) *plain_text = strdup(s->plain_text);
  *fn_nodes = json_incref(s->fn_nodes);
  if ((names_text && !*names_text) || (plain_text && !*plain_text)) {
    if (names_text) {
      free(*names_text);
      *names_text = NULL;
    }
    if (plain_text) {
      free(*plain_text);
      *plain_text = NULL;
    }
    json_decref(*fn_nodes);
    *fn_nodes = NULL;
    return 0;
  }
  return 1;
}

void view_assignable_free(engine *e) {
  if (!e->assignable) return;
  for (int i = 0; i < ASSIGNABLE_SLOTS; i++) slot_clear(&e->assignable->slots[i]);
  free(e->assignable);
  e->assignable = NULL;
}
