/* cli — the `flowhost` commands: parses the global options, dispatches to
 * each command (check, graph, user, token, start, task(s), process(es), jobs,
 * send, signal, rename-node; serve goes to serve_main), prints JSON results
 * on stdout and errors on stderr.  Calls the engine, identity (users,
 * tokens), flowreg, auth, graph and serve_main. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "engine.h"
#include "engine_admin.h"
#include "flowreg.h"
#include "graph.h"
#include "identity.h"
#include "cli_versions.h"
#include "engine_versions.h"

/* The same text is README.md's "The command line": change both together. */
static const char USAGE[] =
    "usage: flowhost COMMAND [options]\n"
    "\n"
    "flowhost serve  [--flows DIR] [--db FILE] [--listen 127.0.0.1:8080] [--web DIR] [--threads N] [--jobs N]\n"
    "                [--executors N] [--budget S] [--lease-grace S] [--poll S] [--name NAME] [--lua-unsafe]\n"
    "                [--request-timeout S] [--max-connections N] [--per-address N]\n"
    "                [--metrics-listen HOST:PORT] [--metrics-max-age S] [--index-upkeep S]\n"
    "flowhost check  [FILE|DIR...]\n"
    "flowhost check  --against DB [FILE|DIR...] [--format text|json]\n"
    "flowhost graph  FLOW [--format dot|svg|json]\n"
    "flowhost user   add NAME [--admin] [--password PW|--password-stdin] | list\n"
    "                passwd NAME --password PW|--password-stdin\n"
    "                disable NAME | enable NAME\n"
    "                grant NAME|@GROUP PERM | revoke NAME|@GROUP PERM | join NAME GROUP | leave NAME GROUP\n"
    "flowhost token  create USER [--name LABEL] | list USER | revoke TOKEN|ID\n"
    "flowhost start  FLOW [NODE] [--data JSON] [--as USER]\n"
    "flowhost tasks  [--view inbox|queue|archive|all] [--flow F] [--process ID] [--status S]\n"
    "                [--limit N] [--after ID] [--asc] [--as USER]\n"
    "flowhost task   ID [show|assign|unassign|reassign|execute|cancel|undo|revive]\n"
    "                [--data JSON] [--user U] [--as USER]\n"
    "flowhost process ID [show|cancel] [--as USER]\n"
    "flowhost processes [--flow F] [--status S] [--limit N] [--after ID] [--as USER]\n"
    "flowhost jobs   run [--max N]\n"
    "flowhost send   NAME KEY [--data JSON] [--ttl SECONDS] [--as USER]\n"
    "flowhost signal NAME [--data JSON] [--as USER]\n"
    "flowhost rename-node FLOW OLD NEW\n"
    "flowhost migrate FLOW --to HASH [--from HASH] [--map OLD=NEW ...]\n"
    "flowhost prune-versions [FLOW] [--dry-run]\n"
    "flowhost compact [--page-size BYTES]   (SQLite, with flowhost stopped; PostgreSQL: sparse indexes rebuilt)\n"
    "\n"
    "Global options: --flows DIR (default flows), --db FILE (default flowhost.db; a postgresql://\n"
    "URL selects PostgreSQL), --lua DIR (Lua modules shared by flows), --sync full|normal\n"
    "(default full), --mmap MIB (SQLite reads that much of the file through a shared memory\n"
    "mapping: faster pages on large databases, counted in the resident size; default 0),\n"
    "--lua-unsafe (flows get Lua's full os, io, debug and C modules; default\n"
    "sandboxed).  Without --as, commands act as the\n"
    "system (every permission, owns no task).  --status: NEW ASSIGNED STARTED SCHEDULED DONE\n"
    "CANCELED ERROR REVIVED for tasks, NEW STARTED DONE CANCELED for processes.  --limit: 1 to 500\n"
    "(default 50); a list answers \"next_after\": pass it as --after for the next page.\n"
    "reassign --user U: a manager hands an ASSIGNED or NEW task to U.\n";

static int usage(const char *why) {
  if (why) fprintf(stderr, "flowhost: %s\n\n", why);
  fputs(USAGE, stderr);
  return 2;
}

/* --- argument parsing ---------------------------------------------------- */

