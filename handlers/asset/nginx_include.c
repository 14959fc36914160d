/* The nginx text DLCS generates (asset/nginx_include.h): one table of the
 * fast paths, rendered generically into nginx/dlcs.conf's generated blocks
 * and per customer into the custom-headers include.
 *
 * The include holds:
 *   - the internal location for the application's X-Accel-Redirect files.
 *     nginx drops an upstream's own headers when it follows X-Accel-Redirect
 *     (it keeps Content-Type, Cache-Control, Expires, Content-Disposition,
 *     Set-Cookie, Accept-Ranges), so every key any customer uses is added
 *     back from the application's response ($upstream_http_<key>; an empty
 *     variable adds nothing). This is why keys are limited to letters,
 *     digits and '-': each must map to an nginx variable name;
 *   - the fast-path locations (tiles, the stored sizes of /iiif-img and
 *     those of /thumbs, the four info.json, the transcodes of /iiif-av) of
 *     each customer (and of each space) that has
 *     headers, placed before dlcs.conf's generic ones (the first matching
 *     regex location wins): the same locations with the customer's (and
 *     space's) alternatives in place of any customer and space, plus that
 *     customer's headers (add_header in a location replaces the inherited
 *     list, so CORS and Cache-Control are repeated). Role-specific headers
 *     concern restricted assets only, whose tiles nginx sends itself only
 *     for customers without headers (dlcs.conf's restricted tiles): the
 *     include's locations send them to the application, which adds them.
 *
 * Values are written as nginx double-quoted strings ('"' and '\' escaped).
 * nginx expands "$name" in add_header values and has no escape for '$', so
 * values containing '$' are refused by the API. Control characters (CR, LF,
 * NUL...) are refused too: they would split or end the header. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "ids.h"
#include "log.h"
#include "req.h"
#include "str.h"
#include "asset/custom_header_rules.h"
#include "asset/info.h"
#include "asset/info_static.h"
#include "asset/nginx_errors.h"
#include "asset/manifest_store.h"
#include "asset/nginx_include.h"
#include "asset/settings.h"
#include "banned.h"

/* Alternatives of customers or spaces in one generated location regex; the
 * whole regex must stay under nginx's 4096-byte token limit. */
#define ALT_MAX_BYTES 2500

/* Cache lifetime of images (delivery.md). */
#define IMAGE_CACHE_CONTROL "public, max-age=31536000"

/* Any customer (by id or name) and any space: dlcs.conf's alternatives. */
#define ANY_CUSTOMER "[^/]+"
#define ANY_SPACE    "\\d+"

/* Everything the include needs, one customer after the other, each
 * customer's customer-wide headers first, then by space. */
static const char SQL_RENDER[] =
	"SELECT h.customer_id, c.name, h.space_id, h.role, h.header_key,"
	" h.header_value FROM custom_headers h"
	" JOIN customers c ON c.id = h.customer_id"
	" ORDER BY h.customer_id, h.space_id IS NOT NULL, h.space_id, h.created, h.id";

/* ---- the table -------------------------------------------------------- */

/* The fast paths: nginx answers from the public link itself, and a missing
 * link sends the request to dlcs-image. In `regex`, "@C@" and "@S@" stand
 * for the customer and space alternatives. The captures are named because
 * the method check's regular expression resets $1..$9. */
struct fast_path {
	const char *block; /* its generated block in nginx/dlcs.conf */
	const char *what;  /* in the include's comments */
	const char *regex;
	const char *file; /* under $dlcs_storage/ */
	/* info.json (asset/info_static.h): 1 + its enum info_static_doc; 0 for
	 * the images, sent as they are stored */
	int info;
	/* the media types by the URI's extension, when not mime.types' (NULL);
	 * such a path (audio and video) also answers byte ranges itself:
	 * players seek with them, and a transcode is sent as it is stored */
	const char *types;
	/* where a miss goes in dlcs.conf when not to dlcs-image (NULL): the
	 * internal URI of the restricted tiles (nginx/dlcs.conf, "restricted
	 * tiles"). The custom-headers include sends misses to dlcs-image
	 * still: a customer's headers on restricted tiles are dlcs-image's to
	 * add (role-specific ones too). */
	const char *restricted;
};

