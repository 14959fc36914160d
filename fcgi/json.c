#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "banned.h"

struct jw {
	yajl_gen g;
	struct arena *arena;
	yajl_gen_status err; /* the first failure; yajl_gen_status_ok while none */
};

static void jw_release(void *p)
{
	struct jw *w = p;
	yajl_gen_free(w->g);
}

struct jw *jw_new(struct arena *a)
{
	struct jw *w = arena_alloc(a, sizeof *w);
	w->g = yajl_gen_alloc(NULL);
	if (!w->g)
		abort();
	yajl_gen_config(w->g, yajl_gen_validate_utf8, 1);
	w->arena = a;
	w->err = yajl_gen_status_ok;
	arena_cleanup(a, jw_release, w);
	return w;
}

bool jw_ok(const struct jw *w)
{
	return w->err == yajl_gen_status_ok;
}

static void latch(struct jw *w, yajl_gen_status st)
{
	if (w->err == yajl_gen_status_ok && st != yajl_gen_status_ok)
		w->err = st;
}

#define GEN(w, call)                                                                               \
	do {                                                                                       \
		if ((w)->err == yajl_gen_status_ok)                                                \
			latch((w), (call));                                                        \
	} while (0)

const char *jw_text(struct jw *w, size_t *len)
{
	const unsigned char *buf;
	size_t n;
	if (!jw_ok(w))
		return NULL;
	if (yajl_gen_get_buf(w->g, &buf, &n) != yajl_gen_status_ok)
		return NULL;
	if (len)
		*len = n;
	return arena_strndup(w->arena, (const char *)buf, n);
}

void jw_obj(struct jw *w)
{
	GEN(w, yajl_gen_map_open(w->g));
}

void jw_obj_end(struct jw *w)
{
	GEN(w, yajl_gen_map_close(w->g));
}

void jw_arr(struct jw *w)
{
	GEN(w, yajl_gen_array_open(w->g));
}

void jw_arr_end(struct jw *w)
{
	GEN(w, yajl_gen_array_close(w->g));
}

void jw_strn(struct jw *w, const char *s, size_t len)
{
	GEN(w, yajl_gen_string(w->g, (const unsigned char *)s, len));
}

