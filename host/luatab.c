/* luatab — table.concat, insert, remove, move and sort that keep to the
 * time budget.
 *
 * Lua's own loop in C over a range the flow chooses: table.move({}, 1,
 * 1e12, 1) or a __len that answers math.maxinteger runs for hours inside
 * one call, where the count hook of the budget never runs; a comparator
 * written in C (rawequal) keeps table.sort in C as well.  These are Lua
 * 5.4's functions (ltablib.c, Copyright (C) 1994-2022 Lua.org, PUC-Rio, MIT
 * licence), with the same arguments, results and errors, each step of
 * their loops (an element moved or joined, a comparison) counted with
 * luavm_budget_steps, which raises the budget error past the deadline.
 * table.concat also stops at LUASAFE_MAX_BUILT bytes.
 *
 * A Lua unit (see luaside.h); calls luavm (the budget) and luasafe (the
 * size error).
 */
#include <lauxlib.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "luaside.h"

#define TAB_R 1   /* read */
#define TAB_W 2   /* write */
#define TAB_L 4   /* length */
#define RANLIMIT 100u   /* arrays larger than this may use randomized pivots */

typedef unsigned int IdxT;

static int has_field(lua_State *L, const char *key, int n) {
  lua_pushstring(L, key);
  return lua_rawget(L, -n) != LUA_TNIL;
}

/* arg is a table, or has the metamethods to act as one. */
static void check_tab(lua_State *L, int arg, int what) {
  if (lua_type(L, arg) == LUA_TTABLE) return;
  int n = 1;
  if (lua_getmetatable(L, arg) && (!(what & TAB_R) || has_field(L, "__index", ++n)) &&
      (!(what & TAB_W) || has_field(L, "__newindex", ++n)) && (!(what & TAB_L) || has_field(L, "__len", ++n)))
    lua_pop(L, n);
  else
    luaL_checktype(L, arg, LUA_TTABLE);
}

static lua_Integer length_of(lua_State *L, int arg, int what) {
  check_tab(L, arg, what | TAB_L);
  return luaL_len(L, arg);
}

/* t[to] = t[from], one step of the budget. */
static void shift(lua_State *L, lua_Integer from, lua_Integer to) {
  luavm_budget_steps(L, 1);
  lua_geti(L, 1, from);
  lua_seti(L, 1, to);
}

static int tinsert(lua_State *L) {
  lua_Integer e = luaL_intop(+, length_of(L, 1, TAB_R | TAB_W), 1);   /* the first empty slot */
  lua_Integer pos = e;
  if (lua_gettop(L) == 3) {
    pos = luaL_checkinteger(L, 2);
    luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
    for (lua_Integer i = e; i > pos; i--) shift(L, i - 1, i);
  } else if (lua_gettop(L) != 2) {
    return luaL_error(L, "wrong number of arguments to 'insert'");
  }
  lua_seti(L, 1, pos);
  return 0;
}

static int tremove(lua_State *L) {
  lua_Integer size = length_of(L, 1, TAB_R | TAB_W);
  lua_Integer pos = luaL_optinteger(L, 2, size);
  if (pos != size) luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
  lua_geti(L, 1, pos);
  for (; pos < size; pos++) shift(L, pos + 1, pos);
  lua_pushnil(L);
  lua_seti(L, 1, pos);
  return 1;
}

/* a1[f..e] -> a2[t..]: in increasing order when it is safe (the
 * destination after the source, before it, or another table). */
static int tmove(lua_State *L) {
  lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3), t = luaL_checkinteger(L, 4);
  int tt = !lua_isnoneornil(L, 5) ? 5 : 1;
  check_tab(L, 1, TAB_R);
  check_tab(L, tt, TAB_W);
  if (e >= f) {
    luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
    lua_Integer n = e - f + 1;
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
    int up = t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ));
    for (lua_Integer k = 0; k < n; k++) {
      lua_Integer i = up ? k : n - 1 - k;
      luavm_budget_steps(L, 1);
      lua_geti(L, 1, f + i);
      lua_seti(L, tt, t + i);
    }
  }
  lua_pushvalue(L, tt);
  return 1;
}

static void add_field(lua_State *L, luaL_Buffer *b, lua_Integer i) {
  luavm_budget_steps(L, 1);
  lua_geti(L, 1, i);
  if (!lua_isstring(L, -1))
    luaL_error(L, "invalid value (%s) at index %I in table for 'concat'", luaL_typename(L, -1), (LUAI_UACINT)i);
  luaL_addvalue(b);
  if (luaL_bufflen(b) > LUASAFE_MAX_BUILT) luasafe_too_large(L, "table.concat");
}

static int tconcat(lua_State *L) {
  lua_Integer last = length_of(L, 1, TAB_R);
  size_t lsep;
  const char *sep = luaL_optlstring(L, 2, "", &lsep);
  lua_Integer i = luaL_optinteger(L, 3, 1);
  last = luaL_optinteger(L, 4, last);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (; i < last; i++) {
    add_field(L, &b, i);
    luaL_addlstring(&b, sep, lsep);
  }
  if (i == last) add_field(L, &b, i);
  luaL_pushresult(&b);
  return 1;
}