static const struct fast_path FAST_PATHS[] = {
	/* Canonical tile URLs. */
	{"tiles", "tiles",
	 "^/iiif-img/(?:v[23]/)?(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/(?<dlcs_id>[^/]+)/"
	 "(?<dlcs_region>\\d+,\\d+,\\d+,\\d+)/(?<dlcs_w>\\d+),\\d*/0/default\\.jpg$",
	 "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/tiles/${dlcs_region}_$dlcs_w.jpg", 0, NULL,
	 "/dlcs-restricted/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/tiles/${dlcs_region}_$dlcs_w.jpg"},
	/* Stored sizes by their aliases (asset/thumb_alias.h): /iiif-img's in
	 * full/ ("full" for 2.1 only), */
	{"stored-sizes", "stored sizes",
	 "^/iiif-img/(?:v2/|(?:v3/)?(?![^/]+/\\d+/[^/]+/full/full/))(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/"
	 "(?<dlcs_id>[^/]+)/full/(?<dlcs_size>!?\\d+,\\d+|\\d+,|,\\d+|max|full)/0/default\\.jpg$",
	 "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/full/$dlcs_size.jpg", 0, NULL, NULL},
	/* and /thumbs's in thumbs/. */
	{"thumbs", "thumbnails",
	 "^/thumbs/(?:v2/)?(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/(?<dlcs_id>[^/]+)/full/"
	 "(?<dlcs_size>!?\\d+,\\d+|\\d+,|,\\d+)/0/default\\.jpg$",
	 "public/thumbs/$dlcs_c/$dlcs_s/$dlcs_id/thumbs/$dlcs_size.jpg", 0, NULL, NULL},
	/* info.json of open assets: nginx's copies (asset/info_static.h), their
	 * "id" filled in per request; /iiif-img/v3/ is a redirect (dlcs-image). */
	{"info", "info.json 3.0",
	 "^/iiif-img/(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/(?<dlcs_id>[^/]+)/info\\.json$",
	 "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/" INFO_STATIC_DIR "/" INFO_FILE_IMG_V3,
	 1 + INFO_IMG_V3, NULL, NULL},
	{"info", "info.json 2.1",
	 "^/iiif-img/v2/(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/(?<dlcs_id>[^/]+)/info\\.json$",
	 "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/" INFO_STATIC_DIR "/" INFO_FILE_IMG_V2,
	 1 + INFO_IMG_V2, NULL, NULL},
	{"info", "thumbnails' info.json 3.0",
	 "^/thumbs/(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/(?<dlcs_id>[^/]+)/info\\.json$",
	 "public/thumbs/$dlcs_c/$dlcs_s/$dlcs_id/" INFO_STATIC_DIR "/" INFO_FILE_THUMBS_V3,
	 1 + INFO_THUMBS_V3, NULL, NULL},
	{"info", "thumbnails' info.json 2.1",
	 "^/thumbs/v2/(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/(?<dlcs_id>[^/]+)/info\\.json$",
	 "public/thumbs/$dlcs_c/$dlcs_s/$dlcs_id/" INFO_STATIC_DIR "/" INFO_FILE_THUMBS_V2,
	 1 + INFO_THUMBS_V2, NULL, NULL},
	/* Transcodes of audio and video (asset/av_presets.h): at their public
	 * path under av/, with their presets' media types. */
	{"av", "audio and video",
	 "^/iiif-av/(?<dlcs_c>@C@)/(?<dlcs_s>@S@)/(?<dlcs_id>[^/]+)/"
	 "(?<dlcs_path>full/max/default\\.(?:mp3|m4a)|full/full/max/max/0/default\\.(?:mp4|webm))$",
	 "public/iiif-av/$dlcs_c/$dlcs_s/$dlcs_id/av/$dlcs_path", 0,
	 "audio/mpeg mp3; audio/mp4 m4a; video/mp4 mp4; video/webm webm;", NULL},
};
#define FAST_PATHS_N (sizeof FAST_PATHS / sizeof FAST_PATHS[0])

/* Headers nginx keeps from the application's response when it follows
 * X-Accel-Redirect: no need to add them back. */
static const char *const ACCEL_KEPT[] = {"Cache-Control", "Content-Disposition", "Expires", NULL};
/* Headers the X-Accel-Redirect location takes back from the application's
 * response for every file (what dlcs-image sends with /file originals:
 * nosniff, a sandbox): never a second time. */
static const char *const ACCEL_PASSED[] = {"X-Content-Type-Options", "Content-Security-Policy",
					   NULL};

/* ---- writing locations ------------------------------------------------- */

/* How a location is written: with the explanations (dlcs.conf) or without
 * (the include, where each customer's copy would repeat them). */
struct style {
	bool commented;
};

static void comment(struct sbuf *out, const struct style *st, const char *indent, const char *text)
{
	if (!st->commented)
		return;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		sbuf_printf(out, "%s# %.*s\n", indent, (int)len, p);
		p += len + (nl ? 1 : 0);
	}
}

/* The error_page lines of the errors listed for any of `where`. */
static void write_error_pages(struct sbuf *out, const struct style *st, const char *indent,
			      unsigned where)
{
	nginx_error_pages_write(out, st->commented, indent, where);
}

