/* The runners' side of the PDF and ZIP projections (asset/projection.h):
 * when there is no ingest to do, a runner claims a queued projection, runs
 * its named query again, and writes the file from the assets' stored
 * thumbnails (the size nearest PROJ_EDGE that may go to everyone):
 *   PDF  one page per image, the JPEG embedded as stored (ingest/pdf_write.h);
 *        an asset that is restricted (roles, or maxUnauthorised with no open
 *        size) gets a page with the template's redactedmessage instead
 *   ZIP  {id}.jpg per image (stored, not recompressed: they are JPEGs), with
 *        Debian's libzip; restricted assets without an open size are left out
 * The file goes to a temporary name beside its final one and is renamed
 * when whole; the row then records it, unless the lease was lost (the result
 * changed meanwhile: the API queued it again), and the file it replaces is
 * removed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "arena.h"
#include "files.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "asset/access.h"
#include "asset/channel_rules.h"
#include "asset/named_query.h"
#include "asset/nq_template.h"
#include "asset/projection.h"
#include "asset/row.h"
#include "asset/settings.h"
#include "asset/store.h"
#include "asset/stored.h"
#include "ingest/pdf_cover.h"
#include "ingest/pdf_write.h"
#include "ingest/runner.h"
#include "banned.h"

#define DEFAULT_REDACTED "Unable to display page"
#define MAX_THUMB_BYTES  (64LL * 1024 * 1024)
#define RENEW_EVERY_SECS 2

/* What a projection shows of one asset. */
struct pick {
	const char *path; /* the stored JPEG, NULL when none may be shown */
	bool restricted;  /* roles, or maxUnauthorised: its full image is not shown */
	bool image;       /* an image asset with stored thumbnails */
};

/* The stored thumbnail nearest PROJ_EDGE among those anyone may see. */
static void pick_of(struct arena *a, const char *root, const struct db_rows *r, size_t i,
		    struct pick *out)
{
	memset(out, 0, sizeof *out);
	const char *channels = db_str(r, i, ACOL_DELIVERY_CHANNELS);
	const char *error = db_str(r, i, ACOL_ERROR);
	int max_unauth = (int)db_int(r, i, ACOL_MAX_UNAUTHORISED);
	bool open = asset_is_open(a, db_str(r, i, ACOL_ROLES), max_unauth);
	out->restricted = !open;
	if ((!channels_has(channels, "iiif-img") && !channels_has(channels, "thumbs")) ||
	    (error && *error))
		return;
	int c = (int)db_int(r, i, ACOL_CUSTOMER), s = (int)db_int(r, i, ACOL_SPACE);
	const char *dir = store_asset_dir(a, root, c, s, db_str(r, i, ACOL_ID));
	struct stored st;
	memset(&st, 0, sizeof st);
	stored_load_sizes(a, dir, &st);
	out->image = st.nsizes > 0;
	int best = -1, best_d = 0;
	for (size_t k = 0; k < st.nsizes; k++) {
		int w = st.sizes[k].w, h = st.sizes[k].h;
		if (!asset_size_is_open(open, max_unauth, w, h))
			continue;
		int edge = w > h ? w : h;
		int d = abs(edge - PROJ_EDGE);
		if (best < 0 || d < best_d || (d == best_d && edge < PROJ_EDGE))
			best = (int)k, best_d = d;
	}
	if (best >= 0) {
		int w = st.sizes[best].w, h = st.sizes[best].h;
		out->path = arena_printf(a, "%s/thumbs/%d.jpg", dir, w > h ? w : h);
	}
}

/* The making of one projection: what the writers share. */
struct making {
	struct runner *rn;
	struct projection *p;
	time_t renewed;
	bool lost;
	long long items;
};

/* Renews the lease now and then; false once it is lost. */
static bool keep_lease(struct making *m)
{
	time_t now = time(NULL);
	if (m->lost || now - m->renewed < RENEW_EVERY_SECS)
		return !m->lost;
	m->renewed = now;
	if (proj_renew(m->rn->db, m->p->id, m->rn->owner, m->rn->lease_seconds) == 0)
		m->lost = true;
	return !m->lost;
}

static bool keep_going(void *m)
{
	return keep_lease(m);
}

