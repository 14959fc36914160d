/* JSON out through yajl's generator, with the first error latched (yajl does
 * not latch: a later call could "succeed" after an earlier one failed), and
 * JSON in through yajl_tree with small typed accessors. */
#ifndef DLCS_JSON_H
#define DLCS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

struct arena;
struct jw;

/* A writer whose yajl handle is released by the arena. UTF-8 is validated. */
struct jw *jw_new(struct arena *a);
bool jw_ok(const struct jw *w);
/* The finished text (valid until the arena dies); NULL if any call failed. */
const char *jw_text(struct jw *w, size_t *len);

void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t len);
void jw_int(struct jw *w, long long v);
void jw_double(struct jw *w, double v);
/* Writes text, which must be one complete JSON value made by a writer like
 * this one (e.g. kept from an earlier request), verbatim: nothing checks it. */
void jw_raw(struct jw *w, const char *text, size_t len);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Writes a parsed value (object, array or scalar) as it is. */
void jw_value(struct jw *w, yajl_val v);
/* Parses text (a stored JSON document) and writes it; malformed text latches an error. */
void jw_json_text(struct jw *w, const char *text);

/* key + value; the *_opt forms omit the pair when the value is NULL
 * (API resources omit nulls). */
void jw_kstr(struct jw *w, const char *key, const char *s);
/* key: a JSON-LD language map of one text, {"lang": [text]} (IIIF labels). */
void jw_klang(struct jw *w, const char *key, const char *lang, const char *text);
void jw_kstr_opt(struct jw *w, const char *key, const char *s);
void jw_kint(struct jw *w, const char *key, long long v);
void jw_kbool(struct jw *w, const char *key, bool v);

/* Input limits: containers nest at most this deep (the top-level object is
 * level 1). */
#define JSON_MAX_DEPTH 64
/* Every message json_parse gives is at most this many bytes (a member name
 * in it is cut to 40 first). */
#define JSON_ERR_MAX 199

/* Input. json_parse returns the tree of text[0..len), in the arena, or NULL
 * with *err (when err is not NULL) the reason, in the arena too, never in a
 * buffer of the caller's: malformed JSON (yajl's message), a NUL byte, nesting deeper
 * than JSON_MAX_DEPTH, or a string or member name that is not strict UTF-8
 * (overlong forms, surrogates raw or as \u escapes that do not pair, code
 * points above U+10FFFF, truncated sequences) or holds \u0000; these name
 * the member (the enclosing one for a member name); anything but blanks
 * and comments after the value. Comments are allowed, as yajl_tree allowed
 * them. text needs no terminating NUL. */
yajl_val json_parse(struct arena *a, const char *text, size_t len, const char **err);
/* Member of an object by exact key, NULL when absent or obj is not an object. */
yajl_val json_get(yajl_val obj, const char *key);
/* True when v is an integer that fits long long (yajl marks it YAJL_NUMBER_INT_VALID). */
bool json_is_int(yajl_val v);
/* Serialises a tree to compact text in the arena (for storing arrays). */
const char *json_to_text(struct arena *a, yajl_val v);

#endif
