/* The pools' shared counters (see metrics.h): one fixed-layout file per
 * pool, mapped MAP_SHARED; writers use relaxed atomic adds, the reader
 * (dlcs-api's /metrics) relaxed atomic loads. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "router.h"
#include "str.h"
#include "banned.h"

enum {
	METRICS_MAGIC = 0x444c4d31, /* "DLM1": this layout */
	MAX_ROUTES = 255,           /* a larger table's rest is counted as row MAX_ROUTES */
	ROUTE_LABEL = 96,
	CLASSES = 5, /* 1xx .. 5xx */
	BUCKETS = 10,
};

/* The histogram's upper bounds, seconds (the last bucket is +Inf). */
static const double BOUNDS[BUCKETS - 1] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

struct metrics_file {
	uint32_t magic;
	_Atomic uint32_t routes_state; /* 0 none, 1 being written, 2 written */
	uint32_t nroutes;
	char program[32];
	char route[MAX_ROUTES][ROUTE_LABEL];
	/* row nroutes (at most MAX_ROUTES): no route matched */
	_Atomic unsigned long long requests[MAX_ROUTES + 1][CLASSES];
	_Atomic unsigned long long counters[MC__MAX];
	_Atomic unsigned long long ingest_bucket[BUCKETS];
	_Atomic unsigned long long ingest_ms_sum;
};

static struct metrics_file *mf; /* this process's pool, NULL: not counting */

static bool metrics_dir(char *buf, size_t size, const char *storage_root)
{
	int n = snprintf(buf, size, "%s/.metrics", storage_root);
	return n > 0 && (size_t)n < size;
}

bool metrics_open(const char *storage_root, const char *program)
{
	char dir[4096], path[4200];
	if (!storage_root || !*storage_root || !metrics_dir(dir, sizeof dir, storage_root)) {
		errno = ENAMETOOLONG;
		return false;
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return false;
	int n = snprintf(path, sizeof path, "%s/%s", dir, program);
	if (n < 0 || (size_t)n >= sizeof path) {
		errno = ENAMETOOLONG;
		return false;
	}
	/* anew: a new file (rename over the old one), so that a reader never
	 * sees a half-reset one */
	char tmp[4300];
	n = snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return false;
	}
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return false;
	if (ftruncate(fd, sizeof(struct metrics_file)) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return false;
	}
	void *p =
		mmap(NULL, sizeof(struct metrics_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		unlink(tmp);
		errno = e;
		return false;
	}
	struct metrics_file *m = p;
	m->magic = METRICS_MAGIC;
	xsnprintf(m->program, sizeof m->program, "%s", program);
	if (rename(tmp, path) != 0) {
		e = errno;
		munmap(p, sizeof(struct metrics_file));
		unlink(tmp);
		errno = e;
		return false;
	}
	if (mf)
		munmap(mf, sizeof *mf);
	mf = m;
	return true;
}

void metrics_routes(const struct route *routes, size_t n)
{
	uint32_t none = 0;
	if (!mf || !atomic_compare_exchange_strong(&mf->routes_state, &none, 1))
		return; /* another worker wrote them, or is writing them */
	if (n > MAX_ROUTES)
		n = MAX_ROUTES;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(mf->route[i], ROUTE_LABEL, "%s %s",
				 http_method_name(routes[i].method), routes[i].pattern);
		if (w < 0 || w >= ROUTE_LABEL) /* a pattern too long for the label: cut */
			mf->route[i][ROUTE_LABEL - 1] = '\0';
	}
	mf->nroutes = (uint32_t)n;
	atomic_store(&mf->routes_state, 2);
}

void metrics_request(size_t route, size_t n, int status)
{
	if (!mf || status < 100 || status > 599)
		return;
	size_t row = route >= n || route >= MAX_ROUTES ? MAX_ROUTES : route;
	atomic_fetch_add_explicit(&mf->requests[row][status / 100 - 1], 1, memory_order_relaxed);
}

void metrics_count(enum metrics_counter c)
{
	if (mf && (unsigned)c < MC__MAX)
		atomic_fetch_add_explicit(&mf->counters[c], 1, memory_order_relaxed);
}

void metrics_ingest_seconds(double seconds)
{
	if (!mf)
		return;
	if (!(seconds >= 0)) /* NaN too */
		seconds = 0;
	size_t b = 0;
	while (b < BUCKETS - 1 && seconds > BOUNDS[b])
		b++;
	atomic_fetch_add_explicit(&mf->ingest_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mf->ingest_ms_sum, (unsigned long long)(seconds * 1000 + 0.5),
				  memory_order_relaxed);
}

