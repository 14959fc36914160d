/* The renderer of the custom-headers include (ingest/headers_renderer.h). */
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "str.h"
#include "asset/change_counter.h"
#include "ingest/headers_renderer.h"
#include "banned.h"

/* How often a runner that does not render tries to take the lock. */
#define ELECTION_MS 1000
/* How often the renderer reads the change counter. */
#define POLL_MS 200
/* A burst of changes has settled when the counter has not moved for this
 * long; but a stream of changes that never pauses is rendered this long
 * after its first change all the same. */
#define QUIET_MS     300
#define MAX_DELAY_MS 3000
/* Rendering again without a change: see the header. */
#define RESYNC_MS 60000
/* After a failed rendering (nginx -t refused it, or nginx's configuration
 * is not there yet while the stack starts), the same generation is tried
 * again after this long, doubling up to the second. */
#define RETRY_MIN_MS 2000
#define RETRY_MAX_MS 60000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits ms milliseconds, or less when a stop is asked for: true then. */
static bool pause_ms(struct headers_renderer *hr, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&hr->mu);
	while (!hr->quit && ms > 0 && pthread_cond_timedwait(&hr->cv, &hr->mu, &until) == 0)
		;
	bool quit = hr->quit;
	pthread_mutex_unlock(&hr->mu);
	return quit;
}

/* What the loop knows between two readings of the counter. */
struct follow {
	long long seen;          /* the counter's last value (-1: not read yet) */
	long long published;     /* the generation the include holds (-1: unknown) */
	long long changed_at;    /* when `seen` last moved */
	long long pending_since; /* the first change not rendered yet (0: none) */
	long long last_render;
	long long failed_gen; /* the generation whose rendering failed (-1: none) */
	long long retry_at;
	int retry_ms;
};

/* True when the include should be rendered now. */
static bool render_due(const struct follow *f, long long now)
{
	if (f->seen == f->failed_gen)
		return now >= f->retry_at;
	if (f->seen != f->published)
		return f->published == -1 || now - f->changed_at >= QUIET_MS ||
		       now - f->pending_since >= MAX_DELAY_MS;
	return now - f->last_render >= RESYNC_MS;
}

static void render(struct headers_renderer *hr, struct db *db, struct arena *a, struct follow *f)
{
	long long gen;
	enum nginx_outcome out = nginx_include_publish(db, a, &hr->target, &gen);
	long long now = now_ms();
	f->last_render = now;
	if (out == NGINX_REFUSED || out == NGINX_FAILED) {
		f->failed_gen = f->seen;
		f->retry_at = now + f->retry_ms;
		f->retry_ms = f->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : f->retry_ms * 2;
		return;
	}
	f->published = gen;
	f->pending_since = 0;
	f->failed_gen = -1;
	f->retry_ms = RETRY_MIN_MS;
}

/* The renderer's work once it holds the lock, until a stop. */
static void follow_changes(struct headers_renderer *hr)
{
	struct db *db = db_new(hr->cfg);
	struct arena *a = arena_new(64 * 1024);
	struct follow f = {.seen = -1, .published = -1, .failed_gen = -1, .retry_ms = RETRY_MIN_MS};
	bool unread = false; /* the counter could not be read, and that was logged */
	for (int wait = 0; !pause_ms(hr, wait); wait = POLL_MS) {
		arena_reset(a);
		long long gen = db_ensure(db) == DB_OK
					? change_counter_read(db, a, CHANGE_CUSTOM_HEADERS)
					: -1;
		if (gen < 0) {
			if (!unread)
				log_err("custom headers: cannot read their change counter: %s",
					db_last_msg(db));
			unread = true;
			wait = 1000;
			continue;
		}
		unread = false;
		long long now = now_ms();
		if (gen != f.seen) {
			f.seen = gen;
			f.changed_at = now;
			if (!f.pending_since)
				f.pending_since = now;
		}
		if (render_due(&f, now))
			render(hr, db, a, &f);
	}
	arena_free(a);
	db_free(db);
}

static void *renderer_main(void *arg)
{
	struct headers_renderer *hr = arg;
	/* The runner's stop signals are the main thread's to see. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	mysql_thread_init();
	char lock[4096];
	xsnprintf(lock, sizeof lock, "%s.renderer", hr->target.include);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		log_err("custom headers: cannot open %s: %s; this runner does not render them",
			lock, strerror(errno));
	bool held = false;
	while (fd >= 0 && !held && !pause_ms(hr, 0)) {
		held = flock(fd, LOCK_EX | LOCK_NB) == 0;
		if (!held && errno != EWOULDBLOCK && errno != EINTR) {
			log_err("custom headers: cannot lock %s: %s", lock, strerror(errno));
			break;
		}
		if (!held)
			pause_ms(hr, ELECTION_MS);
	}
	if (held) {
		log_info("custom headers: this runner renders %s (it holds %s)", hr->target.include,
			 lock);
		follow_changes(hr);
	}
	if (fd >= 0)
		close(fd); /* releases the lock */
	mysql_thread_end();
	return NULL;
}

int headers_renderer_start(struct headers_renderer *hr, const struct config *cfg)
{
	*hr = (struct headers_renderer){.cfg = cfg};
	nginx_target_from_config(&hr->target, cfg);
	if (!hr->target.include || !*hr->target.include)
		return 0;
	if (strlen(hr->target.include) > 4000) {
		log_err("custom headers: nginx_custom_headers is too long a path");
		return -1;
	}
	pthread_mutex_init(&hr->mu, NULL);
	pthread_cond_init(&hr->cv, NULL);
	if (pthread_create(&hr->thread, NULL, renderer_main, hr) != 0) {
		log_err("cannot start the custom headers' renderer thread");
		pthread_mutex_destroy(&hr->mu);
		pthread_cond_destroy(&hr->cv);
		return -1;
	}
	hr->started = true;
	return 0;
}

void headers_renderer_stop(struct headers_renderer *hr)
{
	if (!hr->started)
		return;
	pthread_mutex_lock(&hr->mu);
	hr->quit = true;
	pthread_cond_signal(&hr->cv);
	pthread_mutex_unlock(&hr->mu);
	pthread_join(hr->thread, NULL);
	pthread_mutex_destroy(&hr->mu);
	pthread_cond_destroy(&hr->cv);
	hr->started = false;
}
