#include <string.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/customer.h"
#include "asset/store.h"
#include "asset/settings.h"
#include "banned.h"

enum {
	SQL_CUSTOMER_GET,
	SQL_CUSTOMERS_COUNT,
	SQL_CUSTOMERS_LIST,
	SQL_CUSTOMER_SET_DISPLAY,
	SQL_CUSTOMER_NAME_TAKEN,
	SQL__MAX
};

#define CUSTOMER_COLS "id, name, display_name, created, is_admin"
enum { COL_ID, COL_NAME, COL_DISPLAY, COL_CREATED, COL_ADMIN };

static const char *const SQL[SQL__MAX] = {
	[SQL_CUSTOMER_GET] = "SELECT " CUSTOMER_COLS " FROM customers WHERE id = ?",
	[SQL_CUSTOMERS_COUNT] = "SELECT COUNT(*) FROM customers",
	[SQL_CUSTOMERS_LIST] =
		"SELECT " CUSTOMER_COLS " FROM customers ORDER BY id LIMIT ? OFFSET ?",
	[SQL_CUSTOMER_SET_DISPLAY] = "UPDATE customers SET display_name = ? WHERE id = ?",
	[SQL_CUSTOMER_NAME_TAKEN] = "SELECT 1 FROM customers WHERE name = ?",
};

/* Links of the Customer resource, each "{@id}/{name}". */
static const char *const CUSTOMER_LINKS[] = {
	"spaces",
	"allImages",
	"queue",
	"storage",
	"keys",
	"namedQueries",
	"originStrategies",
	"deliveryChannelPolicies",
	"defaultDeliveryChannels",
	"customHeaders",
	"authServices",
	"roleProviders",
	"roles",
	"portalUsers",
	"iiif",
	NULL,
};

static void customer_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	const char *id = req_url(rq, "/customers/%s", db_str(r, i, COL_ID));
	resource_begin(w, id, "vocab:Customer");
	jw_kint(w, "id", db_int(r, i, COL_ID));
	jw_kstr(w, "name", db_str(r, i, COL_NAME));
	jw_kstr(w, "displayName", db_str(r, i, COL_DISPLAY));
	jw_kstr(w, "created", db_time(rq->arena, r, i, COL_CREATED));
	jw_kbool(w, "administrator", db_int(r, i, COL_ADMIN) != 0);
	for (const char *const *l = CUSTOMER_LINKS; *l; l++)
		jw_kstr(w, *l, arena_printf(rq->arena, "%s/%s", id, *l));
	jw_obj_end(w);
}

int customers_list(struct req *rq)
{
	struct page p;
	page_from_query(rq, &p);
	struct db *db = rq->app->db;
	struct db_rows *n = db_query(db, rq->arena, SQL[SQL_CUSTOMERS_COUNT], "");
	struct db_rows *r =
		n ? db_query(db, rq->arena, SQL[SQL_CUSTOMERS_LIST], "ll", p.size, page_offset(&p))
		  : NULL;
	if (!r)
		return req_db_fail(rq, "listing customers");
	p.total = db_int(n, 0, 0);
	struct jw *w = req_json(rq);
	collection_begin(w, rq, "/customers", &p);
	for (size_t i = 0; i < r->n; i++)
		customer_write(w, rq, r, i);
	collection_end(w, rq, "/customers", &p);
	return 200;
}

int customers_create(struct req *rq)
{
	static const char *const allowed[] = {"@context", "@type", "name", "displayName", NULL};
	const char *name = NULL, *display = NULL;
	bool has_display;
	int st;
	if ((st = jin_only_keys(rq, rq->json, allowed)) ||
	    (st = jin_str_req(rq, rq->json, "name", &name)) ||
	    (st = jin_str(rq, rq->json, "displayName", &display, &has_display)))
		return st;
	if (!customer_name_valid(name))
		return req_fail(rq, 400, "'name' must be 1-60 characters of A-Z a-z 0-9 _ . -");
	if (str_ieq(name, "admin"))
		return req_fail(rq, 400, "'name' \"admin\" is reserved");
	if (strspn(name, "0123456789") == strlen(name))
		return req_fail(rq, 400,
				"'name' must not be all digits: delivery URLs take a "
				"customer's id or name in the same place");
	if (!has_display)
		display = name;
	if (strlen(display) == 0 || strlen(display) > 255)
		return req_fail(rq, 400, "'displayName' must be 1-255 characters");

	struct db *db = rq->app->db;
	struct db_rows *taken = db_query(db, rq->arena, SQL[SQL_CUSTOMER_NAME_TAKEN], "s", name);
	if (!taken)
		return req_db_fail(rq, "creating the customer");
	if (taken->n)
		return req_fail(rq, 409, "a customer named '%s' already exists", name);
	int id = 0;
	if (db_begin(db) != DB_OK)
		return req_db_fail(rq, "creating the customer");
	int rc = customer_insert(db, rq->arena, 0, name, display, false, &id);
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc == DB_EDUP)
		return req_fail(rq, 409, "a customer named '%s' already exists", name);
	if (rc != DB_OK)
		return req_db_fail(rq, "creating the customer");
	/* Delivery: /iiif-img/{name}/... reaches the customer's public links. */
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	if (store_publish_name(rq->arena, root, id, name) != 0)
		log_warn("customer %d: cannot link public/*/%s under %s", id, name, root);

	struct db_rows *r = db_query(db, rq->arena, SQL[SQL_CUSTOMER_GET], "i", id);
	if (!r || r->n != 1)
		return req_db_fail(rq, "reading the new customer");
	req_header(rq, "Location", req_url(rq, "/customers/%d", id));
	customer_write(req_json(rq), rq, r, 0);
	return 201;
}

int customer_get(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_CUSTOMER_GET], "i", c);
	if (!r)
		return req_db_fail(rq, "reading the customer");
	if (r->n == 0)
		return req_fail(rq, 404, "customer %d not found", c);
	customer_write(req_json(rq), rq, r, 0);
	return 200;
}

int customer_patch(struct req *rq)
{
	int c = (int)rq->ints[0];
	struct db *db = rq->app->db;
	int st = body_id_agrees(rq, rq->json, req_url(rq, "/customers/%d", c), NULL);
	if (st)
		return st;
	for (size_t i = 0; i < rq->json->u.object.len; i++) {
		const char *k = rq->json->u.object.keys[i];
		if (strcmp(k, "displayName") && strcmp(k, "@context") && strcmp(k, "@type") &&
		    strcmp(k, "@id"))
			return req_fail(rq, 400, "'%s' cannot be changed: only displayName can", k);
	}
	const char *display = NULL;
	bool present;
	if ((st = jin_str(rq, rq->json, "displayName", &display, &present)))
		return st;
	if (present) {
		if (strlen(display) == 0 || strlen(display) > 255)
			return req_fail(rq, 400, "'displayName' must be 1-255 characters");
		if (db_exec(db, SQL[SQL_CUSTOMER_SET_DISPLAY], "si", display, c) < 0)
			return req_db_fail(rq, "updating the customer");
	}
	return customer_get(rq);
}
