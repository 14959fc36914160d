/* The pure rules of delivery channels: channel names, mediaType globs and
 * compatibility, policy names and policy data (thumbnail size parameters,
 * iiif-av presets), the family a set of channels implies, and what an
 * asset's stored channels hold. No database, no request: the API applies
 * them (api/channels.c), the ingest and delivery read stored channels with
 * them, tests/unit/test_channels.c checks them. */
#ifndef DLCS_CHANNEL_RULES_H
#define DLCS_CHANNEL_RULES_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

/* In the order of their names, so walking the enum emits channels sorted. */
enum channel {
	CH_FILE,     /* "file" */
	CH_IIIF_AV,  /* "iiif-av" */
	CH_IIIF_IMG, /* "iiif-img" */
	CH_NONE,     /* "none": the asset is not delivered */
	CH_THUMBS,   /* "thumbs" (input also "thumbnail") */
	CH_DEFAULT,  /* "default": a marker on input, never stored */
	CH__MAX
};

#define CH_BIT(c) (1u << (c))

/* The canonical name ("thumbs" for CH_THUMBS). */
const char *channel_name(enum channel c);
/* Channel by name, "thumbnail" meaning "thumbs"; -1 when unknown (NULL too). */
int channel_parse(const char *s);
/* True for the four channels that have a policy collection
 * (iiif-img, thumbs, iiif-av, file). */
bool channel_has_policies(enum channel c);
/* True for the channels whose policies belong to customers (thumbs, iiif-av);
 * the others only have the system policies of customer 0. */
bool channel_customer_policies(enum channel c);

/* Glob match of a mediaType pattern ("image/" followed by '*', "image/tiff",
 * "*") against a mediaType: '*' is any run of characters, '?' one;
 * case-insensitive, as mediaTypes are. */
bool media_glob_match(const char *pattern, const char *media_type);
/* True when media_type is "<type>/..." (case-insensitive): media_is(m, "image"). */
bool media_is(const char *media_type, const char *type);
/* Whether an asset of media_type may use channel c: iiif-img needs an image
 * type, thumbs an image or a video type (a video's thumbnails are made from
 * its poster frame), iiif-av an audio or video type; the rest accept
 * anything. */
bool channel_media_ok(enum channel c, const char *media_type);
/* Whether a default for pattern could ever apply to channel c: false only
 * when the pattern's type (before '/') is a literal the channel refuses
 * (an "audio/" pattern for iiif-img). */
bool channel_pattern_ok(enum channel c, const char *pattern);
/* A mediaType or pattern: 1..255 printable ASCII characters, no spaces. */
bool media_pattern_valid(const char *s);

/* A customer policy name: 1..100 of [a-z0-9._-], not "." or "..". */
bool policy_name_valid(const char *s);
/* The name in a policy reference: a bare name, or a URL whose last path
 * segment is the name. Points into ref; "" when ref ends with '/'. */
const char *policy_ref_name(const char *ref);

/* One IIIF size parameter a thumbs policy may hold: "!w,h", "w," or ",h",
 * optionally prefixed by "^"; w and h are 1..65535 without leading zeros. */
bool thumb_size_valid(const char *s);
/* Checks the policyData of a customer policy for channel c (an already
 * parsed JSON value): NULL when valid, else why not (static text).
 * thumbs: a non-empty array of valid size parameters; iiif-av: a non-empty
 * array of distinct known presets, no two of one extension
 * (asset/av_presets.h); other channels take no policy data. */
const char *policy_data_check(enum channel c, yajl_val data);

/* The asset family implied by a set of channels (CH_BIT mask): file alone is
 * 'F'; iiif-av 'T' (with thumbs too: a video's poster); iiif-img or thumbs
 * 'I'; otherwise (none) from the
 * mediaType: image types 'I', audio and video types 'T', anything else 'F'. */
char channels_family(unsigned mask, const char *media_type);

/* True when an asset's stored channels (assets.delivery_channels, as
 * api/channels.c's channels_resolve writes them) include `channel`
 * ("iiif-img", "thumbs", "thumbnail", ...). */
bool channels_has(const char *stored_json, const char *channel);

#endif
