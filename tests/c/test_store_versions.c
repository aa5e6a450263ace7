/* Unit tests of the stored versions (store_versions.c): a new process is stamped with the
 * current version of its flow, making a version current is one
 * transaction that a racing writer cannot repeat, hash prefixes resolve or
 * are refused, running counts (capped at 999), moving processes with a
 * node map, and pruning the versions nothing uses. */
#include <stdlib.h>

#include "store.h"
#include "store_hosts.h"
#include "store_versions.h"
#include "test.h"

/* A new empty database: SQLite in memory, or one of its own on the
 * PostgreSQL server of FLOWHOST_TEST_PG (label pg). */
static store *open_mem(void) {
  store *st = NULL;
  fherr err = {0};
  store_options opt = {.synchronous_full = 1};
  char url[512];
  if (store_open(test_db(":memory:", url, sizeof url), &opt, &st, &err)) {
    fprintf(stderr, "open: %s\n", err.message);
    return NULL;
  }
  return st;
}

static int64_t start(store *st, const char *flow) {
  int64_t id = 0;
  fherr err = {0};
  if (store_process_insert(st, flow, PROC_STARTED, "{}", 0, &id, &err)) fprintf(stderr, "insert: %s\n", err.message);
  return id;
}

static int64_t add_task(store *st, int64_t pid, const char *ft) {
  st_task t = {0};
  t.process_id = pid;
  snprintf(t.flow_task, sizeof t.flow_task, "%s", ft);
  snprintf(t.type, sizeof t.type, "view");
  t.status = TASK_NEW;
  snprintf(t.token, sizeof t.token, "start");
  return store_task_insert(st, &t, NULL) ? 0 : t.id;
}

static const char *version_of(store *st, int64_t pid) {
  static char hash[VERSION_HASH_LEN];
  fherr err = {0};
  if (store_version_of_process(st, pid, hash, &err)) return "?";
  return hash;
}

static json_int_t running_of(store *st, const char *flow, const char *hash) {
  json_t *list = NULL;
  fherr err = {0};
  json_int_t n = -1;
  if (store_version_list(st, flow, &list, &err)) return -1;
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    const char *h = json_string_value(json_object_get(v, "hash"));
    if ((!hash && !h) || (hash && h && !strcmp(h, hash))) n = json_integer_value(json_object_get(v, "running"));
  }
  json_decref(list);
  return n;
}

static int test_stamp_and_current(void) {
  store *st = open_mem();
  CHECK(st);
  fherr err = {0};
  int64_t old = start(st, "f");   /* before any version: none recorded */
  CHECK(old && !strcmp(version_of(st, old), ""));
  int changed = 0;
  CHECK(store_version_make_current(st, "f", "aaaa000000000001", "src1", 4, 0, "", NULL, 0, &changed, &err) == FH_OK);
  CHECK(changed);
  int64_t p1 = start(st, "f");
  CHECK_STR(version_of(st, p1), "aaaa000000000001");
  /* a writer that read an older current (a racing host) changes nothing */
  CHECK(store_version_make_current(st, "f", "bbbb000000000002", "src2", 4, 1, "", NULL, 1, &changed, &err) == FH_OK);
  CHECK(!changed);
  char cur[VERSION_HASH_LEN];
  CHECK(store_version_current(st, "f", cur, &err) == FH_OK && !strcmp(cur, "aaaa000000000001"));
  /* pinned (move 0): p1 stays; the report is kept with the version */
  CHECK(store_version_make_current(st, "f", "bbbb000000000002", "src2", 4, 1, "aaaa000000000001", "{\"to\": \"bbbb000000000002\"}",
                                   0, &changed, &err) == FH_OK);
  CHECK(changed);
  CHECK_STR(version_of(st, p1), "aaaa000000000001");
  CHECK_STR(version_of(st, start(st, "f")), "bbbb000000000002");
  CHECK(running_of(st, "f", "aaaa000000000001") == 1 && running_of(st, "f", "bbbb000000000002") == 1);
  CHECK(running_of(st, "f", NULL) == 1);   /* the one older than versions */
  json_t *reports = NULL;
  CHECK(store_version_reports(st, &reports, &err) == FH_OK);
  CHECK_STR(json_string_value(json_object_get(json_object_get(reports, "f"), "to")), "bbbb000000000002");
  json_decref(reports);
  /* follow (move 1): every running process moves to the new current */
  CHECK(store_version_make_current(st, "f", "cccc000000000003", "src3", 4, 0, "bbbb000000000002", NULL, 1, &changed,
                                   &err) == FH_OK);
  CHECK(changed && running_of(st, "f", "cccc000000000003") == 3);
  CHECK_STR(version_of(st, old), "cccc000000000003");
  store_close(st);
  return 0;
}

