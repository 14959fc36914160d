/* Delivery channels: what an asset's "deliveryChannels" may say and what it
 * resolves to (channels_resolve), the customer's delivery channel policies
 * (/customers/{c}/deliveryChannelPolicies/...) and the default delivery
 * channels chosen by mediaType (/customers/{c}[/spaces/{s}]/defaultDeliveryChannels).
 *
 * Storage: a policy is (customer, channel, name); customer 0 holds the
 * system policies (iiif-img/default, iiif-img/use-original, file/none,
 * none/none) that every customer may name, while thumbs and iiif-av policies
 * belong to one customer. Asset channels are stored as JSON text
 * [{"channel","policy"}] with the policy's bare name; whether it is a system
 * policy follows from the channel, so output needs no lookup. A default is
 * (customer, space, mediaType glob, channel, policy name); space 0 is the
 * customer level. */
#include <string.h>
#include <yajl/yajl_tree.h>

#include "app.h"
#include "arena.h"
#include "asset/channel_rules.h"
#include "api/channels.h"
#include "api/common.h"
#include "db.h"
#include "api/handlers.h"
#include "ids.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "banned.h"

enum stmt {
	Q_POLICY_EXISTS,
	Q_DEFAULTS_FOR,
	Q_POLICIES_LIST,
	Q_POLICY_GET,
	Q_POLICY_LOCK,
	Q_POLICY_INSERT,
	Q_POLICY_UPDATE,
	Q_POLICY_DELETE,
	Q_POLICY_USED_BY_DEFAULT,
	Q_POLICY_USED_BY_ASSET,
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
	/* (customer, channel, name): the customer's own policy or a system one. */
	[Q_POLICY_EXISTS] = "SELECT customer_id FROM delivery_channel_policies"
			    " WHERE customer_id IN (?, 0) AND channel = ? AND name = ? LIMIT 1",
	/* (customer, space): the defaults in matching order, space level first,
	 * then the longest (most specific) pattern. */
	[Q_DEFAULTS_FOR] =
		"SELECT media_type, channel, policy FROM default_delivery_channels"
		" WHERE customer_id = ? AND space_id IN (?, 0)"
		" ORDER BY space_id DESC, CHAR_LENGTH(media_type) DESC, media_type, channel",
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

/* What a new customer gets (Protagonist copies the same from its admin customer). */
static const struct {
	const char *channel, *name, *display_name, *data;
} seed_policies[] = {
	{"thumbs", "default", "Default thumbnail sizes",
	 "[\"!1024,1024\",\"!400,400\",\"!200,200\",\"!100,100\"]"},
	{"iiif-av", "default-audio", "Default audio transcode", "[\"audio-mp3-128\"]"},
	{"iiif-av", "default-video", "Default video transcode", "[\"video-mp4-720p\"]"},
};

static const struct {
	const char *media_type, *channel, *policy;
} seed_defaults[] = {
	{"image/*", "iiif-img", "default"},      {"image/*", "thumbs", "default"},
	{"audio/*", "iiif-av", "default-audio"}, {"video/*", "iiif-av", "default-video"},
	{"application/*", "file", "none"},
};

/* The policy a channel named without one gets when no default supplies it;
 * NULL: the client must say (iiif-av has no neutral choice). */
static const char *const fallback_policy[CH__MAX] = {
	[CH_FILE] = "none",
	[CH_IIIF_IMG] = "default",
	[CH_NONE] = "none",
	[CH_THUMBS] = "default",
};

static struct db *dbh(struct req *rq)
{
	return rq->app->db;
}

/* The error for the database's last failure, after rolling back the
 * transaction this file opened. */
static int txn_fail(struct req *rq, const char *what)
{
	int st = req_db_fail(rq, what);
	db_rollback(dbh(rq));
	return st;
}

static int cust_arg(const struct req *rq)
{
	return (int)rq->ints[0];
}

static const char *policy_url(struct req *rq, int c, enum channel ch, const char *name)
{
	return req_url(rq, "/customers/%d/deliveryChannelPolicies/%s/%s", c, channel_name(ch),
		       name);
}

/* A policy as the API shows it where an asset or a default names it:
 * customer-owned policies by URL, system policies by bare name. */
static const char *policy_ref(struct req *rq, int c, enum channel ch, const char *name)
{
	return channel_customer_policies(ch) ? policy_url(rq, c, ch, name) : name;
}

/* 0 when customer c may name policy `name` of channel ch (its own or a
 * system one); else the 400 naming `field`, or the database error. Runs no
 * transaction of its own, so it is safe inside the caller's. */
static int policy_require(struct req *rq, int c, enum channel ch, const char *name,
			  const char *field)
{
	struct db_rows *r = db_query(dbh(rq), rq->arena, sql[Q_POLICY_EXISTS], "iss", c,
				     channel_name(ch), name);
	if (!r)
		return req_db_fail(rq, "checking a delivery channel policy");
	if (r->n == 0)
		return req_fail(rq, 400, "'%s': policy '%s' not found for channel '%s'", field,
				name, channel_name(ch));
	return 0;
}

/* ---- Asset channels ---------------------------------------------------- */

/* One member of "deliveryChannels": a channel name, or {"channel","policy"?}
 * (an "@type" is tolerated so that output can be sent back). *policy is
 * NULL when none is given. */
static int channel_member(struct req *rq, yajl_val m, int *ch, const char **policy)
{
	const char *name = NULL;

	*policy = NULL;
	if (YAJL_IS_STRING(m)) {
		name = m->u.string;
	} else if (YAJL_IS_OBJECT(m)) {
		for (size_t i = 0; i < m->u.object.len; i++) {
			const char *k = m->u.object.keys[i];
			yajl_val v = m->u.object.values[i];
			if (strcmp(k, "channel") == 0) {
				if (!YAJL_IS_STRING(v))
					return req_fail(
						rq, 400,
						"'deliveryChannels': 'channel' must be a string");
				name = v->u.string;
			} else if (strcmp(k, "policy") == 0) {
				if (YAJL_IS_STRING(v)) {
					if (v->u.string[0])
						*policy = v->u.string;
				} else if (!YAJL_IS_NULL(v)) {
					return req_fail(
						rq, 400,
						"'deliveryChannels': 'policy' must be a string");
				}
			} else if (strcmp(k, "@type") != 0) {
				return req_fail(rq, 400, "'deliveryChannels': unknown field '%s'",
						k);
			}
		}
		if (!name)
			return req_fail(rq, 400, "'deliveryChannels': 'channel' is required");
	} else {
		return req_fail(
			rq, 400,
			"'deliveryChannels' must hold channel names or {\"channel\",\"policy\"} "
			"objects");
	}
	*ch = channel_parse(name);
	if (*ch < 0)
		return req_fail(rq, 400, "'deliveryChannels': unknown channel '%s'", name);
	return 0;
}

/* The customer's and space's defaults in matching order, loaded once. */
static int defaults_get(struct req *rq, int c, int s, struct db_rows **rows)
{
	if (*rows)
		return 0;
	*rows = db_query(dbh(rq), rq->arena, sql[Q_DEFAULTS_FOR], "ii", c, s);
	if (!*rows)
		return req_db_fail(rq, "reading default delivery channels");
	return 0;
}

int channels_resolve(struct req *rq, int customer, int space, const char *media_type,
		     yajl_val input, const char **out_json, char *family)
{
	const char *policy[CH__MAX] = {0}; /* chosen channels: their policy name */
	const char *given[CH__MAX] = {0};  /* policies named in the input */
	unsigned seen = 0, chosen = 0;
	struct db_rows *defs = NULL;
	int st;

	if (!media_type)
		media_type = "";
	if (input && !YAJL_IS_NULL(input)) {
		size_t n;
		if (!YAJL_IS_ARRAY(input))
			return req_fail(rq, 400, "'deliveryChannels' must be an array");
		n = input->u.array.len;
		if (n == 0)
			return req_fail(rq, 400, "'deliveryChannels' cannot be an empty array");
		for (size_t i = 0; i < n; i++) {
			int ch = -1;
			const char *pol;
			if ((st = channel_member(rq, input->u.array.values[i], &ch, &pol)))
				return st;
			if (seen & CH_BIT(ch))
				return req_fail(rq, 400,
						"'deliveryChannels': channel '%s' given twice",
						channel_name(ch));
			seen |= CH_BIT(ch);
			given[ch] = pol;
		}
		if ((seen & (CH_BIT(CH_NONE) | CH_BIT(CH_DEFAULT))) && n > 1)
			return req_fail(rq, 400,
					"'deliveryChannels': '%s' must be the only channel",
					(seen & CH_BIT(CH_NONE)) ? "none" : "default");
		if (seen == CH_BIT(CH_DEFAULT) && given[CH_DEFAULT])
			return req_fail(rq, 400, "'deliveryChannels': 'default' takes no policy");
	}

	if (!seen || seen == CH_BIT(CH_DEFAULT)) {
		/* The first compatible match per channel, in matching order. */
		if ((st = defaults_get(rq, customer, space, &defs)))
			return st;
		for (size_t i = 0; i < defs->n; i++) {
			int ch = channel_parse(db_str(defs, i, 1));
			if (ch < 0 || ch == CH_DEFAULT || (chosen & CH_BIT(ch)))
				continue;
			if (!media_glob_match(db_str(defs, i, 0), media_type) ||
			    !channel_media_ok(ch, media_type))
				continue;
			chosen |= CH_BIT(ch);
			policy[ch] = db_str(defs, i, 2);
		}
		if (!chosen)
			return req_fail(rq, 400,
					"no default delivery channel matches mediaType '%s'",
					media_type);
		if ((chosen & CH_BIT(CH_NONE)) && chosen != CH_BIT(CH_NONE))
			return req_fail(rq, 400,
					"the default delivery channels for mediaType '%s' combine "
					"'none' with other channels",
					media_type);
	} else {
		for (int ch = 0; ch < CH__MAX; ch++) {
			if (!(seen & CH_BIT(ch)))
				continue;
			if (!channel_media_ok(ch, media_type))
				return req_fail(rq, 400,
						"'deliveryChannels': channel '%s' cannot deliver "
						"mediaType '%s'",
						channel_name(ch), media_type);
			if (given[ch]) {
				policy[ch] = policy_ref_name(given[ch]);
			} else {
				/* The defaults, filtered to this channel, supply the policy. */
				if ((st = defaults_get(rq, customer, space, &defs)))
					return st;
				for (size_t i = 0; i < defs->n && !policy[ch]; i++)
					if (channel_parse(db_str(defs, i, 1)) == ch &&
					    media_glob_match(db_str(defs, i, 0), media_type))
						policy[ch] = db_str(defs, i, 2);
				if (!policy[ch])
					policy[ch] = fallback_policy[ch];
				if (!policy[ch])
					return req_fail(rq, 400,
							"'deliveryChannels': no default policy for "
							"channel '%s' and mediaType '%s'; name one",
							channel_name(ch), media_type);
			}
			chosen |= CH_BIT(ch);
		}
	}

	for (int ch = 0; ch < CH__MAX; ch++)
		if ((chosen & CH_BIT(ch)) &&
		    (st = policy_require(rq, customer, ch, policy[ch], "deliveryChannels")))
			return st;

	struct jw *w = jw_new(rq->arena);
	jw_arr(w);
	for (int ch = 0; ch < CH__MAX; ch++) {
		if (!(chosen & CH_BIT(ch)))
			continue;
		jw_obj(w);
		jw_kstr(w, "channel", channel_name(ch));
		jw_kstr(w, "policy", policy[ch]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	*out_json = jw_text(w, NULL);
	if (!*out_json) /* a policy name from the database that is not UTF-8 */
		return req_fail(rq, 500, "could not serialise delivery channels");
	*family = channels_family(chosen, media_type);
	return 0;
}

int channels_seed_customer(struct db *db, int customer)
{
	char id[37];
	long long r;

	for (size_t i = 0; i < sizeof seed_policies / sizeof seed_policies[0]; i++) {
		r = db_exec(db, sql[Q_POLICY_INSERT], "issss", customer, seed_policies[i].channel,
			    seed_policies[i].name, seed_policies[i].display_name,
			    seed_policies[i].data);
		if (r < 0)
			return (int)r;
	}
	for (size_t i = 0; i < sizeof seed_defaults / sizeof seed_defaults[0]; i++) {
		uuid_make(id);
		r = db_exec(db, sql[Q_DDC_INSERT], "siisss", id, customer, 0,
			    seed_defaults[i].media_type, seed_defaults[i].channel,
			    seed_defaults[i].policy);
		if (r < 0)
			return (int)r;
	}
	return DB_OK;
}

void channels_write(struct jw *w, struct req *rq, int customer, const char *stored_json)
{
	char err[256];
	yajl_val v = NULL;

	if (stored_json && *stored_json)
		v = json_parse(rq->arena, stored_json, strlen(stored_json), err, sizeof err);
	if (stored_json && *stored_json && !YAJL_IS_ARRAY(v))
		log_warn("customer %d: stored delivery channels are not a JSON array", customer);
	jw_arr(w);
	for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
		yajl_val m = v->u.array.values[i];
		const char *name = YAJL_GET_STRING(json_get(m, "channel"));
		const char *pol = YAJL_GET_STRING(json_get(m, "policy"));
		int ch = channel_parse(name);
		if (ch < 0)
			continue;
		jw_obj(w);
		jw_kstr(w, "@type", "vocab:DeliveryChannel");
		jw_kstr(w, "channel", channel_name(ch));
		if (pol)
			jw_kstr(w, "policy", policy_ref(rq, customer, ch, pol));
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

bool channels_has(const char *stored_json, const char *channel)
{
	int want = channel_parse(channel);
	if (!stored_json || want < 0 || stored_json[0] != '[')
		return false;
	/* The stored text is always written by channels_resolve through the
	 * JSON writer (compact, canonical names), so a search for the member
	 * is exact and spares a parse per asset on every listing. */
	char needle[64];
	xsnprintf(needle, sizeof needle, "\"channel\":\"%s\"", channel_name(want));
	return strstr(stored_json, needle) != NULL;
}

/* ---- Delivery channel policies ------------------------------------------ */

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

	resource_begin(w, policy_url(rq, c, ch, name), "vocab:DeliveryChannelPolicy");
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
		req_header(rq, "Location", policy_url(rq, c, ch, name));
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
		char err[256];
		arr = json_parse(rq->arena, pd->u.string, strlen(pd->u.string), err, sizeof err);
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
	int c = cust_arg(rq), st;
	const char *path;
	struct jw *w;

	if ((st = customer_require(rq, c)))
		return st;
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

	if ((st = customer_require(rq, c)) || (st = path_channel(rq, &ch)))
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

	if ((st = customer_require(rq, c)) || (st = path_channel(rq, &ch)) ||
	    (st = policy_channel_writable(rq, ch)) || (st = policy_body(rq, ch, NULL, &in)))
		return st;
	if (!in.name)
		return req_fail(rq, 400, "'name' (or 'id') is required");
	if (!in.data)
		return req_fail(rq, 400, "'policyData' is required");
	if ((st = body_id_agrees(rq, rq->json, policy_url(rq, c, ch, in.name), in.name)))
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

	if ((st = customer_require(rq, c)) || (st = path_channel(rq, &ch)))
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

	if ((st = customer_require(rq, c)) || (st = path_channel(rq, &ch)) ||
	    (st = policy_channel_writable(rq, ch)))
		return st;
	if (!policy_name_valid(name))
		return req_fail(rq, 400,
				"policy name '%s' must be 1-100 characters of lower-case letters, "
				"digits, '.', '_' and '-'",
				name);
	if ((st = policy_body(rq, ch, name, &in)) ||
	    (st = body_id_agrees(rq, rq->json, policy_url(rq, c, ch, name), name)))
		return st;
	if (!in.data)
		return req_fail(rq, 400, "'policyData' is required");

	if (db_begin(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "storing a delivery channel policy");
	cur = db_query(dbh(rq), rq->arena, sql[Q_POLICY_LOCK], "iss", c, channel_name(ch), name);
	if (!cur)
		return txn_fail(rq, "storing a delivery channel policy");
	if (cur->n)
		r = db_exec(dbh(rq), sql[Q_POLICY_UPDATE], "ssiss", in.display ? in.display : name,
			    in.data, c, channel_name(ch), name);
	else
		r = db_exec(dbh(rq), sql[Q_POLICY_INSERT], "issss", c, channel_name(ch), name,
			    in.display ? in.display : name, in.data);
	if (r < 0)
		return txn_fail(rq, "storing a delivery channel policy");
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

	if ((st = customer_require(rq, c)) || (st = path_channel(rq, &ch)))
		return st;
	/* An unknown policy is a 404 whatever the body says. */
	cur = db_query(dbh(rq), rq->arena, sql[Q_POLICY_GET], "iss", c, channel_name(ch), name);
	if (!cur)
		return req_db_fail(rq, "reading a delivery channel policy");
	if (cur->n == 0)
		return req_fail(rq, 404, "delivery channel policy '%s/%s' not found",
				channel_name(ch), name);
	if ((st = policy_channel_writable(rq, ch)) || (st = policy_body(rq, ch, name, &in)) ||
	    (st = body_id_agrees(rq, rq->json, policy_url(rq, c, ch, name), name)))
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

	if ((st = customer_require(rq, c)) || (st = path_channel(rq, &ch)))
		return st;
	if (db_begin(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "deleting a delivery channel policy");
	r = db_query(dbh(rq), rq->arena, sql[Q_POLICY_LOCK], "iss", c, channel_name(ch), name);
	if (!r)
		return txn_fail(rq, "deleting a delivery channel policy");
	if (r->n == 0) {
		db_rollback(dbh(rq));
		return req_fail(rq, 404, "delivery channel policy '%s/%s' not found",
				channel_name(ch), name);
	}
	/* A policy still named by a default or an asset stays: deleting it would
	 * leave them pointing at nothing. */
	r = db_query(dbh(rq), rq->arena, sql[Q_POLICY_USED_BY_DEFAULT], "iss", c, channel_name(ch),
		     name);
	if (!r)
		return txn_fail(rq, "deleting a delivery channel policy");
	if (r->n) {
		db_rollback(dbh(rq));
		return req_fail(
			rq, 409,
			"delivery channel policy '%s/%s' is still in use by default delivery "
			"channel %s (mediaType '%s')",
			channel_name(ch), name, db_str(r, 0, 0), db_str(r, 0, 2));
	}
	r = db_query(dbh(rq), rq->arena, sql[Q_POLICY_USED_BY_ASSET], "iss", c, channel_name(ch),
		     name);
	if (!r)
		return txn_fail(rq, "deleting a delivery channel policy");
	if (r->n) {
		db_rollback(dbh(rq));
		return req_fail(rq, 409,
				"delivery channel policy '%s/%s' is still in use by asset %d/%s",
				channel_name(ch), name, (int)db_int(r, 0, 0), db_str(r, 0, 1));
	}
	n = db_exec(dbh(rq), sql[Q_POLICY_DELETE], "iss", c, channel_name(ch), name);
	if (n < 0)
		return txn_fail(rq, "deleting a delivery channel policy");
	if (db_commit(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "deleting a delivery channel policy");
	return 204;
}

/* ---- Default delivery channels ------------------------------------------ */

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
	jw_kstr(w, "policy", ch < 0 ? db_str(r, i, 3) : policy_ref(rq, c, ch, db_str(r, i, 3)));
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
	return policy_require(rq, c, ch, in->policy, "policy");
}

static int ddc_conflict(struct req *rq, const struct ddc_in *in)
{
	return req_fail(rq, 409,
			"a default delivery channel for mediaType '%s' and channel '%s' already "
			"exists",
			in->media_type, channel_name(in->ch));
}

static int ddc_list_at(struct req *rq, int c, int s)
{
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

static int ddc_create_at(struct req *rq, int c, int s)
{
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

static int ddc_get_at(struct req *rq, int c, int s)
{
	const char *id;
	int st;

	if ((st = ddc_id(rq, &id)))
		return st;
	return ddc_answer(rq, c, s, id, 200);
}

static int ddc_put_at(struct req *rq, int c, int s)
{
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
		return txn_fail(rq, "updating a default delivery channel");
	if (cur->n == 0) { /* deleted meanwhile */
		db_rollback(dbh(rq));
		return req_fail(rq, 404, "default delivery channel %s not found", id);
	}
	r = db_exec(dbh(rq), sql[Q_DDC_UPDATE], "sssiis", in.media_type, channel_name(in.ch),
		    in.policy, c, s, id);
	if (r == DB_EDUP) {
		db_rollback(dbh(rq));
		return ddc_conflict(rq, &in);
	}
	if (r < 0)
		return txn_fail(rq, "updating a default delivery channel");
	if (db_commit(dbh(rq)) != DB_OK)
		return req_db_fail(rq, "updating a default delivery channel");
	return ddc_answer(rq, c, s, id, 200);
}

static int ddc_delete_at(struct req *rq, int c, int s)
{
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

/* The handlers check the path's customer or space, then share the code
 * above with s = 0 (customer level) or the space. Customer level:
 * /customers/{c}/defaultDeliveryChannels[/{id}] (id in strs[0]). */
int ddc_list(struct req *rq)
{
	int c = cust_arg(rq), st = customer_require(rq, c);
	return st ? st : ddc_list_at(rq, c, 0);
}

int ddc_create(struct req *rq)
{
	int c = cust_arg(rq), st = customer_require(rq, c);
	return st ? st : ddc_create_at(rq, c, 0);
}

int ddc_get(struct req *rq)
{
	int c = cust_arg(rq), st = customer_require(rq, c);
	return st ? st : ddc_get_at(rq, c, 0);
}

int ddc_put(struct req *rq)
{
	int c = cust_arg(rq), st = customer_require(rq, c);
	return st ? st : ddc_put_at(rq, c, 0);
}

int ddc_delete(struct req *rq)
{
	int c = cust_arg(rq), st = customer_require(rq, c);
	return st ? st : ddc_delete_at(rq, c, 0);
}

/* Space level: /customers/{c}/spaces/{s}/defaultDeliveryChannels[/{id}].
 * Space ids start at 1, so space_require keeps a path with space 0 away
 * from the customer-level rows. */
int space_ddc_list(struct req *rq)
{
	int c = cust_arg(rq), s = (int)rq->ints[1], st = space_require(rq, c, s);
	return st ? st : ddc_list_at(rq, c, s);
}

int space_ddc_create(struct req *rq)
{
	int c = cust_arg(rq), s = (int)rq->ints[1], st = space_require(rq, c, s);
	return st ? st : ddc_create_at(rq, c, s);
}

int space_ddc_get(struct req *rq)
{
	int c = cust_arg(rq), s = (int)rq->ints[1], st = space_require(rq, c, s);
	return st ? st : ddc_get_at(rq, c, s);
}

int space_ddc_put(struct req *rq)
{
	int c = cust_arg(rq), s = (int)rq->ints[1], st = space_require(rq, c, s);
	return st ? st : ddc_put_at(rq, c, s);
}

int space_ddc_delete(struct req *rq)
{
	int c = cust_arg(rq), s = (int)rq->ints[1], st = space_require(rq, c, s);
	return st ? st : ddc_delete_at(rq, c, s);
}
