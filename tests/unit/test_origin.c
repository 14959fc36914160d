/* Origins (handlers/ingest/origin.c), without a database: the pure pieces
 * through its static functions, file:// against a temporary tree with
 * symlinks, and http against a tiny server forked here on 127.0.0.1. The db
 * pointer is NULL throughout, which means "no origin strategies";
 * credentials are tested by calling http_fetch with them directly. */
#include "../../handlers/ingest/origin.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

/* The process's umask (read by setting it back). */
static mode_t test_umask(void)
{
	mode_t m = umask(0);
	umask(m);
	return m;
}

static struct arena *A;
static char root[64]; /* the temporary tree */
static int port;      /* the test server's */
/* Traps: listening sockets on addresses the guard refuses (127.0.0.2, and
 * ::1 when the host has IPv6), never accepted from. A connection the guard
 * let through would wait in their backlog. */
static int trap4 = -1, trap6 = -1;
static int trap4_port, trap6_port;

static const char *tmp(const char *fmt, const char *name)
{
	return arena_printf(A, fmt, root, name);
}

static void put_file(const char *path, const char *data, size_t n)
{
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(data, 1, n, fp) != n || fclose(fp) != 0) {
		perror(path);
		exit(2);
	}
}

static char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = arena_alloc(A, 1 << 16);
	*n = fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	return buf;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* ---------------------------------------------------------------- the server */

static void say(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void says(int fd, const char *s)
{
	say(fd, s, strlen(s));
}

/* Blocks until the client hangs up (a server that never answers). */
static void wait_hangup(int fd)
{
	char c;
	while (read(fd, &c, 1) > 0)
		;
}

static void answer(int fd, const char *status, const char *extra, const char *body)
{
	char head[1024];
	snprintf(head, sizeof head,
		 "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
		 strlen(body), extra);
	says(fd, head);
	says(fd, body);
}

static void serve_conn(int fd)
{
	char req[8192];
	size_t n = 0;
	while (n < sizeof req - 1) {
		ssize_t r = read(fd, req + n, sizeof req - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[n] = '\0';
	char path[256] = "";
	if (sscanf(req, "GET %255s", path) != 1)
		return;
	char big[5001];
	memset(big, 'x', 5000);
	big[5000] = '\0';
	char extra[512];

	if (!strcmp(path, "/ok")) {
		answer(fd, "200 OK", "Content-Type: image/jpeg\r\n", "hello world");
	} else if (!strcmp(path, "/missing")) {
		answer(fd, "404 Not Found", "Content-Type: text/plain\r\n", "nope");
	} else if (!strcmp(path, "/broken")) {
		answer(fd, "500 Internal Server Error", "", "oops");
	} else if (!strcmp(path, "/redirect")) {
		answer(fd, "302 Found", "Location: /ok\r\n", "");
	} else if (!strcmp(path, "/redirect-file")) {
		answer(fd, "302 Found", "Location: file:///etc/passwd\r\n", "");
	} else if (!strcmp(path, "/redirect-loop")) {
		answer(fd, "302 Found", "Location: /redirect-loop\r\n", "");
	} else if (!strcmp(path, "/redirect-host")) {
		snprintf(extra, sizeof extra, "Location: http://localhost:%d/auth\r\n", port);
		answer(fd, "302 Found", extra, "");
	} else if (!strcmp(path, "/redirect-refused")) {
		snprintf(extra, sizeof extra, "Location: http://127.0.0.2:%d/ok\r\n", trap4_port);
		answer(fd, "302 Found", extra, "");
	} else if (!strcmp(path, "/redirect-mapped")) {
		snprintf(extra, sizeof extra, "Location: http://[::ffff:127.0.0.2]:%d/ok\r\n",
			 trap4_port);
		answer(fd, "302 Found", extra, "");
	} else if (!strcmp(path, "/redirect-twice")) {
		answer(fd, "302 Found", "Location: /redirect-refused\r\n", "");
	} else if (!strcmp(path, "/not-modified")) {
		says(fd, "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
	} else if (!strcmp(path, "/big")) {
		answer(fd, "200 OK", "", big);
	} else if (!strcmp(path, "/chunked") || !strcmp(path, "/chunked-small")) {
		says(fd,
		     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
		int chunks = strcmp(path, "/chunked") ? 2 : 10;
		for (int i = 0; i < chunks; i++) {
			says(fd, "1f4\r\n"); /* 500 bytes */
			say(fd, big, 500);
			says(fd, "\r\n");
		}
		says(fd, "0\r\n\r\n");
	} else if (!strcmp(path, "/empty")) {
		answer(fd, "200 OK", "", "");
	} else if (!strcmp(path, "/slow")) {
		wait_hangup(fd);
	} else if (!strcmp(path, "/drip")) {
		says(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
		say(fd, big, 10);
		wait_hangup(fd);
	} else if (!strcmp(path, "/auth")) {
		if (strstr(req, "\r\nAuthorization: Basic dXNlcjpwYXNz\r\n")) /* user:pass */
			answer(fd, "200 OK", "", "secret");
		else
			answer(fd, "401 Unauthorized", "WWW-Authenticate: Basic realm=\"t\"\r\n",
			       "who?");
	} else if (!strcmp(path, "/ua")) {
		const char *ua = strstr(req, "\r\nUser-Agent: ");
		size_t len = ua ? strcspn(ua + 14, "\r") : 0;
		snprintf(extra, sizeof extra, "%.*s", (int)len, ua ? ua + 14 : "");
		answer(fd, "200 OK", "", extra);
	} else if (!strcmp(path, "/long-type")) {
		snprintf(extra, sizeof extra, "Content-Type: image/%.200s\r\n", big);
		answer(fd, "200 OK", extra, "body");
	} else {
		answer(fd, "404 Not Found", "", "");
	}
}

static pid_t server_start(void)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 16) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) != 0) {
		perror("test server");
		exit(2);
	}
	port = ntohs(sa.sin_port);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid > 0) {
		close(ls);
		return pid;
	}
	signal(SIGCHLD, SIG_IGN); /* connection handlers reap themselves */
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(ls);
			serve_conn(fd);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}

/* A non-blocking listening socket on ip (IPv4 or IPv6 text); -1 when the
 * host cannot have one there (no IPv6). */
static int trap_open(const char *ip, int *port_out)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int family;
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
		family = in->sin_family = AF_INET;
		len = sizeof *in;
	} else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		family = in6->sin6_family = AF_INET6;
		len = sizeof *in6;
	} else {
		return -1;
	}
	int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	*port_out = ntohs(family == AF_INET ? in->sin_port : in6->sin6_port);
	return s;
}

