/* The nginx text DLCS generates (handlers/asset/nginx_include.c) and its
 * installation (handlers/asset/nginx_reload.c):
 *   - nginx/dlcs.conf's generated blocks are what the table renders (the
 *     fast paths exist once), and the include's per-customer locations are
 *     dlcs.conf's with the customer's alternatives and headers in place;
 *   - the include is installed only when the test command passes with it in
 *     place; a failing test leaves the previous include (or none), and a
 *     rendering whose locations did not change is never tested or reloaded;
 *   - when nginx is installed, `nginx -t` accepts dlcs.conf with a rendered
 *     include, and refuses a broken one, which then never replaces the
 *     good one. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../handlers/asset/nginx_include.c"
#include "../../handlers/asset/nginx_reload.c"
#include "check.h"

static struct arena *A;

static const char *slurp(const char *path)
{
	const char *text = file_read(A, path);
	return text;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

/* text without its lines that start (after blanks) with "#". */
static const char *uncommented(const char *text)
{
	struct sbuf b;
	sbuf_init(&b, A);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		size_t blank = strspn(p, " ");
		if (blank >= len || p[blank] != '#')
			sbuf_add(&b, p, len);
		p += len;
	}
	return b.buf;
}

/* The lines of text between "# BEGIN GENERATED name" and its end. */
static const char *conf_block(const char *text, const char *name)
{
	const char *b = strstr(text, arena_printf(A, "# BEGIN GENERATED %s ", name));
	const char *e = strstr(text, arena_printf(A, "# END GENERATED %s\n", name));
	if (!b || !e || e < b)
		return "";
	b = strchr(b, '\n') + 1;
	return arena_printf(A, "%.*s", (int)(e - b), b);
}

/* Replaces every occurrence of from in text by to. */
static const char *replace(const char *text, const char *from, const char *to)
{
	struct sbuf b;
	sbuf_init(&b, A);
	for (const char *p = text; *p;) {
		const char *hit = strstr(p, from);
		if (!hit) {
			sbuf_adds(&b, p);
			break;
		}
		sbuf_add(&b, p, (size_t)(hit - p));
		sbuf_adds(&b, to);
		p = hit + strlen(from);
	}
	return b.buf;
}

/* The k-th location (from 0) of text. */
static const char *nth_location(const char *text, int k)
{
	const char *b = text;
	for (; b && k >= 0; k--) {
		b = strstr(b, "location ~ ");
		if (b && k > 0)
			b++;
	}
	if (!b)
		return "";
	const char *e = strstr(b, "\n}\n");
	return e ? arena_printf(A, "%.*s", (int)(e - b) + 3, b) : "";
}

/* The location of text that follows the comment line `what`. */
static const char *include_location(const char *text, const char *what)
{
	const char *b = strstr(text, arena_printf(A, "# %s\n", what));
	if (!b)
		return "";
	b = strchr(b, '\n') + 1;
	const char *e = strstr(b, "\n}\n");
	return e ? arena_printf(A, "%.*s", (int)(e - b) + 3, b) : "";
}

/* ---- nginx/dlcs.conf ---------------------------------------------------- */

static const char *dlcs_conf(void)
{
	const char *text = slurp(DLCS_SRCDIR "/nginx/dlcs.conf");
	if (!text) {
		perror(DLCS_SRCDIR "/nginx/dlcs.conf");
		exit(2);
	}
	return text;
}

static void test_dlcs_conf_is_generated(void)
{
	const char *text = dlcs_conf(), *why = NULL;
	const char *made = nginx_conf_generate(A, text, &why);
	CHECK(made != NULL);
	bool same = made && strcmp(made, text) == 0;
	CHECK(same);
	if (!same)
		fprintf(stderr,
			"nginx/dlcs.conf's generated blocks differ from "
			"handlers/asset/nginx_include.c (%s): run `dlcs-admin "
			"nginx-locations nginx/dlcs.conf`\n",
			why ? why : "its rendering");
	/* every block is there, with a location or error pages in it */
	for (size_t i = 0; i < BLOCKS_N; i++)
		CHECK(strstr(conf_block(text, BLOCKS[i].name), "error_page 494 =431") ||
		      strstr(conf_block(text, BLOCKS[i].name), "location ~ ") ||
		      strstr(conf_block(text, BLOCKS[i].name), "location = /dlcs-error/431"));
	/* every DLCS location ends with the admin's extra headers, and the
	 * server level lists only the errors raised before a location is
	 * chosen (a 502 of the admin's own proxy_pass stays the admin's) */
	size_t locations = 0, extras = 0;
	for (const char *p = text; (p = strstr(p, "\nlocation ")) != NULL; p++)
		locations++;
	for (const char *p = text;
	     (p = strstr(p, "\n    include dlcs-extra-headers*.conf;\n")) != NULL; p++)
		extras++;
	size_t late = 0; /* their error locations add only no-store (EP_LATE) */
	for (size_t i = 0; i < NGINX_ERROR_PAGES_N; i++) {
		late += (NGINX_ERROR_PAGES[i].where & EP_LATE) != 0;
		/* the description goes into a single-quoted nginx string */
		CHECK(strpbrk(NGINX_ERROR_PAGES[i].description, "'\\\"") == NULL);
	}
	CHECK(locations > 10 && extras + late == locations);
	CHECK(strstr(conf_block(text, "error-pages"), "error_page 502") == NULL);
	CHECK(strstr(conf_block(text, "error-pages"), "error_page 400 /dlcs-error/400;") != NULL);
	/* and none of the three copies of the old layout is left */
	CHECK(strstr(text, "Keep this location in step") == NULL);
}

