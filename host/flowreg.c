#include "flowreg.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FLOW_FILE (4 << 20)

struct flowreg {
  pthread_mutex_t mu;
  flowgen *current;
  long next_number;
  char *dir;
  char *lua_dir;
};

const char *flowreg_dir(const flowreg *reg) { return reg->dir; }
const char *flowreg_lua_dir(const flowreg *reg) { return reg->lua_dir; }

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
  if (!f) return fherr_set(err, errno == ENOENT ? FH_NOT_FOUND : FH_INTERNAL, "%s: %s", path, strerror(errno));
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

static void entry_clear(flow_entry *e) {
  free(e->name);
  free(e->path);
  free(e->source);
  flowdef_free(e->def);
  memset(e, 0, sizeof *e);
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

/* Loads one file into a fresh state; fills def or the error of e. */
static void load_entry(flow_entry *e, const char *lua_dir, const char *flows_dir) {
  fherr err = {0};
  luavm_options opt = {.lua_dir = lua_dir, .flows_dir = flows_dir};
  luavm *vm = luavm_new(&opt, &err);
  flowdef *def = NULL;
  if (vm && !flowdef_load(vm, e->name, e->path, e->source, e->source_len, &def, &err)) {
    e->def = def;
    e->has_error = 0;
    fhtime_now(e->loaded_at);
  } else {
    record_error(e, &err, e->path);
  }
  luavm_free(vm);
  fherr_clear(&err);
}

int flowreg_check_file(const char *path, const char *lua_dir, const char *flows_dir, fherr *err) {
  char name[128];
  if (!flowreg_name_of(path, name, sizeof name)) {
    fherr_set(err, FH_FLOW_ERROR, "%s: a flow file name must match [a-z][a-z0-9_]*.lua", path);
    snprintf(err->file, sizeof err->file, "%s", path);
    return FH_FLOW_ERROR;
  }
  char *src;
  size_t len;
  int rc = read_file(path, &src, &len, err);
  if (rc) return rc;
  luavm_options opt = {.lua_dir = lua_dir, .flows_dir = flows_dir};
  luavm *vm = luavm_new(&opt, err);
  if (!vm) {
    free(src);
    return FH_INTERNAL;
  }
  flowdef *def = NULL;
  rc = flowdef_load(vm, name, path, src, len, &def, err);
  flowdef_free(def);
  luavm_free(vm);
  free(src);
  return rc;
}

typedef struct pathlist {
  char **items;
  int n, cap;
} pathlist;

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan(const char *dir, pathlist *out, int depth) {
  if (depth > 8) return;
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (len < 0 || (size_t)len >= sizeof path) continue;
    struct stat sb;
    if (stat(path, &sb) != 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      if (depth == 0 && strcmp(de->d_name, "lib") == 0) continue;
      scan(path, out, depth + 1);
    } else if (S_ISREG(sb.st_mode)) {
      size_t len = strlen(de->d_name);
      if (len < 5 || strcmp(de->d_name + len - 4, ".lua") != 0) continue;
      if (out->n == out->cap) {
        int cap = out->cap ? out->cap * 2 : 32;
        char **grown = realloc(out->items, sizeof *grown * cap);
        if (!grown) break;
        out->items = grown;
        out->cap = cap;
      }
      out->items[out->n++] = strdup(path);
    }
  }
  closedir(d);
}

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const flow_entry *)a)->name, ((const flow_entry *)b)->name);
}

static void publish(flowreg *reg, flowgen *gen) {
  qsort(gen->entries, gen->n, sizeof *gen->entries, entry_cmp);
  pthread_mutex_lock(&reg->mu);
  gen->number = ++reg->next_number;
  gen->refs = 1;   /* the registry's own reference */
  flowgen *old = reg->current;
  reg->current = gen;
  int free_old = old && --old->refs == 0;
  pthread_mutex_unlock(&reg->mu);
  if (free_old) gen_free(old);
}

