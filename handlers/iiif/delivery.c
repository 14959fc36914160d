/* Delivery handlers (see delivery.h). Each public handler is a thin wrapper
 * that fixes the version and the channel and ends in finish(), which gives
 * errors their Cache-Control. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "db.h"
#include "ids.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "req.h"
#include "sha256.h"
#include "str.h"
#include "asset/access.h"
#include "asset/auth_doc.h"
#include "asset/auth_session.h"
#include "asset/grant.h"
#include "asset/av_presets.h"
#include "asset/av_stored.h"
#include "asset/channel_rules.h"
#include "asset/iiif_parse.h"
#include "asset/info.h"
#include "asset/row.h"
#include "asset/store.h"
#include "iiif/byte_range.h"
#include "iiif/custom_headers_apply.h"
#include "iiif/delivery.h"
#include "iiif/render.h"
#include "iiif/render_cache.h"
#include "asset/settings.h"
#include "banned.h"

#define CC_IMAGE "public, max-age=31536000"
#define CC_INFO  INFO_CACHE_CONTROL
#define CC_ERROR "no-store"

/* A 503 for an asset being ingested asks to come back after this long. */
#define RETRY_AFTER "10"

enum { SQL_CUSTOMER_BY_NAME, SQL_ASSET, SQL__MAX };

static const char *const sql[SQL__MAX] = {
	[SQL_CUSTOMER_BY_NAME] = "SELECT id FROM customers WHERE name = ?",
	[SQL_ASSET] = "SELECT " ASSET_COLUMNS " FROM assets a"
		      " WHERE a.customer_id = ? AND a.space_id = ? AND a.id = ?",
};

struct delivery_asset {
	const char *cpart; /* the customer as the path gave it */
	int c, s;
	const char *id;
	const char *roles; /* JSON text */
	int max_unauthorised;
	bool restricted;
	const char *channels, *media_type, *finished;
	int width, height; /* 0 when unknown */
	bool ingesting;
	const char *rel; /* "{c}/{s}/{id}", relative to storage_root */
	const char *dir;
	struct stored st;
};

enum need { NEED_TILES, NEED_SIZES, NEED_ORIGINAL, NEED_AV };

/* --- configuration --- */

static const char *storage_root(struct req *rq)
{
	return setting_str(rq->app->cfg, S_STORAGE_ROOT);
}

static const char *internal_prefix(struct req *rq)
{
	return setting_str(rq->app->cfg, S_NGINX_STORAGE_LOCATION);
}

static long long max_area(struct req *rq)
{
	return setting_int(rq->app->cfg, S_IMAGE_MAX_AREA);
}

static int jpeg_quality(struct req *rq)
{
	return (int)setting_int(rq->app->cfg, S_IMAGE_JPEG_QUALITY);
}

/* --- response helpers --- */

static bool has_header(struct req *rq, const char *name)
{
	for (size_t i = 0; i < rq->nresp_headers; i++)
		if (str_ieq(rq->resp_headers[i].key, name))
			return true;
	return false;
}

/* Our defaults give way to a customer's header of the same name. */
static void header_default(struct req *rq, const char *name, const char *value)
{
	if (!has_header(rq, name))
		req_header(rq, name, value);
}

/* Removes every response header of this name. */
static void header_drop(struct req *rq, const char *name)
{
	size_t k = 0;
	for (size_t i = 0; i < rq->nresp_headers; i++)
		if (!str_ieq(rq->resp_headers[i].key, name))
			rq->resp_headers[k++] = rq->resp_headers[i];
	rq->nresp_headers = k;
}

/* An error is never cached: a customer's caching headers (Cache-Control,
 * Expires), which replace the platform's on its images, give way to
 * no-store here. */
static int finish(struct req *rq, int status)
{
	if (status >= 400) {
		header_drop(rq, "Cache-Control");
		header_drop(rq, "Expires");
		req_header(rq, "Cache-Control", CC_ERROR);
	}
	return status;
}

