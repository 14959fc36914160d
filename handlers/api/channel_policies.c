/* A customer's delivery channel policies
 * (/customers/{c}/deliveryChannelPolicies[/{channel}[/{name}]]): thumbs and
 * iiif-av policies belong to the customer; the system policies of customer 0
 * (iiif-img/default, iiif-img/use-original, file/none, none/none) are shown
 * and named but not changed. The rules of names and policy data are
 * asset/channel_rules.h's. */
#include <string.h>
#include <yajl/yajl_tree.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "api/channels.h"
#include "api/common.h"
#include "api/handlers.h"
#include "asset/channel_rules.h"
#include "banned.h"

enum stmt {
	Q_POLICIES_LIST,
	Q_POLICY_GET,
	Q_POLICY_LOCK,
	Q_POLICY_INSERT,
	Q_POLICY_UPDATE,
	Q_POLICY_DELETE,
	Q_POLICY_USED_BY_DEFAULT,
	Q_POLICY_USED_BY_ASSET,
	Q__MAX
};

static const char *const sql[Q__MAX] = {
	[Q_POLICIES_LIST] = "SELECT name, display_name, policy_data, created, modified"
			    " FROM delivery_channel_policies WHERE customer_id = ? AND channel = ?"
			    " ORDER BY name",
	[Q_POLICY_GET] = "SELECT name, display_name, policy_data, created, modified"
			 " FROM delivery_channel_policies"
			 " WHERE customer_id = ? AND channel = ? AND name = ?",
	[Q_POLICY_LOCK] = "SELECT name FROM delivery_channel_policies"
			  " WHERE customer_id = ? AND channel = ? AND name = ? FOR UPDATE",
	/* (customer, channel, name, display_name, policy_data) */
	[Q_POLICY_INSERT] =
		"INSERT INTO delivery_channel_policies"
		" (customer_id, channel, name, display_name, policy_data, created, modified)"
		" VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
	/* (display_name, policy_data, customer, channel, name) */
	[Q_POLICY_UPDATE] = "UPDATE delivery_channel_policies"
			    " SET display_name = ?, policy_data = ?, modified = UTC_TIMESTAMP(6)"
			    " WHERE customer_id = ? AND channel = ? AND name = ?",
	[Q_POLICY_DELETE] = "DELETE FROM delivery_channel_policies"
			    " WHERE customer_id = ? AND channel = ? AND name = ?",
	[Q_POLICY_USED_BY_DEFAULT] =
		"SELECT id, space_id, media_type FROM default_delivery_channels"
		" WHERE customer_id = ? AND channel = ? AND policy = ? LIMIT 1",
	/* Deleting a policy is rare; the customer prefix of the key bounds the scan. */
	[Q_POLICY_USED_BY_ASSET] = "SELECT space_id, id FROM assets WHERE customer_id = ?"
				   " AND JSON_CONTAINS(delivery_channels,"
				   " JSON_OBJECT('channel', ?, 'policy', ?)) LIMIT 1",
};

static struct db *dbh(struct req *rq)
{
	return rq->app->db;
}

static int cust_arg(const struct req *rq)
{
	return (int)rq->ints[0];
}

/* The {channel} of a policy path: one of the four policy collections
 * ("thumbnail" meaning "thumbs"); 404 otherwise. */
static int path_channel(struct req *rq, enum channel *ch)
{
	int c = channel_parse(rq->strs[0]);

	if (c < 0 || !channel_has_policies(c))
		return req_fail(rq, 404, "delivery channel '%s' not found", rq->strs[0]);
	*ch = c;
	return 0;
}

static void policy_write(struct jw *w, struct req *rq, int c, enum channel ch,
			 const struct db_rows *r, size_t i)
{
	const char *name = db_str(r, i, 0);

	resource_begin(w, channel_policy_url(rq, c, ch, name), "vocab:DeliveryChannelPolicy");
	jw_kstr(w, "id", name);
	jw_kstr(w, "name", name);
	jw_kstr(w, "displayName", db_str(r, i, 1));
	jw_kstr(w, "channel", channel_name(ch));
	jw_kstr_opt(w, "policyData", db_str(r, i, 2));
	jw_kstr_opt(w, "policyCreated", db_time(rq->arena, r, i, 3));
	jw_kstr_opt(w, "policyModified", db_time(rq->arena, r, i, 4));
	jw_obj_end(w);
}

