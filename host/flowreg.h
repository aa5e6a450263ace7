/* flowreg — the set of flows the host serves, in immutable generations.
 *
 * A generation lists every flow file found under the flows folder (lib/
 * excluded: it holds shared Lua modules), each with its source text, its
 * checked graph (flowdef) and, if its latest load failed, the error.  A
 * generation never changes once published; reloading builds a new one and
 * swaps the pointer under a mutex, so readers hold a reference
 * (flowreg_acquire/flowgen_release) and never see a half-made state.
 *
 * Each file is validated in a fresh Lua state of its own; a file that fails
 * keeps the previous good definition (if any) alongside its error.
 */
#ifndef FLOWREG_H
#define FLOWREG_H

#include <pthread.h>

#include "fherr.h"
#include "flowdef.h"
#include "fhtime.h"
#include "luavm.h"

struct flow_text;

typedef struct flow_entry {
  char *name;
  char *path;
  char *source;          /* the text that produced `def` (borrowed from text) */
  size_t source_len;
  flowdef *def;          /* NULL when the file never loaded cleanly (borrowed) */
  int has_error;
  char error_file[256];
  int error_line;
  char error_message[1024];
  char loaded_at[FH_TIME_LEN];   /* when `def` was loaded */
  char hash[20];         /* content hash of source: its version ("" without def) */
  /* private: the good source and its flowdef, shared (refcounted) by the
   * generations that serve it, so a reload re-compiles only what changed */
  struct flow_text *text;
  int tried;             /* the latest text read from the file: */
  size_t tried_len;      /* its length and hash, to skip unchanged saves */
  unsigned long long tried_hash;
} flow_entry;

typedef struct flowgen {
  int refs;              /* guarded by the registry mutex */
  long number;
  flow_entry *entries;
  int n;
} flowgen;

typedef struct flowreg flowreg;

flowreg *flowreg_new(const char *flows_dir, const char *lua_dir, fherr *err);
void flowreg_free(flowreg *reg);
const char *flowreg_dir(const flowreg *reg);
const char *flowreg_lua_dir(const flowreg *reg);
/* On: the flows get Lua's full standard libraries instead of the sandbox
 * (luasafe.c; serve --lua-unsafe).  Set it before the first load. */
void flowreg_set_lua_unsafe(flowreg *reg, int on);
int flowreg_lua_unsafe(const flowreg *reg);

/* Scans the folder and publishes a new generation, loading every file again
 * (errors are per flow, recorded in the entries; the call itself fails only
 * on I/O trouble).  A flow that fails keeps its previous good definition, so
 * this is also "reload everything" (after a change under lib/). */
int flowreg_load_all(flowreg *reg, fherr *err);
/* Scans the folder and publishes a new generation if anything changed: new
 * and changed files are loaded, flows whose file is gone are dropped.  With
 * force, unchanged files are loaded again too (a lib/ module changed). */
int flowreg_rescan(flowreg *reg, int force, int *changed, fherr *err);
/* Reloads the flow of one path (created, changed or deleted) and publishes
 * a new generation when anything changed.  *changed tells whether it did.
 * A path under lib/ reloads every flow.  A file whose text did not change
 * since its last load is not loaded again.  Writers are serialized; readers
 * are never blocked by a load. */
int flowreg_reload_path(flowreg *reg, const char *path, int *changed, fherr *err);
/* When on, reloads log one line to stderr each: "flowhost: reloaded NAME",
 * "flowhost: reload FILE:LINE: MESSAGE" or "flowhost: removed NAME". */
void flowreg_set_log(flowreg *reg, int on);

flowgen *flowreg_acquire(flowreg *reg);
void flowgen_release(flowreg *reg, flowgen *gen);
const flow_entry *flowgen_find(const flowgen *gen, const char *name);
int flowgen_count_errors(const flowgen *gen);

/* Moves a state that holds flows of `old` to `gen`: the flows that changed
 * or left are dropped (flowgen_load_one loads a flow when it is next
 * used); *done is 0 when that is not safe (lib/ modules involved): start
 * a fresh state. */
int flowgen_update_into(const flowgen *old, const flowgen *gen, luavm *vm, int *done);
/* Loads flow `name` of gen into vm (an engine's own state, on the flow's
 * first use there): 0, FH_NOT_FOUND when gen has no usable flow of that
 * name, or the load's error (logged). */
int flowgen_load_one(const flowgen *gen, luavm *vm, const char *flows_dir, const char *name);

/* The flow name for a file path ("flows/a/b.lua" -> "b"), or 0 when the
 * base name is not a valid flow name. */
int flowreg_name_of(const char *path, char *name, size_t cap);
/* The content hash of a flow's source text (16 hex digits): its version. */
void flowreg_hash_text(const char *src, size_t len, char out[20]);
/* Compiles a stored version's source text as the flow `name` in a fresh
 * state, as a reload would (flowhost check --against, migrate). */
int flowreg_compile_text(const flowreg *reg, const char *name, const char *src, size_t len, flowdef **out,
                         fherr *err);
/* Validates one file on its own (flowhost check). */
int flowreg_check_file(const char *path, const char *lua_dir, const char *flows_dir, int lua_unsafe, fherr *err);

#endif
