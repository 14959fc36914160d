/* The configuration (fcgi/config.h) and the table of settings
 * (fcgi/config_core.c, handlers/asset/settings.c): each type's parser and
 * range, the file's lines (an unknown key and a bad value named with their
 * line), defaults and "{key}" defaults, and that README.md's table is the
 * one `dlcs-admin config --markdown` prints. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "str.h"
#include "asset/settings.h"
#include "check.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

/* A table of one row per type, after the framework's rows. */
enum {
	T_TEXT = S_CORE__MAX,
	T_SECRET,
	T_PATH,
	T_INT,
	T_BYTES,
	T_BOOL,
	T_NETS,
	T_URL,
	T_URI,
	T_DERIVED,
	T_DERIVED_NONE,
	T__MAX
};
#define R(i) [(i)-S_CORE__MAX]
static const struct setting rows[T__MAX - S_CORE__MAX] = {
	R(T_TEXT) = {"t_text", SETTING_STRING, "hello", 0, 0, 0, "text"},
	R(T_SECRET) = {"t_secret", SETTING_INT, NULL, 0, 9, SETTING_SECRET, "a secret number"},
	R(T_PATH) = {"t_path", SETTING_PATH, NULL, 0, 0, 0, "a path"},
	R(T_INT) = {"t_int", SETTING_INT, "2", 1, 64, 0, "an integer 1..64"},
	R(T_BYTES) = {"t_bytes", SETTING_BYTES, "1GiB", 1024, 1LL << 40, 0, "bytes"},
	R(T_BOOL) = {"t_bool", SETTING_BOOL, "no", 0, 0, 0, "a boolean"},
	R(T_NETS) = {"t_nets", SETTING_NETWORKS, NULL, 0, 0, 0, "networks"},
	R(T_URL) = {"t_url", SETTING_URL, NULL, 0, 0, 0, "a URL"},
	R(T_URI) = {"t_uri", SETTING_URI_PATH, "/in", 0, 0, 0, "a URI path"},
	R(T_DERIVED) = {"t_derived", SETTING_PATH, "{t_path}/x/{t_text}", 0, 0, 0, "derived"},
	R(T_DERIVED_NONE) = {"t_derived_int", SETTING_INT, "{t_int}", 1, 64, 0, "an int's"},
};
static const struct settings_table table = {rows, sizeof rows / sizeof rows[0]};

static char err[300];

/* One line into c; its error, or "" when taken. */
static const char *line(struct config *c, const char *text)
{
	err[0] = '\0';
	if (config_line(c, text, 3, err, sizeof err) == 0)
		return "";
	return err;
}