/* The template's coverpage, when given, as the first pages of w. */
static const char *write_cover(struct making *m, struct arena *a, const struct nq_result *res,
			       const char *tmp, struct pdf_writer *w)
{
	const char *url = res->texts[NQT_COVERPAGE];
	if (!url || !*url)
		return NULL;
	const char *dir = arena_printf(a, "%s.cover", tmp);
	const char *why = pdf_cover_add(m->rn, a, m->p->customer, url, dir, w, keep_going, m);
	files_rm_rf(dir);
	return m->lost ? "the lease was lost" : why;
}

static const char *write_pdf(struct making *m, struct arena *a, const char *root,
			     const struct nq_result *res, const char *tmp)
{
	FILE *f = fopen(tmp, "wbe");
	if (!f)
		return arena_printf(a, "cannot create %s: %s", tmp, strerror(errno));
	struct pdf_writer *w = pdf_begin(f);
	if (!w) {
		fclose(f);
		return "out of memory";
	}
	const char *cover = write_cover(m, a, res, tmp, w);
	if (cover) {
		pdf_end(w);
		fclose(f);
		return cover;
	}
	const char *msg = res->texts[2] && *res->texts[2] ? res->texts[2] : DEFAULT_REDACTED;
	for (size_t i = 0; i < res->rows->n && keep_lease(m); i++) {
		struct arena *t = arena_new(64 * 1024);
		struct pick pk;
		pick_of(t, root, res->rows, i, &pk);
		size_t len = 0;
		unsigned char *data =
			pk.path ? files_read(t, pk.path, MAX_THUMB_BYTES, &len) : NULL;
		if (data && pdf_add_jpeg(w, data, len) == 0)
			m->items++;
		else if (pk.restricted || pk.image) {
			/* not to be shown, or its file is unreadable: a page says so */
			if (pdf_add_text_page(w, msg) == 0)
				m->items++;
		}
		arena_free(t);
	}
	bool empty = pdf_pages(w) == 0;
	int rc = pdf_end(w);
	if (fclose(f) != 0)
		rc = -1;
	if (m->lost)
		return "the lease was lost";
	if (empty)
		return "none of the assets has an image to show";
	return rc == 0 ? NULL : arena_printf(a, "writing %s failed", tmp);
}

static const char *write_zip(struct making *m, struct arena *a, const char *root,
			     const struct nq_result *res, const char *tmp)
{
	int err = 0;
	zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
	if (!z)
		return arena_printf(a, "cannot create %s (libzip error %d)", tmp, err);
	const char *why = NULL;
	for (size_t i = 0; i < res->rows->n && !why && keep_lease(m); i++) {
		struct pick pk;
		pick_of(a, root, res->rows, i, &pk);
		if (!pk.path || access(pk.path, R_OK) != 0)
			continue; /* restricted without an open size, or no image */
		const char *id = db_str(res->rows, i, ACOL_ID);
		zip_source_t *src = zip_source_file(z, pk.path, 0, -1);
		if (!src) {
			why = arena_printf(a, "zip: %s", zip_strerror(z));
			break;
		}
		zip_int64_t idx =
			zip_file_add(z, arena_printf(a, "%s.jpg", id), src, ZIP_FL_ENC_UTF_8);
		if (idx < 0 && zip_error_code_zip(zip_get_error(z)) == ZIP_ER_EXISTS) {
			/* the same id in another space */
			zip_error_clear(z);
			idx = zip_file_add(z,
					   arena_printf(a, "%lld_%s.jpg",
							db_int(res->rows, i, ACOL_SPACE), id),
					   src, ZIP_FL_ENC_UTF_8);
		}
		if (idx < 0) {
			zip_source_free(src);
			why = arena_printf(a, "zip: %s", zip_strerror(z));
			break;
		}
		/* JPEGs do not deflate: stored as they are */
		zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
		m->items++;
	}
	if (!why && m->items == 0)
		why = "none of the assets has an image that may be shown";
	if (why || m->lost) {
		zip_discard(z);
		unlink(tmp);
		return m->lost ? "the lease was lost" : why;
	}
	if (zip_close(z) != 0) {
		why = arena_printf(a, "zip: %s", zip_strerror(z));
		zip_discard(z);
		return why;
	}
	return NULL;
}

