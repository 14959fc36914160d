/* The lease heartbeat thread (ingest/heartbeat.h). */
#include <mysql.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "asset/work.h"
#include "ingest/heartbeat.h"
#include "banned.h"

static void *heartbeat_main(void *arg)
{
	struct heartbeat *hb = arg;
	mysql_thread_init();
	int period_ms = hb->lease_seconds * 1000 / 3;
	if (period_ms < 200)
		period_ms = 200;
	pthread_mutex_lock(&hb->mu);
	while (!hb->quit) {
		if (hb->item_id == 0) {
			pthread_cond_wait(&hb->cv, &hb->mu);
			continue;
		}
		long long item = hb->item_id;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += period_ms / 1000;
		until.tv_nsec += (long)(period_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&hb->cv, &hb->mu, &until);
		if (hb->quit || hb->item_id != item)
			continue;
		pthread_mutex_unlock(&hb->mu);
		struct work_item w = {.id = item};
		int rc = db_ensure(hb->db) == DB_OK
				 ? work_renew(hb->db, &w, hb->owner, hb->lease_seconds)
				 : -1;
		pthread_mutex_lock(&hb->mu);
		if (rc == 0 && hb->item_id == item)
			hb->lost = true;
	}
	pthread_mutex_unlock(&hb->mu);
	mysql_thread_end();
	return NULL;
}

void heartbeat_hold(struct heartbeat *hb, long long item_id)
{
	pthread_mutex_lock(&hb->mu);
	hb->item_id = item_id;
	hb->lost = false;
	pthread_cond_signal(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
}

bool heartbeat_lost(struct heartbeat *hb)
{
	pthread_mutex_lock(&hb->mu);
	bool lost = hb->lost;
	pthread_mutex_unlock(&hb->mu);
	return lost;
}

int heartbeat_start(struct heartbeat *hb, const struct config *cfg, const char *owner,
		    int lease_seconds)
{
	*hb = (struct heartbeat){.db = db_new(cfg), .owner = owner, .lease_seconds = lease_seconds};
	pthread_mutex_init(&hb->mu, NULL);
	pthread_cond_init(&hb->cv, NULL);
	if (pthread_create(&hb->thread, NULL, heartbeat_main, hb) != 0) {
		log_err("cannot start the lease heartbeat thread");
		return -1;
	}
	return 0;
}

void heartbeat_stop(struct heartbeat *hb)
{
	pthread_mutex_lock(&hb->mu);
	hb->quit = true;
	pthread_cond_signal(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
	pthread_join(hb->thread, NULL);
	db_free(hb->db);
	pthread_mutex_destroy(&hb->mu);
	pthread_cond_destroy(&hb->cv);
}
