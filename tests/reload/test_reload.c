/* Hot reload: the inotify watcher (reload.c) on a temporary flows folder,
 * and the registry's generations under concurrent readers.
 *
 *  watch_edits      in-place save, atomic save (temp + rename), vim-style
 *                   save, broken save keeps the old definition, fix clears
 *  watch_files      new and deleted files, editor temp files ignored
 *  watch_folders    subfolders made later (also deep at once), folders moved
 *                   in and out, lib/ changes reload every flow
 *  watch_stop       reload_stop wakes and joins the thread at once; start
 *                   and stop again; a missing folder is waited for
 *  reload_race      threads with their own engines act and read while the
 *                   main thread reloads 50 times: every call succeeds; under
 *                   ASan nothing leaks
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fhtime.h"
#include "reload.h"
#include "test.h"

#define WAIT_SECONDS 5.0

static char dir[128];
static flowreg *reg;
static reload *watcher;

static const char *lua_dir(void) {
  static char path[512];
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  snprintf(path, sizeof path, "%s/lua", src);
  return path;
}

/* A flow "title": start -> write -> [review ->] finish. */
static void flow_text(char *out, size_t cap, const char *title, int review) {
  snprintf(out, cap,
           "local flow = require \"flow\"\n"
           "local this = flow.this\n"
           "return flow.Flow {\n"
           "  title = \"%s\",\n"
           "  start = flow.StartFunction():Next(this.write),\n"
           "  write = flow.View { title = \"Write\" }:Next(this.%s),\n"
           "%s"
           "  finish = flow.End(),\n"
           "}\n",
           title, review ? "review" : "finish", review ? "  review = flow.View { title = \"Review\" }:Next(this.finish),\n" : "");
}

static void path_of(char *out, size_t cap, const char *rel) { snprintf(out, cap, "%s/%s", dir, rel); }

static int write_rel(const char *rel, const char *text) {
  char path[512];
  path_of(path, sizeof path, rel);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

static int write_flow(const char *rel, const char *title, int review) {
  char text[1024];
  flow_text(text, sizeof text, title, review);
  return write_rel(rel, text);
}

static int mkdir_rel(const char *rel) {
  char path[512];
  path_of(path, sizeof path, rel);
  return mkdir(path, 0755);
}

static int rename_rel(const char *from, const char *to) {
  char a[512], b[512];
  path_of(a, sizeof a, from);
  path_of(b, sizeof b, to);
  return rename(a, b);
}

static int unlink_rel(const char *rel) {
  char path[512];
  path_of(path, sizeof path, rel);
  return unlink(path);
}

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

static long gen_number(void) {
  flowgen *gen = flowreg_acquire(reg);
  long n = gen ? gen->number : 0;
  flowgen_release(reg, gen);
  return n;
}

/* What the registry says about a flow now. */
typedef struct seen {
  int present, has_def, has_error, error_line;
  char title[128];
  char error_file[256];
  char path[512];
} seen;

static seen look(const char *name) {
  seen s = {0};
  flowgen *gen = flowreg_acquire(reg);
  const flow_entry *e = flowgen_find(gen, name);
  if (e) {
    s.present = 1;
    s.has_def = e->def != NULL;
    s.has_error = e->has_error;
    s.error_line = e->error_line;
    snprintf(s.title, sizeof s.title, "%s", e->def && e->def->title ? e->def->title : "");
    snprintf(s.error_file, sizeof s.error_file, "%s", e->error_file);
    snprintf(s.path, sizeof s.path, "%s", e->path);
  }
  flowgen_release(reg, gen);
  return s;
}

/* Waits until flow `name` shows `title` with no error (title NULL: until it
 * is absent; error_line > 0: until it shows an error on that line). */
static int wait_for(const char *name, const char *title, int error_line) {
  double until = fhtime_monotonic() + WAIT_SECONDS;
  while (fhtime_monotonic() < until) {
    seen s = look(name);
    if (!title && !s.present) return 1;
    if (title && s.present && !strcmp(s.title, title) && (error_line ? s.error_line == error_line : !s.has_error))
      return 1;
    sleep_ms(5);
  }
  seen s = look(name);
  fprintf(stderr, "  waited for %s '%s' (error line %d); have present=%d title='%s' error=%d line=%d\n", name,
          title ? title : "(absent)", error_line, s.present, s.title, s.has_error, s.error_line);
  return 0;
}

static int setup(void) {
  snprintf(dir, sizeof dir, "/tmp/flowhost-reload-%d", (int)getpid());
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
  if (system(cmd)) return 1;
  if (write_flow("doc.lua", "Doc v1", 0)) return 1;
  fherr err = {0};
  reg = flowreg_new(dir, lua_dir(), &err);
  if (!reg || flowreg_load_all(reg, &err)) {
    fprintf(stderr, "  flows: %s\n", err.message);
    return 1;
  }
  if (reload_start(reg, &watcher, &err)) {
    fprintf(stderr, "  reload_start: %s\n", err.message);
    return 1;
  }
  return 0;
}

static void teardown(void) {
  reload_stop(watcher);
  watcher = NULL;
  flowreg_free(reg);
  reg = NULL;
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) fprintf(stderr, "  cannot remove %s\n", dir);
}