static void test_types(void)
{
	struct config *c = config_empty(&table);
	/* defaults */
	CHECK_STR(setting_str(c, T_TEXT), "hello");
	CHECK(setting_int(c, T_INT) == 2 && setting_line(c, T_INT) == 0);
	CHECK(setting_int(c, T_BYTES) == 1LL << 30);
	CHECK(!setting_bool(c, T_BOOL));
	CHECK(setting_str(c, T_PATH) == NULL && setting_str(c, T_NETS) == NULL);

	/* integers: decimal, within the range */
	CHECK_STR(line(c, "t_int = 64"), "");
	CHECK(setting_int(c, T_INT) == 64 && setting_line(c, T_INT) == 3);
	CHECK_STR(line(c, "t_int = two"), "line 3: t_int: 'two' is not a whole number");
	CHECK_STR(line(c, "t_int = 65"), "line 3: t_int: 65 is out of range (1..64)");
	CHECK_STR(line(c, "t_int = 0"), "line 3: t_int: 0 is out of range (1..64)");
	CHECK_STR(line(c, "t_int = 1.5"), "line 3: t_int: '1.5' is not a whole number");
	CHECK_STR(line(c, "t_int = 0x10"), "line 3: t_int: '0x10' is not a whole number");
	CHECK_STR(line(c, "t_int = 99999999999999999999999"),
		  "line 3: t_int: '99999999999999999999999' is not a whole number");
	CHECK(setting_int(c, T_INT) == 64); /* a refused value changes nothing */

	/* sizes: digits, K M G T (powers of 1024), "iB" after them */
	CHECK_STR(line(c, "t_bytes = 4096"), "");
	CHECK(setting_int(c, T_BYTES) == 4096);
	CHECK_STR(line(c, "t_bytes = 16M"), "");
	CHECK(setting_int(c, T_BYTES) == 16LL << 20);
	CHECK_STR(line(c, "t_bytes = 2GiB"), "");
	CHECK(setting_int(c, T_BYTES) == 2LL << 30);
	CHECK_STR(line(c, "t_bytes = 1t"), "");
	CHECK(setting_int(c, T_BYTES) == 1LL << 40);
	CHECK_STR(setting_str(c, T_BYTES), "1t");
	CHECK_STR(line(c, "t_bytes = 2T"), "line 3: t_bytes: '2T' is out of range (1KiB..1TiB)");
	CHECK_STR(line(c, "t_bytes = 1000"),
		  "line 3: t_bytes: '1000' is out of range (1KiB..1TiB)");
	static const char *const bad_sizes[] = {"1 G", "1GB", "G",  "1.5G",
						"-1",  "1Gi", "1P", "9999999999T"};
	for (size_t i = 0; i < sizeof bad_sizes / sizeof *bad_sizes; i++) {
		char l[64], want[200];
		snprintf(l, sizeof l, "t_bytes = %s", bad_sizes[i]);
		snprintf(want, sizeof want,
			 "line 3: t_bytes: '%s' is not a size in bytes (digits, then optionally K, "
			 "M, G or T)",
			 bad_sizes[i]);
		CHECK_STR(line(c, l), want);
	}
	CHECK(setting_int(c, T_BYTES) == 1LL << 40);

	/* booleans */
	static const char *const yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		char l[64];
		snprintf(l, sizeof l, "t_bool = %s", yes[i]);
		CHECK_STR(line(c, "t_bool = off"), "");
		CHECK(!setting_bool(c, T_BOOL));
		CHECK_STR(line(c, l), "");
		CHECK(setting_bool(c, T_BOOL));
	}
	CHECK_STR(line(c, "t_bool = maybe"),
		  "line 3: t_bool: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");

	/* networks: the CIDR list parser's own words (fcgi/cidr.h) */
	CHECK_STR(line(c, "t_nets = 127.0.0.1/32, ::1 10.0.0.0/8"), "");
	CHECK_STR(setting_str(c, T_NETS), "127.0.0.1/32, ::1 10.0.0.0/8");
	CHECK_STR(line(c, "t_nets = 127.0.0.1/33"),
		  "line 3: t_nets: '127.0.0.1/33' has a prefix length above 32");
	CHECK_STR(line(c, "t_nets = localhost"),
		  "line 3: t_nets: 'localhost' is not an IPv4 or IPv6 network "
		  "(address/prefix-length)");

	/* URLs: http(s), no blank, no trailing slash */
	CHECK_STR(line(c, "t_url = https://iiif.example.org"), "");
	CHECK_STR(line(c, "t_url = http://127.0.0.1:8080/dlcs"), "");
	static const char *const bad_urls[] = {"https://iiif.example.org/",
					       "ftp://x",
					       "iiif.org",
					       "https://",
					       "http:///x",
					       "https://a b"};
	for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++) {
		char l[64];
		snprintf(l, sizeof l, "t_url = %s", bad_urls[i]);
		CHECK(strstr(line(c, l), "is not an http:// or https:// URL") != NULL);
	}
	CHECK_STR(setting_str(c, T_URL), "http://127.0.0.1:8080/dlcs");

	/* URI paths */
	CHECK_STR(line(c, "t_uri = /internal/files"), "");
	CHECK_STR(line(c, "t_uri = internal"),
		  "line 3: t_uri: 'internal' is not a URI path ('/', then no blank)");

	/* text and paths: anything but control characters ('#' is text) */
	CHECK_STR(line(c, "t_text = p#ss = word"), "");
	CHECK_STR(setting_str(c, T_TEXT), "p#ss = word");
	CHECK_STR(line(c, "t_text = a\x01z"),
		  "line 3: t_text: the value holds a control character");
	CHECK_STR(line(c, "t_path = /a\x7f"),
		  "line 3: t_path: the value holds a control character");

	/* a secret is never echoed */
	CHECK_STR(line(c, "t_secret = hunter2"),
		  "line 3: t_secret: the value is not a whole number");
	CHECK(strstr(err, "hunter2") == NULL);
	config_free(c);
}

