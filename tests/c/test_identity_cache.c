/* Unit tests of identity_cache: it serves only while its listener listens,
 * forgets on every change (here or notified), never keeps an answer read
 * before a change, ages entries out by the (test) clock and sessions at
 * their expiry, and an identity write through any engine of the process
 * reaches every cache of that database.  On SQLite it is told the
 * database's count of changes instead, and every change another program
 * makes (the sqlite3 shell here) is counted and heard. */
#include <pthread.h>
#include <sys/stat.h>

#include "identity.h"
#include "identity_cache.h"
#include "test.h"
#include "test_fixture_engine.h"

#define DB "postgresql:///unit-a"
#define OTHER_DB "postgresql:///unit-b"

static fh_actor actor_named(const char *name) {
  fh_actor a = {.id = 7, .is_active = 1};
  snprintf(a.username, sizeof a.username, "%s", name);
  a.perms = json_pack("{s:b}", "helloworld.approve", 1);
  a.groups = json_pack("[s]", "clerks");
  return a;
}

static int has_token(identity_cache *c, const char *digest, const char *name) {
  fh_actor got;
  if (!identity_cache_get(c, IDENTITY_BY_TOKEN, digest, "", &got, NULL, 0)) return 0;
  int same = !strcmp(got.username, name) && got.id == 7 && json_object_get(got.perms, "helloworld.approve") &&
             json_array_size(got.groups) == 1;
  fh_actor_free(&got);
  return same ? 1 : -1;
}

static int serves_while_live(void) {
  identity_cache *c = identity_cache_new(DB);
  CHECK(c);
  fh_actor a = actor_named("bob");
  /* not listening yet: nothing is kept */
  CHECK(identity_cache_begin(c) == 0);
  identity_cache_put(c, identity_cache_begin(c), IDENTITY_BY_TOKEN, "d1", &a, NULL, NULL);
  CHECK(has_token(c, "d1", "bob") == 0);
  identity_cache_notified(c, 1);   /* listening */
  uint64_t gen = identity_cache_begin(c);
  CHECK(gen != 0);
  identity_cache_put(c, gen, IDENTITY_BY_TOKEN, "d1", &a, NULL, NULL);
  CHECK(has_token(c, "d1", "bob") == 1);
  CHECK(has_token(c, "d2", "bob") == 0);
  /* a token's digest is not a session's */
  fh_actor got;
  char csrf[IDENTITY_CACHE_CSRF];
  CHECK(!identity_cache_get(c, IDENTITY_BY_SESSION, "d1", "2030-01-01T00:00:00.000Z", &got, csrf, sizeof csrf));
  /* the copy handed out is the caller's: changing it changes nothing kept */
  CHECK(identity_cache_get(c, IDENTITY_BY_TOKEN, "d1", "", &got, NULL, 0));
  json_object_del(got.perms, "helloworld.approve");
  fh_actor_free(&got);
  CHECK(has_token(c, "d1", "bob") == 1);
  /* the listener lost its connection: nothing served, nothing kept */
  identity_cache_notified(c, 0);
  CHECK(has_token(c, "d1", "bob") == 0);
  CHECK(identity_cache_begin(c) == 0);
  /* back: what was kept before is gone (changes meanwhile went unheard) */
  identity_cache_notified(c, 1);
  CHECK(has_token(c, "d1", "bob") == 0);
  fh_actor_free(&a);
  identity_cache_free(c);
  return 0;
}

/* A read that began before a change puts nothing back after it. */
static int change_drops_older_reads(void) {
  identity_cache *c = identity_cache_new(DB);
  identity_cache_notified(c, 1);
  fh_actor a = actor_named("bob");
  uint64_t before = identity_cache_begin(c);
  identity_cache_notified(c, 1);   /* a change notified while the read ran */
  identity_cache_put(c, before, IDENTITY_BY_TOKEN, "d1", &a, NULL, NULL);
  CHECK(has_token(c, "d1", "bob") == 0);
  identity_cache_put(c, identity_cache_begin(c), IDENTITY_BY_TOKEN, "d1", &a, NULL, NULL);
  CHECK(has_token(c, "d1", "bob") == 1);
  /* this host's own write forgets too, and stays live */
  uint64_t gen = identity_cache_begin(c);
  identity_cache_forget(c);
  CHECK(has_token(c, "d1", "bob") == 0);
  CHECK(identity_cache_begin(c) > gen);
  identity_cache_put(c, gen, IDENTITY_BY_TOKEN, "d1", &a, NULL, NULL);
  CHECK(has_token(c, "d1", "bob") == 0);
  fh_actor_free(&a);
  identity_cache_free(c);
  return 0;
}