/* What every DLCS location ends with: its error pages (those of `where`
 * besides EP_DLCS's) and the admin's extra headers. */
static void write_location_tail(struct sbuf *out, const struct style *st, const char *indent,
				unsigned where)
{
	comment(out, st, indent,
		"nginx's own errors here as JSON: an error_page in a location replaces\n"
		"the inherited list, and the server level lists only the errors raised\n"
		"before a location is chosen.");
	struct style plain = {false};
	write_error_pages(out, &plain, indent, EP_DLCS | where);
	comment(out, st, indent, "The admin's headers for every DLCS response (see the top).");
	sbuf_printf(out, "%s" EXTRA_HEADERS_INCLUDE "\n", indent);
}

/* Appends value as an nginx double-quoted string. */
static void nginx_quote(struct sbuf *b, const char *value)
{
	sbuf_addc(b, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_addc(b, '\\');
		sbuf_addc(b, *p);
	}
	sbuf_addc(b, '"');
}

/* A fast path's regex with the customer and space alternatives in place. */
static void write_regex(struct sbuf *out, const char *regex, const char *calt, const char *salt)
{
	for (const char *p = regex; *p;) {
		if (str_starts(p, "@C@")) {
			sbuf_adds(out, calt);
			p += 3;
		} else if (str_starts(p, "@S@")) {
			sbuf_adds(out, salt);
			p += 3;
		} else {
			sbuf_addc(out, *p++);
		}
	}
}

/* A host as dlcs-image takes it for links (fcgi/serve.c host_ok). */
#define HOST_REGEX "\"^[A-Za-z0-9.:\\[\\]-]{1,255}$\""

/* What an info.json location does besides sending its file: the "id"
 * filled in (sub_filter), the Content-Type dlcs-image would choose, and the
 * requests whose answer differs sent to dlcs-image instead. */
static void write_info_directives(struct sbuf *out, const struct style *st,
				  const struct info_static_spec *spec)
{
	comment(out, st, "    ",
		"The scheme and host of the links, as dlcs-image takes them\n"
		"(fcgi/serve.c): X-Forwarded-Proto and X-Forwarded-Host when they are\n"
		"valid, else the request's own; a host dlcs-image would not take goes\n"
		"to dlcs-image (\"return 404\" is the fallback above).");
	sbuf_adds(out, "    set $dlcs_proto $scheme;\n"
		       "    if ($http_x_forwarded_proto ~ \"^https?$\") {\n"
		       "        set $dlcs_proto $http_x_forwarded_proto;\n"
		       "    }\n"
		       "    set $dlcs_host $http_host;\n"
		       "    if ($http_x_forwarded_host ~ " HOST_REGEX ") {\n"
		       "        set $dlcs_host $http_x_forwarded_host;\n"
		       "    }\n"
		       "    if ($dlcs_host !~ " HOST_REGEX ") {\n"
		       "        return 404;\n"
		       "    }\n");
	if (spec->version == 3) {
		comment(out, st, "    ",
			"Plain JSON acceptable, JSON-LD not (asset/info.c\n"
			"info_content_type): dlcs-image answers application/json.");
		sbuf_adds(out, "    if ($http_accept ~* "
			       "\"^(?!.*(?:application/ld\\+json|\\*/\\*|application/"
			       "\\*)).*application/json\") {\n"
			       "        return 404;\n"
			       "    }\n");
	} else {
		comment(out, st, "    ",
			"JSON-LD asked for (asset/info.c info_content_type): dlcs-image\n"
			"answers application/ld+json.");
		sbuf_adds(out, "    if ($http_accept ~* \"application/ld\\+json\") {\n"
			       "        return 404;\n"
			       "    }\n");
	}
	sbuf_adds(out, "    types { }\n    default_type ");
	nginx_quote(out, info_content_type(spec->version, NULL));
	sbuf_adds(out, ";\n");
	comment(out, st, "    ",
		"The marks of the \"id\" (asset/info_static.h): sub_filter reads the\n"
		"file into memory, and without sendfile that costs no more than\n"
		"sending it (with it, measured: a third more CPU per request).\n"
		"The weak ETag and Last-Modified are the file's, for 304s.");
	sbuf_printf(out,
		    "    sendfile off;\n"
		    "    sub_filter_types *;\n"
		    "    sub_filter_last_modified on;\n"
		    "    sub_filter '" INFO_BASE_MARK "' '$dlcs_proto://$dlcs_host';\n"
		    "    sub_filter '" INFO_PATH_MARK "' '%s/$dlcs_c/$dlcs_s/$dlcs_id';\n",
		    spec->prefix);
}

/* Cache-Control and Expires: the headers that make a response cacheable. */
static bool caching_header(const char *key)
{
	return str_ieq(key, "Cache-Control") || str_ieq(key, "Expires");
}

