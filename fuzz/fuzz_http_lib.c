/* fuzz_http_lib — the embedded server of the HTTP harnesses and the
 * contract check of their answers (see fuzz_http_lib.h). */
#include "fuzz_http_lib.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_internal.h"
#include "fhtime.h"
#include "http_internal.h"
#include "identity.h"
#include "store.h"

#ifndef FLOWHOST_SOURCE_DIR
#define FLOWHOST_SOURCE_DIR "."
#endif

static flowreg *reg;
static http_server *srv;
static fh_actor admin;
static unsigned calls;

void fuzz_fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz: %s: %.2000s\n", what, detail ? detail : "");
  abort();
}

/* libsodium's cheapest argon2id: the fuzzers check passwords by the thousand. */
static void cheap_hash(const char *password, char out[AUTH_HASH_LEN]) {
  if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN))
    fuzz_fail("hash", password);
}

engine *fuzz_http_engine(void) {
  http_req probe;
  memset(&probe, 0, sizeof probe);
  probe.srv = srv;
  fherr err = {0};
  engine *e = http_engine(&probe, &err);
  if (!e) fuzz_fail("engine", err.message);
  return e;
}

const fh_actor *fuzz_http_admin(void) { return &admin; }

/* A user with the fuzz password and an API token (writes outside a
 * transaction: an in-memory database has no shared writer). */
static void add_user(engine *e, const char *name, int is_admin, const char *token) {
  fherr err = {0};
  char hash[AUTH_HASH_LEN], digest[AUTH_DIGEST_LEN];
  cheap_hash(FUZZ_PASSWORD, hash);
  auth_digest(token, digest);
  store *st = engine_store(e);
  st_user u;
  if (identity_user_add(e, name, NULL, is_admin, &err) || store_user_set_password(st, name, hash, &err) ||
      store_user_get(st, name, &u, &err))
    fuzz_fail("user", err.message);
  int rc = store_token_add(st, digest, u.id, "fuzz", &err);
  st_user_free(&u);
  if (rc) fuzz_fail("token", err.message);
}

/* Users, alice's session, a grant for bob. */
static void setup_users(void) {
  engine *e = fuzz_http_engine();
  fherr err = {0};
  store *st = engine_store(e);
  add_user(e, "alice", 1, FUZZ_ALICE_TOKEN);
  add_user(e, "bob", 0, FUZZ_BOB_TOKEN);
  if (identity_grant(e, "bob", "helloworld.start", &err)) fuzz_fail("grant", err.message);
  char digest[AUTH_DIGEST_LEN];
  auth_digest(FUZZ_SESSION, digest);
  st_user u;
  if (store_user_get(st, "alice", &u, &err)) fuzz_fail("alice", err.message);
  if (store_session_add(st, digest, u.id, FUZZ_CSRF, "9999-12-31T00:00:00.000Z", &err))
    fuzz_fail("session", err.message);
  st_user_free(&u);
  fh_actor_free(&admin);
  if (identity_actor(e, "alice", &admin, &err)) fuzz_fail("actor", err.message);
}

static void start_server(void) {
  fherr err = {0};
  http_stop(srv);
  srv = NULL;
  http_options ho = {.flows = reg, .db_path = ":memory:", .synchronous_full = 0, .embedded = 1,
                     .budget_seconds = 1, .web_dir = FLOWHOST_SOURCE_DIR "/web"};
  if (http_start(&ho, &srv, &err)) fuzz_fail("http_start", err.message);
  cheap_hash("flowhost: no user has this password", srv->dummy_hash);
  setup_users();
}

void fuzz_http_begin(unsigned every) {
  if (!reg) {
    fherr err = {0};
    if (auth_init()) fuzz_fail("auth_init", NULL);
    fhtime_set_manual(1893456000.0);   /* 2030-01-01 */
    reg = flowreg_new(FLOWHOST_SOURCE_DIR "/flows", FLOWHOST_SOURCE_DIR "/lua", &err);
    if (!reg || flowreg_load_all(reg, &err)) fuzz_fail("flowreg", err.message);
  }
  if (!srv || (every && ++calls % every == 0)) start_server();
  fhtime_manual_advance(3600);   /* past the sign-in throttle's window */
  /* alice's session again, should a request have signed it out (a
   * duplicate is refused by its primary key: nothing changes then) */
  fherr err = {0};
  char digest[AUTH_DIGEST_LEN];
  auth_digest(FUZZ_SESSION, digest);
  store_session_add(engine_store(fuzz_http_engine()), digest, admin.id, FUZZ_CSRF, "9999-12-31T00:00:00.000Z", &err);
  fherr_clear(&err);
}

