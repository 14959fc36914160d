/* The default delivery channels of a customer
 * (/customers/{c}/defaultDeliveryChannels) and of a space
 * (/customers/{c}/spaces/{s}/defaultDeliveryChannels): (mediaType glob,
 * channel, policy) rows that channels_resolve (channels.c) applies to an
 * asset without channels of its own. Space 0 is the customer level. */
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
	Q_DDC_COUNT,
	Q_DDC_PAGE,
	Q_DDC_GET,
	Q_DDC_LOCK,
	Q_DDC_INSERT,
	Q_DDC_UPDATE,
	Q_DDC_DELETE,
	Q__MAX
};

static const char *const sql[Q__MAX] = {
	[Q_DDC_COUNT] = "SELECT COUNT(*) FROM default_delivery_channels"
			" WHERE customer_id = ? AND space_id = ?",
	[Q_DDC_PAGE] = "SELECT id, media_type, channel, policy FROM default_delivery_channels"
		       " WHERE customer_id = ? AND space_id = ?"
		       " ORDER BY media_type, channel, id LIMIT ? OFFSET ?",
	[Q_DDC_GET] = "SELECT id, media_type, channel, policy FROM default_delivery_channels"
		      " WHERE customer_id = ? AND space_id = ? AND id = ?",
	[Q_DDC_LOCK] = "SELECT id FROM default_delivery_channels"
		       " WHERE customer_id = ? AND space_id = ? AND id = ? FOR UPDATE",
	/* (id, customer, space, media_type, channel, policy) */
	[Q_DDC_INSERT] = "INSERT INTO default_delivery_channels"
			 " (id, customer_id, space_id, media_type, channel, policy)"
			 " VALUES (?, ?, ?, ?, ?, ?)",
	/* (media_type, channel, policy, customer, space, id) */
	[Q_DDC_UPDATE] =
		"UPDATE default_delivery_channels SET media_type = ?, channel = ?, policy = ?"
		" WHERE customer_id = ? AND space_id = ? AND id = ?",
	[Q_DDC_DELETE] = "DELETE FROM default_delivery_channels"
			 " WHERE customer_id = ? AND space_id = ? AND id = ?",
};

static struct db *dbh(struct req *rq)
{
	return rq->app->db;
}

static int cust_arg(const struct req *rq)
{
	return (int)rq->ints[0];
}

/* The level of a default's path: 0 for the customer's
 * (/customers/{c}/defaultDeliveryChannels[/{id}]), else the space of
 * /customers/{c}/spaces/{s}/defaultDeliveryChannels[/{id}], which the core
 * found (R_SPACE); space ids start at 1, so a space's rows never mix with
 * the customer's. The id of a default is strs[0] on both levels. */
static int path_level(const struct req *rq)
{
	return rq->nints > 1 ? (int)rq->ints[1] : 0;
}

/* space 0 is the customer level. */
static const char *ddc_path(struct req *rq, int c, int s)
{
	return s ? arena_printf(rq->arena, "/customers/%d/spaces/%d/defaultDeliveryChannels", c, s)
		 : arena_printf(rq->arena, "/customers/%d/defaultDeliveryChannels", c);
}

static void ddc_write(struct jw *w, struct req *rq, int c, int s, const struct db_rows *r, size_t i)
{
	int ch = channel_parse(db_str(r, i, 2));

	resource_begin(w, req_url(rq, "%s/%s", ddc_path(rq, c, s), db_str(r, i, 0)),
		       "vocab:DefaultDeliveryChannel");
	jw_kstr(w, "channel", db_str(r, i, 2));
	jw_kstr(w, "policy",
		ch < 0 ? db_str(r, i, 3) : channel_policy_ref(rq, c, ch, db_str(r, i, 3)));
	jw_kstr(w, "mediaType", db_str(r, i, 1));
	jw_obj_end(w);
}

/* The {id} of a default (strs[0] on both levels): 400 unless a UUID. */
static int ddc_id(struct req *rq, const char **id)
{
	*id = rq->strs[0];
	if (!uuid_valid(*id))
		return req_fail(rq, 400, "default delivery channel id '%s' is not a UUID", *id);
	return 0;
}

static int ddc_answer(struct req *rq, int c, int s, const char *id, int status)
{
	struct db_rows *r = db_query(dbh(rq), rq->arena, sql[Q_DDC_GET], "iis", c, s, id);

	if (!r)
		return req_db_fail(rq, "reading a default delivery channel");
	if (r->n == 0)
		return req_fail(rq, 404, "default delivery channel %s not found", id);
	if (status == 201)
		req_header(rq, "Location", req_url(rq, "%s/%s", ddc_path(rq, c, s), id));
	ddc_write(req_json(rq), rq, c, s, r, 0);
	return status;
}

struct ddc_in {
	enum channel ch;
	const char *policy; /* the bare name */
	const char *media_type;
};

/* Reads {channel, policy, mediaType}, all required (POST and PUT replace the
 * whole default). id_url/id: the resource a PUT names (NULL on POST, where an
 * id in the body is refused: the server mints it). */