/* True when nobody connected to the trap. */
static bool trap_untouched(int s)
{
	if (s < 0)
		return true;
	int c = accept(s, NULL, NULL);
	if (c >= 0) {
		close(c);
		return false;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* The trap notices a connection (so that trap_untouched means something). */
static void test_trap_works(void)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)trap4_port)};
	inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(!trap_untouched(trap4));
	CHECK(trap_untouched(trap4));
	if (c >= 0)
		close(c);
}

/* A port nothing listens on: bound, then released. */
static int dead_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) != 0) {
		perror("dead port");
		exit(2);
	}
	close(s);
	return ntohs(sa.sin_port);
}

/* ---------------------------------------------------------------- pure pieces */

static void test_url_kind(void)
{
	const char *why = NULL;
	CHECK(url_kind("http://example.org/a.jpg", &why) == URL_HTTP);
	CHECK(url_kind("HTTPS://example.org/a.jpg", &why) == URL_HTTP);
	CHECK(url_kind("file:///srv/a.jpg", &why) == URL_FILE);
	CHECK(url_kind("FILE:///srv/a.jpg", &why) == URL_FILE);
	CHECK(url_kind("ftp://example.org/a.jpg", &why) == URL_BAD);
	CHECK_STR(why, "origin URL scheme is not supported (use http, https or file)");
	CHECK(url_kind("gopher://x", &why) == URL_BAD);
	CHECK(url_kind("javascript:alert(1)", &why) == URL_BAD);
	CHECK(url_kind("/etc/passwd", &why) == URL_BAD);
	CHECK(url_kind("httpx://x", &why) == URL_BAD);
	CHECK(url_kind("http:/x", &why) == URL_BAD);
	CHECK(url_kind("", &why) == URL_BAD);
	CHECK_STR(why, "origin URL is empty");
	CHECK(url_kind(NULL, &why) == URL_BAD);
	CHECK(url_kind("http://example.org/a b.jpg", &why) == URL_BAD);
	CHECK_STR(why, "origin URL contains spaces or control characters");
	CHECK(url_kind("http://example.org/a\r\nX: y", &why) == URL_BAD);
	char *lng = arena_alloc(A, ORIGIN_URL_MAX + 2);
	memcpy(lng, "http://", 7);
	memset(lng + 7, 'a', ORIGIN_URL_MAX - 6);
	CHECK(url_kind(lng, &why) == URL_BAD);
	CHECK_STR(why, "origin URL is too long");
	lng[ORIGIN_URL_MAX] = '\0';
	CHECK(url_kind(lng, &why) == URL_HTTP);
}

static void test_file_url_path(void)
{
	const char *why = NULL;
	CHECK_STR(file_url_path(A, "file:///srv/a.jpg", &why), "/srv/a.jpg");
	CHECK_STR(file_url_path(A, "file://localhost/srv/a.jpg", &why), "/srv/a.jpg");
	CHECK_STR(file_url_path(A, "file://LOCALHOST/srv/a.jpg", &why), "/srv/a.jpg");
	CHECK_STR(file_url_path(A, "file:///srv/my%20image.jpg", &why), "/srv/my image.jpg");
	CHECK_STR(file_url_path(A, "file:///srv/./a.jpg", &why), "/srv/./a.jpg");
	CHECK_STR(file_url_path(A, "file:///srv/a..b/..c", &why), "/srv/a..b/..c");
	CHECK(file_url_path(A, "file://otherhost/srv/a.jpg", &why) == NULL);
	CHECK_STR(why, "file:// origins must be local paths (file:///path)");
	CHECK(file_url_path(A, "file://srv/a.jpg", &why) == NULL);
	CHECK(file_url_path(A, "file:///srv/../etc/passwd", &why) == NULL);
	CHECK_STR(why, "file:// origin path must not contain '..'");
	CHECK(file_url_path(A, "file:///srv/%2e%2e/etc/passwd", &why) == NULL);
	CHECK(file_url_path(A, "file:///srv/..", &why) == NULL);
	CHECK(file_url_path(A, "file:///srv/a%00.jpg", &why) == NULL);
	CHECK(file_url_path(A, "file:///srv/a%zz.jpg", &why) == NULL);
	CHECK_STR(why, "file:// origin has a malformed percent-escape");
	CHECK(file_url_path(A, "file:///srv/a.jpg?x=1", &why) == NULL);
	CHECK(file_url_path(A, "file:///srv/a.jpg#f", &why) == NULL);
}

