/* The nginx include of the customers' custom headers
 * (asset/nginx_include.h). nginx serves the open tiles and stored
 * thumbnails itself, so for those the headers are rendered into an nginx
 * include after every change, and nginx is told to reload. Role-specific
 * headers concern restricted assets only, which nginx never serves from its
 * fast path, so the rendering leaves them to the application.
 *
 * The include holds:
 *   - three regex locations, for the tiles, the stored sizes of /iiif-img
 *     and those of /thumbs, of each customer (and of each space) that has
 *     headers, placed before the generic fast-path locations of
 *     nginx/dlcs.conf (the first matching regex location wins): the same
 *     fast paths plus that customer's headers (add_header in a location
 *     replaces the inherited list, so CORS and Cache-Control are repeated);
 *   - the internal location for the application's X-Accel-Redirect files.
 *     nginx drops an upstream's own headers when it follows X-Accel-Redirect
 *     (it keeps Content-Type, Cache-Control, Expires, Content-Disposition,
 *     Set-Cookie, Accept-Ranges), so every key any customer uses is added
 *     back from the application's response ($upstream_http_<key>; an empty
 *     variable adds nothing). This is why keys are limited to letters,
 *     digits and '-': each must map to an nginx variable name.
 *
 * Values are written as nginx double-quoted strings ('"' and '\' escaped).
 * nginx expands "$name" in add_header values and has no escape for '$', so
 * values containing '$' are refused by the API. Control characters (CR, LF,
 * NUL...) are refused too: they would split or end the header. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "ids.h"
#include "log.h"
#include "str.h"
#include "asset/custom_header_rules.h"
#include "asset/nginx_include.h"
#include "asset/settings.h"
#include "banned.h"

/* Alternatives of customers or spaces in one generated location regex; the
 * whole regex must stay under nginx's 4096-byte token limit. */
#define ALT_MAX_BYTES 2500

/* Cache lifetime of images (delivery.md); keep in step with nginx/dlcs.conf. */
#define IMAGE_CACHE_CONTROL "public, max-age=31536000"

/* Everything the include needs, one customer after the other, each
 * customer's customer-wide headers first, then by space. */
static const char SQL_RENDER[] =
	"SELECT h.customer_id, c.name, h.space_id, h.role, h.header_key,"
	" h.header_value FROM custom_headers h"
	" JOIN customers c ON c.id = h.customer_id"
	" ORDER BY h.customer_id, h.space_id IS NOT NULL, h.space_id, h.created, h.id";

/* Headers nginx keeps from the application's response when it follows
 * X-Accel-Redirect: no need to add them back. */
static const char *const ACCEL_KEPT[] = {"Cache-Control", "Content-Disposition", "Expires", NULL};
/* Headers the /dlcs-storage/ location takes back from the application's
 * response for every file (nginx/dlcs.conf): never a second time. */
static const char *const ACCEL_PASSED[] = {"X-Content-Type-Options", "Content-Security-Policy",
					   NULL};

/* True when nginx puts key on the answer of an X-Accel-Redirect file by
 * itself (ACCEL_KEPT, ACCEL_PASSED): no need to add it back. */
static bool accel_kept(const char *key)
{
	for (const char *const *l = ACCEL_KEPT; *l; l++)
		if (str_ieq(*l, key))
			return true;
	for (const char *const *l = ACCEL_PASSED; *l; l++)
		if (str_ieq(*l, key))
			return true;
	return false;
}

/* The fast paths of nginx/dlcs.conf, with the customer (and space)
 * alternatives in place. Keep them in step with nginx/dlcs.conf. The
 * captures are named because the method check's regular expression resets
 * $1..$9. Canonical tile URLs: */
#define TILE_REGEX_FMT                                                                             \
	"^/iiif-img/(?:v[23]/)?(?<dlcs_c>%s)/(?<dlcs_s>%s)/(?<dlcs_id>[^/]+)/"                     \
	"(?<dlcs_region>\\d+,\\d+,\\d+,\\d+)/(?<dlcs_w>\\d+),\\d*/0/default\\.jpg$"
#define TILE_FILE "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/tiles/${dlcs_region}_$dlcs_w.jpg"
/* Stored sizes by their aliases (asset/thumb_alias.h): /iiif-img's in full/
 * ("full" for 2.1 only), */
