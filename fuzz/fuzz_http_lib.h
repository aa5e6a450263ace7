/* fuzz_http_lib — what the HTTP harnesses share: an embedded `flowhost
 * serve` (the real daemon, routes, auth and engine, fed one request at a
 * time through a local socket by http_feed, no network and no threads) on
 * an in-memory database with known users, a session and API tokens, and the
 * check of every answer against the contract of docs/http-api.md.
 *
 * Users: alice (admin, password FUZZ_PASSWORD, session FUZZ_SESSION with
 * CSRF token FUZZ_CSRF, API token FUZZ_ALICE_TOKEN) and bob (may start
 * helloworld, API token FUZZ_BOB_TOKEN).  Passwords are hashed with
 * libsodium's cheapest parameters so that a sign-in costs microseconds.
 * The clock is the manual one, moved on by an hour per request, so that
 * sign-in throttling (which counts 15 minutes) never blocks the fuzzer.
 */
#ifndef FUZZ_HTTP_LIB_H
#define FUZZ_HTTP_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define FUZZ_PASSWORD "correct horse"
#define FUZZ_SESSION "5e55105e55105e55105e55105e55105e55105e55105e55105e55105e55105e55"
#define FUZZ_CSRF "c5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rf"
#define FUZZ_ALICE_TOKEN "a11cea11cea11cea11cea11cea11cea11cea11cea11cea11cea11cea11cea11c"
#define FUZZ_BOB_TOKEN "b0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb0bb"

typedef struct fuzz_reply {
  int status;            /* 0: no answer (the connection was dropped) */
  const char *head;      /* status line and headers (into text) */
  const char *body;
  size_t body_len;
  char *text;            /* the whole answer, malloc'd */
} fuzz_reply;

/* The server, started on first use and started afresh every `every` calls
 * (keeps the in-memory database small). */
void fuzz_http_begin(unsigned every);
/* This thread's engine of the server (the one the requests use). */
engine *fuzz_http_engine(void);
/* The admin actor, for setting up processes through the engine. */
const fh_actor *fuzz_http_admin(void);
/* Sends one request's text; the answer is checked against the contract
 * (abort() on a break: a 500, a JSON error without code or message, JSON
 * that does not parse).  Free it with fuzz_reply_free. */
void fuzz_http_send(const char *text, size_t len, fuzz_reply *out);
void fuzz_reply_free(fuzz_reply *r);
/* A header of the answer ("" when absent), copied into buf. */
const char *fuzz_reply_header(const fuzz_reply *r, const char *name, char *buf, size_t cap);
/* Appends src[0..n) percent-encoded (every byte but unreserved ones) to dst. */
void fuzz_percent(char *dst, size_t cap, const uint8_t *src, size_t n);
/* Fails the run with a message (abort, so libFuzzer keeps the input). */
void fuzz_fail(const char *what, const char *detail) __attribute__((noreturn));

#endif
