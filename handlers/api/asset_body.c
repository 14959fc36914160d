/* Asset bodies (api/asset_body.h): what a PUT, a PATCH, a bulk PATCH or a
 * queued member may say about an asset, checked before the database is
 * asked, and the plan of a full asset (PUT, queue) with the space's defaults
 * and the delivery channels resolved, then written. */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "db.h"
#include "http_syntax.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "api/asset_body.h"
#include "api/assets.h"
#include "api/channels.h"
#include "api/common.h"
#include "api/roles.h"
#include "asset/row.h"
#include "banned.h"

enum stmt {
	SQL_ASSET_EXISTS_LOCK,
	SQL_ASSET_INSERT,
	SQL_ASSET_REPLACE,
	SQL_ASSET_SET_BATCH,
	SQL_STORAGE_ENSURE,
	SQL_SPACE_LOCK,
	SQL_SPACE_INC,
	SQL_SPACE_DEFAULTS,
	SQL_POLICY_IMAGES,
	SQL__MAX
};

static const char *const sql[SQL__MAX] = {
	[SQL_ASSET_EXISTS_LOCK] = "SELECT 1 FROM assets" KEY_WHERE " FOR UPDATE",
	[SQL_ASSET_INSERT] =
		"INSERT INTO assets (customer_id, space_id, id, created, origin, tags, roles,"
		" manifests, string1, string2, string3, number1, number2, number3,"
		" max_unauthorised, media_type, family, delivery_channels, width, height,"
		" duration, ingesting, finished, error, batch_id, row_version)"
		" VALUES (?,?,?,UTC_TIMESTAMP(6),?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		"NULL,NULL,NULL,1,NULL,NULL,NULL," ASSET_ROW_VERSION_NEW ")",
	/* PUT over an existing asset: everything but created, then a new ingest. */
	[SQL_ASSET_REPLACE] = "UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", " MUTABLE_SET
			      ", width=NULL, height=NULL,"
			      " duration=NULL, ingesting=1, finished=NULL, error=NULL,"
			      " error_kind=NULL, batch_id=NULL" KEY_WHERE,
	/* Bulk metadata: a NULL parameter keeps the column. */
	[SQL_ASSET_SET_BATCH] =
		"UPDATE assets SET " ASSET_ROW_VERSION_NEXT ", batch_id=?" KEY_WHERE,
	[SQL_STORAGE_ENSURE] =
		"INSERT INTO asset_storage (customer_id, space_id, asset_id, size, thumbnail_size,"
		" last_checked) VALUES (?,?,?,0,0,UTC_TIMESTAMP(6))"
		" ON DUPLICATE KEY UPDATE asset_id=asset_id",
	[SQL_SPACE_LOCK] = "SELECT 1 FROM spaces WHERE customer_id=? AND id=? FOR UPDATE",
	[SQL_SPACE_INC] = "UPDATE spaces SET image_count=image_count+1"
			  " WHERE customer_id=? AND id=?",
	[SQL_SPACE_DEFAULTS] = "SELECT default_tags, default_roles, max_unauthorised FROM spaces"
			       " WHERE customer_id=? AND id=?",
	[SQL_POLICY_IMAGES] =
		"SELECT p.max_images, (SELECT COALESCE(SUM(s.image_count),0) FROM spaces s"
		" WHERE s.customer_id=c.id), p.max_bytes, (SELECT COALESCE(SUM(t.bytes +"
		" t.thumbnail_bytes),0) FROM customer_storage t WHERE t.customer_id=c.id"
		" AND t.space_id=0) FROM customers c"
		" JOIN storage_policies p ON p.id=c.storage_policy WHERE c.id=?",
};

/* The list fields' body keys and longest values (the index columns' widths). */
static const struct {
	const char *key;
	size_t max_chars;
} lists[ALIST__MAX] = {
	[ALIST_TAGS] = {"tags", 255},
	[ALIST_ROLES] = {"roles", 500},
	[ALIST_MANIFESTS] = {"manifests", 500},
};

