/* GraphicsMagick for the programs that link it (asset/gm.h): its
 * process-wide setup, its allocator, and its error texts. */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <magick/api.h>

#include "asset/gm.h"
#include "banned.h"

/* GraphicsMagick's pixel caches and the pyramid levels are mapped directly,
 * with transparent huge pages advised (Debian's THP setting is "madvise"):
 * otherwise a 6000×4000 decode takes 47,000 page faults, which cost most of
 * its time on these virtual machines. GraphicsMagick's allocator hooks are
 * plain function pointers, so the table of mapped blocks is static: with
 * GraphicsMagick's own state it is the only process-wide state here. Under
 * AddressSanitizer no block is mapped: everything stays on the checked heap. */
#if defined(__SANITIZE_ADDRESS__)
#define GM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GM_ASAN 1
#endif
#endif

#define BIG_MIN   ((size_t)4 << 20)
#define BIG_SLOTS 64

static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void *p;
	size_t len;
} big_blocks[BIG_SLOTS];

/* A mapped block of len bytes, or NULL (then the caller uses malloc). */
static void *big_map(size_t len)
{
#if defined(GM_ASAN) || !defined(MADV_HUGEPAGE)
	(void)len;
	return NULL;
#else
	if (len < BIG_MIN)
		return NULL;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	pthread_mutex_lock(&big_mu);
	int i = 0;
	while (i < BIG_SLOTS && big_blocks[i].p)
		i++;
	if (i < BIG_SLOTS) {
		big_blocks[i].p = p;
		big_blocks[i].len = len;
	}
	pthread_mutex_unlock(&big_mu);
	if (i == BIG_SLOTS) {
		munmap(p, len);
		return NULL;
	}
	return p;
#endif
}

/* The length of a mapped block (0: not one of ours); with forget, the slot
 * is released too. */
static size_t big_find(const void *p, bool forget)
{
	size_t len = 0;
	pthread_mutex_lock(&big_mu);
	for (int i = 0; i < BIG_SLOTS; i++)
		if (big_blocks[i].p == p) {
			len = big_blocks[i].len;
			if (forget)
				big_blocks[i].p = NULL;
			break;
		}
	pthread_mutex_unlock(&big_mu);
	return len;
}

void *gm_big_malloc(size_t len)
{
	void *p = big_map(len);
	return p ? p : malloc(len);
}

void gm_big_free(void *p)
{
	if (!p)
		return;
	size_t len = big_find(p, true);
	if (len)
		munmap(p, len);
	else
		free(p);
}

static void *big_realloc(void *p, size_t len)
{
	if (!p)
		return gm_big_malloc(len);
	size_t old = big_find(p, false);
	if (!old && len < BIG_MIN)
		return realloc(p, len);
	if (old && len == 0) {
		gm_big_free(p);
		return NULL;
	}
	void *q = big_map(len);
	if (!q) {
		if (!old)
			return realloc(p, len);
		if (!(q = malloc(len)))
			return NULL;
	}
	if (!old)
		old = malloc_usable_size(p);
	memcpy(q, p, old < len ? old : len);
	gm_big_free(p);
	return q;
}

const char *gm_reason(const ExceptionInfo *e)
{
	return e->reason && *e->reason ? e->reason : "unknown GraphicsMagick error";
}

bool gm_can_encode(const char *magick)
{
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	const MagickInfo *mi = GetMagickInfo(magick, &exc);
	bool ok = mi && mi->encoder;
	DestroyExceptionInfo(&exc);
	return ok;
}

/* GraphicsMagick's OpenMP loops (the thumbnail resize) run on the calling
 * thread alone: the parallelism is ours, across tiles. OpenMP's thread count
 * belongs to each thread, so every thread that works on an image asks. */
void gm_one_thread(void)
{
	(void)SetMagickResourceLimit(ThreadsResource, 1);
}

void gm_init(const char *argv0, long long memory_limit)
{
	MagickAllocFunctions(gm_big_free, gm_big_malloc, big_realloc);
	InitializeMagick(argv0);
	if (memory_limit > 0) {
		(void)SetMagickResourceLimit(MemoryResource, memory_limit);
		(void)SetMagickResourceLimit(MapResource, memory_limit);
		(void)SetMagickResourceLimit(PixelsResource, memory_limit / 8);
	}
	/* past the memory limit a read fails instead of spilling pixels to disk */
	(void)SetMagickResourceLimit(DiskResource, 0);
	/* far beyond any photograph or scan, far below a hostile header */
	(void)SetMagickResourceLimit(WidthResource, 1 << 20);
	(void)SetMagickResourceLimit(HeightResource, 1 << 20);
	gm_one_thread();
}
