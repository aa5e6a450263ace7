#include "flowdef.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "luaside.h"

/* registry[REGISTRY_KEY][name]: the flow's compiled table, or false when
 * the state's loader was asked for it and could not load it (asked once,
 * not at every lookup, until flowdef_forget) */
#define REGISTRY_KEY "flowhost.flows"
/* Bounds on the lists of a compiled table (nodes, a node's edges and
 * fields): the length of a tampered table is not a count of real entries
 * ({[1] = a, [2] = b, [4] = c, ..., [2^26] = z} has a length near 2^26). */
#define LIST_MAX 10000

static const char *const KIND_NAMES[NODE__COUNT] = {
    "start", "start_function", "view", "handler", "function", "job", "timer",
    "if", "switch", "split", "join", "end", "receive", "send", "cancel", "subprocess", "lock", "unlock", "obsolete",
    "external"};
static const char *const EDGE_NAMES[] = {"next", "true", "false", "case", "default", "timeout"};

const char *node_priority_name(int priority) {
  static const char *const names[] = {NULL, "low", "normal", "high"};
  return priority >= 1 && priority <= 3 ? names[priority] : NULL;
}

const char *node_kind_name(node_kind kind) {
  return kind >= 0 && kind < NODE__COUNT ? KIND_NAMES[kind] : "unknown";
}
const char *edge_kind_name(edge_kind kind) { return EDGE_NAMES[kind]; }
int node_kind_is_human(node_kind kind) { return kind == NODE_START || kind == NODE_VIEW; }

static int kind_from_name(const char *s) {
  for (int i = 0; i < NODE__COUNT; i++)
    if (strcmp(s, KIND_NAMES[i]) == 0) return i;
  return -1;
}

/* lua_getfield without metamethods (t[key] read raw). */
static int raw_field(lua_State *L, int t, const char *key) {
  t = lua_absindex(L, t);
  lua_pushstring(L, key);
  return lua_rawget(L, t);
}

static int edge_from_name(const char *s) {
  for (int i = 0; i < 5; i++)
    if (strcmp(s, EDGE_NAMES[i]) == 0) return i;
  return -1;
}

void flowdef_free(flowdef *fd) {
  if (!fd) return;
  for (int i = 0; i < fd->nnodes; i++) {
    fd_node *n = &fd->nodes[i];
    free(n->name);
    free(n->title);
    free(n->description);
    for (int j = 0; j < n->nfields; j++) free(n->fields[j]);
    free(n->fields);
    for (int j = 0; j < n->nedges; j++) {
      free(n->edges[j].to);
      free(n->edges[j].cond_name);
    }
    free(n->edges);
    free(n->permission);
    free(n->assign_value);
    for (int j = 0; j < n->ntimeouts; j++) free(n->timeouts[j].to);
    free(n->timeouts);
    free(n->message);
    free(n->signal);
    free(n->key_value);
    free(n->region);
    free(n->subflow);
    free(n->sub_start);
    free(n->foreach_field);
    free(n->lock_name);
    free(n->while_node);
    free(n->topic);
  }
  free(fd->nodes);
  json_decref(fd->fields);
  free(fd->name);
  free(fd->title);
  free(fd->description);
  free(fd);
}

const fd_node *flowdef_node(const flowdef *fd, const char *name) {
  int i = flowdef_node_index(fd, name);
  return i < 0 ? NULL : &fd->nodes[i];
}

int flowdef_node_index(const flowdef *fd, const char *name) {
  if (!fd || !name) return -1;
  for (int i = 0; i < fd->nnodes; i++)
    if (strcmp(fd->nodes[i].name, name) == 0) return i;
  return -1;
}

json_t *flowdef_field(const flowdef *fd, const char *name) {
  size_t i;
  json_t *f;
  json_array_foreach(fd->fields, i, f) {
    if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0) return f;
  }
  return NULL;
}

/* --- extraction from the compiled Lua table (runs protected) ---------- */

static char *opt_string(lua_State *L, int t, const char *key) {
  lua_getfield(L, t, key);
  char *v = NULL;
  if (lua_type(L, -1) == LUA_TSTRING) v = strdup(lua_tostring(L, -1));
  else if (!lua_isnil(L, -1)) luaL_error(L, "compiled flow: '%s' must be a string", key);
  lua_pop(L, 1);
  return v;
}

static int has_function(lua_State *L, int t, const char *key) {
  lua_getfield(L, t, key);
  int yes = lua_type(L, -1) == LUA_TFUNCTION;
  lua_pop(L, 1);
  return yes;
}

