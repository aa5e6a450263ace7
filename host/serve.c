#include <stdio.h>

#include "cli.h"

/* Replaced by the HTTP host. */
int serve_main(const cli_globals *g, int argc, char **argv) {
  (void)g; (void)argc; (void)argv;
  fprintf(stderr, "flowhost: serve is not available in this build\n");
  return 1;
}
