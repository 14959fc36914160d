#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

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

void jw_json_text(struct jw *w, const char *text)
{
	char err[128];
	yajl_val v = json_parse(w->arena, text ? text : "null", text ? strlen(text) : 4, err,
				sizeof err);
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

static void tree_release(void *p)
{
	yajl_tree_free(p);
}

/* yajl_tree hands strings over NUL-terminated, so an escaped U+0000 would
 * silently cut a value short: such documents are refused, naming the member
 * that holds the string. Runs on text yajl has already accepted. */
static bool find_escaped_nul(const char *text, size_t len, char *key, size_t keylen)
{
	enum { DEPTH = 64 };
	const char *keys[DEPTH]; /* the member key each open container belongs to */
	size_t key_lens[DEPTH];
	int depth = 0;
	const char *cur = "", *last_str = "";
	size_t cur_len = 0, last_len = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '"') {
			size_t start = i + 1;
			bool nul = false;
			for (i = start; i < len && text[i] != '"'; i++)
				if (text[i] == '\\' && i + 1 < len) {
					if (text[i + 1] == 'u' && i + 5 < len &&
					    memcmp(text + i + 2, "0000", 4) == 0)
						nul = true;
					i++;
				}
			if (nul) {
				/* A key holding NUL names itself; a value names its key. */
				bool is_key = false;
				for (size_t j = i + 1; j < len; j++) {
					if (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' ||
					    text[j] == '\r')
						continue;
					is_key = text[j] == ':';
					break;
				}
				const char *k = is_key ? "(a member name)" : cur;
				size_t kl = is_key ? strlen(k) : cur_len;
				if (kl >= keylen)
					kl = keylen - 1;
				memcpy(key, k, kl);
				key[kl] = '\0';
				return true;
			}
			last_str = text + start;
			last_len = i - start;
		} else if (c == ':') {
			cur = last_str;
			cur_len = last_len;
		} else if (c == '{' || c == '[') {
			if (depth < DEPTH) {
				keys[depth] = cur;
				key_lens[depth] = cur_len;
			}
			depth++;
			if (c == '{') {
				cur = "";
				cur_len = 0;
			}
		} else if (c == '}' || c == ']') {
			depth--;
			if (depth >= 0 && depth < DEPTH) {
				cur = keys[depth];
				cur_len = key_lens[depth];
			}
		}
	}
	return false;
}

yajl_val json_parse(struct arena *a, const char *text, size_t len, char *err, size_t errlen)
{
	/* yajl_tree_parse wants a NUL-terminated string; an embedded NUL would
	 * silently end the document early, so refuse it. */
	if (memchr(text, '\0', len)) {
		xsnprintf(err, errlen, "body contains a NUL byte");
		return NULL;
	}
	const char *copy = text[len] == '\0' ? text : arena_strndup(a, text, len);
	char ebuf[256];
	ebuf[0] = '\0';
	yajl_val v = yajl_tree_parse(copy, ebuf, sizeof ebuf);
	if (!v) {
		/* yajl's message spans lines and quotes the input; keep the first line. */
		char *nl = strchr(ebuf, '\n');
		if (nl)
			*nl = '\0';
		xsnprintf(err, errlen, "%.*s", (int)(errlen > 40 ? errlen - 40 : 1),
			  ebuf[0] ? ebuf : "malformed JSON");
		return NULL;
	}
	arena_cleanup(a, tree_release, v);
	char key[64];
	if (find_escaped_nul(copy, len, key, sizeof key)) {
		xsnprintf(err, errlen, "'%s' must not contain \\u0000", key);
		return NULL;
	}
	return v;
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