/* If-None-Match against a strong tag (weak comparison, as RFC 9110 asks). */
static bool not_modified(struct req *rq, const char *etag)
{
	const char *inm = req_header_in(rq, "If-None-Match");
	if (!inm)
		return false;
	size_t elen = strlen(etag);
	for (const char *p = inm; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		size_t n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && strncmp(p, etag, n) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

/* A body the application makes itself (info.json, an uncached render). */
static int send_bytes(struct req *rq, const void *data, size_t len, const char *type,
		      const char *cache_control, const char *etag)
{
	header_default(rq, "Cache-Control", cache_control);
	req_header(rq, "ETag", etag);
	if (not_modified(rq, etag)) {
		rq->status = 304;
		return 304;
	}
	sbuf_init(&rq->out, rq->arena);
	sbuf_add(&rq->out, data, len);
	rq->content_type = type;
	rq->status = 200;
	return 200;
}

/* A file under storage_root (rel), sent by nginx through X-Accel-Redirect
 * to its internal location (ranges, ETag, Last-Modified and 304 are
 * nginx's). 0 when the file is missing (nothing answered). */
static int send_file(struct req *rq, const char *rel, const char *type, const char *cache_control)
{
	const char *path = arena_printf(rq->arena, "%s/%s", storage_root(rq), rel);
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	/* A range nginx would refuse: answered here, since nginx's own 416
	 * would carry the file's caching headers (iiif/byte_range.h). With
	 * If-Range nginx may serve the whole file instead: its call. */
	const char *range = req_header_in(rq, "Range");
	if (range && !req_header_in(rq, "If-Range") &&
	    !byte_range_satisfiable(range, (long long)st.st_size)) {
		req_header(rq, "Content-Range",
			   arena_printf(rq->arena, "bytes */%lld", (long long)st.st_size));
		return req_fail(rq, 416, "the range is not within the file (%lld bytes)",
				(long long)st.st_size);
	}
	header_default(rq, "Cache-Control", cache_control);
	/* nginx copies the application's Cache-Control and Expires into
	 * whatever its internal location answers, an error too: they travel
	 * under other names, which that location adds back to the file's
	 * success answers only (nginx/dlcs.conf, "storage"). */
	for (size_t i = 0; i < rq->nresp_headers; i++) {
		if (str_ieq(rq->resp_headers[i].key, "Cache-Control"))
			rq->resp_headers[i].key = "X-DLCS-Cache-Control";
		else if (str_ieq(rq->resp_headers[i].key, "Expires"))
			rq->resp_headers[i].key = "X-DLCS-Expires";
	}
	req_header(rq, "X-Accel-Redirect",
		   arena_printf(rq->arena, "%s/%s", internal_prefix(rq), rel));
	rq->content_type = type;
	rq->status = 200;
	return 200;
}

static int redirect(struct req *rq, int status, const char *location)
{
	req_header(rq, "Location", location);
	header_default(rq, "Cache-Control", CC_INFO);
	rq->status = status;
	return status;
}

/* --- the asset --- */

/* The path's customer: its id, or its name looked up. 0 or the status. */
static int customer_resolve(struct req *rq, const char *cpart, int *c)
{
	long long v;
	if (str_to_ll(cpart, 0, INT_MAX, &v)) {
		*c = (int)v;
		return 0;
	}
	if (!customer_name_valid(cpart))
		return req_fail(rq, 404, "customer '%s' not found", cpart);
	struct db_rows *r = db_query(rq->app->db, rq->arena, sql[SQL_CUSTOMER_BY_NAME], "s", cpart);
	if (!r)
		return req_db_fail(rq, "looking up the customer");
	if (r->n == 0)
		return req_fail(rq, 404, "customer '%s' not found", cpart);
	*c = (int)db_int(r, 0, 0);
	return 0;
}

static const char *need_channel(enum need need)
{
	switch (need) {
	case NEED_TILES:
		return "iiif-img";
	case NEED_SIZES:
		return "thumbs";
	case NEED_AV:
		return "iiif-av";
	default:
		return "file";
	}
}

/* Loads the path's asset and what it needs on disk, applying the custom
 * headers on the way. 0, or the status it answered. */
static int asset_load(struct req *rq, enum need need, struct delivery_asset *as)
{
	memset(as, 0, sizeof *as);
	as->cpart = rq->strs[0];
	as->s = (int)rq->ints[0];
	as->id = rq->strs[1];
	int st = customer_resolve(rq, as->cpart, &as->c);
	if (st)
		return st;
	if (!asset_id_valid(as->id)) {
		custom_headers_apply(rq, as->c, as->s, NULL);
		return req_fail(rq, 404, "asset not found");
	}
	struct db_rows *r =
		db_query(rq->app->db, rq->arena, sql[SQL_ASSET], "iis", as->c, as->s, as->id);
	if (!r)
		return req_db_fail(rq, "reading the asset");
	if (r->n == 0) {
		custom_headers_apply(rq, as->c, as->s, NULL);
		return req_fail(rq, 404, "asset %d/%d/%s not found", as->c, as->s, as->id);
	}
	as->roles = db_str(r, 0, ACOL_ROLES);
	as->max_unauthorised = (int)db_int(r, 0, ACOL_MAX_UNAUTHORISED);
	as->channels = db_str(r, 0, ACOL_DELIVERY_CHANNELS);
	as->media_type = db_str(r, 0, ACOL_MEDIA_TYPE);
	as->width = (int)db_int(r, 0, ACOL_WIDTH);
	as->height = (int)db_int(r, 0, ACOL_HEIGHT);
	as->ingesting = db_int(r, 0, ACOL_INGESTING) != 0;
	as->finished = db_str(r, 0, ACOL_FINISHED);
	const char *error = db_str(r, 0, ACOL_ERROR);
	as->restricted = !asset_is_open(rq->arena, as->roles, as->max_unauthorised);
	custom_headers_apply(rq, as->c, as->s, as->roles);

	const char *channel = need_channel(need);
	if (!channels_has(as->channels, channel))
		return req_fail(rq, 404, "asset %d/%d/%s is not delivered on the %s channel", as->c,
				as->s, as->id, channel);
	if (error && !as->ingesting)
		return req_fail(rq, 404, "asset %d/%d/%s failed to ingest", as->c, as->s, as->id);
	as->rel = arena_printf(rq->arena, "%d/%d/%s", as->c, as->s, as->id);
	as->dir = store_asset_dir(rq->arena, storage_root(rq), as->c, as->s, as->id);
	bool have;
	if (need == NEED_ORIGINAL) {
		have = store_file_exists(rq->arena, as->dir, "original");
	} else if (need == NEED_AV) {
		have = store_file_exists(rq->arena, as->dir, AV_STORED_FILE);
	} else {
		stored_load(rq->arena, as->dir, &as->st);
		have = need == NEED_TILES ? as->st.has_tiles : as->st.has_sizes;
	}
	if (!have) {
		/* A new asset whose first ingest is running: come back soon. (A
		 * re-ingest keeps the old files until the new ones replace them.) */
		if (as->ingesting) {
			req_header(rq, "Retry-After", RETRY_AFTER);
			return req_fail(rq, 503,
					"asset %d/%d/%s is being ingested, try again shortly",
					as->c, as->s, as->id);
		}
		return req_fail(rq, 404, "asset %d/%d/%s has no %s files", as->c, as->s, as->id,
				channel);
	}
	return 0;
}

/* w×h: a whole image; <= 0: the whole service, or an original. */
static bool access_allows(const struct delivery_asset *as, int w, int h)
{
	return asset_size_is_open(!as->restricted, as->max_unauthorised, w, h);
}

/* The access flow's decision (asset/auth_session.h) for the session whose
 * cookie the request carries: 200, 401 (none, or not live) or 403. */
/* The session of customer c's cookie in the request: 1 with *cookie and
 * *s, 0 when there is none, negative on a database error. */
static int request_session(struct req *rq, int c, const char **cookie, struct auth_session *s)
{
	*cookie = auth_cookie_value(rq->arena, req_header_in(rq, "Cookie"),
				    arena_printf(rq->arena, "dlcs-auth2-%d", c));
	return auth_session_find_cached(rq->app->db, rq->app->auth_cache,
					setting_str(rq->app->cfg, S_AUTH_REVOCATION_FILE),
					rq->arena, c, *cookie, s);
}

static int session_decision(struct req *rq, const struct delivery_asset *as)
{
	const char *cookie;
	struct auth_session s;
	int found = request_session(rq, as->c, &cookie, &s);
	if (found < 0)
		return -1;
	return auth_session_decide(rq->arena, as->c, as->roles, found ? &s : NULL);
}

/* After a tile sent to a session that may see the asset: nginx sends the
 * session's next tiles of it itself (asset/grant.h), from a decision taken
 * from what the database said at `decided` or later. */
static void grant_tiles(struct req *rq, const struct delivery_asset *as,
			const struct timespec *decided)
{
	const char *cookie;
	struct auth_session s;
	if (request_session(rq, as->c, &cookie, &s) == 1 &&
	    grant_make(rq->arena, storage_root(rq), as->c, cookie, s.expires_at, as->s, as->id,
		       decided) < 0)
		log_err("%s: cannot grant %s under %s/" GRANT_DIR ": %s", rq->request_id, as->rel,
			storage_root(rq), strerror(errno));
}

int delivery_access(struct req *rq, const struct delivery_asset *as, int w, int h)
{
	if (access_allows(as, w, h))
		return 0;
	int d = session_decision(rq, as);
	if (d < 0)
		return req_db_fail(rq, "reading the session");
	if (d == 200) {
		/* one viewer's: no shared cache keeps it, and the browser asks
		 * again (a logout ends it at once) */
		header_default(rq, "Cache-Control", "private, no-cache");
		req_header(rq, "Vary", "Cookie");
		return 0;
	}
	if (d == 403)
		return req_fail(rq, 403, "asset %d/%d/%s: the session does not hold its roles",
				as->c, as->s, as->id);
	if (w > 0 && h > 0 && as->max_unauthorised >= 0)
		return req_fail(rq, 401,
				"asset %d/%d/%s is restricted: images larger than %d pixels need "
				"authorisation",
				as->c, as->s, as->id, as->max_unauthorised);
	return req_fail(rq, 401, "asset %d/%d/%s is restricted: authorisation is required", as->c,
			as->s, as->id);
}

/* --- info.json --- */

static int send_info(struct req *rq, int version, const struct info_doc *d)
{
	struct jw *w = jw_new(rq->arena);
	info_write(w, d);
	size_t len;
	const char *text = jw_text(w, &len);
	if (!text)
		return req_fail(rq, 500, "could not generate info.json");
	char hex[65];
	sha256_hex(text, len, hex);
	const char *etag = arena_printf(rq->arena, "\"%.32s\"", hex);
	const char *type = info_content_type(version, req_header_in(rq, "Accept"));
	req_header(rq, "Vary", "Accept");
	if (version == 2 && strcmp(type, "application/json") == 0)
		req_header(rq, "Link", INFO_LINK_2);
	return send_bytes(rq, text, len, type, CC_INFO, etag);
}

static const char *service_id(struct req *rq, const char *prefix, int version,
			      const struct delivery_asset *as)
{
	/* checked by asset_load: safe in a path as they are */
	return req_url(rq, "/%s/%s%s/%d/%s", prefix, version == 2 ? "v2/" : "", as->cpart, as->s,
		       as->id);
}

static int longest(int w, int h)
{
	return w > h ? w : h;
}

/* A restricted asset's info.json answers 200 (CONTRACT section 9): with
 * its auth services, and for a caller without access only the open sizes
 * and maxWidth/maxHeight of maxUnauthorised; the answer depends on the
 * caller, so no shared cache keeps it. */
static int restricted_info(struct req *rq, const struct delivery_asset *as, struct info_doc *d)
{
	struct jw *w = jw_new(rq->arena);
	if (auth_doc_probe_service(w, rq->app->db, rq->arena, rq->base_url, as->cpart, as->c, as->s,
				   as->id, as->roles) < 0)
		return req_db_fail(rq, "reading the auth services");
	if (!(d->auth_service = jw_text(w, NULL)))
		return req_fail(rq, 500, "could not write the auth services");
	req_header(rq, "Cache-Control", "private, no-cache");
	req_header(rq, "Vary", "Cookie");
	int decision = session_decision(rq, as);
	if (decision < 0)
		return req_db_fail(rq, "reading the session");
	if (decision == 200)
		return 0;
	struct stored_size *open = arena_alloc(rq->arena, (d->nsizes + 2) * sizeof *open);
	size_t n = 0;
	for (size_t i = 0; i < d->nsizes; i++)
		if (access_allows(as, d->sizes[i].w, d->sizes[i].h))
			open[n++] = d->sizes[i];
	d->sizes = open;
	d->nsizes = n;
	if (as->max_unauthorised > 0) {
		bool wide = d->W >= d->H;
		d->max_width = wide ? as->max_unauthorised
				    : (int)((long long)d->W * as->max_unauthorised / d->H);
		d->max_height = wide ? (int)((long long)d->H * as->max_unauthorised / d->W)
				     : as->max_unauthorised;
		/* What this caller may have is the whole image at those sizes,
		 * never a tile: a level 0 service of them, so that a viewer
		 * (OpenSeadragon builds its levels from the sizes of a level 0
		 * service) draws the largest instead of asking for tiles it
		 * would be refused. The largest open size is listed too. */
		if (d->max_width > 0 && d->max_height > 0 &&
		    (n == 0 || longest(open[n - 1].w, open[n - 1].h) < as->max_unauthorised) &&
		    longest(d->max_width, d->max_height) <= longest(d->W, d->H))
			open[d->nsizes++] = (struct stored_size){d->max_width, d->max_height, true};
		d->level0 = true;
		d->nsf = 0;
	}
	return 0;
}

static int img_info(struct req *rq, int version)
{
	struct delivery_asset as;
	int st = asset_load(rq, NEED_TILES, &as);
	if (st)
		return st;
	struct info_doc d;
	info_doc_image(&d, rq->arena, &as.st, version, service_id(rq, "iiif-img", version, &as),
		       max_area(rq), render_format_available(IIIF_F_WEBP));
	if (as.restricted && (st = restricted_info(rq, &as, &d)))
		return st;
	return send_info(rq, version, &d);
}

/* W×H for the thumbnail service (asset/info.h). */
static void thumbs_dims(const struct delivery_asset *as, int *W, int *H)
{
	info_thumbs_size(&as->st, as->width, as->height, W, H);
}

/* A restricted asset's thumbnails' info.json answers 200 as /iiif-img's
 * does (restricted_info), even with no open size to list: a client finds
 * the probe service there, and an info.json that answers 401 leaves it
 * no way in (the reference implementation's users got stuck on that). */
static int thumbs_info_v(struct req *rq, int version)
{
	struct delivery_asset as;
	int st = asset_load(rq, NEED_SIZES, &as);
	if (st)
		return st;
	if (!as.restricted && as.st.nsizes == 0)
		return req_fail(rq, 404, "asset %d/%d/%s has no thumbnails", as.c, as.s, as.id);
	struct info_doc d;
	info_doc_thumbs(&d, &as.st, as.st.sizes, as.st.nsizes, as.width, as.height, version,
			service_id(rq, "thumbs", version, &as));
	if (as.restricted && (st = restricted_info(rq, &as, &d)))
		return st;
	return send_info(rq, version, &d);
}

/* --- images --- */

/* The render cache: one file per canonical request and asset version,
 * named by its SHA-256, under {storage_root}/.cache/{2 hex}/. */
static const char *cache_key(struct req *rq, const struct delivery_asset *as,
			     const struct iiif_params *p, const struct iiif_resolved *r)
{
	char rot[32];
	iiif_format_number(p->rotation, rot, sizeof rot);
	enum iiif_quality q = p->quality == IIIF_Q_COLOR ? IIIF_Q_DEFAULT : p->quality;
	return arena_printf(rq->arena, "1|%d|%d|%s|%s|%d,%d,%d,%d|%d,%d|%s%s|%s|%s|%d", as->c,
			    as->s, as->id, as->finished ? as->finished : "-", r->region.x,
			    r->region.y, r->region.w, r->region.h, r->w, r->h, p->mirror ? "!" : "",
			    rot, iiif_quality_name(q), iiif_format_ext(p->format),
			    jpeg_quality(rq));
}

/* A render from the cache, or made now and cached. */
static int send_render(struct req *rq, const struct delivery_asset *as, const struct iiif_params *p,
		       const struct iiif_resolved *r)
{
	const char *root = storage_root(rq);
	const char *key = cache_key(rq, as, p, r);
	char hex[65];
	sha256_hex(key, strlen(key), hex);
	const char *sub = arena_strndup(rq->arena, hex, 2);
	const char *rel =
		arena_printf(rq->arena, ".cache/%s/%s.%s", sub, hex, iiif_format_ext(p->format));
	const char *type = iiif_format_mime(p->format);
	long long limit = setting_int(rq->app->cfg, S_IMAGE_CACHE_BYTES);

	if (limit > 0) {
		const char *path = arena_printf(rq->arena, "%s/%s", root, rel);
		/* a hit counts as a use: eviction goes by atime */
		struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
		if (utimensat(AT_FDCWD, path, ts, 0) == 0) {
			int st = send_file(rq, rel, type, CC_IMAGE);
			if (st) {
				metrics_count(MC_RENDER_CACHE_HIT);
				return st;
			}
		}
	}
	metrics_count(MC_RENDER_CACHE_MISS);
	struct render_src src = {.dir = as->dir,
				 .W = as->st.W,
				 .H = as->st.H,
				 .tile = as->st.tile,
				 .nsf = as->st.nsf};
	memcpy(src.sf, as->st.sf, sizeof src.sf);
	struct render_out out;
	int st = render_image(rq->arena, &src, p, r, jpeg_quality(rq), &out);
	if (st == 501)
		return req_fail(rq, 501, "%s", out.error);
	if (st == 503) {
		log_err("%s: rendering %s: %s", rq->request_id, as->rel, out.error);
		return req_fail(rq, 503, "not enough memory to compute this image now");
	}
	if (st) {
		log_err("%s: rendering %s: %s", rq->request_id, as->rel, out.error);
		return req_fail(rq, 500, "the image could not be computed");
	}
	if (limit > 0 && render_cache_store(rq->arena, root, sub, rel, out.data, out.len)) {
		/* Past the limit on average every limit/16 bytes written: a
		 * coin from the key's hash, so no process keeps a count. */
		uint32_t coin = (uint32_t)strtoul(arena_strndup(rq->arena, hex + 2, 8), NULL, 16);
		if ((double)coin / 4294967296.0 < 16.0 * (double)out.len / (double)limit)
			render_cache_evict(rq->arena, arena_printf(rq->arena, "%s/.cache", root),
					   limit);
		st = send_file(rq, rel, type, CC_IMAGE);
		if (st)
			return st;
	}
	return send_bytes(rq, out.data, out.len, type, CC_IMAGE,
			  arena_printf(rq->arena, "\"%.32s\"", hex));
}

static int img_image(struct req *rq, int version)
{
	/* before anything is read: what a grant is decided from */
	struct timespec decided;
	clock_gettime(CLOCK_REALTIME, &decided);
	struct iiif_params p;
	const char *why;
	int st = iiif_parse(version, rq->strs[2], rq->strs[3], rq->strs[4], rq->strs[5], &p, &why);
	if (st)
		return req_fail(rq, st, "%s", why);
	struct delivery_asset as;
	if ((st = asset_load(rq, NEED_TILES, &as)))
		return st;
	struct iiif_limits lim = {.max_area = max_area(rq)};
	struct iiif_resolved r;
	if ((st = iiif_resolve(&p, as.st.W, as.st.H, &lim, &r, &why)))
		return req_fail(rq, st, "%s", why);
	/* maxUnauthorised opens the whole image at a small size, never a part
	 * of it (CONTRACT section 9): small regions at full resolution would
	 * rebuild the image tile by tile. A part is asked for as no size. */
	bool whole = r.region.x == 0 && r.region.y == 0 && r.region.w == as.st.W &&
		     r.region.h == as.st.H;
	int open_w = whole ? r.w : 0, open_h = whole ? r.h : 0;
	if ((st = delivery_access(rq, &as, open_w, open_h)))
		return st;
	/* past the open sizes: the session holds the asset's roles, and may
	 * have every stored file */
	bool granted = !access_allows(&as, open_w, open_h);
	if (p.rotation == 0 && !p.mirror && p.format == IIIF_F_JPG &&
	    (p.quality == IIIF_Q_DEFAULT || p.quality == IIIF_Q_COLOR)) {
		/* exactly a stored tile or thumbnail: the file itself. For a
		 * full-region size nginx serves what asset/thumb_alias.c links
		 * in full/ by this same decision (and in thumbs/ by
		 * thumbs_image_v's): keep them in step. */
		char name[96];
		int tw, th;
		if (stored_match_tile(&as.st, &r, name, sizeof name, &tw, &th)) {
			const char *rel = arena_printf(rq->arena, "%s/tiles/%s", as.rel, name);
			if (granted)
				grant_tiles(rq, &as, &decided);
			if ((granted || access_allows(&as, tw, th)) &&
			    (st = send_file(rq, rel, "image/jpeg", CC_IMAGE)))
				return st;
		}
		int k = stored_match_size(as.st.sizes, as.st.nsizes, as.st.W, as.st.H, &r);
		if (k >= 0 && (granted || access_allows(&as, as.st.sizes[k].w, as.st.sizes[k].h))) {
			const char *rel = arena_printf(rq->arena, "%s/thumbs/%d.jpg", as.rel,
						       longest(as.st.sizes[k].w, as.st.sizes[k].h));
			if ((st = send_file(rq, rel, "image/jpeg", CC_IMAGE)))
				return st;
		}
	}
	return send_render(rq, &as, &p, &r);
}

static int thumbs_image_v(struct req *rq, int version)
{
	struct iiif_params p;
	const char *why;
	int st = iiif_parse(version, rq->strs[2], rq->strs[3], rq->strs[4], rq->strs[5], &p, &why);
	if (st)
		return req_fail(rq, st, "%s", why);
	if (p.rotation != 0 || p.mirror)
		return req_fail(rq, 400, "thumbnails: the rotation must be 0");
	if (p.quality != IIIF_Q_DEFAULT)
		return req_fail(rq, 400, "thumbnails: the quality must be default");
	if (p.format != IIIF_F_JPG)
		return req_fail(rq, 400, "thumbnails: the format must be jpg");
	struct delivery_asset as;
	if ((st = asset_load(rq, NEED_SIZES, &as)))
		return st;
	int W, H;
	thumbs_dims(&as, &W, &H);
	struct iiif_resolved r;
	if ((st = iiif_resolve(&p, W, H, NULL, &r, &why)))
		return req_fail(rq, st, "%s", why);
	if (r.region.x != 0 || r.region.y != 0 || r.region.w != W || r.region.h != H)
		return req_fail(rq, 400, "thumbnails: the region must be full");
	int k = stored_match_size(as.st.sizes, as.st.nsizes, W, H, &r);
	if (k < 0)
		return req_fail(rq, 404, "no thumbnail of %dx%d; see info.json for the sizes", r.w,
				r.h);
	const struct stored_size *t = &as.st.sizes[k];
	if ((st = delivery_access(rq, &as, t->w, t->h)))
		return st;
	const char *rel = arena_printf(rq->arena, "%s/thumbs/%d.jpg", as.rel, longest(t->w, t->h));
	if ((st = send_file(rq, rel, "image/jpeg", CC_IMAGE)))
		return st;
	log_err("%s: %s is listed in s.json but missing", rq->request_id, rel);
	return req_fail(rq, 500, "a stored thumbnail is missing");
}

/* --- redirects --- */

static int redirect_info(struct req *rq, const char *prefix, int status)
{
	int c;
	int st = customer_resolve(rq, rq->strs[0], &c);
	if (st)
		return st;
	custom_headers_apply(rq, c, (int)rq->ints[0], NULL);
	/* both parts are checked, so they go into the URL as they are: an id
	 * is [A-Za-z0-9._~()-], a customer a number or [A-Za-z0-9_.-] */
	if (!asset_id_valid(rq->strs[1]))
		return req_fail(rq, 404, "asset not found");
	return redirect(rq, status,
			req_url(rq, "/%s/%s/%d/%s/info.json", prefix, rq->strs[0], (int)rq->ints[0],
				rq->strs[1]));
}

/* --- the routes' handlers --- */

/* The IIIF version a route row names (routes_image.c): 2 on the /v2/
 * paths; 3 on the /v3/ paths and on those without a version (arg 0). */
static int route_version(const struct req *rq)
{
	return rq->route_arg == 2 ? 2 : 3;
}

int iiif_img_redirect(struct req *rq)
{
	return finish(rq,
		      redirect_info(rq, route_version(rq) == 2 ? "iiif-img/v2" : "iiif-img", 303));
}

int iiif_img_info(struct req *rq)
{
	return finish(rq, img_info(rq, route_version(rq)));
}

int iiif_img_info_v3(struct req *rq)
{
	return finish(rq, redirect_info(rq, "iiif-img", 302));
}

int iiif_img_image(struct req *rq)
{
	return finish(rq, img_image(rq, route_version(rq)));
}

int thumbs_redirect(struct req *rq)
{
	return finish(rq, redirect_info(rq, route_version(rq) == 2 ? "thumbs/v2" : "thumbs", 303));
}

int thumbs_info(struct req *rq)
{
	return finish(rq, thumbs_info_v(rq, route_version(rq)));
}

int thumbs_image(struct req *rq)
{
	return finish(rq, thumbs_image_v(rq, route_version(rq)));
}

/* Media types a browser shows without running anything of the file's:
 * pictures, sound, film, plain text, PDF, JSON. Everything else (HTML,
 * SVG, XHTML, XML, JavaScript, and whatever is unknown) could run script on
 * this origin, beside the API and its credentials, so it is sent as an
 * attachment. Compared without case or parameters. */
static bool file_inline_safe(const char *media_type)
{
	static const char *const prefixes[] = {"image/", "audio/", "video/", NULL};
	static const char *const exact[] = {
		"text/plain",          "text/csv", "application/pdf", "application/json",
		"application/ld+json", NULL,
	};
	size_t n = strcspn(media_type, "; \t");
	if (n == 0)
		return false;
	const char *sub = memchr(media_type, '/', n);
	if (!sub)
		return false;
	/* image/svg+xml and the like: an XML document is a page */
	size_t sublen = n - (size_t)(sub + 1 - media_type);
	if (sublen >= 4 && strncasecmp(sub + 1 + sublen - 4, "+xml", 4) == 0)
		return false;
	for (const char *const *p = exact; *p; p++)
		if (strlen(*p) == n && strncasecmp(media_type, *p, n) == 0)
			return true;
	for (const char *const *p = prefixes; *p; p++)
		if (strncasecmp(media_type, *p, strlen(*p)) == 0 && n > strlen(*p))
			return true;
	return false;
}

/* name: value, replacing any earlier header of that name (a customer's
 * custom header included: these are not theirs to loosen). */
static void header_force(struct req *rq, const char *name, const char *value)
{
	size_t k = 0;
	for (size_t i = 0; i < rq->nresp_headers; i++)
		if (!str_ieq(rq->resp_headers[i].key, name))
			rq->resp_headers[k++] = rq->resp_headers[i];
	rq->nresp_headers = k;
	req_header(rq, name, value);
}

static int file_get_v(struct req *rq)
{
	struct delivery_asset as;
	int st = asset_load(rq, NEED_ORIGINAL, &as);
	if (st || (st = delivery_access(rq, &as, 0, 0)))
		return st;
	/* Validated on input (media_type_valid) and repaired by migration 004;
	 * the header writer refuses anything else. */
	const char *type =
		as.media_type && *as.media_type ? as.media_type : "application/octet-stream";
	if (!file_inline_safe(type))
		header_force(rq, "Content-Disposition",
			     arena_printf(rq->arena, "attachment; filename=\"%s\"", as.id));
	st = send_file(rq, arena_printf(rq->arena, "%s/original", as.rel), type, CC_IMAGE);
	return st ? st : req_fail(rq, 500, "the stored original is missing");
}

int file_get(struct req *rq)
{
	int st = finish(rq, file_get_v(rq));
	/* Every /file answer, errors too: no sniffing a type into a page, and
	 * no script, forms or same-origin access should the file be one. The
	 * /dlcs-storage/ location of nginx/dlcs.conf passes both on. */
	header_force(rq, "X-Content-Type-Options", "nosniff");
	header_force(rq, "Content-Security-Policy", "sandbox");
	return st;
}

/* --- iiif-av --- */

/* The transcode at `path` (a preset's output path, asset/av_presets.h) of
 * an asset whose iiif-av files are installed, when its av.json lists it. */
static const struct av_preset *av_output(struct req *rq, const struct delivery_asset *as,
					 const char *path)
{
	const struct av_preset *p = av_preset_by_path(path);
	struct av_stored st;
	if (!p || av_stored_load(rq->arena, as->dir, &st) != 0)
		return NULL;
	for (size_t i = 0; i < st.n; i++)
		if (st.out[i].preset == p)
			return p;
	return NULL;
}

/* nginx answers open assets itself from the public link (the "av" fast
 * path of nginx/dlcs.conf); what reaches here is restricted, not ingested,
 * or not there at all. */
static int av_get_v(struct req *rq, const char *prefix)
{
	struct delivery_asset as;
	int st = asset_load(rq, NEED_AV, &as);
	if (st || (st = delivery_access(rq, &as, 0, 0)))
		return st;
	const char *path = arena_printf(rq->arena, "%s%s", prefix, rq->strs[2]);
	const struct av_preset *p = av_output(rq, &as, path);
	if (!p)
		return req_fail(rq, 404, "asset %d/%d/%s has no transcode at %s", as.c, as.s, as.id,
				path);
	st = send_file(rq, arena_printf(rq->arena, "%s/" AV_STORED_DIR "/%s", as.rel, p->path),
		       p->media_type, CC_IMAGE);
	return st ? st : req_fail(rq, 500, "the stored transcode is missing");
}

int av_audio_get(struct req *rq)
{
	return finish(rq, av_get_v(rq, "full/max/"));
}

int av_video_get(struct req *rq)
{
	return finish(rq, av_get_v(rq, "full/full/max/max/0/"));
}