/* One fast-path location for customers calt and spaces salt, its headers
 * h[0..n) after CORS (a custom Cache-Control replaces the platform's);
 * restricted: its misses go to fp->restricted when it has one. */
static void write_fast_path(struct sbuf *out, const struct style *st, const struct fast_path *fp,
			    const char *calt, const char *salt, const struct custom_header *h,
			    size_t n, bool restricted)
{
	sbuf_adds(out, "location ~ \"");
	write_regex(out, fp->regex, calt, salt);
	sbuf_printf(out, "\" {\n    alias $dlcs_storage/%s;\n", fp->file);
	if (fp->types)
		sbuf_printf(out, "    types { %s }\n", fp->types);
	comment(out, st, "    ",
		"A file answers GET and HEAD; the 404 fallback below would turn any\n"
		"other method into a GET. (This \"if\" runs a regular expression, which\n"
		"resets $1..$9: hence the named captures.)");
	sbuf_adds(out, "    if ($request_method !~ ^(?:GET|HEAD)$) {\n"
		       "        return 405;\n"
		       "    }\n");
	if (!fp->types) {
		comment(out, st, "    ",
			"A range request goes to dlcs-image, which refuses a range past the\n"
			"end itself (nginx's 416 would carry this location's Cache-Control)\n"
			"and hands the others back to nginx.");
		sbuf_adds(out, "    if ($http_range) {\n"
			       "        return 404;\n"
			       "    }\n");
	}
	if (restricted && fp->restricted) {
		comment(out, st, "    ",
			"Not public: the restricted tiles' location below sends the tile\n"
			"through the session's grant, else hands the request to dlcs-image\n"
			"(restricted, not ingested, not stored, or a computed region). A\n"
			"missing file is the common case, not an error worth a log line.");
		comment(out, st, "    ",
			"(Its own error pages apply there only when this one is recursive:\n"
			"nginx applies no further error page after one from a location\n"
			"that is not.)");
		sbuf_printf(out,
			    "    error_page 404 = %s;\n"
			    "    recursive_error_pages on;\n"
			    "    log_not_found off;\n",
			    fp->restricted);
	} else {
		comment(out, st, "    ",
			"Not public (restricted, not ingested, not stored, or a computed\n"
			"region): dlcs-image decides. A missing file is the common case, not an\n"
			"error worth a log line.");
		sbuf_adds(out, "    error_page 404 = @dlcs_image;\n"
			       "    log_not_found off;\n");
	}
	const struct info_static_spec *info = fp->info ? &INFO_STATIC[fp->info - 1] : NULL;
	if (info)
		write_info_directives(out, st, info);
	sbuf_adds(out, "    add_header Access-Control-Allow-Origin \"*\" always;\n");
	if (info) {
		/* what dlcs-image's send_info adds (iiif/delivery.c) */
		sbuf_adds(out, "    add_header Vary Accept;\n");
		if (info->version == 2) {
			sbuf_adds(out, "    add_header Link ");
			nginx_quote(out, INFO_LINK_2);
			sbuf_adds(out, ";\n");
		}
	}
	bool cache_control = false;
	for (size_t i = 0; i < n; i++)
		cache_control |= str_ieq(h[i].key, "Cache-Control");
	if (!cache_control)
		sbuf_printf(out, "    add_header Cache-Control \"%s\";\n",
			    info ? INFO_CACHE_CONTROL : IMAGE_CACHE_CONTROL);
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(out, "    add_header %s ", h[i].key);
		nginx_quote(out, h[i].value);
		/* a customer's caching headers, as the platform's, on success
		 * only: an error is never cached */
		sbuf_adds(out, caching_header(h[i].key) ? ";\n" : " always;\n");
	}
	write_location_tail(out, st, "    ", EP_FILES);
	sbuf_adds(out, "}\n");
}

/* The lower-case key with '-' as '_': its nginx $upstream_http_ name. */
static const char *upstream_var(struct arena *a, const char *key)
{
	char *v = arena_strdup(a, key);
	for (char *p = v; *p; p++)
		*p = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
	return v;
}

/* The internal location of X-Accel-Redirect files: the keys[0..n) (.key as
 * spelled, .value its variable name) are taken back from the application's
 * response, after those every file carries (ACCEL_PASSED). The caching
 * headers come as X-DLCS-Cache-Control and X-DLCS-Expires (nginx would copy
 * a Cache-Control or Expires of the application's into any answer of this
 * location, an error too), and are added back to the file's success
 * answers only (add_header without "always"). */