/* --- the watcher ------------------------------------------------------------ */

static int t_watch_edits(void) {
  CHECK(!setup());
  CHECK(look("doc").present && !strcmp(look("doc").title, "Doc v1"));
  /* in place */
  CHECK(!write_flow("doc.lua", "Doc v2", 0));
  CHECK(wait_for("doc", "Doc v2", 0));
  /* atomic: a temp file renamed over the flow */
  CHECK(!write_flow("doc.lua.tmp", "Doc v3", 1));
  CHECK(!rename_rel("doc.lua.tmp", "doc.lua"));
  CHECK(wait_for("doc", "Doc v3", 0));
  /* hidden temp file, as many editors do */
  CHECK(!write_flow(".doc.lua.swx", "Doc v4", 1));
  CHECK(!rename_rel(".doc.lua.swx", "doc.lua"));
  CHECK(wait_for("doc", "Doc v4", 0));
  /* vim without backupcopy: move the old file away, write anew, delete the backup */
  CHECK(!rename_rel("doc.lua", "doc.lua~"));
  CHECK(!write_flow("doc.lua", "Doc v5", 0));
  CHECK(!unlink_rel("doc.lua~"));
  CHECK(wait_for("doc", "Doc v5", 0));
  /* broken on line 4: the old definition keeps serving, with the error */
  CHECK(!write_rel("doc.lua", "local flow = require \"flow\"\n\nreturn flow.Flow {\n  start = = 1,\n}\n"));
  CHECK(wait_for("doc", "Doc v5", 4));
  seen s = look("doc");
  CHECK(s.has_def && s.has_error);
  CHECK(strstr(s.error_file, "doc.lua") != NULL);
  /* fixed: error cleared */
  CHECK(!write_flow("doc.lua", "Doc v6", 1));
  CHECK(wait_for("doc", "Doc v6", 0));
  teardown();
  return 0;
}

static int t_watch_files(void) {
  CHECK(!setup());
  CHECK(!write_flow("extra.lua", "Extra", 0));
  CHECK(wait_for("extra", "Extra", 0));
  CHECK(!unlink_rel("extra.lua"));
  CHECK(wait_for("extra", NULL, 0));
  CHECK(look("doc").present);
  /* editor leftovers and other files: no new generation at all */
  sleep_ms(200);
  long before = gen_number();
  CHECK(!write_flow("doc.lua.swp", "Swap", 0));
  CHECK(!write_flow(".doc.lua.swp", "Swap", 0));
  CHECK(!write_flow("doc.lua~", "Backup", 0));
  CHECK(!write_flow("#doc.lua#", "Emacs", 0));
  CHECK(!write_rel("4913", ""));
  CHECK(!write_rel("notes.txt", "hello"));
  CHECK(!unlink_rel("4913"));
  /* the same text saved again: nothing to do */
  char text[1024];
  flow_text(text, sizeof text, "Doc v1", 0);
  CHECK(!write_rel("doc.lua", text));
  sleep_ms(300);
  CHECK(gen_number() == before);
  /* a name that is not a flow name is not served */
  CHECK(!write_flow("Bad-Name.lua", "Bad", 0));
  sleep_ms(200);
  CHECK(!look("Bad-Name").present);
  teardown();
  return 0;
}

