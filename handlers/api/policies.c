/* The shared, anonymous policy lists of the entry point. Storage policies
 * live in the database; the others describe what this platform does, which
 * is fixed by the code, so they are data here. */
#include <string.h>

#include "app.h"
#include "db.h"
#include "json.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "api/common.h"
#include "api/handlers.h"
#include "banned.h"

static const char SQL_STORAGE_POLICIES[] =
	"SELECT id, max_images, max_bytes FROM storage_policies ORDER BY id";
static const char SQL_STORAGE_POLICY[] =
	"SELECT id, max_images, max_bytes FROM storage_policies WHERE id = ?";

static void storage_policy_write(struct jw *w, struct req *rq, const struct db_rows *r, size_t i)
{
	resource_begin(w, req_url(rq, "/storagePolicies/%s", db_str(r, i, 0)),
		       "vocab:StoragePolicy");
	jw_kstr(w, "name", db_str(r, i, 0));
	jw_kint(w, "maximumNumberOfStoredImages", db_int(r, i, 1));
	jw_kint(w, "maximumTotalSizeOfStoredImages", db_int(r, i, 2));
	jw_obj_end(w);
}

int storage_policies_list(struct req *rq)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL_STORAGE_POLICIES, "");
	if (!r)
		return req_db_fail(rq, "listing storage policies");
	struct jw *w = req_json(rq);
	collection_begin_all(w, rq, "/storagePolicies", (long long)r->n);
	for (size_t i = 0; i < r->n; i++)
		storage_policy_write(w, rq, r, i);
	collection_end_all(w);
	return 200;
}

int storage_policy_get(struct req *rq)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL_STORAGE_POLICY, "s", rq->strs[0]);
	if (!r)
		return req_db_fail(rq, "reading the storage policy");
	if (r->n == 0)
		return req_fail(rq, 404, "storage policy not found");
	storage_policy_write(req_json(rq), rq, r, 0);
	return 200;
}

/* Legacy thumbnail policies: the default thumbs policy's longest edges. */
static const struct {
	const char *name;
	int sizes[4];
} THUMBNAIL_POLICIES[] = {{"default", {1024, 400, 200, 100}}};

static void thumbnail_policy_write(struct jw *w, struct req *rq, size_t i)
{
	resource_begin(w, req_url(rq, "/thumbnailPolicies/%s", THUMBNAIL_POLICIES[i].name),
		       "vocab:ThumbnailPolicy");
	jw_kstr(w, "name", THUMBNAIL_POLICIES[i].name);
	jw_key(w, "sizes");
	jw_arr(w);
	for (size_t k = 0; k < 4; k++)
		jw_int(w, THUMBNAIL_POLICIES[i].sizes[k]);
	jw_arr_end(w);
	jw_obj_end(w);
}

int thumbnail_policies_list(struct req *rq)
{
	size_t n = sizeof THUMBNAIL_POLICIES / sizeof THUMBNAIL_POLICIES[0];
	struct jw *w = req_json(rq);
	collection_begin_all(w, rq, "/thumbnailPolicies", (long long)n);
	for (size_t i = 0; i < n; i++)
		thumbnail_policy_write(w, rq, i);
	collection_end_all(w);
	return 200;
}

int thumbnail_policy_get(struct req *rq)
{
	for (size_t i = 0; i < sizeof THUMBNAIL_POLICIES / sizeof THUMBNAIL_POLICIES[0]; i++)
		if (str_eq(rq->strs[0], THUMBNAIL_POLICIES[i].name)) {
			thumbnail_policy_write(req_json(rq), rq, i);
			return 200;
		}
	return req_fail(rq, 404, "thumbnail policy not found");
}

/* What ingest does for each image optimisation policy. */
static const struct {
	const char *name, *display, *details;
} IOPS[] = {
	{"default", "Tile pyramid", "256 px JPEG tiles at every scale factor, from the original"},
	{"use-original", "Use original", "tiles are computed from the stored original"},
};
#define NIOPS (sizeof IOPS / sizeof IOPS[0])

static void iop_write(struct jw *w, struct req *rq, size_t i)
{
	resource_begin(w, req_url(rq, "/imageOptimisationPolicies/%s", IOPS[i].name),
		       "vocab:ImageOptimisationPolicy");
	jw_kstr(w, "name", IOPS[i].display);
	jw_key(w, "technicalDetails");
	jw_arr(w);
	jw_str(w, IOPS[i].details);
	jw_arr_end(w);
	jw_obj_end(w);
}

int iop_list(struct req *rq)
{
	struct jw *w = req_json(rq);
	collection_begin_all(w, rq, "/imageOptimisationPolicies", (long long)NIOPS);
	for (size_t i = 0; i < NIOPS; i++)
		iop_write(w, rq, i);
	collection_end_all(w);
	return 200;
}

int iop_get(struct req *rq)
{
	for (size_t i = 0; i < NIOPS; i++)
		if (str_eq(rq->strs[0], IOPS[i].name)) {
			iop_write(req_json(rq), rq, i);
			return 200;
		}
	return req_fail(rq, 404, "image optimisation policy not found");
}

/* The origin strategies ingest knows. */
static const struct {
	const char *name;
	bool credentials;
} ORIGIN_STRATEGIES[] = {{"default", false}, {"basic-http-authentication", true}};
#define NSTRATEGIES (sizeof ORIGIN_STRATEGIES / sizeof ORIGIN_STRATEGIES[0])

static void strategy_write(struct jw *w, struct req *rq, size_t i)
{
	resource_begin(w, req_url(rq, "/originStrategies/%s", ORIGIN_STRATEGIES[i].name),
		       "vocab:OriginStrategy");
	jw_kstr(w, "name", ORIGIN_STRATEGIES[i].name);
	jw_kbool(w, "requiresCredentials", ORIGIN_STRATEGIES[i].credentials);
	jw_obj_end(w);
}

int origin_strategy_types_list(struct req *rq)
{
	struct jw *w = req_json(rq);
	collection_begin_all(w, rq, "/originStrategies", (long long)NSTRATEGIES);
	for (size_t i = 0; i < NSTRATEGIES; i++)
		strategy_write(w, rq, i);
	collection_end_all(w);
	return 200;
}

int origin_strategy_type_get(struct req *rq)
{
	for (size_t i = 0; i < NSTRATEGIES; i++)
		if (str_eq(rq->strs[0], ORIGIN_STRATEGIES[i].name)) {
			strategy_write(req_json(rq), rq, i);
			return 200;
		}
	return req_fail(rq, 404, "origin strategy not found");
}