/* --- answers ----------------------------------------------------------------------- */

const char *fuzz_reply_header(const fuzz_reply *r, const char *name, char *buf, size_t cap) {
  buf[0] = '\0';
  size_t n = strlen(name);
  for (const char *p = r->head ? strstr(r->head, "\r\n") : NULL; p && p < r->body; p = strstr(p + 2, "\r\n")) {
    if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
      const char *v = p + 3 + n;
      while (*v == ' ') v++;
      size_t len = strcspn(v, "\r\n");
      snprintf(buf, cap, "%.*s", (int)len, v);
      break;
    }
  }
  return buf;
}

static const char *const CODES[] = {"bad_request", "invalid", "unauthenticated", "forbidden", "not_found",
                                    "method_not_allowed", "conflict", "too_large", "flow_error", "busy",
                                    "too_many_requests", NULL};

/* A JSON answer: it parses; an error has the error shape with a known code. */
static void check_json(const fuzz_reply *r) {
  json_error_t jerr;
  json_t *v = json_loadb(r->body, r->body_len, 0, &jerr);
  if (!v) fuzz_fail("an answer that is not JSON", r->text);
  if (r->status >= 400) {
    json_t *e = json_object_get(v, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *message = json_string_value(json_object_get(e, "message"));
    int known = 0;
    for (const char *const *c = CODES; code && *c && !known; c++) known = !strcmp(*c, code);
    if (!known || !message || !message[0]) fuzz_fail("an error without the error shape", r->text);
  }
  json_decref(v);
}

void fuzz_http_send(const char *text, size_t len, fuzz_reply *out) {
  memset(out, 0, sizeof *out);
  size_t n = 0;
  if (http_feed(srv, text, len, &out->text, &n) != 0) {
    /* the harness's own plumbing (a loopback connection), not the code
     * under test: say so, start afresh, and try once more */
    fprintf(stderr, "fuzz: http_feed: no connection (%s); restarting the server\n", strerror(errno));
    start_server();
    if (http_feed(srv, text, len, &out->text, &n) != 0) fuzz_fail("http_feed: no connection", strerror(errno));
  }
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "--> %.*s\n<-- %.600s\n", (int)(len < 600 ? len : 600), text,
                                      out->text ? out->text : "(nothing)");
  if (!out->text || !n) return;   /* dropped (a request MHD gave up on) */
  if (strncmp(out->text, "HTTP/1.", 7) || n < 12) fuzz_fail("not an HTTP answer", out->text);
  out->status = atoi(out->text + 9);
  out->head = out->text;
  char *end = strstr(out->text, "\r\n\r\n");
  if (!end) fuzz_fail("an answer without the end of its headers", out->text);
  out->body = end + 4;
  out->body_len = n - (size_t)(out->body - out->text);
  if (out->status < 100 || out->status > 599) fuzz_fail("a status out of range", out->text);
  if (out->status >= 500 && out->status != 503) fuzz_fail("a server error", out->text);
  char type[128];
  /* (HEAD answers have the headers of the GET but no body) */
  if (out->body_len && strstr(fuzz_reply_header(out, "Content-Type", type, sizeof type), "application/json"))
    check_json(out);
}

void fuzz_reply_free(fuzz_reply *r) {
  free(r->text);
  memset(r, 0, sizeof *r);
}

void fuzz_percent(char *dst, size_t cap, const uint8_t *src, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t used = strlen(dst);
  for (size_t i = 0; i < n && used + 4 < cap; i++) {
    uint8_t c = src[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
      dst[used++] = (char)c;
    } else {
      dst[used++] = '%';
      dst[used++] = hex[c >> 4];
      dst[used++] = hex[c & 15];
    }
  }
  dst[used] = '\0';
}
