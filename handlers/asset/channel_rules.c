/* The pure rules of delivery channels (see channel_rules.h). */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "str.h"
#include "asset/av_presets.h"
#include "asset/channel_rules.h"
#include "banned.h"

static const char *const channel_names[CH__MAX] = {
	[CH_FILE] = "file", [CH_IIIF_AV] = "iiif-av", [CH_IIIF_IMG] = "iiif-img",
	[CH_NONE] = "none", [CH_THUMBS] = "thumbs",   [CH_DEFAULT] = "default",
};

const char *channel_name(enum channel c)
{
	return (unsigned)c < CH__MAX ? channel_names[c] : "?";
}

int channel_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "thumbnail") == 0)
		return CH_THUMBS;
	for (int c = 0; c < CH__MAX; c++)
		if (strcmp(s, channel_names[c]) == 0)
			return c;
	return -1;
}

bool channel_has_policies(enum channel c)
{
	return c == CH_IIIF_IMG || c == CH_THUMBS || c == CH_IIIF_AV || c == CH_FILE;
}

bool channel_customer_policies(enum channel c)
{
	return c == CH_THUMBS || c == CH_IIIF_AV;
}

/* Iterative glob with one backtrack point: on a mismatch after a '*', the
 * star swallows one more character and matching resumes. Linear in
 * practice, never exponential. */
bool media_glob_match(const char *pattern, const char *media_type)
{
	const char *p = pattern, *s = media_type;
	const char *star = NULL, *resume = NULL;

	if (!p || !s)
		return false;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p && (*p == '?' ||
				  tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool media_is(const char *media_type, const char *type)
{
	size_t n = strlen(type);

	return media_type && strncasecmp(media_type, type, n) == 0 && media_type[n] == '/';
}

bool channel_media_ok(enum channel c, const char *media_type)
{
	switch (c) {
	case CH_IIIF_IMG:
		return media_is(media_type, "image");
	case CH_THUMBS: /* of a video: its poster frame */
		return media_is(media_type, "image") || media_is(media_type, "video");
	case CH_IIIF_AV:
		return media_is(media_type, "audio") || media_is(media_type, "video");
	default:
		return true;
	}
}

bool channel_pattern_ok(enum channel c, const char *pattern)
{
	const char *slash;
	size_t n;

	if (!pattern)
		return false;
	slash = strchr(pattern, '/');
	n = slash ? (size_t)(slash - pattern) : strlen(pattern);
	if (memchr(pattern, '*', n) || memchr(pattern, '?', n))
		return true; /* the type is a wildcard: some mediaTypes may fit */
	switch (c) {
	case CH_IIIF_IMG:
		return slash && n == 5 && strncasecmp(pattern, "image", 5) == 0;
	case CH_THUMBS:
		return slash && n == 5 &&
		       (strncasecmp(pattern, "image", 5) == 0 ||
			strncasecmp(pattern, "video", 5) == 0);
	case CH_IIIF_AV:
		return slash && n == 5 &&
		       (strncasecmp(pattern, "audio", 5) == 0 ||
			strncasecmp(pattern, "video", 5) == 0);
	default:
		return true;
	}
}

bool media_pattern_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n >= 1 && n <= 255;
}

bool policy_name_valid(const char *s)
{
	size_t n = 0;

	if (!s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n >= 1 && n <= 100;
}

const char *policy_ref_name(const char *ref)
{
	const char *slash;

	if (!ref)
		return "";
	slash = strrchr(ref, '/');
	return slash ? slash + 1 : ref;
}

/* A decimal 1..65535 without a leading zero; advances *s past it. */
static bool size_number(const char **s)
{
	const char *p = *s;
	long v = 0;

	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return false;
		p++;
	}
	*s = p;
	return true;
}

bool thumb_size_valid(const char *s)
{
	if (!s)
		return false;
	if (*s == '^')
		s++;
	if (*s == '!') { /* !w,h: both required */
		s++;
		if (!size_number(&s) || *s++ != ',' || !size_number(&s))
			return false;
		return *s == '\0';
	}
	if (*s == ',') { /* ,h */
		s++;
		return size_number(&s) && *s == '\0';
	}
	/* w, (w,h without '!' is not a thumbnail size: it could distort) */
	return size_number(&s) && *s++ == ',' && *s == '\0';
}

const char *policy_data_check(enum channel c, yajl_val data)
{
	size_t n;

	if (c == CH_IIIF_AV)
		return av_policy_check(data);
	if (c != CH_THUMBS)
		return "this channel takes no customer policy data";
	if (!YAJL_IS_ARRAY(data))
		return "must be a JSON array of strings";
	n = data->u.array.len;
	if (n == 0)
		return "must not be an empty array";
	for (size_t i = 0; i < n; i++) {
		const char *s = YAJL_GET_STRING(data->u.array.values[i]);
		if (!s)
			return "must be a JSON array of strings";
		if (!thumb_size_valid(s))
			return "holds an invalid thumbnail size (expected \"!w,h\", \"w,\" "
			       "or \",h\", optionally prefixed by \"^\")";
	}
	return NULL;
}

char channels_family(unsigned mask, const char *media_type)
{
	if (mask == CH_BIT(CH_FILE))
		return 'F';
	/* before thumbs: a video's thumbnails are its poster's */
	if (mask & CH_BIT(CH_IIIF_AV))
		return 'T';
	if (mask & (CH_BIT(CH_IIIF_IMG) | CH_BIT(CH_THUMBS)))
		return 'I';
	if (media_is(media_type, "image"))
		return 'I';
	if (media_is(media_type, "audio") || media_is(media_type, "video"))
		return 'T';
	return 'F';
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
