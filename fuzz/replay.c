/* replay — runs a fuzz harness without libFuzzer, for the ordinary build.
 *
 *   fuzz_replay_NAME PATH...
 *
 * Each PATH is a file or a folder; every regular file of a folder (not
 * recursive, in name order) is passed once to the harness's
 * LLVMFuzzerTestOneInput, exactly as libFuzzer would pass it.  A crash,
 * a sanitizer report or a leak fails the run; a missing folder is fine (no
 * crasher kept yet).  This is how the crashers in fuzz/regression/ and the
 * seed corpora stay fixed (after SQLite's fuzzcheck and lwan's
 * fuzz/regression).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return 1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) {
      uint8_t *grown = realloc(buf, cap *= 2);
      if (!grown) free(buf);
      buf = grown;
    }
  }
  fclose(f);
  if (!buf) {
    fprintf(stderr, "replay: %s: out of memory\n", path);
    return 1;
  }
  /* A copy of exactly `len` bytes, so ASan sees any read past the input. */
  uint8_t *input = malloc(len ? len : 1);
  if (!input) {
    free(buf);
    return 1;
  }
  memcpy(input, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(input, len);
  free(input);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv) {
  int failed = 0, count = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) continue;   /* no crasher kept yet */
    if (!S_ISDIR(st.st_mode)) {
      failed |= run_file(argv[i]);
      count++;
      continue;
    }
    struct dirent **names;
    int n = scandir(argv[i], &names, NULL, by_name);
    if (n < 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
      return 1;
    }
    for (int j = 0; j < n; j++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && names[j]->d_name[0] != '.') {
        failed |= run_file(path);
        count++;
      }
      free(names[j]);
    }
    free(names);
  }
  printf("replayed %d input%s\n", count, count == 1 ? "" : "s");
  return failed;
}