static void test_strategy_name(void)
{
	CHECK_STR(origin_strategy_name("default"), "default");
	CHECK_STR(origin_strategy_name("basic-http-authentication"), "basic-http-authentication");
	CHECK_STR(origin_strategy_name(
			  "https://api.dlcs.io/originStrategies/basic-http-authentication"),
		  "basic-http-authentication");
	CHECK_STR(origin_strategy_name("/originStrategies/default"), "default");
	CHECK(origin_strategy_name("https://api.dlcs.io/originStrategies/sftp") == NULL);
	CHECK(origin_strategy_name("https://api.dlcs.io/other/default") == NULL);
	CHECK(origin_strategy_name("https://api.dlcs.io/originStrategies/default/") == NULL);
	CHECK(origin_strategy_name("originStrategies/default") == NULL);
	CHECK(origin_strategy_name("Default") == NULL);
	CHECK(origin_strategy_name("s3-ambient") == NULL);
	CHECK(origin_strategy_name("") == NULL);
	CHECK(origin_strategy_name(NULL) == NULL);
	CHECK(origin_strategy_needs_credentials("basic-http-authentication"));
	CHECK(!origin_strategy_needs_credentials("default"));
	CHECK(!origin_strategy_needs_credentials(NULL));
}

static const char *creds(const char *json, const char **u, const char **p)
{
	yajl_val v = json_parse(A, json, strlen(json), NULL);
	*u = *p = NULL;
	return v ? origin_credentials_read(A, v, u, p) : "test JSON malformed";
}

static void test_credentials(void)
{
	const char *u, *p;
	/* The seed's form: a string holding JSON. */
	CHECK(creds("\"{ \\\"user\\\": \\\"uuu\\\", \\\"password\\\": \\\"ppp\\\" }\"", &u, &p) ==
	      NULL);
	CHECK_STR(u, "uuu");
	CHECK_STR(p, "ppp");
	CHECK(creds("{\"user\":\"a\",\"password\":\"\"}", &u, &p) == NULL);
	CHECK_STR(p, "");
	CHECK(creds("{\"user\":\"a\",\"password\":\"b\",\"extra\":1}", &u, &p) == NULL);
	CHECK_STR(creds("{\"user\":\"a\"}", &u, &p), "must have a string 'password'");
	CHECK_STR(creds("{\"password\":\"b\"}", &u, &p), "must have a non-empty string 'user'");
	CHECK_STR(creds("{\"user\":\"\",\"password\":\"b\"}", &u, &p),
		  "must have a non-empty string 'user'");
	CHECK_STR(creds("{\"user\":5,\"password\":\"b\"}", &u, &p),
		  "must have a non-empty string 'user'");
	CHECK_STR(creds("{\"user\":\"a\",\"password\":null}", &u, &p),
		  "must have a string 'password'");
	CHECK_STR(creds("{\"user\":\"a:b\",\"password\":\"c\"}", &u, &p),
		  "must have a 'user' without ':'");
	CHECK_STR(creds("\"not json\"", &u, &p), "must be JSON {\"user\",\"password\"}");
	CHECK_STR(creds("\"[1,2]\"", &u, &p),
		  "must be an object {\"user\",\"password\"} or a string holding one");
	CHECK_STR(creds("[\"a\",\"b\"]", &u, &p),
		  "must be an object {\"user\",\"password\"} or a string holding one");
	CHECK_STR(creds("42", &u, &p),
		  "must be an object {\"user\",\"password\"} or a string holding one");
	CHECK(u == NULL && p == NULL);
	CHECK(origin_credentials_read(A, NULL, &u, &p) != NULL);
	/* As stored: canonical text. */
	CHECK(credentials_text(A, "{\"user\":\"x\",\"password\":\"y\"}", &u, &p) == NULL);
	CHECK_STR(u, "x");
	CHECK(credentials_text(A, "{bad", &u, &p) != NULL);
	CHECK(credentials_text(A, NULL, &u, &p) != NULL);
}

static void test_regex_check(void)
{
	CHECK(origin_regex_check(A, "^https?://example\\.org/") == NULL);
	CHECK(origin_regex_check(A, "[0-9]{4}/[a-z]{2,3}") == NULL);
	CHECK(origin_regex_check(A, "[{]9999999[}]") == NULL); /* braces in a bracket are literal */
	CHECK(origin_regex_check(A, "\\{9999999\\}") == NULL);
	CHECK(origin_regex_check(A, "[[:digit:]{]+") == NULL);
	CHECK(origin_regex_check(A, "*") == NULL); /* the seed's example */
	const char *why = origin_regex_check(A, "(");
	CHECK(why && starts(why, "is not a POSIX extended regular expression ("));
	CHECK(origin_regex_check(A, "*.jpg") != NULL);
	CHECK(origin_regex_check(A, "") != NULL);
	CHECK(origin_regex_check(A, NULL) != NULL);
	CHECK_STR(origin_regex_check(A, "(a)\\1"), "back-references are not supported");
	CHECK_STR(origin_regex_check(A, "((a{255}){255}){255}"),
		  "repetition counts are too large (their product must be at most 10000)");
	CHECK(origin_regex_check(A, "a{32767}") != NULL);
	CHECK(origin_regex_check(A, "a{1,99999999999999999999}") != NULL);
	CHECK(origin_regex_check(A, "(a{100}){100}") == NULL);
}

