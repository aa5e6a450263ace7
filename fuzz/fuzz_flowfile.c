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

static void use_def(const flowdef *fd) {
  json_t *j = flowdef_to_json(fd);
  char *text = json_dumps(j, JSON_COMPACT);
  free(text);
  json_decref(j);
  free(flowdef_to_dot(fd));
  for (int i = 0; i < fd->nnodes; i++) {
    const fd_node *n = &fd->nodes[i];
    if (flowdef_node(fd, n->name) == NULL) abort();   /* every node finds itself */
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
  } else if (fd || !err.code || !err.message[0]) {
    abort();   /* a failure always says why, and returns no definition */
  }
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s\n", fd ? "loaded" : err.message);
  flowdef_free(fd);
  fherr_clear(&err);
  if (lua_gettop(L) != 0) abort();   /* the gateway leaves the stack as it was */
  luavm_free(vm);
  return 0;
}