#define MAX_ARGS 32

typedef struct args {
  const char *pos[MAX_ARGS];
  int npos;
  const char *keys[MAX_ARGS];
  const char *vals[MAX_ARGS];
  int nopt;
} args;

static int is_flag(const char *name) {
  return !strcmp(name, "admin") || !strcmp(name, "asc") || !strcmp(name, "password-stdin") ||
         !strcmp(name, "lua-unsafe") || !strcmp(name, "dry-run") || !strcmp(name, "help");   /* serve --help */
}

static int parse_args(int argc, char **argv, args *a, const char **bad) {
  memset(a, 0, sizeof *a);
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    if (!strncmp(s, "--", 2) && s[2]) {
      if (a->nopt == MAX_ARGS) return *bad = "too many options", -1;
      const char *name = s + 2;
      const char *eq = strchr(name, '=');
      if (eq) {
        static char names[MAX_ARGS][64];
        snprintf(names[a->nopt], sizeof names[0], "%.*s", (int)(eq - name), name);
        a->keys[a->nopt] = names[a->nopt];
        a->vals[a->nopt++] = eq + 1;
      } else if (is_flag(name)) {
        a->keys[a->nopt] = name;
        a->vals[a->nopt++] = "1";
      } else {
        if (i + 1 >= argc) return *bad = s, -1;
        a->keys[a->nopt] = name;
        a->vals[a->nopt++] = argv[++i];
      }
    } else {
      if (a->npos == MAX_ARGS) return *bad = "too many arguments", -1;
      a->pos[a->npos++] = s;
    }
  }
  return 0;
}

static const char *opt(const args *a, const char *name) {
  for (int i = a->nopt - 1; i >= 0; i--)
    if (!strcmp(a->keys[i], name)) return a->vals[i];
  return NULL;
}

/* Rejects options a command does not know, so typos are not ignored. */
static int only_opts(const args *a, const char *const *allowed) {
  static const char *const global[] = {"flows", "db", "lua", "as", "sync", "mmap", "lua-unsafe", NULL};
  for (int i = 0; i < a->nopt; i++) {
    int ok = 0;
    for (const char *const *g = global; *g && !ok; g++) ok = !strcmp(*g, a->keys[i]);
    for (const char *const *g = allowed; g && *g && !ok; g++) ok = !strcmp(*g, a->keys[i]);
    if (!ok) {
      fprintf(stderr, "flowhost: unknown option --%s\n\n", a->keys[i]);
      return 0;
    }
  }
  return 1;
}

static int parse_id(const char *s, int64_t *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*end || errno || v <= 0) return 0;
  *out = v;
  return 1;
}

/* --- output ---------------------------------------------------------------- */

static void print_json(json_t *v) {
  char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
  if (s) {
    puts(s);
    free(s);
  }
}

static int fail(fherr *err) {
  fprintf(stderr, "flowhost: %s: %s\n", fherr_code_name(err->code), err->message);
  if (err->fields) {
    const char *k;
    json_t *v;
    json_object_foreach(err->fields, k, v) fprintf(stderr, "  %s: %s\n", k, json_string_value(v));
  }
  if (err->traceback) fprintf(stderr, "%s\n", err->traceback);
  fherr_clear(err);
  return 1;
}

/* --- context: flows, engine, actor ---------------------------------------- */

typedef struct ctx {
  cli_globals g;
  flowreg *reg;
  engine *e;
  fh_actor actor;
} ctx;

static int open_ctx(ctx *c, fherr *err) {
  c->reg = flowreg_new(c->g.flows_dir, c->g.lua_dir, err);
  if (!c->reg) return FH_INTERNAL;
  flowreg_set_lua_unsafe(c->reg, c->g.lua_unsafe);
  int rc = flowreg_load_all(c->reg, err);
  if (rc) return rc;
  engine_options eo = {.flows = c->reg, .db_path = c->g.db_path, .synchronous_full = !c->g.sync_normal,
                       .worker_name = "cli"};
  if ((rc = engine_open(&eo, &c->e, err))) return rc;
  if (c->g.as_user) return identity_actor(c->e, c->g.as_user, &c->actor, err);
  fh_actor_system(&c->actor);
  return FH_OK;
}

