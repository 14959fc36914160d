/* Delivery channels of assets in the API: validation of what a client
 * sends, defaults by mediaType (space level first, then customer level,
 * longest pattern first), the family they imply, and the output. The pure
 * rules (and channels_has) are asset/channel_rules.h's. */
#ifndef DLCS_CHANNELS_H
#define DLCS_CHANNELS_H

#include <yajl/yajl_tree.h>

#include "asset/channel_rules.h"

struct db;
struct req;

/* Resolves the channels of an asset of `media_type` in customer/space.
 * `input` is the body's "deliveryChannels" member (NULL when absent: use the
 * defaults). On success returns 0, sets *out_json to the canonical JSON text
 * stored in assets.delivery_channels — an array of {"channel","policy"}
 * objects sorted by channel, with "thumbnail" normalised to "thumbs" — and
 * *family to 'I', 'T' or 'F' (derived from the channels, then the
 * mediaType). Otherwise returns the status it answered (400 naming the
 * problem, 503 when the database is down). */
int channels_resolve(struct req *rq, int customer, int space, const char *media_type,
		     yajl_val input, const char **out_json, char *family);

/* Writes the "deliveryChannels" output array for stored JSON text:
 * [{"@type":"vocab:DeliveryChannel","channel","policy"}], where a
 * customer-owned policy is written as its URL
 * {base}/customers/{c}/deliveryChannelPolicies/{channel}/{name} and a system
 * policy (default, use-original, none) by its bare name. */
struct jw;
void channels_write(struct jw *w, struct req *rq, int customer, const char *stored_json);

/* For the policy and default resources (channel_policies.c,
 * default_channels.c): a policy's URL, how an asset or a default shows it
 * (customer-owned policies by URL, system policies by bare name), and 0 when
 * customer c may name policy `name` of channel ch (its own or a system one),
 * else the 400 naming `field` or the database error (runs no transaction of
 * its own, so it is safe inside the caller's). */
const char *channel_policy_url(struct req *rq, int c, enum channel ch, const char *name);
const char *channel_policy_ref(struct req *rq, int c, enum channel ch, const char *name);
int channel_policy_require(struct req *rq, int c, enum channel ch, const char *name,
			   const char *field);

#endif
