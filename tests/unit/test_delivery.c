/* Delivery without a database: custom header validation and the nginx
 * include (handlers/asset/nginx_include.c, through its static functions, from
 * rows made here), checked as text and, when nginx is installed, by
 * `nginx -t` on a configuration that includes it; and the public links of
 * handlers/ingest/store.c in a temporary tree. */
#include "../../handlers/asset/custom_header_rules.c"
#include "../../handlers/asset/nginx_include.c"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "asset/store.h"

static struct arena *A;

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	bool ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static bool has(const char *text, const char *needle)
{
	bool ok = strstr(text, needle) != NULL;
	if (!ok)
		fprintf(stderr, "  missing: %s\n", needle);
	return ok;
}

static void test_keys(void)
{
	const char *good[] = {"X-Served-By", "Link", "Cache-Control", "Expires", "x-a", "A", "9x",
			      "Access-Control-Expose-Headers",
			      /* neighbours of refused names */
			      "Strict-Transport-Security-Note", "X-Set-Cookie", "X-Accel",
			      "Access-Control", "Proxy", "Timing-Allow-Origin", "X-Frame-Options",
			      "Content-Language", "Cross-Origin-Resource-Policy", NULL};
	for (const char **k = good; *k; k++)
		CHECK(custom_header_key_problem(*k) == NULL);
	const char *bad[] = {
		"", "-X", "X_A", "X A", "X:A", "X\r\nY", "Ä", "content-length", "Content-Type",
		"TRANSFER-ENCODING", "Connection", "keep-alive", "Host", "Set-Cookie", "ETag",
		"Last-Modified", "Access-Control-Allow-Origin", "x-accel-redirect",
		"X-Accel-Buffering", "X-DLCS-Anything", "Status",
		/* they act on the whole host, which customers share */
		"Strict-Transport-Security", "strict-transport-security", "Clear-Site-Data",
		"Alt-Svc", "Content-Security-Policy", "content-security-policy-report-only",
		"Set-Cookie2", "Public-Key-Pins", "Public-Key-Pins-Report-Only", "Expect-CT",
		"Report-To", "NEL", "nel", "Reporting-Endpoints", "Service-Worker-Allowed",
		"Origin-Agent-Cluster", "Accept-CH", "Critical-CH",
		/* redirects */
		"Refresh", "Location",
		/* transport */
		"Proxy-Authenticate", "Proxy-Status", "proxy-anything", "TE", "Trailer", "Upgrade",
		"Content-Encoding", "Content-Range", "Date", "Server", "HTTP2-Settings",
		"Sec-WebSocket-Accept",
		/* the platform's */
		"Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
		"access-control-max-age", "Content-Disposition", "X-Content-Type-Options",
		"WWW-Authenticate", "Authentication-Info", NULL};
	for (const char **k = bad; *k; k++) {
		bool refused = custom_header_key_problem(*k) != NULL;
		if (!refused)
			fprintf(stderr, "  accepted: '%s'\n", *k);
		CHECK(refused);
	}
	char long_key[102];
	memset(long_key, 'x', 101);
	long_key[101] = '\0';
	CHECK(custom_header_key_problem(long_key) != NULL);
	long_key[100] = '\0';
	CHECK(custom_header_key_problem(long_key) == NULL);
}

static void test_values(void)
{
	const char *good[] = {"v", "a b", "a\tb", "\"q\" \\ ; {} # '", "caf\xc3\xa9", NULL};
	for (const char **v = good; *v; v++)
		CHECK(custom_header_value_problem(*v) == NULL);
	const char *bad[] = {"",      "  ", "\t",   "a\rb", "a\nb", "a\x01",
			     "a\x7f", "$x", "${x}", "5$",   NULL};
	for (const char **v = bad; *v; v++)
		CHECK(custom_header_value_problem(*v) != NULL);
	char big[2002];
	memset(big, 'v', 2001);
	big[2001] = '\0';
	CHECK(custom_header_value_problem(big) != NULL);
	big[2000] = '\0';
	CHECK(custom_header_value_problem(big) == NULL);
	CHECK(custom_header_value_problem(NULL) != NULL);
	CHECK(custom_header_key_problem(NULL) != NULL);
}

