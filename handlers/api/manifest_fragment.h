/* One asset's canvas as text that can be kept between requests: written by
 * the manifest writer with markers where the request's base URL, the
 * customer part of the path and the canvas's number go, and filled in for
 * each request. What remains depends only on the asset (its row and its
 * stored thumbnail sizes) and the Presentation version, so the API keeps
 * these per worker (api/manifests.c) and a manifest of a thousand canvases
 * costs neither a thousand s.json files nor the JSON writer. Pure, tested
 * in tests/unit/test_manifest_write.c against the whole writer. */
#ifndef DLCS_MANIFEST_FRAGMENT_H
#define DLCS_MANIFEST_FRAGMENT_H

#include <stddef.h>

#include "api/manifest_write.h"

struct arena;
struct sbuf;

/* The fragment of as's canvas in a manifest of this version (2 or 3), in
 * the arena, or NULL when it cannot be one: the asset's own text holds the
 * marker byte (0x7f), or the writer failed. The caller then writes that
 * canvas with manifest_write_canvas. */
const char *mf_fragment_make(struct arena *a, int version, const struct mf_asset *as, size_t *len);

/* Appends the fragment to b with its markers replaced: base_json and
 * cpart_json are the base URL and the customer part as they appear inside a
 * JSON string (mf_json_inner), n the canvas's number. */
void mf_fragment_fill(struct sbuf *b, const char *frag, size_t len, const char *base_json,
		      const char *cpart_json, int n);

/* s as the inside of a JSON string (escaped as the writer escapes it, no
 * quotes), in the arena; NULL when s is not valid UTF-8. */
const char *mf_json_inner(struct arena *a, const char *s);

#endif
