/* fhlog — formats, scrubs and writes one log line to stderr (see fhlog.h);
 * calls only libc. */
#include "fhlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char PREFIX[] = "flowhost: ";
static const char CUT[] = "...";

/* Copies msg into out (room for cap bytes) as one line; returns the length
 * written.  Stops early, without splitting a " | ", when out is full, and
 * then sets *cut. */
static size_t scrub(const char *msg, char *out, size_t cap, int *cut) {
  size_t n = 0, len = strlen(msg);
  while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) len--;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)msg[i];
    if (c == '\r' && i + 1 < len && msg[i + 1] == '\n') continue;
    if (c == '\n' || c == '\r') {
      while (i + 1 < len && (msg[i + 1] == '\t' || msg[i + 1] == ' ')) i++;
      if (n + 3 > cap) {
        *cut = 1;
        break;
      }
      memcpy(out + n, " | ", 3);
      n += 3;
      continue;
    }
    if (n + 1 > cap) {
      *cut = 1;
      break;
    }
    out[n++] = c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  return n;
}

void fhlogv(int level, const char *fmt, va_list ap) {
  static const char *const tags[] = {" [error]", " [warn]", ""};
  const char *tag = level >= FHLOG_ERROR && level <= FHLOG_INFO ? tags[level] : "";
  char msg[FHLOG_MAX_LINE];
  int saved = errno;   /* a caller may log and then report errno */
  int mlen = vsnprintf(msg, sizeof msg, fmt, ap);
  if (mlen < 0) snprintf(msg, sizeof msg, "(unprintable log message)");

  char line[FHLOG_MAX_LINE];
  size_t tlen = strlen(tag);
  /* prefix, message, "..." if cut, tag, '\n' */
  size_t room = sizeof line - (sizeof PREFIX - 1) - (sizeof CUT - 1) - tlen - 1;
  memcpy(line, PREFIX, sizeof PREFIX - 1);
  size_t n = sizeof PREFIX - 1;
  int cut = mlen >= (int)sizeof msg;
  n += scrub(msg, line + n, room, &cut);
  if (cut) {
    memcpy(line + n, CUT, sizeof CUT - 1);
    n += sizeof CUT - 1;
  }
  memcpy(line + n, tag, tlen);
  n += tlen;
  line[n++] = '\n';

  for (size_t off = 0; off < n;) {
    ssize_t w = write(STDERR_FILENO, line + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  errno = saved;
}

void fhlog(int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fhlogv(level, fmt, ap);
  va_end(ap);
}

int fhlog_rate_ok(fhlog_rate *r, double every) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;   /* never 0 */
  long long last = atomic_load(&r->last_ms);
  if (last && now - last < (long long)(every * 1000)) return 0;
  return atomic_compare_exchange_strong(&r->last_ms, &last, now);
}