int flowreg_load_all(flowreg *reg, fherr *err) {
  pathlist paths = {0};
  scan(reg->dir, &paths, 0);
  qsort(paths.items, paths.n, sizeof *paths.items, cmp_str);
  flowgen *gen = calloc(1, sizeof *gen);
  if (!gen || !(gen->entries = calloc(paths.n ? paths.n : 1, sizeof *gen->entries))) {
    free(gen);
    for (int i = 0; i < paths.n; i++) free(paths.items[i]);
    free(paths.items);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  for (int i = 0; i < paths.n; i++) {
    char name[128];
    const char *path = paths.items[i];
    flow_entry *e = &gen->entries[gen->n];
    if (!flowreg_name_of(path, name, sizeof name)) {
      fprintf(stderr, "flowhost: skipping %s: a flow file name must match [a-z][a-z0-9_]*.lua\n", path);
      continue;
    }
    if (flowgen_find(gen, name)) {
      fprintf(stderr, "flowhost: skipping %s: a flow named '%s' is already loaded\n", path, name);
      continue;
    }
    e->name = strdup(name);
    e->path = strdup(path);
    fherr ferr = {0};
    if (read_file(path, &e->source, &e->source_len, &ferr)) {
      record_error(e, &ferr, path);
      fherr_clear(&ferr);
    } else {
      load_entry(e, reg->lua_dir, reg->dir);
    }
    gen->n++;
  }
  for (int i = 0; i < paths.n; i++) free(paths.items[i]);
  free(paths.items);
  publish(reg, gen);
  return FH_OK;
}

/* Copies an entry for a new generation: flowdefs are immutable, but each
 * generation owns its own, so the copy re-parses nothing by sharing... it
 * cannot share ownership, so the source is reloaded instead. */
static int entry_copy(flow_entry *dst, const flow_entry *src, const char *lua_dir, const char *flows_dir) {
  memset(dst, 0, sizeof *dst);
  dst->name = strdup(src->name);
  dst->path = strdup(src->path);
  if (src->source) {
    dst->source = malloc(src->source_len + 1);
    if (dst->source) {
      memcpy(dst->source, src->source, src->source_len + 1);
      dst->source_len = src->source_len;
    }
  }
  if (src->def && dst->source) {
    load_entry(dst, lua_dir, flows_dir);
    snprintf(dst->loaded_at, sizeof dst->loaded_at, "%s", src->loaded_at);
  }
  dst->has_error = src->has_error;
  snprintf(dst->error_file, sizeof dst->error_file, "%s", src->error_file);
  dst->error_line = src->error_line;
  snprintf(dst->error_message, sizeof dst->error_message, "%s", src->error_message);
  return dst->name && dst->path ? FH_OK : FH_INTERNAL;
}

int flowreg_reload_path(flowreg *reg, const char *path, int *changed, fherr *err) {
  *changed = 0;
  char name[128];
  if (!flowreg_name_of(path, name, sizeof name)) return FH_OK;
  char *src = NULL;
  size_t len = 0;
  fherr rerr = {0};
  int missing = read_file(path, &src, &len, &rerr) == FH_NOT_FOUND;
  int unreadable = !missing && rerr.code;
  flowgen *cur = flowreg_acquire(reg);
  const flow_entry *old = flowgen_find(cur, name);
  if (old && strcmp(old->path, path) != 0) {
    /* Another file already owns this flow name. */
    flowgen_release(reg, cur);
    free(src);
    fherr_clear(&rerr);
    return FH_OK;
  }
  if (!missing && !unreadable && old && old->source && old->source_len == len &&
      memcmp(old->source, src, len) == 0 && !old->has_error) {
    flowgen_release(reg, cur);
    free(src);
    return FH_OK;
  }
  flowgen *gen = calloc(1, sizeof *gen);
  if (!gen || !(gen->entries = calloc(cur->n + 1, sizeof *gen->entries))) {
    free(gen);
    flowgen_release(reg, cur);
    free(src);
    fherr_clear(&rerr);
    return fherr_set(err, FH_INTERNAL, "out of memory");
  }
  for (int i = 0; i < cur->n; i++) {
    if (old == &cur->entries[i]) continue;
    entry_copy(&gen->entries[gen->n++], &cur->entries[i], reg->lua_dir, reg->dir);
  }
  if (!missing) {
    flow_entry *e = &gen->entries[gen->n++];
    e->name = strdup(name);
    e->path = strdup(path);
    if (unreadable) {
      record_error(e, &rerr, path);
      if (old) entry_copy(e, old, reg->lua_dir, reg->dir), record_error(e, &rerr, path);
    } else {
      e->source = src;
      e->source_len = len;
      src = NULL;
      load_entry(e, reg->lua_dir, reg->dir);
      if (e->has_error && old && old->def) {
        /* Keep serving the last good definition next to the new error. */
        flow_entry failed = *e;
        memset(e, 0, sizeof *e);
        entry_copy(e, old, reg->lua_dir, reg->dir);
        e->has_error = 1;
        snprintf(e->error_file, sizeof e->error_file, "%s", failed.error_file);
        e->error_line = failed.error_line;
        snprintf(e->error_message, sizeof e->error_message, "%s", failed.error_message);
        entry_clear(&failed);
      }
    }
  }
  flowgen_release(reg, cur);
  free(src);
  fherr_clear(&rerr);
  publish(reg, gen);
  *changed = 1;
  return FH_OK;
}

flowreg *flowreg_new(const char *flows_dir, const char *lua_dir, fherr *err) {
  flowreg *reg = calloc(1, sizeof *reg);
  if (!reg) {
    fherr_set(err, FH_INTERNAL, "out of memory");
    return NULL;
  }
  pthread_mutex_init(&reg->mu, NULL);
  reg->dir = strdup(flows_dir ? flows_dir : "flows");
  reg->lua_dir = strdup(lua_dir ? lua_dir : luavm_default_lua_dir());
  size_t n = strlen(reg->dir);
  while (n > 1 && reg->dir[n - 1] == '/') reg->dir[--n] = '\0';
  return reg;
}

void flowreg_free(flowreg *reg) {
  if (!reg) return;
  if (reg->current && --reg->current->refs == 0) gen_free(reg->current);
  pthread_mutex_destroy(&reg->mu);
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

int flowgen_load_into(const flowgen *gen, luavm *vm, const char *flows_dir, fherr *err) {
  (void)flows_dir;
  for (int i = 0; i < gen->n; i++) {
    const flow_entry *e = &gen->entries[i];
    if (!e->def || !e->source) continue;
    fherr ferr = {0};
    if (flowdef_load(vm, e->name, e->path, e->source, e->source_len, NULL, &ferr)) {
      /* It loaded cleanly when the generation was made; a failure now
       * (a changed lib module, say) leaves just this flow unusable. */
      fprintf(stderr, "flowhost: flow %s failed to load in a worker: %s\n", e->name, ferr.message);
    }
    fherr_clear(&ferr);
  }
  (void)err;
  return FH_OK;
}
