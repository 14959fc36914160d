/* GET /metrics: the pools' counters (fcgi/metrics.h) and the queue's depth,
 * in the Prometheus text exposition format, for the admin or a client on
 * this host (a scraper beside nginx) only: route names and volumes say
 * how the service is used. */
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "metrics.h"
#include "req.h"
#include "str.h"
#include "api/handlers.h"
#include "banned.h"

static const char SQL_QUEUE[] = "SELECT COUNT(*), COALESCE(SUM(lease_until > UTC_TIMESTAMP(6)), 0)"
				" FROM ingest_queue";

/* The client nginx saw (REMOTE_ADDR) is this host. */
static bool loopback(struct req *rq)
{
	const char *ip = req_env(rq, "REMOTE_ADDR");
	return ip && (str_starts(ip, "127.") || str_eq(ip, "::1") || str_starts(ip, "::ffff:127."));
}

int metrics_get(struct req *rq)
{
	/* credentials sent: they decide (a customer's are refused even from
	 * this host); none: only this host */
	if (rq->caller_customer ? !rq->caller_admin : !loopback(rq))
		return req_fail(rq, 403, "/metrics is for the admin or this host only");
	struct db_rows *q = db_query(rq->app->db, rq->arena, SQL_QUEUE, "");
	sbuf_init(&rq->out, rq->arena);
	metrics_render(&rq->out, setting_str(rq->app->cfg, S_STORAGE_ROOT));
	sbuf_adds(&rq->out,
		  "# HELP dlcs_queue_items Items in the ingest queue (in_hand: leased by a "
		  "runner).\n# TYPE dlcs_queue_items gauge\n");
	if (q) {
		sbuf_printf(&rq->out, "dlcs_queue_items{state=\"waiting\"} %lld\n",
			    db_int(q, 0, 0) - db_int(q, 0, 1));
		sbuf_printf(&rq->out, "dlcs_queue_items{state=\"in_hand\"} %lld\n",
			    db_int(q, 0, 1));
	}
	sbuf_printf(&rq->out,
		    "# HELP dlcs_up The database answered this scrape.\n"
		    "# TYPE dlcs_up gauge\ndlcs_up %d\n",
		    q ? 1 : 0);
	rq->content_type = "text/plain; version=0.0.4; charset=utf-8";
	req_header(rq, "Cache-Control", "no-store");
	return 200;
}