static void close_ctx(ctx *c) {
  fh_actor_free(&c->actor);
  engine_close(c->e);
  flowreg_free(c->reg);
}

static int with_ctx(cli_globals *g, int (*fn)(ctx *, const args *), const args *a) {
  ctx c = {.g = *g};
  fherr err = {0};
  int rc = open_ctx(&c, &err);
  int code = rc ? fail(&err) : fn(&c, a);
  close_ctx(&c);
  return code;
}

static json_t *parse_data(const char *text, fherr *err) {
  if (!text) return json_object();
  json_error_t jerr;
  json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  if (!v) {
    fherr_set(err, FH_BAD_REQUEST, "--data is not valid JSON: %s (at %d:%d)", jerr.text, jerr.line, jerr.column);
    return NULL;
  }
  if (!json_is_object(v)) {
    json_decref(v);
    fherr_set(err, FH_BAD_REQUEST, "--data must be a JSON object");
    return NULL;
  }
  return v;
}

/* --- commands -------------------------------------------------------------- */

static int check_path(const char *path, const cli_globals *g, int *failures, int *count) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    (*failures)++;
    return 0;
  }
  if (S_ISDIR(sb.st_mode)) {
    fherr err = {0};
    flowreg *reg = flowreg_new(path, g->lua_dir, &err);
    if (reg) flowreg_set_lua_unsafe(reg, g->lua_unsafe);
    if (!reg || flowreg_load_all(reg, &err)) {
      fail(&err);
      (*failures)++;
      flowreg_free(reg);
      return 0;
    }
    flowgen *gen = flowreg_acquire(reg);
    for (int i = 0; i < gen->n; i++) {
      const flow_entry *e = &gen->entries[i];
      (*count)++;
      if (e->has_error) {
        printf("%s:%d: %s\n", e->error_file, e->error_line, e->error_message);
        (*failures)++;
      }
    }
    flowgen_release(reg, gen);
    flowreg_free(reg);
    return 0;
  }
  fherr err = {0};
  (*count)++;
  if (flowreg_check_file(path, g->lua_dir, g->flows_dir, g->lua_unsafe, &err)) {
    if (err.file[0] && !strstr(err.message, err.file)) printf("%s:%d: %s\n", err.file, err.line, err.message);
    else printf("%s\n", err.message);
    (*failures)++;
    fherr_clear(&err);
  }
  return 0;
}

static int cmd_check(cli_globals *g, const args *a) {
  static const char *const against_opts[] = {"against", "format", NULL};
  if (!only_opts(a, against_opts)) return usage(NULL);
  if (opt(a, "against")) return cli_check_against(g, opt(a, "against"), opt(a, "format"), a->pos + 1, a->npos - 1);
  if (opt(a, "format")) return usage("--format goes with --against");
  int failures = 0, count = 0;
  if (a->npos <= 1) check_path(g->flows_dir, g, &failures, &count);
  for (int i = 1; i < a->npos; i++) check_path(a->pos[i], g, &failures, &count);
  fflush(stdout);   /* the errors (stdout) come before the summary (stderr) */
  if (failures) {
    fprintf(stderr, "%d of %d flow file%s failed\n", failures, count, count == 1 ? "" : "s");
    return 1;
  }
  fprintf(stderr, "%d flow file%s ok\n", count, count == 1 ? "" : "s");
  return 0;
}

static int graph_run(ctx *c, const args *a) {
  fherr err = {0};
  const char *format = opt(a, "format") ? opt(a, "format") : "dot";
  if (!strcmp(format, "json")) {
    json_t *def;
    if (engine_flow_get(c->e, &c->actor, a->pos[1], &def, &err)) return fail(&err);
    print_json(def);
    json_decref(def);
    return 0;
  }
  char *dot;
  if (engine_flow_dot(c->e, a->pos[1], &dot, &err)) return fail(&err);
  if (!strcmp(format, "dot")) {
    fputs(dot, stdout);
  } else {
    char *svg;
    size_t len;
    if (graph_render_svg(dot, &svg, &len, &err)) {
      free(dot);
      return fail(&err);
    }
    fwrite(svg, 1, len, stdout);
    free(svg);
  }
  free(dot);
  return 0;
}

