/* flowreg — loads, validates and publishes the flows in immutable generations
 * (see flowreg.h), with snapshots of the lib/ modules each flow required, and
 * loads a generation into a worker's Lua state; calls luavm, flowdef and fhlog. */
#include "flowreg.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "fhlog.h"
#include "metrics.h"

#define MAX_FLOW_FILE (4 << 20)
#define MAX_DEPTH 8

/* One lib/ module's text as it was when a flow that required it was
 * validated (see "lib/ snapshots" below). */
typedef struct lib_snap {
  char *name;   /* module name, as given to require */
  char *path;
  char *text;
  size_t len;
} lib_snap;

typedef struct lib_set {
  lib_snap *items;
  int n, cap;
} lib_set;

/* A good source text and the flowdef it produced, shared by every
 * generation that serves it: copying an entry into the next generation
 * takes a reference instead of compiling the file again. */
struct flow_text {
  atomic_int refs;
  char *source;
  size_t len;
  flowdef *def;
  lib_set libs;   /* the lib/ modules it required when it was validated */
};

struct flowreg {
  pthread_mutex_t mu;        /* guards current and the refs of generations */
  pthread_mutex_t write_mu;  /* one writer at a time builds the next generation */
  flowgen *current;
  long next_number;
  atomic_int log;            /* set by the watcher, read by writers */
  char *dir;
  char *lua_dir;
  int lua_unsafe;            /* flows get the full libraries; set before the first load */
};

const char *flowreg_dir(const flowreg *reg) { return reg->dir; }
const char *flowreg_lua_dir(const flowreg *reg) { return reg->lua_dir; }
void flowreg_set_lua_unsafe(flowreg *reg, int on) { reg->lua_unsafe = on; }
int flowreg_lua_unsafe(const flowreg *reg) { return reg->lua_unsafe; }
void flowreg_set_log(flowreg *reg, int on) { atomic_store(&reg->log, on); }

