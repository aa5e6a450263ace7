/* fhtime_format against the libc formatting it replaced (gmtime_r +
 * strftime + snprintf, kept here as the reference): every day from 1970 to
 * 9999, the millisecond rounding edges, the clamping at both ends, and
 * random times; and fhtime_parse reading every such text back. */
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "fhtime.h"
#include "test.h"

#define EPOCH_MAX 253402300799.0

/* The formatting as it was before it was done by hand. */
static void reference_format(double epoch_seconds, char out[FH_TIME_LEN]) {
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

static int same_format(double t) {
  char got[FH_TIME_LEN], want[FH_TIME_LEN];
  memset(got, 'x', sizeof got);
  fhtime_format(t, got);
  reference_format(t, want);
  if (strcmp(got, want)) {
    fprintf(stderr, "  %.6f: got %s, want %s\n", t, got, want);
    return 0;
  }
  return 1;
}

static int test_every_day(void) {
  /* one time of day per day, moving through the day so every hour, minute
   * and second shows up too */
  for (int64_t day = 0; day <= 2932896; day++) {   /* 9999-12-31 */
    double t = (double)(day * 86400 + (day * 7919) % 86400) + (double)(day % 1000) / 1000.0;
    CHECK(same_format(t));
  }
  return 0;
}

static int test_edges(void) {
  static const double times[] = {
      0, -1, -0.0004, 0.0004, 0.0005, 0.0015, 0.9994, 0.9995, 0.9999, 59.9995, 86399.9995, 951782399.9996,
      951868800, 4107542400, 13574563200, 1893456000.2989999, 1893456000.299, 1893456000.2985, 1893456000.0005,
      1893456000.9995, EPOCH_MAX - 0.0004, EPOCH_MAX - 0.0005, EPOCH_MAX, EPOCH_MAX + 0.4, EPOCH_MAX + 1, 1e15,
      1e300};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) CHECK(same_format(times[i]));
  CHECK(same_format(NAN));
  CHECK(same_format(INFINITY));
  CHECK(same_format(-INFINITY));
  char out[FH_TIME_LEN];
  fhtime_format(EPOCH_MAX + 100, out);
  CHECK_STR(out, "9999-12-31T23:59:59.000Z");
  fhtime_format(951782400.0005, out);   /* 2000-02-29, a leap day of a year divisible by 400 */
  CHECK_STR(out, "2000-02-29T00:00:00.001Z");
  fhtime_format(-5, out);
  CHECK_STR(out, "1970-01-01T00:00:00.000Z");
  return 0;
}

static int test_random(void) {
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 1000000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double t = (double)(x % 260000000000000ull) / 1000.0 + (double)(x >> 54) / 1e6;
    CHECK(same_format(t));
    if (i % 100 == 0) {   /* and it reads back as itself */
      char a[FH_TIME_LEN], b[FH_TIME_LEN];
      fhtime_format(t, a);
      fhtime_format(fhtime_parse(a), b);
      CHECK_STR(a, b);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  static const test_case tests[] = {
      {"every_day", test_every_day}, {"edges", test_edges}, {"random", test_random}, {NULL, NULL}};
  return test_main(tests, argc, argv);
}
