/* luapat — string.find, string.match, string.gmatch and string.gsub that
 * keep to the time budget.
 *
 * Lua's pattern matcher backtracks: ("a"):rep(60):find(("a*"):rep(20) .. "b")
 * takes longer than the universe, all of it inside one C call where the
 * count hook of the budget never runs.  This is Lua 5.4's matcher (lstrlib.c,
 * Copyright (C) 1994-2022 Lua.org, PUC-Rio, MIT licence), the same patterns
 * with the same results and errors, with one addition: every step of the
 * match (a call of match, a character scanned by a repetition or a %b, a
 * block compared by a plain find or a back reference) is charged to a
 * counter, and every CHECK_EVERY steps the matcher looks at the clock
 * (luavm_check_budget), which raises the budget error once the callback is
 * past its deadline.  So a runaway pattern costs its own action, never more
 * than its budget and a few microseconds.
 *
 * A Lua unit (see luaside.h); calls luavm (the budget) only.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <stddef.h>
#include <string.h>

#include "luaside.h"

#define CHECK_EVERY 4096
#define MAXCAPTURES 32
#define MAXCCALLS 200
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define L_ESC '%'
#define SPECIALS "^$*+?.([%-"
#define uchar(c) ((unsigned char)(c))

typedef struct match_state {
  const char *src_init;   /* the subject */
  const char *src_end;
  const char *p_end;      /* the end of the pattern */
  lua_State *L;
  int matchdepth;         /* recursion left before "pattern too complex" */
  unsigned char level;    /* captures, finished or not */
  int left;               /* steps before the next look at the clock */
  struct {
    const char *init;
    ptrdiff_t len;
  } capture[MAXCAPTURES];
} match_state;

/* Charges n steps; looks at the clock when they run out. */
static void charge(match_state *ms, size_t n) {
  if (n < (size_t)ms->left) {
    ms->left -= (int)n;
    return;
  }
  ms->left = CHECK_EVERY;
  luavm_check_budget(ms->L);
}

static const char *match(match_state *ms, const char *s, const char *p);

static int check_capture(match_state *ms, int l) {
  l -= '1';
  if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED)
    return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
  return l;
}

static int capture_to_close(match_state *ms) {
  int level = ms->level;
  for (level--; level >= 0; level--)
    if (ms->capture[level].len == CAP_UNFINISHED) return level;
  return luaL_error(ms->L, "invalid pattern capture");
}

static const char *classend(match_state *ms, const char *p) {
  switch (*p++) {
  case L_ESC:
    if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
    return p + 1;
  case '[': {
    const char *start = p;
    if (*p == '^') p++;
    do {   /* look for a ']' */
      if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
      if (*(p++) == L_ESC && p < ms->p_end) p++;   /* skip escapes (e.g. '%]') */
    } while (*p != ']');
    charge(ms, (size_t)(p - start) >> 5);
    return p + 1;
  }
  default: return p;
  }
}

static int match_class(int c, int cl) {
  int res;
  switch (tolower(cl)) {
  case 'a': res = isalpha(c); break;
  case 'c': res = iscntrl(c); break;
  case 'd': res = isdigit(c); break;
  case 'g': res = isgraph(c); break;
  case 'l': res = islower(c); break;
  case 'p': res = ispunct(c); break;
  case 's': res = isspace(c); break;
  case 'u': res = isupper(c); break;
  case 'w': res = isalnum(c); break;
  case 'x': res = isxdigit(c); break;
  case 'z': res = (c == 0); break;   /* deprecated option */
  default: return cl == c;
  }
  return islower(cl) ? res : !res;
}