static unsigned long long load(_Atomic unsigned long long *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* A label value as the format wants it: \\, \" and \n escaped; other
 * control bytes (none in a route pattern) as '?'. */
static void add_label(struct sbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sbuf_addc(out, '\\');
		if (*s == '\n')
			sbuf_adds(out, "\\n");
		else
			sbuf_addc(out, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	}
}

/* One pool's file, read-only; NULL when absent or not of this layout. */
static const struct metrics_file *map_pool(const char *dir, const char *program)
{
	char path[4200];
	int n = snprintf(path, sizeof path, "%s/%s", dir, program);
	if (n < 0 || (size_t)n >= sizeof path)
		return NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	struct stat st;
	void *p = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == (off_t)sizeof(struct metrics_file))
		p = mmap(NULL, sizeof(struct metrics_file), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	const struct metrics_file *m = p;
	if (m->magic != METRICS_MAGIC) {
		munmap(p, sizeof *m);
		return NULL;
	}
	return m;
}

static const char *const POOLS[] = {"dlcs-api", "dlcs-image", "dlcs-runner"};

void metrics_render(struct sbuf *out, const char *storage_root)
{
	char dir[4096];
	if (!storage_root || !metrics_dir(dir, sizeof dir, storage_root))
		return;
	const struct metrics_file *m[3];
	for (size_t i = 0; i < 3; i++)
		m[i] = map_pool(dir, POOLS[i]);

	sbuf_adds(out,
		  "# HELP dlcs_requests_total Requests answered, by program, route pattern and "
		  "status class.\n# TYPE dlcs_requests_total counter\n");
	for (size_t i = 0; i < 3; i++) {
		if (!m[i])
			continue;
		struct metrics_file *w = (struct metrics_file *)m[i]; /* atomics want non-const */
		bool named = atomic_load(&w->routes_state) == 2;
		size_t nr = named && m[i]->nroutes <= MAX_ROUTES ? m[i]->nroutes : 0;
		for (size_t r = 0; r <= MAX_ROUTES; r++) {
			if (r < MAX_ROUTES && r >= nr)
				continue;
			for (int c = 0; c < CLASSES; c++) {
				unsigned long long v = load(&w->requests[r][c]);
				if (!v)
					continue;
				sbuf_printf(out, "dlcs_requests_total{program=\"%s\",route=\"",
					    POOLS[i]);
				if (r < nr) {
					char label[ROUTE_LABEL];
					memcpy(label, m[i]->route[r], ROUTE_LABEL);
					label[ROUTE_LABEL - 1] = '\0';
					add_label(out, label);
				} else {
					sbuf_adds(out, "none");
				}
				sbuf_printf(out, "\",status=\"%dxx\"} %llu\n", c + 1, v);
			}
		}
	}
	static const struct {
		enum metrics_counter c;
		size_t pool;
		const char *name, *help;
	} NAMED[] = {
		{MC_RENDER_CACHE_HIT, 1, "dlcs_render_cache_hits_total",
		 "Image requests answered from the render cache."},
		{MC_RENDER_CACHE_MISS, 1, "dlcs_render_cache_misses_total",
		 "Image requests rendered anew."},
		{MC_INGEST_OK, 2, "dlcs_ingest_ok_total", "Queue items ingested."},
		{MC_INGEST_ERROR, 2, "dlcs_ingest_errors_total",
		 "Queue items that ended in an error."},
	};
	for (size_t i = 0; i < sizeof NAMED / sizeof *NAMED; i++) {
		const struct metrics_file *p = m[NAMED[i].pool];
		sbuf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", NAMED[i].name,
			    NAMED[i].help, NAMED[i].name, NAMED[i].name,
			    p ? load((_Atomic unsigned long long *)&p->counters[NAMED[i].c])
			      : 0ULL);
	}
	struct metrics_file *ing = (struct metrics_file *)m[2];
	sbuf_adds(out, "# HELP dlcs_ingest_duration_seconds Time from claim to done of an "
		       "ingest.\n# TYPE dlcs_ingest_duration_seconds histogram\n");
	unsigned long long cum = 0;
	for (size_t b = 0; b < BUCKETS; b++) {
		cum += ing ? load(&ing->ingest_bucket[b]) : 0;
		if (b < BUCKETS - 1)
			sbuf_printf(out, "dlcs_ingest_duration_seconds_bucket{le=\"%g\"} %llu\n",
				    BOUNDS[b], cum);
		else
			sbuf_printf(out, "dlcs_ingest_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				    cum);
	}
	sbuf_printf(
		out,
		"dlcs_ingest_duration_seconds_sum %.3f\ndlcs_ingest_duration_seconds_count %llu\n",
		ing ? (double)load(&ing->ingest_ms_sum) / 1000 : 0.0, cum);
	for (size_t i = 0; i < 3; i++)
		if (m[i])
			munmap((void *)m[i], sizeof(struct metrics_file));
}
