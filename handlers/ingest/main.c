/* dlcs-runner: the queue runner. Started beside the FastCGI pools the same
 * way (spawn-fcgi starts one process, which keeps -w N runners running,
 * fcgi/supervise.h), it serves no requests: it claims ingest work from
 * the database with a lease, fetches the origin, makes the derivatives and
 * records the outcome. Any number of runners, on any number of hosts sharing
 * the database and storage, cooperate through the leases (see work.h).
 * SIGTERM: an item whose origin fetch is under way when the stop comes is
 * released for another runner (its derivatives were not made); one past its
 * fetch is finished; then the process exits. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "asset/channel_rules.h"
#include "config.h"
#include "db.h"
#include "asset/gm.h"
#include "ingest/derive.h"
#include "json.h"
#include "log.h"
#include "ingest/origin.h"
#include "asset/publish.h"
#include "asset/store.h"
#include "str.h"
#include "supervise.h"
#include "asset/work.h"
#include "banned.h"

/* Process state: the signal flag is the only thing a handler may touch. */
static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Keeps the lease of the item in hand alive while the main thread fetches
 * and decodes (either can outlast a lease), on its own database connection.
 * If renewal finds the lease gone, `lost` tells the main thread to drop the
 * item at its next checkpoint. */
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

static void heartbeat_hold(struct heartbeat *hb, long long item_id)
{
	pthread_mutex_lock(&hb->mu);
	hb->item_id = item_id;
	hb->lost = false;
	pthread_cond_signal(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
}

static bool heartbeat_lost(struct heartbeat *hb)
{
	pthread_mutex_lock(&hb->mu);
	bool lost = hb->lost;
	pthread_mutex_unlock(&hb->mu);
	return lost;
}

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

enum { SQL_ASSET, SQL_THUMBS_POLICY, SQL_ASSET_EXISTS, SQL__MAX };

static const char *const SQL[SQL__MAX] = {
	[SQL_ASSET] = "SELECT origin, media_type, delivery_channels, max_unauthorised FROM assets"
		      " WHERE customer_id = ? AND space_id = ? AND id = ?",
	[SQL_THUMBS_POLICY] = "SELECT policy_data FROM delivery_channel_policies"
			      " WHERE customer_id IN (?, 0) AND channel = 'thumbs' AND name = ?"
			      " ORDER BY customer_id DESC LIMIT 1",
	[SQL_ASSET_EXISTS] =
		"SELECT 1 FROM assets WHERE customer_id = ? AND space_id = ? AND id = ?",
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* a signal ends it early, which is what we want */
}

/* The thumbs policy name of the stored channels, NULL when absent. */
static const char *thumbs_policy_name(struct arena *a, const char *channels_json)
{
	char err[64];
	yajl_val v = json_parse(a, channels_json, strlen(channels_json), err, sizeof err);
	if (!v || v->type != yajl_t_array)
		return NULL;
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val ch = json_get(v->u.array.values[i], "channel");
		yajl_val pol = json_get(v->u.array.values[i], "policy");
		if (ch && ch->type == yajl_t_string && strcmp(ch->u.string, "thumbs") == 0)
			return pol && pol->type == yajl_t_string ? pol->u.string : "default";
	}
	return NULL;
}

/* Adds the policy's sizes to opts (the default set is always added by derive). */
static void load_thumb_sizes(struct runner *rn, struct arena *a, int c, const char *policy,
			     struct derive_opts *opts)
{
	struct db_rows *r = db_query(rn->db, a, SQL[SQL_THUMBS_POLICY], "is", c, policy);
	if (!r || r->n == 0 || !db_str(r, 0, 0))
		return;
	const char *text = db_str(r, 0, 0);
	char err[64];
	yajl_val v = json_parse(a, text, strlen(text), err, sizeof err);
	if (!v || v->type != yajl_t_array)
		return;
	for (size_t i = 0; i < v->u.array.len && opts->nthumb_sizes < DERIVE_MAX_THUMBS; i++) {
		yajl_val s = v->u.array.values[i];
		if (s->type == yajl_t_string &&
		    derive_parse_size(s->u.string, &opts->thumb_sizes[opts->nthumb_sizes]))
			opts->nthumb_sizes++;
	}
}

/* Does the work of one item; fills *o (o->error on failure). Returns false
 * when the item must not be recorded (lease lost, or stopping before the
 * work was done: released). */
