/* One derive_image call (ingest/derive.h) and the files that share its
 * work: derive.c (the job, reading and decoding the original, the entry
 * points), derive_pyramid.c (levels and tiles, info.txt), derive_thumbs.c
 * (thumbnails, s.json) and derive_write.c (JPEG encoding, the small files,
 * the size aliases). Internal to handlers/ingest/derive*.c. */
#ifndef DLCS_DERIVE_JOB_H
#define DLCS_DERIVE_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <magick/api.h>

#include "ingest/derive.h"

#define TS            DERIVE_TILE_SIZE
#define MAX_LEVELS    32
#define MAX_PLAN      (DERIVE_MAX_THUMBS + 4)
#define MAX_HELPERS   15
#define JPEG_MAX_SIDE 65500 /* libjpeg's limit: no thumbnail is upscaled past it */

/* strerror() may share one buffer between threads; GNU strerror_r with a
 * buffer of the caller's statement does not. */
#define ERRNO_STR(e) strerror_r((e), (char[128]){0}, 128)

/* Build with -DDERIVE_TRACE to time the phases on stderr (the benchmark does). */
#ifdef DERIVE_TRACE
#define TRACE(j, what) fprintf(stderr, "derive %7.3f s %s\n", derive_elapsed(j), what)
#else
#define TRACE(j, what) ((void)(j))
#endif

/* A pyramid level as displayed. Level 0 has no buffer of its own: it is the
 * decoded image, read through job.src; levels 1.. are 8-bit RGB rows. */
struct level {
	int w, h;
	unsigned char *px;
};

struct thumb {
	int w, h;
};

enum thumb_source {
	THUMBS_NONE,
	THUMBS_FILE_EARLY, /* JPEG: shrink-on-load read alongside the main decode */
	THUMBS_LEVEL,      /* from a pyramid level, once the levels exist */
	THUMBS_FILE_LATE,  /* a second full read after the pyramid is done */
};

enum tiles_state {
	TILES_ABANDON = -1,
	TILES_WAIT,   /* decoding */
	TILES_LEVEL0, /* level-0 tiles can be cut */
	TILES_ALL,    /* every level exists */
};

struct job {
	const struct derive_opts *o;
	const char *src_path;
	const char *magick; /* decoder chosen from the first bytes */
	int fw, fh;         /* as stored in the file */
	int W, H;           /* as displayed (after EXIF orientation) */
	int orient;         /* EXIF orientation 1..8 */
	int tiles_fd, thumbs_fd;
	struct timespec t0;

	struct thumb thumbs[MAX_PLAN];
	size_t nthumbs;
	enum thumb_source thumbs_from;
	atomic_bool thumbs_pending; /* THUMBS_LEVEL: not yet taken by a worker */

	struct level lv[MAX_LEVELS];
	int nlevels, scale_factors[MAX_LEVELS];
	int first_tile[MAX_LEVELS + 1]; /* index of each level's first tile */
	atomic_int next_tile;
	atomic_bool levels_ready; /* state has reached TILES_ALL */

	/* The decoded original while tiles are cut. Display pixel (x, y) is
	 * src[sa + x*sx + y*sy]; only the main thread calls GraphicsMagick on it. */
	Image *full;
	const PixelPacket *src;
	long sa, sx, sy;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	enum tiles_state state;
	bool bad_input;
	char error[256];
	long long tiles_bytes, thumbs_bytes;
	int ntiles, nthumbs_done;
	atomic_bool failed;
};

/* derive.c */
#ifdef DERIVE_TRACE
double derive_elapsed(const struct job *j);
#endif
/* Latches the first failure (the others are dropped): its message, and
 * whether it is the original's fault. Any thread. */
void job_fail(struct job *j, bool bad_input, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void set_state(struct job *j, enum tiles_state state);
/* Waits until the state reaches want; false if the pyramid was abandoned. */
bool wait_state(struct job *j, enum tiles_state want);
/* job_fail with GraphicsMagick's exception: the input's fault unless
 * resources or I/O failed. */
void gm_fail(struct job *j, const char *what, const ExceptionInfo *e);
bool thumbs_from_file(struct job *j);
/* A JPEG 2000 original (jp2.h decodes it, not GraphicsMagick). */
bool is_jp2(const struct job *j);
bool decode_full(struct job *j);

/* derive_thumbs.c */
void plan_thumbs(struct job *j);
enum thumb_source thumbs_source(const struct job *j);
bool write_thumbs(struct job *j, Image *src);
bool thumbs_from_level(struct job *j);
bool write_sizes(struct job *j, int out_fd);

/* derive_pyramid.c */
void plan_levels(struct job *j);
void run_pyramid(struct job *j);
bool write_info(struct job *j, int out_fd);

/* derive_write.c */
ImageInfo *encode_info(const struct job *j);
long long write_jpeg(struct job *j, ImageInfo *enc, Image *img, int dir_fd, const char *name);
bool write_small(struct job *j, int dir_fd, const char *name, const char *text, size_t len);
bool write_aliases(struct job *j, const char *out_dir);
bool write_info_static(struct job *j, const char *out_dir);

#endif
