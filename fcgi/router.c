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

/* What a %d segment holds: an id (1..INT_MAX), a number that cannot be an
 * id (0, negative, too large: the client's error, 400), or no number at all
 * (another path, 404). */
enum int_seg { SEG_NOT_INT, SEG_ID, SEG_BAD_ID };

static enum int_seg int_segment(const char *s, size_t len, long long *out)
{
	size_t i = len && s[0] == '-' ? 1 : 0;
	if (i == len || len - i > 20)
		return SEG_NOT_INT;
	long long v = 0;
	bool big = false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SEG_NOT_INT;
		if (v > INT_MAX)
			big = true;
		else
			v = v * 10 + (s[i] - '0');
	}
	if (s[0] == '-' || big || v < 1 || v > INT_MAX)
		return SEG_BAD_ID;
	*out = v;
	return SEG_ID;
}

enum match { MATCH_NO, MATCH_YES, MATCH_BAD_ID };

/* Matches one pattern; fills rq's captures when `capture`. MATCH_BAD_ID:
 * the path has the pattern's shape but a %d segment is not an id; *bad is
 * that segment (index into path). */
static enum match match(const char *pattern, const struct segs *path, struct req *rq, bool capture,
			size_t *bad)
{
	struct segs pat;
	if (!split(pattern, &pat))
		return MATCH_NO;
	/* A trailing %* takes whatever segments are left, none included. */
	bool rest = pat.n && pat.len[pat.n - 1] == 2 && memcmp(pat.s[pat.n - 1], "%*", 2) == 0;
	size_t fixed = rest ? pat.n - 1 : pat.n;
	if (rest ? path->n < fixed : path->n != fixed)
		return MATCH_NO;
	size_t ni = 0, ns = 0;
	bool bad_id = false;
	for (size_t i = 0; i < fixed; i++) {
		if (pat.len[i] == 2 && pat.s[i][0] == '%' && pat.s[i][1] == 'd') {
			long long v = 0;
			enum int_seg k = int_segment(path->s[i], path->len[i], &v);
			if (k == SEG_NOT_INT || ni == REQ_MAX_ARGS)
				return MATCH_NO;
			if (k == SEG_BAD_ID && !bad_id) {
				bad_id = true;
				*bad = i;
			}
			if (capture)
				rq->ints[ni] = v;
			ni++;
		} else if (pat.len[i] == 2 && pat.s[i][0] == '%' && pat.s[i][1] == 's') {
			if (ns == REQ_MAX_ARGS)
				return MATCH_NO;
			if (capture)
				rq->strs[ns] =
					url_decode(rq->arena, path->s[i], path->len[i], false);
			ns++;
		} else if (pat.len[i] != path->len[i] ||
			   memcmp(pat.s[i], path->s[i], pat.len[i]) != 0) {
			return MATCH_NO;
		}
	}
	if (bad_id)
		return MATCH_BAD_ID;
	if (capture) {
		rq->nints = ni;
		rq->nstrs = ns;
		rq->nrest = rest ? path->n - fixed : 0;
		rq->rest = NULL;
		if (rq->nrest) {
			rq->rest = arena_alloc(rq->arena, rq->nrest * sizeof *rq->rest);
			for (size_t i = 0; i < rq->nrest; i++)
				rq->rest[i] = url_decode(rq->arena, path->s[fixed + i],
							 path->len[fixed + i], false);
		}
	}
	return MATCH_YES;
}

enum route_result router_match(const struct route *table, size_t n, struct req *rq,
			       const struct route **found, const char **detail)
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
	bool any = false, bad_id = false;
	size_t bad_seg = 0;
	for (size_t i = 0; i < n; i++) {
		size_t bad;
		enum match m = match(table[i].pattern, &path, rq, false, &bad);
		if (m == MATCH_NO)
			continue;
		if (m == MATCH_BAD_ID) {
			if (!bad_id)
				bad_seg = bad;
			bad_id = true;
			continue;
		}
		any = true;
		seen[table[i].method] = true;
		if (table[i].method == want) {
			match(table[i].pattern, &path, rq, true, &bad);
			rq->route_arg = table[i].arg;
			*found = &table[i];
			return ROUTE_FOUND;
		}
	}
	if (!any && bad_id) {
		*detail = arena_strndup(rq->arena, path.s[bad_seg], path.len[bad_seg]);
		return ROUTE_BAD_ID;
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
	*detail = b.buf;
	return ROUTE_BAD_METHOD;
}
