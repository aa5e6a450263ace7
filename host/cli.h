/* cli — the `flowhost` command line: parses arguments and calls the engine.
 *
 * Every command returns its exit code: 0 success, 1 the action failed (the
 * error is printed on stderr), 2 wrong usage (the usage text is printed).
 * Data commands print JSON on stdout so scripts can use them.
 */
#ifndef CLI_H
#define CLI_H

typedef struct cli_globals {
  const char *flows_dir;   /* --flows, default "flows" */
  const char *db_path;     /* --db, default "flowhost.db" */
  const char *lua_dir;     /* --lua, default: the build's lua/ folder */
  const char *as_user;     /* --as */
  int sync_normal;         /* --sync normal */
  int lua_unsafe;          /* --lua-unsafe: flows get the full Lua libraries, no sandbox */
} cli_globals;

int cli_main(int argc, char **argv);
/* Implemented by the HTTP host (serve.c). */
int serve_main(const cli_globals *g, int argc, char **argv);

#endif
