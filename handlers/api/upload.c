/* Direct upload (see upload.h). The bytes are never trusted for what they
 * say they are: the type comes from their first bytes, and where they are
 * written comes from the ids of the path only. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "arena.h"
#include "base64.h"
#include "config.h"
#include "log.h"
#include "req.h"
#include "api/upload.h"
#include "asset/settings.h"
#include "asset/store.h"
#include "banned.h"

/* What the first bytes say: a media type, and its family ('I' image, 'A'
 * audio, 'V' video, 'M' an audio or video container). NULL when unknown. */
struct sniffed {
	const char *type;
	char family;
};

static bool at(const unsigned char *b, size_t n, size_t off, const char *magic, size_t len)
{
	return n >= off + len && memcmp(b + off, magic, len) == 0;
}

static struct sniffed sniff(const unsigned char *b, size_t n)
{
	if (at(b, n, 0, "\xff\xd8\xff", 3))
		return (struct sniffed){"image/jpeg", 'I'};
	if (at(b, n, 0, "\x89PNG\r\n\x1a\n", 8))
		return (struct sniffed){"image/png", 'I'};
	if (at(b, n, 0, "GIF87a", 6) || at(b, n, 0, "GIF89a", 6))
		return (struct sniffed){"image/gif", 'I'};
	if (at(b, n, 0, "II*\0", 4) || at(b, n, 0, "MM\0*", 4))
		return (struct sniffed){"image/tiff", 'I'};
	if (at(b, n, 0, "RIFF", 4) && at(b, n, 8, "WEBP", 4))
		return (struct sniffed){"image/webp", 'I'};
	if (at(b, n, 0, "\0\0\0\x0cjP  \r\n\x87\n", 12) || at(b, n, 0, "\xff\x4f\xff\x51", 4))
		return (struct sniffed){"image/jp2", 'I'};
	if (at(b, n, 0, "BM", 2) && n >= 26)
		return (struct sniffed){"image/bmp", 'I'};
	if (at(b, n, 0, "RIFF", 4) && at(b, n, 8, "WAVE", 4))
		return (struct sniffed){"audio/wav", 'A'};
	if (at(b, n, 0, "fLaC", 4))
		return (struct sniffed){"audio/flac", 'A'};
	if (at(b, n, 0, "ID3", 3) || (n >= 2 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0))
		return (struct sniffed){"audio/mpeg", 'A'};
	if (at(b, n, 0, "OggS", 4))
		return (struct sniffed){"audio/ogg", 'M'};
	if (at(b, n, 4, "ftyp", 4))
		return (struct sniffed){"video/mp4", 'M'};
	if (at(b, n, 0, "\x1a\x45\xdf\xa3", 4))
		return (struct sniffed){"video/webm", 'M'};
	return (struct sniffed){NULL, 0};
}

/* Does the declared media type's family admit what was sniffed? */
static bool family_agrees(const char *declared, char sniffed)
{
	if (!strncasecmp(declared, "image/", 6))
		return sniffed == 'I';
	if (!strncasecmp(declared, "audio/", 6))
		return sniffed == 'A' || sniffed == 'M';
	if (!strncasecmp(declared, "video/", 6))
		return sniffed == 'V' || sniffed == 'M';
	return false;
}

int upload_take(struct req *rq, yajl_val file, int c, int s, const char *id,
		const char **media_type, const char **origin)
{
	if (!YAJL_IS_STRING(file))
		return req_fail(rq, 400, "'file' must be a string of base64 bytes");
	const char *b64 = YAJL_GET_STRING(file);
	long long max = setting_int(rq->app->cfg, S_UPLOAD_MAX_BYTES);
	size_t n64 = strlen(b64);
	/* Refused before decoding: 3 bytes per 4 characters, padding aside. */
	if ((long long)(n64 / 4) * 3 > max + 3)
		return req_fail(rq, 413, "'file' exceeds upload_max_bytes (%lld bytes)", max);
	size_t len;
	const unsigned char *bytes = (const unsigned char *)base64_decode(rq->arena, b64, &len);
	size_t pad = 0;
	while (pad < n64 && b64[n64 - 1 - pad] == '=')
		pad++;
	if (!bytes || n64 % 4 != 0 || pad > 2)
		return req_fail(rq, 400,
				"'file' is not valid base64 (A-Z a-z 0-9 + /, padded to a "
				"multiple of 4 characters, no spaces or line breaks)");
	if (len == 0)
		return req_fail(rq, 400, "'file' is empty");
	if ((long long)len > max)
		return req_fail(rq, 413, "'file' exceeds upload_max_bytes (%lld bytes)", max);
	struct sniffed t = sniff(bytes, len);
	if (!t.type)
		return req_fail(rq, 415,
				"'file' is not an image, audio or video file of a kind this "
				"platform ingests");
	if (!*media_type)
		*media_type = t.type;
	else if (!family_agrees(*media_type, t.family))
		return req_fail(rq, 415, "'file' looks like %s, not the declared '%s'", t.type,
				*media_type);
	char err[200];
	if (store_upload_write(rq->arena, setting_str(rq->app->cfg, S_STORAGE_ROOT), c, s, id,
			       bytes, len, err, sizeof err) != 0) {
		log_err("upload of %d/%d/%s: %s", c, s, id, err);
		return req_fail(rq, 507, "the upload could not be stored");
	}
	*origin = arena_printf(rq->arena, UPLOAD_ORIGIN_PREFIX "%d/%d/%s", c, s, id);
	return 0;
}
