/* Origins to local files. The pure pieces (URL classification, file://
 * containment, credentials, strategy choice, error texts) are static
 * functions that tests/unit/test_origin.c reaches by including this file;
 * only strategies_load touches the database and only http_fetch the
 * network. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "str.h"
#include "asset/origin_rules.h"
#include "ingest/origin.h"
#include "asset/origin_guard.h"
#include "asset/settings.h"
#include "banned.h"

static const char SQL_STRATEGIES[] = "SELECT regex, strategy, credentials FROM origin_strategies"
				     " WHERE customer_id = ? ORDER BY sort_order, created, id";

/* What the configuration allows one fetch. */
struct origin_limits {
	long connect_timeout, timeout;
	long low_speed_limit, low_speed_time;
	long max_redirects;
	long long max_bytes;
	const char *file_dirs; /* NULL: file:// refused */
	const char *user_agent;
	struct origin_guard allow; /* origin_allow_networks */
	char allow_error[200];     /* "" unless origin_allow_networks is invalid */
};

static void limits_read(const struct config *cfg, struct origin_limits *l)
{
	/* the ranges are the table's (asset/settings.c), checked at start */
	l->connect_timeout = (long)setting_int(cfg, S_ORIGIN_CONNECT_TIMEOUT);
	l->timeout = (long)setting_int(cfg, S_ORIGIN_TIMEOUT);
	l->low_speed_limit = (long)setting_int(cfg, S_ORIGIN_LOW_SPEED_LIMIT);
	l->low_speed_time = (long)setting_int(cfg, S_ORIGIN_LOW_SPEED_TIME);
	l->max_redirects = (long)setting_int(cfg, S_ORIGIN_MAX_REDIRECTS);
	l->max_bytes = setting_int(cfg, S_ORIGIN_MAX_BYTES);
	l->file_dirs = setting_str(cfg, S_ORIGIN_FILE_DIRS);
	l->user_agent = setting_str(cfg, S_ORIGIN_USER_AGENT);
	/* checked at start too: a list it refuses never gets here, but a
	 * guard other than the one configured must never fetch */
	if (origin_guard_parse(&l->allow, setting_str(cfg, S_ORIGIN_ALLOW_NETWORKS), l->allow_error,
			       sizeof l->allow_error) != 0 &&
	    !l->allow_error[0])
		xsnprintf(l->allow_error, sizeof l->allow_error,
			  "origin_allow_networks is invalid");
}

/* Error texts: curl's messages and strerror have no fixed length and the
 * field is fixed by the contract, so a long message is cut (ending "...")
 * rather than aborting as xsnprintf would. */
