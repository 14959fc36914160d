/* The runners' presence in the database (table runners, schema
 * 011-runners.sql): written by each dlcs-runner, read by dlcs-admin status.
 * A runner's owner is "host:pid", as in its leases. */
#ifndef DLCS_ASSET_RUNNERS_H
#define DLCS_ASSET_RUNNERS_H

struct db;

/* How often a runner beats, and after how long without one status calls
 * it stale. */
#define RUNNERS_BEAT_MS       5000
#define RUNNERS_STALE_SECONDS 60

/* The runner's row, made or refreshed now. DB_OK or the db error. */
int runners_beat(struct db *db, const char *owner, const char *host, int pid);
/* The runner's row removed (it stops). DB_OK or the db error. */
int runners_gone(struct db *db, const char *owner);
/* Rows not refreshed for a day: runners long dead. DB_OK or the db error. */
int runners_prune(struct db *db);

#endif
