/* GraphicsMagick in the two programs that link it, dlcs-runner (the
 * derivatives, ingest/derive.h) and dlcs-image (computed images,
 * iiif/render.h): one setup, one allocator, one way to name its errors.
 * Only programs that link GraphicsMagick include this. */
#ifndef DLCS_ASSET_GM_H
#define DLCS_ASSET_GM_H

#include <stdbool.h>
#include <stddef.h>

#include <magick/api.h>

/* Process-wide GraphicsMagick setup; call once, before any other
 * GraphicsMagick call, in each process (after the supervisor's fork).
 * Installs GraphicsMagick's allocator (large pixel buffers on transparent
 * huge pages: gm_big_malloc), calls InitializeMagick, and sets the resource
 * limits: memory_limit bytes of pixel cache (0: GraphicsMagick's default)
 * and never a disk cache, so an image past it fails instead of swapping; no
 * GraphicsMagick OpenMP threads (the callers parallelise themselves). */
void gm_init(const char *argv0, long long memory_limit);

/* Holds GraphicsMagick's OpenMP loops on the calling thread to that thread
 * (OpenMP's thread count belongs to each thread): every thread that works
 * on an image calls it. */
void gm_one_thread(void);

/* The allocator gm_init gives GraphicsMagick, for pixel buffers of one's
 * own: blocks of 4 MiB and more are mapped with huge pages advised (plain
 * malloc under AddressSanitizer). NULL when out of memory. */
void *gm_big_malloc(size_t len);
void gm_big_free(void *p);

/* True when this GraphicsMagick writes the format named magick ("WEBP"):
 * what info.json lists (extraFormats), whoever writes it (dlcs-image, and
 * the runner and dlcs-admin for nginx's copies, asset/info_static.h). */
bool gm_can_encode(const char *magick);

/* The reason of a GraphicsMagick exception, never NULL or empty. */
const char *gm_reason(const ExceptionInfo *e);

#endif