static enum origin_status fail(struct origin_fetch *f, enum origin_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum origin_status fail(struct origin_fetch *f, enum origin_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(f->error, sizeof f->error, fmt, ap);
	va_end(ap);
	if (n < 0)
		f->error[0] = '\0';
	else if ((size_t)n >= sizeof f->error)
		memcpy(f->error + sizeof f->error - 4, "...", 4);
	return st;
}

/* Masks every occurrence of the n bytes at secret in msg with '*' (same
 * length, in place). */
static void scrub_n(char *msg, const char *secret, size_t n)
{
	if (!secret || !n)
		return;
	for (char *p = memmem(msg, strlen(msg), secret, n); p;
	     p = memmem(p + n, strlen(p + n), secret, n))
		memset(p, '*', n);
}

static void scrub(char *msg, const char *secret)
{
	scrub_n(msg, secret, secret ? strlen(secret) : 0);
}

/* ---- URLs ---- */

enum url_kind { URL_BAD, URL_HTTP, URL_FILE };

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Which fetcher a URL goes to; URL_BAD with *why for anything else. */
static enum url_kind url_kind(const char *url, const char **why)
{
	if (!url || !*url) {
		*why = "origin URL is empty";
		return URL_BAD;
	}
	size_t n = strnlen(url, ORIGIN_URL_MAX + 1);
	if (n > ORIGIN_URL_MAX) {
		*why = "origin URL is too long";
		return URL_BAD;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
			*why = "origin URL contains spaces or control characters";
			return URL_BAD;
		}
	if (has_prefix_ci(url, "http://") || has_prefix_ci(url, "https://"))
		return URL_HTTP;
	if (has_prefix_ci(url, "file://"))
		return URL_FILE;
	*why = "origin URL scheme is not supported (use http, https or file)";
	return URL_BAD;
}

/* Masks the userinfo of an http(s) URL (user:pass of http://user:pass@host/)
 * in msg, whole and its password alone. */
static void scrub_userinfo(char *msg, const char *url)
{
	const char *auth = strstr(url, "://");
	if (!auth)
		return;
	auth += 3;
	size_t end = strcspn(auth, "/?#");
	const char *at = memrchr(auth, '@', end);
	if (!at)
		return;
	size_t len = (size_t)(at - auth);
	scrub_n(msg, auth, len);
	const char *colon = memchr(auth, ':', len);
	if (colon)
		scrub_n(msg, colon + 1, (size_t)(at - colon - 1));
}

/* The local path of a file:// URL, percent-decoded: file:///p or
 * file://localhost/p, no query or fragment, no ".." segment. NULL with *why
 * otherwise. */
static const char *file_url_path(struct arena *a, const char *url, const char **why)
{
	const char *p = url + strlen("file://");
	if (has_prefix_ci(p, "localhost/"))
		p += strlen("localhost");
	if (*p != '/') {
		*why = "file:// origins must be local paths (file:///path)";
		return NULL;
	}
	if (strpbrk(p, "?#")) {
		*why = "file:// origins cannot have a query or fragment";
		return NULL;
	}
	const char *path = url_decode(a, p, strlen(p), false);
	if (!path) {
		*why = "file:// origin has a malformed percent-escape";
		return NULL;
	}
	for (const char *s = path; *s;) {
		s += strspn(s, "/");
		size_t len = strcspn(s, "/");
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			*why = "file:// origin path must not contain '..'";
			return NULL;
		}
		s += len;
	}
	return path;
}

/* realpath() of path when it lies strictly below one of the colon-separated
 * directories (each resolved too, so a symlink anywhere in either counts
 * where it leads); NULL otherwise, including when path does not exist. */
static const char *file_resolve(struct arena *a, const char *path, const char *dirs)
{
	if (!dirs || !*dirs)
		return NULL;
	char *real = realpath(path, NULL);
	if (!real)
		return NULL;
	const char *found = NULL;
	for (const char *d = dirs; *d && !found;) {
		size_t len = strcspn(d, ":");
		if (len && d[0] == '/') {
			char *dir = realpath(arena_strndup(a, d, len), NULL);
			if (dir) {
				size_t dl = strlen(dir);
				if (dl == 1) /* "/" itself: anything but the root */
					found = real[1] ? real : NULL;
				else if (strncmp(real, dir, dl) == 0 && real[dl] == '/')
					found = real;
				free(dir);
			}
		}
		d += len;
		d += *d == ':';
	}
	found = found ? arena_strdup(a, found) : NULL;
	free(real);
	return found;
}

/* ---- the local copy ---- */

/* The destination, created or truncated; -1 with errno. Only a regular file
 * is accepted, since a failed fetch unlinks it (never /dev/something);
 * O_NONBLOCK keeps a FIFO there from hanging the open. Its mode is the
 * tiles': nginx sends the original of /file itself (X-Accel-Redirect), and
 * its workers run as another user (www-data) that reads storage_root
 * through its group; the process's umask (the units' 0027) decides the
 * rest. */