/* Entries age out by the clock; a session also at its expiry. */
static int ages_out(void) {
  fhtime_set_manual(1900000000.0);
  identity_cache *c = identity_cache_new(DB);
  identity_cache_notified(c, 1);
  fh_actor a = actor_named("bob");
  identity_cache_put(c, identity_cache_begin(c), IDENTITY_BY_TOKEN, "t", &a, NULL, NULL);
  identity_cache_put(c, identity_cache_begin(c), IDENTITY_BY_SESSION, "s", &a, "csrf-1", "2030-03-17T17:46:50.000Z");
  fh_actor got;
  char csrf[IDENTITY_CACHE_CSRF] = "";
  CHECK(identity_cache_get(c, IDENTITY_BY_SESSION, "s", "2030-03-17T17:46:40.000Z", &got, csrf, sizeof csrf));
  CHECK(!strcmp(csrf, "csrf-1") && !strcmp(got.username, "bob"));
  fh_actor_free(&got);
  /* at its expiry a session is not served (and is dropped) */
  CHECK(!identity_cache_get(c, IDENTITY_BY_SESSION, "s", "2030-03-17T17:46:50.000Z", &got, csrf, sizeof csrf));
  CHECK(!identity_cache_get(c, IDENTITY_BY_SESSION, "s", "2030-03-17T17:46:40.000Z", &got, csrf, sizeof csrf));
  fhtime_manual_advance(IDENTITY_CACHE_SECONDS - 1);
  CHECK(has_token(c, "t", "bob") == 1);
  fhtime_manual_advance(1);
  CHECK(has_token(c, "t", "bob") == 0);
  fhtime_set_manual(0);
  fh_actor_free(&a);
  identity_cache_free(c);
  return 0;
}

/* An identity write through any engine of the process forgets every cache
 * of that database, and only of that one. */
static int forget_by_database(void) {
  identity_cache *a1 = identity_cache_new(DB), *a2 = identity_cache_new(DB), *b = identity_cache_new(OTHER_DB);
  identity_cache *all[] = {a1, a2, b};
  fh_actor a = actor_named("bob");
  for (int i = 0; i < 3; i++) {
    identity_cache_notified(all[i], 1);
    identity_cache_put(all[i], identity_cache_begin(all[i]), IDENTITY_BY_TOKEN, "d", &a, NULL, NULL);
    CHECK(has_token(all[i], "d", "bob") == 1);
  }
  identity_cache_forget_db(DB);
  CHECK(has_token(a1, "d", "bob") == 0);
  CHECK(has_token(a2, "d", "bob") == 0);
  CHECK(has_token(b, "d", "bob") == 1);
  identity_cache_free(a2);
  identity_cache_forget_db(OTHER_DB);   /* the list holds no freed cache */
  CHECK(has_token(b, "d", "bob") == 0);
  identity_cache_forget_db(NULL);
  identity_cache_free(a1);
  identity_cache_free(b);
  fh_actor_free(&a);
  return 0;
}

/* Threads read, put and forget at once (run under TSan by the tsan build). */
typedef struct race_arg {
  identity_cache *c;
  int bad;
} race_arg;

static void *race(void *arg) {
  race_arg *r = arg;
  fh_actor a = actor_named("bob");
  char digest[16];
  for (int i = 0; i < 3000; i++) {
    snprintf(digest, sizeof digest, "d%d", i % 64);
    if (i % 500 == 0) identity_cache_forget(r->c);
    uint64_t gen = identity_cache_begin(r->c);
    if (has_token(r->c, digest, "bob") < 0) r->bad++;
    identity_cache_put(r->c, gen, IDENTITY_BY_TOKEN, digest, &a, NULL, NULL);
  }
  fh_actor_free(&a);
  return NULL;
}

