/* The lease heartbeat of a runner (ingest/runner.h): a thread that keeps the
 * lease of the item in hand alive while the main thread fetches and decodes
 * (either can outlast a lease), on its own database connection. If renewal
 * finds the lease gone, heartbeat_lost tells the main thread to drop the
 * item at its next checkpoint. */
#ifndef DLCS_INGEST_HEARTBEAT_H
#define DLCS_INGEST_HEARTBEAT_H

#include <pthread.h>
#include <stdbool.h>

struct config;
struct db;

struct heartbeat {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db *db;
	const char *owner;
	int lease_seconds;
	long long item_id; /* 0: nothing in hand */
	bool quit;
	bool lost;
};

/* Starts the thread, with its own connection made from cfg, renewing for
 * `owner` (which must outlive it). 0, or -1 after logging. */
int heartbeat_start(struct heartbeat *hb, const struct config *cfg, const char *owner,
		    int lease_seconds);
/* Stops the thread and frees what heartbeat_start made. */
void heartbeat_stop(struct heartbeat *hb);
/* The item in hand (0: none): the thread renews its lease from now on. */
void heartbeat_hold(struct heartbeat *hb, long long item_id);
/* True when a renewal found the lease of the item in hand taken. */
bool heartbeat_lost(struct heartbeat *hb);

#endif
