/* The pools' shared counters (fcgi/metrics.c): counts made in forked
 * workers reach the reader, by route pattern and status class, and the
 * text is the Prometheus exposition format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "check.h"
#include "metrics.h"
#include "router.h"
#include "str.h"

static int nothing(struct req *rq)
{
	(void)rq;
	return 200;
}

static const struct route ROUTES[] = {
	{M_GET, "/customers/%d", nothing, 0, 0},
	{M_PUT, "/customers/%d/spaces/%d/images/%s", nothing, 0, 0},
};

static char *render(struct arena *a, const char *root)
{
	struct sbuf b;
	sbuf_init(&b, a);
	metrics_render(&b, root);
	sbuf_addc(&b, '\0');
	return b.buf;
}

/* Every line a comment or `name{labels} value`, values numbers. */
static bool well_formed(const char *t)
{
	while (*t) {
		const char *nl = strchr(t, '\n');
		if (!nl)
			return false; /* the last line ends too */
		if (*t != '#') {
			const char *sp = nl; /* the value follows the last space */
			while (sp > t && sp[-1] != ' ')
				sp--;
			if (sp <= t + 1)
				return false;
			sp--;
			for (const char *d = sp + 1; d < nl; d++)
				if (!strchr("0123456789.", *d))
					return false;
		}
		t = nl + 1;
	}
	return true;
}

int main(void)
{
	char root[] = "/tmp/dlcs-metrics.XXXXXX";
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	struct arena *a = arena_new(1 << 16);

	/* nothing mapped yet: counting does nothing, rendering gives zeros */
	metrics_request(0, 2, 200);
	char *t = render(a, root);
	CHECK(strstr(t, "dlcs_render_cache_hits_total 0\n") != NULL);
	CHECK(strstr(t, "dlcs_requests_total{") == NULL);

	CHECK(!metrics_open("", "dlcs-api"));
	CHECK(metrics_open(root, "dlcs-api"));
	/* two workers, forked after the open as the supervisor's are */
	for (int k = 0; k < 2; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			metrics_routes(ROUTES, 2);
			for (int i = 0; i < 3; i++)
				metrics_request(0, 2, 200);
			metrics_request(1, 2, 404);
			metrics_request(2, 2, 404); /* no route: "none" */
			metrics_request(0, 2, 600); /* not a status: not counted */
			_exit(0);
		}
		int st;
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	}
	metrics_count(MC_RENDER_CACHE_HIT); /* another pool's counter: not shown under this one */
	t = render(a, root);
	CHECK(well_formed(t));
	CHECK(strstr(t, "# TYPE dlcs_requests_total counter\n") != NULL);
	CHECK(strstr(t, "dlcs_requests_total{program=\"dlcs-api\",route=\"GET /customers/%d\","
			"status=\"2xx\"} 6\n") != NULL);
	CHECK(strstr(t, "dlcs_requests_total{program=\"dlcs-api\",route=\"PUT "
			"/customers/%d/spaces/%d/images/%s\",status=\"4xx\"} 2\n") != NULL);
	CHECK(strstr(t, "dlcs_requests_total{program=\"dlcs-api\",route=\"none\",status=\"4xx\"} "
			"2\n") != NULL);
	CHECK(strstr(t, "status=\"6xx\"") == NULL && strstr(t, "status=\"5xx\"") == NULL);
	CHECK(strstr(t, "dlcs_render_cache_hits_total 0\n") != NULL);

	/* the runner's pool: ingests and the histogram (cumulative buckets) */
	CHECK(metrics_open(root, "dlcs-runner"));
	metrics_count(MC_INGEST_OK);
	metrics_count(MC_INGEST_OK);
	metrics_count(MC_INGEST_ERROR);
	metrics_ingest_seconds(0.01);
	metrics_ingest_seconds(0.3);
	metrics_ingest_seconds(100);
	metrics_ingest_seconds(-1);
	t = render(a, root);
	CHECK(well_formed(t));
	CHECK(strstr(t, "dlcs_ingest_ok_total 2\n") && strstr(t, "dlcs_ingest_errors_total 1\n"));
	CHECK(strstr(t, "# TYPE dlcs_ingest_duration_seconds histogram\n") != NULL);
	CHECK(strstr(t, "dlcs_ingest_duration_seconds_bucket{le=\"0.05\"} 2\n") != NULL);
	CHECK(strstr(t, "dlcs_ingest_duration_seconds_bucket{le=\"0.5\"} 3\n") != NULL);
	CHECK(strstr(t, "dlcs_ingest_duration_seconds_bucket{le=\"30\"} 3\n") != NULL);
	CHECK(strstr(t, "dlcs_ingest_duration_seconds_bucket{le=\"+Inf\"} 4\n") != NULL);
	CHECK(strstr(t, "dlcs_ingest_duration_seconds_count 4\n") != NULL);
	CHECK(strstr(t, "dlcs_ingest_duration_seconds_sum 100.310\n") != NULL);
	/* the API's counts are still there: each pool its own file */
	CHECK(strstr(t, "route=\"GET /customers/%d\",status=\"2xx\"} 6\n") != NULL);

	/* a pool started again starts at zero */
	CHECK(metrics_open(root, "dlcs-api"));
	t = render(a, root);
	CHECK(strstr(t, "program=\"dlcs-api\"") == NULL);

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", root);
	CHECK(system(cmd) == 0);
	arena_free(a);
	return check_done();
}