static int cmd_graph(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"format", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  if (a->npos != 2) return usage("graph needs a FLOW");
  const char *format = opt(a, "format");
  if (format && strcmp(format, "dot") && strcmp(format, "svg") && strcmp(format, "json"))
    return usage("--format must be dot, svg or json");
  return with_ctx(g, graph_run, a);
}

static int read_password(const args *a, char *buf, size_t cap) {
  const char *pw = opt(a, "password");
  if (pw) {
    snprintf(buf, cap, "%s", pw);
    return 1;
  }
  if (opt(a, "password-stdin")) {
    if (!fgets(buf, (int)cap, stdin)) return 0;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 1;
  }
  return 0;
}

/* grant, revoke, join, leave: NAME|@GROUP and PERM or GROUP */
static int user_pair(engine *e, const char *sub, const char *a, const char *b, fherr *err) {
  if (!strcmp(sub, "grant")) return identity_grant(e, a, b, err);
  if (!strcmp(sub, "revoke")) return identity_revoke(e, a, b, err);
  if (!strcmp(sub, "join")) return identity_join(e, a, b, err);
  return identity_leave(e, a, b, err);
}

/* add and passwd: the password given, or (add) a generated one. */
static int user_password(ctx *c, const args *a, const char *sub) {
  fherr err = {0};
  char pw[256] = "";
  int have = read_password(a, pw, sizeof pw);
  if (!have && strcmp(sub, "add")) {
    fprintf(stderr, "flowhost: passwd needs --password PW or --password-stdin\n");
    return 2;
  }
  int admin = opt(a, "admin") != NULL, rc;
  identity_ended ended = {0, 0};
  if (!have) rc = identity_user_add_random(c->e, a->pos[2], admin, pw, &err);
  else if (!strcmp(sub, "add")) rc = identity_user_add(c->e, a->pos[2], pw, admin, &err);
  else rc = identity_set_password(c->e, a->pos[2], pw, &ended, &err);
  if (rc) return fail(&err);
  if (!have) printf("created user %s with password %s\n", a->pos[2], pw);
  else if (!strcmp(sub, "add")) printf("created user %s\n", a->pos[2]);
  else
    printf("updated the password of %s; ended %lld sessions and %lld API tokens\n", a->pos[2],
           (long long)ended.sessions, (long long)ended.tokens);
  return 0;
}

static int user_active(ctx *c, const args *a, int active) {
  fherr err = {0};
  identity_ended ended = {0, 0};
  if (identity_set_active(c->e, a->pos[2], active, &ended, &err)) return fail(&err);
  if (active) printf("enabled user %s\n", a->pos[2]);
  else
    printf("disabled user %s; ended %lld sessions and %lld API tokens\n", a->pos[2], (long long)ended.sessions,
           (long long)ended.tokens);
  return 0;
}

static int user_run(ctx *c, const args *a) {
  fherr err = {0};
  const char *sub = a->pos[1];
  if (!strcmp(sub, "list")) {
    json_t *users;
    if (identity_users_list(c->e, &users, &err)) return fail(&err);
    print_json(users);
    json_decref(users);
    return 0;
  }
  if (!strcmp(sub, "add") || !strcmp(sub, "passwd")) return user_password(c, a, sub);
  if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) return user_active(c, a, !strcmp(sub, "enable"));
  if (user_pair(c->e, sub, a->pos[2], a->pos[3], &err)) return fail(&err);
  printf("ok\n");
  return 0;
}

static int cmd_user(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"admin", "password", "password-stdin", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  if (a->npos < 2) return usage("user needs a subcommand");
  const char *sub = a->pos[1];
  int want = !strcmp(sub, "list") ? 2
             : (!strcmp(sub, "add") || !strcmp(sub, "passwd") || !strcmp(sub, "disable") || !strcmp(sub, "enable")) ? 3
             : (!strcmp(sub, "grant") || !strcmp(sub, "revoke") || !strcmp(sub, "join") || !strcmp(sub, "leave")) ? 4
             : -1;
  if (want < 0) return usage("unknown user subcommand");
  if (a->npos != want) return usage("wrong number of arguments for user");
  return with_ctx(g, user_run, a);
}

