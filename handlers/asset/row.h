/* The asset row (table `assets`, schema/001-core.sql and later): the one
 * column list every program reads an asset with, and the indices of its
 * cells. The API writes and serialises it (api/assets.c), delivery and the
 * public links read what decides access and where the files are, the
 * runner what to ingest. */
#ifndef DLCS_ASSET_ROW_H
#define DLCS_ASSET_ROW_H

/* SELECT list for table alias "a" of `assets`; cells come back in the
 * order of enum asset_col. */
#define ASSET_COLUMNS                                                                              \
	"a.customer_id, a.space_id, a.id, a.created, a.origin, a.tags, a.roles, "                  \
	"a.manifests, a.string1, a.string2, a.string3, a.number1, a.number2, a.number3, "          \
	"a.max_unauthorised, a.media_type, a.family, a.delivery_channels, a.width, "               \
	"a.height, a.duration, a.ingesting, a.finished, a.error, a.batch_id, a.error_kind, "       \
	"a.row_version"

enum asset_col {
	ACOL_CUSTOMER,
	ACOL_SPACE,
	ACOL_ID,
	ACOL_CREATED,
	ACOL_ORIGIN,
	ACOL_TAGS,
	ACOL_ROLES,
	ACOL_MANIFESTS,
	ACOL_STRING1,
	ACOL_STRING2,
	ACOL_STRING3,
	ACOL_NUMBER1,
	ACOL_NUMBER2,
	ACOL_NUMBER3,
	ACOL_MAX_UNAUTHORISED,
	ACOL_MEDIA_TYPE,
	ACOL_FAMILY,
	ACOL_DELIVERY_CHANNELS,
	ACOL_WIDTH,
	ACOL_HEIGHT,
	ACOL_DURATION,
	ACOL_INGESTING,
	ACOL_FINISHED,
	ACOL_ERROR,
	ACOL_BATCH,
	ACOL_ERROR_KIND, /* asset/ingest_error.h */
	ACOL_ROW_VERSION,
	ACOL__MAX
};

/* The start of every UPDATE of assets' SET list: the row takes a new
 * version, a number never given before (schema/016-asset-row-version.sql),
 * so that whatever was made from the row's old state (a stored manifest,
 * asset/manifest_store.h) no longer matches it; and the value of
 * row_version in every INSERT. tests/style-check refuses an UPDATE or an
 * INSERT of assets without them. */
#define ASSET_ROW_VERSION_NEW  "NEXTVAL(asset_row_versions)"
#define ASSET_ROW_VERSION_NEXT "row_version = " ASSET_ROW_VERSION_NEW

/* The three list fields; their JSON text lives in assets.<list> and the
 * indexed copies that queries use in asset_<list> rows. */
enum asset_list { ALIST_TAGS, ALIST_ROLES, ALIST_MANIFESTS, ALIST__MAX };

#endif
