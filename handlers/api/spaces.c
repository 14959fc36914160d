#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "input.h"
#include "json.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/roles.h"
#include "api/handlers.h"
#include "api/spaces.h"
#include "banned.h"

#define SPACE_COLS                                                                                 \
	"customer_id, id, name, created, default_tags, default_roles, max_unauthorised, "          \
	"image_count"
enum { COL_CUSTOMER, COL_ID, COL_NAME, COL_CREATED, COL_TAGS, COL_ROLES, COL_MAXUNAUTH, COL_COUNT };

enum {
	SQL_SPACE_GET,
	SQL_SPACES_COUNT,
	SQL_SPACES_BY_ID,
	SQL_SPACES_BY_ID_DESC,
	SQL_SPACES_BY_NAME,
	SQL_SPACES_BY_NAME_DESC,
	SQL_SPACES_BY_CREATED,
	SQL_SPACES_BY_CREATED_DESC,
	SQL_COUNTER_ENSURE,
	SQL_COUNTER_LOCK,
	SQL_COUNTER_SET,
	SQL_SPACE_INSERT,
	SQL_SPACE_UPDATE,
	SQL_SPACE_HAS_ASSETS,
	SQL_SPACE_DELETE_DEFAULTS,
	SQL_SPACE_DELETE,
	SQL_SPACE_COUNT_IMAGES,
	SQL_SPACE_NAME_OWNER,
	SQL_SPACE_GAP,
	SQL__MAX
};

#define LIST_TAIL " LIMIT ? OFFSET ?"
static const char *const SQL[SQL__MAX] = {
	[SQL_SPACE_GET] = "SELECT " SPACE_COLS " FROM spaces WHERE customer_id = ? AND id = ?",
	[SQL_SPACES_COUNT] = "SELECT COUNT(*) FROM spaces WHERE customer_id = ?",
	[SQL_SPACES_BY_ID] = "SELECT " SPACE_COLS " FROM spaces WHERE customer_id = ?"
			     " ORDER BY id" LIST_TAIL,
	[SQL_SPACES_BY_ID_DESC] = "SELECT " SPACE_COLS " FROM spaces WHERE customer_id = ?"
				  " ORDER BY id DESC" LIST_TAIL,
	[SQL_SPACES_BY_NAME] = "SELECT " SPACE_COLS " FROM spaces WHERE customer_id = ?"
			       " ORDER BY name, id" LIST_TAIL,
	[SQL_SPACES_BY_NAME_DESC] = "SELECT " SPACE_COLS " FROM spaces WHERE customer_id = ?"
				    " ORDER BY name DESC, id DESC" LIST_TAIL,
	[SQL_SPACES_BY_CREATED] = "SELECT " SPACE_COLS " FROM spaces WHERE customer_id = ?"
				  " ORDER BY created, id" LIST_TAIL,
	[SQL_SPACES_BY_CREATED_DESC] = "SELECT " SPACE_COLS " FROM spaces WHERE customer_id = ?"
				       " ORDER BY created DESC, id DESC" LIST_TAIL,
	[SQL_COUNTER_ENSURE] = "INSERT IGNORE INTO entity_counters (scope, customer_id, next)"
			       " VALUES ('space', ?, 1)",
	[SQL_COUNTER_LOCK] = "SELECT e.next, (SELECT COALESCE(MAX(s.id), 0) FROM spaces s"
			     " WHERE s.customer_id = e.customer_id) FROM entity_counters e"
			     " WHERE e.scope = 'space' AND e.customer_id = ? FOR UPDATE",
	[SQL_COUNTER_SET] = "UPDATE entity_counters SET next = ? WHERE scope = 'space'"
			    " AND customer_id = ?",
	[SQL_SPACE_INSERT] = "INSERT INTO spaces (customer_id, id, name, created, default_tags,"
			     " default_roles, max_unauthorised) VALUES (?, ?, ?, UTC_TIMESTAMP(6),"
			     " ?, ?, ?)",
	[SQL_SPACE_UPDATE] = "UPDATE spaces SET name = ?, default_tags = ?, default_roles = ?,"
			     " max_unauthorised = ? WHERE customer_id = ? AND id = ?",
	[SQL_SPACE_HAS_ASSETS] =
		"SELECT 1 FROM assets WHERE customer_id = ? AND space_id = ? LIMIT 1",
	[SQL_SPACE_DELETE_DEFAULTS] = "DELETE FROM default_delivery_channels WHERE customer_id = ?"
				      " AND space_id = ?",
	[SQL_SPACE_DELETE] = "DELETE FROM spaces WHERE customer_id = ? AND id = ?",
	[SQL_SPACE_COUNT_IMAGES] = "UPDATE spaces SET image_count = GREATEST(0, image_count + ?)"
				   " WHERE customer_id = ? AND id = ?",
	/* The lowest unused id above a used one (after the counter ran out). */
	[SQL_SPACE_GAP] = "SELECT MIN(a.id) + 1 FROM spaces a LEFT JOIN spaces b ON b.customer_id ="
			  " a.customer_id AND b.id = a.id + 1 WHERE a.customer_id = ? AND"
			  " b.id IS NULL AND a.id < 2147483647",
	[SQL_SPACE_NAME_OWNER] = "SELECT id FROM spaces WHERE customer_id = ? AND name = ?",
};

