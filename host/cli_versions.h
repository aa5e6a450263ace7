/* cli_versions — the commands about flow versions: `flowhost check
 * --against DB` (what the edited files would do to running processes) and
 * `flowhost migrate` (move running processes to another version).  Exit
 * codes as cli.h says; check --against exits 1 when running work would be
 * stranded (or a file fails to load). */
#ifndef CLI_VERSIONS_H
#define CLI_VERSIONS_H

#include "cli.h"

int cli_check_against(const cli_globals *g, const char *db, const char *format, const char *const *paths,
                      int npaths);
/* maps: "old=new" strings. */
int cli_migrate(const cli_globals *g, const char *flow, const char *to, const char *from, const char *const *maps,
                int nmaps);

#endif
