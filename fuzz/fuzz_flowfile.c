/* fuzz_flowfile — arbitrary bytes as a flow file.
 *
 * The input runs as a flow file in a fresh luavm with a small time budget
 * and memory limit, through flowdef_load() (the DSL's checks in
 * lua/flow.lua, then flowdef.c's own checks of the compiled table).  A flow
 * that loads is also turned into JSON and Graphviz source, and its fields
 * are looked up, as the API does.  Errors, budget and memory errors
 * included, are the expected outcome; a crash, a sanitizer report, a leak
 * or a hang is a bug.
 *
 * Flow files are trusted code with the whole standard library, so before
 * the input runs the state is fenced in: nothing that exits, writes or
 * deletes files, reads stdin, changes the locale or removes the budget hook,
 * and `load` takes text only (Lua does not verify bytecode).  io.open still
 * reads the input's own file, so the DSL's line hints are exercised.
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "luaside.h"
#include "flowdef.h"
#include "luavm.h"

static const char SANDBOX[] =
    "local file, lua_dir = ...\n"
    "local open = io.open\n"
    "io = { open = function(name, mode)\n"
    "  if name == file and (mode == nil or mode == 'r') then return open(name, 'r') end\n"
    "  return nil, tostring(name) .. ': not open to the fuzzer'\n"
    "end }\n"
    "package.loaded.io = io\n"
    "os.exit, os.execute, os.remove, os.rename, os.tmpname, os.setlocale = nil\n"
    "dofile, loadfile, debug.sethook, debug.debug = nil\n"
    "package.loadlib, package.cpath, package.path = nil, '', lua_dir .. '/?.lua'\n"
    "local load, pack, unpack = load, table.pack, table.unpack\n"
    "_G.load = function(...)\n"
    "  local args = pack(...)\n"
    "  args[3] = 't'\n"
    "  return load(unpack(args, 1, math.max(args.n, 3)))\n"
    "end\n";

#ifdef FUZZ_LUA_COVERAGE
/* Coverage of the Lua lines run (lua/flow.lua and the input itself), for the
 * libFuzzer build only: liblua is not instrumented, so without this the
 * fuzzer sees only the C side.  Every hook the host sets (the luavm budget
 * hook) is wrapped in one that also counts lines into libFuzzer's extra
 * counters; the host's hook still gets the events it asked for. */
#include <dlfcn.h>

__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t lua_lines[1 << 16];
static lua_Hook host_hook;
static int host_mask;

static void coverage_hook(lua_State *L, lua_Debug *ar) {
  if (ar->event == LUA_HOOKLINE) {
    lua_getinfo(L, "S", ar);
    uint32_t h = 2166136261u;
    for (int i = 0; i < 48 && ar->source[i]; i++) h = (h ^ (uint8_t)ar->source[i]) * 16777619u;
    h = (h ^ (uint32_t)ar->currentline) * 16777619u;
    lua_lines[(h ^ (h >> 16)) & (sizeof lua_lines - 1)]++;
    if (!(host_mask & LUA_MASKLINE)) return;
  }
  if (host_hook) host_hook(L, ar);
}

void lua_sethook(lua_State *L, lua_Hook f, int mask, int count) {
  static void (*real)(lua_State *, lua_Hook, int, int);
  if (!real) *(void **)&real = dlsym(RTLD_NEXT, "lua_sethook");
  host_hook = f;
  host_mask = mask;
  if (!f || !mask) real(L, NULL, 0, 0);
  else real(L, coverage_hook, mask | LUA_MASKLINE, count);
}
#endif

static char path[64];

static void remove_input(void) { unlink(path); }

/* The flow's file on disk, so the DSL can read lines back for its hints. */
static int write_input(const uint8_t *data, size_t size) {
  if (!path[0]) {
    snprintf(path, sizeof path, "/tmp/fuzz_flowfile-%d.lua", (int)getpid());
    atexit(remove_input);
  }
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t put = fwrite(data, 1, size, f);
  return fclose(f) == 0 && put == size ? 0 : -1;
}

/* What an engine does with a flow that passed validation: it runs the file
 * again in its own state, without extraction (flowgen_load_into), then
 * looks callbacks up outside any protected call. */
static void use_in_engine(luavm *vm, const flowdef *fd, const uint8_t *data, size_t size) {
  static const char *const KEYS[] = {"fn", "validate", "permission_fn", "assign_fn", "edges", "nope"};
  lua_State *L = luavm_state(vm);
  fherr err = {0};
  int rc = flowdef_load(vm, "engine", path, (const char *)data, size, NULL, &err);
  fherr_clear(&err);
  if (rc) return;
  int top = lua_gettop(L);
  flowdef_push_self(L, "engine");
  for (int i = 0; i < fd->nnodes; i++) {
    for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++) flowdef_push_callback(L, "engine", fd->nodes[i].name, KEYS[k]);
    for (int j = 0; j <= fd->nodes[i].nedges; j++) flowdef_push_edge_cond(L, "engine", fd->nodes[i].name, j);
    lua_settop(L, top);
  }
  lua_settop(L, top);
}

static void use_def(const flowdef *fd) {
  json_t *j = flowdef_to_json(fd);
  char *text = json_dumps(j, JSON_COMPACT);
  free(text);
  json_decref(j);
  free(flowdef_to_dot(fd));
  for (int i = 0; i < fd->nnodes; i++) {
    const fd_node *n = &fd->nodes[i];
    if (flowdef_node(fd, n->name) == NULL) abort();   /* every node finds itself */
    if (strspn(n->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(n->name)) abort();   /* safe in ids */
    for (int j = 0; j < n->nfields; j++) (void)flowdef_field(fd, n->fields[j]);
    for (int k = 0; k < n->nedges; k++)
      if (n->edges[k].to_index < 0 || n->edges[k].to_index >= fd->nnodes) abort();
  }
  (void)flowdef_field(fd, "no_such_field");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (write_input(data, size)) return 0;
  luavm_options opt = {.flows_dir = "/nonexistent", .budget_seconds = 0.25, .memory_limit = (size_t)48 << 20};
  fherr err = {0};
  luavm *vm = luavm_new(&opt, &err);
  if (!vm) abort();
  lua_State *L = luavm_state(vm);
  if (luavm_load(vm, SANDBOX, sizeof SANDBOX - 1, "=sandbox", &err)) abort();
  lua_pushstring(L, path);
  lua_pushstring(L, luavm_default_lua_dir());
  if (luavm_pcall(vm, 2, 0, &err)) abort();

  flowdef *fd = NULL;
  if (flowdef_load(vm, "fuzz", path, (const char *)data, size, &fd, &err) == FH_OK) {
    if (!fd) abort();
    use_def(fd);
    use_in_engine(vm, fd, data, size);
  } else if (fd || !err.code || !err.message[0]) {
    abort();   /* a failure always says why, and returns no definition */
  }
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s\n", fd ? "loaded" : err.message);
  /* An error the DSL attributes to itself rather than to the flow file is
   * worth a look (FUZZ_DSL_ERRORS=1 lists them; not every one is a bug:
   * the input may call the DSL's internals with nonsense). */
  if (!fd && getenv("FUZZ_DSL_ERRORS") && strstr(err.file, "flow.lua"))
    fprintf(stderr, "DSL error: %s\n", err.message);
  flowdef_free(fd);
  fherr_clear(&err);
  if (lua_gettop(L) != 0) abort();   /* the gateway leaves the stack as it was */
  luavm_free(vm);
  return 0;
}
