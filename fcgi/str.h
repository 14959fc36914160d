/* Strings built in an arena, and the one checked snprintf. */
#ifndef DLCS_STR_H
#define DLCS_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* A growable byte buffer owned by an arena; always NUL-terminated. */
struct sbuf {
	struct arena *arena;
	char *buf;
	size_t len, cap;
};

void sbuf_init(struct sbuf *b, struct arena *a);
void sbuf_add(struct sbuf *b, const void *data, size_t len);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* snprintf into a fixed buffer; truncation is a programming error and aborts. */
void xsnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Percent-decoding of one URL component ("+" is a space only when plus_is_space).
 * Returns NULL on a malformed escape or an encoded NUL. */
char *url_decode(struct arena *a, const char *s, size_t len, bool plus_is_space);
/* True when s[0..len) is well-formed UTF-8 (RFC 3629): no overlong form, no
 * surrogate (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or stray
 * continuation byte. A NUL byte is a character here: callers that cannot
 * hold one refuse it themselves. */
bool utf8_valid(const char *s, size_t len);
/* The length of the longest prefix of s[0..len) of at most max bytes that
 * does not end inside a UTF-8 sequence (for cutting text into messages). */
size_t utf8_prefix(const char *s, size_t len, size_t max);

/* Percent-encoding of a query-string value (RFC 3986 unreserved kept). */
char *url_encode(struct arena *a, const char *s);

/* FNV-1a of a NUL-terminated string: the hash of every table keyed by
 * strings (statement cache, credentials, responses). */
uint64_t str_hash(const char *s);

bool str_eq(const char *a, const char *b);
bool str_ieq(const char *a, const char *b);
bool str_starts(const char *s, const char *prefix);
/* Strict decimal parse of the whole string into [min,max]; false otherwise. */
bool str_to_ll(const char *s, long long min, long long max, long long *out);

#endif
