/* Unit tests of auth: hashes verify (including hashes made with the
 * older, larger limits), and concurrent hashing is bounded. */
#include <pthread.h>
#include <sodium.h>

#include "auth.h"
#include "test.h"

static int hash_and_verify(void) {
  CHECK(auth_init() == 0);
  char hash[AUTH_HASH_LEN];
  CHECK(auth_hash_password("correct horse", hash) == 0);
  CHECK(strncmp(hash, "$argon2id$", 10) == 0);
  CHECK(strstr(hash, "m=7168,t=5,p=1") != NULL);   /* the documented limits */
  CHECK(auth_verify_password(hash, "correct horse") == 1);
  CHECK(auth_verify_password(hash, "correct horsE") == 0);
  CHECK(auth_verify_password(NULL, "x") == 0);
  return 0;
}

/* A database made by an earlier flowhost holds 64 MiB "interactive" hashes. */
static int old_hashes_verify(void) {
  CHECK(auth_init() == 0);
  char hash[crypto_pwhash_STRBYTES];
  CHECK(crypto_pwhash_str(hash, "pw", 2, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0);
  CHECK(auth_verify_password(hash, "pw") == 1);
  CHECK(auth_verify_password(hash, "pX") == 0);
  return 0;
}

static void *hash_some(void *arg) {
  int *failures = arg;
  char hash[AUTH_HASH_LEN];
  for (int i = 0; i < 2; i++)
    if (auth_hash_password("burst", hash) || !auth_verify_password(hash, "burst")) (*failures)++;
  return NULL;
}

/* Eight threads log in at once: every hash is right, and never more than
 * AUTH_HASH_PARALLEL ran at the same time (but that many did). */
static int bounded_parallel(void) {
  CHECK(auth_init() == 0);
  enum { N = 8 };
  pthread_t th[N];
  int failures[N] = {0};
  for (int i = 0; i < N; i++) CHECK(pthread_create(&th[i], NULL, hash_some, &failures[i]) == 0);
  for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < N; i++) CHECK(failures[i] == 0);
  CHECK(auth_hash_peak() <= AUTH_HASH_PARALLEL);
  CHECK(auth_hash_peak() >= 1);
  return 0;
}

static const test_case TESTS[] = {
    {"hash_and_verify", hash_and_verify},
    {"old_hashes_verify", old_hashes_verify},
    {"bounded_parallel", bounded_parallel},
    {NULL, NULL},
};

int main(int argc, char **argv) { return test_main(TESTS, argc, argv); }