static void test_generate_refuses_broken_markers(void)
{
	const char *why = NULL;
	CHECK(nginx_conf_generate(A, "nothing\n", &why) == NULL);
	CHECK(why && strstr(why, "missing"));
	const char *all = "";
	for (size_t i = 0; i < BLOCKS_N; i++)
		all = arena_printf(A, "%s# BEGIN GENERATED %s\nold\n# END GENERATED %s\n", all,
				   BLOCKS[i].name, BLOCKS[i].name);
	const char *made = nginx_conf_generate(A, all, &why);
	CHECK(made && strstr(made, "old") == NULL && strstr(made, "alias $dlcs_storage/$1;"));
	/* generating again changes nothing */
	CHECK(made && strcmp(nginx_conf_generate(A, made, &why), made) == 0);
	why = NULL;
	CHECK(nginx_conf_generate(A, arena_printf(A, "%s# BEGIN GENERATED nope\n", all), &why) ==
	      NULL);
	CHECK(why && strstr(why, "unknown"));
	why = NULL;
	CHECK(nginx_conf_generate(A, arena_printf(A, "%s# BEGIN GENERATED tiles\n", all), &why) ==
	      NULL);
	CHECK(why && (strstr(why, "twice") || strstr(why, "does not end")));
	why = NULL;
	CHECK(nginx_conf_generate(A, arena_printf(A, "# END GENERATED tiles\n%s", all), &why) ==
	      NULL);
	CHECK(why && strstr(why, "ends before"));
	why = NULL;
	CHECK(nginx_conf_generate(A, "# BEGIN GENERATED tiles\n# BEGIN GENERATED thumbs\n", &why) ==
	      NULL);
	CHECK(why && strstr(why, "inside"));
}

/* ---- the include -------------------------------------------------------- */

static const struct rrow ROWS[] = {
	{5, "acme.lib", false, 0, NULL, "X-Served-By", "say \"hi\" \\ bye"},
	{5, "acme.lib", false, 0, "staff", "X-Role", "role value"},
	{5, "acme.lib", true, 3, NULL, "Cache-Control", "public, max-age=60"},
	{7, "1234", false, 0, NULL, "X-Served-By", "say \"hi\" \\ bye"},
};
#define NROWS (sizeof ROWS / sizeof ROWS[0])