#define TEXT_MAX_BYTES   65535 /* a TEXT column */
#define STRING_MAX_CHARS 255   /* string1..3, mediaType */
#define BULK_MAX_MEMBERS 1000

static const char *const read_only_keys[] = {
	"width", "height", "duration", "batch", "finished", "created", "ingesting", "error", NULL};
static const char *const deprecated_keys[] = {"thumbnailPolicy", "imageOptimisationPolicy", NULL};
static const char *const asset_keys[] = {"@context",
					 "@type",
					 "@id",
					 "id",
					 "space",
					 "origin",
					 "initialOrigin",
					 "tags",
					 "roles",
					 "manifests",
					 "string1",
					 "string2",
					 "string3",
					 "number1",
					 "number2",
					 "number3",
					 "maxUnauthorised",
					 "mediaType",
					 "family",
					 "deliveryChannels",
					 "file",
					 "imageService",
					 "thumbnailImageService",
					 "storage",
					 NULL};
static const char *const bulk_forbidden_keys[] = {
	"origin", "initialOrigin", "deliveryChannels", "maxUnauthorised", "mediaType", "family",
	NULL};
static const char *const bulk_keys[] = {
	"@context", "@type",   "@id",          "id",
	"space",    "tags",    "roles",        "manifests",
	"string1",  "string2", "string3",      "number1",
	"number2",  "number3", "imageService", "thumbnailImageService",
	"storage",  NULL};
static const char *const string_keys[3] = {"string1", "string2", "string3"};
static const char *const number_keys[3] = {"number1", "number2", "number3"};

static const char *const bulk_body_keys[] = {"@context", "@id", "@type", "member", NULL};

/* A validated PUT (or queue member): what asset_plan_apply writes. */
struct asset_plan {
	int c, s;
	const char *id;
	struct asset_in in;
	const char *list_json[ALIST__MAX];
	const char *channels;
	char family;
};

/* Characters (not bytes) of a UTF-8 string, as VARCHAR(n) counts them. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* The strings of a JSON array (non-strings skipped), in the arena. */
static size_t strings_of(struct arena *a, yajl_val arr, const char ***out)
{
	size_t n = 0, len = YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
	const char **v = arena_alloc(a, (len ? len : 1) * sizeof *v);
	for (size_t i = 0; i < len; i++)
		if (YAJL_IS_STRING(arr->u.array.values[i]))
			v[n++] = arr->u.array.values[i]->u.string;
	*out = v;
	return n;
}

/* The strings of stored JSON array text. */
static size_t strings_of_text(struct arena *a, const char *text, const char ***out)
{
	yajl_val v = text && *text ? json_parse(a, text, strlen(text), NULL) : NULL;
	return strings_of(a, v, out);
}

static int read_list(struct req *rq, yajl_val body, enum asset_list which, struct asset_in *in)
{
	const char *key = lists[which].key;
	yajl_val arr = NULL;
	bool present = false;
	int st = jin_str_array(rq, body, key, &arr, &present);
	if (st || !present)
		return st;
	in->nlist[which] = strings_of(rq->arena, arr, &in->list[which]);
	for (size_t i = 0; i < in->nlist[which]; i++) {
		size_t chars = utf8_chars(in->list[which][i]);
		if (chars == 0 || chars > lists[which].max_chars)
			return req_fail(rq, 400, "'%s': each value must be 1 to %zu characters",
					key, lists[which].max_chars);
	}
	in->list_json[which] = asset_list_json(rq->arena, in->list[which], in->nlist[which]);
	if (strlen(in->list_json[which]) > TEXT_MAX_BYTES)
		return req_fail(rq, 400, "'%s' is too long", key);
	/* every asset route is under /customers/{c}/: its roles are c's */
	if (which == ALIST_ROLES)
		return roles_check(rq, (int)rq->ints[0], key, in->list[which], in->nlist[which],
				   NULL);
	return 0;
}