static int token_run(ctx *c, const args *a) {
  fherr err = {0};
  const char *sub = a->pos[1];
  if (!strcmp(sub, "list")) {
    json_t *tokens;
    if (identity_token_list(c->e, a->pos[2], &tokens, &err)) return fail(&err);
    print_json(tokens);
    json_decref(tokens);
    return 0;
  }
  if (!strcmp(sub, "revoke")) {
    int64_t id = 0;
    char user[IDENTITY_NAME_MAX + 1];
    if (identity_token_revoke(c->e, a->pos[2], &id, user, &err)) return fail(&err);
    printf("revoked token %lld of %s\n", (long long)id, user);
    return 0;
  }
  char token[AUTH_TOKEN_LEN];
  if (identity_token_create(c->e, a->pos[2], opt(a, "name"), token, &err)) return fail(&err);
  printf("%s\n", token);
  return 0;
}

static int cmd_token(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"name", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  const char *sub = a->npos > 1 ? a->pos[1] : "";
  if (a->npos != 3 || (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke")))
    return usage("token create USER [--name LABEL] | list USER | revoke TOKEN|ID");
  if (strcmp(sub, "create") && opt(a, "name")) return usage("--name is for token create");
  return with_ctx(g, token_run, a);
}

static int start_run(ctx *c, const args *a) {
  fherr err = {0};
  json_t *data = parse_data(opt(a, "data"), &err);
  if (!data) return fail(&err);
  json_t *out;
  int rc = engine_start(c->e, &c->actor, a->pos[1], a->npos > 2 ? a->pos[2] : NULL, data, &out, &err);
  json_decref(data);
  if (rc) return fail(&err);
  print_json(out);
  json_decref(out);
  return 0;
}

static int cmd_start(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"data", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  if (a->npos < 2 || a->npos > 3) return usage("start FLOW [NODE]");
  return with_ctx(g, start_run, a);
}

static const char *const TASK_STATUSES[] = {"NEW", "ASSIGNED", "STARTED", "SCHEDULED", "DONE",
                                            "CANCELED", "ERROR", "REVIVED", NULL};
static const char *const PROCESS_STATUSES[] = {"NEW", "STARTED", "DONE", "CANCELED", NULL};

static int in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(s, *list)) return 1;
  return 0;
}

/* --status, --limit and --after as the HTTP API checks them (usage, exit 2). */
static int check_list_opts(const args *a, const char *const *statuses) {
  const char *status = opt(a, "status"), *limit = opt(a, "limit");
  int64_t v;
  if (status && !in_list(status, statuses)) {
    fprintf(stderr, "flowhost: unknown status '%s'\n\n", status);
    return usage(NULL);
  }
  if (limit && (!parse_id(limit, &v) || v > 500)) return usage("--limit must be an integer from 1 to 500");
  if (opt(a, "after") && !parse_id(opt(a, "after"), &v)) return usage("--after needs an id");
  return 0;
}

static int tasks_run(ctx *c, const args *a) {
  fherr err = {0};
  engine_task_query q = {.view = opt(a, "view"), .flow = opt(a, "flow"), .status = opt(a, "status"),
                         .ascending = opt(a, "asc") != NULL};
  if (!q.view) q.view = c->g.as_user ? "inbox" : "all";
  if (opt(a, "process") && !parse_id(opt(a, "process"), &q.process_id)) return usage("--process needs an id");
  if (opt(a, "limit")) q.limit = atoi(opt(a, "limit"));
  if (opt(a, "after")) parse_id(opt(a, "after"), &q.after);
  json_t *out;
  if (engine_tasks_list(c->e, &c->actor, &q, &out, &err)) return fail(&err);
  print_json(out);
  json_decref(out);
  return 0;
}

static int cmd_tasks(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"view", "flow", "status", "process", "limit", "after", "asc", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  if (a->npos != 1) return usage("tasks takes options only");
  const char *view = opt(a, "view");
  static const char *const views[] = {"inbox", "queue", "archive", "all", NULL};
  if (view && !in_list(view, views)) return usage("--view must be inbox, queue, archive or all");
  int bad = check_list_opts(a, TASK_STATUSES);
  if (bad) return bad;
  return with_ctx(g, tasks_run, a);
}

