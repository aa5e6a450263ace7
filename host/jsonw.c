/* jsonw — the streaming JSON writer (jsonw.h): a growing buffer, jansson's
 * compact form, and a check that lets stored JSON texts through unparsed
 * when printing their parsed tree would give the same bytes. */
#include "jsonw.h"

#include <stdlib.h>
#include <string.h>

/* --- the buffer ------------------------------------------------------------- */

void jw_init(jsonw *w) { memset(w, 0, sizeof *w); }

void jw_free(jsonw *w) {
  free(w->buf);
  jw_init(w);
}

static int grow(jsonw *w, size_t more) {
  if (w->oom) return 0;
  if (w->len + more + 1 <= w->cap) return 1;
  /* small first: most texts printed are a process's data or an audit
   * entry, and a block this size comes from malloc's per-thread cache
   * (4 KiB took ~3,000 instructions); a list answer doubles up quickly */
  size_t cap = w->cap ? w->cap : 256;
  while (cap < w->len + more + 1) cap *= 2;
  char *bigger = realloc(w->buf, cap);
  if (!bigger) {
    w->oom = 1;
    return 0;
  }
  w->buf = bigger;
  w->cap = cap;
  return 1;
}

static void put(jsonw *w, const char *s, size_t n) {
  if (!grow(w, n)) return;
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

static void put_char(jsonw *w, char c) {
  if (!grow(w, 1)) return;
  w->buf[w->len++] = c;
}

char *jw_take(jsonw *w, size_t *len) {
  char *text = NULL;
  if (!w->oom && grow(w, 0)) {
    w->buf[w->len] = '\0';
    text = w->buf;
    if (len) *len = w->len;
    w->buf = NULL;
  }
  jw_free(w);
  return text;
}

/* --- structure -------------------------------------------------------------- */

/* Whether a comma goes before the next value (between members or
 * elements, not after the key just written); the state moves past it. */
static int needs_comma(jsonw *w) {
  if (w->after_key) {
    w->after_key = 0;
    return 0;
  }
  if (w->depth <= 0 || w->depth > JW_DEPTH) return 0;
  int had = w->has_member[w->depth - 1];
  w->has_member[w->depth - 1] = 1;
  return had;
}

/* Before a value: its comma, if any. */
static void before_value(jsonw *w) {
  if (needs_comma(w)) put_char(w, ',');
}

static void open_container(jsonw *w, char c) {
  before_value(w);
  put_char(w, c);
  if (w->depth < JW_DEPTH) w->has_member[w->depth] = 0;
  w->depth++;
}

static void close_container(jsonw *w, char c) {
  w->depth--;
  put_char(w, c);
}

void jw_object(jsonw *w) { open_container(w, '{'); }
void jw_object_end(jsonw *w) { close_container(w, '}'); }
void jw_array(jsonw *w) { open_container(w, '['); }
void jw_array_end(jsonw *w) { close_container(w, ']'); }

/* --- strings ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (a non-ASCII lead byte), 0 if
 * none: jansson's utf8_check_first/utf8_check_full rules. */
static size_t utf8_seq(const unsigned char *s, size_t avail) {
  unsigned char u = s[0];
  size_t n = u >= 0xC2 && u <= 0xDF ? 2 : u >= 0xE0 && u <= 0xEF ? 3 : u >= 0xF0 && u <= 0xF4 ? 4 : 0;
  if (!n || n > avail) return 0;
  uint32_t v = u & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < n; i++) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000)) return 0;
  return n;
}

