/* Per-request memory: every allocation made while serving one request comes
 * from its arena and dies with it. Non-memory resources (prepared statement
 * results, yajl handles, GraphicsMagick images) register a cleanup that runs,
 * in reverse order, when the arena is reset or freed. */
#ifndef DLCS_ARENA_H
#define DLCS_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* A new arena whose first block holds first_block bytes. Aborts on OOM. */
struct arena *arena_new(size_t first_block);
/* Runs the cleanups and frees every block, then the arena itself. */
void arena_free(struct arena *a);
/* Runs the cleanups and forgets every allocation, keeping the first block. */
void arena_reset(struct arena *a);

/* Zeroed memory, aligned for any type; never NULL (aborts on OOM). */
void *arena_alloc(struct arena *a, size_t size);
/* Grows an earlier allocation (copying); old contents are kept. */
void *arena_realloc(struct arena *a, void *old, size_t old_size, size_t new_size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one two-pass formatter: every other printf into memory of a request
 * (req_fail, req_url, sbuf_printf) goes through it. */
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* fn(arg) runs when the arena is reset or freed, last registered first. */
void arena_cleanup(struct arena *a, void (*fn)(void *), void *arg);

/* Bytes handed out since the last reset (for tests and leak checks). */
size_t arena_used(const struct arena *a);

#endif