#define SIZE_REGEX_FMT                                                                             \
	"^/iiif-img/(?:v2/|(?:v3/)?(?![^/]+/\\d+/[^/]+/full/full/))(?<dlcs_c>%s)/(?<dlcs_s>%s)/"   \
	"(?<dlcs_id>[^/]+)/full/(?<dlcs_size>!?\\d+,\\d+|\\d+,|,\\d+|max|full)/0/default\\.jpg$"
#define SIZE_FILE "public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/full/$dlcs_size.jpg"
/* and /thumbs's in thumbs/. */
#define THUMB_REGEX_FMT                                                                            \
	"^/thumbs/(?:v2/)?(?<dlcs_c>%s)/(?<dlcs_s>%s)/(?<dlcs_id>[^/]+)/full/"                     \
	"(?<dlcs_size>!?\\d+,\\d+|\\d+,|,\\d+)/0/default\\.jpg$"
#define THUMB_FILE "public/thumbs/$dlcs_c/$dlcs_s/$dlcs_id/thumbs/$dlcs_size.jpg"
/* How each serves its file, as in nginx/dlcs.conf: GET and HEAD only, a
 * missing file to dlcs-image, and the server level's error pages again (an
 * error_page in a location replaces the inherited list). */
#define FAST_SERVE(file)                                                                           \
	"    alias $dlcs_storage/" file ";\n"                                                      \
	"    if ($request_method !~ ^(?:GET|HEAD)$) {\n"                                           \
	"        return 405;\n"                                                                    \
	"    }\n"                                                                                  \
	"    error_page 404 = @dlcs_image;\n"                                                      \
	"    log_not_found off;\n"                                                                 \
	"    error_page 400 /dlcs-error/400;\n"                                                    \
	"    error_page 405 /dlcs-error/405;\n"                                                    \
	"    error_page 408 /dlcs-error/408;\n"                                                    \
	"    error_page 411 /dlcs-error/411;\n"                                                    \
	"    error_page 413 /dlcs-error/413;\n"                                                    \
	"    error_page 414 /dlcs-error/414;\n"                                                    \
	"    error_page 494 =431 /dlcs-error/431;\n"                                               \
	"    error_page 500 /dlcs-error/500;\n"                                                    \
	"    error_page 501 /dlcs-error/501;\n"                                                    \
	"    error_page 502 /dlcs-error/502;\n"                                                    \
	"    error_page 503 /dlcs-error/503;\n"                                                    \
	"    error_page 504 /dlcs-error/504;\n"
/* What all three have after that (then the Cache-Control and the headers:
 * fast_body). No open_file_cache, as in nginx/dlcs.conf: a restriction must
 * reach nginx at once. */
#define FAST_BODY "    add_header Access-Control-Allow-Origin \"*\" always;\n"

/* One row of the rendering query. */
struct rrow {
	int c;
	const char *name;
	bool has_space;
	int s;
	const char *role;
	const char *key, *value;
};

/* A location to write: the customer and space alternatives and the body. */
struct rloc {
	int c; /* first customer, for a stable order */
	bool space_level;
	const char *calt; /* "5|acme" */
	const char *salt; /* "3|4", or "\\d+" for customer-wide */
	const char *body;
};

/* Appends value as an nginx double-quoted string. */
static void nginx_quote(struct sbuf *b, const char *value)
{
	sbuf_addc(b, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_addc(b, '\\');
		sbuf_addc(b, *p);
	}
	sbuf_addc(b, '"');
}

/* The fast-path locations' body after FAST_SERVE, for headers
 * h[0..n). A custom Cache-Control replaces the platform's. */
static const char *fast_body(struct arena *a, const struct custom_header *h, size_t n)
{
	struct sbuf b;
	sbuf_init(&b, a);
	sbuf_adds(&b, FAST_BODY);
	bool cache_control = false;
	for (size_t i = 0; i < n; i++)
		cache_control |= str_ieq(h[i].key, "Cache-Control");
	if (!cache_control)
		sbuf_adds(&b, "    add_header Cache-Control \"" IMAGE_CACHE_CONTROL "\";\n");
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(&b, "    add_header %s ", h[i].key);
		nginx_quote(&b, h[i].value);
		sbuf_adds(&b, " always;\n");
	}
	return b.buf;
}