static void test_strategy_match(void)
{
	struct strategy s[] = {
		{"(", "basic-http-authentication", "{}"}, /* broken: never matches */
		{"^https://private\\.example\\.org/", "basic-http-authentication", "{}"},
		{"example\\.org", "default", NULL},
		{"*", "default", NULL},
	};
	CHECK(strategy_match(s, 4, "https://private.example.org/a.jpg") == 1);
	CHECK(strategy_match(s, 4, "HTTPS://PRIVATE.EXAMPLE.ORG/a.jpg") == 1); /* REG_ICASE */
	CHECK(strategy_match(s, 4, "https://www.example.org/a.jpg") == 2);
	CHECK(strategy_match(s, 4, "https://other.net/a.jpg") == 3);
	CHECK(strategy_match(s, 3, "https://other.net/a.jpg") == -1);
	CHECK(strategy_match(s + 2, 2, "https://private.example.org/a.jpg") == 0); /* order wins */
	CHECK(strategy_match(s, 0, "https://private.example.org/") == -1);
	struct strategy evil[] = {{"(.*)(.*)\\2\\1z", "default", NULL}};
	CHECK(strategy_match(evil, 1, "http://aaaaaaaaaaaaaaaaaaaa") == -1); /* refused, not run */
	struct strategy none[] = {{NULL, NULL, NULL}};
	CHECK(strategy_match(none, 1, "http://x") == -1);
}

static void test_scrub(void)
{
	char msg[128] = "Failed: hunter2 and user alice, hunter2";
	scrub(msg, "hunter2");
	scrub(msg, "alice");
	scrub(msg, NULL);
	scrub(msg, "");
	CHECK_STR(msg, "Failed: ******* and user *****, *******");
	char m2[128] = "Could not resolve host: bob:s3cret@ (s3cret)";
	scrub_userinfo(m2, "http://bob:s3cret@nohost.invalid/a");
	CHECK_STR(m2, "Could not resolve host: **********@ (******)");
	char m3[128] = "no userinfo";
	scrub_userinfo(m3, "http://host/a@b");
	CHECK_STR(m3, "no userinfo");
	struct origin_fetch f;
	memset(f.error, 'z', sizeof f.error);
	char lng[400];
	memset(lng, 'a', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	fail(&f, ORIGIN_UNREACHABLE, "origin unreachable: %s", lng);
	CHECK(strlen(f.error) == sizeof f.error - 1);
	CHECK(starts(f.error, "origin unreachable: aaa"));
	CHECK(strcmp(f.error + sizeof f.error - 4, "...") == 0);
}

/* ---------------------------------------------------------------- file:// */

static void test_file(void)
{
	struct config *cfg = config_empty(&dlcs_settings);
	struct origin_fetch f;
	const char *dest = tmp("%s/%s", "dest.bin");
	size_t n;

	if (mkdir(tmp("%s/%s", "allowed"), 0700) || mkdir(tmp("%s/%s", "allowed/sub"), 0700) ||
	    mkdir(tmp("%s/%s", "allowed2"), 0700) || mkdir(tmp("%s/%s", "outside"), 0700)) {
		perror("mkdir");
		exit(2);
	}
	put_file(tmp("%s/%s", "allowed/a.jpg"), "JPEGDATA", 8);
	put_file(tmp("%s/%s", "allowed/sub/my image.jpg"), "SUB", 3);
	put_file(tmp("%s/%s", "allowed/empty.jpg"), "", 0);
	put_file(tmp("%s/%s", "allowed/big.jpg"), "0123456789ABCDEF", 16);
	put_file(tmp("%s/%s", "allowed2/x.jpg"), "X", 1);
	put_file(tmp("%s/%s", "outside/secret"), "SECRET", 6);
	if (symlink(tmp("%s/%s", "outside/secret"), tmp("%s/%s", "allowed/escape")) ||
	    symlink("../outside", tmp("%s/%s", "allowed/outdir")) ||
	    symlink("sub/my image.jpg", tmp("%s/%s", "allowed/inner")) ||
	    symlink("allowed", tmp("%s/%s", "alias")) ||
	    mkfifo(tmp("%s/%s", "allowed/fifo"), 0600)) {
		perror("symlink");
		exit(2);
	}

	/* Not enabled: refused whatever the path. */
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/a.jpg"), dest, &f) ==
	      ORIGIN_BAD_URL);
	CHECK_STR(f.error, "file:// origins are not enabled on this server");
	CHECK(!exists(dest));

	/* The allowed dir is named through a symlink and with a stray
	 * relative entry: both are resolved or skipped. */
	config_set(cfg, "origin_file_dirs",
		   arena_printf(A, "relative/dir:%s/alias:/nonexistent", root));
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/a.jpg"), dest, &f) ==
	      ORIGIN_OK);
	CHECK(f.bytes == 8);
	CHECK_STR(f.error, "");
	CHECK(f.http_status == 0);
	char *got = slurp(dest, &n);
	CHECK(got && n == 8 && memcmp(got, "JPEGDATA", 8) == 0);
	struct stat st;
	/* 0644 less the umask: readable by an nginx of another user (/file) */
	CHECK(stat(dest, &st) == 0 && (st.st_mode & 0777) == (0644 & ~test_umask()));

	CHECK(origin_fetch(NULL, A, cfg, 1,
			   tmp("file://localhost%s/%s", "allowed/sub/my%20image.jpg"), dest,
			   &f) == ORIGIN_OK);
	CHECK(f.bytes == 3);
	/* A symlink that stays inside is fine. */
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/inner"), dest, &f) ==
	      ORIGIN_OK);

	static const char *const refused[] = {
		"allowed/escape",            /* symlink to a file outside */
		"allowed/outdir/secret",     /* symlinked directory outside */
		"allowed/../outside/secret", /* .. */
		"allowed/%2E%2E/outside/secret",
		"allowed2/x.jpg", /* a sibling sharing the prefix */
		"outside/secret",
		"allowed/nonexistent.jpg",
		"allowed", /* the dir itself */
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		put_file(dest, "OLD", 3);
		enum origin_status s =
			origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", refused[i]), dest, &f);
		CHECK(s == ORIGIN_BAD_URL);
		if (s != ORIGIN_BAD_URL)
			fprintf(stderr, "  refused[%zu] %s: %d %s\n", i, refused[i], s, f.error);
		CHECK(f.bytes == 0);
		CHECK(exists(dest)); /* refused before the destination was touched */
	}
	origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/escape"), dest, &f);
	CHECK_STR(f.error, "file:// origin not found or outside the allowed directories");
	origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/../outside/secret"), dest, &f);
	CHECK_STR(f.error, "file:// origin path must not contain '..'");
	origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/sub"), dest, &f);
	CHECK_STR(f.error, "file:// origin is not a regular file");

	/* A FIFO is refused at once, not waited on. */
	time_t t0 = time(NULL);
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/fifo"), dest, &f) ==
	      ORIGIN_BAD_URL);
	CHECK(time(NULL) - t0 < 3);

	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/empty.jpg"), dest, &f) ==
	      ORIGIN_EMPTY);
	CHECK_STR(f.error, "origin is empty (0 bytes)");
	CHECK(!exists(dest));

	config_set(cfg, "origin_max_bytes", "10");
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/big.jpg"), dest, &f) ==
	      ORIGIN_TOO_LARGE);
	CHECK_STR(f.error, "origin is larger than the limit of 10 bytes");
	CHECK(!exists(dest));
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/a.jpg"), dest, &f) ==
	      ORIGIN_OK);

	/* Copying a file onto itself would truncate it first. */
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/a.jpg"),
			   tmp("%s/%s", "allowed/a.jpg"), &f) == ORIGIN_LOCAL_ERROR);
	got = slurp(tmp("%s/%s", "allowed/a.jpg"), &n);
	CHECK(got && n == 8);

	/* An unwritable destination. */
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "allowed/a.jpg"),
			   tmp("%s/%s", "no/such/dir/x"), &f) == ORIGIN_LOCAL_ERROR);
	CHECK(starts(f.error, "could not write the local copy: "));

	config_set(cfg, "origin_file_dirs", "/");
	CHECK(origin_fetch(NULL, A, cfg, 1, tmp("file://%s/%s", "outside/secret"), dest, &f) ==
	      ORIGIN_OK);
	CHECK(origin_fetch(NULL, A, cfg, 1, "file:///", dest, &f) == ORIGIN_BAD_URL);
	config_free(cfg);
}