static int dest_open(const char *dest)
{
	int fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

static const char *errno_text(int err, char *buf, size_t len)
{
	return strerror_r(err, buf, len); /* GNU: returns the text */
}

static enum origin_status dest_fail(struct origin_fetch *f, int err)
{
	char eb[128];
	return fail(f, ORIGIN_LOCAL_ERROR, "could not write the local copy: %s",
		    err == EINVAL ? "not a regular file" : errno_text(err, eb, sizeof eb));
}

static enum origin_status file_fetch(struct arena *a, const struct origin_limits *l,
				     const char *url, const char *dest, struct origin_fetch *f)
{
	const char *why = NULL;
	char eb[128];
	if (!l->file_dirs)
		return fail(f, ORIGIN_BAD_URL, "file:// origins are not enabled on this server");
	const char *path = file_url_path(a, url, &why);
	if (!path)
		return fail(f, ORIGIN_BAD_URL, "%s", why);
	/* One message for "missing" and "outside" so the answer reveals nothing
	 * about files beyond the allowed directories. */
	const char *real = file_resolve(a, path, l->file_dirs);
	if (!real)
		return fail(f, ORIGIN_BAD_URL,
			    "file:// origin not found or outside the allowed directories");
	/* O_NOFOLLOW: the resolved path has no symlink left, so one now is a
	 * swap since realpath. O_NONBLOCK: a FIFO must not hang the open. */
	int src = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (src < 0)
		return errno == ENOENT || errno == ELOOP
			       ? fail(f, ORIGIN_BAD_URL,
				      "file:// origin not found or outside the allowed directories")
			       : fail(f, ORIGIN_LOCAL_ERROR,
				      "could not read the file:// origin: %s",
				      errno_text(errno, eb, sizeof eb));
	enum origin_status st = ORIGIN_OK;
	struct stat ss, ds;
	int out = -1;
	if (fstat(src, &ss) != 0 || !S_ISREG(ss.st_mode)) {
		st = fail(f, ORIGIN_BAD_URL, "file:// origin is not a regular file");
		goto done;
	}
	if (ss.st_size > l->max_bytes) {
		st = fail(f, ORIGIN_TOO_LARGE, "origin is larger than the limit of %lld bytes",
			  l->max_bytes);
		goto done;
	}
	if (stat(dest, &ds) == 0 && ds.st_dev == ss.st_dev && ds.st_ino == ss.st_ino) {
		st = fail(f, ORIGIN_LOCAL_ERROR, "the file:// origin is the destination itself");
		goto done;
	}
	if ((out = dest_open(dest)) < 0) {
		st = dest_fail(f, errno);
		goto done;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(src, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = fail(f, ORIGIN_LOCAL_ERROR, "could not read the file:// origin: %s",
				  errno_text(errno, eb, sizeof eb));
			goto done;
		}
		if (n == 0)
			break;
		if (n > l->max_bytes - f->bytes) { /* grew since fstat */
			st = fail(f, ORIGIN_TOO_LARGE,
				  "origin is larger than the limit of %lld bytes", l->max_bytes);
			goto done;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				st = fail(f, ORIGIN_LOCAL_ERROR,
					  "could not write the local copy: %s",
					  errno_text(w < 0 ? errno : EIO, eb, sizeof eb));
				goto done;
			}
			off += w;
		}
		f->bytes += n;
	}
	if (f->bytes == 0)
		st = fail(f, ORIGIN_EMPTY, "origin is empty (0 bytes)");
done:
	if (out >= 0 && close(out) != 0 && st == ORIGIN_OK)
		st = fail(f, ORIGIN_LOCAL_ERROR, "could not write the local copy: %s",
			  errno_text(errno, eb, sizeof eb));
	if (out >= 0 && st != ORIGIN_OK)
		unlink(dest);
	close(src);
	return st;
}

/* ---- credentials and strategies ---- */

/* The credentials text stored in the table. */
static const char *credentials_text(struct arena *a, const char *text, const char **user,
				    const char **password)
{
	yajl_val v = text ? json_parse(a, text, strlen(text), NULL) : NULL;
	return v ? origin_credentials_read(a, v, user, password) : "are not JSON";
}

struct strategy {
	const char *regex, *name, *credentials;
};

/* Index of the first strategy whose regex matches url (in the given order),
 * -1 when none. A pattern that does not compile, or that the API would now
 * refuse, never matches. */
static int strategy_match(const struct strategy *s, size_t n, const char *url)
{
	for (size_t i = 0; i < n; i++) {
		regex_t re;
		if (!s[i].regex || origin_regex_compile(&re, s[i].regex) != 0)
			continue;
		int rc = regexec(&re, url, 0, NULL, 0);
		regfree(&re);
		if (rc == 0)
			return (int)i;
	}
	return -1;
}

/* The customer's strategies in order; false when the database failed. */
static bool strategies_load(struct db *db, struct arena *a, int c, struct strategy **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!db || c <= 0)
		return true;
	struct db_rows *r = db_query(db, a, SQL_STRATEGIES, "i", c);
	if (!r)
		return false;
	*out = arena_alloc(a, (r->n ? r->n : 1) * sizeof **out);
	for (size_t i = 0; i < r->n; i++) {
		(*out)[i].regex = db_str(r, i, 0);
		(*out)[i].name = db_str(r, i, 1);
		(*out)[i].credentials = db_str(r, i, 2);
	}
	*n = r->n;
	return true;
}

