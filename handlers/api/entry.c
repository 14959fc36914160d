#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "config.h"
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

/* One check of /ping: {"status": "ok"} or {"status": "failed", "reason"}. */
static void ping_check(struct jw *w, const char *name, const char *failed)
{
	jw_key(w, name);
	jw_obj(w);
	jw_kstr(w, "status", failed ? "failed" : "ok");
	if (failed)
		jw_kstr(w, "reason", failed);
	jw_obj_end(w);
}

/* The database answers, and storage_root is a directory this worker can
 * write to (what a PUT's ingest and every delivery need). 200 with
 * "status": "ok", or 503 with "status": "failed" and each check saying
 * whether it failed and why. */
int ping_get(struct req *rq)
{
	const char *db_failed = NULL, *storage_failed = NULL;
	if (!db_query(rq->app->db, rq->arena, SQL_PING, ""))
		db_failed = db_last_err(rq->app->db) == DB_EDOWN ? "database unavailable"
								 : "database error";
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	struct stat st;
	if (stat(root, &st) != 0)
		storage_failed = arena_printf(rq->arena, "storage_root: %s", strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		storage_failed = "storage_root: not a directory";
	else if (access(root, W_OK | X_OK) != 0)
		storage_failed = arena_printf(rq->arena, "storage_root: %s", strerror(errno));
	bool ok = !db_failed && !storage_failed;
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kstr(w, "status", ok ? "ok" : "failed");
	jw_key(w, "checks");
	jw_obj(w);
	ping_check(w, "database", db_failed);
	ping_check(w, "storage", storage_failed);
	jw_obj_end(w);
	jw_obj_end(w);
	req_header(rq, "Cache-Control", "no-store");
	return ok ? 200 : 503;
}