/* "5|acme": the customer's id, and its name when the name can be a path
 * segment of its own (not all digits: that would be another customer's id),
 * with the regex metacharacter '.' escaped. */
static const char *customer_alt(struct arena *a, int c, const char *name)
{
	struct sbuf b;
	sbuf_init(&b, a);
	sbuf_printf(&b, "%d", c);
	if (name && *name && strspn(name, "0123456789") != strlen(name) &&
	    customer_name_valid(name)) {
		sbuf_addc(&b, '|');
		for (const char *p = name; *p; p++) {
			if (*p == '.')
				sbuf_addc(&b, '\\');
			sbuf_addc(&b, *p);
		}
	}
	return b.buf;
}

/* The tile and the two stored-size locations of customers calt, spaces salt. */
static void write_location(struct sbuf *out, const char *comment, const char *calt,
			   const char *salt, const char *body)
{
	sbuf_printf(out,
		    "# %s: tiles\nlocation ~ \"" TILE_REGEX_FMT
		    "\" {\n" FAST_SERVE(TILE_FILE) "%s}\n\n",
		    comment, calt, salt, body);
	sbuf_printf(out,
		    "# %s: stored sizes\nlocation ~ \"" SIZE_REGEX_FMT
		    "\" {\n" FAST_SERVE(SIZE_FILE) "%s}\n\n",
		    comment, calt, salt, body);
	sbuf_printf(out,
		    "# %s: thumbnails\nlocation ~ \"" THUMB_REGEX_FMT
		    "\" {\n" FAST_SERVE(THUMB_FILE) "%s}\n\n",
		    comment, calt, salt, body);
}

static int rloc_cmp(const void *pa, const void *pb)
{
	const struct rloc *x = pa, *y = pb;
	int d = strcmp(x->body, y->body);
	return d ? d : (x->c > y->c) - (x->c < y->c);
}

static int key_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct custom_header *)pa)->value,
		      ((const struct custom_header *)pb)->value);
}

/* The lower-case key with '-' as '_': its nginx $upstream_http_ name. */
static const char *upstream_var(struct arena *a, const char *key)
{
	char *v = arena_strdup(a, key);
	for (char *p = v; *p; p++)
		*p = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
	return v;
}

/* The internal location of X-Accel-Redirect files, with every key put
 * back from the application's response. Keep in step with the
 * /dlcs-storage/ location of nginx/dlcs.conf, which it overrides. */
static void write_accel_location(struct sbuf *out, struct arena *a, const struct rrow *rows,
				 size_t nrows)
{
	struct custom_header *keys = arena_alloc(a, (nrows + 1) * sizeof *keys);
	size_t nkeys = 0; /* .key: the first spelling seen; .value: its variable name */
	for (size_t i = 0; i < nrows; i++) {
		if (accel_kept(rows[i].key))
			continue;
		const char *var = upstream_var(a, rows[i].key);
		bool seen = false;
		for (size_t j = 0; j < nkeys && !seen; j++)
			seen = strcmp(keys[j].value, var) == 0;
		if (!seen)
			keys[nkeys++] = (struct custom_header){rows[i].key, var};
	}
	qsort(keys, nkeys, sizeof *keys, key_cmp);
	sbuf_adds(out,
		  "# Files the application answers with X-Accel-Redirect: nginx drops the\n"
		  "# application's own headers then, so the custom ones are taken back.\n"
		  "location ~ ^/dlcs-storage/(.+)$ {\n"
		  "    internal;\n"
		  "    alias $dlcs_storage/$1;\n"
		  "    open_file_cache max=20000 inactive=60s;\n"
		  "    open_file_cache_valid 5s;\n"
		  "    add_header Access-Control-Allow-Origin \"*\" always;\n"
		  "    add_header X-Content-Type-Options $upstream_http_x_content_type_options"
		  " always;\n"
		  "    add_header Content-Security-Policy $upstream_http_content_security_policy"
		  " always;\n");
	for (size_t i = 0; i < nkeys; i++)
		sbuf_printf(out, "    add_header %s $upstream_http_%s always;\n", keys[i].key,
			    keys[i].value);
	sbuf_adds(out, "}\n\n");
}

/* Writes the fast-path locations locs[0..nlocs): space locations first
 * (they are more specific than their customer's), in customer order; then
 * the customer-wide ones, customers with the same headers sharing a
 * location. */