static void test_lines(void)
{
	struct config *c = config_empty(&table);
	CHECK_STR(line(c, ""), "");
	CHECK_STR(line(c, "   \t\r\n"), "");
	CHECK_STR(line(c, "# t_int = nonsense"), "");
	CHECK_STR(line(c, "   # indented comment"), "");
	CHECK_STR(line(c, "t_int"), "line 3: expected key = value");
	CHECK_STR(line(c, "no_such_key = 1"), "line 3: unknown setting 'no_such_key'");
	CHECK_STR(line(c, "T_INT = 1"), "line 3: unknown setting 'T_INT'");
	CHECK_STR(line(c, "= 1"), "line 3: unknown setting ''");
	/* a key is echoed cut and printable, whatever it holds */
	char lng[400];
	memset(lng, 'k', sizeof lng);
	memcpy(lng + 300, " = 1", 5);
	CHECK_STR(line(c, lng),
		  "line 3: unknown setting "
		  "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'");
	CHECK_STR(line(c, "bad\x1b[2Jkey = 1"), "line 3: unknown setting 'bad?[2Jkey'");
	/* blanks around key and value; CRLF files */
	CHECK_STR(line(c, "  t_int\t=\t 7 \r\n"), "");
	CHECK(setting_int(c, T_INT) == 7);
	/* an empty value is the default again, and so is its source */
	CHECK_STR(line(c, "t_int ="), "");
	CHECK(setting_int(c, T_INT) == 2 && setting_line(c, T_INT) == 0);
	/* the framework's own keys are known to every table */
	CHECK_STR(line(c, "db_port = 70000"), "line 3: db_port: 70000 is out of range (1..65535)");
	CHECK_STR(line(c, "storage_root = /srv/dlcs"), "");
	config_free(c);

	/* A program that has no table of its own knows the framework's keys only. */
	c = config_empty(NULL);
	CHECK_STR(line(c, "t_int = 1"), "line 3: unknown setting 't_int'");
	CHECK_STR(line(c, "runner_threads = 2"), "line 3: unknown setting 'runner_threads'");
	config_free(c);
}

static void test_derived_defaults(void)
{
	struct config *c = config_empty(&table);
	/* a default made of a setting that has none is none */
	CHECK(setting_str(c, T_DERIVED) == NULL);
	CHECK_STR(line(c, "t_path = /srv"), "");
	CHECK_STR(setting_str(c, T_DERIVED), "/srv/x/hello");
	CHECK_STR(line(c, "t_text = world"), "");
	CHECK_STR(setting_str(c, T_DERIVED), "/srv/x/world");
	CHECK(setting_line(c, T_DERIVED) == 0);
	CHECK(setting_int(c, T_DERIVED_NONE) == 2);
	CHECK_STR(line(c, "t_int = 9"), "");
	CHECK(setting_int(c, T_DERIVED_NONE) == 9);
	CHECK_STR(line(c, "t_derived = /own"), "");
	CHECK_STR(setting_str(c, T_DERIVED), "/own");
	config_free(c);

	/* a value that would make another's default unusable is refused */
	static const struct setting narrow_rows[] = {
		{"n_wide", SETTING_INT, "5", 1, 100, 0, "wide"},
		{"n_narrow", SETTING_INT, "{n_wide}", 1, 10, 0, "narrow"},
	};
	static const struct settings_table narrow = {narrow_rows, 2};
	c = config_empty(&narrow);
	CHECK(setting_int(c, S_CORE__MAX + 1) == 5);
	CHECK_STR(line(c, "n_wide = 20"), "line 3: n_wide: then n_narrow (by default {n_wide}) "
					  "would be refused: 20 is out of range (1..10)");
	CHECK(setting_int(c, S_CORE__MAX) == 5 && setting_int(c, S_CORE__MAX + 1) == 5);
	CHECK_STR(line(c, "n_narrow = 3"), "");
	CHECK_STR(line(c, "n_wide = 20"), "");
	CHECK(setting_int(c, S_CORE__MAX) == 20 && setting_int(c, S_CORE__MAX + 1) == 3);
	config_free(c);

	/* the platform's: image_jpeg_quality follows jpeg_quality unless set;
	 * the files under storage_root follow it */
	c = config_empty(&dlcs_settings);
	CHECK(setting_int(c, S_IMAGE_JPEG_QUALITY) == 85);
	config_set(c, "jpeg_quality", "70");
	CHECK(setting_int(c, S_IMAGE_JPEG_QUALITY) == 70);
	config_set(c, "image_jpeg_quality", "95");
	CHECK(setting_int(c, S_IMAGE_JPEG_QUALITY) == 95 && setting_int(c, S_JPEG_QUALITY) == 70);
	CHECK_STR(setting_str(c, S_STORAGE_ROOT), "var/storage");
	config_set(c, "storage_root", "/srv/dlcs");
	CHECK_STR(setting_str(c, S_DATA_GENERATION_FILE), "/srv/dlcs/.data-generation");
	CHECK_STR(setting_str(c, S_AUTH_REVOCATION_FILE), "/srv/dlcs/.auth-revocations");
	config_free(c);
}