static int task_run(ctx *c, const args *a) {
  fherr err = {0};
  int64_t id = 0;
  parse_id(a->pos[1], &id);
  const char *action = a->npos > 2 ? a->pos[2] : "show";
  json_t *out = NULL;
  int rc;
  if (!strcmp(action, "show")) {
    rc = engine_task_get(c->e, &c->actor, id, &out, &err);
  } else {
    json_t *args = json_object();
    if (opt(a, "data")) {
      json_t *data = parse_data(opt(a, "data"), &err);
      if (!data) {
        json_decref(args);
        return fail(&err);
      }
      json_object_set_new(args, "data", data);
    }
    if (opt(a, "user")) json_object_set_new(args, "user", json_string(opt(a, "user")));
    rc = engine_task_action(c->e, &c->actor, id, action, args, &out, &err);
    json_decref(args);
  }
  if (rc) return fail(&err);
  print_json(out);
  json_decref(out);
  return 0;
}

static int cmd_task(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"data", "user", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  int64_t id = 0;
  if (a->npos < 2 || a->npos > 3 || !parse_id(a->pos[1], &id)) return usage("task ID [ACTION]");
  static const char *const actions[] = {"show", "assign", "unassign", "reassign", "execute",
                                        "cancel", "undo", "revive", NULL};
  if (a->npos == 3 && !in_list(a->pos[2], actions)) {
    fprintf(stderr, "flowhost: unknown task action '%s'\n\n", a->pos[2]);
    return usage(NULL);
  }
  if (a->npos == 3 && !strcmp(a->pos[2], "reassign") && !opt(a, "user")) return usage("task ID reassign --user U");
  return with_ctx(g, task_run, a);
}

static int process_run(ctx *c, const args *a) {
  fherr err = {0};
  int64_t id = 0;
  parse_id(a->pos[1], &id);
  json_t *out;
  int rc = a->npos > 2 ? engine_process_cancel(c->e, &c->actor, id, &out, &err)
                       : engine_process_get(c->e, &c->actor, id, &out, &err);
  if (rc) return fail(&err);
  if (a->npos <= 2) engine_versions_decorate_process(c->e, out);
  print_json(out);
  json_decref(out);
  return 0;
}

static int cmd_process(cli_globals *g, const args *a) {
  if (!only_opts(a, NULL)) return usage(NULL);
  int64_t id = 0;
  if (a->npos < 2 || a->npos > 3 || !parse_id(a->pos[1], &id)) return usage("process ID [show|cancel]");
  if (a->npos == 3 && strcmp(a->pos[2], "cancel") && strcmp(a->pos[2], "show")) return usage("process ID [show|cancel]");
  if (a->npos == 3 && !strcmp(a->pos[2], "show")) {
    args b = *a;
    b.npos = 2;
    return with_ctx(g, process_run, &b);
  }
  return with_ctx(g, process_run, a);
}

static int processes_run(ctx *c, const args *a) {
  fherr err = {0};
  engine_process_query q = {.flow = opt(a, "flow"), .status = opt(a, "status")};
  if (opt(a, "limit")) q.limit = atoi(opt(a, "limit"));
  if (opt(a, "after")) parse_id(opt(a, "after"), &q.after);
  json_t *out;
  if (engine_processes_list(c->e, &c->actor, &q, &out, &err)) return fail(&err);
  print_json(out);
  json_decref(out);
  return 0;
}

static int cmd_processes(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"flow", "status", "limit", "after", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  if (a->npos != 1) return usage("processes takes options only");
  int bad = check_list_opts(a, PROCESS_STATUSES);
  if (bad) return bad;
  return with_ctx(g, processes_run, a);
}

static int jobs_run(ctx *c, const args *a) {
  fherr err = {0};
  int ran = 0;
  int max = opt(a, "max") ? atoi(opt(a, "max")) : 0;
  if (engine_run_due(c->e, max, &ran, &err)) return fail(&err);
  printf("{\"ran\": %d}\n", ran);
  return 0;
}

static int cmd_jobs(cli_globals *g, const args *a) {
  static const char *const allowed[] = {"max", NULL};
  if (!only_opts(a, allowed)) return usage(NULL);
  if (a->npos != 2 || strcmp(a->pos[1], "run")) return usage("jobs run [--max N]");
  return with_ctx(g, jobs_run, a);
}

