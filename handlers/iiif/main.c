/* dlcs-image: the FastCGI responder for delivery (/iiif-img, /thumbs, /iiif-av,
 * /file), on its own unix socket; the only FastCGI program that links
 * GraphicsMagick. spawn-fcgi starts one process, which keeps -w N workers
 * running (fcgi/supervise.h). Reads its configuration from -c FILE or
 * $DLCS_CONFIG (asset/settings.h). */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "supervise.h"
#include "asset/gm.h"
#include "asset/settings.h"
#include "iiif/routes_image.h"
#include "banned.h"

/* One worker, in its own process: GraphicsMagick (and its OpenMP team) and
 * the database connection are made here, after the fork, never shared. */
static int image_worker(const struct worker_env *env)
{
	struct config *cfg = env->cfg;
	/* Before anything else of GraphicsMagick. It also holds GraphicsMagick
	 * to one OpenMP thread (its team would only compete with the other
	 * workers for the cores); the stack runs workers with OMP_NUM_THREADS=1
	 * as well, which libgomp reads when it loads. */
	gm_init(env->argv0, setting_int(cfg, S_IMAGE_MEMORY_LIMIT));
	if (mysql_library_init(0, NULL, NULL)) {
		log_err("mysql_library_init failed");
		return 1;
	}
	struct app app = {
		.cfg = cfg,
		.db = db_new(cfg),
		.routes = image_routes,
		.nroutes = image_routes_count,
		.authenticate = NULL, /* every route is anonymous */
		.max_body = 64 * 1024,
		.base_url = setting_str(cfg, S_BASE_URL),
		/* the access flow's live sessions (asset/auth_session.h) */
		.auth_cache = cache_new(4096),
	};
	int rc = serve(&app);
	cache_free(app.auth_cache);
	db_free(app.db);
	mysql_library_end();
	return rc;
}

int main(int argc, char **argv)
{
	return supervise_program(argc, argv, "dlcs-image", &dlcs_settings, image_worker);
}
