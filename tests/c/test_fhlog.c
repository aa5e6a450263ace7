/* fhlog_rate_ok: a kind of log line said at most once per period by the
 * whole process (a summary or a permission function that keeps failing
 * would otherwise write a line for every row of every list): the first
 * caller may, the next ones within the period may not, of threads asking
 * at once exactly one may, and a period of 0 lets every caller say it. */
#include <pthread.h>

#include "fhlog.h"
#include "test.h"

#define THREADS 8

static int test_once_per_period(void) {
  static fhlog_rate r;
  CHECK(fhlog_rate_ok(&r, 60));
  for (int i = 0; i < 1000; i++) CHECK(!fhlog_rate_ok(&r, 60));
  static fhlog_rate always;
  for (int i = 0; i < 10; i++) CHECK(fhlog_rate_ok(&always, 0));
  return 0;
}

static fhlog_rate shared;
static pthread_barrier_t gate;

static void *ask(void *arg) {
  pthread_barrier_wait(&gate);
  int *mine = arg;
  for (int i = 0; i < 100; i++) *mine += fhlog_rate_ok(&shared, 60);
  return NULL;
}

static int test_threads(void) {
  pthread_t t[THREADS];
  int said[THREADS] = {0};
  pthread_barrier_init(&gate, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, ask, &said[i]) == 0);
  int total = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    total += said[i];
  }
  pthread_barrier_destroy(&gate);
  CHECK(total == 1);
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {{"once_per_period", test_once_per_period}, {"threads", test_threads}, {NULL, NULL}};
  return test_main(tests, argc, argv);
}
