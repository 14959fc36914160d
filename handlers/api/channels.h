/* Delivery channels of assets: validation of what a client sends, defaults
 * by mediaType (space level first, then customer level, longest pattern
 * first), and the family they imply. */
#ifndef DLCS_CHANNELS_H
#define DLCS_CHANNELS_H

#include <yajl/yajl_tree.h>

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

/* Gives a new customer its own copies of the non-system policies
 * (thumbs/default, iiif-av/default-audio, iiif-av/default-video) and the
 * seeded defaults ("image/" + '*' -> iiif-img/default + thumbs/default,
 * audio -> iiif-av/default-audio, video -> iiif-av/default-video,
 * application -> file/none). Runs inside the caller's transaction;
 * returns DB_OK or the db error. */
int channels_seed_customer(struct db *db, int customer);

/* Writes the "deliveryChannels" output array for stored JSON text:
 * [{"@type":"vocab:DeliveryChannel","channel","policy"}], where a
 * customer-owned policy is written as its URL
 * {base}/customers/{c}/deliveryChannelPolicies/{channel}/{name} and a system
 * policy (default, use-original, none) by its bare name. */
struct jw;
void channels_write(struct jw *w, struct req *rq, int customer, const char *stored_json);

/* True when the stored channels include `channel` ("iiif-img", "thumbs", ...). */
#include <stdbool.h>
bool channels_has(const char *stored_json, const char *channel);

#endif
