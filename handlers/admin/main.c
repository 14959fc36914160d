/* dlcs-admin: command-line administration.
 *   dlcs-admin migrate            apply schema migrations
 *   dlcs-admin bootstrap KEYFILE  create the admin customer (id 1) and, when
 *                                 KEYFILE does not exist, a key for it, written
 *                                 there as "key:secret" (mode 0600)
 *   dlcs-admin create-key C       print a new "key:secret" for customer C
 *   dlcs-admin render-headers     render the nginx include of the custom
 *                                 headers (nginx_custom_headers) now and, when
 *                                 it changed and nginx_test_command passes,
 *                                 install it and reload nginx (nginx_pid_file);
 *                                 a runner does this after every change
 *   dlcs-admin nginx-locations FILE  rewrite the generated blocks of
 *                                 nginx/dlcs.conf (the fast-path locations)
 *                                 from handlers/asset/nginx_include.c
 *   dlcs-admin publish-names      the public name links of every customer
 *                                 (storage_root/public/{iiif-img,thumbs}/{name})
 *   dlcs-admin publish-assets [C] re-derive the public links of every asset
 *                                 (of customer C), and the size aliases of
 *                                 its tiles and thumbnails (asset/thumb_alias.h), for
 *                                 assets stored before they existed: a
 *                                 repair, safe to run again at any time
 *   dlcs-admin bump-generation    move the data generation on (fcgi/generation.h):
 *                                 after editing the database with a SQL client,
 *                                 so the API workers drop their cached responses
 *   dlcs-admin config [--markdown] the effective settings, secrets masked (with
 *                                 --markdown: the table of settings, as README.md
 *                                 holds it)
 * Like every program, it refuses a configuration with an unknown key or a
 * bad value (exit 78, SUPERVISE_EXIT_CONFIG), naming the line. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "supervise.h"
#include "admin/commands.h"
#include "asset/settings.h"
#include "banned.h"

static int usage(void)
{
	fputs("usage: dlcs-admin [-c CONFIG] migrate | bootstrap KEYFILE | create-key CUSTOMER\n"
	      "       | render-headers | publish-names | publish-assets [CUSTOMER]\n"
	      "       | bump-generation | nginx-locations FILE | config [--markdown]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = getenv("DLCS_CONFIG");
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
		path = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	log_set_program("dlcs-admin");
	char err[300];
	struct config *cfg = NULL;
	int crc = path ? config_load(path, &dlcs_settings, &cfg, err, sizeof err) : 0;
	if (crc) {
		log_err("%s: %s", path, err);
		return crc == CONFIG_EINVALID ? SUPERVISE_EXIT_CONFIG : 1;
	}
	if (!cfg)
		cfg = config_empty(&dlcs_settings);
	if (strcmp(argv[i], "config") == 0) { /* needs neither the database nor its files */
		int rc = ADMIN_USAGE;
		if (i + 1 == argc) {
			config_show(cfg, stdout);
			rc = 0;
		} else if (i + 2 == argc && strcmp(argv[i + 1], "--markdown") == 0) {
			config_show_markdown(cfg, stdout);
			rc = 0;
		}
		config_free(cfg);
		return rc == ADMIN_USAGE ? usage() : rc;
	}
	mysql_library_init(0, NULL, NULL);
	struct db *db = db_new(cfg);
	int rc;
	if (strcmp(argv[i], "nginx-locations") == 0 && i + 2 == argc) {
		/* Needs neither the database nor the configuration's settings. */
		rc = admin_nginx_locations(argv[i + 1]);
	} else if (strcmp(argv[i], "bump-generation") == 0 && i + 1 == argc) {
		/* Needs the file only, not the database. */
		rc = db_generation_bump(db) == DB_OK ? 0 : 1;
		if (rc)
			log_err("no usable data generation file: %s (data_generation_file)",
				setting_str(cfg, S_DATA_GENERATION_FILE));
	} else if (db_ensure(db) != DB_OK) {
		log_err("database unavailable: %s", db_last_msg(db));
		rc = 1;
	} else if (strcmp(argv[i], "migrate") == 0 && i + 1 == argc) {
		const char *dir = setting_str(cfg, S_SCHEMA_DIR);
		rc = migrate_apply(db, dir) == 0 ? 0 : 1;
	} else if (strcmp(argv[i], "bootstrap") == 0 && i + 2 == argc) {
		rc = admin_bootstrap(db, cfg, argv[i + 1]);
	} else if (strcmp(argv[i], "create-key") == 0 && i + 2 == argc) {
		rc = admin_create_key(db, cfg, argv[i + 1]);
	} else if (strcmp(argv[i], "render-headers") == 0 && i + 1 == argc) {
		rc = admin_render_headers(db, cfg);
	} else if (strcmp(argv[i], "publish-names") == 0 && i + 1 == argc) {
		rc = admin_publish(db, cfg, true, NULL);
	} else if (strcmp(argv[i], "publish-assets") == 0 && i + 2 >= argc) {
		rc = admin_publish(db, cfg, false, i + 1 < argc ? argv[i + 1] : NULL);
	} else {
		rc = ADMIN_USAGE;
	}
	if (rc == ADMIN_USAGE)
		rc = usage();
	db_free(db);
	mysql_library_end();
	config_free(cfg);
	return rc;
}
