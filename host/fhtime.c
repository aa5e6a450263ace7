/* fhtime — ISO 8601 UTC timestamps, the monotonic clock and the manual
 * test clock; calls only libc. */
#include "fhtime.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The manual time in microseconds since the epoch; 0: the clock is real.
 * An integer, not a double, so that every thread reads a whole value
 * (lock-free atomics on 64-bit integers) and advances add up exactly. */
static _Atomic int64_t manual_us;

void fhtime_set_manual(double epoch) {
  atomic_store(&manual_us, epoch > 0 ? (int64_t)llround(epoch * 1e6) : 0);
}

int fhtime_is_manual(void) { return atomic_load(&manual_us) != 0; }

void fhtime_manual_advance(double seconds) {
  if (!(seconds > 0) || !isfinite(seconds)) return;
  int64_t step = (int64_t)llround(seconds * 1e6);
  int64_t cur = atomic_load(&manual_us);
  /* compare-and-swap: a clock turned off meanwhile must stay off */
  while (cur != 0 && !atomic_compare_exchange_weak(&manual_us, &cur, cur + step)) {
  }
}

double fhtime_epoch(void) {
  int64_t manual = atomic_load(&manual_us);
  if (manual) return (double)manual / 1e6;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double fhtime_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Rounds to the nearest millisecond rather than truncating: a time read back
 * from its text (x.299 as 1893456000.2989999) must format to the same text,
 * or the manual clock set to a due time would land a millisecond early. */
/* 9999-12-31T23:59:59Z: later times (a flow's huge delay) are clamped, so
 * every stamp keeps the fixed width that text comparison relies on. */
#define EPOCH_MAX 253402300799.0

void fhtime_format(double epoch_seconds, char out[FH_TIME_LEN]) {
  if (!(epoch_seconds >= 0)) epoch_seconds = 0;
  if (epoch_seconds > EPOCH_MAX) epoch_seconds = EPOCH_MAX;
  double total_ms = floor(epoch_seconds * 1000.0 + 0.5);
  time_t secs = (time_t)floor(total_ms / 1000.0);
  int millis = (int)(total_ms - (double)secs * 1000.0);
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