static int t_watch_folders(void) {
  CHECK(!setup());
  /* a folder made after the start, then a file in it */
  CHECK(!mkdir_rel("team"));
  sleep_ms(100);
  CHECK(!write_flow("team/leave.lua", "Leave", 0));
  CHECK(wait_for("leave", "Leave", 0));
  /* deep folders made at once, the file written right away: the watch
   * arrives after the file, the rescan still finds it */
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/x/y/z' && cp '%s/doc.lua' '%s/x/y/z/deep.lua'", dir, dir, dir);
  CHECK(!system(cmd));
  CHECK(wait_for("deep", "Doc v1", 0));
  /* and edits below it are seen */
  CHECK(!write_flow("x/y/z/deep.lua", "Deep v2", 0));
  CHECK(wait_for("deep", "Deep v2", 0));
  /* a folder moved out of the flows folder takes its flows along */
  char outside[256];
  snprintf(outside, sizeof outside, "%s-outside", dir);
  snprintf(cmd, sizeof cmd, "mv '%s/x' '%s'", dir, outside);
  CHECK(!system(cmd));
  CHECK(wait_for("deep", NULL, 0));
  /* and moved back in, they are served again, and watched */
  snprintf(cmd, sizeof cmd, "mv '%s' '%s/x2'", outside, dir);
  CHECK(!system(cmd));
  CHECK(wait_for("deep", "Deep v2", 0));
  CHECK(!write_flow("x2/y/z/deep.lua", "Deep v3", 0));
  CHECK(wait_for("deep", "Deep v3", 0));
  /* a folder deleted with its flows */
  snprintf(cmd, sizeof cmd, "rm -r '%s/team'", dir);
  CHECK(!system(cmd));
  CHECK(wait_for("leave", NULL, 0));
  /* lib/: created later; a change there reloads the flows that use it */
  CHECK(!mkdir_rel("lib"));
  CHECK(!write_rel("lib/names.lua", "return { title = \"Lib v1\" }\n"));
  CHECK(!write_rel("uses.lua", "local flow = require \"flow\"\nlocal this = flow.this\n"
                               "return flow.Flow { title = require(\"names\").title,\n"
                               "  start = flow.StartFunction():Next(this.finish), finish = flow.End() }\n"));
  CHECK(wait_for("uses", "Lib v1", 0));
  CHECK(!look("names").present);
  CHECK(!write_rel("lib/names.lua.tmp", "return { title = \"Lib v2\" }\n"));
  CHECK(!rename_rel("lib/names.lua.tmp", "lib/names.lua"));
  CHECK(wait_for("uses", "Lib v2", 0));
  CHECK(!look("names").present);
  CHECK(look("doc").present && !look("doc").has_error);
  teardown();
  return 0;
}

static int t_watch_stop(void) {
  /* stop is prompt even with nothing happening */
  CHECK(!setup());
  double t0 = fhtime_monotonic();
  reload_stop(watcher);
  watcher = NULL;
  CHECK(fhtime_monotonic() - t0 < 0.5);
  /* again on the same registry, and stop in the middle of a burst */
  fherr err = {0};
  CHECK(!reload_start(reg, &watcher, &err));
  CHECK(!write_flow("doc.lua", "Doc burst", 0));
  reload_stop(watcher);
  watcher = NULL;
  /* a flows folder that does not exist yet is waited for */
  char later[256];
  snprintf(later, sizeof later, "%s/later", dir);
  flowreg *reg2 = flowreg_new(later, lua_dir(), &err);
  CHECK(reg2 && !flowreg_load_all(reg2, &err));
  reload *w2 = NULL;
  CHECK(!reload_start(reg2, &w2, &err));
  CHECK(!mkdir_rel("later"));
  CHECK(!write_flow("later/late.lua", "Late", 0));
  double until = fhtime_monotonic() + WAIT_SECONDS;
  int found = 0;
  while (!found && fhtime_monotonic() < until) {
    flowgen *gen = flowreg_acquire(reg2);
    found = flowgen_find(gen, "late") != NULL;
    flowgen_release(reg2, gen);
    sleep_ms(20);
  }
  reload_stop(w2);
  flowreg_free(reg2);
  CHECK(found);
  teardown();
  return 0;
}