/* ---------------------------------------------------------------- http */

static const char *url(const char *path)
{
	return arena_printf(A, "http://127.0.0.1:%d%s", port, path);
}

static void test_http(void)
{
	struct config *cfg = config_empty(&dlcs_settings);
	struct origin_fetch f;
	const char *dest = tmp("%s/%s", "http.bin");
	size_t n;
	config_set(cfg, "origin_max_bytes", "1000");
	config_set(cfg, "origin_timeout", "2");
	config_set(cfg, "origin_connect_timeout", "2");
	config_set(cfg, "origin_allow_networks", "127.0.0.1/32"); /* the test server */

	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), dest, &f) == ORIGIN_OK);
	CHECK(f.http_status == 200);
	CHECK(f.bytes == 11);
	CHECK_STR(f.content_type, "image/jpeg");
	CHECK_STR(f.error, "");
	char *got = slurp(dest, &n);
	CHECK(got && n == 11 && memcmp(got, "hello world", 11) == 0);
	struct stat st;
	/* 0644 less the umask: readable by an nginx of another user (/file) */
	CHECK(stat(dest, &st) == 0 && (st.st_mode & 0777) == (0644 & ~test_umask()));

	CHECK(origin_fetch(NULL, A, cfg, 2, url("/missing"), dest, &f) == ORIGIN_HTTP_ERROR);
	CHECK(f.http_status == 404);
	CHECK_STR(f.error, "origin answered HTTP 404");
	CHECK(!exists(dest));
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/broken"), dest, &f) == ORIGIN_HTTP_ERROR);
	CHECK_STR(f.error, "origin answered HTTP 500");
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/not-modified"), dest, &f) == ORIGIN_HTTP_ERROR);
	CHECK_STR(f.error, "origin answered HTTP 304");

	CHECK(origin_fetch(NULL, A, cfg, 2, url("/redirect"), dest, &f) == ORIGIN_OK);
	CHECK(f.http_status == 200);
	CHECK(f.bytes == 11);
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/redirect-file"), dest, &f) == ORIGIN_BAD_URL);
	CHECK_STR(f.error, "origin redirected to a scheme other than http or https");
	CHECK(!exists(dest));
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/redirect-loop"), dest, &f) == ORIGIN_UNREACHABLE);
	CHECK_STR(f.error, "origin redirected more than 5 times");

	CHECK(origin_fetch(NULL, A, cfg, 2, url("/big"), dest, &f) == ORIGIN_TOO_LARGE);
	CHECK_STR(f.error, "origin is larger than the limit of 1000 bytes");
	CHECK(!exists(dest));
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/chunked"), dest, &f) == ORIGIN_TOO_LARGE);
	CHECK_STR(f.error, "origin is larger than the limit of 1000 bytes");
	CHECK(f.bytes <= 1000);
	CHECK(!exists(dest));
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/chunked-small"), dest, &f) == ORIGIN_OK);
	CHECK(f.bytes == 1000);

	CHECK(origin_fetch(NULL, A, cfg, 2, url("/empty"), dest, &f) == ORIGIN_EMPTY);
	CHECK_STR(f.error, "origin is empty (0 bytes)");
	CHECK(!exists(dest));

	time_t t0 = time(NULL);
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/slow"), dest, &f) == ORIGIN_UNREACHABLE);
	CHECK(starts(f.error, "origin timed out: "));
	CHECK(time(NULL) - t0 <= 5);
	CHECK(!exists(dest));

	/* Headers, then a trickle: the low-speed limit ends it well before
	 * the total timeout. */
	config_set(cfg, "origin_timeout", "20");
	config_set(cfg, "origin_low_speed_time", "1");
	config_set(cfg, "origin_max_bytes", "1000000");
	t0 = time(NULL);
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/drip"), dest, &f) == ORIGIN_UNREACHABLE);
	CHECK(starts(f.error, "origin timed out: "));
	CHECK(strstr(f.error, "too slow") != NULL);
	CHECK(time(NULL) - t0 <= 6);
	CHECK(!exists(dest));
	config_set(cfg, "origin_timeout", "2");

	int dead = dead_port();
	CHECK(origin_fetch(NULL, A, cfg, 2, arena_printf(A, "http://127.0.0.1:%d/a.jpg", dead),
			   dest, &f) == ORIGIN_UNREACHABLE);
	CHECK(starts(f.error, "origin unreachable: "));
	CHECK(f.http_status == 0);
	CHECK(!exists(dest));
	fprintf(stderr, "  (dead port says: %s)\n", f.error);

	CHECK(origin_fetch(NULL, A, cfg, 2, "http://nohost.invalid/a.jpg", dest, &f) ==
	      ORIGIN_UNREACHABLE);
	CHECK(origin_fetch(NULL, A, cfg, 2, "http://[::1/a.jpg", dest, &f) == ORIGIN_BAD_URL);
	CHECK_STR(f.error, "origin URL is malformed");

	config_set(cfg, "origin_user_agent", "DLCS-test/9");
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ua"), dest, &f) == ORIGIN_OK);
	got = slurp(dest, &n);
	CHECK(got && n == 11 && memcmp(got, "DLCS-test/9", 11) == 0);

	CHECK(origin_fetch(NULL, A, cfg, 2, url("/long-type"), dest, &f) == ORIGIN_OK);
	CHECK_STR(f.content_type, "");

	/* Credentials: sent when given, not to the host a redirect leads to,
	 * and never in the error text. */
	struct origin_limits l;
	limits_read(cfg, &l);
	struct creds good = {"user", "pass"}, bad = {"user", "wrong-pass"};
	CHECK(http_fetch(&l, url("/auth"), &good, dest, &f) == ORIGIN_OK);
	got = slurp(dest, &n);
	CHECK(got && n == 6 && memcmp(got, "secret", 6) == 0);
	CHECK(http_fetch(&l, url("/auth"), &bad, dest, &f) == ORIGIN_HTTP_ERROR);
	CHECK_STR(f.error, "origin answered HTTP 401");
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/auth"), dest, &f) == ORIGIN_HTTP_ERROR);
	CHECK(f.http_status == 401);
	CHECK(http_fetch(&l, url("/redirect-host"), &good, dest, &f) == ORIGIN_HTTP_ERROR);
	CHECK(f.http_status == 401);
	struct creds leaky = {"nohost", "invalid"}; /* appear in curl's message */
	CHECK(http_fetch(&l, "http://nohost.invalid/a.jpg", &leaky, dest, &f) ==
	      ORIGIN_UNREACHABLE);
	CHECK(strstr(f.error, "nohost") == NULL && strstr(f.error, "invalid") == NULL);
	CHECK(origin_fetch(NULL, A, cfg, 2, "http://bob:pw123@nohost.invalid/a.jpg", dest, &f) ==
	      ORIGIN_UNREACHABLE);
	CHECK(strstr(f.error, "pw123") == NULL);
	config_free(cfg);
}

