/* The commands of dlcs-admin (main.c dispatches to them). Each returns the
 * program's exit status: 0, 1 after logging why, or ADMIN_USAGE when its
 * arguments are wrong (main then prints the usage). Delivery commands call
 * the functions the API and the runner use. */
#ifndef DLCS_ADMIN_COMMANDS_H
#define DLCS_ADMIN_COMMANDS_H

#include <stdbool.h>

struct config;
struct db;

#define ADMIN_USAGE 2

/* The admin customer (id 1), when missing, and a key for it written to
 * keyfile as "key:secret" (mode 0600), when keyfile does not exist. */
int admin_bootstrap(struct db *db, const struct config *cfg, const char *keyfile);
/* Prints a new "key:secret" for customer `customer` (its id). */
int admin_create_key(struct db *db, const struct config *cfg, const char *customer);
/* The login check of the access-control flow (portal_user_verify) for
 * customer `customer`'s portal user `email`, the password read from one
 * line of standard input: prints "{id} {roles}" and returns 0 when it
 * would log in, else 1. */
int admin_portal_login(struct db *db, const char *customer, const char *email);
/* Renders the nginx include of the custom headers now, and installs it
 * (tested with nginx_test_command, then nginx reloaded) when it changed;
 * 1 when the test refused it (the previous include stays). */
int admin_render_headers(struct db *db, const struct config *cfg);
/* Rewrites the generated blocks of nginx/dlcs.conf at path (the fast-path
 * locations, from the table of asset/nginx_include.c); no database. */
int admin_nginx_locations(const char *path);
/* names: the public name links of every customer; else the public links
 * and size aliases of every asset (of customer `customer`, an id, when not
 * NULL). */
int admin_publish(struct db *db, const struct config *cfg, bool names, const char *customer);
/* dlcs-admin status (admin/status.c): the database, the queue, the runners
 * and their last heartbeat, the last day's ingest errors and storage, on
 * stdout; 1 when it found a problem (each a line starting "PROBLEM"),
 * also when the database is unreachable. */
int admin_status(struct db *db, const struct config *cfg);
/* dlcs-admin ingest (admin/ingest.c): a folder, a CSV or a list of URLs
 * into a space through the API, in batches, resumable; args are those after
 * the command's name. */
int admin_ingest(const struct config *cfg, char **args, int nargs);

#endif
