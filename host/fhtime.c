/* fhtime — ISO 8601 UTC timestamps and the monotonic clock; calls only libc. */
#include "fhtime.h"

#include <stdio.h>
#include <string.h>

double fhtime_epoch(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double fhtime_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void fhtime_format(double epoch_seconds, char out[FH_TIME_LEN]) {
  time_t secs = (time_t)epoch_seconds;
  int millis = (int)((epoch_seconds - (double)secs) * 1000.0);
  if (millis < 0) millis = 0;
  if (millis > 999) millis = 999;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char date[24];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, FH_TIME_LEN, "%.19s.%03uZ", date, (unsigned)millis % 1000u);
}

void fhtime_now(char out[FH_TIME_LEN]) { fhtime_format(fhtime_epoch(), out); }

double fhtime_parse(const char *iso) {
  if (!iso) return -1;
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  int millis = 0, n = 0;
  size_t len = strlen(iso);
  if (len == 10) {
    if (sscanf(iso, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
      return -1;
  } else {
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
      return -1;
    const char *dot = strchr(iso, '.');
    if (dot)
      for (int i = 1; i <= 3 && dot[i] >= '0' && dot[i] <= '9'; i++)
        millis += (dot[i] - '0') * (i == 1 ? 100 : i == 2 ? 10 : 1);
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31) return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (double)timegm(&tm) + millis / 1000.0;
}
