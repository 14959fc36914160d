/* Delivery of IIIF Presentation manifests and named-query results
 * (CONTRACT section 10), served by the API workers:
 *   /iiif-resource[/v2|/v3]/{c}/{query}/{args...}  a named query's manifest
 *   /iiif-manifest[/v2|/v3]/{c}/{s}/{id}           one asset's manifest
 *   /raw-resource/{c}/{query}/{args...}            the ids it selects
 * {c} is the customer's id or name. Presentation 3 unless the path says /v2/
 * or, on the paths without a version, the Accept header asks for the 2.1
 * profile. Anonymous, with CORS (every response), an ETag over the body
 * (If-None-Match answers 304) and Cache-Control; the manifest of many
 * assets costs one query for the assets, never a query per canvas, and
 * each canvas is kept per worker as text while its row is unchanged
 * (answer_manifest), so that only a new or changed asset costs its small
 * file (the stored thumbnail sizes) and the JSON writer. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "db.h"
#include "fragcache.h"
#include "ids.h"
#include "json.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/handlers.h"
#include "api/manifest_fragment.h"
#include "api/manifest_write.h"
#include "asset/access.h"
#include "asset/auth_doc.h"
#include "asset/av_stored.h"
#include "asset/channel_rules.h"
#include "asset/manifest_store.h"
#include "asset/named_query.h"
#include "asset/row.h"
#include "asset/settings.h"
#include "asset/store.h"
#include "asset/stored.h"
#include "banned.h"

#define P3_PROFILE "http://iiif.io/api/presentation/3/context.json"
#define P2_PROFILE "http://iiif.io/api/presentation/2/context.json"
/* A manifest follows its assets: kept an hour by caches at most. */
#define CC_PUBLIC  "public, max-age=3600"
#define CC_PRIVATE "private, max-age=3600"
#define CC_ERROR   "no-store"

enum { SQL_ASSET, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_ASSET] = "SELECT " ASSET_COLUMNS " FROM assets a"
		      " WHERE a.customer_id = ? AND a.space_id = ? AND a.id = ?",
};

/* 2 when the request asks for Presentation 2.1, else 3. */
static int version_of(struct req *rq, int forced)
{
	if (forced)
		return forced;
	const char *accept = req_header_in(rq, "Accept");
	return accept && strstr(accept, "iiif.io/api/presentation/2/context.json") ? 2 : 3;
}

/* The largest number of assets one answer lists. */
static size_t max_assets(struct req *rq)
{
	return (size_t)setting_int(rq->app->cfg, S_NAMED_QUERY_MAX_ASSETS);
}