void jw_str(struct jw *w, const char *s)
{
	if (!s)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void jw_key(struct jw *w, const char *key)
{
	jw_strn(w, key, strlen(key));
}

void jw_int(struct jw *w, long long v)
{
	GEN(w, yajl_gen_integer(w->g, v));
}

/* yajl_gen_number copies its text as it is, with the separator and the
 * generator's state handled like any value. */
void jw_klang(struct jw *w, const char *key, const char *lang, const char *text)
{
	jw_key(w, key);
	jw_obj(w);
	jw_key(w, lang);
	jw_arr(w);
	jw_str(w, text);
	jw_arr_end(w);
	jw_obj_end(w);
}

void jw_raw(struct jw *w, const char *text, size_t len)
{
	GEN(w, yajl_gen_number(w->g, text, len));
}

void jw_double(struct jw *w, double v)
{
	GEN(w, yajl_gen_double(w->g, v));
}

void jw_bool(struct jw *w, bool v)
{
	GEN(w, yajl_gen_bool(w->g, v));
}

void jw_null(struct jw *w)
{
	GEN(w, yajl_gen_null(w->g));
}

void jw_value(struct jw *w, yajl_val v)
{
	if (!v) {
		jw_null(w);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		jw_str(w, v->u.string);
		break;
	case yajl_t_number:
		if (v->u.number.flags & YAJL_NUMBER_INT_VALID)
			jw_int(w, v->u.number.i);
		else
			GEN(w, yajl_gen_number(w->g, v->u.number.r, strlen(v->u.number.r)));
		break;
	case yajl_t_object:
		jw_obj(w);
		for (size_t i = 0; i < v->u.object.len; i++) {
			jw_key(w, v->u.object.keys[i]);
			jw_value(w, v->u.object.values[i]);
		}
		jw_obj_end(w);
		break;
	case yajl_t_array:
		jw_arr(w);
		for (size_t i = 0; i < v->u.array.len; i++)
			jw_value(w, v->u.array.values[i]);
		jw_arr_end(w);
		break;
	case yajl_t_true:
		jw_bool(w, true);
		break;
	case yajl_t_false:
		jw_bool(w, false);
		break;
	default:
		jw_null(w);
		break;
	}
}

static yajl_val parse(struct arena *a, const char *text, size_t len, bool strict, const char **err);

void jw_json_text(struct jw *w, const char *text)
{
	/* Stored text: rows written before strict UTF-8 are served as they are. */
	yajl_val v = parse(w->arena, text ? text : "null", text ? strlen(text) : 4, false, NULL);
	if (!v && text && strcmp(text, "null") != 0) {
		latch(w, yajl_gen_invalid_string);
		return;
	}
	jw_value(w, v);
}

void jw_kstr(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void jw_kstr_opt(struct jw *w, const char *key, const char *s)
{
	if (s)
		jw_kstr(w, key, s);
}

void jw_kint(struct jw *w, const char *key, long long v)
{
	jw_key(w, key);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

/* ---- input ------------------------------------------------------------
 *
 * Request bodies and the `q` parameter are parsed with yajl's callback
 * parser into a tree of yajl_val nodes (the shape yajl_tree builds, so every
 * reader keeps using yajl_tree.h's accessors) whose memory is the arena's.
 * That is what makes the limits hold: the nesting depth is checked as each
 * container opens, so no tree deeper than JSON_MAX_DEPTH is ever built, and
 * nothing is freed recursively (yajl_tree_free recursed once per level and
 * ran a worker off its stack on a 2 MB body of brackets). Every string and
 * member name is checked as it arrives: strict UTF-8 and no NUL. */

struct jp_frame {
	yajl_val v;       /* the open object or array */
	const char *name; /* the member the container is the value of (NULL: none) */
	size_t cap;       /* slots allocated in v's keys/values */
	char *key;        /* object: the member name read, awaiting its value */
};

struct jp {
	struct arena *a;
	bool strict; /* strict UTF-8 (input); off for stored text (jw_json_text) */
	yajl_val root;
	struct jp_frame stack[JSON_MAX_DEPTH];
	int depth;
	yajl_handle h;
	bool flushing;   /* in yajl_complete_parse: offsets no longer index the text */
	size_t end;      /* where the top-level value ended; SIZE_MAX: at the end */
	long strings;    /* string tokens seen so far (names and values) */
	long bad_token;  /* the string token whose \u escapes are no UTF-16, or -1 */
	const char *err; /* why a callback stopped the parse */
};

/* Member names go into messages cut to this many bytes (at a character
 * boundary), so every message json_parse gives is short and bounded. */
#define NAME_IN_MESSAGE 40

static const char *quoted(struct jp *p, const char *name)
{
	size_t len = strlen(name);
	size_t n = utf8_prefix(name, len, NAME_IN_MESSAGE);
	return arena_printf(p->a, "'%.*s%s'", (int)n, name, n < len ? "..." : "");
}

/* The field a value being read belongs to: the member name it is the value
 * of, or, inside arrays, the member holding the array. NULL at the top. */
static const char *field(const struct jp *p)
{
	if (p->depth == 0)
		return NULL;
	const struct jp_frame *f = &p->stack[p->depth - 1];
	return f->v->type == yajl_t_object ? f->key : f->name;
}

static int jp_fail(struct jp *p, const char *msg)
{
	p->err = msg;
	return 0; /* stops yajl_parse: yajl_status_client_canceled */
}

/* The top-level value is complete: note where, for the trailing check. */
static void root_done(struct jp *p)
{
	p->end = p->flushing ? SIZE_MAX : yajl_get_bytes_consumed(p->h);
}

static int jp_add(struct jp *p, yajl_val v)
{
	if (p->depth == 0) {
		p->root = v;
		if (v->type != yajl_t_object && v->type != yajl_t_array)
			root_done(p);
		return 1;
	}
	struct jp_frame *f = &p->stack[p->depth - 1];
	bool obj = f->v->type == yajl_t_object;
	size_t len = obj ? f->v->u.object.len : f->v->u.array.len;
	if (len == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		if (obj)
			f->v->u.object.keys =
				arena_realloc(p->a, f->v->u.object.keys, len * sizeof(char *),
					      cap * sizeof(char *));
		yajl_val **values = obj ? &f->v->u.object.values : &f->v->u.array.values;
		*values = arena_realloc(p->a, *values, len * sizeof(yajl_val),
					cap * sizeof(yajl_val));
		f->cap = cap;
	}
	if (obj) {
		f->v->u.object.keys[len] = f->key;
		f->v->u.object.values[len] = v;
		f->v->u.object.len++;
		f->key = NULL;
	} else {
		f->v->u.array.values[len] = v;
		f->v->u.array.len++;
	}
	return 1;
}

static yajl_val jp_node(struct jp *p, yajl_type t)
{
	yajl_val v = arena_alloc(p->a, sizeof *v);
	v->type = t;
	return v;
}

/* Checks one string token (a value, or a member name when is_name) and
 * returns its NUL-terminated copy, or NULL after jp_fail. */
static char *jp_string(struct jp *p, const unsigned char *s, size_t len, bool is_name)
{
	long token = p->strings++;
	const char *in = is_name ? p->stack[p->depth - 1].name : field(p);
	const char *what = is_name ? (in ? arena_printf(p->a, "a member name in %s", quoted(p, in))
					 : "a member name")
				   : (in ? quoted(p, in) : "a string");
	if (token == p->bad_token) {
		jp_fail(p, arena_printf(p->a, "%s holds a \\u escape of a lone UTF-16 surrogate",
					what));
		return NULL;
	}
	if (memchr(s, '\0', len)) {
		/* yajl hands strings over NUL-terminated: an escaped U+0000
		 * would silently cut the value short. */
		jp_fail(p, arena_printf(p->a, "%s must not contain \\u0000", what));
		return NULL;
	}
	if (p->strict && !utf8_valid((const char *)s, len)) {
		jp_fail(p, arena_printf(p->a, "%s is not valid UTF-8", what));
		return NULL;
	}
	return arena_strndup(p->a, (const char *)s, len);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct jp *p = ctx;
	char *copy = jp_string(p, s, len, false);
	if (!copy)
		return 0;
	yajl_val v = jp_node(p, yajl_t_string);
	v->u.string = copy;
	return jp_add(p, v);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
	struct jp *p = ctx;
	char *copy = jp_string(p, s, len, true);
	if (!copy)
		return 0;
	p->stack[p->depth - 1].key = copy;
	return 1;
}

/* A JSON integer that fits a long long (what YAJL_NUMBER_INT_VALID means):
 * an optional '-' and digits only. */
static bool integer_of(const char *s, long long *out)
{
	bool neg = *s == '-';
	const char *d = s + neg;
	if (!*d)
		return false;
	long long v = 0;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return false;
		int digit = *d - '0';
		if (v > (LLONG_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = neg ? -v : v;
	return true;
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct jp *p = ctx;
	yajl_val v = jp_node(p, yajl_t_number);
	v->u.number.r = arena_strndup(p->a, s, len);
	if (integer_of(v->u.number.r, &v->u.number.i))
		v->u.number.flags |= YAJL_NUMBER_INT_VALID;
	char *end = NULL;
	errno = 0;
	v->u.number.d = strtod(v->u.number.r, &end);
	if (errno == 0 && end && *end == '\0')
		v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
	return jp_add(p, v);
}

static int on_open(struct jp *p, yajl_type t)
{
	if (p->depth == JSON_MAX_DEPTH)
		return jp_fail(
			p, arena_printf(p->a, "JSON nested deeper than %d levels", JSON_MAX_DEPTH));
	const char *name = field(p);
	yajl_val v = jp_node(p, t);
	if (!jp_add(p, v))
		return 0;
	p->stack[p->depth++] = (struct jp_frame){.v = v, .name = name};
	return 1;
}

static int on_start_map(void *ctx)
{
	return on_open(ctx, yajl_t_object);
}

static int on_start_array(void *ctx)
{
	return on_open(ctx, yajl_t_array);
}

static int on_close(void *ctx)
{
	struct jp *p = ctx;
	if (--p->depth == 0) /* yajl checks that brackets pair up */
		root_done(p);
	return 1;
}

static int on_null(void *ctx)
{
	struct jp *p = ctx;
	return jp_add(p, jp_node(p, yajl_t_null));
}

static int on_bool(void *ctx, int b)
{
	struct jp *p = ctx;
	return jp_add(p, jp_node(p, b ? yajl_t_true : yajl_t_false));
}

static const yajl_callbacks parse_callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_bool,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_close,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_close,
};

static int hex4(const char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* yajl decodes \u escapes of UTF-16 surrogates without checking them: a
 * lone high one becomes '?', a high one before any other \u escape a
 * wrong code point, a lone low one the bytes of a surrogate. So the escapes
 * are checked in the text itself: the ordinal of the first string token
 * (names and values, in document order, as yajl reports them) whose escapes
 * are not well-paired surrogates, or -1. The scan reads strings and comments
 * as yajl's lexer does; where the text is malformed, yajl stops at or before
 * the point where the two could disagree. */
static long bad_escape_token(const char *t, size_t len)
{
	if (!memchr(t, '\\', len))
		return -1;
	long token = 0;
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '/' && i + 1 < len && (t[i + 1] == '*' || t[i + 1] == '/')) {
			const char *close = t[i + 1] == '*' ? "*/" : "\n";
			const char *e = memmem(t + i + 2, len - i - 2, close, strlen(close));
			if (!e)
				return -1;
			i = (size_t)(e - t) + strlen(close) - 1;
			continue;
		}
		if (t[i] != '"')
			continue;
		bool high = false; /* the last character was a high surrogate escape */
		bool bad = false;
		for (i++; i < len && t[i] != '"'; i++) {
			int cp = -1;
			if (t[i] == '\\' && i + 1 < len) {
				if (t[i + 1] == 'u' && i + 5 < len)
					cp = hex4(t + i + 2);
				i += cp >= 0 ? 5 : 1;
			}
			bool low = cp >= 0xDC00 && cp <= 0xDFFF;
			if (high != low)
				bad = true;
			high = cp >= 0xD800 && cp <= 0xDBFF;
		}
		if (bad || high)
			return token;
		token++;
	}
	return -1;
}

/* True when t[0..len) holds only what yajl skips: blanks and comments. */
static bool only_blanks(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (t[i] && strchr(" \t\n\v\f\r", t[i]))
			continue;
		if (t[i] != '/' || i + 1 == len || (t[i + 1] != '*' && t[i + 1] != '/'))
			return false;
		const char *close = t[i + 1] == '*' ? "*/" : "\n";
		const char *e = memmem(t + i + 2, len - i - 2, close, strlen(close));
		if (!e)
			return t[i + 1] == '/'; /* a line comment may end the text */
		i = (size_t)(e - t) + strlen(close) - 1;
	}
	return true;
}

/* *err = msg, in the arena, cut at a character boundary to JSON_ERR_MAX
 * bytes: a message holds parts of the input (a member name, yajl's words),
 * so it is never formatted into a fixed buffer, and is always short. */
static void set_err(struct arena *a, const char **err, const char *msg)
{
	if (err)
		*err = arena_strndup(a, msg, utf8_prefix(msg, strlen(msg), JSON_ERR_MAX));
}

static void parser_release(void *h)
{
	yajl_free(h);
}

static yajl_val parse(struct arena *a, const char *text, size_t len, bool strict, const char **err)
{
	if (err)
		*err = NULL;
	if (memchr(text, '\0', len)) {
		set_err(a, err, "body contains a NUL byte");
		return NULL;
	}
	struct jp *p = arena_alloc(a, sizeof *p);
	p->a = a;
	p->strict = strict;
	p->bad_token = strict ? bad_escape_token(text, len) : -1;
	yajl_handle h = yajl_alloc(&parse_callbacks, NULL, p);
	if (!h)
		abort();
	p->h = h;
	arena_cleanup(a, parser_release, h);
	/* As yajl_tree_parse did; strings are checked here, more strictly. */
	yajl_config(h, yajl_allow_comments, 1);
	yajl_config(h, yajl_dont_validate_strings, 1);
	yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok) {
		p->flushing = true;
		st = yajl_complete_parse(h);
	}
	/* yajl ignores an unterminated string after the value ({"a":1}"...):
	 * nothing but blanks and comments may follow it. */
	if (st == yajl_status_ok && p->root &&
	    (p->end == SIZE_MAX || only_blanks(text + p->end, len - p->end)))
		return p->root;
	if (st == yajl_status_ok) {
		set_err(a, err, p->root ? "parse error: trailing garbage" : "empty JSON text");
	} else if (p->err) {
		set_err(a, err, p->err);
	} else {
		/* yajl's message spans lines and quotes the input; keep the first. */
		unsigned char *m = yajl_get_error(h, 0, NULL, 0);
		char *msg = arena_strdup(a, m ? (const char *)m : "malformed JSON");
		if (m)
			yajl_free_error(h, m);
		msg[strcspn(msg, "\n")] = '\0';
		set_err(a, err, *msg ? msg : "malformed JSON");
	}
	return NULL;
}

yajl_val json_parse(struct arena *a, const char *text, size_t len, const char **err)
{
	return parse(a, text, len, true, err);
}

yajl_val json_get(yajl_val obj, const char *key)
{
	if (!obj || obj->type != yajl_t_object)
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

bool json_is_int(yajl_val v)
{
	return v && v->type == yajl_t_number && (v->u.number.flags & YAJL_NUMBER_INT_VALID);
}

const char *json_to_text(struct arena *a, yajl_val v)
{
	struct jw *w = jw_new(a);
	jw_value(w, v);
	return jw_text(w, NULL);
}