/* Rows stored before a rule: refused (and logged), whatever the level. */
static void test_stored_rows(void)
{
	CHECK(stored_row_refused(5, "Strict-Transport-Security", "max-age=1"));
	CHECK(stored_row_refused(5, "X-Accel-Redirect", "/dlcs-storage/1/1/x/original"));
	CHECK(stored_row_refused(5, "X-A", "$http_cookie"));
	CHECK(stored_row_refused(5, "X-A", "a\r\nSet-Cookie: x=1"));
	CHECK(stored_row_refused(5, "X A\r\n", "v"));
	CHECK(stored_row_refused(5, NULL, NULL));
	CHECK(!stored_row_refused(5, "X-A", "v"));
	CHECK(!stored_row_refused(5, "Cache-Control", "public, max-age=60"));
}

static void test_quote(void)
{
	struct sbuf b;
	sbuf_init(&b, A);
	nginx_quote(&b, "say \"hi\" \\ bye");
	CHECK_STR(b.buf, "\"say \\\"hi\\\" \\\\ bye\"");
}

static void test_precedence(void)
{
	struct custom_header h[4];
	size_t n = 0;
	header_set(h, &n, "X-A", "1");
	header_set(h, &n, "X-B", "2");
	header_set(h, &n, "x-a", "3");
	CHECK(n == 2);
	CHECK_STR(h[0].value, "3");
	CHECK_STR(h[0].key, "x-a");
	CHECK_STR(h[1].value, "2");
}

/* Rows as the rendering query returns them: by customer, customer-wide
 * first, then by space. */
static const struct rrow ROWS[] = {
	{5, "acme.lib", false, 0, NULL, "X-A", "1"},
	{5, "acme.lib", false, 0, "staff", "X-Role", "secret"},
	{5, "acme.lib", true, 3, NULL, "X-S", "three"},
	{5, "acme.lib", true, 4, NULL, "X-S", "three"},
	{5, "acme.lib", true, 8, NULL, "Cache-Control", "no-store"},
	{7, "bob", false, 0, NULL, "X-A", "1"},
	{9, "1234", false, 0, NULL, "Link", "<https://e.org/l>; rel=\"license\""},
	{11, "only-space", true, 2, NULL, "Expires", "Thu, 01 Jan 2099 00:00:00 GMT"},
};