/* ---- http(s) ---- */

struct creds {
	const char *user, *password; /* NULL: none */
};

struct sink {
	FILE *fp;
	long long bytes, max;
	bool too_large, write_failed;
	int err;
};

/* Chunked answers carry no length for CURLOPT_MAXFILESIZE to check, so the
 * cap is enforced here too. Returning short makes curl stop. */
static size_t sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t len = size * nmemb;
	if ((long long)len > s->max - s->bytes) {
		s->too_large = true;
		return 0;
	}
	if (len && fwrite(data, 1, len, s->fp) != len) {
		s->write_failed = true;
		s->err = errno ? errno : EIO;
		return 0;
	}
	s->bytes += (long long)len;
	return len;
}

static void content_type_copy(struct origin_fetch *f, const char *ct)
{
	size_t n = ct ? strlen(ct) : 0;
	if (n >= sizeof f->content_type) /* a cut media type would mislead */
		n = 0;
	memcpy(f->content_type, ct ? ct : "", n);
	f->content_type[n] = '\0';
}

static enum origin_status curl_status(CURLcode rc, const struct sink *s, long redirects,
				      const struct origin_limits *l, const char *errbuf,
				      struct origin_fetch *f)
{
	char eb[128];
	const char *msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_OK:
		return ORIGIN_OK;
	case CURLE_HTTP_RETURNED_ERROR:
		return fail(f, ORIGIN_HTTP_ERROR, "origin answered HTTP %ld", f->http_status);
	case CURLE_FILESIZE_EXCEEDED:
		return fail(f, ORIGIN_TOO_LARGE, "origin is larger than the limit of %lld bytes",
			    l->max_bytes);
	case CURLE_WRITE_ERROR:
		if (s->too_large)
			return fail(f, ORIGIN_TOO_LARGE,
				    "origin is larger than the limit of %lld bytes", l->max_bytes);
		return fail(f, ORIGIN_LOCAL_ERROR, "could not write the local copy: %s",
			    errno_text(s->write_failed ? s->err : EIO, eb, sizeof eb));
	case CURLE_UNSUPPORTED_PROTOCOL:
		return fail(f, ORIGIN_BAD_URL,
			    redirects ? "origin redirected to a scheme other than http or https"
				      : "origin URL scheme is not supported");
	case CURLE_URL_MALFORMAT:
		return fail(f, ORIGIN_BAD_URL, "origin URL is malformed");
	case CURLE_TOO_MANY_REDIRECTS:
		return fail(f, ORIGIN_UNREACHABLE, "origin redirected more than %ld times",
			    l->max_redirects);
	case CURLE_OPERATION_TIMEDOUT:
		return fail(f, ORIGIN_UNREACHABLE, "origin timed out: %s", msg);
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_NOT_BUILT_IN:
		return fail(f, ORIGIN_LOCAL_ERROR, "could not run the HTTP client: %s", msg);
	default:
		return fail(f, ORIGIN_UNREACHABLE, "origin unreachable: %s", msg);
	}
}

/* ---- the address guard ---- */

/* What the socket opener saw: the guard, the last address it refused, and
 * the redirect hops (CURLINFO_REDIRECT_COUNT) of the last refusal and of the
 * last socket it opened. A failed hop is the guard's doing when it refused
 * an address there and opened none: a name with several addresses may
 * connect to an allowed one, which then fails for reasons of its own. */
struct guard_ctx {
	const struct origin_guard *allow;
	CURL *h;
	char refused[INET6_ADDRSTRLEN + 16];
	long refused_hop, opened_hop; /* -1: none */
};

static long guard_hop(const struct guard_ctx *g)
{
	long hops = 0;
	return curl_easy_getinfo(g->h, CURLINFO_REDIRECT_COUNT, &hops) == CURLE_OK ? hops : 0;
}

/* libcurl's socket opener: every connection of the transfer (each address
 * of each redirect hop, whatever DNS answered at that moment) comes here
 * with the address it is about to connect to. A refused one gets no
 * socket, so nothing is sent to it; curl then tries the name's next
 * address, or fails with CURLE_COULDNT_CONNECT. */