int jw_utf8_valid(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    if (u[i] == 0) return 0;
    if (u[i] < 0x80) {
      i++;
      continue;
    }
    size_t k = utf8_seq(u + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

static const char HEX[] = "0123456789ABCDEF";

/* Bytes that need an escape: control characters, '"' and '\\'. */
static int needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/* A word of eight bytes holds one below 0x20, '"', '\\' or at or above
 * 0x80 exactly when its test (special & HIGHS) is not 0. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static uint64_t special(uint64_t x) {
  uint64_t quote = x ^ (ONES * '"'), slash = x ^ (ONES * '\\');
  return ((x - ONES * 0x20) & ~x) | ((quote - ONES) & ~quote) | ((slash - ONES) & ~slash) | x;
}

/* s between quotes, escaped as jansson's dump_string does, written in
 * place (room for the longest escape of every byte is made first).  With
 * check, 0 when s is not valid UTF-8 (nothing written).  Plain bytes go
 * eight at a time, each word stored as it was read, the rest one by one:
 * a list page writes ~12 short strings a row, and the byte loop, later a
 * run's length and a memcpy call, were a tenth of its instructions. */
static int put_escaped(jsonw *w, const char *s, size_t n, int check) {
  if (!grow(w, 6 * n + 2)) return 1;
  const unsigned char *u = (const unsigned char *)s;
  char *o = w->buf + w->len;
  *o++ = '"';
  for (size_t i = 0; i < n;) {
    for (; i + 8 <= n; i += 8, o += 8) {   /* o + 8 stays within the room: 6 * i + 9 <= 6 * n */
      uint64_t x;
      memcpy(&x, u + i, 8);
      if (special(x) & HIGHS) break;
      memcpy(o, &x, 8);
    }
    while (i < n && u[i] < 0x80 && !needs_escape(u[i])) *o++ = (char)u[i++];
    if (i == n) break;
    unsigned char c = u[i];
    if (c >= 0x80 && check) {
      size_t k = utf8_seq(u + i, n - i);
      if (!k) return 0;
      memcpy(o, u + i, k);
      o += k;
      i += k;
      continue;
    }
    i++;
    if (!needs_escape(c)) {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    switch (c) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      default:
        memcpy(o, "u00", 3);
        o[3] = HEX[c >> 4];
        o[4] = HEX[c & 15];
        o += 5;
    }
  }
  *o++ = '"';
  w->len = (size_t)(o - w->buf);
  return 1;
}

/* A key of n bytes (valid UTF-8, as jansson's keys are). */
static void put_key(jsonw *w, const char *key, size_t n) {
  before_value(w);
  put_escaped(w, key, n, 0);
  put_char(w, ':');
  w->after_key = 1;
}

void jw_key(jsonw *w, const char *key) { put_key(w, key, strlen(key)); }

/* before_value() and put() with one check of the room: a list page writes
 * ~30 keys a row. */
void jw_raw_key(jsonw *w, const char *text, size_t n) {
  if (!grow(w, n + 1)) return;
  if (needs_comma(w)) w->buf[w->len++] = ',';
  memcpy(w->buf + w->len, text, n);
  w->len += n;
  w->after_key = 1;
}

/* A string value of n bytes; 0 (and nothing written, the comma included)
 * when it is not valid UTF-8. */
static int put_string(jsonw *w, const char *s, size_t n) {
  size_t mark = w->len;
  int in = w->depth > 0 && w->depth <= JW_DEPTH, had = in ? w->has_member[w->depth - 1] : 0;
  int after_key = w->after_key;
  before_value(w);
  if (put_escaped(w, s, n, 1)) return 1;
  w->len = mark;
  if (in) w->has_member[w->depth - 1] = (unsigned char)had;
  w->after_key = after_key;
  return 0;
}

void jw_string(jsonw *w, const char *s) {
  if (!s || !put_string(w, s, strlen(s))) jw_null(w);   /* not UTF-8: null */
}

/* --- scalars ---------------------------------------------------------------- */

void jw_int(jsonw *w, int64_t v) {
  char digits[24];
  int i = sizeof digits;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    digits[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) digits[--i] = '-';
  before_value(w);
  put(w, digits + i, sizeof digits - (size_t)i);
}

void jw_bool(jsonw *w, int b) {
  before_value(w);
  if (b) put(w, "true", 4);
  else put(w, "false", 5);
}

void jw_null(jsonw *w) {
  before_value(w);
  put(w, "null", 4);
}

void jw_string_or_null(jsonw *w, const char *s) {
  if (s[0]) jw_string(w, s);
  else jw_null(w);
}

static int dump_part(const char *buffer, size_t size, void *data) {
  jsonw *w = data;
  put(w, buffer, size);
  return w->oom ? -1 : 0;
}

/* jansson's own print of v, for what this writer does not print itself */
static void dump_by_jansson(jsonw *w, const json_t *v) {
  before_value(w);
  if (json_dump_callback(v, dump_part, w, JSON_COMPACT | JSON_ENCODE_ANY)) w->oom = 1;
}

/* The tree is walked here rather than printed by json_dumps, which costs
 * several thousand instructions even for {"n":6} (its buffer, its checks):
 * every automatic write prints its process data and its audit.  Reals and
 * containers nested deeper than the writer tracks (or looping back into
 * themselves) are left to jansson, so the text stays byte for byte its. */
void jw_value(jsonw *w, const json_t *v) {
  if (!v) {
    jw_null(w);
    return;
  }
  switch (json_typeof(v)) {
    case JSON_OBJECT: {
      if (w->depth >= JW_DEPTH - 1) break;
      jw_object(w);
      const char *k;
      size_t klen;
      json_t *x;
      json_object_keylen_foreach((json_t *)v, k, klen, x) {
        put_key(w, k, klen);
        jw_value(w, x);
      }
      jw_object_end(w);
      return;
    }
    case JSON_ARRAY: {
      if (w->depth >= JW_DEPTH - 1) break;
      jw_array(w);
      for (size_t i = 0, n = json_array_size(v); i < n; i++) jw_value(w, json_array_get(v, i));
      jw_array_end(w);
      return;
    }
    case JSON_STRING:
      /* not UTF-8 (a _nocheck string): jansson's answer, which is an error */
      if (put_string(w, json_string_value(v), json_string_length(v))) return;
      break;
    case JSON_INTEGER: jw_int(w, json_integer_value(v)); return;
    case JSON_TRUE: jw_bool(w, 1); return;
    case JSON_FALSE: jw_bool(w, 0); return;
    case JSON_NULL: jw_null(w); return;
    case JSON_REAL: break;
  }
  dump_by_jansson(w, v);
}

/* --- stored JSON texts ------------------------------------------------------- */

/* The canonical form is the one json_dumps(JSON_COMPACT) prints: no blanks,
 * the escapes of put_escaped and nothing else, integers without sign
 * surprises that fit in 64 bits, no reals (their printing is jansson's
 * own), no key twice in an object.  Each scan returns the index after the
 * value, or 0 when the text is not canonical (then jansson reads it). */
#define CANON_DEPTH 16
#define CANON_KEYS 32

static size_t canon_value(const char *s, size_t i, int depth);

static size_t canon_string(const char *s, size_t i) {
  const unsigned char *u = (const unsigned char *)s;
  for (i++;;) {
    unsigned char c = u[i];
    if (c == '"') return i + 1;
    if (c < 0x20) return 0;   /* a raw control character, or the end */
    if (c == '\\') {
      unsigned char e = u[i + 1];
      if (e && strchr("\"\\bfnrt", e)) {
        i += 2;
        continue;
      }
      /* \u00XX only for control characters without a short escape */
      if (e != 'u' || u[i + 2] != '0' || u[i + 3] != '0' || (u[i + 4] != '0' && u[i + 4] != '1')) return 0;
      const char *lo = strchr(HEX, u[i + 5]);
      if (!u[i + 5] || !lo) return 0;
      int v = (u[i + 4] - '0') * 16 + (int)(lo - HEX);
      if (v == 0 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t') return 0;
      i += 6;
    } else if (c < 0x80) {
      i++;
    } else {
      size_t n = utf8_seq(u + i, 4);   /* a NUL stops it at the byte it is */
      if (!n) return 0;
      i += n;
    }
  }
}

static size_t canon_number(const char *s, size_t i) {
  size_t start = i;
  if (s[i] == '-') i++;
  size_t digits = i;
  while (s[i] >= '0' && s[i] <= '9') i++;
  size_t n = i - digits;
  if (n == 0 || n > 18 || (s[digits] == '0' && n > 1)) return 0;
  if (s[start] == '-' && s[digits] == '0') return 0;   /* -0 prints as 0 */
  if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') return 0;   /* a real */
  return i;
}

static size_t canon_object(const char *s, size_t i, int depth) {
  const char *key[CANON_KEYS];
  size_t key_len[CANON_KEYS];
  int nkeys = 0;
  i++;
  if (s[i] == '}') return i + 1;
  for (;;) {
    if (s[i] != '"' || nkeys == CANON_KEYS) return 0;
    size_t end = canon_string(s, i);
    if (!end) return 0;
    for (int k = 0; k < nkeys; k++)
      if (key_len[k] == end - i && !memcmp(key[k], s + i, end - i)) return 0;   /* a key twice */
    key[nkeys] = s + i;
    key_len[nkeys++] = end - i;
    if (s[end] != ':' || !(i = canon_value(s, end + 1, depth))) return 0;
    if (s[i] == '}') return i + 1;
    if (s[i] != ',') return 0;
    i++;
  }
}

static size_t canon_array(const char *s, size_t i, int depth) {
  i++;
  if (s[i] == ']') return i + 1;
  for (;;) {
    if (!(i = canon_value(s, i, depth))) return 0;
    if (s[i] == ']') return i + 1;
    if (s[i] != ',') return 0;
    i++;
  }
}

static size_t canon_value(const char *s, size_t i, int depth) {
  switch (s[i]) {
    case '{': return depth < CANON_DEPTH ? canon_object(s, i, depth + 1) : 0;
    case '[': return depth < CANON_DEPTH ? canon_array(s, i, depth + 1) : 0;
    case '"': return canon_string(s, i);
    case 't': return strncmp(s + i, "true", 4) ? 0 : i + 4;
    case 'f': return strncmp(s + i, "false", 5) ? 0 : i + 5;
    case 'n': return strncmp(s + i, "null", 4) ? 0 : i + 4;
    default: return (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ? canon_number(s, i) : 0;
  }
}

void jw_object_text(jsonw *w, const char *text) {
  size_t end = text && text[0] == '{' ? canon_object(text, 0, 1) : 0;
  if (end && !text[end]) {
    before_value(w);
    put(w, text, end);
    return;
  }
  json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  if (json_is_object(v)) {
    jw_value(w, v);
  } else {
    before_value(w);
    put(w, "{}", 2);
  }
  json_decref(v);
}