static void test_render_text(void)
{
	int nloc = 0;
	const char *t = render_text(A, 1, ROWS, sizeof ROWS / sizeof ROWS[0], &nloc);
	/* The X-Accel-Redirect location: every key but those nginx keeps. */
	CHECK(has(t,
		  "location ~ ^/dlcs-storage/(.+)$ {\n    internal;\n    alias $dlcs_storage/$1;"));
	CHECK(has(t, "    add_header X-A $upstream_http_x_a always;\n"));
	CHECK(has(t, "    add_header X-Role $upstream_http_x_role always;\n"));
	CHECK(has(t, "    add_header Link $upstream_http_link always;\n"));
	CHECK(strstr(t, "$upstream_http_cache_control") == NULL);
	CHECK(strstr(t, "$upstream_http_expires") == NULL);

	/* Spaces 3 and 4 have the same headers: one location; space 8 has its
	 * own Cache-Control instead of the platform's. */
	const char *s34 = strstr(t, "(?<dlcs_c>5|acme\\.lib)/(?<dlcs_s>3|4)/");
	const char *s8 = strstr(t, "(?<dlcs_c>5|acme\\.lib)/(?<dlcs_s>8)/");
	const char *wide = strstr(t, "(?<dlcs_c>5|acme\\.lib|7|bob)/(?<dlcs_s>\\d+)/");
	CHECK(s34 && s8 && wide);
	if (s34 && s8 && wide) {
		CHECK(s34 < wide && s8 < wide); /* spaces before their customer */
		const char *end34 = strstr(s34, "\n}\n");
		CHECK(has(s34,
			  "add_header X-A \"1\" always;\n    add_header X-S \"three\" always;"));
		CHECK(strstr(s34, "Cache-Control \"public, max-age=31536000\"") < end34);
		const char *end8 = strstr(s8, "\n}\n");
		CHECK(strstr(s8, "add_header Cache-Control \"no-store\" always;") < end8);
		CHECK(strstr(s8, "max-age=31536000") > end8);
	}
	/* Role values never reach a tile location. */
	CHECK(strstr(t, "secret") == NULL);
	/* A name of digits is not an alternative (it is another customer's id). */
	CHECK(has(t, "\"^/iiif-img/(?:v[23]/)?(?<dlcs_c>9)/(?<dlcs_s>\\d+)/"));
	CHECK(has(t, "add_header Link \"<https://e.org/l>; rel=\\\"license\\\"\" always;"));
	/* A customer with only space headers has no customer-wide location. */
	CHECK(has(t, "(?<dlcs_c>11|only-space)/(?<dlcs_s>2)/"));
	CHECK(strstr(t, "(?<dlcs_c>11|only-space)/(?<dlcs_s>\\d+)/") == NULL);
	CHECK(has(t,
		  "alias $dlcs_storage/public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/tiles/"
		  "${dlcs_region}_$dlcs_w.jpg;\n    if ($request_method !~ ^(?:GET|HEAD)$) {\n"
		  "        return 405;\n    }\n    if ($http_range) {\n        return 404;\n    }\n"
		  "    error_page 404 = @dlcs_image;\n"));
	/* an error_page in a location replaces the inherited list */
	CHECK(has(t, "    error_page 405 /dlcs-error/405;\n"));
	/* only the X-Accel-Redirect location keeps files open: a restriction
	 * must reach the fast paths at once */
	const char *ofc = strstr(t, "open_file_cache_valid");
	CHECK(ofc && strstr(ofc + 1, "open_file_cache_valid") == NULL);
	/* the stored sizes of /iiif-img (2.1's "full" too) and of /thumbs */
	CHECK(has(t,
		  "alias "
		  "$dlcs_storage/public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/full/$dlcs_size.jpg;"));
	CHECK(has(t,
		  "alias "
		  "$dlcs_storage/public/thumbs/$dlcs_c/$dlcs_s/$dlcs_id/thumbs/$dlcs_size.jpg;"));
	CHECK(has(t, "\"^/iiif-img/(?:v2/|(?:v3/)?(?![^/]+/\\d+/[^/]+/full/full/))(?<dlcs_c>9)/"
		     "(?<dlcs_s>\\d+)/"));
	CHECK(has(t, "\"^/thumbs/(?:v2/)?(?<dlcs_c>9)/(?<dlcs_s>\\d+)/"));

	/* No rows: only the X-Accel-Redirect location. */
	const char *empty = render_text(A, 1, NULL, 0, &nloc);
	CHECK(strstr(empty, "location ~ ^/dlcs-storage/") != NULL);
	CHECK(strstr(empty, "iiif-img") == NULL);
}

/* Many customers with the same headers: the alternatives are split so that
 * no regex reaches nginx's 4096-byte token limit. */
static void test_render_many(void)
{
	size_t n = 2000;
	struct rrow *rows = arena_alloc(A, n * sizeof *rows);
	for (size_t i = 0; i < n; i++)
		rows[i] = (struct rrow){(int)i + 1, arena_printf(A, "customer-number-%zu", i),
					false,      0,
					NULL,       "X-A",
					"1"};
	int nloc = 0;
	const char *t = render_text(A, 1, rows, n, &nloc);
	size_t locations = 0, longest = 0;
	for (const char *p = t; (p = strstr(p, "location ~ \"")); p++) {
		locations++;
		const char *q = strchr(p + 12, '"');
		if (q && (size_t)(q - p) > longest)
			longest = (size_t)(q - p);
	}
	CHECK(locations > 1);
	CHECK(longest < 3000);
}

/* nginx -t on a server block that includes the rendered text, when nginx
 * is installed; values with every character nginx's parser cares about. */