static int ddc_body(struct req *rq, int c, const char *id_url, const char *id, struct ddc_in *in)
{
	static const char *const allowed[] = {"@context", "@type",  "@id",       "id",
					      "channel",  "policy", "mediaType", NULL};
	static const char *const ids[] = {"@id", "id", NULL};
	yajl_val b = rq->json;
	const char *chan;
	int ch, st;

	if ((st = jin_only_keys(rq, b, allowed)))
		return st;
	if (id_url)
		st = body_id_agrees(rq, b, id_url, id);
	else
		st = jin_forbid_keys(rq, b, ids, "is minted by the server");
	if (st || (st = jin_str_req(rq, b, "channel", &chan)) ||
	    (st = jin_str_req(rq, b, "policy", &in->policy)) ||
	    (st = jin_str_req(rq, b, "mediaType", &in->media_type)))
		return st;
	ch = channel_parse(chan);
	if (ch < 0 || ch == CH_DEFAULT)
		return req_fail(rq, 400, "'channel': unknown delivery channel '%s'", chan);
	in->ch = ch;
	if (!media_pattern_valid(in->media_type))
		return req_fail(rq, 400,
				"'mediaType' must be 1-255 printable characters without spaces");
	if (!channel_pattern_ok(ch, in->media_type))
		return req_fail(rq, 400, "'mediaType' '%s' never suits channel '%s'",
				in->media_type, channel_name(ch));
	in->policy = policy_ref_name(in->policy);
	if (!*in->policy)
		return req_fail(rq, 400, "'policy' names no policy");
	return channel_policy_require(rq, c, ch, in->policy, "policy");
}

static int ddc_conflict(struct req *rq, const struct ddc_in *in)
{
	return req_fail(rq, 409,
			"a default delivery channel for mediaType '%s' and channel '%s' already "
			"exists",
			in->media_type, channel_name(in->ch));
}

int ddc_list(struct req *rq)
{
	int c = cust_arg(rq), s = path_level(rq);
	struct page p;
	struct db_rows *r;
	const char *path;
	struct jw *w;

	page_from_query(rq, &p);
	r = db_query(dbh(rq), rq->arena, sql[Q_DDC_COUNT], "ii", c, s);
	if (!r)
		return req_db_fail(rq, "counting default delivery channels");
	p.total = db_int(r, 0, 0);
	r = db_query(dbh(rq), rq->arena, sql[Q_DDC_PAGE], "iill", c, s, p.size, page_offset(&p));
	if (!r)
		return req_db_fail(rq, "listing default delivery channels");
	path = ddc_path(rq, c, s);
	w = req_json(rq);
	collection_begin(w, rq, path, &p);
	for (size_t i = 0; i < r->n; i++)
		ddc_write(w, rq, c, s, r, i);
	collection_end(w, rq, path, &p);
	return 200;
}

int ddc_create(struct req *rq)
{
	int c = cust_arg(rq), s = path_level(rq);
	struct ddc_in in;
	char id[37];
	long long r;
	int st;

	if ((st = ddc_body(rq, c, NULL, NULL, &in)))
		return st;
	uuid_make(id);
	r = db_exec(dbh(rq), sql[Q_DDC_INSERT], "siisss", id, c, s, in.media_type,
		    channel_name(in.ch), in.policy);
	if (r == DB_EDUP)
		return ddc_conflict(rq, &in);
	if (r < 0)
		return req_db_fail(rq, "creating a default delivery channel");
	return ddc_answer(rq, c, s, id, 201);
}

int ddc_get(struct req *rq)
{
	int c = cust_arg(rq), s = path_level(rq);
	const char *id;
	int st;

	if ((st = ddc_id(rq, &id)))
		return st;
	return ddc_answer(rq, c, s, id, 200);
}

int ddc_put(struct req *rq)
{
	int c = cust_arg(rq), s = path_level(rq);
	struct ddc_in in;
	struct db_rows *cur;
	const char *id;
	long long r;
	int st;

	if ((st = ddc_id(rq, &id)))
		return st;
	cur = db_query(dbh(rq), rq->arena, sql[Q_DDC_GET], "iis", c, s, id);
	if (!cur)
		return req_db_fail(rq, "reading a default delivery channel");
	if (cur->n == 0)
		return req_fail(rq, 404, "default delivery channel %s not found", id);
	if ((st = ddc_body(rq, c, req_url(rq, "%s/%s", ddc_path(rq, c, s), id), id, &in)))
		return st;

	if (db_begin(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "updating a default delivery channel");
	cur = db_query(dbh(rq), rq->arena, sql[Q_DDC_LOCK], "iis", c, s, id);
	if (!cur)
		return req_db_fail(rq, "updating a default delivery channel");
	if (cur->n == 0) /* deleted meanwhile */
		return req_fail(rq, 404, "default delivery channel %s not found", id);
	r = db_exec(dbh(rq), sql[Q_DDC_UPDATE], "sssiis", in.media_type, channel_name(in.ch),
		    in.policy, c, s, id);
	if (r == DB_EDUP)
		return ddc_conflict(rq, &in);
	if (r < 0)
		return req_db_fail(rq, "updating a default delivery channel");
	if (db_commit(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "updating a default delivery channel");
	return ddc_answer(rq, c, s, id, 200);
}

int ddc_delete(struct req *rq)
{
	int c = cust_arg(rq), s = path_level(rq);
	const char *id;
	long long r;
	int st;

	if ((st = ddc_id(rq, &id)))
		return st;
	r = db_exec(dbh(rq), sql[Q_DDC_DELETE], "iis", c, s, id);
	if (r < 0)
		return req_db_fail(rq, "deleting a default delivery channel");
	if (r == 0)
		return req_fail(rq, 404, "default delivery channel %s not found", id);
	return 204;
}