/* A 128-bit digest of the body for its ETag: two lanes of multiply and
 * xor-shift over 8-byte words. Not cryptographic (nothing is secret or
 * adversarial here: a client only compares it with what we sent), but a
 * manifest of a thousand canvases is 2 MB, and SHA-256 of it cost a
 * seventh of the request's CPU; this costs a fiftieth of that. */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static void body_digest(const char *text, size_t len, char hex[33])
{
	uint64_t a = 0x9e3779b97f4a7c15ULL ^ len, b = 0xd1b54a32d192ed03ULL + len;
	size_t i = 0;
	for (; i + 16 <= len; i += 16) {
		uint64_t w1, w2;
		memcpy(&w1, text + i, 8);
		memcpy(&w2, text + i + 8, 8);
		a = (a ^ w1) * 0x9fb21c651e98df25ULL;
		a ^= a >> 29;
		b = (b ^ w2) * 0xbf58476d1ce4e5b9ULL;
		b ^= b >> 31;
	}
	uint64_t tail[2] = {0, 0};
	memcpy(tail, text + i, len - i);
	a = mix64(a ^ tail[0]);
	b = mix64(b ^ tail[1] ^ a);
	a = mix64(a ^ b);
	xsnprintf(hex, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* Sends text with its ETag and Cache-Control, or 304. */
static int send_body(struct req *rq, const char *text, size_t len, const char *type,
		     bool private_cc)
{
	char hex[33];
	body_digest(text, len, hex);
	const char *etag = arena_printf(rq->arena, "\"%s\"", hex);
	req_header(rq, "ETag", etag);
	req_header(rq, "Cache-Control", private_cc ? CC_PRIVATE : CC_PUBLIC);
	if (req_not_modified(rq, etag)) {
		rq->status = 304;
		return 304;
	}
	/* the body is the text itself (in the arena): not copied again */
	rq->out =
		(struct sbuf){.arena = rq->arena, .buf = (char *)text, .len = len, .cap = len + 1};
	rq->content_type = type;
	rq->status = 200;
	return 200;
}

static int fail(struct req *rq, int status)
{
	if (status >= 400)
		req_header(rq, "Cache-Control", CC_ERROR);
	return status;
}

static const char *manifest_type(int version)
{
	return version == 2 ? "application/ld+json;profile=\"" P2_PROFILE "\""
			    : "application/ld+json;profile=\"" P3_PROFILE "\"";
}

/* The headers of a stored manifest's answer (asset/manifest_store.h): its
 * ETag names both halves of its key, so that it is the same whether the
 * worker sends the body it built or nginx the stored file. true when the
 * request's If-None-Match holds it: 304. */
static bool stored_headers(struct req *rq, const struct mstore_key *k, int version,
			   const char **etag)
{
	*etag = mstore_etag(rq->arena, k);
	req_header(rq, "Vary", "Accept");
	rq->content_type = manifest_type(version);
	if (!req_not_modified(rq, *etag))
		return false;
	req_header(rq, "ETag", *etag);
	req_header(rq, "Cache-Control", CC_PUBLIC);
	rq->status = 304;
	return true;
}

/* A stored manifest, checked against the rows just now: nginx sends the
 * file (its internal location takes the ETag, Cache-Control and Vary back
 * from these X-DLCS- headers: nginx drops the others of an answer with
 * X-Accel-Redirect, and would put a Cache-Control of ours on its errors). */
static int send_stored(struct req *rq, const struct mstore_key *k, int version)
{
	const char *etag;
	if (stored_headers(rq, k, version, &etag))
		return 304;
	req_header(rq, "X-DLCS-ETag", etag);
	req_header(rq, "X-DLCS-Cache-Control", CC_PUBLIC);
	req_header(rq, "X-DLCS-Vary", "Accept");
	req_header(rq, "X-Accel-Redirect",
		   arena_printf(rq->arena, MSTORE_NGINX_LOCATION "/%s",
				mstore_rel(rq->arena, k) + strlen(MSTORE_DIR "/")));
	rq->status = 200;
	return 200;
}

/* A manifest just built from the state k names: stored, and sent by the
 * worker; nginx sends the stored file from the next request on. */
static int send_stored_body(struct req *rq, const struct mstore_key *k, const char *text,
			    size_t len, int version)
{
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	if (root)
		mstore_put(rq->arena, root, k, text, len);
	const char *etag;
	if (stored_headers(rq, k, version, &etag))
		return 304;
	req_header(rq, "ETag", etag);
	req_header(rq, "Cache-Control", CC_PUBLIC);
	rq->out =
		(struct sbuf){.arena = rq->arena, .buf = (char *)text, .len = len, .cap = len + 1};
	rq->status = 200;
	return 200;
}

/* Row i of r as the manifest writer needs it, its thumbnail sizes read
 * from the asset's s.json. */
static void asset_from_row(struct req *rq, const char *root, const struct db_rows *r, size_t i,
			   struct mf_asset *as)
{
	struct arena *a = rq->arena;
	const char *channels = db_str(r, i, ACOL_DELIVERY_CHANNELS);
	memset(as, 0, sizeof *as);
	as->space = (int)db_int(r, i, ACOL_SPACE);
	as->id = db_str(r, i, ACOL_ID);
	as->width = (int)db_int(r, i, ACOL_WIDTH);
	as->height = (int)db_int(r, i, ACOL_HEIGHT);
	as->duration = db_int(r, i, ACOL_DURATION);
	as->media_type = db_str(r, i, ACOL_MEDIA_TYPE);
	as->iiif_img = channels_has(channels, "iiif-img");
	as->thumbs = channels_has(channels, "thumbs");
	as->file = channels_has(channels, "file");
	as->av = channels_has(channels, "iiif-av");
	as->restricted = !asset_is_open(a, db_str(r, i, ACOL_ROLES),
					(int)db_int(r, i, ACOL_MAX_UNAUTHORISED));
	for (int k = 0; k < 3; k++) {
		as->strings[k] = db_str(r, i, ACOL_STRING1 + k);
		as->numbers[k] = db_int(r, i, ACOL_NUMBER1 + k);
	}
	as->tags_json = db_str(r, i, ACOL_TAGS);
	as->roles_json = db_str(r, i, ACOL_ROLES);
	const char *error = db_str(r, i, ACOL_ERROR);
	if (error && *error)
		return;
	const char *dir =
		store_asset_dir(a, root, (int)db_int(r, i, ACOL_CUSTOMER), as->space, as->id);
	if (as->av) {
		struct av_stored *av = arena_alloc(a, sizeof *av);
		if (av_stored_load(a, dir, av) == 0) {
			as->av_out = av->out;
			as->n_av = av->n;
		}
	}
	if (!as->thumbs)
		return;
	struct stored *st = arena_alloc(a, sizeof *st);
	memset(st, 0, sizeof *st);
	stored_load_sizes(a, dir, st);
	/* s.json marks sizes open by maxUnauthorised alone; roles close them all */
	for (size_t k = 0; k < st->nsizes; k++)
		st->sizes[k].open = asset_size_is_open(!as->restricted,
						       (int)db_int(r, i, ACOL_MAX_UNAUTHORISED),
						       st->sizes[k].w, st->sizes[k].h);
	as->sizes = st->sizes;
	as->nsizes = st->nsizes;
}

/* What one row gives the manifest: whether it has a canvas, whether it is
 * restricted, and the canvas as a fragment (api/manifest_fragment.h), or
 * as (with frag NULL) when it has to be written the long way; keep: a
 * fragment made for this request, to be kept once the answer is written. */
struct row_canvas {
	bool shown, restricted, keep;
	const char *frag;
	size_t len;
	struct mf_asset *as;
	struct sbuf key, stamp;
};

/* The first byte of a kept fragment: '@' + these bits, then the text. */
enum { KEPT_SHOWN = 1, KEPT_RESTRICTED = 2 };

/* The cache key of row i's canvas in this version, and its stamp: every
 * cell of the row, length-prefixed (SIZE_MAX for NULL), so that any change
 * to the asset (a reingest sets `finished` anew, a PATCH changes what it
 * changes) makes the kept fragment unusable at once. The stored sizes come
 * from s.json, which only an ingest writes, and an ingest changes the row.
 * No printf: this runs for every row of every manifest. */
static void row_key(struct arena *a, const struct db_rows *r, size_t i, int version,
		    struct sbuf *key, struct sbuf *stamp)
{
	const struct db_cell *row = &r->cells[i * r->ncols];
	sbuf_init(key, a);
	sbuf_adds(key, version == 2 ? "manifest-canvas/2/" : "manifest-canvas/3/");
	sbuf_add(key, row[ACOL_CUSTOMER].s, row[ACOL_CUSTOMER].len);
	sbuf_addc(key, '/');
	sbuf_add(key, row[ACOL_SPACE].s, row[ACOL_SPACE].len);
	sbuf_addc(key, '/');
	sbuf_add(key, row[ACOL_ID].s, row[ACOL_ID].len);
	sbuf_init(stamp, a);
	for (size_t k = 0; k < r->ncols; k++) {
		size_t len = row[k].s ? row[k].len : SIZE_MAX;
		sbuf_add(stamp, &len, sizeof len);
		if (row[k].s)
			sbuf_add(stamp, row[k].s, row[k].len);
	}
}

/* Row i's canvas: kept from an earlier request when the row is unchanged
 * (the text stays the cache's: nothing is put into it before the answer is
 * written), else made from the row and its s.json. */
/* A restricted asset's probe service in 3.0 (asset/auth_doc.h), its
 * customer's roles and services read at the first one (ad->services NULL
 * until then). 0, or negative on a database error. */
static int row_probe(struct req *rq, const char *cpart, int version, struct auth_doc *ad,
		     struct mf_asset *as, int c)
{
	if (version != 3 || !as->restricted)
		return 0;
	if (!ad->services && auth_doc_load(ad, rq->app->db, rq->arena, c) < 0)
		return -1;
	struct jw *w = jw_new(rq->arena);
	auth_doc_write_probe(w, ad, rq->arena, rq->base_url, cpart, as->space, as->id,
			     as->roles_json);
	as->probe_json = jw_text(w, &as->probe_len);
	return as->probe_json ? 0 : -1;
}

static int row_canvas(struct req *rq, const char *root, const struct db_rows *r, size_t i,
		      int version, const char *cpart, struct auth_doc *ad, struct row_canvas *out)
{
	struct arena *a = rq->arena;
	struct fragcache *fc = rq->app->fragments;
	memset(out, 0, sizeof *out);
	if (fc) {
		row_key(a, r, i, version, &out->key, &out->stamp);
		size_t len;
		const char *kept = fragcache_get(fc, out->key.buf, out->key.len, out->stamp.buf,
						 out->stamp.len, &len);
		if (kept && len >= 1) {
			out->shown = (kept[0] - '@') & KEPT_SHOWN;
			out->restricted = (kept[0] - '@') & KEPT_RESTRICTED;
			out->frag = kept + 1;
			out->len = len - 1;
			return 0;
		}
	}
	out->as = arena_alloc(a, sizeof *out->as);
	asset_from_row(rq, root, r, i, out->as);
	out->shown = mf_asset_in_version(out->as, version);
	out->restricted = out->as->restricted;
	if (out->shown &&
	    row_probe(rq, cpart, version, ad, out->as, (int)db_int(r, i, ACOL_CUSTOMER)) < 0)
		return -1;
	if (out->shown)
		out->frag = mf_fragment_make(a, version, out->as, &out->len);
	else
		out->frag = "", out->len = 0;
	out->keep = fc && out->frag;
	return 0;
}

/* Keeps the fragments made for this request. */
static void rows_keep(struct req *rq, struct row_canvas *rc, size_t n)
{
	struct fragcache *fc = rq->app->fragments;
	struct sbuf v;
	sbuf_init(&v, rq->arena);
	for (size_t i = 0; i < n; i++) {
		if (!rc[i].keep)
			continue;
		v.len = 0;
		sbuf_addc(&v, (char)('@' + (rc[i].shown ? KEPT_SHOWN : 0) +
				     (rc[i].restricted ? KEPT_RESTRICTED : 0)));
		sbuf_add(&v, rc[i].frag, rc[i].len);
		fragcache_put(fc, rc[i].key.buf, rc[i].key.len, rc[i].stamp.buf, rc[i].stamp.len,
			      v.buf, v.len);
	}
}

/* The manifest of rows (or a 404 when none of them has a canvas): the
 * head and tail from the writer, each canvas its fragment filled in for
 * this request, so that a manifest of a thousand canvases reads no file
 * but the first canvas's s.json (its thumbnail heads the manifest) once
 * its fragments are kept. */
static int answer_manifest(struct req *rq, const char *cpart, const struct db_rows *r, int version,
			   const char *label, bool single, const struct mstore_key *store)
{
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	struct row_canvas *rc = arena_alloc(rq->arena, (r->n ? r->n : 1) * sizeof *rc);
	size_t shown = 0, first = 0;
	bool restricted = false;
	struct auth_doc ad = {0};
	for (size_t i = 0; i < r->n; i++) {
		if (row_canvas(rq, root, r, i, version, cpart, &ad, &rc[i]) < 0)
			return fail(rq, req_db_fail(rq, "reading the auth services"));
		if (rc[i].shown) {
			if (shown++ == 0)
				first = i;
			restricted |= rc[i].restricted;
		}
	}
	if (shown == 0)
		return fail(rq, req_fail(rq, 404, "no asset here can be shown in a %s manifest",
					 version == 2 ? "Presentation 2.1" : "Presentation 3"));
	struct mf_doc d = {
		.version = version,
		.id = arena_printf(rq->arena, "%s%s", rq->base_url, rq->path),
		.base = rq->base_url,
		.cpart = cpart,
		.label = label,
		.single = single,
		.auth = ad.services != NULL,
	};
	if (!rc[first].as) {
		rc[first].as = arena_alloc(rq->arena, sizeof *rc[first].as);
		asset_from_row(rq, root, r, first, rc[first].as);
	}
	const char *base_json = mf_json_inner(rq->arena, d.base);
	const char *cpart_json = mf_json_inner(rq->arena, cpart);
	struct jw *w = jw_new(rq->arena);
	manifest_write_head(w, rq->arena, &d, rc[first].as);
	struct sbuf canvas;
	sbuf_init(&canvas, rq->arena);
	int n = 0;
	for (size_t i = 0; i < r->n && base_json && cpart_json; i++) {
		if (!rc[i].shown)
			continue;
		n++;
		if (!rc[i].frag) {
			char num[16];
			xsnprintf(num, sizeof num, "%d", n);
			manifest_write_canvas(w, rq->arena, &d, rc[i].as, num);
			continue;
		}
		canvas.len = 0;
		mf_fragment_fill(&canvas, rc[i].frag, rc[i].len, base_json, cpart_json, n);
		jw_raw(w, canvas.buf, canvas.len);
	}
	manifest_write_tail(w, &d);
	size_t len;
	const char *text = base_json && cpart_json ? jw_text(w, &len) : NULL;
	rows_keep(rq, rc, r->n);
	if (!text)
		return fail(rq, req_fail(rq, 500, "could not generate the manifest"));
	if (store && !restricted)
		return send_stored_body(rq, store, text, len, version);
	req_header(rq, "Vary", "Accept");
	return send_body(rq, text, len, manifest_type(version), restricted);
}

/* The customer and named query of the path /{prefix}/{c}/{query}/... */
static int path_query(struct req *rq, int *c, struct named_query *nq)
{
	int st = customer_resolve(rq, rq->strs[0], c);
	if (st)
		return st;
	bool found;
	if (nq_lookup(rq->app->db, rq->arena, *c, rq->strs[1], nq, &found) != DB_OK)
		return req_db_fail(rq, "looking up the named query");
	if (!found)
		return req_fail(rq, 404, "named query '%s' not found", rq->strs[1]);
	return 0;
}

/* Whatever nq_run or nq_state returned, as the status answered (0: rows). */
static int run_status(struct req *rq, const struct named_query *nq, int rc, const char *why)
{
	if (rc == 400)
		return req_fail(rq, 400, "named query '%s': %s", nq->name, why);
	if (rc != 0)
		return req_db_fail(rq, "running the named query");
	return 0;
}

/* nq_run for the path's arguments: its rows, or the status answered. */
static int path_rows(struct req *rq, int c, const struct named_query *nq, struct nq_result *out)
{
	const char *why = NULL;
	size_t limit = max_assets(rq);
	/* the status after the call: a call's arguments are evaluated in any order */
	int rc = nq_run(rq->app->db, rq->arena, c, nq, rq->rest, rq->nrest, limit, out, &why);
	int st = run_status(rq, nq, rc, why);
	if (st)
		return st;
	if (out->truncated)
		return req_fail(rq, 400,
				"named query '%s' selects more than %zu assets "
				"(named_query_max_assets): give it narrower arguments",
				nq->name, limit);
	if (out->rows->n == 0)
		return req_fail(rq, 404, "named query '%s' selects no asset", nq->name);
	return 0;
}

/* nq_state for the path's arguments: 0 with *versions (NULL when there is
 * no whole list: nothing stored, path_rows answers), or the status
 * answered (404 when nothing matches at all). */
static int path_state(struct req *rq, int c, const struct named_query *nq, const char **versions)
{
	const char *why = NULL;
	long long count;
	int rc = nq_state(rq->app->db, rq->arena, c, nq, rq->rest, rq->nrest, max_assets(rq),
			  &count, versions, &why);
	int st = run_status(rq, nq, rc, why);
	if (st)
		return st;
	if (count == 0)
		return req_fail(rq, 404, "named query '%s' selects no asset", nq->name);
	return 0;
}

int nq_path_run(struct req *rq, int *c, struct nq_result *out)
{
	struct named_query nq;
	int st = path_query(rq, c, &nq);
	return st ? st : path_rows(rq, *c, &nq, out);
}

/* The path's named query's rows (nq_path_run). */
static int run_path_query(struct req *rq, int *c, struct db_rows **rows)
{
	struct nq_result res;
	int st = nq_path_run(rq, c, &res);
	if (st == 0)
		*rows = res.rows;
	return st;
}

/* A named query's manifest: the stored one when the query selects the
 * assets it was built from at the same row versions (nq_state), else built,
 * and stored when it shows no restricted asset and the query's state was
 * the same after its rows were read (asset/manifest_store.h). */
static int resource_v(struct req *rq, int forced)
{
	int c;
	struct named_query nq;
	const char *before = NULL, *after = NULL;
	int st = path_query(rq, &c, &nq);
	if (!st)
		st = path_state(rq, c, &nq, &before);
	if (st)
		return fail(rq, st);
	int version = version_of(rq, forced);
	const char *owner = arena_printf(rq->arena, "%d", nq.customer);
	const char *parts[] = {version == 2 ? "2" : "3", rq->base_url, rq->path, owner, nq.name,
			       nq.template_text};
	struct mstore_key k;
	mstore_key_request(rq->arena, &k, c, parts, sizeof parts / sizeof parts[0]);
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	if (before) {
		mstore_key_state(&k, before);
		if (root && mstore_ready(rq->arena, root, &k))
			return send_stored(rq, &k, version);
	}
	struct nq_result res;
	st = path_rows(rq, c, &nq, &res);
	if (!st && before)
		st = path_state(rq, c, &nq, &after);
	if (st)
		return fail(rq, st);
	/* unchanged while the rows were read: they are that state */
	bool same = before && after && strcmp(before, after) == 0;
	const char *label = arena_printf(rq->arena, "Generated from '%s' named query", rq->strs[1]);
	return answer_manifest(rq, rq->strs[0], res.rows, version, label, false, same ? &k : NULL);
}

int iiif_resource_get(struct req *rq)
{
	return resource_v(rq, 0);
}

int iiif_resource_v2(struct req *rq)
{
	return resource_v(rq, 2);
}

int iiif_resource_v3(struct req *rq)
{
	return resource_v(rq, 3);
}

static int manifest_v(struct req *rq, int forced)
{
	int c, s = (int)rq->ints[0];
	const char *id = rq->strs[1];
	int st = customer_resolve(rq, rq->strs[0], &c);
	if (st)
		return fail(rq, st);
	if (!asset_id_valid(id))
		return fail(rq, req_fail(rq, 404, "asset not found"));
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL[SQL_ASSET], "iis", c, s, id);
	if (!r)
		return fail(rq, req_db_fail(rq, "reading the asset"));
	if (r->n == 0)
		return fail(rq, req_fail(rq, 404, "asset %d/%d/%s not found", c, s, id));
	req_header(rq, "X-Asset-Id", arena_printf(rq->arena, "%d/%d/%s", c, s, id));
	return answer_manifest(rq, rq->strs[0], r, version_of(rq, forced), "Generated by DLCS",
			       true, NULL);
}

int iiif_manifest_get(struct req *rq)
{
	return manifest_v(rq, 0);
}

int iiif_manifest_v2(struct req *rq)
{
	return manifest_v(rq, 2);
}

int iiif_manifest_v3(struct req *rq)
{
	return manifest_v(rq, 3);
}

int raw_resource_get(struct req *rq)
{
	int c;
	struct db_rows *rows;
	int st = run_path_query(rq, &c, &rows);
	if (st)
		return fail(rq, st);
	struct jw *w = jw_new(rq->arena);
	jw_arr(w);
	for (size_t i = 0; i < rows->n; i++)
		jw_str(w, arena_printf(rq->arena, "%d/%lld/%s", c, db_int(rows, i, ACOL_SPACE),
				       db_str(rows, i, ACOL_ID)));
	jw_arr_end(w);
	size_t len;
	const char *text = jw_text(w, &len);
	if (!text)
		return fail(rq, req_fail(rq, 500, "could not generate the list"));
	return send_body(rq, text, len, "application/json", false);
}