static void write_accel_location(struct sbuf *out, struct arena *a, const struct style *st,
				 const struct custom_header *keys, size_t n)
{
	sbuf_adds(out, "location ~ ^/dlcs-storage/(.+)$ {\n"
		       "    internal;\n"
		       "    alias $dlcs_storage/$1;\n"
		       "    open_file_cache max=20000 inactive=60s;\n"
		       "    open_file_cache_valid 5s;\n"
		       "    add_header Access-Control-Allow-Origin \"*\" always;\n");
	comment(out, st, "    ",
		"The file's caching headers, from dlcs-image's response; on success\n"
		"only, so that an error (the file deleted meanwhile, a range past its\n"
		"end) keeps its no-store.");
	sbuf_adds(out, "    add_header Cache-Control $upstream_http_x_dlcs_cache_control;\n"
		       "    add_header Expires $upstream_http_x_dlcs_expires;\n");
	comment(out, st, "    ",
		"Taken back from dlcs-image's response: what it sends with /file\n"
		"originals (nosniff, a sandbox); an empty variable adds nothing.");
	for (const char *const *l = ACCEL_PASSED; *l; l++)
		sbuf_printf(out, "    add_header %s $upstream_http_%s always;\n", *l,
			    upstream_var(a, *l));
	for (size_t i = 0; i < n; i++)
		sbuf_printf(out, "    add_header %s $upstream_http_%s always;\n", keys[i].key,
			    keys[i].value);
	write_location_tail(out, st, "    ", EP_FILES | EP_STORAGE);
	sbuf_adds(out, "}\n");
}

/* ---- nginx/dlcs.conf's generated blocks -------------------------------- */

static void block_error_pages(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	struct style st = {true};
	write_error_pages(out, &st, indent, EP_SERVER);
}

static void block_error_locations(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	(void)indent;
	nginx_error_locations_write(out);
}

/* The end of each DLCS location that dlcs.conf writes by hand. */
static void block_location_tail(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	struct style st = {true};
	write_location_tail(out, &st, indent, 0);
}

static void block_fast_path(struct sbuf *out, const char *name)
{
	struct style st = {true};
	for (size_t i = 0; i < FAST_PATHS_N; i++)
		if (strcmp(FAST_PATHS[i].block, name) == 0)
			write_fast_path(out, &st, &FAST_PATHS[i], ANY_CUSTOMER, ANY_SPACE, NULL, 0,
					true);
}

static void block_tiles(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	(void)indent;
	block_fast_path(out, "tiles");
}

static void block_stored_sizes(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	(void)indent;
	block_fast_path(out, "stored-sizes");
}

static void block_thumbs(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	(void)indent;
	block_fast_path(out, "thumbs");
}

static void block_info(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	(void)indent;
	block_fast_path(out, "info");
}

static void block_av(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	(void)indent;
	block_fast_path(out, "av");
}

static void block_storage(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)indent;
	struct style st = {true};
	write_accel_location(out, a, &st, NULL, 0);
}

/* The internal location of the stored manifests (asset/manifest_store.h),
 * which the API sends with X-Accel-Redirect once it has checked them. */
static void block_manifests(struct sbuf *out, struct arena *a, const char *indent)
{
	(void)a;
	(void)indent;
	struct style st = {true};
	/* quoted: nginx reads a bare '{' as the block's start */
	sbuf_adds(out, "location ~ \"^" MSTORE_NGINX_LOCATION
		       "/([0-9]+/[0-9a-f]{64}/[0-9a-f]{64}\\.json)$\" {\n"
		       "    internal;\n"
		       "    alias $dlcs_storage/" MSTORE_DIR "/$1;\n");
	comment(out, &st, "    ",
		"The API's ETag (of the assets' row versions), not nginx's (of the\n"
		"file's time and size: two manifests of one size made in one second\n"
		"would share it); the file's time moves when it is used, so it\n"
		"answers no If-Modified-Since either (the API answers If-None-Match).\n"
		"The caching headers on success only, so that an error (the file\n"
		"deleted meanwhile) keeps its no-store.");
	sbuf_adds(out, "    etag off;\n"
		       "    if_modified_since off;\n"
		       "    add_header Access-Control-Allow-Origin \"*\" always;\n"
		       "    add_header ETag $upstream_http_x_dlcs_etag;\n"
		       "    add_header Cache-Control $upstream_http_x_dlcs_cache_control;\n"
		       "    add_header Vary $upstream_http_x_dlcs_vary;\n");
	write_location_tail(out, &st, "    ", EP_FILES | EP_STORAGE);
	sbuf_adds(out, "}\n");
}

/* The blocks; a block marked `repeated` may appear any number of times
 * (once or more), each with its marker's indentation. */
