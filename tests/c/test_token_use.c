/* Unit tests of token_use: a token is pending once with its latest use,
 * the table grows past its first size and empties when taken, notes from
 * many threads all arrive; and identity_tokens_used writes them to
 * api_token.last_used_at (on PostgreSQL too, under the pg label), never
 * moving a record back, and a revoked token's use is no error. */
#include <pthread.h>

#include "flowreg.h"
#include "identity.h"
#include "test.h"
#include "token_use.h"

/* A digest-like key of n (64 hex characters). */
static void digest_of(int n, char out[AUTH_DIGEST_LEN]) {
  snprintf(out, AUTH_DIGEST_LEN, "%064x", n);
}

static const token_use *find(const token_use *uses, size_t n, const char *digest) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(uses[i].digest, digest)) return &uses[i];
  return NULL;
}

static int latest_wins(void) {
  token_uses *t = token_uses_new();
  CHECK(t != NULL);
  char a[AUTH_DIGEST_LEN], b[AUTH_DIGEST_LEN];
  digest_of(1, a);
  digest_of(2, b);
  token_uses_note(t, a, "2026-12-05T10:00:01.000Z");
  token_uses_note(t, a, "2026-12-05T10:00:03.000Z");
  token_uses_note(t, a, "2026-12-05T10:00:02.000Z");   /* earlier: noted by a slower thread */
  token_uses_note(t, b, "2026-12-05T10:00:00.000Z");
  token_uses_note(t, "", "2026-12-05T10:00:00.000Z");   /* no digest: nothing */
  token_use *uses;
  size_t n;
  CHECK(token_uses_take(t, &uses, &n) == 0 && n == 2);
  CHECK(find(uses, n, a) && !strcmp(find(uses, n, a)->at, "2026-12-05T10:00:03.000Z"));
  CHECK(find(uses, n, b) && !strcmp(find(uses, n, b)->at, "2026-12-05T10:00:00.000Z"));
  free(uses);
  /* taken: empty until the next note */
  CHECK(token_uses_take(t, &uses, &n) == 0 && n == 0 && uses == NULL);
  token_uses_note(t, b, "2026-12-05T10:00:09.000Z");
  CHECK(token_uses_take(t, &uses, &n) == 0 && n == 1 && !strcmp(uses[0].at, "2026-12-05T10:00:09.000Z"));
  free(uses);
  token_uses_free(t);
  token_uses_note(NULL, a, "2026-12-05T10:00:00.000Z");   /* NULL-safe */
  return 0;
}

static int grows(void) {
  token_uses *t = token_uses_new();
  CHECK(t != NULL);
  char d[AUTH_DIGEST_LEN];
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 5000; i++) {
      digest_of(i, d);
      token_uses_note(t, d, i % 2 ? "2026-12-05T10:00:01.000Z" : "2026-12-05T10:00:02.000Z");
    }
    token_use *uses;
    size_t n;
    CHECK(token_uses_take(t, &uses, &n) == 0 && n == 5000);
    for (int i = 0; i < 5000; i += 499) {
      digest_of(i, d);
      const token_use *u = find(uses, n, d);
      CHECK(u && !strcmp(u->at, i % 2 ? "2026-12-05T10:00:01.000Z" : "2026-12-05T10:00:02.000Z"));
    }
    free(uses);
  }
  token_uses_free(t);
  return 0;
}

#define THREADS 4
#define PER_THREAD 2000

typedef struct note_arg {
  token_uses *t;
  int first;
} note_arg;

static void *note_many(void *arg) {
  note_arg *a = arg;
  char d[AUTH_DIGEST_LEN];
  for (int i = 0; i < PER_THREAD; i++) {
    digest_of(a->first + i % 500, d);   /* each thread its own 500 tokens, noted four times */
    token_uses_note(a->t, d, "2026-12-05T10:00:00.000Z");
  }
  return NULL;
}

static int threads(void) {
  token_uses *t = token_uses_new();
  CHECK(t != NULL);
  pthread_t th[THREADS];
  note_arg args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (note_arg){t, i * 1000};
    CHECK(pthread_create(&th[i], NULL, note_many, &args[i]) == 0);
  }
  size_t seen = 0;
  for (int k = 0; k < 20; k++) {   /* taken while notes arrive: none lost, none twice */
    token_use *uses;
    size_t n;
    CHECK(token_uses_take(t, &uses, &n) == 0);
    seen += n;
    free(uses);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  token_use *uses;
  size_t n;
  CHECK(token_uses_take(t, &uses, &n) == 0);
  free(uses);
  seen += n;
  /* each token at least once, and at most once per take in which it was noted */
  CHECK(seen >= THREADS * 500 && seen <= THREADS * 500 * 21);
  token_uses_free(t);
  return 0;
}

