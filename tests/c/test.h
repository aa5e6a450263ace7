/* A tiny test harness: each test is a function returning 0 on success;
 * CHECK records the first failing line and returns from the test. */
#ifndef TEST_H
#define TEST_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                               \
    }                                                                         \
  } while (0)

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

/* Removes a SQLite database file and its WAL side files. */
static inline void test_remove_db(const char *path) {
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char file[512];
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    unlink(file);
  }
}

typedef struct test_case {
  const char *name;
  int (*fn)(void);
} test_case;

/* Runs the named test (argv[1]) or all of them. */
static inline int test_main(const test_case *tests, int argc, char **argv) {
  int failed = 0, ran = 0;
  for (const test_case *t = tests; t->name; t++) {
    if (argc > 1 && strcmp(argv[1], t->name) != 0) continue;
    ran++;
    int rc = t->fn();
    fprintf(stderr, "%s %s\n", rc ? "FAIL" : "ok  ", t->name);
    failed += rc != 0;
  }
  if (!ran) {
    fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
    return 1;
  }
  return failed ? 1 : 0;
}

#endif