static const struct {
	const char *name;
	void (*write)(struct sbuf *out, struct arena *a, const char *indent);
	bool repeated;
} BLOCKS[] = {
	{"error-pages", block_error_pages, false},
	{"error-locations", block_error_locations, false},
	{"location-tail", block_location_tail, true},
	{"tiles", block_tiles, false},
	{"stored-sizes", block_stored_sizes, false},
	{"thumbs", block_thumbs, false},
	{"info", block_info, false},
	{"av", block_av, false},
	{"storage", block_storage, false},
	{"manifests", block_manifests, false},
};
#define BLOCKS_N (sizeof BLOCKS / sizeof BLOCKS[0])

#define BEGIN_MARK "# BEGIN GENERATED "
#define END_MARK   "# END GENERATED "

/* The block a marker line (line[0..len), after blanks) names, after
 * `mark`: BLOCKS_N for none known, or -1 when the line is no such
 * marker. */
static long marker_block(const char *line, size_t len, const char *mark)
{
	size_t m = strlen(mark), blank = strspn(line, " ");
	if (blank > len || len - blank < m || memcmp(line + blank, mark, m) != 0)
		return -1;
	const char *name = line + blank + m;
	size_t n = strcspn(name, " \n");
	for (size_t i = 0; i < BLOCKS_N; i++)
		if (strlen(BLOCKS[i].name) == n && memcmp(BLOCKS[i].name, name, n) == 0)
			return (long)i;
	return (long)BLOCKS_N;
}

const char *nginx_conf_generate(struct arena *a, const char *text, const char **why)
{
	struct sbuf out;
	sbuf_init(&out, a);
	bool seen[BLOCKS_N] = {false};
	long open = -1; /* the block whose lines are being replaced */
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		long begin = marker_block(p, len, BEGIN_MARK), end = marker_block(p, len, END_MARK);
		if (begin == (long)BLOCKS_N || end == (long)BLOCKS_N) {
			*why = arena_printf(a, "unknown generated block: %.*s",
					    (int)strcspn(p, "\n"), p);
			return NULL;
		}
		if (open < 0 && begin >= 0) {
			if (seen[begin] && !BLOCKS[begin].repeated) {
				*why = arena_printf(a, "block %s appears twice",
						    BLOCKS[begin].name);
				return NULL;
			}
			seen[begin] = true;
			sbuf_add(&out, p, len);
			BLOCKS[begin].write(&out, a, arena_strndup(a, p, strspn(p, " ")));
			open = begin;
		} else if (open >= 0 && end == open) {
			sbuf_add(&out, p, len);
			open = -1;
		} else if (open < 0 && end >= 0) {
			*why = arena_printf(a, "block %s ends before it begins", BLOCKS[end].name);
			return NULL;
		} else if (open < 0) {
			sbuf_add(&out, p, len);
		} else if (begin >= 0) {
			*why = arena_printf(a, "block %s begins inside %s", BLOCKS[begin].name,
					    BLOCKS[open].name);
			return NULL;
		}
		p += len;
	}
	if (open >= 0) {
		*why = arena_printf(a, "block %s does not end", BLOCKS[open].name);
		return NULL;
	}
	for (size_t i = 0; i < BLOCKS_N; i++)
		if (!seen[i]) {
			*why = arena_printf(a, "block %s is missing", BLOCKS[i].name);
			return NULL;
		}
	return out.buf;
}

/* ---- the include ------------------------------------------------------- */

/* One row of the rendering query. */
struct rrow {
	int c;
	const char *name;
	bool has_space;
	int s;
	const char *role;
	const char *key, *value;
};

/* A customer's (or spaces') fast-path locations to write: the customer and
 * space alternatives and the headers. */
struct rloc {
	int c; /* first customer, for a stable order */
	bool space_level;
	const char *calt; /* "5|acme" */
	const char *salt; /* "3|4", or "\\d+" for customer-wide */
	struct custom_header *h;
	size_t n;
	const char *sig; /* the headers as one string, to share locations */
};

/* True when nginx puts key on the answer of an X-Accel-Redirect file by
 * itself (ACCEL_KEPT, ACCEL_PASSED): no need to add it back. */
static bool accel_kept(const char *key)
{
	for (const char *const *l = ACCEL_KEPT; *l; l++)
		if (str_ieq(*l, key))
			return true;
	for (const char *const *l = ACCEL_PASSED; *l; l++)
		if (str_ieq(*l, key))
			return true;
	return false;
}

/* "5|acme": the customer's id, and its name when the name can be a path
 * segment of its own (not all digits: that would be another customer's id),
 * with the regex metacharacter '.' escaped. */