static void write_fast_locations(struct sbuf *out, struct arena *a, struct rloc *locs, size_t nlocs)
{
	for (size_t k = 0; k < nlocs; k++) {
		if (!locs[k].space_level)
			continue;
		const char *comment =
			arena_printf(a, "customer %d, space(s) %s", locs[k].c, locs[k].salt);
		write_location(out, comment, locs[k].calt, locs[k].salt, locs[k].body);
	}
	struct rloc *wide = arena_alloc(a, (nlocs + 1) * sizeof *wide);
	size_t nw = 0;
	for (size_t k = 0; k < nlocs; k++)
		if (!locs[k].space_level)
			wide[nw++] = locs[k];
	qsort(wide, nw, sizeof *wide, rloc_cmp);
	for (size_t k = 0; k < nw;) {
		struct sbuf alt;
		sbuf_init(&alt, a);
		sbuf_adds(&alt, wide[k].calt);
		size_t g = k + 1;
		while (g < nw && strcmp(wide[g].body, wide[k].body) == 0 &&
		       alt.len + strlen(wide[g].calt) < ALT_MAX_BYTES) {
			sbuf_addc(&alt, '|');
			sbuf_adds(&alt, wide[g].calt);
			g++;
		}
		write_location(out, arena_printf(a, "customer(s) %s", alt.buf), alt.buf, "\\d+",
			       wide[k].body);
		k = g;
	}
}

/* Builds the whole include from the rendering query's rows. */
static const char *render_text(struct arena *a, const struct rrow *rows, size_t nrows)
{
	struct sbuf out;
	sbuf_init(&out, a);
	sbuf_adds(&out,
		  "# Custom headers of the DLCS customers, for the responses nginx makes itself.\n"
		  "# GENERATED from the database by dlcs-api on every change to\n"
		  "# /customers/{c}/customHeaders and by `dlcs-admin render-headers`; every\n"
		  "# edit here is lost on the next change. Put headers of your own in your\n"
		  "# server block instead. Include this file in the server block BEFORE\n"
		  "# nginx/dlcs.conf: its regex locations must be tried before dlcs.conf's.\n\n");

	write_accel_location(&out, a, rows, nrows);

	/* Fast-path locations: per customer, the customer-wide headers, then each
	 * space's on top of them (role-specific rows are the application's). */
	struct rloc *locs = arena_alloc(a, (nrows + 1) * sizeof *locs);
	size_t nlocs = 0;
	struct custom_header *h = arena_alloc(a, (nrows + 1) * sizeof *h);
	for (size_t i = 0; i < nrows;) {
		size_t end = i;
		while (end < nrows && rows[end].c == rows[i].c)
			end++;
		int c = rows[i].c;
		const char *calt = customer_alt(a, c, rows[i].name);
		size_t nwide = 0;
		size_t j = i;
		for (; j < end && !rows[j].has_space; j++)
			if (!rows[j].role)
				custom_header_set(h, &nwide, rows[j].key, rows[j].value);
		struct custom_header *cwide = arena_alloc(a, (nwide + 1) * sizeof *cwide);
		memcpy(cwide, h, nwide * sizeof *h);
		if (nwide)
			locs[nlocs++] =
				(struct rloc){c, false, calt, "\\d+", fast_body(a, cwide, nwide)};
		/* Spaces, in id order; spaces with the same headers share a location. */
		size_t first_space_loc = nlocs;
		while (j < end) {
			int s = rows[j].s;
			size_t n = nwide;
			memcpy(h, cwide, nwide * sizeof *h);
			bool any = false;
			for (; j < end && rows[j].s == s; j++) {
				if (rows[j].role)
					continue;
				custom_header_set(h, &n, rows[j].key, rows[j].value);
				any = true;
			}
			if (!any)
				continue;
			const char *body = fast_body(a, h, n);
			const char *sid = arena_printf(a, "%d", s);
			size_t k = first_space_loc;
			while (k < nlocs && (strcmp(locs[k].body, body) != 0 ||
					     strlen(locs[k].salt) + strlen(sid) >= ALT_MAX_BYTES))
				k++;
			if (k < nlocs)
				locs[k].salt = arena_printf(a, "%s|%s", locs[k].salt, sid);
			else
				locs[nlocs++] = (struct rloc){c, true, calt, sid, body};
		}
		i = end;
	}

	write_fast_locations(&out, a, locs, nlocs);
	return out.buf;
}

