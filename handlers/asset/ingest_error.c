/* Ingest error kinds (asset/ingest_error.h). */
#include <stddef.h>
#include <string.h>

#include "arena.h"
#include "asset/ingest_error.h"
#include "banned.h"

static const char *const NAMES[INGEST_ERROR__MAX] = {
	[INGEST_ERROR_NONE] = NULL,     [INGEST_ERROR_ORIGIN] = "origin",
	[INGEST_ERROR_IMAGE] = "image", [INGEST_ERROR_STORAGE] = "storage",
	[INGEST_ERROR_OTHER] = "other", [INGEST_ERROR_MEDIA] = "media",
};

const char *ingest_error_name(enum ingest_error kind)
{
	return kind > INGEST_ERROR_NONE && kind < INGEST_ERROR__MAX ? NAMES[kind] : NULL;
}

enum ingest_error ingest_error_parse(const char *name)
{
	if (!name)
		return INGEST_ERROR_NONE;
	for (int k = INGEST_ERROR_NONE + 1; k < INGEST_ERROR__MAX; k++)
		if (strcmp(name, NAMES[k]) == 0)
			return (enum ingest_error)k;
	return INGEST_ERROR_OTHER;
}

const char *ingest_error_text(struct arena *a, enum ingest_error kind, const char *detail)
{
	switch (kind) {
	case INGEST_ERROR_ORIGIN:
	case INGEST_ERROR_IMAGE:
	case INGEST_ERROR_STORAGE:
	case INGEST_ERROR_MEDIA:
		return arena_printf(a, "%s: %s", NAMES[kind], detail);
	default:
		return arena_strdup(a, detail);
	}
}