static bool ingest(struct runner *rn, struct arena *a, const struct work_item *w,
		   struct work_outcome *o)
{
	struct db_rows *r =
		db_query(rn->db, a, SQL[SQL_ASSET], "iis", w->customer, w->space, w->asset);
	if (!r) {
		o->error = "storage: database unavailable while reading the asset";
		return true;
	}
	if (r->n == 0) {
		o->error = "the asset was deleted before it could be ingested";
		return true;
	}
	const char *origin = db_str(r, 0, 0), *media_type = db_str(r, 0, 1);
	const char *channels = db_str(r, 0, 2);
	int max_unauth = (int)db_int(r, 0, 3);
	bool img = channels_has(channels, "iiif-img"), thumbs = channels_has(channels, "thumbs");
	bool file = channels_has(channels, "file"), av = channels_has(channels, "iiif-av");
	if (!img && !thumbs && !file && !av)
		return true; /* channel "none": nothing to make */
	if (!origin || !*origin) {
		o->error = "origin: the asset has no origin";
		return true;
	}

	char err[256];
	const char *tag = arena_printf(a, "%s-%lld", rn->owner, w->id);
	for (char *p = (char *)tag; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	const char *work = store_work_dir(a, rn->storage_root, tag, err, sizeof err);
	if (!work) {
		o->error = arena_printf(a, "storage: %s", err);
		return true;
	}
	const char *original = arena_printf(a, "%s/original", work);
	struct origin_fetch f;
	memset(&f, 0, sizeof f);
	enum origin_status os = origin_fetch(rn->db, a, rn->cfg, w->customer, origin, original, &f);
	if (stopping) {
		/* Stopping before the work is done: another runner takes it now. */
		store_rm_rf(work);
		work_release(rn->db, w, rn->owner);
		return false;
	}
	if (os != ORIGIN_OK) {
		o->error = arena_printf(a, "origin: %s", f.error[0] ? f.error : "fetch failed");
		store_rm_rf(work);
		return true;
	}
	if (heartbeat_lost(rn->hb) || work_renew(rn->db, w, rn->owner, rn->lease_seconds) != 1) {
		store_rm_rf(work);
		return false;
	}
	long long thumbs_bytes = 0;
	if ((img || thumbs) && str_starts(media_type, "image/")) {
		struct derive_opts opts = rn->base_opts;
		opts.tiles = img;
		opts.thumbs = thumbs;
		opts.max_unauthorised = max_unauth;
		const char *policy = thumbs ? thumbs_policy_name(a, channels) : NULL;
		if (policy) {
			const char *slash = strrchr(policy, '/');
			load_thumb_sizes(rn, a, w->customer, slash ? slash + 1 : policy, &opts);
		}
		struct derive_result dr;
		memset(&dr, 0, sizeof dr);
		if (derive_image(original, work, &opts, &dr) != 0) {
			/* "image:" is the image's fault (422 on a synchronous PUT);
			 * "storage:" is ours (500). */
			o->error = arena_printf(a, "%s: %s", dr.bad_input ? "image" : "storage",
						dr.error[0] ? dr.error : "cannot decode");
			store_rm_rf(work);
			return true;
		}
		o->width = dr.width;
		o->height = dr.height;
		thumbs_bytes = dr.thumbs_bytes;
	} else if (av && !file) {
		o->error = "iiif-av: audio/video transcoding is not available on this platform";
		store_rm_rf(work);
		return true;
	}
	o->thumbnail_size = thumbs_bytes;
	o->size = store_du(a, work, "thumbs");
	/* Only the lease holder installs: a runner whose lease expired (it was
	 * too slow, and another took the item) must not overwrite. */
	if (work_renew(rn->db, w, rn->owner, rn->lease_seconds) != 1) {
		store_rm_rf(work);
		return false;
	}
	const char *final = store_asset_dir(a, rn->storage_root, w->customer, w->space, w->asset);
	if (store_install(a, work, final, err, sizeof err) != 0) {
		o->error = arena_printf(a, "storage: %s", err);
		o->width = o->height = 0;
		store_rm_rf(work);
	}
	return true;
}

static void process(struct runner *rn, struct arena *a, const struct work_item *w)
{
	struct work_outcome o;
	memset(&o, 0, sizeof o);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (w->attempts > rn->max_attempts) {
		/* The runners that claimed it before died on it (killed, out of
		 * memory): give up instead of crashing runners forever. */
		o.error = arena_printf(a, "ingest abandoned after %d attempts", w->attempts - 1);
	} else {
		heartbeat_hold(rn->hb, w->id);
		bool keep = ingest(rn, a, w, &o);
		heartbeat_hold(rn->hb, 0);
		if (!keep) {
			log_info("item %lld (%d/%d/%s) released", w->id, w->customer, w->space,
				 w->asset);
			return;
		}
	}
	/* Delivery: the public links follow the outcome (linked when the asset
	 * is open and was ingested without error, unlinked otherwise), set
	 * before it is recorded so that a synchronous PUT, answered as soon as
	 * it is, finds them in place. */
	if (o.error)
		store_unpublish(a, rn->storage_root, w->customer, w->space, w->asset);
	else
		asset_publish(rn->db, a, rn->storage_root, w->customer, w->space, w->asset);
	int rc = work_complete(rn->db, a, w, rn->owner, &o);
	/* The asset may have been deleted while it was being ingested, after
	 * the API removed its files: remove what this runner installed. */
	struct db_rows *exists =
		db_query(rn->db, a, SQL[SQL_ASSET_EXISTS], "iis", w->customer, w->space, w->asset);
	if (exists && exists->n == 0) {
		store_unpublish(a, rn->storage_root, w->customer, w->space, w->asset);
		store_remove(a, rn->storage_root, w->customer, w->space, w->asset);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (rc == 1)
		log_info("item %lld (%d/%d/%s) %s in %.0f ms%s%s", w->id, w->customer, w->space,
			 w->asset, o.error ? "failed" : "done", ms, o.error ? ": " : "",
			 o.error ? o.error : "");
	else if (rc == 0)
		log_warn("item %lld: lease lost, outcome discarded", w->id);
	else
		log_err("item %lld: could not record the outcome (%s); it will be retried", w->id,
			db_last_msg(rn->db));
}

/* One runner, in its own process: its database connections, heartbeat
 * thread, GraphicsMagick and libcurl state are made here, after the fork. */
static int runner_worker(const struct worker_env *env)
{
	struct config *cfg = env->cfg;
	char err[256];
	if (origin_config_check(cfg, err, sizeof err) != 0) {
		log_err("%s: %s", env->config_path ? env->config_path : "(no configuration file)",
			err);
		return SUPERVISE_EXIT_CONFIG;
	}
	/* spawn-fcgi hands us its listening socket on fd 0; a runner answers no
	 * requests, so let go of it. */
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	mysql_library_init(0, NULL, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	gm_init(env->argv0, config_int(cfg, "image_memory_limit", 4LL << 30));

	char host[128];
	if (gethostname(host, sizeof host) != 0)
		xsnprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	struct runner rn = {
		.cfg = cfg,
		.db = db_new(cfg),
		.owner = NULL,
		.storage_root = config_str(cfg, "storage_root", "var/storage"),
		.lease_seconds = (int)config_int(cfg, "runner_lease_seconds", 120),
		.max_attempts = (int)config_int(cfg, "runner_max_attempts", 3),
		.base_opts =
			{
				.max_pixels = config_int(cfg, "max_image_pixels", 200000000),
				.jpeg_quality = (int)config_int(cfg, "jpeg_quality", 85),
				.threads = (int)config_int(cfg, "runner_threads", 2),
				/* the same limit dlcs-image answers with: no full/
				 * alias for a size it would refuse */
				.image_max_area = config_int(cfg, "image_max_area", 0),
			},
	};
	char owner[200];
	xsnprintf(owner, sizeof owner, "%.120s:%d", host, (int)getpid());
	rn.owner = owner;
	struct heartbeat hb = {
		.db = db_new(cfg), .owner = owner, .lease_seconds = rn.lease_seconds};
	pthread_mutex_init(&hb.mu, NULL);
	pthread_cond_init(&hb.cv, NULL);
	if (pthread_create(&hb.thread, NULL, heartbeat_main, &hb) != 0) {
		log_err("cannot start the lease heartbeat thread");
		return 1;
	}
	rn.hb = &hb;
	{
		/* Work directories of runners of this host that were killed. */
		struct arena *tmp = arena_new(4096);
		char prefix[160];
		xsnprintf(prefix, sizeof prefix, "%.120s_", host);
		for (char *p = prefix; *p; p++)
			if (*p == '/' || *p == ':')
				*p = '_';
		store_clean_stale(tmp, rn.storage_root, prefix);
		arena_free(tmp);
	}
	int poll_ms = (int)config_int(cfg, "runner_poll_ms", 200);
	struct arena *a = arena_new(64 * 1024);
	log_info("runner %s started", owner);
	while (!stopping) {
		arena_reset(a);
		if (db_ensure(rn.db) != DB_OK) {
			sleep_ms(1000);
			continue;
		}
		struct work_item w;
		int rc = work_claim(rn.db, a, owner, rn.lease_seconds, &w);
		if (rc == 1)
			process(&rn, a, &w);
		else if (rc == 0)
			sleep_ms(poll_ms);
		else
			sleep_ms(1000);
	}
	log_info("runner %s stopping", owner);
	pthread_mutex_lock(&hb.mu);
	hb.quit = true;
	pthread_cond_signal(&hb.cv);
	pthread_mutex_unlock(&hb.mu);
	pthread_join(hb.thread, NULL);
	db_free(hb.db);
	pthread_mutex_destroy(&hb.mu);
	pthread_cond_destroy(&hb.cv);
	arena_free(a);
	db_free(rn.db);
	curl_global_cleanup();
	mysql_library_end();
	return 0;
}

int main(int argc, char **argv)
{
	return supervise_program(argc, argv, "dlcs-runner", runner_worker);
}
