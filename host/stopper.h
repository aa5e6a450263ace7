/* stopper — the sleep of a background thread that its owner's stop ends
 * at once (hostbeat.c, upkeep.c): a mutex, a condition and a flag. */
#ifndef STOPPER_H
#define STOPPER_H

#include <pthread.h>

typedef struct stopper {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int stopping;
} stopper;

void stopper_init(stopper *s);
/* Sleeps up to `seconds` (wall clock); 0 once stopper_stop was called,
 * at once then. */
int stopper_sleep(stopper *s, double seconds);
/* Wakes the sleeper for good. */
void stopper_stop(stopper *s);
void stopper_destroy(stopper *s);

#endif