static int write_file_atomically(struct arena *a, const char *path, const char *text)
{
	char rnd[9];
	random_hex(rnd, 4);
	const char *tmp = arena_printf(a, "%s.%d.%s.tmp", path, (int)getpid(), rnd);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("custom headers: cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) != 0 || done != len || rename(tmp, path) != 0) {
		log_err("custom headers: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The text of the include, from the table; NULL after logging. */
static const char *render(struct db *db, struct arena *a)
{
	struct db_rows *r = db_query(db, a, SQL_RENDER, "");
	if (!r) {
		log_err("custom headers: cannot read them: %s", db_last_msg(db));
		return NULL;
	}
	struct rrow *rows = arena_alloc(a, (r->n + 1) * sizeof *rows);
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const char *key = db_str(r, i, 4), *value = db_str(r, i, 5);
		/* Rows written before a rule changed are left out rather than
		 * allowed to act or to break nginx's configuration. */
		if (custom_header_row_refused((int)db_int(r, i, 0), key, value))
			continue;
		rows[n++] = (struct rrow){
			.c = (int)db_int(r, i, 0),
			.name = db_str(r, i, 1),
			.has_space = !db_isnull(r, i, 2),
			.s = (int)db_int(r, i, 2),
			.role = db_str(r, i, 3),
			.key = key,
			.value = value,
		};
	}
	return render_text(a, rows, n);
}

/* True when the file at path holds exactly text. */
static bool file_holds(const char *path, const char *text)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t len = strlen(text), off = 0;
	char buf[4096];
	bool same = true;
	size_t got;
	while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
		same = off + got <= len && memcmp(buf, text + off, got) == 0;
		off += got;
	}
	same = same && !ferror(f) && off == len;
	fclose(f);
	return same;
}

int custom_headers_render(struct db *db, struct arena *a, const char *path)
{
	const char *text = render(db, a);
	return text ? write_file_atomically(a, path, text) : -1;
}

/* SIGHUP to the nginx master of pid_file: it re-reads its configuration,
 * the include with it. The pid is checked to be an nginx process first, so
 * a stale pid file never signals a stranger. */
static int nginx_reload(const char *pid_file)
{
	FILE *f = fopen(pid_file, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0; /* nginx is not running: it reads the file when it starts */
		log_err("custom headers: cannot read %s: %s", pid_file, strerror(errno));
		return -1;
	}
	long pid = 0;
	int got = fscanf(f, "%ld", &pid);
	fclose(f);
	if (got != 1 || pid <= 1)
		return 0;
	char comm_path[64], comm[64] = "";
	xsnprintf(comm_path, sizeof comm_path, "/proc/%ld/comm", pid);
	f = fopen(comm_path, "r");
	if (f) {
		if (!fgets(comm, sizeof comm, f))
			comm[0] = '\0';
		fclose(f);
	}
	if (strncmp(comm, "nginx", 5) != 0)
		return 0; /* a stale pid file: nothing runs to reload */
	if (kill((pid_t)pid, SIGHUP) != 0) {
		log_err("custom headers: cannot signal nginx (pid %ld): %s", pid, strerror(errno));
		return -1;
	}
	return 0;
}

int custom_headers_publish(struct db *db, struct arena *a, const struct config *cfg)
{
	const char *path = setting_str(cfg, S_NGINX_CUSTOM_HEADERS);
	if (!path || !*path)
		return 0;
	/* One renderer at a time on this host, each reading the table after
	 * the one before it wrote: the last file written is the newest. */
	const char *lock = arena_printf(a, "%s.lock", path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("custom headers: cannot open %s: %s", lock, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	/* A reload costs: nginx starts new workers, and the old ones close the
	 * kept-alive client connections they hold once their requests end. So
	 * nothing happens when the text is the same (a change that only
	 * concerns role-specific values, say). */
	int rc = 0;
	const char *text = render(db, a);
	if (!text)
		rc = -1;
	else if (!file_holds(path, text))
		rc = write_file_atomically(a, path, text);
	else
		text = NULL;
	const char *pid_file = setting_str(cfg, S_NGINX_PID_FILE);
	if (rc == 0 && text && pid_file && *pid_file)
		rc = nginx_reload(pid_file);
	close(fd); /* releases the lock */
	return rc;
}