/* n running processes of flow, in one transaction (a commit each would
 * cost seconds on PostgreSQL). */
static int start_many(store *st, const char *flow, int n) {
  fherr err = {0};
  if (store_begin(st, &err)) return 0;
  int started = 0;
  while (started < n && start(st, flow)) started++;
  if (started < n || store_commit(st, &err)) {
    store_rollback(st);
    return 0;
  }
  return 1;
}

/* The running count of flow's entry of hash (NULL: the one older than
 * versions) as text: "999+" with running_capped: true, the bare number
 * without running_capped, "none" without an entry. */
static const char *running_text(store *st, const char *flow, const char *hash) {
  static char out[32];
  json_t *list = NULL;
  fherr err = {0};
  if (store_version_list(st, flow, &list, &err)) return "?";
  snprintf(out, sizeof out, "none");
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    const char *h = json_string_value(json_object_get(v, "hash"));
    if ((!hash && !h) || (hash && h && !strcmp(h, hash))) {
      json_t *capped = json_object_get(v, "running_capped");
      snprintf(out, sizeof out, "%lld%s", (long long)json_integer_value(json_object_get(v, "running")),
               json_is_true(capped) ? "+" : capped ? "?" : "");
    }
  }
  json_decref(list);
  return out;
}

/* The lists of GET /api/flows, all in two statements, say what each
 * flow's own list says; a flow nobody ran has none. */
static int lists_match(store *st) {
  json_t *names = json_pack("[s, s, s]", "f", "g", "nobody"), *all = NULL;
  fherr err = {0};
  CHECK(store_version_lists(st, names, &all, &err) == FH_OK);
  for (size_t i = 0; i < 2; i++) {
    const char *flow = json_string_value(json_array_get(names, i));
    json_t *one = NULL;
    CHECK(store_version_list(st, flow, &one, &err) == FH_OK);
    int same = json_equal(one, json_object_get(all, flow)) || (!json_array_size(one) && !json_object_get(all, flow));
    json_decref(one);
    CHECK(same);
  }
  CHECK(json_array_size(json_object_get(all, "nobody")) == 0);
  json_decref(all);
  json_decref(names);
  return 0;
}

/* A running count is exact up to 999 (no running_capped); from 1,000 on it
 * is 999 with running_capped: true, for a version and for the processes
 * older than versions; a capped count still tells 0 from not 0. */
static int test_running_capped(void) {
  store *st = open_mem();
  CHECK(st);
  fherr err = {0};
  int changed = 0;
  CHECK(start_many(st, "f", 1000));   /* older than versions */
  CHECK(start_many(st, "g", 1));
  CHECK_STR(running_text(st, "f", NULL), "999+");
  CHECK(store_version_make_current(st, "f", "aaaa000000000001", "src1", 4, 1, "", NULL, 0, &changed, &err) == FH_OK);
  CHECK(start_many(st, "f", 999));
  CHECK_STR(running_text(st, "f", "aaaa000000000001"), "999");
  CHECK(store_version_make_current(st, "f", "bbbb000000000002", "src2", 4, 1, "aaaa000000000001", NULL, 0, &changed,
                                   &err) == FH_OK);
  CHECK(start_many(st, "f", 3));
  CHECK_STR(running_text(st, "f", "bbbb000000000002"), "3");
  /* the 1,000th on aaaa (current again): capped */
  CHECK(store_version_make_current(st, "f", "aaaa000000000001", "src1", 4, 1, "bbbb000000000002", NULL, 0, &changed,
                                   &err) == FH_OK);
  CHECK(start_many(st, "f", 1));
  CHECK_STR(running_text(st, "f", "aaaa000000000001"), "999+");
  CHECK_STR(running_text(st, "f", "bbbb000000000002"), "3");
  CHECK_STR(running_text(st, "f", NULL), "999+");
  CHECK_STR(running_text(st, "g", NULL), "1");
  CHECK(lists_match(st) == 0);
  /* moving them all: 2,003 on bbbb, none left elsewhere */
  int64_t moved = 0;
  CHECK(store_version_move(st, "f", NULL, "bbbb000000000002", NULL, 0, &moved, &err) == FH_OK && moved == 2000);
  CHECK_STR(running_text(st, "f", "bbbb000000000002"), "999+");
  CHECK_STR(running_text(st, "f", "aaaa000000000001"), "0");
  CHECK_STR(running_text(st, "f", NULL), "none");
  CHECK(lists_match(st) == 0);
  store_close(st);
  return 0;
}