static void space_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	const char *id = req_url(rq, "/customers/%s/spaces/%s", db_str(r, i, COL_CUSTOMER),
				 db_str(r, i, COL_ID));
	resource_begin(w, id, "vocab:Space");
	jw_kint(w, "id", db_int(r, i, COL_ID));
	jw_kstr(w, "name", db_str(r, i, COL_NAME));
	jw_kstr(w, "created", db_time(rq->arena, r, i, COL_CREATED));
	jw_key(w, "defaultTags");
	jw_json_text(w, db_str(r, i, COL_TAGS));
	jw_key(w, "defaultRoles");
	jw_json_text(w, db_str(r, i, COL_ROLES));
	jw_kint(w, "maxUnauthorised", db_int(r, i, COL_MAXUNAUTH));
	jw_kint(w, "approximateNumberOfImages", db_int(r, i, COL_COUNT));
	static const char *const links[] = {"images", "storage", "defaultDeliveryChannels",
					    "metadata", NULL};
	for (const char *const *l = links; *l; l++)
		jw_kstr(w, *l, arena_printf(rq->arena, "%s/%s", id, *l));
	jw_obj_end(w);
}

int space_count_images(struct db *db, int c, int s, int delta)
{
	long long rc = db_exec(db, SQL[SQL_SPACE_COUNT_IMAGES], "iii", delta, c, s);
	return rc < 0 ? (int)rc : DB_OK;
}

/* The writable fields of a space, read from a body. */
struct space_input {
	const char *name;
	const char *tags_json, *roles_json;
	long long max_unauthorised;
	bool has_name, has_tags, has_roles, has_max;
};

static int space_read(struct req *rq, struct space_input *in)
{
	static const char *const allowed[] = {"@context",
					      "@id",
					      "@type",
					      "id",
					      "name",
					      "defaultTags",
					      "defaultRoles",
					      "maxUnauthorised",
					      "created",
					      "approximateNumberOfImages",
					      "images",
					      "storage",
					      "defaultDeliveryChannels",
					      "metadata",
					      NULL};
	static const char *const readonly[] = {"created", "approximateNumberOfImages", NULL};
	yajl_val tags = NULL, roles = NULL;
	int st;
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_forbid_keys(rq, rq->json, readonly, "is read-only")) ||
	    (st = jin_str(rq, rq->json, "name", &in->name, &in->has_name)) ||
	    (st = jin_str_array(rq, rq->json, "defaultTags", &tags, &in->has_tags)) ||
	    (st = jin_str_array(rq, rq->json, "defaultRoles", &roles, &in->has_roles)) ||
	    (st = jin_int(rq, rq->json, "maxUnauthorised", -1, 1 << 30, &in->max_unauthorised,
			  &in->has_max)))
		return st;
	if (in->has_name && (strlen(in->name) == 0 || strlen(in->name) > 255))
		return req_fail(rq, 400, "'name' must be 1-255 characters");
	in->tags_json = in->has_tags ? json_to_text(rq->arena, tags) : "[]";
	in->roles_json = in->has_roles ? json_to_text(rq->arena, roles) : "[]";
	if (in->has_roles) {
		size_t n = roles->u.array.len;
		const char **uris = arena_alloc(rq->arena, (n ? n : 1) * sizeof *uris);
		for (size_t i = 0; i < n; i++)
			uris[i] = roles->u.array.values[i]->u.string;
		if ((st = roles_check(rq, (int)rq->ints[0], "defaultRoles", uris, n, NULL)))
			return st;
	}
	if (!in->has_max)
		in->max_unauthorised = -1;
	return 0;
}

