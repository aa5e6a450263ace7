/* fhtime — wall-clock timestamps as the ISO 8601 UTC strings that the
 * database and the API use ("2026-11-28T19:04:18.123Z": sortable as text). */
#ifndef FHTIME_H
#define FHTIME_H

#include <time.h>

#define FH_TIME_LEN 32

void fhtime_now(char out[FH_TIME_LEN]);
void fhtime_format(double epoch_seconds, char out[FH_TIME_LEN]);
double fhtime_epoch(void);        /* wall clock, seconds */
double fhtime_monotonic(void);    /* for budgets and durations */
/* Parses the format above (or a plain YYYY-MM-DD); -1 on a malformed string. */
double fhtime_parse(const char *iso);

#endif
