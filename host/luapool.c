/* luapool — free lists per size class for one Lua state's small blocks
 * (see luapool.h).  Plain C: it never sees the lua_State. */
#include "luapool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GRAIN 16
#define CLASSES (LUAPOOL_MAX / GRAIN)
#define CHUNK (16 * 1024)

typedef struct free_block {
  struct free_block *next;
} free_block;

typedef struct chunk {
  struct chunk *next;
  max_align_t align[];   /* the blocks start here, aligned as malloc's */
} chunk;

struct luapool {
  free_block *free[CLASSES];
  chunk *chunks;
  char *carve, *carve_end;   /* the rest of the newest chunk */
  size_t chunk_bytes;
};

/* 1..LUAPOOL_MAX -> 0..CLASSES-1 */
static size_t class_of(size_t size) { return (size - 1) / GRAIN; }

luapool *luapool_new(void) { return calloc(1, sizeof(luapool)); }

void luapool_free(luapool *p) {
  if (!p) return;
  for (chunk *c = p->chunks, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(p);
}

size_t luapool_chunk_bytes(const luapool *p) { return p->chunk_bytes; }

static void *pool_alloc(luapool *p, size_t size) {
  if (size > LUAPOOL_MAX) return malloc(size);
  size_t c = class_of(size);
  free_block *b = p->free[c];
  if (b) {
    p->free[c] = b->next;
    return b;
  }
  size_t bytes = (c + 1) * GRAIN;
  if ((size_t)(p->carve_end - p->carve) < bytes) {
    /* the rest of the old chunk (less than one block of this class) is
     * left unused: at most LUAPOOL_MAX bytes per chunk */
    chunk *ch = malloc(sizeof(chunk) + CHUNK);
    if (!ch) return NULL;
    ch->next = p->chunks;
    p->chunks = ch;
    p->chunk_bytes += CHUNK;
    p->carve = (char *)ch->align;
    p->carve_end = p->carve + CHUNK;
  }
  void *out = p->carve;
  p->carve += bytes;
  return out;
}

static void pool_release(luapool *p, void *ptr, size_t size) {
  if (size > LUAPOOL_MAX) {
    free(ptr);
    return;
  }
  free_block *b = ptr;
  size_t c = class_of(size);
  b->next = p->free[c];
  p->free[c] = b;
}

void *luapool_realloc(luapool *p, void *ptr, size_t osize, size_t nsize) {
  if (!ptr) return nsize ? pool_alloc(p, nsize) : NULL;
  if (nsize == 0) {
    pool_release(p, ptr, osize);
    return NULL;
  }
  if (osize > LUAPOOL_MAX && nsize > LUAPOOL_MAX) return realloc(ptr, nsize);
  if (osize <= LUAPOOL_MAX && nsize <= LUAPOOL_MAX && class_of(osize) == class_of(nsize)) return ptr;
  void *q = pool_alloc(p, nsize);
  if (!q) return NULL;
  memcpy(q, ptr, osize < nsize ? osize : nsize);
  pool_release(p, ptr, osize);
  return q;
}