static int test_find(void) {
  store *st = open_mem();
  CHECK(st);
  fherr err = {0};
  int changed;
  CHECK(!store_version_make_current(st, "f", "abc0000000000001", "one", 3, 0, "", NULL, 0, &changed, &err));
  CHECK(!store_version_make_current(st, "f", "abc0000000000002", "two", 3, 1, "abc0000000000001", NULL, 0, &changed,
                                    &err));
  char hash[VERSION_HASH_LEN];
  char *src = NULL;
  int pin = -1;
  CHECK(store_version_find(st, "f", "abc0000000000002", hash, &src, &pin, &err) == FH_OK);
  CHECK(src && !strcmp(src, "two") && pin == 1);
  free(src);
  CHECK(store_version_find(st, "f", "abc", hash, &src, NULL, &err) == FH_BAD_REQUEST && !src);   /* ambiguous */
  fherr_clear(&err);
  CHECK(store_version_find(st, "f", "abd", hash, NULL, NULL, &err) == FH_NOT_FOUND);
  fherr_clear(&err);
  CHECK(store_version_find(st, "g", "abc0000000000001", hash, NULL, NULL, &err) == FH_NOT_FOUND);
  fherr_clear(&err);
  CHECK(store_version_find(st, "f", "ABC", hash, NULL, NULL, &err) == FH_BAD_REQUEST);   /* not hex */
  fherr_clear(&err);
  CHECK(store_version_find(st, "f", "x'; --", hash, NULL, NULL, &err) == FH_BAD_REQUEST);
  fherr_clear(&err);
  store_close(st);
  return 0;
}

static int test_move_with_map(void) {
  store *st = open_mem();
  CHECK(st);
  fherr err = {0};
  int changed;
  CHECK(!store_version_make_current(st, "f", "1111000000000000", "a", 1, 1, "", NULL, 0, &changed, &err));
  int64_t p1 = start(st, "f"), p2 = start(st, "f");
  int64_t t1 = add_task(st, p1, "f.approve"), t2 = add_task(st, p2, "f.approve");
  CHECK(!store_version_make_current(st, "f", "2222000000000000", "b", 1, 1, "1111000000000000", NULL, 0, &changed,
                                    &err));
  int64_t p3 = start(st, "f");
  int64_t t3 = add_task(st, p3, "f.approve");   /* on the new version: not moved */
  CHECK(t1 && t2 && t3);
  st_process p;
  CHECK(store_process_get(st, p1, &p, &err) == FH_OK);
  int64_t row_version = p.version;
  st_process_free(&p);
  const char *map[] = {"approve", "review"};
  int64_t moved = 0;
  CHECK(store_version_move(st, "f", "1111000000000000", "2222000000000000", map, 1, &moved, &err) == FH_OK);
  CHECK(moved == 2);
  st_task t;
  CHECK(store_task_get(st, t1, &t, &err) == FH_OK && !strcmp(t.flow_task, "f.review"));
  st_task_free(&t);
  CHECK(store_task_get(st, t3, &t, &err) == FH_OK && !strcmp(t.flow_task, "f.approve"));
  st_task_free(&t);
  CHECK_STR(version_of(st, p2), "2222000000000000");
  CHECK(running_of(st, "f", "1111000000000000") == 0 && running_of(st, "f", "2222000000000000") == 3);
  /* the row version went up: an action that read the process before starts over */
  CHECK(store_process_get(st, p1, &p, &err) == FH_OK && p.version == row_version + 1);
  st_process_free(&p);
  store_close(st);
  return 0;
}

