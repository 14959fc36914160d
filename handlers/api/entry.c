#include "app.h"
#include "db.h"
#include "json.h"
#include "req.h"
#include "api/common.h"
#include "api/handlers.h"
#include "banned.h"

static const char SQL_PING[] = "SELECT 1";

int entry_get(struct req *rq)
{
	struct jw *w = req_json(rq);
	resource_begin(w, req_url(rq, "/"), "vocab:EntryPoint");
	static const char *const links[] = {"customers",
					    "queue",
					    "storagePolicies",
					    "thumbnailPolicies",
					    "imageOptimisationPolicies",
					    "originStrategies",
					    NULL};
	for (const char *const *l = links; *l; l++)
		jw_kstr(w, *l, req_url(rq, "/%s", *l));
	jw_obj_end(w);
	return 200;
}

int ping_get(struct req *rq)
{
	struct db_rows *r = db_query(rq->app->db, rq->arena, SQL_PING, "");
	if (!r)
		return req_db_fail(rq, "ping");
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kstr(w, "status", "ok");
	jw_obj_end(w);
	return 200;
}
