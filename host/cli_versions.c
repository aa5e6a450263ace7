/* cli_versions — `flowhost check --against` and `flowhost migrate` (see
 * cli_versions.h).  Loads the edited files with flowreg as a reload would,
 * asks engine_versions for the impact reports and prints them (impact.c's
 * text, or JSON). */
#include "cli_versions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_versions.h"
#include "flowreg.h"
#include "impact.h"

#define MAX_MAPS 32

typedef struct checker {
  const cli_globals *g;
  engine *e;
  json_t *reports;   /* every report */
  json_t *errors;    /* files that failed: {file, line, message} */
  int failed;        /* a read or storage error */
} checker;

static void add_error(checker *c, const char *file, int line, const char *message) {
  json_array_append_new(c->errors, json_pack("{s:s, s:i, s:s}", "file", file, "line", line, "message", message));
}

static void check_def(checker *c, const char *name, const flowdef *def, const char *hash) {
  fherr err = {0};
  if (engine_versions_check(c->e, name, def, hash, c->reports, &err)) {
    fprintf(stderr, "flowhost: %s: %s\n", name, err.message);
    c->failed = 1;
  }
  fherr_clear(&err);
}

/* A folder is the whole set of flows: a flow with running processes that
 * it no longer has would be removed. */
static void check_gone(checker *c, const flowgen *gen) {
  json_t *flows = NULL;
  fherr err = {0};
  if (engine_versions_running_flows(c->e, &flows, &err)) {
    fprintf(stderr, "flowhost: %s\n", err.message);
    c->failed = 1;
  }
  fherr_clear(&err);
  size_t i;
  json_t *v;
  json_array_foreach(flows, i, v) if (!flowgen_find(gen, json_string_value(v))) check_def(c, json_string_value(v), NULL, NULL);
  json_decref(flows);
}

static void check_dir(checker *c, const char *dir) {
  fherr err = {0};
  flowreg *reg = flowreg_new(dir, c->g->lua_dir, &err);
  if (reg) flowreg_set_lua_unsafe(reg, c->g->lua_unsafe);
  if (!reg || flowreg_load_all(reg, &err)) {
    fprintf(stderr, "flowhost: %s\n", err.message);
    c->failed = 1;
  } else {
    flowgen *gen = flowreg_acquire(reg);
    for (int i = 0; i < gen->n; i++) {
      const flow_entry *fe = &gen->entries[i];
      if (fe->has_error) add_error(c, fe->error_file, fe->error_line, fe->error_message);
      else if (fe->def) check_def(c, fe->name, fe->def, fe->hash);
    }
    check_gone(c, gen);
    flowgen_release(reg, gen);
  }
  fherr_clear(&err);
  flowreg_free(reg);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t cap = 0;
  FILE *m = open_memstream(&buf, &cap);
  char chunk[8192];
  size_t n;
  while (m && (n = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, n, m);
  fclose(f);
  if (m) fclose(m);
  *len = cap;
  return buf;
}

static void check_file(checker *c, flowreg *reg, const char *path) {
  char name[128];
  if (!flowreg_name_of(path, name, sizeof name)) {
    add_error(c, path, 0, "a flow file name must match [a-z][a-z0-9_]*.lua");
    return;
  }
  size_t len = 0;
  char *src = slurp(path, &len);
  if (!src) {
    add_error(c, path, 0, strerror(errno));
    return;
  }
  flowdef *def = NULL;
  fherr err = {0};
  if (flowreg_compile_text(reg, name, src, len, &def, &err)) {
    add_error(c, err.file[0] ? err.file : path, err.line, err.message);
  } else {
    char hash[20];
    flowreg_hash_text(src, len, hash);
    check_def(c, name, def, hash);
  }
  flowdef_free(def);
  fherr_clear(&err);
  free(src);
}

static int print_results(checker *c, int json) {
  int stranded = 0;
  for (size_t i = 0; i < json_array_size(c->reports); i++) stranded |= impact_strands(json_array_get(c->reports, i));
  if (json) {
    json_t *out = json_pack("{s:O, s:O, s:b}", "reports", c->reports, "errors", c->errors, "stranded", stranded);
    char *s = json_dumps(out, JSON_INDENT(2));
    if (s) puts(s);
    free(s);
    json_decref(out);
  } else {
    size_t i;
    json_t *v;
    json_array_foreach(c->errors, i, v)
      printf("%s:%d: %s\n", json_string_value(json_object_get(v, "file")), (int)json_integer_value(json_object_get(v, "line")),
             json_string_value(json_object_get(v, "message")));
    json_array_foreach(c->reports, i, v) {
      char *text = impact_to_text(v);
      if (text) fputs(text, stdout);
      free(text);
    }
    fprintf(stderr, "%s\n", stranded ? "running work would be stranded" : "no running work would be stranded");
  }
  return stranded || c->failed || json_array_size(c->errors) ? 1 : 0;
}

/* The engine on an existing database (check and migrate never create one),
 * with the registry `reg` (not loaded: it only compiles stored versions). */
static int open_engine(const cli_globals *g, const char *db, flowreg **reg, engine **e) {
  struct stat sb;
  *reg = NULL;
  *e = NULL;
  if (stat(db, &sb) != 0) {
    fprintf(stderr, "flowhost: %s: %s\n", db, strerror(errno));
    return 1;
  }
  fherr err = {0};
  *reg = flowreg_new(g->flows_dir, g->lua_dir, &err);
  if (*reg) flowreg_set_lua_unsafe(*reg, g->lua_unsafe);
  engine_options eo = {.flows = *reg, .db_path = db, .synchronous_full = !g->sync_normal, .worker_name = "cli"};
  if (!*reg || engine_open(&eo, e, &err)) {
    fprintf(stderr, "flowhost: %s\n", err.message);
    fherr_clear(&err);
    flowreg_free(*reg);
    *reg = NULL;
    return 1;
  }
  return 0;
}

int cli_check_against(const cli_globals *g, const char *db, const char *format, const char *const *paths,
                      int npaths) {
  if (format && strcmp(format, "json") && strcmp(format, "text")) {
    fprintf(stderr, "flowhost: --format must be text or json\n");
    return 2;
  }
  flowreg *reg;
  checker c = {.g = g};
  if (open_engine(g, db, &reg, &c.e)) return 1;
  c.reports = json_array();
  c.errors = json_array();
  const char *def_path[] = {g->flows_dir};
  if (!npaths) {
    paths = def_path;
    npaths = 1;
  }
  for (int i = 0; i < npaths; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) != 0) add_error(&c, paths[i], 0, strerror(errno));
    else if (S_ISDIR(sb.st_mode)) check_dir(&c, paths[i]);
    else check_file(&c, reg, paths[i]);
  }
  int code = print_results(&c, format && !strcmp(format, "json"));
  json_decref(c.reports);
  json_decref(c.errors);
  engine_close(c.e);
  flowreg_free(reg);
  return code;
}