static void test_nginx_accepts(void)
{
	if (access("/usr/sbin/nginx", X_OK) != 0) {
		fprintf(stderr, "  nginx not installed: skipping nginx -t\n");
		return;
	}
	char quotes[2001], backslashes[2001];
	memset(quotes, '"', 2000);
	memset(backslashes, '\\', 2000);
	quotes[2000] = backslashes[2000] = '\0';
	CHECK(custom_header_value_problem(quotes) == NULL);
	CHECK(custom_header_value_problem(backslashes) == NULL);
	char dir[] = "/tmp/dlcs-test-delivery-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		CHECK(0);
		return;
	}
	const struct rrow rows[] = {
		{5, "a.b", false, 0, NULL, "X-Q",
		 "\"quoted\" \\back\\ ;semi {brace} #hash 'single'"},
		{5, "a.b", false, 0, NULL, "X-Tab", "a\tb"},
		{5, "a.b", false, 0, NULL, "X-End", "ends with \\"},
		{5, "a.b", true, 2, NULL, "X-U", "caf\xc3\xa9"},
		{6, "c", false, 0, "r", "X-R", "role"},
		/* attempts to leave the quoted string, and the longest values
		 * with every byte escaped (nginx reads tokens of up to 4 KB) */
		{7, "d", false, 0, NULL, "X-I1", "\"; add_header Set-Cookie \"pwned=1"},
		{7, "d", false, 0, NULL, "X-I2", "x\" always; } location / { return 200; } #"},
		{7, "d", false, 0, NULL, "X-I3", "\\t\\n\\\"} server { listen 1; }"},
		{8, "e", false, 0, NULL, "X-Q2000", quotes},
		{8, "e", true, 3, NULL, "X-B2000", backslashes},
	};
	const char *inc = arena_printf(A, "%s/custom-headers.conf", dir);
	int nloc = 0;
	CHECK(write_text(inc, render_text(A, 1, rows, sizeof rows / sizeof rows[0], &nloc)) == 0);
	const char *conf = arena_printf(A, "%s/nginx.conf", dir);
	const char *text = arena_printf(
		A,
		"user root;\npid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\n"
		"http {\n client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
		" uwsgi_temp_path %s; scgi_temp_path %s;\n"
		" server {\n  listen 127.0.0.1:1;\n  set $dlcs_storage %s;\n  include %s;\n"
		"  location @dlcs_image { return 502; }\n }\n}\n",
		dir, dir, dir, dir, dir, dir, dir, dir, inc);
	CHECK(write_text(conf, text) == 0);
	const char *cmd = arena_printf(A, "/usr/sbin/nginx -t -q -c %s -p %s/ -e %s/error.log",
				       conf, dir, dir);
	int rc = system(cmd);
	CHECK(rc == 0);
	if (rc != 0) {
		int shown = system(arena_printf(A, "cat %s/error.log >&2", dir));
		(void)shown;
	}
	files_rm_rf(dir);
}