static const char *customer_alt(struct arena *a, int c, const char *name)
{
	struct sbuf b;
	sbuf_init(&b, a);
	sbuf_printf(&b, "%d", c);
	if (name && *name && strspn(name, "0123456789") != strlen(name) &&
	    customer_name_valid(name)) {
		sbuf_addc(&b, '|');
		for (const char *p = name; *p; p++) {
			if (*p == '.')
				sbuf_addc(&b, '\\');
			sbuf_addc(&b, *p);
		}
	}
	return b.buf;
}

/* A location's headers, copied, with their signature. */
static struct rloc rloc_make(struct arena *a, int c, bool space_level, const char *calt,
			     const char *salt, const struct custom_header *h, size_t n)
{
	struct rloc l = {c, space_level, calt, salt, NULL, n, NULL};
	l.h = arena_alloc(a, (n + 1) * sizeof *l.h);
	memcpy(l.h, h, n * sizeof *h);
	struct sbuf sig;
	sbuf_init(&sig, a);
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&sig, "%s\n%s\n", h[i].key, h[i].value);
	l.sig = sig.buf;
	return l;
}

static int rloc_cmp(const void *pa, const void *pb)
{
	const struct rloc *x = pa, *y = pb;
	int d = strcmp(x->sig, y->sig);
	return d ? d : (x->c > y->c) - (x->c < y->c);
}

static int key_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct custom_header *)pa)->value,
		      ((const struct custom_header *)pb)->value);
}

/* The X-Accel-Redirect location, with every key any customer uses. */
static void include_accel_location(struct sbuf *out, struct arena *a, const struct rrow *rows,
				   size_t nrows)
{
	struct custom_header *keys = arena_alloc(a, (nrows + 1) * sizeof *keys);
	size_t nkeys = 0; /* .key: the first spelling seen; .value: its variable name */
	for (size_t i = 0; i < nrows; i++) {
		if (accel_kept(rows[i].key))
			continue;
		const char *var = upstream_var(a, rows[i].key);
		bool seen = false;
		for (size_t j = 0; j < nkeys && !seen; j++)
			seen = strcmp(keys[j].value, var) == 0;
		if (!seen)
			keys[nkeys++] = (struct custom_header){rows[i].key, var};
	}
	qsort(keys, nkeys, sizeof *keys, key_cmp);
	sbuf_adds(out, "# Files the application answers with X-Accel-Redirect: nginx drops the\n"
		       "# application's own headers then, so the custom ones are taken back.\n");
	struct style st = {false};
	write_accel_location(out, a, &st, keys, nkeys);
	sbuf_addc(out, '\n');
}

/* The fast-path locations of customers calt, spaces salt. */
static int include_fast_paths(struct sbuf *out, const char *what, const struct rloc *l,
			      const char *calt)
{
	struct style st = {false};
	for (size_t i = 0; i < FAST_PATHS_N; i++) {
		sbuf_printf(out, "# %s: %s\n", what, FAST_PATHS[i].what);
		write_fast_path(out, &st, &FAST_PATHS[i], calt, l->salt, l->h, l->n, false);
		sbuf_addc(out, '\n');
	}
	return (int)FAST_PATHS_N;
}

/* Writes the fast-path locations locs[0..nlocs): space locations first
 * (they are more specific than their customer's), in customer order; then
 * the customer-wide ones, customers with the same headers sharing a
 * location. Returns how many locations it wrote. */
static int include_locations(struct sbuf *out, struct arena *a, struct rloc *locs, size_t nlocs)
{
	int written = 0;
	for (size_t k = 0; k < nlocs; k++) {
		if (!locs[k].space_level)
			continue;
		const char *what =
			arena_printf(a, "customer %d, space(s) %s", locs[k].c, locs[k].salt);
		written += include_fast_paths(out, what, &locs[k], locs[k].calt);
	}
	struct rloc *wide = arena_alloc(a, (nlocs + 1) * sizeof *wide);
	size_t nw = 0;
	for (size_t k = 0; k < nlocs; k++)
		if (!locs[k].space_level)
			wide[nw++] = locs[k];
	qsort(wide, nw, sizeof *wide, rloc_cmp);
	for (size_t k = 0; k < nw;) {
		struct sbuf alt;
		sbuf_init(&alt, a);
		sbuf_adds(&alt, wide[k].calt);
		size_t g = k + 1;
		while (g < nw && strcmp(wide[g].sig, wide[k].sig) == 0 &&
		       alt.len + strlen(wide[g].calt) < ALT_MAX_BYTES) {
			sbuf_addc(&alt, '|');
			sbuf_adds(&alt, wide[g].calt);
			g++;
		}
		written += include_fast_paths(out, arena_printf(a, "customer(s) %s", alt.buf),
					      &wide[k], alt.buf);
		k = g;
	}
	return written;
}

/* The locations of one customer's rows[i..end): its customer-wide headers,
 * then each space's on top of them (role-specific rows are the
 * application's), appended to locs[*nlocs..]. h has room for end - i + 1. */