/* Answers 200 (or `status`) with the stored policy c/ch/name. */
static int policy_answer(struct req *rq, int c, enum channel ch, const char *name, int status)
{
	struct db_rows *r =
		db_query(dbh(rq), rq->arena, sql[Q_POLICY_GET], "iss", c, channel_name(ch), name);

	if (!r)
		return req_db_fail(rq, "reading a delivery channel policy");
	if (r->n == 0)
		return req_fail(rq, 404, "delivery channel policy '%s/%s' not found",
				channel_name(ch), name);
	if (status == 201)
		req_header(rq, "Location", channel_policy_url(rq, c, ch, name));
	policy_write(req_json(rq), rq, c, ch, r, 0);
	return status;
}

struct policy_in {
	const char *name;    /* from "name" or "id", NULL when absent */
	const char *display; /* NULL when absent */
	const char *data;    /* policyData text to store, NULL when absent */
};

/* Reads a policy body for channel ch. path_name: the {name} of the path
 * (NULL on POST), which a name in the body must agree with. */
static int policy_body(struct req *rq, enum channel ch, const char *path_name, struct policy_in *in)
{
	static const char *const allowed[] = {"@context",    "@type",   "@id",        "id", "name",
					      "displayName", "channel", "policyData", NULL};
	static const char *const readonly[] = {"policyCreated", "policyModified", NULL};
	yajl_val b = rq->json, pd, arr;
	const char *id = NULL, *chan = NULL, *why;
	bool has;
	int st;

	memset(in, 0, sizeof *in);
	if ((st = jin_forbid_keys(rq, b, readonly, "is set by the server")) ||
	    (st = jin_only_keys(rq, b, allowed)) || (st = jin_str(rq, b, "id", &id, &has)) ||
	    (st = jin_str(rq, b, "name", &in->name, &has)) ||
	    (st = jin_str(rq, b, "channel", &chan, &has)) ||
	    (st = jin_str(rq, b, "displayName", &in->display, &has)))
		return st;
	if (id && in->name && strcmp(id, in->name) != 0)
		return req_fail(rq, 400, "'id' and 'name' disagree");
	if (!in->name)
		in->name = id;
	if (path_name && in->name && strcmp(in->name, path_name) != 0)
		return req_fail(rq, 400, "'name' '%s' does not match the path ('%s')", in->name,
				path_name);
	if (chan && channel_parse(chan) != (int)ch)
		return req_fail(rq, 400, "'channel' '%s' does not match the path ('%s')", chan,
				channel_name(ch));
	if (in->name && !policy_name_valid(in->name))
		return req_fail(rq, 400,
				"'name' must be 1-100 characters of lower-case letters, digits, "
				"'.', '_' and '-'");
	if (in->display && strlen(in->display) > 255)
		return req_fail(rq, 400, "'displayName' is longer than 255 characters");

	pd = json_get(b, "policyData");
	if (!pd || YAJL_IS_NULL(pd))
		return 0;
	if (YAJL_IS_STRING(pd)) {
		const char *err;
		arr = json_parse(rq->arena, pd->u.string, strlen(pd->u.string), &err);
		if (!arr)
			return req_fail(rq, 400, "'policyData' is not valid JSON: %s", err);
		in->data = pd->u.string;
	} else if (YAJL_IS_ARRAY(pd)) {
		arr = pd;
		in->data = json_to_text(rq->arena, pd);
	} else {
		return req_fail(rq, 400, "'policyData' must be a string holding a JSON array");
	}
	if ((why = policy_data_check(ch, arr)))
		return req_fail(rq, 400, "'policyData' %s", why);
	if (!in->data)
		return req_fail(rq, 400, "'policyData' is not valid UTF-8");
	return 0;
}

/* 400 unless customers may hold policies of ch (thumbs, iiif-av). */
static int policy_channel_writable(struct req *rq, enum channel ch)
{
	if (!channel_customer_policies(ch))
		return req_fail(rq, 400,
				"channel '%s' only has system policies; customer policies are for "
				"'thumbs' and 'iiif-av'",
				channel_name(ch));
	return 0;
}