/* A file of the given text; its name (static). */
static const char *file_of(const char *text, size_t len)
{
	static char name[64];
	snprintf(name, sizeof name, "/tmp/test_settings.XXXXXX");
	int fd = mkstemp(name);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
	return name;
}

static void test_load(void)
{
	struct config *c = NULL;
	CHECK(config_load("/nonexistent/dlcs.conf", &table, &c, err, sizeof err) == CONFIG_EREAD);
	CHECK(c == NULL);

	static const char good[] = "# a comment\n\nt_int = 5\nt_int = 6\nt_text =  spaced out  \n";
	const char *f = file_of(good, sizeof good - 1);
	CHECK(config_load(f, &table, &c, err, sizeof err) == 0);
	CHECK(c && setting_int(c, T_INT) == 6 && setting_line(c, T_INT) == 4); /* the last wins */
	CHECK_STR(c ? setting_str(c, T_TEXT) : NULL, "spaced out");
	config_free(c);
	unlink(f);

	/* the first refused line stops the load, named */
	static const char bad[] = "t_int = 5\n\n# fine so far\nrunner_thread = 2\nt_int = x\n";
	f = file_of(bad, sizeof bad - 1);
	CHECK(config_load(f, &table, &c, err, sizeof err) == CONFIG_EINVALID && c == NULL);
	CHECK_STR(err, "line 4: unknown setting 'runner_thread'");
	unlink(f);
	static const char nul[] = "t_int = 5\nt_text = a\0b\n";
	f = file_of(nul, sizeof nul - 1);
	CHECK(config_load(f, &table, &c, err, sizeof err) == CONFIG_EINVALID);
	CHECK_STR(err, "line 2: holds a NUL byte");
	unlink(f);

	/* the platform's table: "runner_threads = two" (the example) */
	static const char two[] = "db_socket = /run/x.sock\nrunner_threads = two\n";
	f = file_of(two, sizeof two - 1);
	CHECK(config_load(f, &dlcs_settings, &c, err, sizeof err) == CONFIG_EINVALID);
	CHECK_STR(err, "line 2: runner_threads: 'two' is not a whole number");
	unlink(f);
}

/* Every row has a key, a type, a documentation line and a default its own
 * type takes (config_empty aborts otherwise); no key twice. */
static void test_table(void)
{
	struct config *c = config_empty(&dlcs_settings);
	CHECK(config_count(c) == S__MAX);
	for (int i = 0; i < S__MAX; i++) {
		const struct setting *s = config_row(c, i);
		CHECK(s->key && s->doc && *s->doc && !strchr(s->doc, '\n'));
		bool twice = false;
		for (int j = 0; j < i; j++)
			twice |= strcmp(config_row(c, j)->key, s->key) == 0;
		CHECK(!twice);
		if (s->type == SETTING_INT || s->type == SETTING_BYTES)
			CHECK(s->min <= s->max);
	}
	/* the defaults the issue settled (asset/settings.c says why) */
	CHECK_STR(setting_str(c, S_STORAGE_ROOT), "var/storage");
	CHECK(setting_int(c, S_IMAGE_MEMORY_LIMIT) == 4LL << 30);
	CHECK(setting_int(c, S_IMAGE_MAX_AREA) == 16777216);
	config_set(c, "image_max_area", "0"); /* no limit, in every program */
	CHECK(setting_int(c, S_IMAGE_MAX_AREA) == 0);
	config_free(c);
}

