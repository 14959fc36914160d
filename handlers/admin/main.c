/* dlcs-admin: command-line administration.
 *   dlcs-admin status             the database, queue, runners, recent errors,
 *                                 storage; exit 1 on a problem
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
 *   dlcs-admin portal-login C EMAIL  check a portal user's login, the password
 *                                 on standard input (exit 0 when right)
 *   dlcs-admin ingest SPACE --folder DIR|--csv FILE|--urls FILE  register
 *                                 many assets through the API (admin/ingest.c)
 *   dlcs-admin config [--markdown | --example] the effective settings, secrets
 *                                 masked (with --markdown: the table of settings,
 *                                 as README.md holds it; with --example: a whole
 *                                 commented configuration file, with the
 *                                 settings of -c FILE set and the others at their
 *                                 defaults, as make writes dlcs.conf.example)
 * Like every program, it refuses a configuration with an unknown key or a
 * bad value (exit 78, SUPERVISE_EXIT_CONFIG), naming the line. --help,
 * --version, COMMAND --help and a wrong command line touch neither the
 * configuration nor the database (the table of commands below). */
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

/* The commands: their arguments, what each needs, one line of help. The
 * command line is checked against this table before the configuration or
 * the database is touched, so --help, --version, a command's --help and an
 * unknown command or a wrong count of arguments answer at once. */
