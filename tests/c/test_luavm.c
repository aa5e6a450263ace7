/* Unit tests of the Lua gateway: errors with location and traceback, the
 * time budget that pcall cannot swallow, the memory limit stepped up until
 * a flow loads, JSON <-> Lua round trips; the pool of a state's small
 * blocks. */
#include <lauxlib.h>
#include <stdlib.h>

#include "luaside.h"
#include "flowdef.h"
#include "luapool.h"
#include "luavm.h"
#include "test.h"

static luavm *vm_new(size_t limit, double budget) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  static char lua[512], flows[512];
  snprintf(lua, sizeof lua, "%s/lua", src);
  snprintf(flows, sizeof flows, "%s/flows", src);
  luavm_options opt = {.lua_dir = lua, .flows_dir = flows, .memory_limit = limit, .budget_seconds = budget};
  return luavm_new(&opt, NULL);
}

static int run_chunk(luavm *vm, const char *code, fherr *err) {
  int rc = luavm_load(vm, code, strlen(code), "=test", err);
  return rc ? rc : luavm_pcall(vm, 0, 0, err);
}

static int test_error_location(void) {
  luavm *vm = vm_new(0, 1);
  CHECK(vm);
  fherr err = {0};
  CHECK(run_chunk(vm, "local x = nil\nreturn x.y", &err) == FH_FLOW_ERROR);
  CHECK(strstr(err.message, "attempt to index"));
  CHECK_STR(err.file, "test");
  CHECK(err.line == 2);
  CHECK(err.traceback && strstr(err.traceback, "stack traceback"));
  fherr_clear(&err);
  CHECK(run_chunk(vm, "error({message = 'bad thing', file = 'f.lua', line = 7})", &err) == FH_FLOW_ERROR);
  CHECK_STR(err.message, "f.lua:7: bad thing");
  CHECK(err.line == 7);
  fherr_clear(&err);
  CHECK(run_chunk(vm, "error(setmetatable({}, {}))", &err) == FH_FLOW_ERROR);
  CHECK(strstr(err.message, "without message"));
  fherr_clear(&err);
  CHECK(luavm_load(vm, "return (", 8, "=broken", &err) == FH_FLOW_ERROR);
  CHECK(err.line == 1);
  fherr_clear(&err);
  CHECK(lua_gettop(luavm_state(vm)) == 0);   /* nothing left behind */
  luavm_free(vm);
  return 0;
}

static int test_budget(void) {
  luavm *vm = vm_new(0, 0.2);
  fherr err = {0};
  /* a loop that tries to swallow the budget error with pcall */
  CHECK(run_chunk(vm, "while true do pcall(function() while true do end end) end", &err) == FH_FLOW_ERROR);
  CHECK(strstr(err.message, "time budget"));
  fherr_clear(&err);
  /* the state is usable afterwards, with a fresh budget */
  CHECK(run_chunk(vm, "local s = 0 for i = 1, 1000 do s = s + i end", &err) == FH_OK);
  /* a cap lowers the budget, never raises it, and gives back the one to restore */
  CHECK(luavm_cap_budget(vm, 5.0) == 0.2);
  CHECK(luavm_set_budget(vm, 0.2) == 0.2);
  CHECK(luavm_cap_budget(vm, 0.05) == 0.2);
  CHECK(run_chunk(vm, "while true do end", &err) == FH_FLOW_ERROR);
  CHECK(strstr(err.message, "time budget of 0.05 s"));
  fherr_clear(&err);
  CHECK(luavm_set_budget(vm, 0.2) == 0.05);
  luavm_free(vm);
  return 0;
}