static int threads(void) {
  identity_cache *c = identity_cache_new(DB);
  identity_cache_notified(c, 1);
  enum { N = 4 };
  pthread_t th[N];
  race_arg args[N];
  for (int i = 0; i < N; i++) {
    args[i] = (race_arg){c, 0};
    CHECK(pthread_create(&th[i], NULL, race, &args[i]) == 0);
  }
  for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < N; i++) CHECK(args[i].bad == 0);
  identity_cache_free(c);
  return 0;
}

/* Told a count of changes: none served before the first, the same count
 * keeps, another forgets (whichever way it moved), one that cannot be
 * read serves nothing, and a read begun before a new count puts nothing. */
static int stamped_by_count(void) {
  identity_cache *c = identity_cache_new_stamped("unit.db");
  CHECK(identity_cache_stamped(c) && !identity_cache_stamped(NULL));
  fh_actor a = actor_named("bob");
  CHECK(identity_cache_begin(c) == 0);
  identity_cache_stamp(c, 1, 5);
  identity_cache_put(c, identity_cache_begin(c), IDENTITY_BY_TOKEN, "d", &a, NULL, NULL);
  CHECK(has_token(c, "d", "bob") == 1);
  identity_cache_stamp(c, 1, 5);
  CHECK(has_token(c, "d", "bob") == 1);
  uint64_t before = identity_cache_begin(c);
  identity_cache_stamp(c, 1, 6);
  CHECK(has_token(c, "d", "bob") == 0);
  identity_cache_put(c, before, IDENTITY_BY_TOKEN, "d", &a, NULL, NULL);
  CHECK(has_token(c, "d", "bob") == 0);
  identity_cache_put(c, identity_cache_begin(c), IDENTITY_BY_TOKEN, "d", &a, NULL, NULL);
  identity_cache_stamp(c, 1, 4);   /* a late answer of an older read */
  CHECK(has_token(c, "d", "bob") == 0);
  identity_cache_put(c, identity_cache_begin(c), IDENTITY_BY_TOKEN, "d", &a, NULL, NULL);
  identity_cache_stamp(c, 0, 0);   /* the count could not be read */
  CHECK(has_token(c, "d", "bob") == 0);
  CHECK(identity_cache_begin(c) == 0);
  identity_cache_stamp(c, 1, 4);   /* readable again: what was kept is gone */
  CHECK(has_token(c, "d", "bob") == 0);
  CHECK(identity_cache_begin(c) != 0);
  fh_actor_free(&a);
  identity_cache_free(c);
  return 0;
}

/* The count of changes in a SQLite database (migration 23). */
static int64_t count_of(sqlite3 *raw) { return test_sql_int(raw, "SELECT n FROM identity_change", -1); }

/* The statement sql, run by another program, adds counted to the count. */
static int counts(sqlite3 *raw, const char *sql, int64_t counted) {
  int64_t before = count_of(raw);
  char *msg = NULL;
  if (sqlite3_exec(raw, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "  %s: %s\n", sql, msg);
    sqlite3_free(msg);
    return 0;
  }
  int64_t after = count_of(raw);
  if (after - before != counted) fprintf(stderr, "  %s: counted %lld, not %lld\n", sql, (long long)(after - before), (long long)counted);
  return after - before == counted;
}

/* bob's token signs in as bob, with perm or without it. */
static int signs_in(engine *e, const char *token, const char *perm, int has) {
  fh_actor a;
  fherr err = {0};
  if (identity_token_actor(e, token, &a, &err)) {
    fprintf(stderr, "  sign-in: %s\n", err.message);
    return 0;
  }
  int ok = !strcmp(a.username, "bob") && a.is_active && !json_object_get(a.perms, perm) == !has;
  fh_actor_free(&a);
  return ok;
}

/* A host on SQLite with a stamped cache: what another program changes (the
 * sqlite3 shell, the CLI) holds at the next sign-in; an uncounted change
 * shows that the answer was the cache's; and every table a sign-in reads
 * counts its changes, but not a token's last use nor new rows that change
 * nothing kept. */
