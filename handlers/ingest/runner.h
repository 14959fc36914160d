/* One runner process of dlcs-runner: what its parts share. main.c makes it,
 * claim.c claims work for it in a loop until a stop is asked for, and
 * pipeline.c does each item (origin, derivatives, outcome). Any number of
 * runners, on any number of hosts sharing the database and storage,
 * cooperate through the leases (asset/work.h). */
#ifndef DLCS_INGEST_RUNNER_H
#define DLCS_INGEST_RUNNER_H

#include <stdbool.h>

#include "ingest/derive.h"

struct arena;
struct config;
struct db;
struct heartbeat;
struct work_item;

struct runner {
	struct config *cfg;
	struct db *db;
	const char *owner;
	const char *storage_root;
	int lease_seconds;
	int max_attempts;
	struct derive_opts base_opts;
	struct heartbeat *hb;
};

/* claim.c: SIGTERM and SIGINT ask the runner to stop (runner_stopping turns
 * true); SIGPIPE is ignored. */
void runner_signals(void);
bool runner_stopping(void);
/* Removes the work directories of this host's runners that were killed
 * (store_clean_stale), then claims and processes items until a stop is
 * asked for. */
void runner_loop(struct runner *rn, const char *host);

/* pipeline.c: does the work of one claimed item and records its outcome
 * (or releases the item when a stop came before the work was done). */
void pipeline_process(struct runner *rn, struct arena *a, const struct work_item *w);

/* projection_make.c: claims a queued PDF or ZIP projection of a named query
 * (asset/projection.h), makes its file and records it. 1 when one was
 * made (or failed), 0 when none is queued, < 0 a db error. */
int projection_run_one(struct runner *rn, struct arena *a);

#endif