/* The length of the list on top of the stack, bounded by LIST_MAX. */
static int list_length(lua_State *L, const char *what, const char *owner) {
  lua_Unsigned n = lua_rawlen(L, -1);
  if (n > LIST_MAX) luaL_error(L, "compiled flow: %s of '%s' has more than %d entries", what, owner, LIST_MAX);
  return (int)n;
}

static double opt_number(lua_State *L, int t, const char *key, double dflt) {
  lua_getfield(L, t, key);
  double v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : dflt;
  lua_pop(L, 1);
  return v;
}

static void read_edges(lua_State *L, int nt, fd_node *n) {
  lua_getfield(L, nt, "edges");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int count = list_length(L, "the edge list", n->name);
    n->edges = calloc(count ? count : 1, sizeof *n->edges);
    if (!n->edges) luaL_error(L, "out of memory");
    for (int i = 1; i <= count; i++) {
      lua_rawgeti(L, -1, i);
      int et = lua_gettop(L);
      if (lua_type(L, et) != LUA_TTABLE) luaL_error(L, "compiled flow: edge %d of '%s' is not a table", i, n->name);
      fd_edge *e = &n->edges[n->nedges++];
      e->to = opt_string(L, et, "to");
      char *kind = opt_string(L, et, "kind");
      e->kind = kind ? edge_from_name(kind) : EDGE_NEXT;
      free(kind);
      if (!e->to || (int)e->kind < 0) luaL_error(L, "compiled flow: bad edge %d of '%s'", i, n->name);
      e->has_cond = has_function(L, et, "cond");
      e->cond_name = opt_string(L, et, "cond_name");
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static int opt_bool(lua_State *L, int t, const char *key) {
  lua_getfield(L, t, key);
  int v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static void read_timeouts(lua_State *L, int nt, fd_node *n) {
  lua_getfield(L, nt, "timeouts");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int count = list_length(L, "the timeout list", n->name);
    n->timeouts = calloc(count ? count : 1, sizeof *n->timeouts);
    if (!n->timeouts) luaL_error(L, "out of memory");
    for (int i = 1; i <= count; i++) {
      lua_rawgeti(L, -1, i);
      int tt = lua_gettop(L);
      if (lua_type(L, tt) != LUA_TTABLE) luaL_error(L, "compiled flow: timeout %d of '%s' is not a table", i, n->name);
      fd_timeout *t = &n->timeouts[n->ntimeouts++];
      t->to = opt_string(L, tt, "to");
      t->interrupting = opt_bool(L, tt, "interrupting");
      t->seconds = opt_number(L, tt, "seconds", -1);
      if (!t->to) luaL_error(L, "compiled flow: timeout %d of '%s' has no target", i, n->name);
      if (t->seconds < 0) {
        char key[32];
        snprintf(key, sizeof key, "timeout_%d", i);
        if (!has_function(L, nt, key)) luaL_error(L, "compiled flow: timeout %d of '%s' has no seconds", i, n->name);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static int is_node_name(const char *s);

/* Subprocess and :ForEach settings (all optional). */
static void read_composition(lua_State *L, int nt, fd_node *n) {
  n->subflow = opt_string(L, nt, "subflow");
  n->sub_start = opt_string(L, nt, "sub_start");
  n->has_input_fn = has_function(L, nt, "input");
  n->has_output_fn = has_function(L, nt, "output");
  if (n->kind == NODE_SUBPROCESS && (!n->subflow || !is_node_name(n->subflow)))
    luaL_error(L, "compiled flow: Subprocess '%s' has no child flow", n->name);
  if (n->kind == NODE_SUBPROCESS && !n->sub_start) n->sub_start = strdup("start");
  n->foreach_field = opt_string(L, nt, "foreach_field");
  n->foreach = n->foreach_field != NULL || has_function(L, nt, "foreach");
  lua_getfield(L, nt, "parallel");
  n->foreach_parallel = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  double count = opt_number(L, nt, "complete_count", 0);
  if (!(count >= 0 && count <= LIST_MAX)) luaL_error(L, "compiled flow: bad complete count of '%s'", n->name);
  n->complete_count = (int)count;
  n->has_complete_fn = has_function(L, nt, "complete");
  lua_getfield(L, nt, "cancel_rest_instances");
  n->foreach_cancel_rest = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  n->lock_name = opt_string(L, nt, "lock_name");
  if ((n->kind == NODE_LOCK || n->kind == NODE_UNLOCK) && (!n->lock_name || !is_node_name(n->lock_name)))
    luaL_error(L, "compiled flow: '%s' has no lock name", n->name);
  n->while_node = opt_string(L, nt, "while_node");
  n->topic = opt_string(L, nt, "topic");
  /* the topic is stored in a task's event_name (127 bytes); the DSL allows 100 */
  if (n->kind == NODE_EXTERNAL && (!n->topic || !n->topic[0] || strlen(n->topic) > 100))
    luaL_error(L, "compiled flow: External '%s' has no topic", n->name);
}

/* The event model's settings of a node (all optional). */
static void read_events(lua_State *L, int nt, fd_node *n) {
  double wait = opt_number(L, nt, "wait", 0);
  if (!(wait >= 0 && wait <= LIST_MAX)) luaL_error(L, "compiled flow: bad wait of '%s'", n->name);
  n->wait = (int)wait;
  n->cancel_rest = opt_bool(L, nt, "cancel_rest");
  n->block = opt_bool(L, nt, "block");
  n->terminate = opt_bool(L, nt, "terminate");
  n->first = opt_bool(L, nt, "first");
  n->transient = opt_bool(L, nt, "transient");
  n->comment_required = opt_bool(L, nt, "comment_required");
  n->message = opt_string(L, nt, "message");
  n->signal = opt_string(L, nt, "signal");
  n->has_key_fn = has_function(L, nt, "key");
  n->key_value = opt_string(L, nt, "key_value");
  n->has_data_fn = has_function(L, nt, "data");
  n->region = opt_string(L, nt, "region");
  n->region_index = -1;
  lua_getfield(L, nt, "due_seconds");
  n->has_due = !lua_isnil(L, -1);
  lua_pop(L, 1);
  n->due_seconds = opt_number(L, nt, "due_seconds", -1);
  char *prio = opt_string(L, nt, "priority");
  n->priority = !prio ? 0 : !strcmp(prio, "high") ? 3 : !strcmp(prio, "low") ? 1 : 2;
  free(prio);
  if (n->has_due && n->due_seconds < 0 && !has_function(L, nt, "due"))
    luaL_error(L, "compiled flow: :Due of '%s' has no seconds", n->name);
  if ((n->kind == NODE_RECEIVE || n->kind == NODE_SEND) && !n->message == !n->signal)
    luaL_error(L, "compiled flow: '%s' needs a message or a signal", n->name);
  if (n->message && !n->has_key_fn && !n->key_value) luaL_error(L, "compiled flow: '%s' has no key", n->name);
  if (n->kind == NODE_CANCEL && !n->region) luaL_error(L, "compiled flow: Cancel '%s' has no region", n->name);
  read_timeouts(L, nt, n);
  read_composition(L, nt, n);
}

/* The DSL's NAME_PATTERN, ^[a-z_][a-z0-9_]*$: names go into Graphviz ids,
 * task names and URLs unescaped. */
static int is_node_name(const char *s) {
  if (!(*s == '_' || (*s >= 'a' && *s <= 'z'))) return 0;
  for (; *s; s++)
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))) return 0;
  return 1;
}

static void read_node(lua_State *L, int nt, fd_node *n) {
  n->name = opt_string(L, nt, "name");
  if (!n->name) luaL_error(L, "compiled flow: a node without a name");
  if (!is_node_name(n->name)) luaL_error(L, "compiled flow: bad node name '%s'", n->name);
  char *kind = opt_string(L, nt, "kind");
  int k = kind ? kind_from_name(kind) : -1;
  free(kind);
  if (k < 0) luaL_error(L, "compiled flow: node '%s' has an unknown kind", n->name);
  n->kind = (node_kind)k;
  n->title = opt_string(L, nt, "title");
  n->description = opt_string(L, nt, "description");
  n->line = (int)opt_number(L, nt, "line", 0);
  n->has_fn = has_function(L, nt, "fn");
  n->has_validate = has_function(L, nt, "validate");
  n->permission = opt_string(L, nt, "permission");
  n->permission_fn = has_function(L, nt, "permission_fn");
  if ((n->assign_value = opt_string(L, nt, "assign_user"))) n->assign = ASSIGN_USER;
  else if ((n->assign_value = opt_string(L, nt, "assign_owner_of"))) n->assign = ASSIGN_OWNER_OF;
  else if (has_function(L, nt, "assign_fn")) n->assign = ASSIGN_FN;
  n->timeout = opt_number(L, nt, "timeout", 0);
  n->seconds = opt_number(L, nt, "seconds", -1);
  lua_getfield(L, nt, "wait_all");
  n->wait_all = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  read_events(L, nt, n);
  lua_getfield(L, nt, "retry");
  if (lua_type(L, -1) == LUA_TTABLE) {
    n->retry_attempts = (int)opt_number(L, lua_gettop(L), "attempts", 0);
    n->retry_backoff = opt_number(L, lua_gettop(L), "backoff", 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, nt, "fields");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int count = list_length(L, "the field list", n->name);
    n->fields = calloc(count ? count : 1, sizeof *n->fields);
    if (!n->fields) luaL_error(L, "out of memory");
    for (int i = 1; i <= count; i++) {
      lua_rawgeti(L, -1, i);
      if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "compiled flow: bad field list of '%s'", n->name);
      n->fields[n->nfields++] = strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  read_edges(L, nt, n);
}

/* lua_CFunction: (lightuserdata flowdef*, def table) -> nothing */
static int extract(lua_State *L) {
  flowdef *fd = lua_touserdata(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  fd->title = opt_string(L, 2, "title");
  fd->description = opt_string(L, 2, "description");
  char *lock = opt_string(L, 2, "lock");
  fd->lock_process = !lock || strcmp(lock, "none") != 0;
  free(lock);
  fd->has_summary = has_function(L, 2, "summary");
  char *version = opt_string(L, 2, "version");
  fd->pin = version && !strcmp(version, "pin");
  free(version);
  char *history = opt_string(L, 2, "history");
  fd->history_lean = history && !strcmp(history, "lean");
  free(history);

  lua_getfield(L, 2, "fields");
  json_t *fields = NULL;
  fherr err = {0};
  if (lua_type(L, -1) == LUA_TTABLE && lua_rawlen(L, -1) == 0) fields = json_array();
  else if (luavm_to_json(L, -1, &fields, &err) || !json_is_array(fields)) {
    json_decref(fields);
    fherr_clear(&err);
    return luaL_error(L, "compiled flow: 'fields' must be an array of field schemas");
  }
  fd->fields = fields;
  lua_pop(L, 1);
  /* flowdef_field() and the forms read each schema's name. */
  size_t k;
  json_t *f;
  json_array_foreach(fields, k, f) {
    if (!json_is_string(json_object_get(f, "name")))
      return luaL_error(L, "compiled flow: field schema %d has no name", (int)k + 1);
  }

  lua_getfield(L, 2, "nodes");
  if (lua_type(L, -1) != LUA_TTABLE) return luaL_error(L, "compiled flow: 'nodes' missing");
  int count = list_length(L, "the node list", fd->name);
  fd->nodes = calloc(count ? count : 1, sizeof *fd->nodes);
  if (!fd->nodes) return luaL_error(L, "out of memory");
  for (int i = 1; i <= count; i++) {
    lua_rawgeti(L, -1, i);
    if (lua_type(L, -1) != LUA_TTABLE) return luaL_error(L, "compiled flow: node %d is not a table", i);
    fd->nnodes++;
    read_node(L, lua_gettop(L), &fd->nodes[i - 1]);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  /* Resolve edges to indexes; the DSL already checked them, so a miss here
   * means the compiled table was tampered with. */
  for (int i = 0; i < fd->nnodes; i++) {
    fd_node *n = &fd->nodes[i];
    if (!n->title) n->title = strdup(n->name);
    for (int j = 0; j < n->nedges; j++) {
      n->edges[j].to_index = flowdef_node_index(fd, n->edges[j].to);
      if (n->edges[j].to_index < 0)
        return luaL_error(L, "compiled flow: node '%s' points to unknown node '%s'", n->name, n->edges[j].to);
    }
    for (int j = 0; j < n->ntimeouts; j++) {
      n->timeouts[j].to_index = flowdef_node_index(fd, n->timeouts[j].to);
      if (n->timeouts[j].to_index < 0)
        return luaL_error(L, "compiled flow: a timeout of '%s' points to unknown node '%s'", n->name, n->timeouts[j].to);
    }
    if (n->while_node && flowdef_node_index(fd, n->while_node) < 0)
      return luaL_error(L, "compiled flow: :While of '%s' names unknown node '%s'", n->name, n->while_node);
    if (n->region) {
      n->region_index = flowdef_node_index(fd, n->region);
      if (n->region_index < 0 || fd->nodes[n->region_index].kind != NODE_SPLIT)
        return luaL_error(L, "compiled flow: Cancel '%s' names '%s', which is not a Split", n->name, n->region);
      fd->nodes[n->region_index].cancel_target = 1;
    }
  }
  return 0;
}

/* Sets registry[REGISTRY_KEY][flow] to the value on top (popped). */
static void set_entry(lua_State *L, const char *flow) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  }
  lua_insert(L, -2);
  lua_setfield(L, -2, flow);
  lua_pop(L, 1);
}

int flowdef_load(luavm *vm, const char *name, const char *path, const char *source, size_t len,
                 flowdef **out, fherr *err) {
  lua_State *L = luavm_state(vm);
  if (out) *out = NULL;
  char chunkname[512];
  snprintf(chunkname, sizeof chunkname, "@%s", path);
  int rc = luavm_load(vm, source, len, chunkname, err);
  if (rc) return rc;
  /* Each flow file gets its own globals (falling back to the shared ones),
   * so two flows that both set a global do not see each other's. */
  lua_newtable(L);
  lua_newtable(L);
  lua_pushglobaltable(L);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  if ((rc = luavm_pcall(vm, 0, 1, err))) return rc;
  int is_def = 0;
  if (lua_type(L, -1) == LUA_TTABLE) {
    raw_field(L, -1, "__flowdef");   /* unprotected here: no metamethod may run */
    is_def = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (!is_def) {
    lua_pop(L, 1);
    fherr_set(err, FH_FLOW_ERROR, "%s: the file must return flow.Flow { ... }", path);
    snprintf(err->file, sizeof err->file, "%s", path);
    err->line = 1;
    return FH_FLOW_ERROR;
  }
  int def = lua_gettop(L);
  if (out) {
    flowdef *fd = calloc(1, sizeof *fd);
    if (!fd || !(fd->name = strdup(name))) {
      free(fd);
      lua_pop(L, 1);
      return fherr_set(err, FH_INTERNAL, "out of memory");
    }
    lua_pushcfunction(L, extract);
    lua_pushlightuserdata(L, fd);
    lua_pushvalue(L, def);
    if ((rc = luavm_pcall(vm, 2, 0, err))) {
      flowdef_free(fd);
      lua_pop(L, 1);
      if (err && !err->file[0]) snprintf(err->file, sizeof err->file, "%s", path);
      return rc;
    }
    if (!fd->title) fd->title = strdup(name);
    *out = fd;
  }
  set_entry(L, name);   /* registry[REGISTRY_KEY][name] = def (popped) */
  return FH_OK;
}

/* These lookups run outside any protected call.  They read the compiled
 * table raw, so a metamethod set on it by the flow's own code never runs
 * (it could raise or loop); they cannot raise except on memory exhaustion,
 * which the allocator limit keeps away from these small reads. */
void flowdef_forget(luavm *vm, const char *flow) {
  lua_State *L = luavm_state(vm);
  lua_pushnil(L);
  set_entry(L, flow);   /* its next lookup loads it again */
}

static int lookup(lua_State *L, const char *flow) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  int t = raw_field(L, -1, flow);
  lua_remove(L, -2);
  return t;
}

int flowdef_is_loaded(luavm *vm, const char *flow) {
  lua_State *L = luavm_state(vm);
  int loaded = lookup(L, flow) == LUA_TTABLE;
  lua_pop(L, 1);
  return loaded;
}

int flowdef_push_def(lua_State *L, const char *flow) {
  int t = lookup(L, flow);
  if (t == LUA_TTABLE) return t;
  lua_pop(L, 1);
  /* not in this state yet: an engine's state loads each flow on first use
   * (false until the load replaces it: asked once) */
  if (t == LUA_TNIL && luavm_has_flow_loader(L)) {
    lua_pushboolean(L, 0);
    set_entry(L, flow);
    if (luavm_load_missing_flow(L, flow)) return lookup(L, flow);
  }
  lua_pushnil(L);
  return LUA_TNIL;
}

int flowdef_push_callback(lua_State *L, const char *flow, const char *node, const char *key) {
  if (flowdef_push_def(L, flow) != LUA_TTABLE) return LUA_TNIL;
  int base = lua_gettop(L) - 1;
  if (raw_field(L, -1, "by_name") != LUA_TTABLE || raw_field(L, -1, node) != LUA_TTABLE) {
    lua_settop(L, base);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  int t = raw_field(L, -1, key);
  lua_replace(L, -4);
  lua_pop(L, 2);
  return t;
}

void flowdef_push_self(lua_State *L, const char *flow) {
  if (flowdef_push_def(L, flow) != LUA_TTABLE) return;
  raw_field(L, -1, "self");
  lua_remove(L, -2);
}

void flowdef_push_edge_cond(lua_State *L, const char *flow, const char *node, int i) {
  if (flowdef_push_callback(L, flow, node, "edges") != LUA_TTABLE) return;
  if (lua_rawgeti(L, -1, i + 1) != LUA_TTABLE) {
    lua_pop(L, 2);
    lua_pushnil(L);
    return;
  }
  raw_field(L, -1, "cond");
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* --- outputs ------------------------------------------------------------ */

/* Seconds, or null when a function decides. */
static json_t *seconds_json(double s) { return s >= 0 ? json_real(s) : json_null(); }

/* The event model's settings, only where they are set. */
static void node_events_json(const fd_node *n, json_t *node) {
  if ((n->kind == NODE_RECEIVE || n->kind == NODE_EXTERNAL) && n->nfields) {
    json_t *f = json_array();
    for (int j = 0; j < n->nfields; j++) json_array_append_new(f, json_string(n->fields[j]));
    json_object_set_new(node, "fields", f);
  }
  if (n->kind == NODE_JOIN) {
    json_object_set_new(node, "wait", json_integer(n->wait ? n->wait : (n->wait_all ? 0 : 1)));
    json_object_set_new(node, "cancel_rest", json_boolean(n->cancel_rest));
    json_object_set_new(node, "block", json_boolean(n->block));
  }
  if (n->terminate) json_object_set_new(node, "terminate", json_true());
  if (n->first) json_object_set_new(node, "first", json_true());
  if (n->message) json_object_set_new(node, "message", json_string(n->message));
  if (n->signal) json_object_set_new(node, "signal", json_string(n->signal));
  if (n->key_value) json_object_set_new(node, "key", json_string(n->key_value));
  if (n->transient) json_object_set_new(node, "transient", json_true());
  if (n->comment_required) json_object_set_new(node, "comment", json_string("required"));
  if (n->region) json_object_set_new(node, "region", json_string(n->region));
  if (n->has_due) json_object_set_new(node, "due", seconds_json(n->due_seconds));
  if (n->priority) json_object_set_new(node, "priority", json_string(node_priority_name(n->priority)));
  if (n->lock_name) json_object_set_new(node, "lock", json_string(n->lock_name));
  if (n->while_node) json_object_set_new(node, "while", json_string(n->while_node));
  if (n->topic) json_object_set_new(node, "topic", json_string(n->topic));
  if (n->subflow) {
    json_object_set_new(node, "subflow", json_string(n->subflow));
    json_object_set_new(node, "start", json_string(n->sub_start));
  }
  if (n->foreach) {
    json_t *fe = json_pack("{s:b, s:b}", "parallel", n->foreach_parallel, "cancel_rest", n->foreach_cancel_rest);
    if (n->foreach_field) json_object_set_new(fe, "field", json_string(n->foreach_field));
    if (n->complete_count) json_object_set_new(fe, "complete", json_integer(n->complete_count));
    else if (n->has_complete_fn) json_object_set_new(fe, "complete", json_string("function"));
    json_object_set_new(node, "foreach", fe);
  }
  if (n->ntimeouts) {
    json_t *list = json_array();
    for (int j = 0; j < n->ntimeouts; j++)
      json_array_append_new(list, json_pack("{s:s, s:o, s:b}", "to", n->timeouts[j].to, "seconds",
                                            seconds_json(n->timeouts[j].seconds), "interrupting",
                                            n->timeouts[j].interrupting));
    json_object_set_new(node, "timeouts", list);
  }
}

json_t *flowdef_to_json(const flowdef *fd) {
  json_t *nodes = json_array(), *edges = json_array();
  for (int i = 0; i < fd->nnodes; i++) {
    const fd_node *n = &fd->nodes[i];
    json_t *node = json_pack("{s:s, s:s, s:s}", "name", n->name, "type", node_kind_name(n->kind), "title",
                             n->title);
    if (n->description) json_object_set_new(node, "description", json_string(n->description));
    if (node_kind_is_human(n->kind)) {
      json_t *f = json_array();
      for (int j = 0; j < n->nfields; j++) json_array_append_new(f, json_string(n->fields[j]));
      json_object_set_new(node, "fields", f);
    }
    if (n->permission) json_object_set_new(node, "permission", json_string(n->permission));
    json_object_set_new(node, "line", json_integer(n->line));
    node_events_json(n, node);
    json_array_append_new(nodes, node);
    for (int j = 0; j < n->nedges; j++)
      json_array_append_new(edges, json_pack("{s:s, s:s, s:s}", "from", n->name, "to", n->edges[j].to,
                                             "kind", edge_kind_name(n->edges[j].kind)));
    for (int j = 0; j < n->ntimeouts; j++)
      json_array_append_new(edges, json_pack("{s:s, s:s, s:s, s:b}", "from", n->name, "to", n->timeouts[j].to,
                                             "kind", "timeout", "interrupting", n->timeouts[j].interrupting));
  }
  /* the fields copied, not referenced: the definition is shared by every
   * thread's engine, and a reference writes its count */
  json_t *out = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "name", fd->name, "title", fd->title, "fields",
                          json_deep_copy(fd->fields), "nodes", nodes, "edges", edges, "lock",
                          fd->lock_process ? "process" : "none");
  if (fd->description) json_object_set_new(out, "description", json_string(fd->description));
  json_object_set_new(out, "version", json_string(fd->pin ? "pin" : "follow"));
  json_object_set_new(out, "history", json_string(fd->history_lean ? "lean" : "full"));
  return out;
}

/* Appends to a growing buffer; on allocation failure the buffer is dropped
 * and every later append is a no-op, so the caller checks once at the end. */
typedef struct sbuf {
  char *s;
  size_t len, cap;
  int failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  if (b->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = 1;
      return;
    }
    if (b->s && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (cap < b->len + (size_t)n + 1) cap *= 2;
    char *grown = realloc(b->s, cap);
    if (!grown) {
      free(b->s);
      b->s = NULL;
      b->failed = 1;
      return;
    }
    b->s = grown;
    b->cap = cap;
  }
}

/* Escapes a label for a dot double-quoted string. */
static void sb_quoted(sbuf *b, const char *s) {
  sb_printf(b, "\"");
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') sb_printf(b, "\\%c", *s);
    else if (*s == '\n') sb_printf(b, "\\n");
    else sb_printf(b, "%c", *s);
  }
  sb_printf(b, "\"");
}

/* Shapes in the BPMN tradition: events are circles (start thin, end thick,
 * timers and messages double), gateways diamonds with their marker, tasks
 * rounded boxes.  The kind is also the node's class, so the web UI adds the
 * small icons BPMN draws inside (person, gear, clock, envelope). */
static const char *dot_shape(node_kind k) {
  switch (k) {
  case NODE_START: case NODE_START_FUNCTION:
    return "shape=circle, width=0.42, fixedsize=true, fontsize=12, label=\"\", penwidth=1.2, style=filled, fillcolor=\"#e8f5e9\"";
  case NODE_END: return "shape=circle, width=0.42, fixedsize=true, fontsize=12, label=\"\", penwidth=3.5, style=filled, fillcolor=\"#ffebee\"";
  case NODE_TIMER: return "shape=doublecircle, width=0.42, fixedsize=true, fontsize=12, label=\"\", style=filled, fillcolor=\"#fffde7\"";
  case NODE_RECEIVE: return "shape=doublecircle, width=0.42, fixedsize=true, fontsize=12, label=\"\", style=filled, fillcolor=\"#fff8e1\"";
  case NODE_SEND: return "shape=doublecircle, width=0.42, fixedsize=true, fontsize=12, label=\"\", style=filled, fillcolor=\"#ffe0b2\"";
  case NODE_IF: case NODE_SWITCH:
    return "shape=diamond, width=0.6, height=0.6, fixedsize=true, fontsize=12, label=<<font point-size=\"20\">×</font>>, style=filled, fillcolor=\"#fffde7\"";
  case NODE_SPLIT: case NODE_JOIN:
    return "shape=diamond, width=0.6, height=0.6, fixedsize=true, fontsize=12, label=<<font point-size=\"22\">+</font>>, style=filled, fillcolor=\"#fffde7\"";
  case NODE_OBSOLETE: return "shape=box, style=\"rounded,dashed\"";
  case NODE_CANCEL: return "shape=octagon, style=filled, fillcolor=\"#ffebee\"";
  case NODE_LOCK: case NODE_UNLOCK: return "shape=box, style=\"rounded,filled,dashed\", fillcolor=\"#eceff1\"";
  case NODE_EXTERNAL: return "shape=box, style=\"rounded,filled,dashed\", fillcolor=\"#e8eaf6\"";
  case NODE_SUBPROCESS: return "shape=box, style=\"rounded,filled,bold\", fillcolor=\"#e3f2fd\"";
  case NODE_JOB: return "shape=box, style=\"rounded,filled\", fillcolor=\"#f3e5f5\"";
  case NODE_HANDLER: case NODE_FUNCTION: return "shape=box, style=\"rounded,filled\", fillcolor=\"#eef4fb\"";
  default: return "shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"";
  }
}

/* Events and gateways are small fixed shapes: their title goes beside them
 * (an xlabel, which Graphviz places clear of nodes and edge labels). */
static int dot_titled_outside(node_kind k) {
  return strstr(dot_shape(k), "label=") != NULL && k != NODE_OBSOLETE;
}

/* A conditional branch is labelled by its condition: "is_big" -> "Is big?". */
static void dot_cond_label(sbuf *b, const fd_edge *e) {
  char text[140];
  if (!e->cond_name) {
    snprintf(text, sizeof text, "condition");
  } else {
    snprintf(text, sizeof text, "%s?", e->cond_name);
    for (char *c = text; *c; c++)
      if (*c == '_') *c = ' ';
    if (text[0] >= 'a' && text[0] <= 'z') text[0] = (char)(text[0] - 'a' + 'A');
  }
  sb_printf(b, ", label=");
  sb_quoted(b, text);
}

static void dot_node(sbuf *b, const fd_node *n) {
  sb_printf(b, "  ");
  sb_quoted(b, n->name);
  sb_printf(b, " [id=\"node-%s\", class=\"kind-%s\", tooltip=", n->name, node_kind_name(n->kind));
  sb_quoted(b, n->title);
  sb_printf(b, ", %s", dot_shape(n->kind));
  if (!dot_titled_outside(n->kind)) {
    sb_printf(b, ", label=");
    char label[400];
    /* a multi-instance node: three bars under its title, as BPMN draws it */
    snprintf(label, sizeof label, "%s%s", n->title,
             !n->foreach ? "" : n->foreach_parallel ? "\n|||" : "\n||| (in turn)");
    sb_quoted(b, label);
  } else {
    sb_printf(b, ", xlabel=");
    sb_quoted(b, n->title);
  }
  sb_printf(b, "];\n");
}

/* A timeout's delay in the unit people read: "90 s", "15 min", "3 h", "7 days". */
static void dot_delay(char *out, size_t size, double seconds) {
  if (seconds >= 86400 && fmod(seconds, 86400) == 0) snprintf(out, size, "%g day%s", seconds / 86400, seconds == 86400 ? "" : "s");
  else if (seconds >= 3600 && fmod(seconds, 3600) == 0) snprintf(out, size, "%g h", seconds / 3600);
  else if (seconds >= 60 && fmod(seconds, 60) == 0) snprintf(out, size, "%g min", seconds / 60);
  else snprintf(out, size, "%g s", seconds);
}

static void dot_edges(sbuf *b, const fd_node *n) {
  for (int j = 0; j < n->nedges; j++) {
    const fd_edge *e = &n->edges[j];
    sb_printf(b, "  ");
    sb_quoted(b, n->name);
    sb_printf(b, " -> ");
    sb_quoted(b, e->to);
    sb_printf(b, " [id=\"edge-%s-%s\"", n->name, e->to);
    if (e->kind == EDGE_TRUE) sb_printf(b, ", label=\"yes\"");
    else if (e->kind == EDGE_FALSE) sb_printf(b, ", label=\"no\"");
    else if (e->kind == EDGE_DEFAULT) sb_printf(b, ", label=\"default\"");
    else if (e->has_cond) dot_cond_label(b, e);
    sb_printf(b, "];\n");
  }
  for (int j = 0; j < n->ntimeouts; j++) {
    const fd_timeout *t = &n->timeouts[j];
    sb_printf(b, "  ");
    sb_quoted(b, n->name);
    sb_printf(b, " -> ");
    sb_quoted(b, t->to);
    sb_printf(b, " [id=\"timeout-%s-%d\", class=\"timeout\", style=dashed, label=", n->name, j + 1);
    char label[96], delay[48];
    dot_delay(delay, sizeof delay, t->seconds);
    if (t->seconds >= 0) snprintf(label, sizeof label, "after %s%s", delay, t->interrupting ? "" : " (non-interrupting)");
    else snprintf(label, sizeof label, "timeout%s", t->interrupting ? "" : " (non-interrupting)");
    sb_quoted(b, label);
    sb_printf(b, "];\n");
  }
}

/* Text of 13/12 points stays readable when the UI fits the chart to width
 * (it never scales below 12 px); forcelabels keeps every title. */
char *flowdef_to_dot(const flowdef *fd) {
  sbuf b = {0};
  sb_printf(&b, "digraph ");
  sb_quoted(&b, fd->name);
  sb_printf(&b, " {\n  rankdir=TB; forcelabels=true; nodesep=0.4; ranksep=0.45; pad=0.2;\n"
                "  node [fontname=\"Helvetica\", fontsize=13, margin=\"0.32,0.1\"];\n"
                "  edge [fontname=\"Helvetica\", fontsize=12, color=\"#546e7a\", arrowsize=0.8];\n");
  for (int i = 0; i < fd->nnodes; i++) dot_node(&b, &fd->nodes[i]);
  for (int i = 0; i < fd->nnodes; i++) dot_edges(&b, &fd->nodes[i]);
  sb_printf(&b, "}\n");
  if (b.failed) return NULL;
  return b.s;
}
