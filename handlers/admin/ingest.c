/* dlcs-admin ingest: a folder of files, a CSV or a list of URLs into a
 * space, through the API as any client would (direct upload for local
 * files, the queue for URLs), in batches. Resumable: asset ids come from
 * the file name or the row, never from the run, and a state file beside the
 * input records each batch confirmed; a rerun skips those batches, and in
 * the one a kill interrupted it asks the API first and registers only the
 * ids not there yet. So after kill -9 nothing is registered twice. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "base64.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "admin/commands.h"
#include "banned.h"

enum source { SRC_FOLDER, SRC_CSV, SRC_URLS };

struct item {
	const char *id;
	const char *path; /* a local file (SRC_FOLDER) */
	const char *url;  /* an origin (SRC_CSV, SRC_URLS) */
	const char *media;
};

struct ingest {
	struct arena *a;
	const char *api; /* base URL, no trailing slash */
	const char *userpwd;
	int c, s;
	enum source src;
	const char *input;
	long batch;
	struct item *items;
	size_t n, cap;
	CURL *h;
	bool tty;
};

/* FNV-1a 64: ids that must not change between runs. */
static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool id_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       strchr("._~-()", ch);
}

/* The asset id of a name: the name itself when it is a valid id, else its
 * valid characters with a digest of the whole name, so that two names never
 * meet in one id. always_hash: URLs, whose last segments often repeat. */
static const char *id_of(struct arena *a, const char *name, const char *whole, bool always_hash)
{
	size_t n = strlen(name);
	if (n > 150)
		n = 150;
	char *id = arena_strndup(a, name, n);
	bool changed = n != strlen(name) || n == 0;
	for (char *p = id; *p; p++)
		if (!id_char(*p) || (p[0] == '.' && p[1] == '.')) {
			*p = '_';
			changed = true;
		}
	if (!changed && !always_hash)
		return id;
	return arena_printf(a, "%s-%016llx", id, (unsigned long long)fnv(whole));
}

static const char *media_of(const char *name)
{
	static const char *const ext[][2] = {
		{".jpg", "image/jpeg"},  {".jpeg", "image/jpeg"}, {".png", "image/png"},
		{".tif", "image/tiff"},  {".tiff", "image/tiff"}, {".gif", "image/gif"},
		{".webp", "image/webp"}, {".jp2", "image/jp2"},   {".bmp", "image/bmp"},
		{".mp3", "audio/mpeg"},  {".wav", "audio/wav"},   {".flac", "audio/flac"},
		{".ogg", "audio/ogg"},   {".mp4", "video/mp4"},   {".webm", "video/webm"},
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
		if (!strcasecmp(dot, ext[i][0]))
			return ext[i][1];
	return "image/jpeg";
}

static void item_add(struct ingest *g, struct item it)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		g->items = arena_realloc(g->a, g->items, g->cap * sizeof *g->items,
					 cap * sizeof *g->items);
		g->cap = cap;
	}
	g->items[g->n++] = it;
}

static int name_cmp(const void *x, const void *y)
{
	return strcmp(((const struct item *)x)->path, ((const struct item *)y)->path);
}

