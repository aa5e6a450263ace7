/* fhtime — wall-clock timestamps as the ISO 8601 UTC strings that the
 * database and the API use ("2026-11-28T19:04:18.123Z": sortable as text),
 * and a process-wide manual clock for tests: while it is set, fhtime_epoch()
 * and fhtime_now() read it instead of the wall clock, so a spec can move
 * time forward by days without sleeping.  fhtime_monotonic() always stays
 * real: it measures time budgets and durations, which must not jump. */
#ifndef FHTIME_H
#define FHTIME_H

#include <time.h>

#define FH_TIME_LEN 32

void fhtime_now(char out[FH_TIME_LEN]);
void fhtime_format(double epoch_seconds, char out[FH_TIME_LEN]);
double fhtime_epoch(void);        /* wall clock (or the manual clock when set), seconds */
double fhtime_monotonic(void);    /* for budgets and durations */
/* Parses the format above (or a plain YYYY-MM-DD); -1 on a malformed string. */
double fhtime_parse(const char *iso);

/* The manual clock (thread-safe; microsecond resolution).  epoch > 0 sets
 * it to that time; 0 (or less) turns it off and the wall clock is back. */
void fhtime_set_manual(double epoch);
int fhtime_is_manual(void);
/* Moves the manual clock forward (no effect when it is off). */
void fhtime_manual_advance(double seconds);

#endif
