/* stopper — a stoppable sleep (see stopper.h). */
#include "stopper.h"

#include <time.h>

void stopper_init(stopper *s) {
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cond, NULL);
  s->stopping = 0;
}

int stopper_sleep(stopper *s, double seconds) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  time_t whole = (time_t)seconds;
  long ns = until.tv_nsec + (long)((seconds - (double)whole) * 1e9);
  until.tv_sec += whole + ns / 1000000000L;
  until.tv_nsec = ns % 1000000000L;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping)
    if (pthread_cond_timedwait(&s->cond, &s->mu, &until) != 0) break;
  int go = !s->stopping;
  pthread_mutex_unlock(&s->mu);
  return go;
}

void stopper_stop(stopper *s) {
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->mu);
}

void stopper_destroy(stopper *s) {
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->mu);
}