static curl_socket_t guarded_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct guard_ctx *g = arg;
	char text[INET6_ADDRSTRLEN + 16];
	if (purpose != CURLSOCKTYPE_IPCXN ||
	    !origin_guard_allows(g->allow, &addr->addr, addr->addrlen, text, sizeof text)) {
		xsnprintf(g->refused, sizeof g->refused, "%s", text[0] ? text : "?");
		g->refused_hop = guard_hop(g);
		return CURL_SOCKET_BAD;
	}
	g->opened_hop = guard_hop(g);
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* The refusal, naming the hop by scheme://host[:port] of the URL curl was
 * on (never its userinfo, path or query) and the address. */
static enum origin_status guard_fail(struct origin_fetch *f, CURL *h, long redirects,
				     const char *address)
{
	char *eff = NULL, *scheme = NULL, *host = NULL, *port = NULL;
	CURLU *u = curl_url();
	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK || !eff || !u ||
	    curl_url_set(u, CURLUPART_URL, eff, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		curl_free(scheme);
		scheme = host = NULL;
	} else if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) {
		port = NULL;
	}
	enum origin_status st =
		scheme ? fail(f, ORIGIN_BAD_URL,
			      "%s%s://%s%s%s: address %s is not allowed (origin_allow_networks)",
			      redirects ? "redirect to " : "", scheme, host, port ? ":" : "",
			      port ? port : "", address)
		       : fail(f, ORIGIN_BAD_URL,
			      "address %s is not allowed (origin_allow_networks)", address);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return st;
}

/* Options are set through one latch: the first that fails stops the rest,
 * and the fetch is refused rather than run with a weaker setting. */
#define SETOPT(opt, val)                                                                           \
	do {                                                                                       \
		if (set == CURLE_OK)                                                               \
			set = curl_easy_setopt(h, opt, val);                                       \
	} while (0)

/* The options of one fetch: only http(s), at every hop; the guard on
 * every address connected to; the limits; the sink; Basic credentials
 * when the strategy gives them. CURLE_OK, or the first option that failed. */
static CURLcode http_setup(CURL *h, const struct origin_limits *l, const char *url,
			   const struct creds *cr, struct guard_ctx *guard, struct sink *s,
			   char *errbuf)
{
	CURLcode set = CURLE_OK;
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* The guard must see the origin's own addresses: no proxy, whatever
	 * http_proxy, https_proxy or all_proxy say (a proxy would be the only
	 * address connected to, and it would reach anything). */
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_OPENSOCKETFUNCTION, guarded_socket);
	SETOPT(CURLOPT_OPENSOCKETDATA, guard);
	SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(CURLOPT_MAXREDIRS, l->max_redirects);
	SETOPT(CURLOPT_CONNECTTIMEOUT, l->connect_timeout);
	SETOPT(CURLOPT_TIMEOUT, l->timeout);
	if (l->low_speed_limit > 0) {
		SETOPT(CURLOPT_LOW_SPEED_LIMIT, l->low_speed_limit);
		SETOPT(CURLOPT_LOW_SPEED_TIME, l->low_speed_time);
	}
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)l->max_bytes);
	SETOPT(CURLOPT_FAILONERROR, 1L);
	SETOPT(CURLOPT_USERAGENT, l->user_agent);
	SETOPT(CURLOPT_WRITEFUNCTION, sink_write);
	SETOPT(CURLOPT_WRITEDATA, s);
	if (cr && cr->user) {
		SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SETOPT(CURLOPT_USERNAME, cr->user);
		SETOPT(CURLOPT_PASSWORD, cr->password ? cr->password : "");
	}
	return set;
}