int cli_migrate(const cli_globals *g, const char *flow, const char *to, const char *from, const char *const *maps,
                int nmaps) {
  if (nmaps > MAX_MAPS) return fprintf(stderr, "flowhost: at most %d --map\n", MAX_MAPS), 2;
  char buf[MAX_MAPS][2][128];
  const char *map[2 * MAX_MAPS];
  for (int i = 0; i < nmaps; i++) {
    const char *eq = strchr(maps[i], '=');
    if (!eq || eq == maps[i] || !eq[1] || (size_t)(eq - maps[i]) >= sizeof buf[i][0] || strlen(eq + 1) >= sizeof buf[i][1])
      return fprintf(stderr, "flowhost: --map needs OLD=NEW node names, got '%s'\n", maps[i]), 2;
    snprintf(buf[i][0], sizeof buf[i][0], "%.*s", (int)(eq - maps[i]), maps[i]);
    snprintf(buf[i][1], sizeof buf[i][1], "%s", eq + 1);
    map[2 * i] = buf[i][0];
    map[2 * i + 1] = buf[i][1];
  }
  flowreg *reg;
  engine *e;
  if (open_engine(g, g->db_path, &reg, &e)) return 1;
  json_t *out = NULL;
  fherr err = {0};
  int rc = engine_versions_migrate(e, flow, to, from, map, nmaps, &out, &err);
  if (rc && out) {
    size_t i;
    json_t *v;
    json_array_foreach(out, i, v) {
      char *text = impact_to_text(v);
      if (text) fputs(text, stderr);
      free(text);
    }
  }
  if (rc) fprintf(stderr, "flowhost: %s: %s\n", fherr_code_name(err.code), err.message);
  else {
    char *s = json_dumps(out, JSON_INDENT(2));
    if (s) puts(s);
    free(s);
  }
  json_decref(out);
  fherr_clear(&err);
  engine_close(e);
  flowreg_free(reg);
  return rc ? 1 : 0;
}