static void test_include_is_dlcs_conf_per_customer(void)
{
	int nloc = 0;
	const char *inc = render_text(A, 42, ROWS, NROWS, &nloc);
	CHECK(str_starts(inc, "# generation 42 of the custom headers"));
	CHECK_STR(nginx_include_first_line(A, 42),
		  "# generation 42 of the custom headers (table change_counters)\n");
	/* the accel location, customer 5's space 3, customers 5 and 7 (same
	 * headers: one location; 7's all-digit name is not an alternative) */
	CHECK(nloc == 1 + 2 * (int)FAST_PATHS_N);
	CHECK(FAST_PATHS_N == 4 + INFO_STATIC__MAX);
	const char *conf = dlcs_conf();
	for (size_t i = 0; i < FAST_PATHS_N; i++) {
		/* its location in its block of dlcs.conf */
		int k = 0;
		for (size_t j = 0; j < i; j++)
			k += strcmp(FAST_PATHS[j].block, FAST_PATHS[i].block) == 0;
		const char *generic =
			nth_location(uncommented(conf_block(conf, FAST_PATHS[i].block)), k);
		CHECK(*generic != '\0');
		const char *wide = include_location(
			inc, arena_printf(A, "customer(s) 5|acme\\.lib|7: %s", FAST_PATHS[i].what));
		const char *space = include_location(
			inc, arena_printf(A, "customer 5, space(s) 3: %s", FAST_PATHS[i].what));
		CHECK(strstr(wide, "(?<dlcs_c>5|acme\\.lib|7)/(?<dlcs_s>\\d+)/"));
		CHECK(strstr(space, "(?<dlcs_c>5|acme\\.lib)/(?<dlcs_s>3)/"));
		/* dlcs.conf's restricted tiles are nginx's; the include's go to
		 * dlcs-image, which adds the customer's headers (role ones too) */
		if (FAST_PATHS[i].restricted) {
			const char *to_image = "error_page 404 = @dlcs_image;";
			const char *to_restricted = arena_printf(
				A, "error_page 404 = %s;\n    recursive_error_pages on;",
				FAST_PATHS[i].restricted);
			CHECK(strstr(generic, to_restricted) && !strstr(generic, to_image));
			CHECK(strstr(wide, to_image) && strstr(space, to_image));
			wide = replace(wide, to_image, to_restricted);
			space = replace(space, to_image, to_restricted);
		}
		/* modulo the alternatives and the customer's add_header lines, the
		 * include's locations are dlcs.conf's */
		wide = replace(wide, "(?<dlcs_c>5|acme\\.lib|7)", "(?<dlcs_c>[^/]+)");
		wide = replace(wide,
			       "    add_header X-Served-By \"say \\\"hi\\\" \\\\ bye\" always;\n",
			       "");
		CHECK_STR(wide, generic);
		space = replace(space, "(?<dlcs_c>5|acme\\.lib)/(?<dlcs_s>3)/",
				"(?<dlcs_c>[^/]+)/(?<dlcs_s>\\d+)/");
		space = replace(space,
				"    add_header X-Served-By \"say \\\"hi\\\" \\\\ bye\" always;\n",
				"");
		/* a custom Cache-Control replaces the platform's */
		space = replace(
			space, "    add_header Cache-Control \"public, max-age=60\";\n",
			FAST_PATHS[i].info
				? "    add_header Cache-Control \"" INFO_CACHE_CONTROL "\";\n"
				: "    add_header Cache-Control \"" IMAGE_CACHE_CONTROL "\";\n");
		CHECK_STR(space, generic);
	}
	/* a customer with role-specific headers alone has locations too: its
	 * restricted tiles go to dlcs-image, which adds them */
	{
		const struct rrow role_only[] = {{9, "roles.only", false, 0, "staff", "X-R", "v"}};
		int n9 = 0;
		const char *inc9 = render_text(A, 1, role_only, 1, &n9);
		const char *tiles9 = include_location(inc9, "customer(s) 9|roles\\.only: tiles");
		CHECK(n9 == 1 + (int)FAST_PATHS_N);
		CHECK(strstr(tiles9, "error_page 404 = @dlcs_image;") != NULL);
		CHECK(strstr(inc9, "\"v\"") == NULL);
	}
	/* role-specific values are the application's; their keys come back in
	 * the accel location, which is dlcs.conf's plus the keys */
	CHECK(strstr(inc, "role value") == NULL);
	const char *accel = include_location(
		inc, "application's own headers then, so the custom ones are taken back.");
	accel = replace(accel, "    add_header X-Role $upstream_http_x_role always;\n", "");
	accel = replace(accel, "    add_header X-Served-By $upstream_http_x_served_by always;\n",
			"");
	CHECK_STR(accel, uncommented(conf_block(conf, "storage")));
}

static void test_include_without_headers(void)
{
	int nloc = 0;
	const char *inc = render_text(A, 0, NULL, 0, &nloc);
	CHECK(nloc == 1);
	CHECK(strstr(inc, "location ~ \"^/iiif-img") == NULL);
	CHECK(strstr(inc, "location ~ ^/dlcs-storage/(.+)$ {"));
}

/* ---- installing --------------------------------------------------------- */

static char DIR_[64];

static struct nginx_target target(const char *command)
{
	return (struct nginx_target){
		.include = arena_printf(A, "%s/custom-headers.conf", DIR_),
		.test_command = command,
		.pid_file = arena_printf(A, "%s/nginx.pid", DIR_),
	};
}

/* Nothing but the include and nginx's files in the directory: no temporary
 * or kept-aside file is left behind. */
