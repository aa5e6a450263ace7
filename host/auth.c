/* auth — password hashing and checking (argon2id), random tokens and their
 * digests, all with libsodium; calls nothing else of flowhost.
 *
 * Password hashing is the one memory-hungry thing the host does, so it is
 * bounded twice: each hash uses AUTH_HASH_MEMLIMIT, and at most
 * AUTH_HASH_PARALLEL of them run at once (the others wait their turn), so a
 * burst of logins costs time, never AUTH_HASH_PARALLEL+1 times the memory.
 */
#include "auth.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* OWASP's argon2id setting of m = 7 MiB, t = 5, p = 1 (its cheat sheet rates
 * it as strong as m = 19 MiB, t = 2 or m = 46 MiB, t = 1: the same memory
 * passes, spread over time instead of space): a login costs ~30 ms and
 * 7 MiB, so the host's peak memory stays small.  Hashes made with other
 * limits (libsodium's 64 MiB "interactive" of earlier versions) still
 * verify: the encoded string carries its own parameters. */
#define AUTH_HASH_OPSLIMIT 5
#define AUTH_HASH_MEMLIMIT (7u * 1024 * 1024)

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_busy, gate_peak;

static void gate_enter(void) {
  pthread_mutex_lock(&gate_mu);
  while (gate_busy >= AUTH_HASH_PARALLEL) pthread_cond_wait(&gate_cv, &gate_mu);
  if (++gate_busy > gate_peak) gate_peak = gate_busy;
  pthread_mutex_unlock(&gate_mu);
#ifdef __GLIBC__
  /* The hash maps AUTH_HASH_MEMLIMIT of its own: first give the system back
   * what the allocator keeps free in its arenas (freed pages of every
   * thread's heap), so the peak is the memory in use plus the hash, not
   * plus whatever was freed since.  It takes ~1 ms against the hash's ~30
   * (20 ms the first time after a long load); the server's peak after 16
   * sign-ins fell from 29-32.6 to 25.3-27.3 MiB (bench/README.md, 14). */
  malloc_trim(0);
#endif
}

static void gate_leave(void) {
  pthread_mutex_lock(&gate_mu);
  gate_busy--;
  pthread_cond_signal(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

int auth_hash_peak(void) {
  pthread_mutex_lock(&gate_mu);
  int n = gate_peak;
  pthread_mutex_unlock(&gate_mu);
  return n;
}

int auth_init(void) { return sodium_init() < 0 ? -1 : 0; }

int auth_hash_password(const char *password, char out[AUTH_HASH_LEN]) {
  gate_enter();
  int rc = crypto_pwhash_str(out, password, strlen(password), AUTH_HASH_OPSLIMIT, AUTH_HASH_MEMLIMIT);
  gate_leave();
  return rc;
}

int auth_verify_password(const char *hash, const char *password) {
  if (!hash || !password) return 0;
  gate_enter();
  int ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
  gate_leave();
  return ok;
}

void auth_random_token(char out[AUTH_TOKEN_LEN]) {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  sodium_bin2hex(out, AUTH_TOKEN_LEN, raw, sizeof raw);
}

void auth_digest(const char *token, char out[AUTH_DIGEST_LEN]) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, (const unsigned char *)token, strlen(token), NULL, 0);
  sodium_bin2hex(out, AUTH_DIGEST_LEN, digest, sizeof digest);
}

int auth_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb) return 0;
  return sodium_memcmp(a, b, la) == 0;
}