/* the longest --ttl of a kept message: ten years, as the HTTP API allows */
#define CLI_MESSAGE_TTL_MAX (10.0 * 365 * 86400)

/* --ttl: a number of seconds > 0; 0 when absent (the host's default). */
static int parse_ttl(const char *s, double *out) {
  *out = 0;
  if (!s) return 1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno || !(v > 0) || v > CLI_MESSAGE_TTL_MAX) return 0;
  *out = v;
  return 1;
}

/* send NAME KEY and signal NAME: the engine's answer as JSON. */
static int send_run(ctx *c, const args *a) {
  fherr err = {0};
  int signal = !strcmp(a->pos[0], "signal");
  engine_send_args m = {.signal = signal, .name = a->pos[1], .key = signal ? NULL : a->pos[2]};
  parse_ttl(opt(a, "ttl"), &m.ttl);
  json_t *data = opt(a, "data") ? parse_data(opt(a, "data"), &err) : NULL;
  if (opt(a, "data") && !data) return fail(&err);
  m.data = data;
  json_t *out = NULL;
  int rc = engine_send(c->e, &c->actor, &m, &out, &err);
  json_decref(data);
  if (rc) return fail(&err);
  print_json(out);
  json_decref(out);
  return 0;
}

static int cmd_send(cli_globals *g, const args *a) {
  static const char *const message_opts[] = {"data", "ttl", NULL};
  static const char *const signal_opts[] = {"data", NULL};
  int signal = !strcmp(a->pos[0], "signal");
  if (!only_opts(a, signal ? signal_opts : message_opts)) return usage(NULL);
  if (signal && a->npos != 2) return usage("signal NAME [--data JSON]");
  if (!signal && a->npos != 3) return usage("send NAME KEY [--data JSON] [--ttl SECONDS]");
  double ttl;
  if (!parse_ttl(opt(a, "ttl"), &ttl)) return usage("--ttl must be a number of seconds > 0 (at most ten years)");
  return with_ctx(g, send_run, a);
}

static int rename_run(ctx *c, const args *a) {
  fherr err = {0};
  int64_t changed = 0;
  if (engine_rename_node(c->e, a->pos[1], a->pos[2], a->pos[3], &changed, &err)) return fail(&err);
  printf("{\"renamed\": %lld}\n", (long long)changed);
  return 0;
}

static int cmd_rename(cli_globals *g, const args *a) {
  if (!only_opts(a, NULL)) return usage(NULL);
  if (a->npos != 4) return usage("rename-node FLOW OLD NEW");
  return with_ctx(g, rename_run, a);
}

static int cmd_migrate(cli_globals *g, const args *a) {
  static const char *const migrate_opts[] = {"to", "from", "map", NULL};
  if (!only_opts(a, migrate_opts)) return usage(NULL);
  if (a->npos != 2 || !opt(a, "to")) return usage("migrate FLOW --to HASH [--from HASH] [--map OLD=NEW ...]");
  const char *maps[MAX_ARGS];
  int nmaps = 0;
  for (int i = 0; i < a->nopt; i++)
    if (!strcmp(a->keys[i], "map")) maps[nmaps++] = a->vals[i];
  return cli_migrate(g, a->pos[1], opt(a, "to"), opt(a, "from"), maps, nmaps);
}

static int prune_run(ctx *c, const args *a) {
  fherr err = {0};
  json_t *out = NULL;
  if (engine_versions_prune(c->e, a->npos == 2 ? a->pos[1] : NULL, opt(a, "dry-run") != NULL, &out, &err))
    return fail(&err);
  print_json(out);
  json_decref(out);
  return 0;
}

/* SQLite: offline, opens no engine (it would keep the file open), only the
 * file.  PostgreSQL: the index upkeep's round, with the hosts running. */