/* `dlcs-admin config --example`: a file the programs take back, with every
 * key, the file's settings as lines and the others as commented defaults,
 * a secret never shown. */
static void test_example(void)
{
	static const char seed[] = "storage_root = /srv/dlcs/storage\napi_key_salt = s3cret\n"
				   "runner_threads = 3\n";
	const char *f = file_of(seed, sizeof seed - 1);
	struct config *c = NULL;
	CHECK(config_load(f, &dlcs_settings, &c, err, sizeof err) == 0);
	unlink(f);
	if (!c)
		return;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	config_show_example(c, m);
	fclose(m);
	CHECK(strstr(text, "\nstorage_root = /srv/dlcs/storage\n"));
	CHECK(strstr(text, "\nrunner_threads = 3\n"));
	CHECK(strstr(text, "s3cret") == NULL);
	/* a default made of the file's value is shown as it comes out */
	CHECK(strstr(text, "\n#data_generation_file = /srv/dlcs/storage/.data-generation\n"));
	CHECK(strstr(text, "\n#db_port = 3306\n"));
	CHECK(strstr(text, "\n#db_socket =\n"));
	for (int i = 0; i < S__MAX; i++) {
		const char *key = config_row(c, i)->key;
		char want[128];
		xsnprintf(want, sizeof want, "\n#%s =", key);
		bool listed = strstr(text, want) != NULL;
		xsnprintf(want, sizeof want, "\n%s = ", key);
		listed |= strstr(text, want) != NULL;
		xsnprintf(want, sizeof want, "\n# %s: set, not shown\n", key);
		listed |= strstr(text, want) != NULL;
		CHECK(listed);
	}
	/* no comment line wider than 80 columns */
	bool narrow = true;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		narrow &= !(p[0] == '#' && p[1] == ' ' && n > 80);
		p += n + (p[n] == '\n');
	}
	CHECK(narrow);
	config_free(c);
	/* it loads back: the same settings, at the same values */
	f = file_of(text, len);
	CHECK(config_load(f, &dlcs_settings, &c, err, sizeof err) == 0);
	unlink(f);
	CHECK_STR(c ? setting_str(c, S_STORAGE_ROOT) : NULL, "/srv/dlcs/storage");
	CHECK(c && setting_int(c, S_RUNNER_THREADS) == 3);
	CHECK_STR(c ? setting_str(c, S_API_KEY_SALT) : NULL, "dlcs"); /* not carried over */
	config_free(c);
	free(text);
}

/* README.md's settings table is the table's Markdown, byte for byte. */
static void test_readme(void)
{
	static const char begin[] =
		"<!-- settings: the output of `dlcs-admin config --markdown` -->\n";
	static const char end[] = "<!-- end of settings -->";
	FILE *f = fopen(TOP_SRCDIR "/README.md", "r");
	CHECK(f != NULL);
	if (!f)
		return;
	static char readme[256 * 1024];
	size_t n = fread(readme, 1, sizeof readme - 1, f);
	fclose(f);
	readme[n] = '\0';
	const char *b = strstr(readme, begin), *e = b ? strstr(b, end) : NULL;
	CHECK(b && e);
	if (!b || !e)
		return;
	b += sizeof begin - 1;
	char *want = NULL;
	size_t wlen = 0;
	FILE *m = open_memstream(&want, &wlen);
	struct config *c = config_empty(&dlcs_settings);
	config_show_markdown(c, m);
	config_free(c);
	fclose(m);
	CHECK((size_t)(e - b) == wlen && memcmp(b, want, wlen) == 0);
	if ((size_t)(e - b) != wlen || memcmp(b, want, wlen) != 0)
		fprintf(stderr,
			"README.md's settings table differs from `dlcs-admin config "
			"--markdown`; paste this between its markers:\n%s",
			want);
	free(want);
}

int main(void)
{
	test_types();
	test_lines();
	test_derived_defaults();
	test_load();
	test_table();
	test_example();
	test_readme();
	return check_done();
}