/* --- sort: Lua's quicksort (after Sedgewick), each comparison counted ----- */

/* A "random" number from time and clock, for the pivot of a partition
 * that came out badly unbalanced. */
static unsigned int randomize_pivot(void) {
  clock_t c = clock();
  time_t t = time(NULL);
  unsigned int buff[(sizeof c + sizeof t) / sizeof(unsigned int)];
  unsigned int rnd = 0;
  memcpy(buff, &c, sizeof c);
  memcpy((char *)buff + sizeof c, &t, sizeof t);
  for (size_t i = 0; i < sizeof buff / sizeof buff[0]; i++) rnd += buff[i];
  return rnd;
}

static void set2(lua_State *L, IdxT i, IdxT j) {
  lua_seti(L, 1, i);
  lua_seti(L, 1, j);
}

/* Whether the value at a sorts before the one at b. */
static int sort_comp(lua_State *L, int a, int b) {
  luavm_budget_steps(L, 1);
  if (lua_isnil(L, 2)) return lua_compare(L, a, b, LUA_OPLT);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, a - 1);   /* -1 for the function */
  lua_pushvalue(L, b - 2);   /* -2 for the function and a */
  lua_call(L, 2, 1);
  int res = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return res;
}

/* The pivot P is on the top of the stack; a[lo] <= P == a[up - 1] <= a[up].
 * Leaves a[lo .. i - 1] <= a[i] == P <= a[i + 1 .. up]; returns i. */
static IdxT partition(lua_State *L, IdxT lo, IdxT up) {
  IdxT i = lo, j = up - 1;
  for (;;) {
    while ((void)lua_geti(L, 1, ++i), sort_comp(L, -1, -2)) {   /* ++i while a[i] < P */
      if (i == up - 1) luaL_error(L, "invalid order function for sorting");
      lua_pop(L, 1);
    }
    while ((void)lua_geti(L, 1, --j), sort_comp(L, -3, -1)) {   /* --j while P < a[j] */
      if (j < i) luaL_error(L, "invalid order function for sorting");
      lua_pop(L, 1);
    }
    if (j < i) {   /* nothing out of place: the pivot goes to i */
      lua_pop(L, 1);
      set2(L, up - 1, i);
      return i;
    }
    set2(L, i, j);
  }
}

/* Sorts a[lo], a[p] and a[up]; leaves a[p] (the pivot) swapped with
 * a[up - 1] and pushed, for partition.  0: the interval is sorted already. */
static int order_three(lua_State *L, IdxT lo, IdxT up, IdxT p) {
  lua_geti(L, 1, lo);
  lua_geti(L, 1, up);
  if (sort_comp(L, -1, -2)) set2(L, lo, up);   /* a[up] < a[lo] */
  else lua_pop(L, 2);
  if (up - lo == 1) return 0;
  lua_geti(L, 1, p);
  lua_geti(L, 1, lo);
  if (sort_comp(L, -2, -1)) {   /* a[p] < a[lo] */
    set2(L, p, lo);
  } else {
    lua_pop(L, 1);
    lua_geti(L, 1, up);
    if (sort_comp(L, -1, -2)) set2(L, p, up);   /* a[up] < a[p] */
    else lua_pop(L, 2);
  }
  if (up - lo == 2) return 0;
  lua_geti(L, 1, p);
  lua_pushvalue(L, -1);
  lua_geti(L, 1, up - 1);
  set2(L, p, up - 1);
  return 1;
}

static void auxsort(lua_State *L, IdxT lo, IdxT up, unsigned int rnd) {
  while (lo < up) {   /* a loop for the tail call */
    IdxT p, n;
    if (up - lo < RANLIMIT || rnd == 0) {
      p = (lo + up) / 2;
    } else {   /* a pivot in the middle half, at random */
      IdxT r4 = (up - lo) / 4;
      p = rnd % (r4 * 2) + (lo + r4);
    }
    if (!order_three(L, lo, up, p)) return;
    p = partition(L, lo, up);
    if (p - lo < up - p) {   /* recurse into the smaller side */
      auxsort(L, lo, p - 1, rnd);
      n = p - lo;
      lo = p + 1;
    } else {
      auxsort(L, p + 1, up, rnd);
      n = up - p;
      up = p - 1;
    }
    if ((up - lo) / 128 > n) rnd = randomize_pivot();   /* too unbalanced */
  }
}

static int tsort(lua_State *L) {
  lua_Integer n = length_of(L, 1, TAB_R | TAB_W);
  if (n > 1) {
    luaL_argcheck(L, n < INT_MAX, 1, "array too big");
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    auxsort(L, 1, (IdxT)n, 0);
  }
  return 0;
}

void luatab_open(lua_State *L) {
  static const luaL_Reg fns[] = {{"concat", tconcat}, {"insert", tinsert}, {"remove", tremove},
                                 {"move", tmove}, {"sort", tsort}, {NULL, NULL}};
  lua_getglobal(L, "table");
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
}
