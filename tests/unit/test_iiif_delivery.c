/* The delivery handlers' own pieces, without a database (the stack's
 * end-to-end tests, tests/e2e/test_iiif_delivery.py, cover them with one):
 * If-None-Match, the access rule, sending stored files (X-Accel-Redirect),
 * the render cache's eviction, the route table, and what the handlers
 * answer before and without a database. delivery.c is included to
 * reach its static functions. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <magick/api.h>

#include "iiif/delivery.c"
#include "ingest/derive.h"
#include "iiif/routes_image.h"

#include "check.h"
#include "fake_req.h"

static char tmp[256];

static const char *header_of(struct req *rq, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < rq->nresp_headers; i++)
		if (str_ieq(rq->resp_headers[i].key, name))
			v = rq->resp_headers[i].value;
	return v;
}

static void test_not_modified(struct app *app, struct arena *a)
{
	static const struct {
		const char *inm;
		bool match;
	} t[] = {
		{"\"abc\"", true},         {"W/\"abc\"", true}, {"\"x\", \"abc\"", true},
		{"\"x\",\"abc\" ", true},  {"*", true},         {"\"abcd\"", false},
		{"\"ab\"", false},         {"abc", false},      {"", false},
		{"\"x\", W/\"y\"", false},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		char env[128];
		snprintf(env, sizeof env, "HTTP_IF_NONE_MATCH=%s", t[i].inm);
		const char *e[] = {env, NULL};
		struct req rq;
		fake_req(&rq, a, app, M_GET, "/", e);
		CHECK(not_modified(&rq, "\"abc\"") == t[i].match);
	}
	struct req rq;
	fake_req(&rq, a, app, M_GET, "/", NULL);
	CHECK(!not_modified(&rq, "\"abc\""));
}

/* nginx's verdict on a Range header (its range filter's parser): 416 or
 * served (200/206), on a 1000-byte file. */
static void test_byte_range(void)
{
	static const struct {
		const char *range;
		bool ok;
	} t[] = {
		{"bytes=0-99", true},
		{"bytes=999-", true},
		{"bytes=1000-", false},
		{"bytes=9999999-", false},
		{"bytes=-1", true},
		{"bytes=-5000", true},
		{"bytes=0-0", true},
		{"bytes=0-99999", true},
		{"bytes=5-2", false},
		{"bytes=1000-2000, 0-1", true},
		{"bytes=1000-2000,2000-", false},
		{"bytes= 1 - 2 ", true},
		{"bytes=a-b", false},
		{"bytes=1-2;", false},
		{"bytes=1-2,", false},
		{"bytes=--1", false},
		{"bytes=99999999999999999999-", false},
		{"bytes=0-99999999999999999999", false},
		{"BYTES=0-1", true},
		{"bytes=", true},    /* nginx ignores it */
		{"items=5-9", true}, /* another unit: ignored */
		{"", true},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		bool ok = byte_range_satisfiable(t[i].range, 1000) == t[i].ok;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  range: %s\n", t[i].range);
	}
	CHECK(!byte_range_satisfiable("bytes=0-", 0));
}

static void test_access(void)
{
	struct delivery_asset open = {.restricted = false, .max_unauthorised = -1};
	struct delivery_asset mu = {.restricted = true, .max_unauthorised = 200};
	struct delivery_asset roles = {.restricted = true, .max_unauthorised = -1};
	struct delivery_asset zero = {.restricted = true, .max_unauthorised = 0};
	CHECK(access_allows(&open, 0, 0) && access_allows(&open, 5000, 5000));
	CHECK(!access_allows(&mu, 0, 0));
	CHECK(access_allows(&mu, 200, 140) && access_allows(&mu, 140, 200));
	CHECK(!access_allows(&mu, 201, 140) && !access_allows(&mu, 100, 201));
	CHECK(!access_allows(&roles, 0, 0) && !access_allows(&roles, 1, 1));
	CHECK(!access_allows(&zero, 1, 1));
}

static void write_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "wb");
	for (size_t i = 0; i < size; i++)
		fputc((int)(i & 0xff), f);
	fclose(f);
}