int dc_policy_collections(struct req *rq)
{
	static const struct {
		enum channel ch;
		const char *title;
	} folders[] = {
		{CH_IIIF_IMG, "Policies for IIIF Image service delivery"},
		{CH_THUMBS, "Policies for thumbnails as IIIF Image Services"},
		{CH_IIIF_AV, "Policies for Audio and Video delivery"},
		{CH_FILE, "Policies for File delivery"},
	};
	int c = cust_arg(rq);
	const char *path;
	struct jw *w;

	path = arena_printf(rq->arena, "/customers/%d/deliveryChannelPolicies", c);
	w = req_json(rq);
	collection_begin_all(w, rq, path, (long long)(sizeof folders / sizeof folders[0]));
	for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
		jw_obj(w);
		jw_kstr(w, "@id", req_url(rq, "%s/%s", path, channel_name(folders[i].ch)));
		jw_kstr(w, "@type", "Collection");
		jw_kstr(w, "title", folders[i].title);
		jw_obj_end(w);
	}
	collection_end_all(w);
	return 200;
}

int dc_policies_list(struct req *rq)
{
	int c = cust_arg(rq), st;
	enum channel ch = CH__MAX;
	struct db_rows *r;
	struct jw *w;

	if ((st = path_channel(rq, &ch)))
		return st;
	r = db_query(dbh(rq), rq->arena, sql[Q_POLICIES_LIST], "is", c, channel_name(ch));
	if (!r)
		return req_db_fail(rq, "listing delivery channel policies");
	w = req_json(rq);
	collection_begin_all(w, rq,
			     arena_printf(rq->arena, "/customers/%d/deliveryChannelPolicies/%s", c,
					  channel_name(ch)),
			     (long long)r->n);
	for (size_t i = 0; i < r->n; i++)
		policy_write(w, rq, c, ch, r, i);
	collection_end_all(w);
	return 200;
}

int dc_policies_create(struct req *rq)
{
	int c = cust_arg(rq), st;
	enum channel ch = CH__MAX;
	struct policy_in in;
	long long r;

	if ((st = path_channel(rq, &ch)) || (st = policy_channel_writable(rq, ch)) ||
	    (st = policy_body(rq, ch, NULL, &in)))
		return st;
	if (!in.name)
		return req_fail(rq, 400, "'name' (or 'id') is required");
	if (!in.data)
		return req_fail(rq, 400, "'policyData' is required");
	if ((st = body_id_agrees(rq, rq->json, channel_policy_url(rq, c, ch, in.name), in.name)))
		return st;
	r = db_exec(dbh(rq), sql[Q_POLICY_INSERT], "issss", c, channel_name(ch), in.name,
		    in.display ? in.display : in.name, in.data);
	if (r == DB_EDUP)
		return req_fail(rq, 409, "delivery channel policy '%s/%s' already exists",
				channel_name(ch), in.name);
	if (r < 0)
		return req_db_fail(rq, "creating a delivery channel policy");
	return policy_answer(rq, c, ch, in.name, 201);
}

int dc_policy_get(struct req *rq)
{
	int c = cust_arg(rq), st;
	enum channel ch = CH__MAX;

	if ((st = path_channel(rq, &ch)))
		return st;
	return policy_answer(rq, c, ch, rq->strs[1], 200);
}

