/* Why an ingest failed, as the runner records it and the API answers it.
 * The kind is stored as such (assets.error_kind, schema/005-error-kind.sql)
 * beside the readable text (assets.error, what clients see), so nobody reads
 * a kind back out of a message. */
#ifndef DLCS_ASSET_INGEST_ERROR_H
#define DLCS_ASSET_INGEST_ERROR_H

struct arena;

enum ingest_error {
	INGEST_ERROR_NONE,    /* no error: NULL in the column */
	INGEST_ERROR_ORIGIN,  /* "origin": the origin could not be fetched (a synchronous
			       * PUT answers 502) */
	INGEST_ERROR_IMAGE,   /* "image": the original is not a usable image, its own
			       * fault (422) */
	INGEST_ERROR_STORAGE, /* "storage": ours: disk, database, resources (500) */
	INGEST_ERROR_OTHER,   /* "other": anything else, e.g. the ingest was abandoned (500) */
	INGEST_ERROR_MEDIA,   /* "media": the original is not usable audio or video (for its
			       * iiif-av presets), its own fault (422) */
	INGEST_ERROR__MAX
};

/* The stored name of a kind (assets.error_kind's ENUM values); NULL for
 * INGEST_ERROR_NONE. */
const char *ingest_error_name(enum ingest_error kind);
/* The kind of a stored name: NULL is INGEST_ERROR_NONE, an unknown name
 * INGEST_ERROR_OTHER. */
enum ingest_error ingest_error_parse(const char *name);
/* The readable text of an error (assets.error): "origin: ...", "image: ...",
 * "storage: ...", "media: ..." for those kinds, the detail as it is for the
 * others. In a. */
const char *ingest_error_text(struct arena *a, enum ingest_error kind, const char *detail);

#endif