int flowreg_name_of(const char *path, char *name, size_t cap) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  if (len < 5 || strcmp(base + len - 4, ".lua") != 0 || len - 4 >= cap) return 0;
  if (base[0] < 'a' || base[0] > 'z') return 0;
  for (size_t i = 0; i < len - 4; i++) {
    char c = base[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  memcpy(name, base, len - 4);
  name[len - 4] = '\0';
  return 1;
}

static int read_file(const char *path, char **out, size_t *len, fherr *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return fherr_set(err, errno == ENOENT || errno == ENOTDIR ? FH_NOT_FOUND : FH_INTERNAL, "%s: %s", path,
                           strerror(errno));
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *grown = realloc(buf, cap);
      if (!grown) {
        free(buf);
        fclose(f);
        return fherr_set(err, FH_INTERNAL, "out of memory");
      }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (n > MAX_FLOW_FILE) {
      free(buf);
      fclose(f);
      return fherr_set(err, FH_BAD_REQUEST, "%s: file is larger than %d bytes", path, MAX_FLOW_FILE);
    }
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return fherr_set(err, FH_INTERNAL, "%s: read error", path);
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return FH_OK;
}

static int is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* FNV-1a: only tells "same text as last time", never trusted for more. */
static unsigned long long text_hash(const char *s, size_t len) {
  unsigned long long h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

/* --- shared texts and entries ------------------------------------------- */

static void lib_set_free(lib_set *libs) {
  for (int i = 0; i < libs->n; i++) {
    free(libs->items[i].name);
    free(libs->items[i].path);
    free(libs->items[i].text);
  }
  free(libs->items);
  memset(libs, 0, sizeof *libs);
}

/* Takes ownership of source, def and libs; on failure frees them. */
static struct flow_text *text_new(char *source, size_t len, flowdef *def, lib_set *libs) {
  struct flow_text *t = malloc(sizeof *t);
  if (!t) {
    free(source);
    flowdef_free(def);
    lib_set_free(libs);
    return NULL;
  }
  atomic_init(&t->refs, 1);
  t->source = source;
  t->len = len;
  t->def = def;
  t->libs = *libs;
  memset(libs, 0, sizeof *libs);
  return t;
}

static void text_unref(struct flow_text *t) {
  if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
  free(t->source);
  flowdef_free(t->def);
  lib_set_free(&t->libs);
  free(t);
}

/* Points e at t (taking a new reference); t may be NULL. */
static void entry_set_text(flow_entry *e, struct flow_text *t) {
  if (t) atomic_fetch_add(&t->refs, 1);
  text_unref(e->text);
  e->text = t;
  e->source = t ? t->source : NULL;
  e->source_len = t ? t->len : 0;
  e->def = t ? t->def : NULL;
  if (t) flowreg_hash_text(t->source, t->len, e->hash);
  else e->hash[0] = '\0';
}

static void entry_clear(flow_entry *e) {
  free(e->name);
  free(e->path);
  text_unref(e->text);
  memset(e, 0, sizeof *e);
}

/* dst becomes a copy of src sharing its text. */
static int entry_dup(flow_entry *dst, const flow_entry *src) {
  *dst = *src;
  dst->text = NULL;
  dst->name = strdup(src->name);
  dst->path = strdup(src->path);
  if (!dst->name || !dst->path) {
    free(dst->name);
    free(dst->path);
    memset(dst, 0, sizeof *dst);
    return FH_INTERNAL;
  }
  entry_set_text(dst, src->text);
  return FH_OK;
}

static void gen_free(flowgen *gen) {
  if (!gen) return;
  for (int i = 0; i < gen->n; i++) entry_clear(&gen->entries[i]);
  free(gen->entries);
  free(gen);
}

static void record_error(flow_entry *e, const fherr *err, const char *path) {
  e->has_error = 1;
  snprintf(e->error_file, sizeof e->error_file, "%s", err->file[0] ? err->file : path);
  e->error_line = err->line;
  /* Drop the "file:line: " prefix: file and line are fields of their own. */
  const char *msg = err->message;
  char prefix[300];
  snprintf(prefix, sizeof prefix, "%s:%d: ", e->error_file, e->error_line);
  if (strncmp(msg, prefix, strlen(prefix)) == 0) msg += strlen(prefix);
  snprintf(e->error_message, sizeof e->error_message, "%s", msg);
}

/* --- lib/ snapshots -----------------------------------------------------------
 *
 * A flow that requires a module of lib/ was validated with that module's text
 * of the moment.  The text is kept with the flow (a snapshot), and the
 * workers' Lua states load the flow with the same texts: a later change to
 * lib/ that breaks the flow leaves its previous definition really serving,
 * with the lib it was checked with.  A searcher placed before Lua's own file
 * searcher records the texts while a file is validated, and serves them again
 * when a worker loads the flow. */

typedef struct snap_ctx {
  const char *flows_dir, *lua_dir;
  lib_set *record;         /* validating: texts read are added here */
  const lib_set *replay;   /* loading into a worker: texts served from here */
} snap_ctx;

static int lib_set_add(lib_set *libs, const char *name, const char *path, char *text, size_t len) {
  if (libs->n == libs->cap) {
    int cap = libs->cap ? libs->cap * 2 : 4;
    lib_snap *grown = realloc(libs->items, sizeof *grown * cap);
    if (!grown) return FH_INTERNAL;
    libs->items = grown;
    libs->cap = cap;
  }
  lib_snap *sn = &libs->items[libs->n];
  sn->name = strdup(name);
  sn->path = strdup(path);
  if (!sn->name || !sn->path) {
    free(sn->name);
    free(sn->path);
    return FH_INTERNAL;
  }
  sn->text = text;
  sn->len = len;
  libs->n++;
  return FH_OK;
}

/* The module finder given to luavm: replays a flow's snapshot, or while
 * validating reads lib/ and records what it read.  0: not found here. */
static int snap_find(void *arg, const char *mod, const char **path, const char **text, size_t *len) {
  snap_ctx *ctx = arg;
  const lib_snap *found = NULL;
  if (ctx->replay) {
    for (int i = 0; i < ctx->replay->n && !found; i++)
      if (!strcmp(ctx->replay->items[i].name, mod)) found = &ctx->replay->items[i];
  } else if (ctx->record) {
    for (int i = 0; i < ctx->record->n && !found; i++)
      if (!strcmp(ctx->record->items[i].name, mod)) found = &ctx->record->items[i];
    char rel[512], file[4096];
    snprintf(rel, sizeof rel, "%s", mod);
    for (char *p = rel; *p; p++)
      if (*p == '.') *p = '/';
    /* the DSL's own folder comes first on package.path: leave its modules be */
    snprintf(file, sizeof file, "%s/%s.lua", ctx->lua_dir, rel);
    if (!found && !is_file(file)) {
      static const char *const forms[] = {"%s/lib/%s.lua", "%s/lib/%s/init.lua"};
      for (int k = 0; k < 2 && !found; k++) {
        snprintf(file, sizeof file, forms[k], ctx->flows_dir, rel);
        char *body;
        size_t n;
        fherr err = {0};
        if (read_file(file, &body, &n, &err)) continue;
        if (lib_set_add(ctx->record, mod, file, body, n)) {
          free(body);
          return -1;
        }
        found = &ctx->record->items[ctx->record->n - 1];
      }
    }
  }
  if (!found) return 0;
  *path = found->path;
  *text = found->text;
  *len = found->len;
  return 1;
}

/* Makes ctx the state's module finder (NULL: lib/ is read as it is); a
 * replaying ctx first drops its modules from package.loaded, so that this
 * flow gets its own texts. */
static int set_snap_ctx(luavm *vm, snap_ctx *ctx, fherr *err) {
  const char *forget[64];
  int nforget = 0;
  for (int i = 0; ctx && ctx->replay && i < ctx->replay->n && nforget < 64; i++)
    forget[nforget++] = ctx->replay->items[i].name;
  return luavm_set_module_finder(vm, ctx ? snap_find : NULL, ctx, forget, nforget, err);
}

/* The one validation of a flow file, shared by reloads and `flowhost check`:
 * the text runs in a fresh Lua state of its own, which is closed after.
 * libs (may be NULL) receives the lib/ modules it required. */
static int compile(const char *lua_dir, const char *flows_dir, int unsafe, const char *name, const char *path,
                   const char *src, size_t len, flowdef **out, lib_set *libs, fherr *err) {
  luavm_options opt = {.lua_dir = lua_dir, .flows_dir = flows_dir, .lua_unsafe = unsafe};
  luavm *vm = luavm_new(&opt, err);
  if (!vm) return err && err->code ? err->code : FH_INTERNAL;
  lib_set scratch = {0};
  snap_ctx ctx = {.flows_dir = flows_dir, .lua_dir = lua_dir, .record = libs ? libs : &scratch};
  int rc = set_snap_ctx(vm, &ctx, err);
  if (!rc) rc = flowdef_load(vm, name, path, src, len, out, err);
  luavm_free(vm);
  lib_set_free(&scratch);
  if (rc && libs) lib_set_free(libs);
  return rc;
}

void flowreg_hash_text(const char *src, size_t len, char out[20]) {
  unsigned char h[16];
  crypto_generichash(h, sizeof h, (const unsigned char *)src, len, NULL, 0);
  sodium_bin2hex(out, 20, h, 8);
}

int flowreg_compile_text(const flowreg *reg, const char *name, const char *src, size_t len, flowdef **out,
                         fherr *err) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.lua", reg->dir, name);
  return compile(reg->lua_dir, reg->dir, reg->lua_unsafe, name, path, src, len, out, NULL, err);
}

int flowreg_check_file(const char *path, const char *lua_dir, const char *flows_dir, int lua_unsafe, fherr *err) {
  char name[128];
  if (!flowreg_name_of(path, name, sizeof name)) {
    fherr_set(err, FH_FLOW_ERROR, "%s: a flow file name must match [a-z][a-z0-9_]*.lua", path);
    if (err) snprintf(err->file, sizeof err->file, "%s", path);
    return FH_FLOW_ERROR;
  }
  char *src;
  size_t len;
  int rc = read_file(path, &src, &len, err);
  if (rc) return rc;
  flowdef *def = NULL;
  rc = compile(lua_dir, flows_dir ? flows_dir : "flows", lua_unsafe, name, path, src, len, &def, NULL, err);
  flowdef_free(def);
  free(src);
  return rc;
}

/* --- logging --------------------------------------------------------------- */

/* A flow file new to the registry is "loaded", an edited one "reloaded". */
static void log_entry(const flowreg *reg, const flow_entry *e, int is_new) {
  metrics_flow_load(e->has_error);
  if (!reg->log) return;
  if (e->has_error) fhlog(FHLOG_ERROR, "%s %s:%d: %s", is_new ? "load" : "reload", e->error_file, e->error_line,
                          e->error_message);
  else fhlog(FHLOG_INFO, "%s %s", is_new ? "loaded" : "reloaded", e->name);
}

/* --- loading one file ------------------------------------------------------ */

typedef enum { LOAD_UNCHANGED, LOAD_DONE, LOAD_MISSING } load_result;

/* Loads path as the flow `name` into *out (zeroed first).  old is the entry
 * that currently serves the name (or NULL): its text is kept when the new one
 * fails, and when its file's text is the one read now (and !force), nothing
 * is done.  Returns LOAD_MISSING, leaving out empty, when the file is gone. */
static load_result load_one(flowreg *reg, const char *name, const char *path, const flow_entry *old, int force,
                            flow_entry *out) {
  memset(out, 0, sizeof *out);
  char *src = NULL;
  size_t len = 0;
  fherr err = {0};
  int rc = read_file(path, &src, &len, &err);
  if (rc == FH_NOT_FOUND) {
    fherr_clear(&err);
    return LOAD_MISSING;
  }
  unsigned long long hash = rc ? 0 : text_hash(src, len);
  if (!rc && !force && old && old->tried && !strcmp(old->path, path) && old->tried_len == len &&
      old->tried_hash == hash) {
    free(src);
    return LOAD_UNCHANGED;
  }
  out->name = strdup(name);
  out->path = strdup(path);
  if (!out->name || !out->path) {
    rc = fherr_set(&err, FH_INTERNAL, "out of memory");
  } else if (!rc) {
    out->tried = 1;
    out->tried_len = len;
    out->tried_hash = hash;
    flowdef *def = NULL;
    lib_set libs = {0};
    rc = compile(reg->lua_dir, reg->dir, reg->lua_unsafe, name, path, src, len, &def, &libs, &err);
    if (!rc) {
      struct flow_text *t = text_new(src, len, def, &libs);
      src = NULL;
      if (t) {
        entry_set_text(out, t);
        text_unref(t);   /* out holds it now */
        fhtime_now(out->loaded_at);
      } else {
        rc = fherr_set(&err, FH_INTERNAL, "out of memory");
      }
    }
  }
  if (rc) {
    /* Keep serving the last good definition next to the new error. */
    record_error(out, &err, path);
    if (old && old->text) {
      entry_set_text(out, old->text);
      snprintf(out->loaded_at, sizeof out->loaded_at, "%s", old->loaded_at);
    }
  }
  free(src);
  fherr_clear(&err);
  if (out->name) log_entry(reg, out, old == NULL);
  return LOAD_DONE;
}

/* --- generations ------------------------------------------------------------- */

static int gen_push(flowgen *gen, int *cap, flow_entry *e) {
  if (gen->n == *cap) {
    int grown_cap = *cap ? *cap * 2 : 16;
    flow_entry *grown = realloc(gen->entries, sizeof *grown * grown_cap);
    if (!grown) return FH_INTERNAL;
    gen->entries = grown;
    *cap = grown_cap;
  }
  gen->entries[gen->n++] = *e;
  memset(e, 0, sizeof *e);
  return FH_OK;
}

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const flow_entry *)a)->name, ((const flow_entry *)b)->name);
}

