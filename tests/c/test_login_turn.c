/* login_turn: the sign-ins from one address take turns, other addresses do
 * not wait, and the table is empty once every try gave its turn back;
 * many threads on two addresses never hold one address's turn twice at once. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "fhtime.h"
#include "login_turn.h"
#include "test.h"

typedef struct waiter {
  const char *addr;
  _Atomic int state;   /* 0 waiting, 1 holds the turn, 2 gave it back */
} waiter;

static void *take_and_give(void *arg) {
  waiter *w = arg;
  login_turn *t = login_turn_take(w->addr);
  atomic_store(&w->state, t ? 1 : 3);
  login_turn_give(t);
  atomic_store(&w->state, 2);
  return NULL;
}

/* Waits up to 2 s for *state to become want. */
static int becomes(_Atomic int *state, int want) {
  for (double until = fhtime_monotonic() + 2; fhtime_monotonic() < until; usleep(1000))
    if (atomic_load(state) == want) return 1;
  return atomic_load(state) == want;
}

static int test_turns(void) {
  login_turn *held = login_turn_take("10.0.0.1");
  CHECK(held != NULL);
  CHECK(login_turn_addresses() == 1);
  waiter same = {"10.0.0.1", 0}, also_same = {"10.0.0.1", 0}, other = {"10.0.0.2", 0};
  pthread_t a, b, c;
  CHECK(pthread_create(&a, NULL, take_and_give, &same) == 0);
  CHECK(pthread_create(&b, NULL, take_and_give, &also_same) == 0);
  CHECK(pthread_create(&c, NULL, take_and_give, &other) == 0);
  /* another address goes through at once; the same address waits for the turn */
  CHECK(becomes(&other.state, 2));
  usleep(50 * 1000);
  CHECK(atomic_load(&same.state) == 0 && atomic_load(&also_same.state) == 0);
  CHECK(login_turn_addresses() == 1);
  login_turn_give(held);
  CHECK(becomes(&same.state, 2));
  CHECK(becomes(&also_same.state, 2));
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  pthread_join(c, NULL);
  CHECK(login_turn_addresses() == 0);
  login_turn_give(NULL);   /* a try that went on without a turn gives nothing back */
  return 0;
}

enum { THREADS = 8, ROUNDS = 300 };
static _Atomic int inside[2], overlaps;   /* per address */

static void *hammer(void *arg) {
  int k = (int)(long)arg;
  for (int i = 0; i < ROUNDS; i++) {
    int which = (i + k) % 2;
    login_turn *t = login_turn_take(which ? "127.0.0.1" : "::1");
    if (!t) continue;
    if (atomic_fetch_add(&inside[which], 1) != 0) atomic_fetch_add(&overlaps, 1);
    sched_yield();
    atomic_fetch_sub(&inside[which], 1);
    login_turn_give(t);
  }
  return NULL;
}

static int test_threads(void) {
  pthread_t th[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&th[i], NULL, hammer, (void *)i) == 0);
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  CHECK(atomic_load(&overlaps) == 0);
  CHECK(login_turn_addresses() == 0);
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {{"turns", test_turns}, {"threads", test_threads}, {NULL, NULL}};
  return test_main(tests, argc, argv);
}