static int read_folder(struct ingest *g)
{
	DIR *d = opendir(g->input);
	if (!d) {
		log_err("cannot open folder %s: %s", g->input, strerror(errno));
		return 1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		const char *path = arena_printf(g->a, "%s/%s", g->input, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		item_add(g,
			 (struct item){id_of(g->a, e->d_name, e->d_name, false), path, NULL, NULL});
	}
	closedir(d);
	qsort(g->items, g->n, sizeof *g->items, name_cmp);
	return 0;
}

static void url_item(struct ingest *g, const char *url, const char *id, const char *media)
{
	const char *end = url + strcspn(url, "?#");
	const char *seg = end;
	while (seg > url && seg[-1] != '/')
		seg--;
	const char *last = arena_strndup(g->a, seg, (size_t)(end - seg));
	item_add(g, (struct item){id && *id ? id : id_of(g->a, last, url, true), NULL, url,
				  media && *media ? media : media_of(last)});
}

/* URLs one a line (blank lines and # comments skipped); a CSV with a header
 * naming origin and optionally id and mediaType (no quoting). */
static int read_lines(struct ingest *g)
{
	FILE *f = fopen(g->input, "r");
	if (!f) {
		log_err("cannot open %s: %s", g->input, strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int col_id = -1, col_origin = -1, col_media = -1, lineno = 0, rc = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (memchr(line, '\0', (size_t)len)) {
			log_err("%s:%d: a NUL byte", g->input, lineno);
			rc = 1;
			break;
		}
		if (!*line || *line == '#')
			continue;
		if (g->src == SRC_URLS) {
			url_item(g, arena_strdup(g->a, line), NULL, NULL);
			continue;
		}
		char *fields[64];
		int nf = 0;
		char *p = arena_strdup(g->a, line);
		for (;;) {
			if (nf == 64)
				break;
			fields[nf++] = p;
			char *comma = strchr(p, ',');
			if (!comma)
				break;
			*comma = '\0';
			p = comma + 1;
		}
		if (col_origin < 0) { /* the header */
			for (int i = 0; i < nf; i++) {
				if (!strcmp(fields[i], "id"))
					col_id = i;
				else if (!strcmp(fields[i], "origin"))
					col_origin = i;
				else if (!strcmp(fields[i], "mediaType"))
					col_media = i;
			}
			if (col_origin < 0) {
				log_err("%s:%d: the header names no 'origin' column", g->input,
					lineno);
				rc = 1;
				break;
			}
			continue;
		}
		if (col_origin >= nf || !*fields[col_origin]) {
			log_err("%s:%d: no origin", g->input, lineno);
			rc = 1;
			break;
		}
		url_item(g, fields[col_origin], col_id >= 0 && col_id < nf ? fields[col_id] : NULL,
			 col_media >= 0 && col_media < nf ? fields[col_media] : NULL);
	}
	free(line);
	fclose(f);
	return rc;
}

struct buf {
	char *p;
	size_t n;
};

static size_t buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	if (b->n + n > (1u << 20)) /* an answer is an asset or a batch */
		return 0;
	char *p = realloc(b->p, b->n + n + 1);
	if (!p)
		return 0;
	memcpy(p + b->n, data, n);
	b->p = p;
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* One request; the HTTP status, or -1 when there was none (the error
 * logged). The answer's description goes to *why on an error status. */
static long request(struct ingest *g, const char *method, const char *url, const char *body,
		    size_t len, const char **why)
{
	struct buf b = {NULL, 0};
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_reset(g->h);
	curl_easy_setopt(g->h, CURLOPT_URL, url);
	curl_easy_setopt(g->h, CURLOPT_USERPWD, g->userpwd);
	curl_easy_setopt(g->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(g->h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(g->h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(g->h, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(g->h, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(g->h, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(g->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(g->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(g->h, CURLOPT_HTTPGET, 1L);
	}
	CURLcode cc = curl_easy_perform(g->h);
	long status = -1;
	*why = "";
	if (cc != CURLE_OK)
		log_err("%s %s: %s", method, url, curl_easy_strerror(cc));
	else
		curl_easy_getinfo(g->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 400 && b.p) {
		yajl_val j = json_parse(g->a, b.p, b.n, NULL);
		yajl_val d = j ? json_get(j, "description") : NULL;
		*why = d && YAJL_IS_STRING(d) ? arena_strdup(g->a, YAJL_GET_STRING(d)) : "";
	}
	free(b.p);
	curl_slist_free_all(hd);
	return status;
}

static const char *asset_url(struct ingest *g, const char *id)
{
	return arena_printf(g->a, "%s/customers/%d/spaces/%d/images/%s", g->api, g->c, g->s, id);
}

static const char *file_body(struct ingest *g, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = {NULL, 0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		char *p = realloc(b.p, b.n + n + 1);
		if (!p)
			break;
		memcpy(p + b.n, chunk, n);
		b.p = p;
		b.n += n;
	}
	bool bad = ferror(f) || !b.p;
	fclose(f);
	if (bad) {
		free(b.p);
		return NULL;
	}
	struct jw *w = jw_new(g->a);
	jw_obj(w);
	jw_kstr(w, "file", base64_encode(g->a, b.p, b.n));
	jw_obj_end(w);
	free(b.p);
	return jw_ok(w) ? jw_text(w, len) : NULL;
}

/* Registers the to-do items of one batch; 0, or 1 when the run must stop
 * (no answer, or a server error: a rerun tries again). *failed counts the
 * items the API refused (4xx), which a rerun would refuse again. */
static int batch_register(struct ingest *g, struct item **pending, size_t n, size_t *failed)
{
	const char *why;
	if (g->src == SRC_FOLDER) {
		for (size_t i = 0; i < n; i++) {
			size_t len;
			const char *body = file_body(g, pending[i]->path, &len);
			if (!body) {
				log_err("cannot read %s: %s", pending[i]->path, strerror(errno));
				(*failed)++;
				continue;
			}
			long st = request(g, "PUT", asset_url(g, pending[i]->id), body, len, &why);
			if (st < 0 || st >= 500) {
				if (st >= 500)
					log_err("%s: %ld %s", pending[i]->path, st, why);
				return 1;
			}
			if (st >= 400) {
				log_err("%s: refused (%ld): %s", pending[i]->path, st, why);
				(*failed)++;
			}
		}
		return 0;
	}
	if (n == 0) /* all there already: an empty batch is no batch */
		return 0;
	struct jw *w = jw_new(g->a);
	jw_obj(w);
	jw_kstr(w, "@type", "Collection");
	jw_key(w, "member");
	jw_arr(w);
	for (size_t i = 0; i < n; i++) {
		jw_obj(w);
		jw_kstr(w, "id", pending[i]->id);
		jw_kint(w, "space", g->s);
		jw_kstr(w, "origin", pending[i]->url);
		jw_kstr(w, "mediaType", pending[i]->media);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	size_t len;
	const char *body = jw_ok(w) ? jw_text(w, &len) : NULL;
	if (!body) {
		log_err("a batch could not be written as JSON (invalid UTF-8 in a row?)");
		return 1;
	}
	long st = request(g, "POST", arena_printf(g->a, "%s/customers/%d/queue", g->api, g->c),
			  body, len, &why);
	if (st == 201)
		return 0;
	if (st > 0)
		log_err("the queue refused the batch (%ld): %s", st, why);
	return 1;
}

static void progress(struct ingest *g, size_t done, long b, long nb, size_t reg, size_t skip,
		     size_t failed)
{
	if (g->tty) {
		int width = 40, fill = g->n ? (int)(done * (size_t)width / g->n) : width;
		fprintf(stderr, "\r[%.*s%*s] %zu/%zu assets, batch %ld/%ld", fill,
			"########################################", width - fill, "", done, g->n, b,
			nb);
		if (done == g->n)
			fputc('\n', stderr);
		fflush(stderr);
	} else {
		printf("batch %ld/%ld: %zu registered, %zu already there, %zu refused (%zu/%zu)\n",
		       b, nb, reg, skip, failed, done, g->n);
		fflush(stdout);
	}
}

/* The state file: a header naming the target, then "done K" per confirmed
 * batch. Returns the array of confirmed flags, NULL on a mismatch. */
static bool *state_load(struct ingest *g, const char *path, const char *header, long nb)
{
	bool *done = arena_alloc(g->a, (size_t)nb + 1);
	memset(done, 0, (size_t)nb + 1);
	FILE *f = fopen(path, "r");
	if (!f)
		return done;
	char line[256];
	if (!fgets(line, sizeof line, f) || strcmp(line, header) != 0) {
		fclose(f);
		log_err("%s records another ingest (target, batch size or input changed): "
			"remove it to start again",
			path);
		return NULL;
	}
	while (fgets(line, sizeof line, f)) {
		long k;
		if (sscanf(line, "done %ld", &k) == 1 && k >= 1 && k <= nb)
			done[k] = true;
	}
	fclose(f);
	return done;
}

static int state_append(int fd, const char *text)
{
	size_t n = strlen(text);
	return write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
}

static int run(struct ingest *g)
{
	int rc = g->src == SRC_FOLDER ? read_folder(g) : read_lines(g);
	if (rc)
		return rc;
	long nb = (long)((g->n + (size_t)g->batch - 1) / (size_t)g->batch);
	size_t in_len = strlen(g->input);
	while (in_len > 1 && g->input[in_len - 1] == '/')
		in_len--;
	const char *state = arena_printf(g->a, "%.*s.dlcs-ingest", (int)in_len, g->input);
	const char *header =
		arena_printf(g->a, "dlcs-ingest 1 %s/customers/%d/spaces/%d batch %ld items %zu\n",
			     g->api, g->c, g->s, g->batch, g->n);
	bool *done = state_load(g, state, header, nb);
	if (!done)
		return 1;
	int fd = open(state, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_err("cannot write the state file %s: %s", state, strerror(errno));
		return 1;
	}
	if (st.st_size == 0 && state_append(fd, header) != 0)
		goto write_err;
	size_t total = 0, all_failed = 0;
	for (long b = 1; b <= nb; b++) {
		size_t first = (size_t)(b - 1) * (size_t)g->batch;
		size_t n = g->n - first < (size_t)g->batch ? g->n - first : (size_t)g->batch;
		size_t reg = 0, skip = 0, failed = 0;
		if (done[b]) {
			total += n;
			skip = n;
			if (!g->tty)
				progress(g, total, b, nb, 0, skip, 0);
			continue;
		}
		/* A batch not confirmed may have been registered in part (a kill in
		 * the middle): what the API has already is left alone. */
		struct item **pending = arena_alloc(g->a, n * sizeof *pending);
		size_t nt = 0;
		for (size_t i = 0; i < n; i++) {
			const char *why;
			struct item *it = &g->items[first + i];
			long s = request(g, "GET", asset_url(g, it->id), NULL, 0, &why);
			if (s == 200) {
				skip++;
			} else if (s == 404) {
				pending[nt++] = it;
			} else {
				if (s > 0)
					log_err("GET %s: %ld %s", it->id, s, why);
				close(fd);
				return 1;
			}
		}
		if (batch_register(g, pending, nt, &failed) != 0) {
			close(fd);
			return 1;
		}
		reg = nt - failed;
		all_failed += failed;
		if (state_append(fd, arena_printf(g->a, "done %ld\n", b)) != 0)
			goto write_err;
		total += n;
		progress(g, total, b, nb, reg, skip, failed);
	}
	if (g->tty && nb == 0)
		progress(g, 0, 0, 0, 0, 0, 0);
	close(fd);
	return all_failed ? 1 : 0;
write_err:
	log_err("cannot write the state file %s: %s", state, strerror(errno));
	close(fd);
	return 1;
}

/* SPACE is C/S or a space's URI (https://host/customers/C/spaces/S), whose
 * beginning is then the API's base URL unless --api says otherwise. */
static int target_parse(struct ingest *g, const char *t)
{
	const char *p = strstr(t, "/customers/");
	char tail;
	if (p) {
		if (sscanf(p, "/customers/%d/spaces/%d%c", &g->c, &g->s, &tail) != 2)
			return -1;
		if (!g->api)
			g->api = arena_strndup(g->a, t, (size_t)(p - t));
		return 0;
	}
	return sscanf(t, "%d/%d%c", &g->c, &g->s, &tail) == 2 && g->c > 0 && g->s > 0 ? 0 : -1;
}

static const char *key_file_read(struct arena *a, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		log_err("cannot read the key file %s: %s", path, strerror(errno));
		return NULL;
	}
	char line[512];
	const char *r = NULL;
	if (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strchr(line, ':'))
			r = arena_strdup(a, line);
	}
	fclose(f);
	if (!r)
		log_err("%s holds no key:secret line", path);
	return r;
}

int admin_ingest(const struct config *cfg, char **args, int nargs)
{
	struct ingest g = {.a = arena_new(1 << 16), .batch = 100, .tty = isatty(STDERR_FILENO)};
	const char *target = NULL, *key_file = NULL;
	int rc = ADMIN_USAGE, sources = 0;
	for (int i = 0; i < nargs; i++) {
		const char *o = args[i];
		bool has_value = i + 1 < nargs;
		if (!strcmp(o, "--folder") && has_value) {
			g.src = SRC_FOLDER, g.input = args[++i], sources++;
		} else if (!strcmp(o, "--csv") && has_value) {
			g.src = SRC_CSV, g.input = args[++i], sources++;
		} else if (!strcmp(o, "--urls") && has_value) {
			g.src = SRC_URLS, g.input = args[++i], sources++;
		} else if (!strcmp(o, "--batch") && has_value) {
			char *end;
			g.batch = strtol(args[++i], &end, 10);
			if (*end || g.batch < 1 || g.batch > 10000)
				goto out;
		} else if (!strcmp(o, "--api") && has_value) {
			g.api = args[++i];
		} else if (!strcmp(o, "--key-file") && has_value) {
			key_file = args[++i];
		} else if (!strcmp(o, "--progress")) {
			g.tty = true;
		} else if (!strcmp(o, "--no-progress")) {
			g.tty = false;
		} else if (o[0] != '-' && !target) {
			target = o;
		} else {
			goto out;
		}
	}
	if (!target || sources != 1 || target_parse(&g, target) != 0)
		goto out;
	rc = 1;
	if (!g.api)
		g.api = setting_str(cfg, S_BASE_URL);
	if (!g.api || !*g.api) {
		log_err("no API URL: give --api URL, a space URI or base_url in the configuration");
		goto out;
	}
	size_t al = strlen(g.api);
	while (al && g.api[al - 1] == '/')
		al--;
	g.api = arena_strndup(g.a, g.api, al);
	const char *env = getenv("DLCS_API_CREDENTIALS");
	g.userpwd = key_file ? key_file_read(g.a, key_file) : env ? arena_strdup(g.a, env) : NULL;
	if (!g.userpwd) {
		if (!key_file)
			log_err("no credentials: give --key-file FILE (key:secret) or set "
				"DLCS_API_CREDENTIALS=key:secret");
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	g.h = curl_easy_init();
	rc = g.h ? run(&g) : 1;
	if (g.h)
		curl_easy_cleanup(g.h);
	curl_global_cleanup();
out:
	arena_free(g.a);
	return rc;
}
