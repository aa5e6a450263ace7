/* auth — secrets: password hashes (libsodium argon2id), random tokens and
 * their one-way digests.  Raw session ids and API tokens are shown to the
 * client once and stored only as digests (see identity_session_*,
 * identity_token_*).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#define AUTH_HASH_LEN 128      /* >= crypto_pwhash_STRBYTES */
#define AUTH_TOKEN_LEN 65      /* 32 random bytes as hex + NUL */
#define AUTH_DIGEST_LEN 65     /* 32-byte BLAKE2b digest as hex + NUL */
/* How many password hashes (or checks) may run at once; more callers wait.
 * One: a sign-in costs ~30 ms of one core, and the host's peak memory stays
 * its working set plus one hash (issue 13: < 32 MiB under load). */
#define AUTH_HASH_PARALLEL 1

int auth_init(void);   /* 0 on success; call once before threads start */
int auth_hash_password(const char *password, char out[AUTH_HASH_LEN]);
int auth_verify_password(const char *hash, const char *password);   /* 1 when it matches */
void auth_random_token(char out[AUTH_TOKEN_LEN]);
void auth_digest(const char *token, char out[AUTH_DIGEST_LEN]);
/* The most hashes that ever ran at once in this process (<= AUTH_HASH_PARALLEL). */
int auth_hash_peak(void);
/* Constant-time comparison of two NUL-terminated strings. */
int auth_equal(const char *a, const char *b);

#endif