/* The roles of the restricted assets, once each, as a JSON array. */
static const char *roles_of(struct arena *a, const struct db_rows *r)
{
	struct jw *w = jw_new(a);
	const char **seen = arena_alloc(a, 64 * sizeof *seen);
	size_t nseen = 0;
	jw_arr(w);
	for (size_t i = 0; i < r->n; i++) {
		const char *text = db_str(r, i, ACOL_ROLES);
		yajl_val v = text && *text ? json_parse(a, text, strlen(text), NULL) : NULL;
		if (!v || !YAJL_IS_ARRAY(v))
			continue;
		for (size_t k = 0; k < v->u.array.len; k++) {
			const char *role = YAJL_GET_STRING(v->u.array.values[k]);
			bool dup = !role;
			for (size_t j = 0; j < nseen && !dup; j++)
				dup = strcmp(seen[j], role) == 0;
			if (dup || nseen == 64)
				continue;
			seen[nseen++] = role;
			jw_str(w, role);
		}
	}
	jw_arr_end(w);
	const char *out = jw_text(w, NULL);
	return out ? out : "[]";
}

/* Runs the query and writes the file; records the outcome. */
static void make_one(struct runner *rn, struct arena *a, struct projection *p)
{
	const char *root = rn->storage_root;
	const char *why = NULL;
	struct named_query nq;
	bool found = false;
	size_t nargs = 0;
	const char **args = proj_args_parse(a, p->args_json, &nargs);
	struct nq_result res;
	if (!args)
		why = "its arguments are unreadable";
	else if (nq_lookup(rn->db, a, p->customer, p->name, &nq, &found) != DB_OK)
		why = "the database failed";
	else if (!found)
		why = arena_printf(a, "named query '%s' not found", p->name);
	else {
		size_t limit = (size_t)setting_int(rn->cfg, S_NAMED_QUERY_MAX_ASSETS);
		int rc = nq_run(rn->db, a, p->customer, &nq, args, nargs, limit, &res, &why);
		if (rc == 0 && res.truncated)
			why = "the named query selects too many assets";
		else if (rc == 0 && res.rows->n == 0)
			why = "the named query selects no asset";
		else if (rc != 0 && !why)
			why = "the database failed";
	}
	if (why) {
		log_warn("projection %lld (%s '%s' of customer %d): %s", p->id,
			 proj_kind_name(p->kind), p->name, p->customer, why);
		proj_fail(rn->db, p->id, rn->owner, why);
		return;
	}
	char key[65], hash[65];
	proj_args_key(p->name, args, nargs, key);
	proj_result_hash(p->kind, &res, hash);
	const char *rel = proj_file_rel(a, p->customer, p->kind, key, hash);
	const char *final = arena_printf(a, "%s/%s", root, rel);
	const char *tmp = arena_printf(a, "%s.tmp-%d", final, (int)getpid());
	struct making m = {.rn = rn, .p = p, .renewed = time(NULL)};
	if (files_mkdirs(a, arena_strndup(a, final, (size_t)(strrchr(final, '/') - final))) != 0)
		why = arena_printf(a, "cannot create the directory of %s: %s", rel,
				   strerror(errno));
	else
		why = p->kind == PROJ_PDF ? write_pdf(&m, a, root, &res, tmp)
					  : write_zip(&m, a, root, &res, tmp);
	struct stat st;
	if (!why && (stat(tmp, &st) != 0 || rename(tmp, final) != 0))
		why = arena_printf(a, "cannot install %s: %s", rel, strerror(errno));
	if (why) {
		unlink(tmp);
		if (!m.lost) {
			log_warn("projection %lld: %s", p->id, why);
			proj_fail(rn->db, p->id, rn->owner, why);
		}
		return;
	}
	int rc = proj_complete(rn->db, p->id, rn->owner, hash, rel, m.items, (long long)st.st_size,
			       roles_of(a, res.rows));
	if (rc != 1) {
		unlink(final); /* not ours any more: it will be made again */
		return;
	}
	if (p->file && strcmp(p->file, rel) != 0 && strstr(p->file, "..") == NULL)
		unlink(arena_printf(a, "%s/%s", root, p->file));
	log_info("projection %lld: %s '%s' of customer %d made: %lld items, %lld bytes", p->id,
		 proj_kind_name(p->kind), p->name, p->customer, m.items, (long long)st.st_size);
}

int projection_run_one(struct runner *rn, struct arena *a)
{
	struct projection p;
	int rc = proj_claim(rn->db, a, rn->owner, rn->lease_seconds, &p);
	if (rc != 1)
		return rc;
	make_one(rn, a, &p);
	return 1;
}
