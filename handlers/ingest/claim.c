/* The claim loop of a runner (ingest/runner.h): claim an item with a lease,
 * process it, and again, until SIGTERM or SIGINT asks for a stop. */
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "outage.h"
#include "str.h"
#include "asset/grant.h"
#include "asset/manifest_store.h"
#include "asset/runners.h"
#include "asset/store.h"
#include "asset/work.h"
#include "ingest/av_slot.h"
#include "ingest/runner.h"
#include "asset/settings.h"
#include "banned.h"

/* Process state: the signal flag is the only thing a handler may touch. */
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

void runner_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool runner_stopping(void)
{
	return stopping != 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* a signal ends it early, which is what we want */
}

/* Work directories of runners of this host that were killed. */
static void clean_stale(const struct runner *rn, const char *host)
{
	struct arena *tmp = arena_new(4096);
	char prefix[160];
	xsnprintf(prefix, sizeof prefix, "%.120s_", host);
	for (char *p = prefix; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	store_clean_stale(tmp, rn->storage_root, prefix);
	arena_free(tmp);
}

/* While the database is unreachable the runner retries every second; it
 * says so when that begins, every 30 s while it lasts, and when it ends. */
static void db_outage_log(struct outage *o, bool up, struct db *db)
{
	long long lasted;
	switch (outage_note(o, up, outage_clock_ms(), 30000, &lasted)) {
	case OUTAGE_DOWN:
		log_err("database unreachable: %s (retrying every second)", db_last_msg(db));
		break;
	case OUTAGE_STILL_DOWN:
		log_err("database still unreachable after %lld s: %s (retrying every second)",
			lasted / 1000, db_last_msg(db));
		break;
	case OUTAGE_BACK:
		log_info("database reachable again after %lld s", lasted / 1000);
		break;
	case OUTAGE_QUIET:
		break;
	}
}

void runner_loop(struct runner *rn, const char *host)
{
	clean_stale(rn, host);
	int poll_ms = (int)setting_int(rn->cfg, S_RUNNER_POLL_MS);
	int av_slots = (int)setting_int(rn->cfg, S_AV_MAX_TRANSCODES);
	struct arena *a = arena_new(64 * 1024);
	log_info("runner %s started", rn->owner);
	struct outage db_down = {0};
	long long beat_ms = 0; /* 0: not yet */
	long long sweep_ms = 0, mstore_ms = 0;
	while (!stopping) {
		arena_reset(a);
		bool up = db_ensure(rn->db) == DB_OK;
		db_outage_log(&db_down, up, rn->db);
		if (!up) {
			sleep_ms(1000);
			continue;
		}
		/* The runner's row for dlcs-admin status (asset/runners.h),
		 * between items; the first beat also clears long-dead rows. */
		long long now = outage_clock_ms();
		if (!beat_ms || now - beat_ms >= RUNNERS_BEAT_MS) {
			if (!beat_ms)
				(void)runners_prune(rn->db);
			(void)runners_beat(rn->db, rn->owner, host, (int)getpid());
			beat_ms = now;
		}
		/* Grants that can no longer serve (asset/grant.h): an idle
		 * session's last ones would otherwise wait for a login's sweep. */
		if (!sweep_ms || now - sweep_ms >= GRANT_SWEEP_SECONDS * 1000LL) {
			grant_sweep(a, rn->storage_root, GRANT_SWEEP_MAX);
			sweep_ms = now;
		}
		/* Stored manifests unused, or beyond the store's size
		 * (asset/manifest_store.h). */
		if (!mstore_ms || now - mstore_ms >= MSTORE_SWEEP_SECONDS * 1000LL) {
			mstore_sweep(a, rn->storage_root,
				     setting_int(rn->cfg, S_MANIFEST_STORE_MAX_BYTES));
			mstore_ms = now;
		}
		/* Items that transcode are claimed only with one of the host's
		 * transcode slots in hand, kept while the item is worked on. */
		int slot = av_slot_take(a, rn->storage_root, host, av_slots);
		struct work_item w;
		int rc = work_claim(rn->db, a, rn->owner, rn->lease_seconds, slot >= 0, &w);
		if (rc != 1 || !w.av) {
			av_slot_give(slot);
			slot = -1;
		}
		if (rc == 1) {
			pipeline_process(rn, a, &w);
			av_slot_give(slot);
			/* An ingest's pixel buffers are tens of megabytes, freed
			 * when it ends; glibc keeps such memory in its heaps (and
			 * raises its mmap threshold after freeing one), so give it
			 * back now: a waiting runner then holds only its own state,
			 * not its largest image. Costs little beside an ingest. */
			(void)malloc_trim(0);
		} else if (rc == 0) {
			/* No ingest waits: the projections' turn (ingests first,
			 * as a user waits on them; a projection answers 202 meanwhile). */
			int prc = projection_run_one(rn, a);
			if (prc == 0)
				sleep_ms(poll_ms);
			else if (prc < 0)
				sleep_ms(1000);
		} else
			sleep_ms(1000);
	}
	if (db_ensure(rn->db) == DB_OK)
		(void)runners_gone(rn->db, rn->owner);
	log_info("runner %s stopping", rn->owner);
	arena_free(a);
}
