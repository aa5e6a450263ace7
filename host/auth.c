/* auth — password hashing and checking (argon2id), random tokens and their
 * digests, all with libsodium; calls nothing else of flowhost. */
#include "auth.h"

#include <sodium.h>
#include <string.h>

int auth_init(void) { return sodium_init() < 0 ? -1 : 0; }

/* Interactive limits: a login costs ~50 ms and 64 MiB, enough to make
 * guessing slow without letting a burst of logins exhaust the machine. */
int auth_hash_password(const char *password, char out[AUTH_HASH_LEN]) {
  return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

int auth_verify_password(const char *hash, const char *password) {
  if (!hash || !password) return 0;
  return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
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