/* Local failures: a destination that is not a regular file is refused and
 * left alone; a write that fails (here: over RLIMIT_FSIZE) removes the copy. */
static void test_local_errors(void)
{
	struct config *cfg = config_empty(&dlcs_settings);
	struct origin_fetch f;
	const char *dev = tmp("%s/%s", "devnull"), *fifo = tmp("%s/%s", "destfifo");
	config_set(cfg, "origin_allow_networks", "127.0.0.1");
	const char *dest = tmp("%s/%s", "limited.bin");
	if (symlink("/dev/null", dev) || mkfifo(fifo, 0600)) {
		perror("symlink");
		exit(2);
	}
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), dev, &f) == ORIGIN_LOCAL_ERROR);
	CHECK_STR(f.error, "could not write the local copy: not a regular file");
	CHECK(exists(dev) && exists("/dev/null"));
	time_t t0 = time(NULL);
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), fifo, &f) == ORIGIN_LOCAL_ERROR);
	CHECK(exists(fifo) && time(NULL) - t0 < 3);
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), tmp("%s/%s", "no/dir/x"), &f) ==
	      ORIGIN_LOCAL_ERROR);
	CHECK_STR(f.error, "could not write the local copy: No such file or directory");

	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 5;
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
		CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), dest, &f) == ORIGIN_LOCAL_ERROR);
		CHECK_STR(f.error, "could not write the local copy: File too large");
		CHECK(!exists(dest));
		config_set(cfg, "origin_file_dirs", root);
		CHECK(origin_fetch(NULL, A, cfg, 2, tmp("file://%s/%s", "allowed/a.jpg"), dest,
				   &f) == ORIGIN_LOCAL_ERROR);
		CHECK_STR(f.error, "could not write the local copy: File too large");
		CHECK(!exists(dest));
		setrlimit(RLIMIT_FSIZE, &old);
	} else {
		CHECK(!"setrlimit");
	}
	signal(SIGXFSZ, SIG_DFL);
	config_free(cfg);
}