static bool dir_clean(void)
{
	const char *cmd = arena_printf(A,
				       "test -z \"$(ls -A %s | grep -v -x -e custom-headers.conf"
				       " -e nginx.conf -e nginx.pid -e error.log -e tmp)\"",
				       DIR_);
	return system(cmd) == 0;
}

static void test_install(void)
{
	struct nginx_target ok = target("exit 0");
	const char *v1 = "# generation 1\nlocation one\n";
	CHECK(nginx_include_install(A, &ok, v1, "generation 1", 1) == NGINX_INSTALLED);
	CHECK_STR(slurp(ok.include), v1);
	/* the same text: nothing happens */
	CHECK(nginx_include_install(A, &ok, v1, "generation 1", 1) == NGINX_SAME);
	/* the same locations, another generation: the file says so, untested
	 * (the command would fail) and without a reload */
	struct nginx_target bad = target("echo 'nginx: [emerg] unexpected \"}\"' >&2; exit 1");
	const char *v2 = "# generation 2\nlocation one\n";
	CHECK(nginx_include_install(A, &bad, v2, "generation 2", 1) == NGINX_SAME);
	CHECK_STR(slurp(ok.include), v2);
	/* other locations that the test refuses: the previous include stays */
	const char *v3 = "# generation 3\nlocation two\n";
	CHECK(nginx_include_install(A, &bad, v3, "generation 3", 1) == NGINX_REFUSED);
	CHECK_STR(slurp(ok.include), v2);
	CHECK(dir_clean());
	/* the test sees the new text in place, through the include's path */
	struct nginx_target sees =
		target(arena_printf(A, "grep -q 'location two' %s/custom-headers.conf", DIR_));
	CHECK(nginx_include_install(A, &sees, v3, "generation 3", 1) == NGINX_INSTALLED);
	CHECK_STR(slurp(ok.include), v3);
	CHECK(dir_clean());
	/* no test configured: installed as it is */
	struct nginx_target none = target("");
	const char *v4 = "# generation 4\nlocation four\n";
	CHECK(nginx_include_install(A, &none, v4, "generation 4", 1) == NGINX_INSTALLED);
	CHECK_STR(slurp(ok.include), v4);
	/* a refused first include leaves none, as there was none */
	unlink(ok.include);
	CHECK(nginx_include_install(A, &bad, v3, "generation 3", 1) == NGINX_REFUSED);
	CHECK(access(ok.include, F_OK) != 0);
	/* a test killed by a signal counts as a failure */
	struct nginx_target killed = target("kill -9 $$");
	CHECK(nginx_include_install(A, &killed, v3, "generation 3", 1) == NGINX_REFUSED);
	/* a publisher killed during its test left the untested text in place
	 * and the previous include aside: the previous one is what counts */
	spit(arena_printf(A, "%s.previous", ok.include), v1);
	spit(ok.include, "# generation 5\nuntested\n");
	CHECK(nginx_include_install(A, &bad, v2, "generation 2", 1) == NGINX_SAME);
	CHECK_STR(slurp(ok.include), v2);
	CHECK(dir_clean());
	CHECK(nginx_include_install(A, &ok, v4, "generation 4", 1) == NGINX_INSTALLED);
	/* a stale pid file names no nginx: nothing is signalled */
	spit(ok.pid_file, arena_printf(A, "%d\n", (int)getpid()));
	CHECK(nginx_include_install(A, &ok, "# generation 5\nfive\n", "generation 5", 1) ==
	      NGINX_INSTALLED);
	CHECK(nginx_master(ok.pid_file) == 0);
	unlink(ok.pid_file);
}

/* nginx_reload_command instead of the pid file's SIGHUP: run after the
 * test passed, with the new include in place; a failed reload is retried by
 * the next call even when nothing changed. */
static void test_reload_command(void)
{
	struct nginx_target t = target("exit 0");
	t.reload_command = arena_printf(A, "grep -q 'reload one' %s", t.include);
	const char *v1 = "# generation 11\nreload one\n";
	CHECK(nginx_include_install(A, &t, v1, "generation 11", 1) == NGINX_RELOADED);
	CHECK(dir_clean());
	/* the reload fails: nginx runs the previous include, and the file says so */
	t.reload_command = "echo 'nginx: [error] open() \"/run/nginx.pid\" failed' >&2; exit 1";
	const char *v2 = "# generation 12\nreload two\n";
	CHECK(nginx_include_install(A, &t, v2, "generation 12", 1) == NGINX_FAILED);
	CHECK_STR(slurp(t.include), v2);
	CHECK(access(arena_printf(A, "%s.unloaded", t.include), F_OK) == 0);
	/* the same text again: reloaded now, not taken for what nginx runs */
	CHECK(nginx_include_install(A, &t, v2, "generation 12", 1) == NGINX_FAILED);
	t.reload_command = "exit 0";
	const char *v2b = "# generation 13\nreload two\n";
	CHECK(nginx_include_install(A, &t, v2b, "generation 13", 1) == NGINX_RELOADED);
	CHECK_STR(slurp(t.include), v2b);
	CHECK(dir_clean());
	/* and from then on the same text is nothing to do */
	CHECK(nginx_include_install(A, &t, v2b, "generation 13", 1) == NGINX_SAME);
}

