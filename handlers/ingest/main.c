/* dlcs-runner: the queue runner. Started beside the FastCGI pools the same
 * way (spawn-fcgi starts one process, which keeps -w N runners running,
 * fcgi/supervise.h), it serves no requests: it claims ingest work from
 * the database with a lease, fetches the origin, makes the derivatives and
 * records the outcome. Any number of runners, on any number of hosts sharing
 * the database and storage, cooperate through the leases (asset/work.h).
 * SIGTERM: an item whose origin fetch is under way when the stop comes is
 * released for another runner (its derivatives were not made); one past its
 * fetch is finished; then the process exits. The claim loop is claim.c, the
 * work on one item pipeline.c, the lease heartbeat heartbeat.c; and one
 * runner of the host renders the nginx include of the customers' custom
 * headers (headers_renderer.c). */
#include <curl/curl.h>
#include <fcntl.h>
#include <mysql.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "str.h"
#include "supervise.h"
#include "asset/gm.h"
#include "asset/settings.h"
#include "ingest/headers_renderer.h"
#include "ingest/heartbeat.h"
#include "ingest/runner.h"
#include "banned.h"

/* What the configuration gives a runner (its connection made here). */
static void runner_configure(struct runner *rn, struct config *cfg)
{
	*rn = (struct runner){
		.cfg = cfg,
		.db = db_new(cfg),
		.owner = NULL,
		.storage_root = setting_str(cfg, S_STORAGE_ROOT),
		.lease_seconds = (int)setting_int(cfg, S_RUNNER_LEASE_SECONDS),
		.max_attempts = (int)setting_int(cfg, S_RUNNER_MAX_ATTEMPTS),
		.base_opts =
			{
				.max_pixels = setting_int(cfg, S_MAX_IMAGE_PIXELS),
				.jpeg_quality = (int)setting_int(cfg, S_JPEG_QUALITY),
				.threads = (int)setting_int(cfg, S_RUNNER_THREADS),
				/* the same limit dlcs-image answers with (0: none):
				 * no full/ alias for a size it would refuse, and the
				 * same sizes in info.json */
				.image_max_area = setting_int(cfg, S_IMAGE_MAX_AREA),
				.base_url = setting_str(cfg, S_BASE_URL),
			},
	};
}

/* One runner, in its own process: its database connections, heartbeat
 * thread, GraphicsMagick and libcurl state are made here, after the fork. */
static int runner_worker(const struct worker_env *env)
{
	struct config *cfg = env->cfg;
	/* spawn-fcgi hands us its listening socket on fd 0; a runner answers no
	 * requests, so let go of it. */
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	runner_signals();
	mysql_library_init(0, NULL, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	gm_init(env->argv0, setting_int(cfg, S_IMAGE_MEMORY_LIMIT));

	char host[128];
	if (gethostname(host, sizeof host) != 0)
		xsnprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	struct runner rn;
	runner_configure(&rn, cfg);
	char owner[200];
	xsnprintf(owner, sizeof owner, "%.120s:%d", host, (int)getpid());
	rn.owner = owner;
	struct heartbeat hb;
	if (heartbeat_start(&hb, cfg, owner, rn.lease_seconds) != 0)
		return 1;
	rn.hb = &hb;
	struct headers_renderer hr;
	if (headers_renderer_start(&hr, cfg) != 0) {
		heartbeat_stop(&hb);
		return 1;
	}
	runner_loop(&rn, host);
	headers_renderer_stop(&hr);
	heartbeat_stop(&hb);
	db_free(rn.db);
	curl_global_cleanup();
	mysql_library_end();
	return 0;
}

int main(int argc, char **argv)
{
	return supervise_program(argc, argv, "dlcs-runner", &dlcs_settings, runner_worker);
}