static void customer_locations(struct arena *a, const struct rrow *rows, size_t i, size_t end,
			       struct custom_header *h, struct rloc *locs, size_t *nlocs)
{
	int c = rows[i].c;
	const char *calt = customer_alt(a, c, rows[i].name);
	size_t nwide = 0, j = i;
	bool role_rows = false;
	for (size_t k = i; k < end; k++)
		role_rows |= rows[k].role != NULL;
	for (; j < end && !rows[j].has_space; j++)
		if (!rows[j].role)
			custom_header_set(h, &nwide, rows[j].key, rows[j].value);
	struct rloc wide = rloc_make(a, c, false, calt, ANY_SPACE, h, nwide);
	/* role-specific headers only: locations all the same, so that its
	 * restricted tiles go to dlcs-image, which adds them */
	if (nwide || role_rows)
		locs[(*nlocs)++] = wide;
	/* Spaces, in id order; spaces with the same headers share a location. */
	size_t first_space_loc = *nlocs;
	while (j < end) {
		int s = rows[j].s;
		size_t n = nwide;
		memcpy(h, wide.h, nwide * sizeof *h);
		bool any = false;
		for (; j < end && rows[j].s == s; j++) {
			if (rows[j].role)
				continue;
			custom_header_set(h, &n, rows[j].key, rows[j].value);
			any = true;
		}
		if (!any)
			continue;
		struct rloc l = rloc_make(a, c, true, calt, arena_printf(a, "%d", s), h, n);
		size_t k = first_space_loc;
		while (k < *nlocs && (strcmp(locs[k].sig, l.sig) != 0 ||
				      strlen(locs[k].salt) + strlen(l.salt) >= ALT_MAX_BYTES))
			k++;
		if (k < *nlocs)
			locs[k].salt = arena_printf(a, "%s|%s", locs[k].salt, l.salt);
		else
			locs[(*nlocs)++] = l;
	}
}

const char *nginx_include_first_line(struct arena *a, long long generation)
{
	return arena_printf(a, "# generation %lld of the custom headers (table change_counters)\n",
			    generation);
}

/* Builds the whole include from the rendering query's rows. */
static const char *render_text(struct arena *a, long long generation, const struct rrow *rows,
			       size_t nrows, int *nlocations)
{
	struct sbuf out;
	sbuf_init(&out, a);
	sbuf_adds(&out, nginx_include_first_line(a, generation));
	sbuf_adds(&out, "# Custom headers of the DLCS customers, for the responses nginx "
			"makes itself.\n"
			"# GENERATED from the database (handlers/asset/nginx_include.c) by "
			"the runner\n"
			"# that renders it after each change to "
			"/customers/{c}/customHeaders, and by\n"
			"# `dlcs-admin render-headers`; every edit here is lost on the "
			"next change.\n"
			"# Put headers of your own in your server block instead. Include "
			"this file\n"
			"# in the server block BEFORE nginx/dlcs.conf: its regex locations "
			"must be\n"
			"# tried before dlcs.conf's.\n\n");
	include_accel_location(&out, a, rows, nrows);

	struct rloc *locs = arena_alloc(a, (nrows + 1) * sizeof *locs);
	size_t nlocs = 0;
	struct custom_header *h = arena_alloc(a, (nrows + 1) * sizeof *h);
	for (size_t i = 0; i < nrows;) {
		size_t end = i;
		while (end < nrows && rows[end].c == rows[i].c)
			end++;
		customer_locations(a, rows, i, end, h, locs, &nlocs);
		i = end;
	}
	*nlocations = 1 + include_locations(&out, a, locs, nlocs);
	return out.buf;
}

const char *nginx_include_render(struct db *db, struct arena *a, long long generation,
				 int *nlocations)
{
	struct db_rows *r = db_query(db, a, SQL_RENDER, "");
	if (!r) {
		log_err("custom headers: cannot read them: %s", db_last_msg(db));
		return NULL;
	}
	struct rrow *rows = arena_alloc(a, (r->n + 1) * sizeof *rows);
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const char *key = db_str(r, i, 4), *value = db_str(r, i, 5);
		/* Rows written before a rule changed are left out rather than
		 * allowed to act or to break nginx's configuration. */
		if (custom_header_row_refused((int)db_int(r, i, 0), key, value))
			continue;
		rows[n++] = (struct rrow){
			.c = (int)db_int(r, i, 0),
			.name = db_str(r, i, 1),
			.has_space = !db_isnull(r, i, 2),
			.s = (int)db_int(r, i, 2),
			.role = db_str(r, i, 3),
			.key = key,
			.value = value,
		};
	}
	return render_text(a, generation, rows, n, nlocations);
}