/* ---------------------------------------------------------------- the address guard */

/* fetches url under cfg; true when refused by the guard with an error that
 * starts with `hop` and names `address`. */
static bool refused(struct config *cfg, const char *url, const char *hop, const char *address)
{
	struct origin_fetch f;
	const char *dest = tmp("%s/%s", "guard.bin");
	put_file(dest, "OLD", 3);
	enum origin_status st = origin_fetch(NULL, A, cfg, 2, url, dest, &f);
	const char *want = arena_printf(A, "%s: address %s is not allowed (origin_allow_networks)",
					hop, address);
	bool ok = st == ORIGIN_BAD_URL && strcmp(f.error, want) == 0 && f.bytes == 0 &&
		  f.http_status == (strstr(hop, "redirect") ? 302 : 0) && !exists(dest);
	if (!ok)
		fprintf(stderr, "  %s: status %d, error '%s' (want '%s'), http %ld\n", url, st,
			f.error, want, f.http_status);
	return ok;
}

static void test_guard(void)
{
	struct config *cfg = config_empty(&dlcs_settings);
	struct origin_fetch f;
	const char *dest = tmp("%s/%s", "guard.bin");
	config_set(cfg, "origin_timeout", "5");
	config_set(cfg, "origin_connect_timeout", "2");
	config_set(cfg, "origin_allow_networks", "127.0.0.1/32");
	char p4[16], p6[16], pm[16];
	snprintf(p4, sizeof p4, "%d", trap4_port);
	snprintf(p6, sizeof p6, "%d", trap6_port);
	snprintf(pm, sizeof pm, "%d", port);

	/* The allowed address works, also named, and through an allowed redirect. */
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), dest, &f) == ORIGIN_OK);
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/redirect"), dest, &f) == ORIGIN_OK);
	CHECK(origin_fetch(NULL, A, cfg, 2, arena_printf(A, "http://localhost:%d/ok", port), dest,
			   &f) == ORIGIN_OK);

	/* Refused addresses, however they are spelled. */
	CHECK(refused(cfg, arena_printf(A, "http://127.0.0.2:%s/ok", p4),
		      arena_printf(A, "http://127.0.0.2:%s", p4), "127.0.0.2"));
	CHECK(refused(cfg, arena_printf(A, "http://[::ffff:127.0.0.2]:%s/ok", p4),
		      arena_printf(A, "http://[::ffff:127.0.0.2]:%s", p4), "::ffff:127.0.0.2"));
	CHECK(refused(cfg, arena_printf(A, "http://2130706434:%s/ok", p4),
		      arena_printf(A, "http://127.0.0.2:%s", p4), "127.0.0.2"));
	CHECK(refused(cfg, arena_printf(A, "http://0x7f000002:%s/ok", p4),
		      arena_printf(A, "http://127.0.0.2:%s", p4), "127.0.0.2"));
	CHECK(refused(cfg, arena_printf(A, "http://0.0.0.0:%s/ok", pm),
		      arena_printf(A, "http://0.0.0.0:%s", pm), "0.0.0.0"));
	CHECK(refused(cfg, arena_printf(A, "http://[::1]:%s/ok", trap6 >= 0 ? p6 : pm),
		      arena_printf(A, "http://[::1]:%s", trap6 >= 0 ? p6 : pm), "::1"));
	CHECK(refused(cfg, arena_printf(A, "http://[::]:%s/ok", pm),
		      arena_printf(A, "http://[::]:%s", pm), "::"));
	/* userinfo, path and query stay out of the error */
	CHECK(refused(cfg, arena_printf(A, "http://bob:pw123@127.0.0.2:%s/ok?x=1#f", p4),
		      arena_printf(A, "http://127.0.0.2:%s", p4), "127.0.0.2"));

	/* Every redirect hop meets the guard. */
	CHECK(refused(cfg, url("/redirect-refused"),
		      arena_printf(A, "redirect to http://127.0.0.2:%s", p4), "127.0.0.2"));
	CHECK(refused(cfg, url("/redirect-mapped"),
		      arena_printf(A, "redirect to http://[::ffff:127.0.0.2]:%s", p4),
		      "::ffff:127.0.0.2"));
	CHECK(refused(cfg, url("/redirect-twice"),
		      arena_printf(A, "redirect to http://127.0.0.2:%s", p4), "127.0.0.2"));

	/* A name is judged by the address it resolves to: with only 127.0.0.2
	 * open, localhost (127.0.0.1, and ::1 where curl tries it) is refused. */
	config_set(cfg, "origin_allow_networks", "127.0.0.2/32");
	CHECK(origin_fetch(NULL, A, cfg, 2, arena_printf(A, "http://localhost:%d/ok", port), dest,
			   &f) == ORIGIN_BAD_URL);
	CHECK(starts(f.error, arena_printf(A, "http://localhost:%d: address ", port)));
	CHECK(strstr(f.error, " is not allowed (origin_allow_networks)") != NULL);
	CHECK(strstr(f.error, "127.0.0.1") || strstr(f.error, "::1"));
	/* and so is the address itself */
	CHECK(refused(cfg, url("/ok"), arena_printf(A, "http://127.0.0.1:%s", pm), "127.0.0.1"));

	/* A name whose allowed address fails for its own reasons says so, not
	 * that its other address was refused. */
	config_set(cfg, "origin_allow_networks", "127.0.0.1/32");
	CHECK(origin_fetch(NULL, A, cfg, 2, arena_printf(A, "http://localhost:%d/a", dead_port()),
			   dest, &f) == ORIGIN_UNREACHABLE);
	CHECK(starts(f.error, "origin unreachable: "));

	/* The dev stack's 127.0.0.0/8 opens them all; ::1 stays refused. */
	config_set(cfg, "origin_allow_networks", "127.0.0.0/8");
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), dest, &f) == ORIGIN_OK);
	CHECK(refused(cfg, arena_printf(A, "http://[::1]:%s/ok", trap6 >= 0 ? p6 : pm),
		      arena_printf(A, "http://[::1]:%s", trap6 >= 0 ? p6 : pm), "::1"));

	/* A proxy in the environment is not used: the guard sees the origin. */
	config_set(cfg, "origin_allow_networks", "127.0.0.1/32");
	const char *proxy = arena_printf(A, "http://127.0.0.1:%d", dead_port());
	setenv("http_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), dest, &f) == ORIGIN_OK);
	CHECK(refused(cfg, arena_printf(A, "http://127.0.0.2:%s/ok", p4),
		      arena_printf(A, "http://127.0.0.2:%s", p4), "127.0.0.2"));
	unsetenv("http_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");

	/* Credentials still go to an allowed origin. */
	struct origin_limits l;
	limits_read(cfg, &l);
	struct creds good = {"user", "pass"};
	CHECK(http_fetch(&l, url("/auth"), &good, dest, &f) == ORIGIN_OK);

	/* file:// is the directories' business, not the guard's. */
	config_set(cfg, "origin_file_dirs", root);
	CHECK(origin_fetch(NULL, A, cfg, 2, tmp("file://%s/%s", "allowed/a.jpg"), dest, &f) ==
	      ORIGIN_OK);

	/* An invalid list never gets into the configuration (the programs
	 * refuse to start on it, fcgi/config.h): the one in force stays. */
	char err[256];
	CHECK(config_line(cfg, "origin_allow_networks = 127.0.0.1/32, 10.0.0.1/8", 7, err,
			  sizeof err) == -1);
	CHECK_STR(err, "line 7: origin_allow_networks: '10.0.0.1/8' has address bits set beyond "
		       "its prefix length");
	CHECK_STR(setting_str(cfg, S_ORIGIN_ALLOW_NETWORKS), "127.0.0.1/32");
	CHECK(origin_fetch(NULL, A, cfg, 2, url("/ok"), dest, &f) == ORIGIN_OK);
	CHECK(origin_fetch(NULL, A, cfg, 2, tmp("file://%s/%s", "allowed/a.jpg"), dest, &f) ==
	      ORIGIN_OK);

	/* Nothing ever reached the refused addresses. */
	CHECK(trap_untouched(trap4));
	CHECK(trap_untouched(trap6));
	config_free(cfg);
}