int dc_policy_put(struct req *rq)
{
	int c = cust_arg(rq), st;
	const char *name = rq->strs[1];
	enum channel ch = CH__MAX;
	struct policy_in in;
	struct db_rows *cur;
	long long r;

	if ((st = path_channel(rq, &ch)) || (st = policy_channel_writable(rq, ch)))
		return st;
	if (!policy_name_valid(name))
		return req_fail(rq, 400,
				"policy name '%s' must be 1-100 characters of lower-case letters, "
				"digits, '.', '_' and '-'",
				name);
	if ((st = policy_body(rq, ch, name, &in)) ||
	    (st = body_id_agrees(rq, rq->json, channel_policy_url(rq, c, ch, name), name)))
		return st;
	if (!in.data)
		return req_fail(rq, 400, "'policyData' is required");

	if (db_begin(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "storing a delivery channel policy");
	cur = db_query(dbh(rq), rq->arena, sql[Q_POLICY_LOCK], "iss", c, channel_name(ch), name);
	if (!cur)
		return req_db_fail(rq, "storing a delivery channel policy");
	if (cur->n)
		r = db_exec(dbh(rq), sql[Q_POLICY_UPDATE], "ssiss", in.display ? in.display : name,
			    in.data, c, channel_name(ch), name);
	else
		r = db_exec(dbh(rq), sql[Q_POLICY_INSERT], "issss", c, channel_name(ch), name,
			    in.display ? in.display : name, in.data);
	if (r < 0)
		return req_db_fail(rq, "storing a delivery channel policy");
	if (db_commit(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "storing a delivery channel policy");
	return policy_answer(rq, c, ch, name, cur->n ? 200 : 201);
}

int dc_policy_patch(struct req *rq)
{
	int c = cust_arg(rq), st;
	const char *name = rq->strs[1];
	enum channel ch = CH__MAX;
	struct policy_in in;
	struct db_rows *cur;

	if ((st = path_channel(rq, &ch)))
		return st;
	/* An unknown policy is a 404 whatever the body says. */
	cur = db_query(dbh(rq), rq->arena, sql[Q_POLICY_GET], "iss", c, channel_name(ch), name);
	if (!cur)
		return req_db_fail(rq, "reading a delivery channel policy");
	if (cur->n == 0)
		return req_fail(rq, 404, "delivery channel policy '%s/%s' not found",
				channel_name(ch), name);
	if ((st = policy_channel_writable(rq, ch)) || (st = policy_body(rq, ch, name, &in)) ||
	    (st = body_id_agrees(rq, rq->json, channel_policy_url(rq, c, ch, name), name)))
		return st;
	if (in.display || in.data) {
		long long r =
			db_exec(dbh(rq), sql[Q_POLICY_UPDATE], "ssiss",
				in.display ? in.display : db_str(cur, 0, 1),
				in.data ? in.data : db_str(cur, 0, 2), c, channel_name(ch), name);
		if (r < 0)
			return req_db_fail(rq, "updating a delivery channel policy");
	}
	return policy_answer(rq, c, ch, name, 200);
}

int dc_policy_delete(struct req *rq)
{
	int c = cust_arg(rq), st;
	const char *name = rq->strs[1];
	enum channel ch = CH__MAX;
	struct db_rows *r;
	long long n;

	if ((st = path_channel(rq, &ch)))
		return st;
	if (db_begin(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "deleting a delivery channel policy");
	r = db_query(dbh(rq), rq->arena, sql[Q_POLICY_LOCK], "iss", c, channel_name(ch), name);
	if (!r)
		return req_db_fail(rq, "deleting a delivery channel policy");
	if (r->n == 0)
		return req_fail(rq, 404, "delivery channel policy '%s/%s' not found",
				channel_name(ch), name);
	/* A policy still named by a default or an asset stays: deleting it would
	 * leave them pointing at nothing. */
	r = db_query(dbh(rq), rq->arena, sql[Q_POLICY_USED_BY_DEFAULT], "iss", c, channel_name(ch),
		     name);
	if (!r)
		return req_db_fail(rq, "deleting a delivery channel policy");
	if (r->n)
		return req_fail(
			rq, 409,
			"delivery channel policy '%s/%s' is still in use by default delivery "
			"channel %s (mediaType '%s')",
			channel_name(ch), name, db_str(r, 0, 0), db_str(r, 0, 2));
	r = db_query(dbh(rq), rq->arena, sql[Q_POLICY_USED_BY_ASSET], "iss", c, channel_name(ch),
		     name);
	if (!r)
		return req_db_fail(rq, "deleting a delivery channel policy");
	if (r->n)
		return req_fail(rq, 409,
				"delivery channel policy '%s/%s' is still in use by asset %d/%s",
				channel_name(ch), name, (int)db_int(r, 0, 0), db_str(r, 0, 1));
	n = db_exec(dbh(rq), sql[Q_POLICY_DELETE], "iss", c, channel_name(ch), name);
	if (n < 0)
		return req_db_fail(rq, "deleting a delivery channel policy");
	if (db_commit(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "deleting a delivery channel policy");
	return 204;
}
