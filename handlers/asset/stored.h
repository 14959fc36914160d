/* What the files of one asset say, as the ingest wrote them
 * (ingest/derive.h): info.txt (the pyramid) and s.json (the thumbnail
 * sizes); and which stored file, if any, is exactly the image a resolved
 * IIIF request asks for. dlcs-image answers from them, and the ingest and
 * dlcs-admin derive the size aliases from them (asset/thumb_alias.h). No
 * GraphicsMagick here. */
#ifndef DLCS_ASSET_STORED_H
#define DLCS_ASSET_STORED_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

#define STORED_MAX_LEVELS 32
#define STORED_MAX_SIZES  64

struct stored_size {
	int w, h;
	bool open; /* in s.json's "o" list: no larger than maxUnauthorised */
};

/* What the files of one asset say. */
struct stored {
	bool has_tiles; /* info.txt was read */
	int W, H, tile;
	int sf[STORED_MAX_LEVELS]; /* ascending: 1, 2, 4, ... */
	int nsf;
	bool has_sizes;                             /* s.json was read */
	struct stored_size sizes[STORED_MAX_SIZES]; /* ascending by width, then height */
	size_t nsizes;
};

/* "width height tile_size scale_factors..." (one line). 0, or -1 when
 * malformed (then st->has_tiles stays false). */
int stored_parse_info(const char *text, struct stored *st);
/* {"o":[[w,h],...],"a":[[w,h],...]}. 0, or -1 when malformed. */
int stored_parse_sizes(struct arena *a, const char *text, size_t len, struct stored *st);
/* Reads {dir}/info.txt and {dir}/s.json, either of which may be absent (a
 * file that is there but malformed counts as absent and is logged). */
void stored_load(struct arena *a, const char *dir, struct stored *st);
/* Only {dir}/s.json (what a manifest needs of each of its assets). */
void stored_load_sizes(struct arena *a, const char *dir, struct stored *st);

/* The sizes an image service's info.json lists: the stored thumbnails no
 * larger than max_area pixels (<= 0: no limit), made safe for
 * OpenSeadragon 5 (Mirador 4's), which takes a sizes list of maxLevel or
 * maxLevel + 1 entries (maxLevel: log2 of the largest scale factor) to BE
 * the pyramid's levels, without checking them against the scale factors as
 * OpenSeadragon 6 does: the usual four thumbnails beside scale factors 1
 * to 8 made it draw a 1600 px image as if 1024 px wide (its top-left
 * corner). When the thumbnails alone would be read so and are not the
 * levels, the pyramid's own levels (within max_area, smallest first) are
 * added until the list is either longer or exactly the levels; if that
 * cannot be (the largest levels are over max_area), thumbnails that are
 * not levels are dropped, largest first. Ascending by width. out must hold
 * STORED_MAX_SIZES + STORED_MAX_LEVELS; returns the count. */
size_t stored_info_sizes(const struct stored *st, long long max_area, struct stored_size *out);

/* Matching a resolved request to a stored file, so that it is sent as it is.
 * A side the request left to the server (w, ,h pct: !w,h) may differ by
 * one pixel: the file is the same image rounded the other way. Rotation,
 * mirroring, quality and format are the caller's to check.
 * stored_match_tile: the tile whose region and size are r's (ingest/derive.h's
 * arithmetic): its name under tiles/ into name (64 bytes suffice) and its
 * pixel size into *tw × *th. */
struct iiif_resolved;
bool stored_match_tile(const struct stored *st, const struct iiif_resolved *r, char *name,
		       size_t len, int *tw, int *th);
/* The thumbnail that is r's image (the full W×H region only) among
 * sizes[0..n): its index, or -1. */
int stored_match_size(const struct stored_size *sizes, size_t n, int W, int H,
		      const struct iiif_resolved *r);

#endif
