/* dlcs-image: the FastCGI responder for delivery (/iiif-img, /thumbs,
 * /file), spawned N times by spawn-fcgi on its own unix socket; the only
 * FastCGI program that links GraphicsMagick. Reads its configuration from
 * -c FILE or $DLCS_CONFIG (keys: see delivery.h, and image_memory_limit,
 * GraphicsMagick's pixel-cache limit in bytes, default 2 GiB). */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "ingest/derive.h"
#include "log.h"
#include "routes_image.h"
#include "banned.h"

int main(int argc, char **argv)
{
	const char *path = getenv("DLCS_CONFIG");
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-c") == 0)
			path = argv[i + 1];
	log_set_program("dlcs-image");
	char err[256];
	struct config *cfg = path ? config_load(path, err, sizeof err) : config_empty();
	if (!cfg) {
		log_err("%s: %s", path, err);
		return 1;
	}
	/* Before anything else of GraphicsMagick. It also holds GraphicsMagick
	 * to one OpenMP thread (its team would only compete with the other
	 * workers for the cores); the stack runs workers with OMP_NUM_THREADS=1
	 * as well, which libgomp reads when it loads. */
	derive_init(argv[0], config_int(cfg, "image_memory_limit", 2LL << 30));
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
		.base_url = config_str(cfg, "base_url", NULL),
	};
	int rc = serve(&app);
	db_free(app.db);
	mysql_library_end();
	config_free(cfg);
	return rc;
}