/* run_command's report: the status and the output, on one line. */
static void test_test_output(void)
{
	const char *why = NULL;
	CHECK(run_command(A, "exit 0", &why) == 0);
	CHECK(run_command(A, "printf 'line one\\nline two\\n'; exit 3", &why) == -1);
	CHECK_STR(why, "exit 3: line one line two");
	CHECK(run_command(A, "kill -TERM $$", &why) == -1);
	CHECK(why && str_starts(why, "signal 15"));
}

/* With nginx installed: its own test of dlcs.conf and a rendered include. */
static void test_real_nginx(void)
{
	const char *nginx = access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : NULL;
	if (!nginx) {
		printf("nginx not installed: its -t not tried\n");
		return;
	}
	const char *conf = arena_printf(A, "%s/nginx.conf", DIR_);
	spit(conf, arena_printf(A,
				"%s"
				"pid %s/nginx.pid;\n"
				"error_log %s/error.log;\n"
				"events {}\n"
				"http {\n"
				"  access_log off;\n"
				"  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp;\n"
				"  fastcgi_temp_path %s/tmp; uwsgi_temp_path %s/tmp;\n"
				"  scgi_temp_path %s/tmp;\n"
				"  upstream dlcs_api { server unix:%s/api.sock; }\n"
				"  upstream dlcs_image { server unix:%s/image.sock; }\n"
				"  server {\n"
				"    listen 127.0.0.1:1;\n"
				"    set $dlcs_storage %s;\n"
				"    include %s/custom-headers.conf;\n"
				"    include %s/nginx/dlcs.conf;\n"
				"  }\n"
				"}\n",
				geteuid() == 0 ? "user root;\n" : "", DIR_, DIR_, DIR_, DIR_, DIR_,
				DIR_, DIR_, DIR_, DIR_, DIR_, DIR_, DLCS_SRCDIR));
	struct nginx_target t = target(
		arena_printf(A, "%s -t -q -c %s -p %s/ -e %s/error.log", nginx, conf, DIR_, DIR_));
	int nloc = 0;
	const char *good = render_text(A, 7, ROWS, NROWS, &nloc);
	unlink(t.include);
	CHECK(nginx_include_install(A, &t, good, "generation 7", nloc) == NGINX_INSTALLED);
	CHECK_STR(slurp(t.include), good);
	/* a broken include: refused by nginx -t, the good one stays */
	const char *broken = "# generation 8\nlocation ~ \"^/x\" {\n";
	CHECK(nginx_include_install(A, &t, broken, "generation 8", 1) == NGINX_REFUSED);
	CHECK_STR(slurp(t.include), good);
	/* a location that only breaks with dlcs.conf after it (the same exact
	 * location twice): the real configuration is what is tested */
	const char *clash = "# generation 9\nlocation = /dlcs-error/400 { return 204; }\n";
	CHECK(nginx_include_install(A, &t, clash, "generation 9", 1) == NGINX_REFUSED);
	CHECK_STR(slurp(t.include), good);
	CHECK(dir_clean());
}

int main(void)
{
	A = arena_new(1 << 16);
	xsnprintf(DIR_, sizeof DIR_, "/tmp/dlcs-nginx-include.XXXXXX");
	if (!mkdtemp(DIR_)) {
		perror("mkdtemp");
		return 2;
	}
	if (system(arena_printf(A, "mkdir %s/tmp", DIR_)) != 0)
		return 2;
	test_dlcs_conf_is_generated();
	test_generate_refuses_broken_markers();
	test_include_is_dlcs_conf_per_customer();
	test_include_without_headers();
	test_install();
	test_reload_command();
	test_test_output();
	test_real_nginx();
	if (system(arena_printf(A, "rm -rf %s", DIR_)) != 0)
		CHECK(!"the test directory could not be removed");
	arena_free(A);
	return check_done();
}
