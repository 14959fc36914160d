#include <string.h>

#include "http_syntax.h"
#include "banned.h"

#define MEDIA_TYPE_MAX_BYTES 255
#define MEDIA_NAME_MAX_CHARS 127

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* tchar of RFC 9110 section 5.6.2 */
static bool is_tchar(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool http_token_valid(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar(*s))
			return false;
	return true;
}

bool http_field_value_valid(const char *s)
{
	if (!s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* restricted-name of RFC 6838 section 4.2: a letter or digit, then up to 126
 * of letters, digits and "!#$&-^_.+". Returns the length, 0 when none. */
static size_t restricted_name(const char *s)
{
	if (!is_alnum(s[0]))
		return 0;
	size_t n = 1;
	while (is_alnum(s[n]) || (s[n] && strchr("!#$&-^_.+", s[n])))
		n++;
	return n <= MEDIA_NAME_MAX_CHARS ? n : 0;
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A quoted-string (RFC 9110 section 5.6.4): qdtext and quoted-pairs of
 * visible ASCII and spaces. Returns the end past the closing quote, or NULL. */
static const char *quoted_string(const char *s)
{
	if (*s != '"')
		return NULL;
	for (s++; *s != '"'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\') {
			s++;
			c = (unsigned char)*s;
		}
		if (c < 0x20 || c == 0x7f || c >= 0x80) /* also the end of the string */
			if (c != '\t')
				return NULL;
	}
	return s + 1;
}

bool media_type_valid(const char *s)
{
	if (!s || strlen(s) > MEDIA_TYPE_MAX_BYTES)
		return false;
	size_t n = restricted_name(s);
	if (!n || s[n] != '/')
		return false;
	s += n + 1;
	if (!(n = restricted_name(s)))
		return false;
	s += n;
	for (;;) {
		s = skip_ows(s);
		if (!*s)
			return true;
		if (*s != ';')
			return false;
		s = skip_ows(s + 1);
		size_t k = 0;
		while (is_tchar(s[k]))
			k++;
		if (!k || s[k] != '=')
			return false;
		s += k + 1;
		if (*s == '"') {
			if (!(s = quoted_string(s)))
				return false;
		} else {
			size_t v = 0;
			while (is_tchar(s[v]))
				v++;
			if (!v)
				return false;
			s += v;
		}
	}
}
