/* The PDF and ZIP projections of named queries (CONTRACT section 10),
 * answered by the API workers:
 *   /pdf/{c}/{query}/{args...}          the PDF: one page per asset
 *   /zip/{c}/{query}/{args...}          the ZIP: {id}.jpg per asset
 *   /pdf-control/..., /zip-control/...  what is stored (control JSON)
 * A GET runs the query (one statement) and hashes its result
 * (asset/projection.h). When the stored file was made from that very
 * result, nginx sends it (X-Accel-Redirect to its internal storage
 * location); otherwise the runners are asked to make it (queued in the
 * database, never made inside a request) and the answer is 202 with
 * Retry-After and the control JSON. A file made for an older result is
 * not sent: the projection of a query whose assets changed is remade. */
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "req.h"
#include "api/handlers.h"
#include "asset/named_query.h"
#include "asset/projection.h"
#include "asset/settings.h"
#include "banned.h"

#define CC_FILE  "public, max-age=600"
#define CC_OTHER "no-store"

static const char *const TYPES[] = {[PROJ_PDF] = "application/pdf", [PROJ_ZIP] = "application/zip"};

/* The name a browser saves the file as: the template's objectname (else
 * the query's name), cut to a safe set of characters, with the extension
 * unless it ends with it already (the sample's "{s1}.pdf"). */
static const char *file_name(struct arena *a, const struct nq_result *res, const char *query,
			     enum proj_kind k)
{
	const char *base = res->texts[0] && *res->texts[0] ? res->texts[0] : query;
	size_t n = strlen(base);
	if (n > 100)
		n = 100;
	char *s = arena_strndup(a, base, n);
	for (char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		if (!ok)
			*p = '_';
	}
	const char *ext = arena_printf(a, ".%s", proj_kind_name(k));
	size_t len = strlen(s), elen = strlen(ext);
	if (len > elen && strcmp(s + len - elen, ext) == 0)
		return s;
	return arena_printf(a, "%s%s", s, ext);
}

static bool file_exists(struct req *rq, const char *rel)
{
	if (!rel)
		return false;
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	struct stat st;
	return stat(arena_printf(rq->arena, "%s/%s", root, rel), &st) == 0 && S_ISREG(st.st_mode);
}

/* The control JSON (Protagonist's ControlFile) of p, or of nothing yet. */
static int send_control(struct req *rq, int status, enum proj_kind k, int c, const char *key,
			const struct projection *p, bool exists, bool in_process)
{
	struct jw *w = jw_new(rq->arena);
	jw_obj(w);
	jw_kstr(w, "key",
		arena_printf(rq->arena, "%d/%s/%s/%s", c, proj_kind_name(k), rq->strs[1], key));
	jw_kbool(w, "exists", exists);
	jw_kbool(w, "inProcess", in_process);
	jw_key(w, "created");
	jw_str(w, exists && p ? p->created : NULL);
	jw_kint(w, "itemCount", exists && p ? p->item_count : 0);
	jw_kint(w, "sizeBytes", exists && p ? p->size_bytes : 0);
	jw_key(w, "roles");
	if (exists && p && p->roles)
		jw_json_text(w, p->roles);
	else {
		jw_arr(w);
		jw_arr_end(w);
	}
	if (p && p->state == PROJ_ERROR && p->error)
		jw_kstr(w, "error", p->error);
	jw_obj_end(w);
	size_t len;
	const char *text = jw_text(w, &len);
	if (!text)
		return req_fail(rq, 500, "could not write the control file");
	req_header(rq, "Cache-Control", CC_OTHER);
	sbuf_init(&rq->out, rq->arena);
	sbuf_add(&rq->out, text, len);
	rq->content_type = "application/json";
	rq->status = status;
	return status;
}

static int answer(struct req *rq, enum proj_kind k, bool control)
{
	int c;
	struct nq_result res;
	int st = nq_path_run(rq, &c, &res);
	if (st) {
		req_header(rq, "Cache-Control", CC_OTHER);
		return st;
	}
	char key[65], want[65];
	proj_args_key(rq->strs[1], rq->rest, rq->nrest, key);
	proj_result_hash(k, &res, want);
	struct projection p;
	int found = proj_get(rq->app->db, rq->arena, c, k, rq->strs[1], key, &p);
	if (found < 0)
		return req_db_fail(rq, "reading the projection");
	bool current =
		found && p.made_hash && strcmp(p.made_hash, want) == 0 && file_exists(rq, p.file);
	bool wanted = found && strcmp(p.want_hash, want) == 0;
	/* an error of this very result stands for a while, then it is tried
	 * again: the cause may have been passing (a cover's host, the disk) */
	bool failed = wanted && p.state == PROJ_ERROR;
	bool retry = failed &&
		     p.requested_age >= setting_int(rq->app->cfg, S_PROJECTION_ERROR_RETRY_SECONDS);
	if (control)
		return send_control(rq, 200, k, c, key, found ? &p : NULL,
				    found && file_exists(rq, p.file),
				    wanted && (p.state == PROJ_QUEUED || p.state == PROJ_MAKING));
	if (current) {
		const char *prefix = setting_str(rq->app->cfg, S_NGINX_STORAGE_LOCATION);
		req_header(rq, "Cache-Control", CC_FILE);
		req_header(rq, "Content-Disposition",
			   arena_printf(rq->arena, "inline; filename=\"%s\"",
					file_name(rq->arena, &res, rq->strs[1], k)));
		req_header(rq, "X-Accel-Redirect",
			   arena_printf(rq->arena, "%s/%s", prefix, p.file));
		rq->content_type = TYPES[k];
		rq->status = 200;
		return 200;
	}
	if (failed && !retry) {
		req_header(rq, "Cache-Control", CC_OTHER);
		return req_fail(rq, 500, "the %s could not be made: %s", proj_kind_name(k),
				p.error ? p.error : "unknown error");
	}
	if (!wanted || retry || (p.state != PROJ_QUEUED && p.state != PROJ_MAKING)) {
		const char *args = proj_args_json(rq->arena, rq->rest, rq->nrest);
		if (!args)
			return req_fail(rq, 500, "could not store the arguments");
		if (proj_request(rq->app->db, c, k, rq->strs[1], key, args, want) != DB_OK)
			return req_db_fail(rq, "queueing the projection");
	}
	req_header(rq, "Retry-After",
		   arena_printf(rq->arena, "%lld",
				setting_int(rq->app->cfg, S_PROJECTION_RETRY_AFTER)));
	return send_control(rq, 202, k, c, key, found ? &p : NULL, false, true);
}

int pdf_get(struct req *rq)
{
	return answer(rq, PROJ_PDF, false);
}

int zip_get(struct req *rq)
{
	return answer(rq, PROJ_ZIP, false);
}

int pdf_control_get(struct req *rq)
{
	return answer(rq, PROJ_PDF, true);
}

int zip_control_get(struct req *rq)
{
	return answer(rq, PROJ_ZIP, true);
}
