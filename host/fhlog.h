/* fhlog — the server's one log helper: one event, one line on stderr.
 *
 * Every line is "flowhost: <message>" for FHLOG_INFO and
 * "flowhost: <message> [warn]" / "flowhost: <message> [error]" for the other
 * levels; the level goes last so that a line starts with the same words
 * whatever its level ("flowhost: reloaded doc", "flowhost: reload doc.lua:5: ...").
 *
 * The message is scrubbed so that one event is always one line: a multi-line
 * text (a Lua traceback, say) has its lines joined with " | " (the indentation
 * that starts each line dropped), tabs become spaces and other control bytes
 * '?'; trailing newlines are dropped.  A line longer than FHLOG_MAX_LINE bytes
 * is cut and ends in "...".
 *
 * Thread-safe: the whole line goes out in one write(2), so lines of threads
 * logging at once do not mix (up to PIPE_BUF bytes on a pipe; a longer line
 * is still written whole, but the kernel may interleave it).  Uses only libc.
 */
#ifndef FHLOG_H
#define FHLOG_H

#include <stdarg.h>
#include <stdatomic.h>

enum { FHLOG_ERROR, FHLOG_WARN, FHLOG_INFO };

#define FHLOG_MAX_LINE 8192

void fhlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fhlogv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* A kind of line said at most once per `every` seconds by the whole
 * process (a static fhlog_rate per kind, zero-initialised): fhlog_rate_ok
 * is 1 for the one caller that may log it now. */
typedef struct fhlog_rate {
  atomic_llong last_ms;   /* monotonic milliseconds of the last line, 0: none yet */
} fhlog_rate;
int fhlog_rate_ok(fhlog_rate *r, double every);

#endif