static void test_send_file(struct app *app, struct arena *a)
{
	char dir[400], path[500];
	static const char *const parts[] = {"2", "2/1", "2/1/a", "2/1/a/tiles"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(dir, sizeof dir, "%s/%s", tmp, parts[i]);
		CHECK(mkdir(dir, 0755) == 0);
	}
	snprintf(path, sizeof path, "%s/0,0,256,256_256.jpg", dir);
	write_file(path, 1000);
	struct stat st;
	CHECK(stat(path, &st) == 0);

	struct req rq;
	fake_req(&rq, a, app, M_GET, "/", NULL);
	CHECK(send_file(&rq, "2/1/a/tiles/0,0,256,256_256.jpg", "image/jpeg", CC_IMAGE) == 200);
	CHECK_STR(header_of(&rq, "X-Accel-Redirect"),
		  "/dlcs-storage/2/1/a/tiles/0,0,256,256_256.jpg");
	/* the caching headers travel under other names, which nginx adds back
	 * to the file's success answers only (not to a 404 or a 416 of its
	 * own, into which it would copy a Cache-Control) */
	CHECK_STR(header_of(&rq, "X-DLCS-Cache-Control"), CC_IMAGE);
	CHECK(header_of(&rq, "Cache-Control") == NULL);
	CHECK_STR(rq.content_type, "image/jpeg");
	CHECK(rq.out.len == 0 && header_of(&rq, "ETag") == NULL);

	/* a customer's Cache-Control wins over ours */
	fake_req(&rq, a, app, M_GET, "/", NULL);
	req_header(&rq, "Cache-Control", "max-age=5");
	req_header(&rq, "Expires", "Thu, 01 Jan 2037 00:00:00 GMT");
	CHECK(send_file(&rq, "2/1/a/tiles/0,0,256,256_256.jpg", "image/jpeg", CC_IMAGE) == 200);
	CHECK_STR(header_of(&rq, "X-DLCS-Cache-Control"), "max-age=5");
	CHECK_STR(header_of(&rq, "X-DLCS-Expires"), "Thu, 01 Jan 2037 00:00:00 GMT");
	size_t n = 0;
	for (size_t i = 0; i < rq.nresp_headers; i++)
		n += str_ieq(rq.resp_headers[i].key, "X-DLCS-Cache-Control") ||
		     str_ieq(rq.resp_headers[i].key, "Cache-Control") ||
		     str_ieq(rq.resp_headers[i].key, "Expires");
	CHECK(n == 1);
	CHECK(header_of(&rq, "Cache-Control") == NULL && header_of(&rq, "Expires") == NULL);

	/* a range nginx would refuse is refused here, without caching headers
	 * (nginx's own 416 would carry them) */
	const char *range_env[] = {"HTTP_RANGE=bytes=9999-", NULL};
	fake_req(&rq, a, app, M_GET, "/", range_env);
	req_header(&rq, "Cache-Control", "public, max-age=86400");
	CHECK(finish(&rq, send_file(&rq, "2/1/a/tiles/0,0,256,256_256.jpg", "image/jpeg",
				    CC_IMAGE)) == 416);
	CHECK_STR(header_of(&rq, "Content-Range"), "bytes */1000");
	CHECK_STR(header_of(&rq, "Cache-Control"), CC_ERROR);
	CHECK(header_of(&rq, "X-Accel-Redirect") == NULL &&
	      header_of(&rq, "X-DLCS-Cache-Control") == NULL);
	/* one it serves goes to nginx; If-Range is nginx's to judge */
	const char *ok_env[] = {"HTTP_RANGE=bytes=10-", NULL};
	const char *if_range_env[] = {"HTTP_RANGE=bytes=9999-", "HTTP_IF_RANGE=\"x\"", NULL};
	fake_req(&rq, a, app, M_GET, "/", ok_env);
	CHECK(send_file(&rq, "2/1/a/tiles/0,0,256,256_256.jpg", "image/jpeg", CC_IMAGE) == 200);
	fake_req(&rq, a, app, M_GET, "/", if_range_env);
	CHECK(send_file(&rq, "2/1/a/tiles/0,0,256,256_256.jpg", "image/jpeg", CC_IMAGE) == 200);

	/* an error never keeps a customer's caching headers */
	fake_req(&rq, a, app, M_GET, "/", NULL);
	req_header(&rq, "Cache-Control", "public, max-age=86400");
	req_header(&rq, "Expires", "Thu, 01 Jan 2037 00:00:00 GMT");
	req_header(&rq, "X-Custom", "kept");
	CHECK(finish(&rq, req_fail(&rq, 404, "gone")) == 404);
	CHECK_STR(header_of(&rq, "Cache-Control"), CC_ERROR);
	CHECK(header_of(&rq, "Expires") == NULL);
	CHECK_STR(header_of(&rq, "X-Custom"), "kept");
	n = 0;
	for (size_t i = 0; i < rq.nresp_headers; i++)
		n += str_ieq(rq.resp_headers[i].key, "Cache-Control");
	CHECK(n == 1);

	/* another location prefix */
	config_set(app->cfg, "nginx_storage_location", "/internal/files");
	fake_req(&rq, a, app, M_GET, "/", NULL);
	CHECK(send_file(&rq, "2/1/a/tiles/0,0,256,256_256.jpg", "image/jpeg", CC_IMAGE) == 200);
	CHECK_STR(header_of(&rq, "X-Accel-Redirect"),
		  "/internal/files/2/1/a/tiles/0,0,256,256_256.jpg");
	config_set(app->cfg, "nginx_storage_location", "/dlcs-storage");

	/* missing: nothing answered */
	fake_req(&rq, a, app, M_GET, "/", NULL);
	CHECK(send_file(&rq, "2/1/a/tiles/nope.jpg", "image/jpeg", CC_IMAGE) == 0);
	CHECK(rq.status == 0 && rq.nresp_headers == 0);
}

