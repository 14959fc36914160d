/* Change counters (table change_counters, schema/006-change-counters.sql):
 * a number per kind of data that a writer moves on after each committed
 * change, for a process that follows the changes by polling one row. The
 * one in use: CHANGE_CUSTOM_HEADERS, moved on by the API after each change
 * of a customer's custom headers and watched by the runner that renders the
 * nginx include (ingest/headers_renderer.h). The counter lives in the
 * database, so writers and the watcher may be on different hosts. */
#ifndef DLCS_ASSET_CHANGE_COUNTER_H
#define DLCS_ASSET_CHANGE_COUNTER_H

struct arena;
struct db;

#define CHANGE_CUSTOM_HEADERS "custom_headers"

/* Adds one to counter `name` (creating its row at 1). 0, or -1 (the
 * database's error is in db_last_msg). */
int change_counter_bump(struct db *db, const char *name);
/* The value of counter `name` (0 when it has no row yet), or -1 (the
 * database's error is in db_last_msg). */
long long change_counter_read(struct db *db, struct arena *a, const char *name);

#endif