/* Origins are fetched by the runner; what it could never fetch is refused
 * here, as bad input, rather than as a failed ingest later. */
static bool origin_syntax_ok(const char *o)
{
	if (strncasecmp(o, "http://", 7) && strncasecmp(o, "https://", 8) &&
	    strncasecmp(o, "file:///", 8))
		return false;
	for (const unsigned char *p = (const unsigned char *)o; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* Reads and validates an asset body (or a bulk member) for asset c/s/id;
 * returns 0 or the 400 it answered, naming the field. */
int asset_body_read(struct req *rq, yajl_val body, int c, int s, const char *id,
		    enum body_mode mode, struct asset_in *in)
{
	int st;
	bool has;
	memset(in, 0, sizeof *in);
	if (!YAJL_IS_OBJECT(body))
		return req_fail(rq, 400, "expected a JSON object");
	if ((st = jin_forbid_keys(rq, body, read_only_keys, "is read-only")) ||
	    (st = jin_forbid_keys(rq, body, deprecated_keys,
				  "is deprecated: use 'deliveryChannels'")))
		return st;
	if (mode == BODY_BULK) {
		if ((st = jin_forbid_keys(rq, body, bulk_forbidden_keys,
					  "cannot be changed by a bulk patch")) ||
		    (st = jin_only_keys(rq, body, bulk_keys)))
			return st;
	} else if ((st = jin_only_keys(rq, body, asset_keys))) {
		return st;
	}
	const char *self = req_url(rq, "/customers/%d/spaces/%d/images/%s", c, s, id);
	if ((st = body_id_agrees(rq, body, self, id)))
		return st;
	long long space;
	if ((st = jin_int(rq, body, "space", 0, INT_MAX, &space, &has)))
		return st;
	if (has && space != s)
		return req_fail(rq, 400, "'space' (%lld) does not match the space in the URL (%d)",
				space, s);

	/* The bytes of a direct upload replace an asset's origin: PUT only
	 * (asset_put takes them), never beside an origin. */
	if (json_get(body, "file") && mode != BODY_PUT)
		return req_fail(rq, 400, "'file' is only accepted by PUT or POST of a whole asset");
	if (json_get(body, "file") && json_get(body, "origin"))
		return req_fail(rq, 400, "'file' and 'origin' cannot be given together");
	if (mode != BODY_BULK) {
		const char *ignored, *family;
		if ((st = jin_str(rq, body, "origin", &in->origin, &in->has_origin)))
			return st;
		if (in->has_origin && strlen(in->origin) > TEXT_MAX_BYTES)
			return req_fail(rq, 400, "'origin' is too long");
		if (in->has_origin && *in->origin && !origin_syntax_ok(in->origin))
			return req_fail(rq, 400,
					"'origin' must be an http://, https:// or file:// "
					"URL without spaces or control characters");
		/* Write-only in the seed and never stored: an asset is always
		 * fetched from its origin. Accepted so clients may send it. */
		if ((st = jin_str(rq, body, "initialOrigin", &ignored, &has)))
			return st;
		if ((st = jin_int(rq, body, "maxUnauthorised", -1, INT_MAX, &in->max_unauth,
				  &in->has_max_unauth)))
			return st;
		if ((st = jin_str(rq, body, "mediaType", &in->media_type, &in->has_media_type)))
			return st;
		/* It becomes the Content-Type of /file: only a media type. */
		if (in->has_media_type && !media_type_valid(in->media_type))
			return req_fail(rq, 400,
					"'mediaType' must be a media type: type/subtype (RFC 6838 "
					"names), optionally with ; name=value parameters, at most "
					"%d characters, no control characters",
					STRING_MAX_CHARS);
		if ((st = jin_str(rq, body, "family", &family, &has)))
			return st;
		if (has) {
			if (strcmp(family, "I") && strcmp(family, "T") && strcmp(family, "F"))
				return req_fail(rq, 400, "'family' must be \"I\", \"T\" or \"F\"");
			in->family = family[0];
		}
		yajl_val dc = json_get(body, "deliveryChannels");
		in->channels = dc && !YAJL_IS_NULL(dc) ? dc : NULL;
	}
	for (int i = 0; i < 3; i++) {
		if ((st = jin_str(rq, body, string_keys[i], &in->str[i], &in->has_str[i])))
			return st;
		if (in->has_str[i] && utf8_chars(in->str[i]) > STRING_MAX_CHARS)
			return req_fail(rq, 400, "'%s' must be at most %d characters",
					string_keys[i], STRING_MAX_CHARS);
		if ((st = jin_int(rq, body, number_keys[i], 0, LLONG_MAX, &in->num[i],
				  &in->has_num[i])))
			return st;
	}
	for (int l = 0; l < ALIST__MAX; l++)
		if ((st = read_list(rq, body, (enum asset_list)l, in)))
			return st;
	return 0;
}

/* The path's asset id; 0 or the 400 it answered. */
int asset_path_id_check(struct req *rq, const char *id)
{
	if (!asset_id_valid(id))
		return req_fail(rq, 400,
				"'id' is not a valid asset id: 1 to 200 characters of"
				" A-Z a-z 0-9 . _ ~ - ( ), without \"..\"");
	return 0;
}

void asset_bind_mutable(struct db_param *p, const struct asset_in *in,
			const char *const list_json[3], const char *channels, char family, int c,
			int s, const char *id)
{
	const char *fam = family == 'T' ? "T" : family == 'F' ? "F" : "I";
	const char *strs[] = {in->origin, list_json[0], list_json[1], list_json[2],
			      in->str[0], in->str[1],   in->str[2]};
	size_t n = 0;
	for (size_t i = 0; i < 7; i++)
		p[n++] = (struct db_param){.type = 'S', .s = strs[i], .len = strlen(strs[i])};
	for (size_t i = 0; i < 3; i++)
		p[n++] = (struct db_param){.type = 'l', .i = in->num[i]};
	p[n++] = (struct db_param){.type = 'i', .i = in->max_unauth};
	p[n++] = (struct db_param){.type = 'S', .s = in->media_type, .len = strlen(in->media_type)};
	p[n++] = (struct db_param){.type = 'S', .s = fam, .len = 1};
	p[n++] = (struct db_param){.type = 'S', .s = channels, .len = strlen(channels)};
	p[n++] = (struct db_param){.type = 'i', .i = c};
	p[n++] = (struct db_param){.type = 'i', .i = s};
	p[n++] = (struct db_param){.type = 'S', .s = id, .len = strlen(id)};
}

/* The body of a bulk PATCH of space c/s, read whole before the database is
 * asked: n members, their ids and their fields. */
int asset_bulk_read(struct req *rq, yajl_val body, int c, int s, size_t *count,
		    const char ***ids_out, struct asset_in **in_out)
{
	int st;
	if ((st = jin_only_keys(rq, body, bulk_body_keys)))
		return st;
	yajl_val members = json_get(body, "member");
	if (!members || YAJL_IS_NULL(members))
		return req_fail(rq, 400, "'member' is required");
	if (!YAJL_IS_ARRAY(members))
		return req_fail(rq, 400, "'member' must be an array");
	size_t n = members->u.array.len;
	if (n > BULK_MAX_MEMBERS)
		return req_fail(rq, 400, "'member' holds more than %d assets", BULK_MAX_MEMBERS);

	struct asset_in *in = arena_alloc(rq->arena, (n ? n : 1) * sizeof *in);
	const char **ids = arena_alloc(rq->arena, (n ? n : 1) * sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		yajl_val m = members->u.array.values[i];
		if (!YAJL_IS_OBJECT(m))
			return req_fail(rq, 400, "'member' %zu is not an object", i);
		if ((st = jin_str_req(rq, m, "id", &ids[i])))
			return st;
		if (!asset_id_valid(ids[i]))
			return req_fail(rq, 400, "'member' %zu: 'id' is not a valid asset id", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				return req_fail(rq, 400, "'member': 'id' '%s' appears twice",
						ids[i]);
		if ((st = asset_body_read(rq, m, c, s, ids[i], BODY_BULK, &in[i])))
			return st;
	}
	*count = n;
	*ids_out = ids;
	*in_out = in;
	return 0;
}

int asset_body_check(struct req *rq, yajl_val body, int c, int s, const char *id,
		     enum asset_body mode)
{
	switch (mode) {
	case ASSET_BODY_PUT: {
		struct asset_plan *plan;
		return asset_plan_read(rq, body, c, s, id, &plan);
	}
	case ASSET_BODY_PATCH: {
		struct asset_in in;
		int st = asset_path_id_check(rq, id);
		return st ? st : asset_body_read(rq, body, c, s, id, BODY_PATCH, &in);
	}
	default: {
		size_t n;
		const char **ids;
		struct asset_in *in;
		return asset_bulk_read(rq, body, c, s, &n, &ids, &in);
	}
	}
}

/* 0 while the customer's storage policy admits one more asset, else 507
 * (or the database's error). Runs inside the caller's transaction. */
static int storage_policy_check(struct req *rq, int c)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, sql[SQL_POLICY_IMAGES], "i", c);
	if (!r)
		return req_db_fail(rq, "checking the storage policy");
	if (r->n && db_int(r, 0, 1) >= db_int(r, 0, 0))
		return req_fail(
			rq, 507,
			"storage policy exceeded: the maximum number of stored images is %lld",
			db_int(r, 0, 0));
	if (r->n && db_int(r, 0, 3) >= db_int(r, 0, 2))
		return req_fail(rq, 507,
				"storage policy exceeded: the maximum total size is %lld bytes",
				db_int(r, 0, 2));
	return 0;
}

int asset_plan_read(struct req *rq, yajl_val body, int c, int s, const char *id,
		    struct asset_plan **out)
{
	struct asset_plan *p = arena_alloc(rq->arena, sizeof *p);
	struct asset_in *in = &p->in;
	int st;
	p->c = c;
	p->s = s;
	p->id = id;
	*out = p;
	if ((st = asset_path_id_check(rq, id)) ||
	    (st = asset_body_read(rq, body, c, s, id, BODY_PUT, in)))
		return st;
	/* An upload's type may come from its bytes (upload_take). */
	if (!in->has_media_type && !json_get(body, "file"))
		return req_fail(rq, 400, "'mediaType' is required");
	return 0;
}

int asset_plan_put(struct req *rq, yajl_val body, int c, int s, const char *id,
		   struct asset_plan **out)
{
	int st = asset_plan_read(rq, body, c, s, id, out);
	return st ? st : asset_plan_resolve(rq, *out);
}

int asset_plan_resolve(struct req *rq, struct asset_plan *p)
{
	struct db *db = rq->app->db;
	struct asset_in *in = &p->in;
	int c = p->c, s = p->s;
	int st;

	/* A full replacement: what is omitted takes the space's defaults. */
	struct db_rows *sp = db_query(db, rq->arena, sql[SQL_SPACE_DEFAULTS], "ii", c, s);
	if (!sp)
		return req_db_fail(rq, "reading the space");
	if (sp->n == 0) {
		int cst = customer_require(rq, c);
		return cst ? cst : req_fail(rq, 404, "space %d not found", s);
	}
	if (!in->has_origin)
		in->origin = "";
	for (int i = 0; i < 3; i++)
		if (!in->has_str[i])
			in->str[i] = "";
	if (!in->has_max_unauth)
		in->max_unauth = db_int(sp, 0, 2);
	for (int l = 0; l < ALIST__MAX; l++) {
		if (!in->list_json[l]) {
			in->nlist[l] =
				l == ALIST_MANIFESTS
					? 0
					: strings_of_text(rq->arena, db_str(sp, 0, (size_t)l),
							  &in->list[l]);
			in->list_json[l] = asset_list_json(rq->arena, in->list[l], in->nlist[l]);
		}
		p->list_json[l] = in->list_json[l];
	}
	if ((st = channels_resolve(rq, c, s, in->media_type, in->channels, &p->channels,
				   &p->family)))
		return st;
	if (in->family)
		p->family = in->family;
	return 0;
}

char asset_plan_family(const struct asset_plan *p)
{
	return p->family;
}

const char *asset_plan_channels(const struct asset_plan *p)
{
	return p->channels;
}

void asset_plan_set_upload(struct asset_plan *p, const char *origin, const char *media_type)
{
	p->in.origin = origin;
	p->in.has_origin = true;
	p->in.media_type = media_type;
	p->in.has_media_type = true;
}

const char **asset_plan_media_type(struct asset_plan *p)
{
	return &p->in.media_type;
}

bool asset_plan_has_origin(const struct asset_plan *p)
{
	return p->in.origin && *p->in.origin;
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int asset_spaces_lock(struct req *rq, int c, const int *spaces, size_t n)
{
	int *sorted = arena_alloc(rq->arena, (n + 1) * sizeof *sorted);
	memcpy(sorted, spaces, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, int_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && sorted[i] == sorted[i - 1])
			continue;
		if (!db_query(rq->app->db, rq->arena, sql[SQL_SPACE_LOCK], "ii", c, sorted[i]))
			return req_db_fail(rq, "locking the space");
	}
	return 0;
}

int asset_plan_apply(struct req *rq, const struct asset_plan *plan, long long batch_id,
		     bool *created)
{
	struct db *db = rq->app->db;
	int c = plan->c, s = plan->s;
	const char *id = plan->id;
	struct db_param p[MUTABLE_NPARAMS];
	asset_bind_mutable(p, &plan->in, plan->list_json, plan->channels, plan->family, c, s, id);

	int st = asset_spaces_lock(rq, c, &s, 1);
	if (st)
		return st;
	struct db_rows *old = db_query(db, rq->arena, sql[SQL_ASSET_EXISTS_LOCK], "iis", c, s, id);
	if (!old)
		return req_db_fail(rq, "reading the asset");
	*created = old->n == 0;
	if (*created) {
		if ((st = storage_policy_check(rq, c)))
			return st;
		/* INSERT takes the key first; MUTABLE_SET's order otherwise. */
		struct db_param ip[MUTABLE_NPARAMS];
		ip[0] = p[MUTABLE_NPARAMS - 3];
		ip[1] = p[MUTABLE_NPARAMS - 2];
		ip[2] = p[MUTABLE_NPARAMS - 1];
		memcpy(ip + 3, p, (MUTABLE_NPARAMS - 3) * sizeof *p);
		db_exec_params(db, sql[SQL_ASSET_INSERT], ip, MUTABLE_NPARAMS);
		db_exec(db, sql[SQL_SPACE_INC], "ii", c, s);
	} else {
		db_exec_params(db, sql[SQL_ASSET_REPLACE], p, MUTABLE_NPARAMS);
	}
	if (batch_id > 0)
		db_exec(db, sql[SQL_ASSET_SET_BATCH], "liis", batch_id, c, s, id);
	db_exec(db, sql[SQL_STORAGE_ENSURE], "iis", c, s, id);
	for (int l = 0; l < ALIST__MAX; l++)
		asset_list_index(rq, c, s, id, (enum asset_list)l, plan->in.list[l],
				 plan->in.nlist[l]);
	if (db_last_err(db) != DB_OK && db_in_txn(db))
		return req_db_fail(rq, *created ? "creating the asset" : "replacing the asset");
	return 0;
}
