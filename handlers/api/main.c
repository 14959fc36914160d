/* dlcs-api: the FastCGI responder for the API. spawn-fcgi starts one
 * process on the unix socket; it keeps -w N workers running (fcgi/supervise.h)
 * and each worker serves requests. Reads its configuration from -c FILE or
 * $DLCS_CONFIG. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cache.h"
#include "fragcache.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "respcache.h"
#include "supervise.h"
#include "api/common.h"
#include "api/keys.h"
#include "api/routes.h"
#include "asset/settings.h"
#include "banned.h"

/* One worker, in its own process: its database connection and caches are
 * its own. */
static int api_worker(const struct worker_env *env)
{
	struct config *cfg = env->cfg;
	/* Whole answers of the R_CACHE routes, kept while the data generation
	 * does not move (fcgi/respcache.h); 0 MiB turns the cache off. */
	long long cache_mb = setting_int(cfg, S_RESPONSE_CACHE_MB);
	if (mysql_library_init(0, NULL, NULL)) {
		log_err("mysql_library_init failed");
		return 1;
	}
	struct app app = {
		.cfg = cfg,
		.db = db_new(cfg),
		.routes = api_routes,
		.nroutes = api_routes_count,
		.authenticate = keys_authenticate,
		.path_check = api_path_check,
		.auth_cache = cache_new(1024),
		.response_cache = cache_mb ? respcache_new((size_t)cache_mb << 20) : NULL,
		/* manifests' canvases (api/manifests.c): about 2 KB each */
		.fragments = fragcache_new(64u << 20),
		.max_body = (size_t)setting_int(cfg, S_MAX_BODY_BYTES),
		.base_url = setting_str(cfg, S_BASE_URL),
	};
	int rc = serve(&app);
	db_free(app.db);
	cache_free(app.auth_cache);
	respcache_free(app.response_cache);
	fragcache_free(app.fragments);
	mysql_library_end();
	return rc;
}

int main(int argc, char **argv)
{
	return supervise_program(argc, argv, "dlcs-api", &dlcs_settings, api_worker);
}