enum needs { NEEDS_NOTHING, NEEDS_CONFIG, NEEDS_FILES, NEEDS_DB };
struct command {
	const char *name;
	const char *args; /* for the usage line */
	int min_args, max_args;
	enum needs needs;
	const char *help;
};
static const struct command commands[] = {
	{"status", "", 0, 0, NEEDS_FILES,
	 "the database, the ingest queue, the runners and their last heartbeat, the\n"
	 "ingest errors of the last day and storage use; exit 1 on a problem (each a\n"
	 "line starting PROBLEM), also when the database is unreachable"},
	{"migrate", "", 0, 0, NEEDS_DB,
	 "apply the schema migrations of schema_dir the database has not recorded"},
	{"bootstrap", "KEYFILE", 1, 1, NEEDS_DB,
	 "create the admin customer (1), and a key for it in KEYFILE\n"
	 "(when KEYFILE does not exist: key:secret, mode 0600)"},
	{"create-key", "CUSTOMER", 1, 1, NEEDS_DB,
	 "print a new key:secret of customer CUSTOMER (its id)"},
	{"portal-login", "CUSTOMER EMAIL", 2, 2, NEEDS_DB,
	 "check a portal user's login as the access-control flow will (the password\n"
	 "on one line of standard input): prints \"{id} {roles}\", or exit 1"},
	{"render-headers", "", 0, 0, NEEDS_DB,
	 "render the nginx include of the custom headers (nginx_custom_headers) now\n"
	 "and, when it changed and nginx_test_command passes, install it and reload nginx"},
	{"publish-names", "", 0, 0, NEEDS_DB,
	 "the public name links of every customer (storage_root/public/...)"},
	{"publish-assets", "[CUSTOMER]", 0, 1, NEEDS_DB,
	 "re-derive the public links, size aliases and nginx's info.json copies of\n"
	 "every asset (of CUSTOMER); a repair, safe to run again at any time"},
	{"bump-generation", "", 0, 0, NEEDS_FILES,
	 "move the data generation on, so that the API workers drop their cached answers\n"
	 "(after editing the database by hand)"},
	{"config", "[--markdown | --example]", 0, 1, NEEDS_CONFIG,
	 "the effective settings, secrets masked; --markdown: the table of settings;\n"
	 "--example: a whole commented configuration file with the settings of -c set"},
	{"ingest", "SPACE (--folder DIR | --csv FILE | --urls FILE) [OPTION...]", 3, 12,
	 NEEDS_CONFIG,
	 "register a folder of files, a CSV or a list of URLs as assets of SPACE (C/S or\n"
	 "the space's URI) through the API, in batches, resumable after an interruption:\n"
	 "  --folder DIR     each regular file (sorted by name; dot files skipped) is sent\n"
	 "                   by direct upload, its id its name (made valid when needed)\n"
	 "  --csv FILE       a header naming origin and optionally id and mediaType,\n"
	 "                   then one asset a row (no quoting), through the queue\n"
	 "  --urls FILE      one origin URL a line (# comments), through the queue\n"
	 "  --batch N        assets a batch (default 100)\n"
	 "  --api URL        the API's base URL (default: the space URI's, or base_url)\n"
	 "  --key-file FILE  the customer's key:secret (default: $DLCS_API_CREDENTIALS)\n"
	 "  --progress | --no-progress  a bar on stderr (default when it is a terminal),\n"
	 "                   or a line a batch on stdout\n"
	 "State: INPUT.dlcs-ingest beside the input records the batches confirmed; a rerun\n"
	 "skips them and registers, of the batch interrupted, only the ids the API does\n"
	 "not have, so nothing is registered twice. Ids come from names or rows, never\n"
	 "from the run. Exit 1 when an asset was refused or the run stopped."},
	{"nginx-locations", "FILE", 1, 1, NEEDS_NOTHING,
	 "rewrite the generated blocks of nginx/dlcs.conf (for developers)"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage_to(FILE *f)
{
	fputs("usage: dlcs-admin [-c CONFIG] COMMAND [ARGUMENT...]\n"
	      "       dlcs-admin --help | --version | COMMAND --help\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s%s%s\n      %.*s\n", commands[i].name, *commands[i].args ? " " : "",
			commands[i].args, (int)strcspn(commands[i].help, "\n"), commands[i].help);
	fputs("The configuration is -c CONFIG or $DLCS_CONFIG (dlcs.conf(5)). See dlcs-admin(8).\n",
	      f);
}

static int usage(void)
{
	usage_to(stderr);
	return ADMIN_USAGE;
}

static void command_help(const struct command *c)
{
	printf("usage: dlcs-admin [-c CONFIG] %s%s%s\n%s\n", c->name, *c->args ? " " : "", c->args,
	       c->help);
}

static int config_command(struct config *cfg, const char *option)
{
	if (!option)
		config_show(cfg, stdout);
	else if (strcmp(option, "--markdown") == 0)
		config_show_markdown(cfg, stdout);
	else if (strcmp(option, "--example") == 0)
		config_show_example(cfg, stdout);
	else
		return usage();
	return 0;
}

/* A command that needs the files of the configuration (and the database,
 * when its row says so). */
static int run_command(const struct command *c, struct config *cfg, char **args, int nargs)
{
	mysql_library_init(0, NULL, NULL);
	struct db *db = db_new(cfg);
	int rc;
	const char *arg = nargs ? args[0] : NULL;
	if (strcmp(c->name, "status") == 0) { /* says itself what is unreachable */
		rc = admin_status(db, cfg);
	} else if (strcmp(c->name, "bump-generation") == 0) {
		rc = db_generation_bump(db) == DB_OK ? 0 : 1;
		if (rc)
			log_err("no usable data generation file: %s (data_generation_file)",
				setting_str(cfg, S_DATA_GENERATION_FILE));
	} else if (db_ensure(db) != DB_OK) {
		log_err("database unavailable: %s", db_last_msg(db));
		rc = 1;
	} else if (strcmp(c->name, "migrate") == 0) {
		rc = migrate_apply(db, setting_str(cfg, S_SCHEMA_DIR)) == 0 ? 0 : 1;
	} else if (strcmp(c->name, "bootstrap") == 0) {
		rc = admin_bootstrap(db, cfg, arg);
	} else if (strcmp(c->name, "create-key") == 0) {
		rc = admin_create_key(db, cfg, arg);
	} else if (strcmp(c->name, "portal-login") == 0) {
		rc = admin_portal_login(db, args[0], args[1]);
	} else if (strcmp(c->name, "render-headers") == 0) {
		rc = admin_render_headers(db, cfg);
	} else if (strcmp(c->name, "publish-names") == 0) {
		rc = admin_publish(db, cfg, true, NULL);
	} else {
		rc = admin_publish(db, cfg, false, arg);
	}
	if (rc == ADMIN_USAGE)
		rc = usage();
	db_free(db);
	mysql_library_end();
	return rc;
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
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
		usage_to(stdout);
		return 0;
	}
	if (strcmp(argv[i], "--version") == 0) {
		printf("dlcs-admin %s\n", PACKAGE_VERSION);
		return 0;
	}
	log_set_program("dlcs-admin");
	const struct command *c = command_find(argv[i]);
	if (!c) {
		log_err("unknown command '%.100s'", argv[i]);
		return usage();
	}
	char **args = argv + i + 1;
	int nargs = argc - i - 1;
	for (int k = 0; k < nargs; k++)
		if (strcmp(args[k], "--help") == 0 || strcmp(args[k], "-h") == 0) {
			command_help(c);
			return 0;
		}
	if (nargs < c->min_args || nargs > c->max_args)
		return usage();
	if (c->needs == NEEDS_NOTHING)
		return admin_nginx_locations(args[0]);
	char err[300];
	struct config *cfg = NULL;
	int crc = path ? config_load(path, &dlcs_settings, &cfg, err, sizeof err) : 0;
	if (crc) {
		log_err("%s: %s", path, err);
		return crc == CONFIG_EINVALID ? SUPERVISE_EXIT_CONFIG : 1;
	}
	if (!cfg)
		cfg = config_empty(&dlcs_settings);
	int rc = strcmp(c->name, "ingest") == 0 ? admin_ingest(cfg, args, nargs)
		 : c->needs == NEEDS_CONFIG     ? config_command(cfg, nargs ? args[0] : NULL)
						: run_command(c, cfg, args, nargs);
	if (rc == ADMIN_USAGE)
		rc = usage();
	config_free(cfg);
	return rc;
}