static int space_answer(struct req *rq, int c, int s, int status)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_SPACE_GET], "ii", c, s);
	if (!r)
		return req_db_fail(rq, "reading the space");
	if (r->n == 0)
		return req_fail(rq, 404, "space %d not found", s);
	if (status == 201)
		req_header(rq, "Location", req_url(rq, "/customers/%d/spaces/%d", c, s));
	space_write(req_json(rq), rq, r, 0);
	return status;
}

static int name_conflict(struct req *rq, int c, int s, const char *name)
{
	struct db_rows *r =
		db_query(rq->app->db, rq->arena, SQL[SQL_SPACE_NAME_OWNER], "is", c, name);
	if (!r)
		return req_db_fail(rq, "checking the space name");
	if (r->n && db_int(r, 0, 0) != s)
		return req_fail(rq, 409, "a space named '%s' already exists", name);
	return 0;
}

int spaces_list(struct req *rq)
{
	int c = (int)rq->ints[0];
	int which = SQL_SPACES_BY_ID;
	const char *asc = req_query(rq, "orderBy"), *desc = req_query(rq, "orderByDescending");
	const char *field = asc ? asc : desc;
	if (field) {
		if (str_eq(field, "id"))
			which = SQL_SPACES_BY_ID;
		else if (str_eq(field, "name"))
			which = SQL_SPACES_BY_NAME;
		else if (str_eq(field, "created"))
			which = SQL_SPACES_BY_CREATED;
		else
			return req_fail(rq, 400,
					"cannot order spaces by '%s' (use id, name or created)",
					field);
		if (!asc)
			which++; /* each _DESC statement follows its ascending twin */
	}
	return customer_rows_page(rq, c, arena_printf(rq->arena, "/customers/%d/spaces", c),
				  SQL[SQL_SPACES_COUNT], SQL[which], space_write, "listing spaces");
}

/* Mints the next space id: the counter, moved past ids chosen with PUT.
 * 0 with *out set, 1 when every id is taken, -1 on a database error. */
static int next_space_id(struct req *rq, int c, int *out)
{
	struct db *db = rq->app->db;
	if (db_exec(db, SQL[SQL_COUNTER_ENSURE], "i", c) < 0)
		return -1;
	struct db_rows *r = db_query(db, rq->arena, SQL[SQL_COUNTER_LOCK], "i", c);
	if (!r || r->n != 1)
		return -1;
	long long next = db_int(r, 0, 0), max = db_int(r, 0, 1);
	if (next <= max)
		next = max + 1;
	if (next > 2147483647LL) {
		/* Someone chose the largest id with PUT: fill a gap instead. */
		struct db_rows *gap = db_query(db, rq->arena, SQL[SQL_SPACE_GAP], "i", c);
		if (!gap)
			return -1;
		if (db_isnull(gap, 0, 0))
			return 1;
		*out = (int)db_int(gap, 0, 0);
		return 0;
	}
	if (db_exec(db, SQL[SQL_COUNTER_SET], "li", next + 1, c) < 0)
		return -1;
	*out = (int)next;
	return 0;
}

/* The body of a POST: everything checked before the database is asked. */
static int space_create_read(struct req *rq, struct space_input *in)
{
	if (json_get(rq->json, "id") || json_get(rq->json, "@id"))
		return req_fail(rq, 400,
				"'id' is assigned by the platform: do not supply id or @id "
				"(use PUT to choose one)");
	int st = space_read(rq, in);
	if (st)
		return st;
	if (!in->has_name)
		return req_fail(rq, 400, "'name' is required");
	return 0;
}

int spaces_create(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct space_input in;
	int st = space_create_read(rq, &in);
	if (st)
		return st;
	if ((st = name_conflict(rq, c, -1, in.name)))
		return st;
	struct db *db = rq->app->db;
	int s = 0;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "creating the space");
	int minted = next_space_id(rq, c, &s);
	if (minted == 1)
		return req_fail(rq, 409, "no space id is free: choose one with PUT");
	if (minted != 0 || db_exec(db, SQL[SQL_SPACE_INSERT], "iisssl", c, s, in.name, in.tags_json,
				   in.roles_json, in.max_unauthorised) < 0)
		return req_db_fail(rq, "creating the space");
	if (db_commit(db) != DB_OK)
		return req_db_fail(rq, "creating the space");
	return space_answer(rq, c, s, 201);
}

