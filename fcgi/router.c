#include <limits.h>
#include <string.h>

#include "arena.h"
#include "router.h"
#include "str.h"
#include "banned.h"

#define MAX_SEGMENTS 16

struct segs {
	const char *s[MAX_SEGMENTS]; /* raw (still percent-encoded) */
	size_t len[MAX_SEGMENTS];
	size_t n;
};

/* Splits "/a/b/c" into segments; a single trailing '/' is ignored. False for
 * too many segments or an empty inner segment ("//"). */
static bool split(const char *path, struct segs *out)
{
	out->n = 0;
	if (path[0] != '/')
		return false;
	const char *p = path + 1;
	if (*p == '\0')
		return true; /* the root */
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0)
			return false;
		if (out->n == MAX_SEGMENTS)
			return false;
		out->s[out->n] = p;
		out->len[out->n] = len;
		out->n++;
		if (!slash)
			break;
		p = slash + 1; /* "a/" ends the loop with nothing after the slash */
	}
	return true;
}

static bool is_int_segment(const char *s, size_t len, long long *out)
{
	if (len == 0 || len > 10)
		return false;
	long long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > INT_MAX)
		return false;
	*out = v;
	return true;
}

/* Matches one pattern; fills rq's captures when `capture`. */
static bool match(const char *pattern, const struct segs *path, struct req *rq, bool capture)
{
	struct segs pat;
	if (!split(pattern, &pat) || pat.n != path->n)
		return false;
	size_t ni = 0, ns = 0;
	for (size_t i = 0; i < pat.n; i++) {
		if (pat.len[i] == 2 && pat.s[i][0] == '%' && pat.s[i][1] == 'd') {
			long long v;
			if (!is_int_segment(path->s[i], path->len[i], &v) || ni == REQ_MAX_ARGS)
				return false;
			if (capture)
				rq->ints[ni] = v;
			ni++;
		} else if (pat.len[i] == 2 && pat.s[i][0] == '%' && pat.s[i][1] == 's') {
			if (ns == REQ_MAX_ARGS)
				return false;
			if (capture)
				rq->strs[ns] =
					url_decode(rq->arena, path->s[i], path->len[i], false);
			ns++;
		} else if (pat.len[i] != path->len[i] ||
			   memcmp(pat.s[i], path->s[i], pat.len[i]) != 0) {
			return false;
		}
	}
	if (capture) {
		rq->nints = ni;
		rq->nstrs = ns;
	}
	return true;
}

enum route_result router_match(const struct route *table, size_t n, struct req *rq,
			       const struct route **found, const char **allow)
{
	struct segs path;
	if (!split(rq->path, &path))
		return ROUTE_NOT_FOUND;
	/* A segment with a malformed escape (or an encoded NUL) cannot be
	 * decoded, and one that is not UTF-8 cannot reach SQL or JSON as text:
	 * that is the client's error, not an unknown path. */
	for (size_t i = 0; i < path.n; i++) {
		const char *seg = url_decode(rq->arena, path.s[i], path.len[i], false);
		if (!seg || !utf8_valid(seg, strlen(seg)))
			return ROUTE_BAD_PATH;
	}

	enum http_method want = rq->method == M_HEAD ? M_GET : rq->method;
	bool seen[METHOD__MAX] = {false};
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (!match(table[i].pattern, &path, rq, false))
			continue;
		any = true;
		seen[table[i].method] = true;
		if (table[i].method == want) {
			match(table[i].pattern, &path, rq, true);
			*found = &table[i];
			return ROUTE_FOUND;
		}
	}
	if (!any)
		return ROUTE_NOT_FOUND;
	struct sbuf b;
	sbuf_init(&b, rq->arena);
	for (int m = 0; m < METHOD__MAX; m++) {
		if (!seen[m])
			continue;
		if (b.len)
			sbuf_adds(&b, ", ");
		sbuf_adds(&b, http_method_name((enum http_method)m));
		if (m == M_GET)
			sbuf_adds(&b, ", HEAD");
	}
	*allow = b.buf;
	return ROUTE_BAD_METHOD;
}