static int test_memory_limit_steps(void) {
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char path[512];
  snprintf(path, sizeof path, "%s/flows/shipment.lua", src);
  FILE *f = fopen(path, "rb");
  CHECK(f);
  static char code[1 << 16];
  size_t len = fread(code, 1, sizeof code - 1, f);
  fclose(f);
  int failures = 0, loaded = 0;
  for (size_t limit = 32 << 10; limit < (64 << 20) && !loaded; limit += 24 << 10) {
    luavm *vm = vm_new(limit, 1);
    if (!vm) {
      failures++;
      continue;
    }
    fherr err = {0};
    flowdef *fd = NULL;
    int rc = flowdef_load(vm, "shipment", path, code, len, &fd, &err);
    if (rc == FH_OK) {
      loaded = 1;
      CHECK(fd && fd->nnodes > 5);
    } else {
      CHECK(rc == FH_FLOW_ERROR || rc == FH_INTERNAL);
      CHECK(err.message[0]);
      failures++;
    }
    flowdef_free(fd);
    fherr_clear(&err);
    luavm_free(vm);
  }
  CHECK(loaded);
  CHECK(failures > 0);   /* the small limits really failed, cleanly */
  return 0;
}

static int test_json_round_trip(void) {
  luavm *vm = vm_new(0, 1);
  lua_State *L = luavm_state(vm);
  json_t *in = json_loads("{\"s\":\"x\",\"i\":3,\"f\":1.5,\"b\":false,\"a\":[1,2,{\"k\":\"v\"}],\"o\":{},\"n\":null}", 0, NULL);
  CHECK(in);
  luavm_push_json(L, in);
  json_t *out = NULL;
  fherr err = {0};
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_OK);
  json_object_del(in, "n");   /* null becomes an absent key */
  CHECK(json_equal(in, out));
  json_decref(out);
  lua_pop(L, 1);
  /* functions and cycles are refused, not crashed on */
  CHECK(luaL_dostring(L, "local t = {} t.self = t return t") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "return {f = print}") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "return {[true] = 1}") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  CHECK(luaL_dostring(L, "return 0/0") == 0);
  CHECK(luavm_to_json(L, -1, &out, &err) == FH_FLOW_ERROR);
  fherr_clear(&err);
  lua_pop(L, 1);
  json_decref(in);
  luavm_free(vm);
  return 0;
}

/* Fills a block with a pattern of its own. */
static void fill(unsigned char *b, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed * 31 + i);
}

static int holds(const unsigned char *b, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    if (b[i] != (unsigned char)(seed * 31 + i)) return 0;
  return 1;
}

/* The pool: a freed block is handed out again for its size class only;
 * blocks in use never overlap; a resize keeps the contents (within a class
 * in place, across classes and to and from malloc'd sizes by copying);
 * freeing everything keeps the chunks for reuse, not more. */