static int matchbracketclass(match_state *ms, int c, const char *p, const char *ec) {
  int sig = 1;
  charge(ms, (size_t)(ec - p) >> 5);
  if (*(p + 1) == '^') {
    sig = 0;
    p++;   /* skip the '^' */
  }
  while (++p < ec) {
    if (*p == L_ESC) {
      p++;
      if (match_class(c, uchar(*p))) return sig;
    } else if (*(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return sig;
    } else if (uchar(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

static int singlematch(match_state *ms, const char *s, const char *p, const char *ep) {
  if (s >= ms->src_end) return 0;
  int c = uchar(*s);
  switch (*p) {
  case '.': return 1;   /* matches any char */
  case L_ESC: return match_class(c, uchar(*(p + 1)));
  case '[': return matchbracketclass(ms, c, p, ep - 1);
  default: return uchar(*p) == c;
  }
}

static const char *matchbalance(match_state *ms, const char *s, const char *p) {
  if (p >= ms->p_end - 1) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= ms->src_end || *s != *p) return NULL;
  int b = *p, e = *(p + 1), cont = 1;
  while (++s < ms->src_end) {
    charge(ms, 1);
    if (*s == e) {
      if (--cont == 0) return s + 1;
    } else if (*s == b) {
      cont++;
    }
  }
  return NULL;   /* the string ends out of balance */
}

static const char *max_expand(match_state *ms, const char *s, const char *p, const char *ep) {
  ptrdiff_t i = 0;   /* counts the maximum expansion of the item */
  while (singlematch(ms, s + i, p, ep)) {
    charge(ms, 1);
    i++;
  }
  for (; i >= 0; i--) {   /* try with the most repetitions first */
    const char *res = match(ms, s + i, ep + 1);
    if (res) return res;
  }
  return NULL;
}

static const char *min_expand(match_state *ms, const char *s, const char *p, const char *ep) {
  for (;;) {
    const char *res = match(ms, s, ep + 1);
    if (res != NULL) return res;
    if (!singlematch(ms, s, p, ep)) return NULL;
    s++;   /* try with one more repetition */
  }
}

static const char *start_capture(match_state *ms, const char *s, const char *p, int what) {
  int level = ms->level;
  if (level >= MAXCAPTURES) luaL_error(ms->L, "too many captures");
  ms->capture[level].init = s;
  ms->capture[level].len = what;
  ms->level = (unsigned char)(level + 1);
  const char *res = match(ms, s, p);
  if (res == NULL) ms->level--;   /* undo the capture */
  return res;
}

static const char *end_capture(match_state *ms, const char *s, const char *p) {
  int l = capture_to_close(ms);
  ms->capture[l].len = s - ms->capture[l].init;   /* close the capture */
  const char *res = match(ms, s, p);
  if (res == NULL) ms->capture[l].len = CAP_UNFINISHED;   /* undo it */
  return res;
}

static const char *match_capture(match_state *ms, const char *s, int l) {
  l = check_capture(ms, l);
  size_t len = (size_t)ms->capture[l].len;
  charge(ms, len >> 5);
  if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0) return s + len;
  return NULL;
}

/* A pattern item (single char class plus optional suffix) at *p.  Returns
 * 1 when matching goes on at the new *s, *p (a tail call of match), 0 when
 * *s is the result (NULL: no match). */
static int match_default(match_state *ms, const char **sp, const char **pp) {
  const char *s = *sp, *p = *pp;
  const char *ep = classend(ms, p);   /* points to the optional suffix */
  if (!singlematch(ms, s, p, ep)) {
    if (*ep == '*' || *ep == '?' || *ep == '-') {   /* accepts empty */
      *pp = ep + 1;
      return 1;
    }
    *sp = NULL;   /* '+' or no suffix: fail */
    return 0;
  }
  switch (*ep) {   /* matched once: the suffix */
  case '?': {
    const char *res = match(ms, s + 1, ep + 1);
    if (res != NULL) {
      *sp = res;
      return 0;
    }
    *pp = ep + 1;
    return 1;
  }
  case '+': *sp = max_expand(ms, s + 1, p, ep); return 0;   /* one match already done */
  case '*': *sp = max_expand(ms, s, p, ep); return 0;
  case '-': *sp = min_expand(ms, s, p, ep); return 0;
  default:
    *sp = s + 1;
    *pp = ep;
    return 1;
  }
}

/* %b, %f, %0-9 (or an escaped class: match_default).  As match_default. */
static int match_escape(match_state *ms, const char **sp, const char **pp) {
  const char *s = *sp, *p = *pp;
  switch (*(p + 1)) {
  case 'b':   /* balanced string */
    *sp = matchbalance(ms, s, p + 2);
    *pp = p + 4;
    return *sp != NULL;
  case 'f': {   /* frontier */
    p += 2;
    if (*p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
    const char *ep = classend(ms, p);
    char previous = (s == ms->src_init) ? '\0' : *(s - 1);
    if (!matchbracketclass(ms, uchar(previous), p, ep - 1) && matchbracketclass(ms, uchar(*s), p, ep - 1)) {
      *pp = ep;
      return 1;
    }
    *sp = NULL;
    return 0;
  }
  case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':   /* a back reference */
    *sp = match_capture(ms, s, uchar(*(p + 1)));
    *pp = p + 2;
    return *sp != NULL;
  default: return match_default(ms, sp, pp);
  }
}

static const char *match(match_state *ms, const char *s, const char *p) {
  if (ms->matchdepth-- == 0) luaL_error(ms->L, "pattern too complex");
  int again = 1;
  while (again && p != ms->p_end) {
    charge(ms, 1);
    again = 0;
    switch (*p) {
    case '(':
      if (*(p + 1) == ')') s = start_capture(ms, s, p + 2, CAP_POSITION);
      else s = start_capture(ms, s, p + 1, CAP_UNFINISHED);
      break;
    case ')': s = end_capture(ms, s, p + 1); break;
    case '$':
      if (p + 1 == ms->p_end) {   /* the last char of the pattern: the end of the subject */
        s = (s == ms->src_end) ? s : NULL;
        break;
      }
      again = match_default(ms, &s, &p);
      break;
    case L_ESC: again = match_escape(ms, &s, &p); break;
    default: again = match_default(ms, &s, &p); break;
    }
  }
  ms->matchdepth++;
  return s;
}

/* A plain search: memchr for the first byte, memcmp for the rest. */
static const char *lmemfind(match_state *ms, const char *s1, size_t l1, const char *s2, size_t l2) {
  if (l2 == 0) return s1;   /* the empty string is everywhere */
  if (l2 > l1) return NULL;
  const char *init;
  l2--;   /* the first char is checked by memchr */
  l1 = l1 - l2;   /* s2 cannot be found after that */
  while (l1 > 0 && (init = memchr(s1, *s2, l1)) != NULL) {
    charge(ms, 1 + ((size_t)(init - s1) >> 5) + (l2 >> 5));
    init++;
    if (memcmp(init, s2 + 1, l2) == 0) return init - 1;
    l1 -= (size_t)(init - s1);
    s1 = init;
  }
  return NULL;
}

/* The i-th capture: its length with *cap set, or CAP_POSITION with the
 * position pushed.  Without captures, i == 0 is the whole match s..e. */
static ptrdiff_t get_onecapture(match_state *ms, int i, const char *s, const char *e, const char **cap) {
  if (i >= ms->level) {
    if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    *cap = s;
    return e - s;
  }
  ptrdiff_t capl = ms->capture[i].len;
  *cap = ms->capture[i].init;
  if (capl == CAP_UNFINISHED) luaL_error(ms->L, "unfinished capture");
  else if (capl == CAP_POSITION) lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
  return capl;
}

static void push_onecapture(match_state *ms, int i, const char *s, const char *e) {
  const char *cap;
  ptrdiff_t l = get_onecapture(ms, i, s, e, &cap);
  if (l != CAP_POSITION) lua_pushlstring(ms->L, cap, (size_t)l);
}

static int push_captures(match_state *ms, const char *s, const char *e) {
  int nlevels = (ms->level == 0 && s) ? 1 : ms->level;
  luaL_checkstack(ms->L, nlevels, "too many captures");
  for (int i = 0; i < nlevels; i++) push_onecapture(ms, i, s, e);
  return nlevels;
}

/* Whether the pattern has no special characters (it may hold '\0's). */
static int nospecials(const char *p, size_t l) {
  size_t upto = 0;
  do {
    if (strpbrk(p + upto, SPECIALS)) return 0;
    upto += strlen(p + upto) + 1;
  } while (upto <= l);
  return 1;
}

static void prepstate(match_state *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
  ms->L = L;
  ms->matchdepth = MAXCCALLS;
  ms->src_init = s;
  ms->src_end = s + ls;
  ms->p_end = p + lp;
  ms->left = CHECK_EVERY;
  ms->level = 0;
}

static size_t posrelat(lua_Integer pos, size_t len) {
  if (pos > 0) return (size_t)pos;
  if (pos == 0) return 1;
  if (pos < -(lua_Integer)len) return 1;
  return len + (size_t)pos + 1;
}

static int str_find_aux(lua_State *L, int find) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = posrelat(luaL_optinteger(L, 3, 1), ls) - 1;
  match_state ms;
  if (init > ls) {   /* starts after the end of the subject */
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || nospecials(p, lp))) {   /* a plain search */
    prepstate(&ms, L, s, ls, p, lp);
    const char *s2 = lmemfind(&ms, s + init, ls - init, p, lp);
    if (s2) {
      lua_pushinteger(L, (s2 - s) + 1);
      lua_pushinteger(L, (lua_Integer)((size_t)(s2 - s) + lp));
      return 2;
    }
  } else {
    const char *s1 = s + init;
    int anchor = (*p == '^');
    if (anchor) p++, lp--;
    prepstate(&ms, L, s, ls, p, lp);
    do {
      ms.level = 0;
      const char *res = match(&ms, s1, p);
      if (res != NULL) {
        if (!find) return push_captures(&ms, s1, res);
        lua_pushinteger(L, (s1 - s) + 1);
        lua_pushinteger(L, res - s);
        return push_captures(&ms, NULL, 0) + 2;
      }
    } while (s1++ < ms.src_end && !anchor);
  }
  luaL_pushfail(L);
  return 1;
}

static int str_find(lua_State *L) { return str_find_aux(L, 1); }
static int str_match(lua_State *L) { return str_find_aux(L, 0); }

typedef struct gmatch_state {
  const char *src;         /* the current position */
  const char *p;           /* the pattern */
  const char *lastmatch;   /* the end of the last match */
  match_state ms;
} gmatch_state;

static int gmatch_aux(lua_State *L) {
  gmatch_state *gm = lua_touserdata(L, lua_upvalueindex(3));
  gm->ms.L = L;
  gm->ms.matchdepth = MAXCCALLS;   /* an error (the budget) may have cut the last call short */
  for (const char *src = gm->src; src <= gm->ms.src_end; src++) {
    gm->ms.level = 0;
    const char *e = match(&gm->ms, src, gm->p);
    if (e != NULL && e != gm->lastmatch) {
      gm->src = gm->lastmatch = e;
      return push_captures(&gm->ms, src, e);
    }
  }
  return 0;
}

static int str_gmatch(lua_State *L) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = posrelat(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2);   /* the strings stay alive as upvalues */
  gmatch_state *gm = lua_newuserdatauv(L, sizeof *gm, 0);
  if (init > ls) init = ls + 1;   /* avoids overflows in s + init */
  prepstate(&gm->ms, L, s, ls, p, lp);
  gm->src = s + init;
  gm->p = p;
  gm->lastmatch = NULL;
  lua_pushcclosure(L, gmatch_aux, 3);
  return 1;
}

/* The replacement string (argument 3) for the match s..e, with %0-%9. */
static void add_s(match_state *ms, luaL_Buffer *b, const char *s, const char *e) {
  size_t l;
  lua_State *L = ms->L;
  const char *news = lua_tolstring(L, 3, &l);
  const char *p;
  while ((p = memchr(news, L_ESC, l)) != NULL) {
    luaL_addlstring(b, news, (size_t)(p - news));
    p++;   /* skip ESC */
    if (*p == L_ESC) {
      luaL_addchar(b, *p);
    } else if (*p == '0') {
      luaL_addlstring(b, s, (size_t)(e - s));
    } else if (isdigit(uchar(*p))) {
      const char *cap;
      ptrdiff_t resl = get_onecapture(ms, *p - '1', s, e, &cap);
      if (resl == CAP_POSITION) luaL_addvalue(b);
      else luaL_addlstring(b, cap, (size_t)resl);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", L_ESC);
    }
    l -= (size_t)(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(b, news, l);
}

/* Adds the replacement of the match s..e; 1 when the subject changed
 * (a call or a lookup giving nil or false keeps the original text). */
static int add_value(match_state *ms, luaL_Buffer *b, const char *s, const char *e, int tr) {
  lua_State *L = ms->L;
  if (tr == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = push_captures(ms, s, e);
    lua_call(L, n, 1);
  } else if (tr == LUA_TTABLE) {
    push_onecapture(ms, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_s(ms, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return 0;
  }
  if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

static int str_gsub(lua_State *L) {
  size_t srcl, lp;
  const char *src = luaL_checklstring(L, 1, &srcl);
  const char *p = luaL_checklstring(L, 2, &lp);
  const char *lastmatch = NULL;
  int tr = lua_type(L, 3);
  lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
  int anchor = (*p == '^'), changed = 0;
  lua_Integer n = 0;
  match_state ms;
  luaL_Buffer b;
  luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
                   "string/function/table");
  luaL_buffinit(L, &b);
  if (anchor) p++, lp--;
  prepstate(&ms, L, src, srcl, p, lp);
  while (n < max_s) {
    ms.level = 0;
    const char *e = match(&ms, src, p);
    if (e != NULL && e != lastmatch) {
      n++;
      changed = add_value(&ms, &b, src, e, tr) | changed;
      src = lastmatch = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

void luapat_open(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch}, {"gsub", str_gsub}, {NULL, NULL}};
  lua_getglobal(L, "string");
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
}