static void test_links(void)
{
	char root[] = "/tmp/dlcs-test-links-XXXXXX";
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		CHECK(0);
		return;
	}
	const char *asset = arena_printf(A, "%s/5/3/an.id(1)", root);
	CHECK(mkdir(arena_printf(A, "%s/5", root), 0755) == 0);
	CHECK(mkdir(arena_printf(A, "%s/5/3", root), 0755) == 0);
	CHECK(mkdir(asset, 0755) == 0);
	const char *img = arena_printf(A, "%s/public/iiif-img/5/3/an.id(1)", root);
	const char *th = arena_printf(A, "%s/public/thumbs/5/3/an.id(1)", root);
	char target[256];
	struct stat st, sa;

	CHECK(store_publish(A, root, 5, 3, "an.id(1)", true, false, false) == 0);
	ssize_t n = readlink(img, target, sizeof target - 1);
	CHECK(n > 0);
	target[n > 0 ? n : 0] = '\0';
	CHECK_STR(target, "../../../../5/3/an.id(1)");
	CHECK(stat(img, &st) == 0 && stat(asset, &sa) == 0 && st.st_ino == sa.st_ino);
	CHECK(lstat(th, &st) != 0 && errno == ENOENT);

	/* Replacing is fine, and so is removing what is absent. */
	CHECK(store_publish(A, root, 5, 3, "an.id(1)", true, true, false) == 0);
	CHECK(lstat(img, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(lstat(th, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(store_publish(A, root, 5, 3, "an.id(1)", false, true, false) == 0);
	CHECK(lstat(img, &st) != 0 && errno == ENOENT);
	CHECK(store_unpublish(A, root, 5, 3, "an.id(1)") == 0);
	CHECK(store_unpublish(A, root, 5, 3, "an.id(1)") == 0);
	CHECK(lstat(th, &st) != 0 && errno == ENOENT);

	/* Name links, through which the asset's files are reached. */
	CHECK(store_publish(A, root, 5, 3, "an.id(1)", true, true, false) == 0);
	CHECK(store_publish_name(A, root, 5, "acme") == 0);
	CHECK(store_publish_name(A, root, 5, "acme") == 0);
	n = readlink(arena_printf(A, "%s/public/iiif-img/acme", root), target, sizeof target - 1);
	CHECK(n == 1 && target[0] == '5');
	CHECK(stat(arena_printf(A, "%s/public/thumbs/acme/3/an.id(1)", root), &st) == 0 &&
	      st.st_ino == sa.st_ino);
	/* The iiif-av link, alone, and through the name. */
	const char *av = arena_printf(A, "%s/public/iiif-av/5/3/an.id(1)", root);
	CHECK(store_publish(A, root, 5, 3, "an.id(1)", false, false, true) == 0);
	CHECK(stat(av, &st) == 0 && st.st_ino == sa.st_ino);
	CHECK(lstat(img, &st) != 0 && lstat(th, &st) != 0);
	CHECK(stat(arena_printf(A, "%s/public/iiif-av/acme/3/an.id(1)", root), &st) == 0 &&
	      st.st_ino == sa.st_ino);
	CHECK(store_unpublish(A, root, 5, 3, "an.id(1)") == 0);
	CHECK(lstat(av, &st) != 0 && errno == ENOENT);
	CHECK(store_publish(A, root, 5, 3, "an.id(1)", true, true, false) == 0);
	CHECK(store_publish_name(A, root, 6, "123") != 0);
	CHECK(store_publish_name(A, root, 6, "..") != 0);
	CHECK(store_publish_name(A, root, 6, ".") != 0);
	CHECK(store_publish_name(A, root, 6, "a/b") != 0);
	CHECK(store_publish_name(A, root, 6, "") != 0);

	/* No temporary name is left behind. */
	DIR *d = opendir(arena_printf(A, "%s/public/iiif-img/5/3", root));
	size_t entries = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' || strchr(e->d_name, '@'))
			entries++;
	if (d)
		closedir(d);
	CHECK(entries == 1);
	files_rm_rf(root);
}

/* store_publish and the changed mark (asset/grant.h): a restricted asset
 * is marked changed and never in the public tree; an open one leaves no
 * mark. */
static void test_changed_marks(void)
{
	char root[64];
	if (!check_tmpdir(root, sizeof root, "test-marks")) {
		CHECK(0);
		return;
	}
	const char *mark = arena_printf(A, "%s/restricted/changed/5/3/r.1", root);
	const char *pub = arena_printf(A, "%s/public/iiif-img/5/3/r.1", root);
	struct stat st;
	CHECK(store_publish(A, root, 5, 3, "r.1", false, false, false) == 0);
	CHECK(lstat(mark, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(lstat(pub, &st) != 0);
	CHECK(store_publish(A, root, 5, 3, "r.1", true, true, false) == 0);
	CHECK(lstat(mark, &st) != 0 && errno == ENOENT);
	CHECK(lstat(pub, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(store_unpublish(A, root, 5, 3, "r.1") == 0);
	CHECK(lstat(pub, &st) != 0 && lstat(mark, &st) == 0);
	files_rm_rf(root);
}

int main(void)
{
	A = arena_new(1 << 16);
	test_keys();
	test_values();
	test_stored_rows();
	test_quote();
	test_precedence();
	test_render_text();
	test_render_many();
	test_nginx_accepts();
	test_links();
	test_changed_marks();
	arena_free(A);
	return check_done();
}
