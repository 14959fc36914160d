/* What one derive_image call writes besides its pixels' planning: JPEG
 * files, the small text files, and the size aliases for nginx. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <magick/api.h>

#include "arena.h"
#include "str.h"
#include "asset/gm.h"
#include "asset/info_static.h"
#include "asset/thumb_alias.h"
#include "ingest/derive_job.h"
#include "banned.h"

ImageInfo *encode_info(const struct job *j)
{
	ImageInfo *enc = CloneImageInfo(NULL);
	xsnprintf(enc->magick, sizeof enc->magick, "JPEG");
	enc->quality = (unsigned long)j->o->jpeg_quality;
	return enc;
}

/* JPEG-encodes img and writes it as name under dir_fd: bytes written, or -1. */
long long write_jpeg(struct job *j, ImageInfo *enc, Image *img, int dir_fd, const char *name)
{
	ExceptionInfo exc;
	GetExceptionInfo(&exc);
	size_t len = 0;
	img->depth = 8;
	xsnprintf(img->magick, sizeof img->magick, "JPEG");
	void *blob = ImageToBlob(enc, img, &len, &exc);
	if (!blob || len == 0 || exc.severity >= ErrorException) {
		job_fail(j, false, "encoding %s: %s", name, gm_reason(&exc));
		MagickFree(blob);
		DestroyExceptionInfo(&exc);
		return -1;
	}
	DestroyExceptionInfo(&exc);
	long long rv = (long long)len;
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
		rv = -1;
	} else {
		const unsigned char *p = blob;
		size_t left = len;
		while (left > 0) {
			ssize_t n = write(fd, p, left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				job_fail(j, false, "writing %s: %s", name,
					 n < 0 ? ERRNO_STR(errno) : "short write");
				rv = -1;
				break;
			}
			p += n;
			left -= (size_t)n;
		}
		if (close(fd) != 0 && rv >= 0) {
			job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
			rv = -1;
		}
	}
	MagickFree(blob);
	return rv;
}

bool write_small(struct job *j, int dir_fd, const char *name, const char *text, size_t len)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
		return false;
	}
	bool ok = write(fd, text, len) == (ssize_t)len;
	if (close(fd) != 0)
		ok = false;
	if (!ok)
		job_fail(j, false, "writing %s: %s", name, ERRNO_STR(errno));
	return ok;
}

/* The size aliases for nginx's fast paths (asset/thumb_alias.h): full/ for
 * /iiif-img/, thumbs/ for /thumbs/, from the s.json and info.txt just
 * written, so that they are swapped in with them. */
bool write_aliases(struct job *j, const char *out_dir)
{
	struct arena *a = arena_new(16 * 1024);
	char err[256];
	bool ok = thumb_aliases_sync(a, out_dir, j->W, j->H, j->o->image_max_area, err,
				     sizeof err) >= 0;
	if (!ok)
		job_fail(j, false, "size aliases: %s", err);
	arena_free(a);
	return ok;
}

/* nginx's copies of info.json (asset/info_static.h), from the files just
 * written, so that they are swapped in with them: the documents dlcs-image
 * answers with, at its limit of image_max_area, with webp when this
 * GraphicsMagick (the same as dlcs-image's on this host) writes it. */
bool write_info_static(struct job *j, const char *out_dir)
{
	struct arena *a = arena_new(32 * 1024);
	char err[256];
	struct info_static_opts o = {
		.base_url = j->o->base_url,
		.max_area = j->o->image_max_area,
		.webp = gm_can_encode("WEBP"),
	};
	bool ok = info_static_sync(a, out_dir, j->W, j->H, &o, err, sizeof err) >= 0;
	if (!ok)
		job_fail(j, false, "info.json: %s", err);
	arena_free(a);
	return ok;
}