/* The last_used_at listed for the user's only token. */
static int listed_use(engine *e, const char *user, char *out, size_t cap) {
  json_t *tokens = NULL;
  fherr err = {0};
  if (identity_token_list(e, user, &tokens, &err)) {
    fprintf(stderr, "  list: %s\n", err.message);
    return -1;
  }
  json_t *at = json_object_get(json_array_get(tokens, 0), "last_used_at");
  snprintf(out, cap, "%s", json_is_string(at) ? json_string_value(at) : "null");
  json_decref(tokens);
  return 0;
}

static int recorded(void) {
  char dir[64] = "/tmp/flowhost-token-use-XXXXXX", path[128], buf[256];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/db", dir);
  const char *src = getenv("FLOWHOST_SOURCE") ? getenv("FLOWHOST_SOURCE") : ".";
  char flows[512], lua[512];
  snprintf(flows, sizeof flows, "%s/flows", src);
  snprintf(lua, sizeof lua, "%s/lua", src);
  fherr err = {0};
  flowreg *reg = flowreg_new(flows, lua, &err);
  CHECK(reg != NULL);
  token_uses *t = token_uses_new();
  engine *e = NULL;
  engine_options eo = {.flows = reg, .db_path = test_db(path, buf, sizeof buf), .token_uses = t};
  CHECK(engine_open(&eo, &e, &err) == FH_OK);
  char token[AUTH_TOKEN_LEN], gone[AUTH_TOKEN_LEN], at[FH_TIME_LEN];
  CHECK(identity_user_add(e, "bob", "a long password", 0, &err) == FH_OK);
  CHECK(identity_user_add(e, "eve", "a long password", 0, &err) == FH_OK);
  CHECK(identity_token_create(e, "bob", NULL, token, &err) == FH_OK);
  CHECK(identity_token_create(e, "eve", NULL, gone, &err) == FH_OK);
  CHECK(listed_use(e, "bob", at, sizeof at) == 0 && !strcmp(at, "null"));

  /* a sign-in notes, and writes nothing */
  char before[FH_TIME_LEN];
  fhtime_now(before);
  fh_actor a;
  CHECK(identity_token_actor(e, token, &a, &err) == FH_OK);
  fh_actor_free(&a);
  CHECK(identity_token_actor(e, gone, &a, &err) == FH_OK);
  fh_actor_free(&a);
  CHECK(listed_use(e, "bob", at, sizeof at) == 0 && !strcmp(at, "null"));
  token_use *uses;
  size_t n;
  CHECK(token_uses_take(t, &uses, &n) == 0 && n == 2);
  CHECK(strcmp(uses[0].at, before) >= 0);

  /* written; the revoked token's use is no error */
  int64_t id;
  char owner[IDENTITY_NAME_MAX + 1];
  CHECK(identity_token_revoke(e, gone, &id, owner, &err) == FH_OK);
  CHECK(identity_tokens_used(e, uses, n, &err) == FH_OK);
  char digest[AUTH_DIGEST_LEN];
  auth_digest(token, digest);
  const token_use *mine = find(uses, n, digest);
  CHECK(mine != NULL);
  CHECK(listed_use(e, "bob", at, sizeof at) == 0 && !strcmp(at, mine->at));

  /* an earlier use (another host's, written late) does not move it back */
  token_use old = *mine;
  snprintf(old.at, sizeof old.at, "2000-01-01T00:00:00.000Z");
  CHECK(identity_tokens_used(e, &old, 1, &err) == FH_OK);
  CHECK(listed_use(e, "bob", at, sizeof at) == 0 && !strcmp(at, mine->at));
  free(uses);

  engine_close(e);
  token_uses_free(t);
  flowreg_free(reg);
  test_remove_db(path);
  rmdir(dir);
  return 0;
}

static const test_case TESTS[] = {
    {"latest_wins", latest_wins}, {"grows", grows}, {"threads", threads}, {"recorded", recorded}, {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
