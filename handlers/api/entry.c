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
#include "asset/runners.h"
#include "api/handlers.h"
#include "banned.h"

static const char SQL_PING[] = "SELECT 1";
/* A runner is live when it beat within RUNNERS_STALE_SECONDS (a dozen
 * beats), or holds a lease still running (a long item between beats), as
 * dlcs-admin status counts them. */
static const char SQL_LIVE_RUNNERS[] =
	"SELECT COUNT(*) FROM runners r WHERE r.heartbeat > UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
	" OR EXISTS (SELECT 1 FROM ingest_queue q WHERE q.lease_owner = r.owner"
	" AND q.lease_until > UTC_TIMESTAMP(6))";

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

/* The database answers, storage_root is a directory this worker can write
 * to (what a PUT's ingest and every delivery need), and at least one
 * dlcs-runner is live (else nothing queued is ever ingested). 200 with
 * "status": "ok", or 503 with "status": "failed" and each check saying
 * whether it failed and why. */
int ping_get(struct req *rq)
{
	const char *db_failed = NULL, *storage_failed = NULL, *runners_failed = NULL;
	if (!db_query(rq->app->db, rq->arena, SQL_PING, ""))
		db_failed = db_last_err(rq->app->db) == DB_EDOWN ? "database unavailable"
								 : "database error";
	if (db_failed) {
		runners_failed = "unknown: the database is not answering";
	} else {
		struct db_rows *r = db_query(rq->app->db, rq->arena, SQL_LIVE_RUNNERS, "i",
					     RUNNERS_STALE_SECONDS);
		if (!r)
			runners_failed = "runners: unreadable (run dlcs-admin migrate)";
		else if (db_int(r, 0, 0) < 1)
			runners_failed = arena_printf(
				rq->arena, "runners: none live (no heartbeat within %d s)",
				RUNNERS_STALE_SECONDS);
	}
	const char *root = setting_str(rq->app->cfg, S_STORAGE_ROOT);
	struct stat st;
	if (stat(root, &st) != 0)
		storage_failed = arena_printf(rq->arena, "storage_root: %s", strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		storage_failed = "storage_root: not a directory";
	else if (access(root, W_OK | X_OK) != 0)
		storage_failed = arena_printf(rq->arena, "storage_root: %s", strerror(errno));
	bool ok = !db_failed && !storage_failed && !runners_failed;
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kstr(w, "status", ok ? "ok" : "failed");
	jw_key(w, "checks");
	jw_obj(w);
	ping_check(w, "database", db_failed);
	ping_check(w, "storage", storage_failed);
	ping_check(w, "runners", runners_failed);
	jw_obj_end(w);
	jw_obj_end(w);
	req_header(rq, "Cache-Control", "no-store");
	return ok ? 200 : 503;
}
