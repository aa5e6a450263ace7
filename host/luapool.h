/* luapool — the small blocks of one Lua state, kept for reuse.
 *
 * A Lua state allocates and frees many small objects per callback (the
 * activation's tables, their hash parts, strings, closures) and frees them
 * in bursts when its collector sweeps.  Through malloc each such pair cost
 * ~270 instructions (a burst overflows glibc's per-thread cache, and the
 * freed chunks make later large requests consolidate them): ~17k of the
 * ~215k instructions of an automatic process.  This pool keeps freed
 * blocks of up to LUAPOOL_MAX bytes on a free list per 16-byte size class
 * and carves new ones from 16 KiB chunks; larger blocks go to malloc.
 *
 * Not thread-safe: one pool per Lua state, and a state runs on one thread
 * at a time.  Lua gives the size of every block it frees or resizes, so a
 * block carries no header.  The memory stays with the pool until
 * luapool_free: at most what the state's small objects ever took at once
 * (its memory limit counts live blocks, as before).
 */
#ifndef LUAPOOL_H
#define LUAPOOL_H

#include <stddef.h>

#define LUAPOOL_MAX 512

typedef struct luapool luapool;

luapool *luapool_new(void);
/* Frees every chunk (after lua_close: no block may be in use). */
void luapool_free(luapool *p);
/* As lua_Alloc without the accounting: ptr NULL or a block of exactly osize
 * bytes; nsize 0 frees it and returns NULL; NULL when out of memory (ptr
 * is then left as it was). */
void *luapool_realloc(luapool *p, void *ptr, size_t osize, size_t nsize);
/* Bytes held in chunks (in use or free), for tests. */
size_t luapool_chunk_bytes(const luapool *p);

#endif