static int test_pool(void) {
  luapool *p = luapool_new();
  CHECK(p);
  enum { N = 3000 };
  static unsigned char *blocks[N];
  static size_t sizes[N];
  for (int i = 0; i < N; i++) {
    sizes[i] = 1 + (size_t)(i * 7919) % (LUAPOOL_MAX + 200);   /* some above LUAPOOL_MAX */
    CHECK((blocks[i] = luapool_realloc(p, NULL, 0, sizes[i])));
    CHECK(((uintptr_t)blocks[i] & 15) == 0 || sizes[i] > LUAPOOL_MAX);
    fill(blocks[i], sizes[i], (unsigned)i);
  }
  for (int i = 0; i < N; i++) CHECK(holds(blocks[i], sizes[i], (unsigned)i));   /* no overlap */
  size_t chunks = luapool_chunk_bytes(p);
  CHECK(chunks > 0);
  /* free every other block, then take the same sizes again: same chunks */
  for (int i = 0; i < N; i += 2) CHECK(luapool_realloc(p, blocks[i], sizes[i], 0) == NULL);
  for (int i = 0; i < N; i += 2) {
    CHECK((blocks[i] = luapool_realloc(p, NULL, 0, sizes[i])));
    fill(blocks[i], sizes[i], (unsigned)i + 7);
  }
  CHECK(luapool_chunk_bytes(p) == chunks);
  for (int i = 0; i < N; i++) CHECK(holds(blocks[i], sizes[i], (unsigned)i + (i % 2 ? 0 : 7)));
  /* resizes: same class in place; across classes and past LUAPOOL_MAX, copied */
  unsigned char *b = luapool_realloc(p, NULL, 0, 20);
  fill(b, 20, 99);
  CHECK(luapool_realloc(p, b, 20, 30) == b);
  unsigned char *grown = luapool_realloc(p, b, 30, 200);
  CHECK(grown && holds(grown, 20, 99));
  unsigned char *big = luapool_realloc(p, grown, 200, 5000);
  CHECK(big && holds(big, 20, 99));
  unsigned char *bigger = luapool_realloc(p, big, 5000, 70000);
  CHECK(bigger && holds(bigger, 20, 99));
  unsigned char *small = luapool_realloc(p, bigger, 70000, 10);
  CHECK(small && holds(small, 10, 99));
  CHECK(luapool_realloc(p, small, 10, 0) == NULL);
  for (int i = 0; i < N; i++) luapool_realloc(p, blocks[i], sizes[i], 0);
  luapool_free(p);
  /* and a whole state on it: a script that builds and drops many tables */
  luavm *vm = vm_new(0, 5);
  CHECK(vm);
  fherr err = {0};
  CHECK(run_chunk(vm, "local keep = {} for i = 1, 200000 do local t = {i, tostring(i), {x = i}} "
                      "if i % 1000 == 0 then keep[#keep + 1] = t end end "
                      "for i, t in ipairs(keep) do assert(t[1] == i * 1000 and t[2] == tostring(i * 1000) "
                      "and t[3].x == i * 1000) end",
                  &err) == FH_OK);
  luavm_free(vm);
  return 0;
}

/* The flow loader (luavm_set_flow_loader): a lookup of a flow the state
 * does not hold asks it once, however often the flow is looked up, until
 * flowdef_forget; what it loads is found by the same lookup. */
static int loader_calls;
static int load_named(void *ctx, luavm *vm, const char *flow) {
  (void)ctx;
  loader_calls++;
  if (strcmp(flow, "present")) return FH_NOT_FOUND;
  static const char text[] = "local flow = require 'flow'\n"
                             "return flow.Flow { start = flow.StartFunction():Next(flow.this.finish), finish = flow.End() }\n";
  return flowdef_load(vm, flow, "present.lua", text, sizeof text - 1, NULL, NULL);
}

static int test_flow_loader(void) {
  luavm *vm = vm_new(0, 1);
  CHECK(vm);
  lua_State *L = luavm_state(vm);
  int top = lua_gettop(L);
  CHECK(flowdef_push_def(L, "absent") == LUA_TNIL);   /* no loader: nothing asked */
  luavm_set_flow_loader(vm, load_named, NULL);
  loader_calls = 0;
  CHECK(flowdef_push_def(L, "absent") == LUA_TNIL);
  CHECK(flowdef_push_def(L, "absent") == LUA_TNIL);
  CHECK(loader_calls == 1);
  CHECK(!flowdef_is_loaded(vm, "present"));
  CHECK(loader_calls == 1);   /* is_loaded never asks */
  CHECK(flowdef_push_def(L, "present") == LUA_TTABLE);
  CHECK(flowdef_push_def(L, "present") == LUA_TTABLE);
  CHECK(loader_calls == 2 && flowdef_is_loaded(vm, "present"));
  flowdef_forget(vm, "present");
  flowdef_forget(vm, "absent");
  CHECK(!flowdef_is_loaded(vm, "present"));
  CHECK(flowdef_push_def(L, "present") == LUA_TTABLE && loader_calls == 3);
  CHECK(flowdef_push_def(L, "absent") == LUA_TNIL && loader_calls == 4);
  lua_settop(L, top);
  luavm_free(vm);
  return 0;
}

static const test_case TESTS[] = {
    {"error_location", test_error_location},
    {"budget", test_budget},
    {"memory_limit_steps", test_memory_limit_steps},
    {"json_round_trip", test_json_round_trip},
    {"pool", test_pool},
    {"flow_loader", test_flow_loader},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