static enum origin_status http_fetch(const struct origin_limits *l, const char *url,
				     const struct creds *cr, const char *dest,
				     struct origin_fetch *f)
{
	char eb[128];
	CURL *h = curl_easy_init();
	struct guard_ctx guard = {.allow = &l->allow, .h = h, .refused_hop = -1, .opened_hop = -1};
	if (!h)
		return fail(f, ORIGIN_LOCAL_ERROR, "could not start the HTTP client");
	int fd = dest_open(dest);
	FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!fp) {
		int err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(dest);
		}
		curl_easy_cleanup(h);
		return dest_fail(f, err);
	}

	struct sink s = {.fp = fp, .max = l->max_bytes};
	char errbuf[CURL_ERROR_SIZE];
	errbuf[0] = '\0';
	CURLcode set = http_setup(h, l, url, cr, &guard, &s, errbuf);

	enum origin_status st;
	if (set != CURLE_OK) {
		st = fail(f, ORIGIN_LOCAL_ERROR, "could not configure the HTTP client: %s",
			  curl_easy_strerror(set));
	} else {
		CURLcode rc = curl_easy_perform(h);
		long code = 0, redirects = 0;
		char *ct = NULL;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
		if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
			ct = NULL;
		f->http_status = code;
		content_type_copy(f, ct);
		/* curl's own message is the only text not written here: keep any
		 * credential out of it, as the error ends up in the API. */
		if (cr) {
			scrub(errbuf, cr->password);
			scrub(errbuf, cr->user);
		}
		scrub_userinfo(errbuf, url);
		if (rc == CURLE_COULDNT_CONNECT && guard.refused_hop == redirects &&
		    guard.opened_hop != redirects)
			st = guard_fail(f, h, redirects, guard.refused);
		else
			st = curl_status(rc, &s, redirects, l, errbuf, f);
		/* FAILONERROR lets some statuses through (401/407 with auth); a
		 * redirect curl did not follow ends here too. */
		if (st == ORIGIN_OK && (code < 200 || code > 299))
			st = fail(f, ORIGIN_HTTP_ERROR, "origin answered HTTP %ld", code);
	}
	f->bytes = s.bytes;
	if (fclose(fp) != 0 && st == ORIGIN_OK)
		st = fail(f, ORIGIN_LOCAL_ERROR, "could not write the local copy: %s",
			  errno_text(errno, eb, sizeof eb));
	if (st == ORIGIN_OK && f->bytes == 0)
		st = fail(f, ORIGIN_EMPTY, "origin is empty (0 bytes)");
	if (st != ORIGIN_OK)
		unlink(dest);
	curl_easy_cleanup(h);
	return st;
}

#undef SETOPT

/* ---- the entry point ---- */

static enum origin_status fetch(struct db *db, struct arena *a, const struct config *cfg, int c,
				const char *url, const char *dest, struct origin_fetch *f)
{
	const char *why = NULL;
	if (!dest || !*dest)
		return fail(f, ORIGIN_LOCAL_ERROR, "no local path to fetch the origin to");
	struct origin_limits l;
	limits_read(cfg, &l);
	switch (url_kind(url, &why)) {
	case URL_BAD:
		return fail(f, ORIGIN_BAD_URL, "%s", why);
	case URL_FILE:
		return file_fetch(a, &l, url, dest, f);
	case URL_HTTP:
		break;
	}
	if (l.allow_error[0]) /* never fetch with a guard other than the one configured */
		return fail(f, ORIGIN_LOCAL_ERROR, "%s", l.allow_error);

	struct strategy *s;
	size_t n;
	if (!strategies_load(db, a, c, &s, &n))
		return fail(f, ORIGIN_LOCAL_ERROR,
			    "could not read the customer's origin strategies");
	struct creds cr = {NULL, NULL};
	int i = strategy_match(s, n, url);
	if (i >= 0 && origin_strategy_needs_credentials(s[i].name) &&
	    credentials_text(a, s[i].credentials, &cr.user, &cr.password))
		return fail(f, ORIGIN_LOCAL_ERROR,
			    "the matching origin strategy's credentials cannot be read");
	return http_fetch(&l, url, &cr, dest, f);
}

enum origin_status origin_fetch(struct db *db, struct arena *a, const struct config *cfg, int c,
				const char *url, const char *dest_path, struct origin_fetch *f)
{
	struct origin_fetch scratch;
	if (!f)
		f = &scratch;
	memset(f, 0, sizeof *f);
	struct arena *own = a ? NULL : arena_new(4096);
	enum origin_status st = fetch(db, a ? a : own, cfg, c, url, dest_path, f);
	if (own)
		arena_free(own);
	return st;
}

enum origin_status origin_copy_upload(struct arena *a, const struct config *cfg,
				      const char *upload_root, const char *upload_path,
				      const char *dest_path, struct origin_fetch *f)
{
	struct origin_fetch scratch;
	if (!f)
		f = &scratch;
	memset(f, 0, sizeof *f);
	struct origin_limits l;
	limits_read(cfg, &l);
	l.file_dirs = upload_root;
	const char *url = arena_printf(a, "file://%s", upload_path);
	return file_fetch(a, &l, url, dest_path, f);
}
