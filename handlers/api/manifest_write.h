/* IIIF Presentation manifests (3.0, and 2.1) of a list of assets, as
 * CONTRACT section 10 and the reference (dlcs-remaining.md 1.6) shape them:
 * one canvas per asset in the given order, the canvas the asset's size, a
 * painting body that is the largest open stored thumbnail with the asset's
 * image services (ImageService2 on /iiif-img/v2/ and ImageService3 in 3.0;
 * ImageService2 only in 2.1), a canvas thumbnail from /thumbs with its
 * level 0 services, metadata with string1..3, number1..3, tags and roles,
 * and the file channel as a rendering. Audio and video (3.0 only):
 * Sound/Video bodies of their transcodes with a duration (a Choice when
 * there are several), a video's poster as the thumbnail. Pure: everything it writes is in
 * struct mf_doc, so the writer is tested without a database
 * (tests/unit/test_manifest_write.c). */
#ifndef DLCS_MANIFEST_WRITE_H
#define DLCS_MANIFEST_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "asset/stored.h"

struct arena;
struct av_output;
struct jw;

/* One asset, as the manifest needs it. */
struct mf_asset {
	int space;
	const char *id;
	int width, height;  /* 0 when not measured */
	long long duration; /* ms, 0 when none */
	const char *media_type;
	bool iiif_img, thumbs, file, av; /* its delivery channels */
	bool restricted;                 /* asset/access.h: roles or maxUnauthorised >= 0 */
	const char *strings[3];
	long long numbers[3];
	const char *tags_json, *roles_json; /* stored JSON arrays of strings */
	/* the stored thumbnails (asset/stored.h: open ones flagged), any order */
	const struct stored_size *sizes;
	size_t nsizes;
	/* av: its transcodes, as av.json lists them (asset/av_stored.h) */
	const struct av_output *av_out;
	size_t n_av;
	/* restricted: its AuthProbeService2 object as JSON text
	 * (asset/auth_doc.h), written on its bodies in 3.0; NULL for none */
	const char *probe_json;
	size_t probe_len;
};

struct mf_doc {
	int version;       /* 3 or 2 */
	const char *id;    /* the manifest's id: the request URL without its query */
	const char *base;  /* base URL of the delivery links, no trailing slash */
	const char *cpart; /* the customer as the request named it (id or name) */
	const char *label; /* the manifest's label */
	bool single;       /* a single-asset manifest (its 2.1 sequence id) */
	bool auth;         /* 3.0: some body carries a probe service (@context) */
	const struct mf_asset *assets;
	size_t n;
};

/* True when the asset gets a canvas: audio or video (iiif-av) with a
 * duration and its transcodes (a video's size too); otherwise an image
 * (iiif-img or thumbs) of known size. A video's thumbs channel is its
 * poster, the canvas's thumbnail. */
bool mf_asset_shown(const struct mf_asset *as);
/* mf_asset_shown, and in 2.1 (version 2) an image: 2.1 has no time-based
 * canvases (the reference's P2 manifests skip AV assets). */
bool mf_asset_in_version(const struct mf_asset *as, int version);

/* Writes the manifest of d's shown assets (errors latch in w). */
void manifest_write(struct jw *w, struct arena *a, const struct mf_doc *d);

/* The same in parts, for a caller that has some canvases as text already
 * (api/manifest_fragment.h): the head (everything before the first canvas;
 * its thumbnail is first's, the first asset with a canvas, NULL for none),
 * one canvas (number n, as decimal text, or a marker the caller replaces)
 * and the tail. d->assets and d->n are not read by these. */
void manifest_write_head(struct jw *w, struct arena *a, const struct mf_doc *d,
			 const struct mf_asset *first);
void manifest_write_canvas(struct jw *w, struct arena *a, const struct mf_doc *d,
			   const struct mf_asset *as, const char *n);
void manifest_write_tail(struct jw *w, const struct mf_doc *d);

#endif