int space_get(struct req *rq)
{
	return space_answer(rq, (int)rq->ints[0], (int)rq->ints[1], 200);
}

/* The body of a PUT (replace) or PATCH of space c/s: everything checked
 * before the database is asked. */
static int space_write_read(struct req *rq, int c, int s, bool replace, struct space_input *in)
{
	int st = body_id_agrees(rq, rq->json, req_url(rq, "/customers/%d/spaces/%d", c, s), NULL);
	if (st)
		return st;
	yajl_val idv = json_get(rq->json, "id");
	if (idv && (!json_is_int(idv) || idv->u.number.i != s))
		return req_fail(rq, 400, "'id' does not match the space in the URL");
	if ((st = space_read(rq, in)))
		return st;
	if (replace && !in->has_name)
		return req_fail(rq, 400, "'name' is required");
	return 0;
}

int space_body_check(struct req *rq, int c, int s, enum space_body mode)
{
	struct space_input in;
	if (mode == SPACE_BODY_CREATE)
		return space_create_read(rq, &in);
	return space_write_read(rq, c, s, mode == SPACE_BODY_PUT, &in);
}

/* PUT replaces (omitted optional fields reset); PATCH keeps omitted fields. */
static int space_write_body(struct req *rq, bool replace)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	struct space_input in;
	int st = space_write_read(rq, c, s, replace, &in);
	if (st)
		return st;
	struct db *db = rq->app->db;
	struct db_rows *cur = db_query(db, rq->arena, SQL[SQL_SPACE_GET], "ii", c, s);
	if (!cur)
		return req_db_fail(rq, "reading the space");
	bool exists = cur->n == 1;
	if (!exists && !replace)
		return req_fail(rq, 404, "space %d not found", s);
	if (!replace) {
		if (!in.has_name)
			in.name = db_str(cur, 0, COL_NAME);
		if (!in.has_tags)
			in.tags_json = db_str(cur, 0, COL_TAGS);
		if (!in.has_roles)
			in.roles_json = db_str(cur, 0, COL_ROLES);
		if (!in.has_max)
			in.max_unauthorised = db_int(cur, 0, COL_MAXUNAUTH);
	}
	if ((st = name_conflict(rq, c, s, in.name)))
		return st;
	long long rc;
	if (exists)
		rc = db_exec(db, SQL[SQL_SPACE_UPDATE], "sssiii", in.name, in.tags_json,
			     in.roles_json, (int)in.max_unauthorised, c, s);
	else
		rc = db_exec(db, SQL[SQL_SPACE_INSERT], "iisssl", c, s, in.name, in.tags_json,
			     in.roles_json, in.max_unauthorised);
	if (rc < 0) {
		if (db_last_err(db) == DB_EDUP)
			return req_fail(rq, 409, "a space named '%s' already exists", in.name);
		return req_db_fail(rq, "saving the space");
	}
	return space_answer(rq, c, s, exists ? 200 : 201);
}

int space_put(struct req *rq)
{
	return space_write_body(rq, true);
}

int space_patch(struct req *rq)
{
	return space_write_body(rq, false);
}

int space_delete(struct req *rq)
{
	int c = (int)rq->ints[0], s = (int)rq->ints[1];
	struct db *db = rq->app->db;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "deleting the space");
	struct db_rows *has = db_query(db, rq->arena, SQL[SQL_SPACE_HAS_ASSETS], "ii", c, s);
	if (!has)
		return req_db_fail(rq, "deleting the space");
	if (has->n)
		return req_fail(rq, 409, "space %d still holds assets: delete them first", s);
	if (db_exec(db, SQL[SQL_SPACE_DELETE_DEFAULTS], "ii", c, s) < 0 ||
	    db_exec(db, SQL[SQL_SPACE_DELETE], "ii", c, s) < 0 || db_commit(db) != DB_OK)
		return req_db_fail(rq, "deleting the space");
	return 204;
}
