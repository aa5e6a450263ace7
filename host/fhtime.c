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

/* Writes n digits of v, zero-padded, at out. */
static void put_digits(char *out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; i--, v /= 10) out[i] = (char)('0' + v % 10);
}

/* Days since 1970-01-01 -> year, month (1-12), day (1-31) of the proleptic
 * Gregorian calendar (H. Hinnant's civil_from_days, for days >= 0).  By
 * hand rather than gmtime_r + strftime + snprintf: every task row and
 * action stamps several times, and those three were ~2.5% of an automatic
 * process's CPU. */
static void civil_from_days(long long days, unsigned *y, unsigned *m, unsigned *d) {
  long long z = days + 719468;
  long long era = z / 146097;
  unsigned doe = (unsigned)(z - era * 146097);                              /* [0, 146096] */
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;   /* [0, 399] */
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                 /* [0, 365] */
  unsigned mp = (5 * doy + 2) / 153;                                      /* March = 0 */
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

/* The last stamp this thread made: an action stamps its tasks, its data
 * and its audit several times within the same millisecond (12 times for an
 * automatic process), and the calendar arithmetic was ~300 instructions
 * of each. */
static _Thread_local long long last_ms = -1;
static _Thread_local char last_text[25];   /* the 24 characters and the NUL */

void fhtime_format(double epoch_seconds, char out[FH_TIME_LEN]) {
  if (!(epoch_seconds >= 0)) epoch_seconds = 0;
  if (epoch_seconds > EPOCH_MAX) epoch_seconds = EPOCH_MAX;
  double total_ms = floor(epoch_seconds * 1000.0 + 0.5);
  if ((long long)total_ms == last_ms) {
    memcpy(out, last_text, sizeof last_text);
    return;
  }
  long long secs = (long long)floor(total_ms / 1000.0);
  int millis = (int)(total_ms - (double)secs * 1000.0);
  if (millis < 0) millis = 0;
  if (millis > 999) millis = 999;
  unsigned y, mo, d, sod = (unsigned)(secs % 86400);
  civil_from_days(secs / 86400, &y, &mo, &d);
  /* "YYYY-MM-DDTHH:MM:SS.mmmZ", as strftime("%Y-%m-%dT%H:%M:%S") + ".%03uZ" printed it */
  put_digits(out, y, 4);
  out[4] = '-';
  put_digits(out + 5, mo, 2);
  out[7] = '-';
  put_digits(out + 8, d, 2);
  out[10] = 'T';
  put_digits(out + 11, sod / 3600, 2);
  out[13] = ':';
  put_digits(out + 14, sod / 60 % 60, 2);
  out[16] = ':';
  put_digits(out + 17, sod % 60, 2);
  out[19] = '.';
  put_digits(out + 20, (unsigned)millis, 3);
  out[23] = 'Z';
  out[24] = '\0';
  last_ms = (long long)total_ms;
  memcpy(last_text, out, sizeof last_text);
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