static void touch_at(const char *path, size_t size, time_t atime, time_t mtime)
{
	write_file(path, size);
	struct timespec ts[2] = {{atime, 0}, {mtime, 0}};
	utimensat(AT_FDCWD, path, ts, 0);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void test_cache_evict(struct arena *a)
{
	char cache[400], p[10][500];
	snprintf(cache, sizeof cache, "%s/.cache", tmp);
	mkdir(cache, 0755);
	char sub[450];
	snprintf(sub, sizeof sub, "%s/ab", cache);
	mkdir(sub, 0755);
	snprintf(sub, sizeof sub, "%s/cd", cache);
	mkdir(sub, 0755);
	time_t now = time(NULL);
	/* ten 1000-byte entries, entry i last used i hours ago */
	for (int i = 0; i < 10; i++) {
		snprintf(p[i], sizeof p[i], "%s/%s/e%d.jpg", cache, i % 2 ? "ab" : "cd", i);
		touch_at(p[i], 1000, now - 3600 * i, now - 3600 * 20);
	}
	char stale[500], fresh[500];
	snprintf(stale, sizeof stale, "%s/ab/.tmp-1-x.jpg", cache);
	touch_at(stale, 50000, now, now - 7200);
	snprintf(fresh, sizeof fresh, "%s/ab/.tmp-2-y.jpg", cache);
	touch_at(fresh, 50000, now, now);

	/* under the limit: only the stale temporary file goes */
	render_cache_evict(a, cache, 20000);
	CHECK(!exists(stale) && exists(fresh));
	for (int i = 0; i < 10; i++)
		CHECK(exists(p[i]));

	/* another process holds the lock: nothing happens */
	char lockp[450];
	snprintf(lockp, sizeof lockp, "%s/.lock", cache);
	int lock = open(lockp, O_RDWR | O_CREAT, 0644);
	CHECK(lock >= 0 && flock(lock, LOCK_EX) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct arena *ca = arena_new(4096);
		render_cache_evict(ca, cache, 5000);
		_exit(0);
	}
	int ws;
	waitpid(pid, &ws, 0);
	for (int i = 0; i < 10; i++)
		CHECK(exists(p[i]));
	flock(lock, LOCK_UN);
	close(lock);

	/* over 5000: the least recently used go until 4500 is left (4 remain) */
	render_cache_evict(a, cache, 5000);
	for (int i = 0; i < 10; i++)
		CHECK(exists(p[i]) == (i < 4));
	CHECK(exists(fresh));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* The handlers without a database: syntax first (400 before any lookup),
 * then 503 with no-store; redirects by numeric id need no database. */
static void test_handlers_without_db(struct app *app, struct arena *a)
{
	struct req rq;
	fake_req(&rq, a, app, M_GET, "/iiif-img/2/1/a/full/max/0/default.bmp", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a";
	rq.strs[2] = "full", rq.strs[3] = "max", rq.strs[4] = "0", rq.strs[5] = "default.bmp";
	CHECK(iiif_img_image(&rq) == 400);
	CHECK_STR(header_of(&rq, "Cache-Control"), CC_ERROR);
	rq.strs[5] = "default.jp2";
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a";
	rq.strs[2] = "full", rq.strs[3] = "max", rq.strs[4] = "0", rq.strs[5] = "default.jp2";
	CHECK(iiif_img_image(&rq) == 501);
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a";
	rq.strs[2] = "full", rq.strs[3] = "max", rq.strs[4] = "0", rq.strs[5] = "default.jpg";
	CHECK(iiif_img_image(&rq) == 503);
	CHECK_STR(header_of(&rq, "Cache-Control"), CC_ERROR);
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a";
	CHECK(iiif_img_info(&rq) == 503);
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a(1)";
	CHECK(iiif_img_redirect(&rq) == 303);
	CHECK_STR(header_of(&rq, "Location"), "http://h/iiif-img/2/1/a(1)/info.json");
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a";
	CHECK(iiif_img_info_v3(&rq) == 302);
	CHECK_STR(header_of(&rq, "Location"), "http://h/iiif-img/2/1/a/info.json");
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a";
	rq.route_arg = 2; /* the /v2/ rows */
	CHECK(iiif_img_redirect(&rq) == 303);
	CHECK_STR(header_of(&rq, "Location"), "http://h/iiif-img/v2/2/1/a/info.json");
	/* a customer name needs the database */
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "acme", rq.ints[0] = 1, rq.strs[1] = "a";
	CHECK(thumbs_redirect(&rq) == 503);
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "not a name!", rq.ints[0] = 1, rq.strs[1] = "a";
	CHECK(thumbs_redirect(&rq) == 404);
	fake_req(&rq, a, app, M_GET, "/", NULL);
	rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "../x";
	CHECK(iiif_img_redirect(&rq) == 404);
	/* thumbnails refuse what level 0 cannot do before any lookup */
	static const char *const bad[][4] = {{"full", "100,", "90", "default.jpg"},
					     {"full", "100,", "!0", "default.jpg"},
					     {"full", "100,", "0", "gray.jpg"},
					     {"full", "100,", "0", "default.png"}};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		fake_req(&rq, a, app, M_GET, "/", NULL);
		rq.strs[0] = "2", rq.ints[0] = 1, rq.strs[1] = "a";
		for (int k = 0; k < 4; k++)
			rq.strs[2 + k] = bad[i][k];
		CHECK(thumbs_image(&rq) == 400);
	}
}

/* The route table: every delivery path reaches its handler with the IIIF
 * version of its row, the /v2/ and /v3/ rows win over a customer named so,
 * and nothing else matches. */
static void test_routes(struct app *app, struct arena *a)
{
	static const struct {
		const char *path;
		handler_fn h;
		int version;
	} t[] = {
		{"/iiif-img/2/1/a", iiif_img_redirect, 3},
		{"/iiif-img/acme/1/a/info.json", iiif_img_info, 3},
		{"/iiif-img/2/1/a/full/max/0/default.jpg", iiif_img_image, 3},
		{"/iiif-img/2/1/a/pct:1,2,3,4/%5E!10,10/!22.5/gray.png", iiif_img_image, 3},
		{"/iiif-img/v2/2/1/a", iiif_img_redirect, 2},
		{"/iiif-img/v2/2/1/a/info.json", iiif_img_info, 2},
		{"/iiif-img/v2/2/1/a/full/full/0/default.jpg", iiif_img_image, 2},
		{"/iiif-img/v3/2/1/a", iiif_img_redirect, 3},
		{"/iiif-img/v3/2/1/a/info.json", iiif_img_info_v3, 3},
		{"/iiif-img/v3/2/1/a/full/max/0/default.jpg", iiif_img_image, 3},
		{"/iiif-img/v2/1/a", iiif_img_redirect, 3}, /* customer "v2", by name */
		{"/thumbs/2/1/a", thumbs_redirect, 3},
		{"/thumbs/v2/2/1/a", thumbs_redirect, 2},
		{"/thumbs/2/1/a/info.json", thumbs_info, 3},
		{"/thumbs/v2/2/1/a/info.json", thumbs_info, 2},
		{"/thumbs/2/1/a/full/100,/0/default.jpg", thumbs_image, 3},
		{"/thumbs/v2/2/1/a/full/100,/0/default.jpg", thumbs_image, 2},
		{"/file/2/1/a", file_get, 0},
		{"/iiif-img/2/x/a/info.json", NULL, 0},
		{"/iiif-img/2/1/a/full/max/0", NULL, 0},
		{"/iiif-img/2/1/a/info.xml", NULL, 0},
		{"/thumbs/2/1", NULL, 0},
		{"/file/2/1/a/original", NULL, 0},
		{"/customers", NULL, 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		struct req rq;
		fake_req(&rq, a, app, M_GET, t[i].path, NULL);
		const struct route *found = NULL;
		const char *allow = NULL;
		enum route_result rr =
			router_match(image_routes, image_routes_count, &rq, &found, &allow);
		bool ok = t[i].h ? rr == ROUTE_FOUND && found->handler == t[i].h &&
					   (found->flags & R_ANON) && rq.route_arg == t[i].version
				 : rr == ROUTE_NOT_FOUND;
		if (!ok)
			fprintf(stderr, "route %s: %d\n", t[i].path, (int)rr);
		CHECK(ok);
	}
	struct req rq;
	fake_req(&rq, a, app, M_GET, "/iiif-img/2/1/a%28b%29/full/%5Emax/0/default.jpg", NULL);
	const struct route *found = NULL;
	const char *allow = NULL;
	CHECK(router_match(image_routes, image_routes_count, &rq, &found, &allow) == ROUTE_FOUND);
	CHECK_STR(rq.strs[1], "a(b)");
	CHECK_STR(rq.strs[3], "^max");
	CHECK(rq.ints[0] == 1);
	fake_req(&rq, a, app, M_POST, "/iiif-img/2/1/a/info.json", NULL);
	CHECK(router_match(image_routes, image_routes_count, &rq, &found, &allow) ==
	      ROUTE_BAD_METHOD);
}

int main(int argc, char **argv)
{
	(void)argc;
	setenv("OMP_NUM_THREADS", "1", 1);
	derive_init(argv[0], 0);
	snprintf(tmp, sizeof tmp, "/tmp/dlcs-delivery-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	struct config *cfg = config_empty(&dlcs_settings);
	config_set(cfg, "storage_root", tmp);
	config_set(cfg, "db_socket", "/nonexistent/mysqld.sock");
	config_set(cfg, "db_name", "dlcs");
	config_set(cfg, "db_user", "nobody");
	struct app app = {.cfg = cfg, .db = db_new(cfg)};
	struct arena *a = arena_new(1 << 16);

	test_not_modified(&app, a);
	test_access();
	test_byte_range();
	test_send_file(&app, a);
	test_cache_evict(a);
	test_handlers_without_db(&app, a);
	test_routes(&app, a);

	arena_free(a);
	db_free(app.db);
	config_free(cfg);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	DestroyMagick();
	return check_done();
}