static void publish(flowreg *reg, flowgen *gen) {
  if (gen->n) qsort(gen->entries, gen->n, sizeof *gen->entries, entry_cmp);
  pthread_mutex_lock(&reg->mu);
  gen->number = ++reg->next_number;
  gen->refs = 1;   /* the registry's own reference */
  flowgen *old = reg->current;
  reg->current = gen;
  int free_old = old && --old->refs == 0;
  pthread_mutex_unlock(&reg->mu);
  if (free_old) gen_free(old);
}

/* --- scanning the folder ----------------------------------------------------- */

typedef struct pathlist {
  char **items;
  int n, cap;
} pathlist;

static void pathlist_free(pathlist *l) {
  for (int i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
  memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.lua file under dir (hidden names and the top lib/ skipped). */
static int scan(const char *dir, pathlist *out, int depth) {
  if (depth > MAX_DEPTH) return FH_OK;
  DIR *d = opendir(dir);
  if (!d) return depth == 0 && errno != ENOENT ? FH_INTERNAL : FH_OK;
  int rc = FH_OK;
  struct dirent *de;
  while (!rc && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path) continue;
    struct stat sb;
    if (stat(path, &sb) != 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      if (depth == 0 && strcmp(de->d_name, "lib") == 0) continue;
      rc = scan(path, out, depth + 1);
    } else if (S_ISREG(sb.st_mode)) {
      size_t len = strlen(de->d_name);
      if (len < 5 || strcmp(de->d_name + len - 4, ".lua") != 0) continue;
      if (out->n == out->cap) {
        int cap = out->cap ? out->cap * 2 : 32;
        char **grown = realloc(out->items, sizeof *grown * cap);
        if (!grown) {
          rc = FH_INTERNAL;
          break;
        }
        out->items = grown;
        out->cap = cap;
      }
      if (!(out->items[out->n] = strdup(path))) rc = FH_INTERNAL;
      else out->n++;
    }
  }
  closedir(d);
  return rc;
}

/* Is path inside the flows' lib/ folder (or that folder itself)? */
static int is_lib_path(const flowreg *reg, const char *path) {
  size_t n = strlen(reg->dir);
  if (strncmp(path, reg->dir, n) != 0 || path[n] != '/') return 0;
  const char *rest = path + n;
  while (*rest == '/') rest++;
  return !strncmp(rest, "lib", 3) && (rest[3] == '\0' || rest[3] == '/');
}

static int rescan_locked(flowreg *reg, int force, int always_publish, int *changed, fherr *err) {
  *changed = 0;
  pathlist paths = {0};
  if (scan(reg->dir, &paths, 0)) {
    pathlist_free(&paths);
    return fherr_set(err, FH_INTERNAL, "%s: cannot read the flows folder: %s", reg->dir, strerror(errno));
  }
  if (paths.n) qsort(paths.items, paths.n, sizeof *paths.items, cmp_str);
  flowgen *cur = flowreg_acquire(reg);
  flowgen *gen = calloc(1, sizeof *gen);
  int cap = 0, rc = gen ? FH_OK : FH_INTERNAL;
  /* Two passes, so that a name keeps the file that serves it now when two
   * files claim it: first the files of current entries, then the others. */
  for (int pass = 0; pass < 2 && !rc; pass++) {
    for (int i = 0; i < paths.n && !rc; i++) {
      const char *path = paths.items[i];
      char name[128];
      if (!flowreg_name_of(path, name, sizeof name)) {
        if (pass == 1 && (reg->log || always_publish))
          fhlog(FHLOG_WARN, "skipping %s: a flow file name must match [a-z][a-z0-9_]*.lua", path);
        continue;
      }
      const flow_entry *old = flowgen_find(cur, name);
      int owner = old && !strcmp(old->path, path);
      if (owner != (pass == 0)) continue;
      const flow_entry *taken = flowgen_find(gen, name);
      if (taken) {
        if (strcmp(taken->path, path) && (reg->log || always_publish))
          fhlog(FHLOG_WARN, "skipping %s: a flow named '%s' is already loaded from %s", path, name,
                taken->path);
        continue;
      }
      flow_entry e;
      load_result res = load_one(reg, name, path, old, force, &e);
      if (res == LOAD_MISSING) continue;   /* deleted while we looked */
      if (res == LOAD_UNCHANGED) {
        if ((rc = entry_dup(&e, old))) break;
      } else {
        *changed = 1;
      }
      if ((rc = gen_push(gen, &cap, &e))) entry_clear(&e);
    }
  }
  for (int i = 0; !rc && cur && i < cur->n; i++) {
    if (flowgen_find(gen, cur->entries[i].name)) continue;
    *changed = 1;
    if (reg->log) fhlog(FHLOG_INFO, "removed %s (its file is gone)", cur->entries[i].name);
  }
  flowgen_release(reg, cur);
  pathlist_free(&paths);
  if (rc) {
    gen_free(gen);
    *changed = 0;
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  if (*changed || always_publish || !cur) {
    publish(reg, gen);
    *changed = 1;
  } else {
    gen_free(gen);
  }
  return FH_OK;
}

int flowreg_load_all(flowreg *reg, fherr *err) {
  int changed;
  pthread_mutex_lock(&reg->write_mu);
  int rc = rescan_locked(reg, 1, 1, &changed, err);
  pthread_mutex_unlock(&reg->write_mu);
  return rc;
}

int flowreg_rescan(flowreg *reg, int force, int *changed, fherr *err) {
  pthread_mutex_lock(&reg->write_mu);
  int rc = rescan_locked(reg, force, 0, changed, err);
  pthread_mutex_unlock(&reg->write_mu);
  return rc;
}

/* Another file of the folder named `name`.lua, other than path (malloc'd). */
static char *find_other(flowreg *reg, const char *name, const char *path) {
  pathlist paths = {0};
  scan(reg->dir, &paths, 0);
  if (paths.n) qsort(paths.items, paths.n, sizeof *paths.items, cmp_str);
  char *found = NULL;
  for (int i = 0; i < paths.n && !found; i++) {
    char other[128];
    if (strcmp(paths.items[i], path) && flowreg_name_of(paths.items[i], other, sizeof other) && !strcmp(other, name))
      found = strdup(paths.items[i]);
  }
  pathlist_free(&paths);
  return found;
}

static int reload_path_locked(flowreg *reg, const char *path, int *changed, fherr *err) {
  char name[128];
  if (!flowreg_name_of(path, name, sizeof name)) return FH_OK;
  flowgen *cur = flowreg_acquire(reg);
  const flow_entry *old = flowgen_find(cur, name);
  int rc = FH_OK;
  char *other = NULL;
  flow_entry e = {0};
  load_result res = LOAD_UNCHANGED;
  if (old && strcmp(old->path, path) && is_file(old->path)) {
    /* Another file serves this flow name; this one is not loaded. */
    if (reg->log && is_file(path))
      fhlog(FHLOG_WARN, "skipping %s: a flow named '%s' is already loaded from %s", path, name, old->path);
    goto out;
  }
  res = load_one(reg, name, path, old, 0, &e);
  if (res == LOAD_MISSING) {
    if (!old) goto out;
    /* The file that served the name is gone: a twin elsewhere in the
     * folder takes over, or the flow leaves the registry. */
    other = find_other(reg, name, old->path);
    if (other) res = load_one(reg, name, other, old, 1, &e);
    if (res == LOAD_MISSING && reg->log) fhlog(FHLOG_INFO, "removed %s (its file is gone)", name);
  }
  if (res == LOAD_UNCHANGED) goto out;
  flowgen *gen = calloc(1, sizeof *gen);
  int cap = 0;
  if (!gen) rc = FH_INTERNAL;
  for (int i = 0; !rc && cur && i < cur->n; i++) {
    if (&cur->entries[i] == old) continue;
    flow_entry copy;
    if ((rc = entry_dup(&copy, &cur->entries[i]))) break;
    if ((rc = gen_push(gen, &cap, &copy))) entry_clear(&copy);
  }
  if (!rc && res == LOAD_DONE) rc = gen_push(gen, &cap, &e);
  if (rc) {
    gen_free(gen);
    rc = fherr_set(err, FH_INTERNAL, "out of memory");
    goto out;
  }
  publish(reg, gen);
  *changed = 1;
out:
  entry_clear(&e);
  free(other);
  flowgen_release(reg, cur);
  return rc;
}

int flowreg_reload_path(flowreg *reg, const char *path, int *changed, fherr *err) {
  *changed = 0;
  if (!path) return fherr_set(err, FH_BAD_REQUEST, "no path");
  pthread_mutex_lock(&reg->write_mu);
  int rc = is_lib_path(reg, path) ? rescan_locked(reg, 1, 0, changed, err) : reload_path_locked(reg, path, changed, err);
  pthread_mutex_unlock(&reg->write_mu);
  return rc;
}

flowreg *flowreg_new(const char *flows_dir, const char *lua_dir, fherr *err) {
  flowreg *reg = calloc(1, sizeof *reg);
  if (!reg) {
    fherr_set(err, FH_INTERNAL, "out of memory");
    return NULL;
  }
  pthread_mutex_init(&reg->mu, NULL);
  pthread_mutex_init(&reg->write_mu, NULL);
  reg->dir = strdup(flows_dir && flows_dir[0] ? flows_dir : "flows");
  reg->lua_dir = strdup(lua_dir ? lua_dir : luavm_default_lua_dir());
  if (!reg->dir || !reg->lua_dir) {
    flowreg_free(reg);
    fherr_set(err, FH_INTERNAL, "out of memory");
    return NULL;
  }
  size_t n = strlen(reg->dir);
  while (n > 1 && reg->dir[n - 1] == '/') reg->dir[--n] = '\0';
  return reg;
}

void flowreg_free(flowreg *reg) {
  if (!reg) return;
  if (reg->current && --reg->current->refs == 0) gen_free(reg->current);
  pthread_mutex_destroy(&reg->mu);
  pthread_mutex_destroy(&reg->write_mu);
  free(reg->dir);
  free(reg->lua_dir);
  free(reg);
}

flowgen *flowreg_acquire(flowreg *reg) {
  pthread_mutex_lock(&reg->mu);
  flowgen *gen = reg->current;
  if (gen) gen->refs++;
  pthread_mutex_unlock(&reg->mu);
  return gen;
}

void flowgen_release(flowreg *reg, flowgen *gen) {
  if (!gen) return;
  pthread_mutex_lock(&reg->mu);
  int last = --gen->refs == 0;
  pthread_mutex_unlock(&reg->mu);
  if (last) gen_free(gen);
}

const flow_entry *flowgen_find(const flowgen *gen, const char *name) {
  if (!gen || !name) return NULL;
  for (int i = 0; i < gen->n; i++)
    if (gen->entries[i].name && strcmp(gen->entries[i].name, name) == 0) return &gen->entries[i];
  return NULL;
}

int flowgen_count_errors(const flowgen *gen) {
  int n = 0;
  for (int i = 0; gen && i < gen->n; i++) n += gen->entries[i].has_error;
  return n;
}

/* Brings a state that holds `old` up to `gen` by loading only the flows
 * whose text changed and forgetting the ones that left.  A flow that uses
 * lib/ modules needs a fresh state (package.loaded would keep the old
 * module), so then *done stays 0 and the caller rebuilds the state. */
int flowgen_update_into(const flowgen *old, const flowgen *gen, luavm *vm, int *done) {
  *done = 0;
  if (!old || !gen) return FH_OK;
  for (int i = 0; i < gen->n; i++) {
    const flow_entry *e = &gen->entries[i];
    const flow_entry *o = flowgen_find(old, e->name);
    if (o && o->text == e->text) continue;
    if ((e->text && e->text->libs.n) || (o && o->text && o->text->libs.n)) return FH_OK;
  }
  for (int i = 0; i < old->n; i++) {
    const flow_entry *o = &old->entries[i];
    const flow_entry *e = flowgen_find(gen, o->name);
    if (!e || !e->def) flowdef_forget(vm, o->name);
  }
  /* an edited flow is dropped: its next use loads the new text */
  for (int i = 0; i < gen->n; i++) {
    const flow_entry *e = &gen->entries[i];
    const flow_entry *o = flowgen_find(old, e->name);
    if (!o || o->text != e->text) flowdef_forget(vm, e->name);
  }
  *done = 1;
  return FH_OK;
}

int flowgen_load_one(const flowgen *gen, luavm *vm, const char *flows_dir, const char *name) {
  const flow_entry *e = flowgen_find(gen, name);
  if (!e || !e->def || !e->source) return FH_NOT_FOUND;
  fherr ferr = {0};
  /* the lib/ texts it was validated with */
  snap_ctx ctx = {.flows_dir = flows_dir, .replay = e->text ? &e->text->libs : NULL};
  int rc = set_snap_ctx(vm, &ctx, &ferr);
  if (!rc) rc = flowdef_load(vm, e->name, e->path, e->source, e->source_len, NULL, &ferr);
  /* It loaded cleanly when the generation was made; a failure now (a
   * module outside lib/ changed since, say) leaves just this flow
   * unusable in this worker. */
  if (rc) fhlog(FHLOG_ERROR, "flow %s failed to load in a worker: %s", e->name, ferr.message);
  fherr_clear(&ferr);
  fherr nerr = {0};
  set_snap_ctx(vm, NULL, &nerr);   /* later requires read lib/ as it is */
  fherr_clear(&nerr);
  return rc;
}
