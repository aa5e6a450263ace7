/* jsonw — a streaming JSON writer: values appended to one growing buffer,
 * byte for byte what jansson's json_dumps(JSON_COMPACT) prints for the same
 * tree (same separators, same string escapes: \" \\ \b \f \n \r \t and
 * \u00XX for the other control characters, UTF-8 kept as is).
 *
 * Why: a list answer built as a jansson tree costs one allocation per
 * value, then a walk to print it and another to free it; the inbox page
 * spent about 28% of its time there.  Lists write their answer here once.
 *
 * Commas are the writer's business: jw_key() and every value put one where
 * the container needs it.  Allocation failure is sticky: later calls do
 * nothing and jw_take() returns NULL.  Uses jansson only to print a json_t
 * (jw_value) and to re-read stored JSON texts that are not in canonical
 * form (jw_object_text).
 */
#ifndef JSONW_H
#define JSONW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define JW_DEPTH 32

typedef struct jsonw {
  char *buf;
  size_t len, cap;
  int oom;                          /* an allocation failed: the text is lost */
  int depth;
  unsigned char has_member[JW_DEPTH];   /* per open container: a value was written */
  int after_key;                    /* the next value is a member's value */
} jsonw;

void jw_init(jsonw *w);
void jw_free(jsonw *w);
/* The text (NUL-terminated, *len without the NUL), now the caller's to
 * free(); NULL if an allocation failed.  The writer is empty after. */
char *jw_take(jsonw *w, size_t *len);

void jw_object(jsonw *w);
void jw_object_end(jsonw *w);
void jw_array(jsonw *w);
void jw_array_end(jsonw *w);
void jw_key(jsonw *w, const char *key);   /* key: valid UTF-8 (names of the code) */
/* A key known when compiling that needs no escape, quoted by the macro:
 * JW_KEY(w, "id") writes "id": without scanning it. */
#define JW_KEY(w, lit) jw_raw_key((w), "\"" lit "\":", sizeof(lit) + 2)
void jw_raw_key(jsonw *w, const char *text, size_t n);

/* A string as json_string() + dump would print it; NULL, or text that is
 * not valid UTF-8 (which json_string() refuses), is written as null. */
void jw_string(jsonw *w, const char *s);
void jw_int(jsonw *w, int64_t v);
void jw_bool(jsonw *w, int b);
void jw_null(jsonw *w);
/* s as jw_string writes it, but null for "" (a time not set, nobody's name) */
void jw_string_or_null(jsonw *w, const char *s);
/* Any jansson value (NULL: null). */
void jw_value(jsonw *w, const json_t *v);
/* A stored JSON object text as parse_json_text() + dump would print it:
 * the text itself when it is already in that form (compact, canonical
 * escapes and integers, no duplicate keys), else re-read by jansson; text
 * that is not a JSON object is written as {}. */
void jw_object_text(jsonw *w, const char *text);

/* 1 when s (n bytes) is valid UTF-8 as jansson checks it (no overlong
 * forms, no surrogates, nothing above U+10FFFF, no NUL byte). */
int jw_utf8_valid(const char *s, size_t n);

#endif