static int cmd_compact(cli_globals *g, const args *a) {
  static const char *const compact_opts[] = {"page-size", NULL};
  if (!only_opts(a, compact_opts)) return usage(NULL);
  if (a->npos != 1) return usage("compact takes no arguments: the database is --db");
  int64_t page_size = 2048;   /* what flowhost gives a new file (store_writer.c) */
  if (opt(a, "page-size") && !parse_id(opt(a, "page-size"), &page_size))
    return usage("--page-size must be a number of bytes");
  fherr err = {0};
  json_t *out = NULL;
  /* PostgreSQL: the indexes of open work rebuilt where sparse, beside the
   * hosts (docs/architecture-pg.md, "Index upkeep") */
  int pg = engine_db_is_postgres(g->db_path);
  if (pg && opt(a, "page-size")) return usage("--page-size is for SQLite files; PostgreSQL's pages are 8 KiB");
  if (pg ? engine_index_upkeep_now(g->db_path, &out, &err)
         : engine_admin_compact(g->db_path, page_size > INT_MAX ? INT_MAX : (int)page_size, &out, &err))
    return fail(&err);
  print_json(out);
  json_decref(out);
  return 0;
}

static int cmd_prune(cli_globals *g, const args *a) {
  static const char *const prune_opts[] = {"dry-run", NULL};
  if (!only_opts(a, prune_opts)) return usage(NULL);
  if (a->npos > 2) return usage("prune-versions [FLOW] [--dry-run]");
  return with_ctx(g, prune_run, a);
}

int cli_main(int argc, char **argv) {
  if (argc < 2) return usage(NULL);
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    fputs(USAGE, stdout);
    return 0;
  }
  if (auth_init()) {
    fprintf(stderr, "flowhost: libsodium failed to initialize\n");
    return 1;
  }
  args a;
  const char *bad = NULL;
  if (parse_args(argc - 1, argv + 1, &a, &bad)) {
    fprintf(stderr, "flowhost: option needs a value: %s\n\n", bad);
    return usage(NULL);
  }
  cli_globals g = {.flows_dir = opt(&a, "flows") ? opt(&a, "flows") : "flows",
                   .db_path = opt(&a, "db") ? opt(&a, "db") : "flowhost.db",
                   .lua_dir = opt(&a, "lua"),
                   .as_user = opt(&a, "as"),
                   .lua_unsafe = opt(&a, "lua-unsafe") != NULL};
  const char *sync = opt(&a, "sync");
  if (sync && strcmp(sync, "full") && strcmp(sync, "normal")) return usage("--sync must be full or normal");
  g.sync_normal = sync && !strcmp(sync, "normal");
  const char *mmap_mib = opt(&a, "mmap");
  if (mmap_mib) {
    char *end = NULL;
    errno = 0;
    long long mib = strtoll(mmap_mib, &end, 10);
    if (errno || end == mmap_mib || *end || mib < 0 || mib > 1 << 20)
      return usage("--mmap must be a number of MiB from 0 to 1048576");
    store_sqlite_mmap((int64_t)mib << 20);
  }
  const char *cmd = a.pos[0];
  if (!cmd) return usage(NULL);
  if (!strcmp(cmd, "serve")) return serve_main(&g, argc - 1, argv + 1);
  if (!strcmp(cmd, "check")) return cmd_check(&g, &a);
  if (!strcmp(cmd, "graph")) return cmd_graph(&g, &a);
  if (!strcmp(cmd, "user")) return cmd_user(&g, &a);
  if (!strcmp(cmd, "token")) return cmd_token(&g, &a);
  if (!strcmp(cmd, "start")) return cmd_start(&g, &a);
  if (!strcmp(cmd, "tasks")) return cmd_tasks(&g, &a);
  if (!strcmp(cmd, "task")) return cmd_task(&g, &a);
  if (!strcmp(cmd, "process")) return cmd_process(&g, &a);
  if (!strcmp(cmd, "processes")) return cmd_processes(&g, &a);
  if (!strcmp(cmd, "jobs")) return cmd_jobs(&g, &a);
  if (!strcmp(cmd, "send") || !strcmp(cmd, "signal")) return cmd_send(&g, &a);
  if (!strcmp(cmd, "rename-node")) return cmd_rename(&g, &a);
  if (!strcmp(cmd, "migrate")) return cmd_migrate(&g, &a);
  if (!strcmp(cmd, "prune-versions")) return cmd_prune(&g, &a);
  if (!strcmp(cmd, "compact")) return cmd_compact(&g, &a);
  return usage("unknown command");
}
