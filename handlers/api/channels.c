/* Delivery channels: what an asset's "deliveryChannels" may say and what it
 * resolves to (channels_resolve), and how the API writes it back; the
 * policies and defaults have their own resources (channel_policies.c,
 * default_channels.c).
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
#include "asset/channel_rules.h"
#include "banned.h"

enum stmt { Q_POLICY_EXISTS, Q_DEFAULTS_FOR, Q__MAX };

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

const char *channel_policy_url(struct req *rq, int c, enum channel ch, const char *name)
{
	return req_url(rq, "/customers/%d/deliveryChannelPolicies/%s/%s", c, channel_name(ch),
		       name);
}

/* A policy as the API shows it where an asset or a default names it:
 * customer-owned policies by URL, system policies by bare name. */
const char *channel_policy_ref(struct req *rq, int c, enum channel ch, const char *name)
{
	return channel_customer_policies(ch) ? channel_policy_url(rq, c, ch, name) : name;
}

/* 0 when customer c may name policy `name` of channel ch (its own or a
 * system one); else the 400 naming `field`, or the database error. Runs no
 * transaction of its own, so it is safe inside the caller's. */
int channel_policy_require(struct req *rq, int c, enum channel ch, const char *name,
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

/* The channels the input names (a set of CH_BIT in *seen) with the policy
 * each gives (given[ch], NULL when none); nothing when input is absent. 0 or
 * the 400 it answered. */
static int input_read(struct req *rq, yajl_val input, unsigned *seen, const char **given)
{
	int st;
	*seen = 0;
	if (!input || YAJL_IS_NULL(input))
		return 0;
	if (!YAJL_IS_ARRAY(input))
		return req_fail(rq, 400, "'deliveryChannels' must be an array");
	size_t n = input->u.array.len;
	if (n == 0)
		return req_fail(rq, 400, "'deliveryChannels' cannot be an empty array");
	for (size_t i = 0; i < n; i++) {
		int ch = -1;
		const char *pol;
		if ((st = channel_member(rq, input->u.array.values[i], &ch, &pol)))
			return st;
		if (*seen & CH_BIT(ch))
			return req_fail(rq, 400, "'deliveryChannels': channel '%s' given twice",
					channel_name(ch));
		*seen |= CH_BIT(ch);
		given[ch] = pol;
	}
	if ((*seen & (CH_BIT(CH_NONE) | CH_BIT(CH_DEFAULT))) && n > 1)
		return req_fail(rq, 400, "'deliveryChannels': '%s' must be the only channel",
				(*seen & CH_BIT(CH_NONE)) ? "none" : "default");
	if (*seen == CH_BIT(CH_DEFAULT) && given[CH_DEFAULT])
		return req_fail(rq, 400, "'deliveryChannels': 'default' takes no policy");
	return 0;
}

/* No channels given (or "default"): the first compatible default per
 * channel, in matching order, into *chosen and policy[]. 0 or the status it
 * answered. */
static int choose_defaults(struct req *rq, int customer, int space, const char *media_type,
			   struct db_rows **defs, unsigned *chosen, const char **policy)
{
	int st;
	if ((st = defaults_get(rq, customer, space, defs)))
		return st;
	for (size_t i = 0; i < (*defs)->n; i++) {
		int ch = channel_parse(db_str(*defs, i, 1));
		if (ch < 0 || ch == CH_DEFAULT || (*chosen & CH_BIT(ch)))
			continue;
		if (!media_glob_match(db_str(*defs, i, 0), media_type) ||
		    !channel_media_ok(ch, media_type))
			continue;
		*chosen |= CH_BIT(ch);
		policy[ch] = db_str(*defs, i, 2);
	}
	if (!*chosen)
		return req_fail(rq, 400, "no default delivery channel matches mediaType '%s'",
				media_type);
	if ((*chosen & CH_BIT(CH_NONE)) && *chosen != CH_BIT(CH_NONE))
		return req_fail(rq, 400,
				"the default delivery channels for mediaType '%s' combine "
				"'none' with other channels",
				media_type);
	return 0;
}

/* The channels given (seen), each with its policy: the one given, else the
 * defaults' for that channel, else the channel's fallback. 0 or the status
 * it answered. */
static int choose_given(struct req *rq, int customer, int space, const char *media_type,
			unsigned seen, const char **given, struct db_rows **defs, unsigned *chosen,
			const char **policy)
{
	int st;
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
			if ((st = defaults_get(rq, customer, space, defs)))
				return st;
			for (size_t i = 0; i < (*defs)->n && !policy[ch]; i++)
				if (channel_parse(db_str(*defs, i, 1)) == ch &&
				    media_glob_match(db_str(*defs, i, 0), media_type))
					policy[ch] = db_str(*defs, i, 2);
			if (!policy[ch])
				policy[ch] = fallback_policy[ch];
			if (!policy[ch])
				return req_fail(rq, 400,
						"'deliveryChannels': no default policy for "
						"channel '%s' and mediaType '%s'; name one",
						channel_name(ch), media_type);
		}
		*chosen |= CH_BIT(ch);
	}
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
	if ((st = input_read(rq, input, &seen, given)))
		return st;
	if (!seen || seen == CH_BIT(CH_DEFAULT))
		st = choose_defaults(rq, customer, space, media_type, &defs, &chosen, policy);
	else
		st = choose_given(rq, customer, space, media_type, seen, given, &defs, &chosen,
				  policy);
	if (st)
		return st;

	for (int ch = 0; ch < CH__MAX; ch++)
		if ((chosen & CH_BIT(ch)) &&
		    (st = channel_policy_require(rq, customer, ch, policy[ch], "deliveryChannels")))
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
void channels_write(struct jw *w, struct req *rq, int customer, const char *stored_json)
{
	yajl_val v = NULL;

	if (stored_json && *stored_json)
		v = json_parse(rq->arena, stored_json, strlen(stored_json), NULL);
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
			jw_kstr(w, "policy", channel_policy_ref(rq, customer, ch, pol));
		jw_obj_end(w);
	}
	jw_arr_end(w);
}