/* --- readers while reloading --------------------------------------------------- */

#define READERS 4

static char race_db[256];
static atomic_int race_done;

typedef struct reader {
  engine *e;
  long calls, failures;
  char last_error[1024];
} reader;

static void *read_loop(void *arg) {
  reader *rd = arg;
  fh_actor sys;
  fh_actor_system(&sys);
  while (!race_done) {
    json_t *out = NULL;
    fherr err = {0};
    int rc = engine_flows_list(rd->e, &sys, &out, &err);
    json_decref(out);
    out = NULL;
    if (!rc) rc = engine_start(rd->e, &sys, "doc", "start", NULL, &out, &err);
    int64_t task = 0;
    if (!rc) {
      json_t *tasks = json_object_get(out, "tasks");
      task = json_integer_value(json_object_get(json_array_get(tasks, json_array_size(tasks) - 1), "id"));
    }
    json_decref(out);
    out = NULL;
    if (!rc && task) rc = engine_task_get(rd->e, &sys, task, &out, &err);
    json_decref(out);
    out = NULL;
    if (!rc) {
      engine_task_query q = {.view = "all", .limit = 20};
      rc = engine_tasks_list(rd->e, &sys, &q, &out, &err);
      json_decref(out);
    }
    rd->calls++;
    if (rc) {
      rd->failures++;
      snprintf(rd->last_error, sizeof rd->last_error, "%s", err.message);
    }
    fherr_clear(&err);
  }
  return NULL;
}

static int t_reload_race(void) {
  snprintf(dir, sizeof dir, "/tmp/flowhost-race-%d", (int)getpid());
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
  CHECK(!system(cmd));
  CHECK(!write_flow("doc.lua", "Doc v0", 0));
  CHECK(!write_flow("other.lua", "Other", 1));
  fherr err = {0};
  reg = flowreg_new(dir, lua_dir(), &err);
  CHECK(reg && !flowreg_load_all(reg, &err));
  snprintf(race_db, sizeof race_db, "%s/race.db", dir);
  reader readers[READERS] = {0};
  for (int i = 0; i < READERS; i++) {
    engine_options eo = {.flows = reg, .db_path = race_db, .synchronous_full = 0, .worker_name = "race"};
    CHECK(!engine_open(&eo, &readers[i].e, &err));
  }
  pthread_t threads[READERS];
  race_done = 0;
  for (int i = 0; i < READERS; i++) CHECK(!pthread_create(&threads[i], NULL, read_loop, &readers[i]));
  char path[512];
  path_of(path, sizeof path, "doc.lua");
  int reloads = 0;
  for (int i = 1; i <= 50; i++) {
    char title[32];
    snprintf(title, sizeof title, "Doc v%d", i);
    if (i % 7 == 0) CHECK(!write_rel("doc.lua", "return flow.Flow {\n"));   /* broken: old one serves */
    else CHECK(!write_flow("doc.lua", title, i % 2));
    int changed = 0;
    CHECK(!flowreg_reload_path(reg, path, &changed, &err));
    reloads += changed;
    sleep_ms(10);
  }
  race_done = 1;
  long calls = 0, failures = 0;
  for (int i = 0; i < READERS; i++) {
    pthread_join(threads[i], NULL);
    calls += readers[i].calls;
    failures += readers[i].failures;
    if (readers[i].failures) fprintf(stderr, "  reader %d: %s\n", i, readers[i].last_error);
    engine_close(readers[i].e);
  }
  fprintf(stderr, "  %d reloads, %ld calls, %ld failed\n", reloads, calls, failures);
  CHECK(reloads == 50);
  CHECK(failures == 0);
  CHECK(calls > 0);
  /* only the registry's own reference is left on the current generation */
  flowgen *gen = flowreg_acquire(reg);
  CHECK(gen->refs == 2);
  flowgen_release(reg, gen);
  flowreg_free(reg);
  reg = NULL;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(!system(cmd));
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {{"watch_edits", t_watch_edits},
                                    {"watch_files", t_watch_files},
                                    {"watch_folders", t_watch_folders},
                                    {"watch_stop", t_watch_stop},
                                    {"reload_race", t_reload_race},
                                    {NULL, NULL}};
  return test_main(tests, argc, argv);
}