/* Nothing crashes, whatever is missing. */
static void test_nulls(void)
{
	struct origin_fetch f;
	const char *dest = tmp("%s/%s", "n.bin");
	struct config *cfg = config_empty(&dlcs_settings); /* a configuration is never missing */
	CHECK(origin_fetch(NULL, NULL, cfg, 0, NULL, NULL, NULL) == ORIGIN_LOCAL_ERROR);
	CHECK(origin_fetch(NULL, NULL, cfg, 0, NULL, dest, &f) == ORIGIN_BAD_URL);
	CHECK(origin_fetch(NULL, NULL, cfg, 0, "http://x", "", &f) == ORIGIN_LOCAL_ERROR);
	/* The default configuration: loopback is refused like every inside address. */
	CHECK(origin_fetch(NULL, NULL, cfg, -5, url("/ok"), dest, NULL) == ORIGIN_BAD_URL);
	CHECK(origin_fetch(NULL, NULL, cfg, -5, url("/ok"), dest, &f) == ORIGIN_BAD_URL);
	CHECK(strstr(f.error, ": address 127.0.0.1 is not allowed (origin_allow_networks)"));
	CHECK(origin_fetch(NULL, NULL, cfg, 0, "file:///etc/passwd", dest, &f) == ORIGIN_BAD_URL);
	CHECK(origin_fetch(NULL, NULL, cfg, 0, "file://", dest, &f) == ORIGIN_BAD_URL);
	CHECK(origin_fetch(NULL, NULL, cfg, 0, "http://", dest, &f) == ORIGIN_BAD_URL);
	CHECK(origin_fetch(NULL, NULL, cfg, 0, "https://", dest, &f) == ORIGIN_BAD_URL);
	CHECK(origin_fetch(NULL, NULL, cfg, 0, "http://:0/", dest, &f) != ORIGIN_OK);
	CHECK(!exists(dest) || unlink(dest) == 0);
	config_free(cfg);
}

int main(void)
{
	trap4 = trap_open("127.0.0.2", &trap4_port);
	trap6 = trap_open("::1", &trap6_port);
	if (trap4 < 0) {
		perror("a listening socket on 127.0.0.2");
		return 2;
	}
	pid_t server = server_start();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	A = arena_new(1 << 16);
	xsnprintf(root, sizeof root, "/tmp/test_origin.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}

	test_url_kind();
	test_file_url_path();
	test_strategy_name();
	test_credentials();
	test_regex_check();
	test_strategy_match();
	test_scrub();
	int fds = open_fds();
	test_file();
	test_http();
	test_local_errors();
	test_trap_works();
	test_guard();
	test_nulls();
	CHECK(open_fds() == fds); /* every handle and descriptor closed */

	close(trap4);
	if (trap6 >= 0)
		close(trap6);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	arena_free(A);
	curl_global_cleanup();
	char *rm = NULL;
	if (asprintf(&rm, "rm -rf '%s'", root) > 0 && system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	free(rm);
	return check_done();
}
