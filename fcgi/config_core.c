/* The framework's own settings (config.h): the ones fcgi/ reads itself, for
 * the database layer, the data generation, the request core and the
 * migrations. The platform's settings are handlers/asset/settings.c; one
 * default per key, here or there, and nowhere else. */
#include "config.h"
#include "banned.h"

/* Where `make install` puts the migrations: Makefile.am passes
 * $(pkgdatadir)/schema, so that an installed dlcs-admin migrate finds them
 * from any working directory. (The development and test stacks name the
 * source tree's schema/ in their configuration.) */
#ifndef DLCS_SCHEMA_DIR
#define DLCS_SCHEMA_DIR "schema"
#endif

#define MiB (1LL << 20)
#define GiB (1LL << 30)

const struct setting config_core_rows[S_CORE__MAX] = {
	[S_DB_SOCKET] = {"db_socket", SETTING_PATH, NULL, 0, 0, 0,
			 "MariaDB's unix socket (unset: TCP to db_host and db_port)"},
	/* MariaDB's client takes "localhost" (NULL here) for its socket: so the
	 * host, when unset, depends on db_socket (db.c). */
	[S_DB_HOST] = {"db_host", SETTING_STRING, NULL, 0, 0, 0,
		       "MariaDB host for TCP (unset: the socket db_socket when that is set, "
		       "else 127.0.0.1)"},
	[S_DB_PORT] = {"db_port", SETTING_INT, "3306", 1, 65535, 0, "MariaDB port for TCP"},
	[S_DB_NAME] = {"db_name", SETTING_STRING, "dlcs", 0, 0, 0, "the database"},
	[S_DB_USER] = {"db_user", SETTING_STRING, "root", 0, 0, 0, "MariaDB user"},
	[S_DB_PASSWORD] = {"db_password", SETTING_STRING, NULL, 0, 0, SETTING_SECRET,
			   "MariaDB password (unset: none)"},
	[S_DB_CONNECT_TIMEOUT] = {"db_connect_timeout", SETTING_INT, "5", 1, 3600, 0,
				  "seconds to wait for a connection to MariaDB"},
	[S_DB_RW_TIMEOUT] = {"db_rw_timeout", SETTING_INT, "60", 1, 86400, 0,
			     "seconds to wait for one read or write of MariaDB's"},
	[S_SCHEMA_DIR] = {"schema_dir", SETTING_PATH, DLCS_SCHEMA_DIR, 0, 0, SETTING_CONFIGURED,
			  "the migrations `dlcs-admin migrate` applies (NNN-*.sql; by "
			  "default those `make install` installed, in $(pkgdatadir)/schema)"},
	/* var/storage, what the README documents and dlcs-image and the runner
	 * took when unset: the API and dlcs-admin took none then, so that a
	 * deleted or restricted asset kept the public links the runner had
	 * made there. Relative paths are the programs' working directory's. */
	[S_STORAGE_ROOT] = {"storage_root", SETTING_PATH, "var/storage", 0, 0, 0,
			    "originals, tiles and thumbnails (shared storage across hosts)"},
	[S_DATA_GENERATION_FILE] = {"data_generation_file", SETTING_PATH,
				    "{storage_root}/.data-generation", 0, 0, 0,
				    "the host's data generation counter (see Response cache)"},
	[S_BASE_URL] = {"base_url", SETTING_URL, NULL, 0, 0, 0,
			"public base URL of @id links, e.g. https://iiif.example.org (unset: "
			"from each request's Host)"},
	[S_MAX_BODY_BYTES] = {"max_body_bytes", SETTING_BYTES, "16MiB", 1, GiB, 0,
			      "request body cap of dlcs-api (413 above it)"},
	[S_RESPONSE_CACHE_MB] = {"response_cache_mb", SETTING_INT, "16", 0, MiB, 0,
				 "per-worker cache of whole asset reads of dlcs-api, in MiB "
				 "(0: off; see Response cache)"},
	/* Checked by the programs at start (log_level_parse): the table has no
	 * type for a word out of a list. */
	[S_LOG_LEVEL] = {"log_level", SETTING_STRING, "info", 0, 0, 0,
			 "lines below this level are not logged: debug, info, warn or error"},
	[S_LOG_FILE] = {"log_file", SETTING_PATH, NULL, 0, 0, 0,
			"the servers' and runners' log, appended to; SIGUSR1 reopens it "
			"(logrotate; unset: stderr, e.g. the journal)"},
};