/* "flow/hash ..." of what store_version_prune chose; "?" when it failed. */
static const char *prune(store *st, const char *flow, int dry_run) {
  static char out[256];
  json_t *list = NULL;
  fherr err = {0};
  if (store_version_prune(st, flow, "2026-06-01T00:00:00.000Z", dry_run, &list, &err)) {
    fprintf(stderr, "prune: %s\n", err.message);
    return "?";
  }
  out[0] = '\0';
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    size_t n = strlen(out);
    snprintf(out + n, sizeof out - n, "%s%s/%s", n ? " " : "", json_string_value(json_object_get(v, "flow")),
             json_string_value(json_object_get(v, "hash")));
  }
  json_decref(list);
  return out;
}

static int versions_of(store *st, const char *flow) {
  json_t *list = NULL;
  fherr err = {0};
  if (store_version_list(st, flow, &list, &err)) return -1;
  int n = (int)json_array_size(list);
  json_decref(list);
  return n;
}

/* Pruned: not current, recorded by no process (a finished one keeps its
 * version), served by no host seen after the given time. */
static int test_prune(void) {
  store *st = open_mem();
  CHECK(st);
  fherr err = {0};
  int changed = 0;
  CHECK(store_version_make_current(st, "f", "aaaa000000000001", "src1", 4, 1, "", NULL, 0, &changed, &err) == FH_OK);
  int64_t p1 = start(st, "f");
  CHECK(store_process_update(st, p1, PROC_DONE, "{}", "2026-06-02T00:00:00.000Z", &err) == FH_OK);
  const char *chain[][2] = {{"bbbb000000000002", "aaaa000000000001"},
                            {"dddd000000000004", "bbbb000000000002"},
                            {"cccc000000000003", "dddd000000000004"}};
  for (int i = 0; i < 3; i++)   /* pinned: nothing moves */
    CHECK(store_version_make_current(st, "f", chain[i][0], "src", 3, 1, chain[i][1], NULL, 0, &changed, &err) == FH_OK &&
          changed);
  CHECK(store_version_make_current(st, "g", "eeee000000000005", "src5", 4, 0, "", NULL, 0, &changed, &err) == FH_OK);
  CHECK(store_version_make_current(st, "g", "ffff000000000006", "src6", 4, 0, "eeee000000000005", NULL, 0, &changed,
                                   &err) == FH_OK);
  /* a host seen after the cut serves dddd; it also serves the current one */
  const char *flows[] = {"f", "g"}, *hashes[] = {"dddd000000000004", "ffff000000000006"};
  CHECK(store_hosts_record(st, "other:8080", flows, hashes, 2, "2026-06-01T00:00:10.000Z", &err) == FH_OK);
  CHECK(versions_of(st, "f") == 4);
  CHECK_STR(prune(st, "f", 1), "f/bbbb000000000002");
  CHECK(versions_of(st, "f") == 4);   /* a dry run deletes nothing */
  CHECK_STR(prune(st, "f", 0), "f/bbbb000000000002");
  CHECK(versions_of(st, "f") == 3);
  CHECK_STR(prune(st, "f", 0), "");
  /* the host silent since before the cut: what only it served goes, of every flow */
  CHECK(store_hosts_beat(st, "other:8080", "2026-05-31T00:00:00.000Z", &err) == FH_OK);
  CHECK_STR(prune(st, NULL, 0), "f/dddd000000000004 g/eeee000000000005");
  char hash[VERSION_HASH_LEN];
  char *source = NULL;
  CHECK(store_version_find(st, "f", "aaaa", hash, &source, NULL, &err) == FH_OK);   /* the finished process's */
  free(source);
  CHECK(store_version_find(st, "f", "cccc", hash, NULL, NULL, &err) == FH_OK);   /* current */
  CHECK(store_version_find(st, "f", "dddd", hash, NULL, NULL, &err) != FH_OK);
  fherr_clear(&err);
  CHECK_STR(version_of(st, start(st, "f")), "cccc000000000003");
  store_close(st);
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {
      {"stamp_and_current", test_stamp_and_current},
      {"running_capped", test_running_capped},
      {"find", test_find},
      {"move_with_map", test_move_with_map},
      {"prune", test_prune},
      {NULL, NULL},
  };
  return test_main(tests, argc, argv);
}
