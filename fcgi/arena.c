/* A bump allocator over a chain of blocks. The first block is kept across
 * resets so a FastCGI worker reuses it for every request. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "banned.h"

#define ALIGN 16

struct block {
	struct block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *arg;
};

struct arena {
	struct block *head; /* current block; the chain ends at the first block */
	struct block *first;
	struct cleanup *cleanups;
	size_t used;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fputs("arena: out of memory\n", stderr);
		abort();
	}
	return p;
}

static struct block *block_new(size_t size)
{
	struct block *b = xmalloc(sizeof *b + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *arena_new(size_t first_block)
{
	struct arena *a = xmalloc(sizeof *a);
	if (first_block < 1024)
		first_block = 1024;
	a->first = a->head = block_new(first_block);
	a->cleanups = NULL;
	a->used = 0;
	return a;
}

static void run_cleanups(struct arena *a)
{
	/* A cleanup may itself register another; loop until none are left. */
	while (a->cleanups) {
		struct cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->arg);
	}
}

void arena_reset(struct arena *a)
{
	run_cleanups(a);
	struct block *b = a->head;
	while (b != a->first) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	a->head = a->first;
	a->first->used = 0;
	a->used = 0;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	arena_reset(a);
	free(a->first);
	free(a);
}

void *arena_alloc(struct arena *a, size_t size)
{
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ALIGN) {
		fputs("arena: allocation too large\n", stderr);
		abort();
	}
	size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct block *b = a->head;
	if (b->size - b->used < need) {
		size_t bsize = a->first->size;
		while (bsize < need)
			bsize *= 2;
		b = block_new(bsize);
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->used += need;
	memset(p, 0, size);
	return p;
}

void *arena_realloc(struct arena *a, void *old, size_t old_size, size_t new_size)
{
	if (new_size <= old_size && old)
		return old;
	void *p = arena_alloc(a, new_size);
	if (old && old_size)
		memcpy(p, old, old_size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) {
		fputs("arena_vprintf: bad format\n", stderr);
		abort();
	}
	char *p = arena_alloc(a, (size_t)n + 1);
	int m = vsnprintf(p, (size_t)n + 1, fmt, again);
	va_end(again);
	if (m != n)
		abort();
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void arena_cleanup(struct arena *a, void (*fn)(void *), void *arg)
{
	struct cleanup *c = arena_alloc(a, sizeof *c);
	c->fn = fn;
	c->arg = arg;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
