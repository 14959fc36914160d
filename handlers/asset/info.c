/* info.json for Image API 3.0 and 2.1 (the stored files it is made from:
 * asset/stored.h). */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "asset/info.h"
#include "asset/auth_doc.h"
#include "asset/stored.h"
#include "banned.h"

#define CONTEXT_3 "http://iiif.io/api/image/3/context.json"
#define CONTEXT_2 "http://iiif.io/api/image/2/context.json"
#define PROTOCOL  "http://iiif.io/api/image"

static void write_sizes(struct jw *w, const struct info_doc *d)
{
	jw_key(w, "sizes");
	jw_arr(w);
	for (size_t i = 0; i < d->nsizes; i++) {
		jw_obj(w);
		if (d->version == 3)
			jw_kstr(w, "type", "Size");
		jw_kint(w, "width", d->sizes[i].w);
		jw_kint(w, "height", d->sizes[i].h);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void write_tiles(struct jw *w, const struct info_doc *d)
{
	jw_key(w, "tiles");
	jw_arr(w);
	jw_obj(w);
	if (d->version == 3)
		jw_kstr(w, "type", "Tile");
	jw_kint(w, "width", d->tile);
	jw_kint(w, "height", d->tile);
	jw_key(w, "scaleFactors");
	jw_arr(w);
	for (int i = 0; i < d->nsf; i++)
		jw_int(w, d->sf[i]);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
}

static void str_array(struct jw *w, const char *key, const char *const *v, bool webp)
{
	jw_key(w, key);
	jw_arr(w);
	for (; *v; v++)
		if (webp || strcmp(*v, "webp") != 0)
			jw_str(w, *v);
	jw_arr_end(w);
}

/* Beyond level 2 (3.0 compliance: level 2 has jpg and png, default, color
 * and gray... but 3.0 asks every quality other than default to be listed). */
static const char *const extra_formats_3[] = {"webp", "gif", "tif", NULL};
static const char *const extra_qualities_3[] = {"color", "gray", "bitonal", NULL};
static const char *const extra_features_3[] = {"mirroring", "rotationArbitrary", "sizeUpscaling",
					       NULL};
/* 2.1: the profile object lists formats and qualities in full; supports
 * lists the features beyond level 2. */
static const char *const formats_2[] = {"jpg", "png", "webp", "gif", "tif", NULL};
static const char *const qualities_2[] = {"default", "color", "gray", "bitonal", NULL};
static const char *const supports_2[] = {"mirroring", "regionSquare", "rotationArbitrary",
					 "sizeAboveFull", NULL};

void info_write(struct jw *w, const struct info_doc *d)
{
	jw_obj(w);
	if (d->version == 3 && d->auth_service) {
		jw_key(w, "@context");
		jw_arr(w);
		jw_str(w, AUTH2_CONTEXT);
		jw_str(w, CONTEXT_3);
		jw_arr_end(w);
	}
	if (d->version == 3) {
		if (!d->auth_service)
			jw_kstr(w, "@context", CONTEXT_3);
		jw_kstr(w, "id", d->id);
		jw_kstr(w, "type", "ImageService3");
		jw_kstr(w, "protocol", PROTOCOL);
		jw_kstr(w, "profile", d->level0 ? "level0" : "level2");
	} else {
		jw_kstr(w, "@context", CONTEXT_2);
		jw_kstr(w, "@id", d->id);
		jw_kstr(w, "protocol", PROTOCOL);
	}
	jw_kint(w, "width", d->W);
	jw_kint(w, "height", d->H);
	if (d->version == 3 && d->max_area > 0 && !d->level0)
		jw_kint(w, "maxArea", d->max_area);
	if (d->version == 3 && d->max_width > 0) {
		jw_kint(w, "maxWidth", d->max_width);
		jw_kint(w, "maxHeight", d->max_height);
	}
	if (d->nsizes || d->level0)
		write_sizes(w, d);
	if (d->nsf > 0 && !d->level0)
		write_tiles(w, d);
	if (d->version == 3) {
		if (!d->level0) {
			str_array(w, "extraFormats", extra_formats_3, d->webp);
			str_array(w, "extraQualities", extra_qualities_3, true);
			str_array(w, "extraFeatures", extra_features_3, true);
		}
	} else {
		jw_key(w, "profile");
		jw_arr(w);
		if (d->level0) {
			jw_str(w, "http://iiif.io/api/image/2/level0.json");
		} else {
			jw_str(w, "http://iiif.io/api/image/2/level2.json");
			jw_obj(w);
			str_array(w, "formats", formats_2, d->webp);
			str_array(w, "qualities", qualities_2, true);
			str_array(w, "supports", supports_2, true);
			if (d->max_area > 0)
				jw_kint(w, "maxArea", d->max_area);
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	if (d->auth_service) {
		jw_key(w, "service");
		jw_arr(w);
		jw_json_text(w, d->auth_service);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

void info_doc_image(struct info_doc *d, struct arena *a, const struct stored *st, int version,
		    const char *id, long long max_area, bool webp)
{
	/* the thumbnails within max_area, read right by OpenSeadragon 5 */
	struct stored_size *sizes =
		arena_alloc(a, (STORED_MAX_SIZES + STORED_MAX_LEVELS) * sizeof *sizes);
	size_t n = stored_info_sizes(st, max_area, sizes);
	*d = (struct info_doc){
		.version = version,
		.id = id,
		.W = st->W,
		.H = st->H,
		.sizes = sizes,
		.nsizes = n,
		.sf = st->sf,
		.nsf = st->nsf,
		.tile = st->tile,
		.max_area = max_area > 0 ? max_area : 0,
		.webp = webp,
	};
}

void info_thumbs_size(const struct stored *st, int width, int height, int *W, int *H)
{
	*W = width;
	*H = height;
	if ((*W <= 0 || *H <= 0) && st->nsizes > 0) {
		const struct stored_size *big = &st->sizes[0];
		for (size_t i = 1; i < st->nsizes; i++)
			if ((long long)st->sizes[i].w * st->sizes[i].h > (long long)big->w * big->h)
				big = &st->sizes[i];
		*W = big->w;
		*H = big->h;
	}
}

void info_doc_thumbs(struct info_doc *d, const struct stored *st, const struct stored_size *sizes,
		     size_t n, int width, int height, int version, const char *id)
{
	*d = (struct info_doc){
		.version = version,
		.id = id,
		.level0 = true,
		.sizes = sizes,
		.nsizes = n,
	};
	info_thumbs_size(st, width, height, &d->W, &d->H);
}

const char *info_content_type(int version, const char *accept)
{
	bool ld = accept && strcasestr(accept, "application/ld+json");
	bool json = accept && strcasestr(accept, "application/json");
	bool any =
		!accept || !*accept || strstr(accept, "*/*") || strcasestr(accept, "application/*");
	if (version == 3)
		return ld || any || !json ? "application/ld+json;profile=\"" CONTEXT_3 "\""
					  : "application/json";
	return ld ? "application/ld+json" : "application/json";
}