static int stamped_by_database(void) {
  char dir[64] = "/tmp/flowhost-idc-XXXXXX", path[128];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/db", dir);
  identity_cache *c = identity_cache_new_stamped(path);
  flowreg *reg = NULL;
  engine *e = open_fixture_engine_with(dir, &reg, c);
  CHECK(e != NULL);
  fherr err = {0};
  char token[AUTH_TOKEN_LEN];
  CHECK(identity_user_add(e, "bob", "a long password", 0, &err) == FH_OK);
  CHECK(identity_user_add(e, "eve", "a long password", 0, &err) == FH_OK);
  CHECK(identity_token_create(e, "bob", NULL, token, &err) == FH_OK);
  sqlite3 *raw = NULL;
  CHECK(sqlite3_open(path, &raw) == SQLITE_OK);
  sqlite3_busy_timeout(raw, 5000);
  const char *perm = "helloworld.approve";

  CHECK(signs_in(e, token, perm, 0));
  CHECK(counts(raw, "INSERT INTO user_perm SELECT id, 'helloworld.approve' FROM user WHERE username = 'bob'", 1));
  CHECK(signs_in(e, token, perm, 1));
  /* uncounted, the change goes unseen: the sign-in was the cache's */
  CHECK(counts(raw, "DROP TRIGGER user_perm_deleted; DELETE FROM user_perm", 0));
  CHECK(signs_in(e, token, perm, 1));
  /* a change of the user is heard */
  CHECK(counts(raw, "UPDATE user SET is_admin = 1 WHERE username = 'eve'", 1));
  CHECK(signs_in(e, token, perm, 0));

  /* what counts, and what does not */
  CHECK(counts(raw, "UPDATE api_token SET last_used_at = '2030-01-01T00:00:00.000Z'", 0));
  CHECK(counts(raw, "INSERT INTO grp(name) VALUES ('clerks'), ('auditors')", 0));
  CHECK(counts(raw, "INSERT INTO user_grp SELECT u.id, g.id FROM user u, grp g", 4));
  CHECK(counts(raw, "INSERT INTO grp_perm SELECT id, 'x.y' FROM grp", 2));
  CHECK(counts(raw, "UPDATE grp_perm SET name = 'x.z'", 2));
  CHECK(counts(raw, "DELETE FROM grp_perm WHERE name = 'x.z' AND grp_id = (SELECT min(id) FROM grp)", 1));
  CHECK(counts(raw, "UPDATE grp SET name = name || '2'", 2));
  CHECK(counts(raw, "DELETE FROM user_grp WHERE grp_id = (SELECT min(id) FROM grp)", 2));
  CHECK(counts(raw, "INSERT INTO session VALUES ('s1', 1, 'c', 'x', '2030-01-01T00:00:00.000Z')", 0));
  CHECK(counts(raw, "UPDATE session SET expires_at = '2031-01-01T00:00:00.000Z'", 1));
  CHECK(counts(raw, "DELETE FROM session", 1));
  CHECK(counts(raw, "UPDATE api_token SET user_id = user_id", 1));
  CHECK(counts(raw, "DELETE FROM api_token", 1));
  /* the deletes of a user's rows count each (the cascades too) */
  CHECK(counts(raw, "PRAGMA foreign_keys = ON; DELETE FROM grp WHERE name = 'auditors2'", 4));
  sqlite3_close(raw);
  /* the token is gone: signing in with it fails at once */
  fh_actor a;
  CHECK(identity_token_actor(e, token, &a, &err) != FH_OK);
  fherr_clear(&err);

  close_fixture_engine(e, reg, dir);
  identity_cache_free(c);
  return 0;
}

static const test_case TESTS[] = {
    {"serves_while_live", serves_while_live},
    {"change_drops_older_reads", change_drops_older_reads},
    {"ages_out", ages_out},
    {"forget_by_database", forget_by_database},
    {"threads", threads},
    {"stamped_by_count", stamped_by_count},
    {"stamped_by_database", stamped_by_database},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
