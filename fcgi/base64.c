#include <string.h>

#include "arena.h"
#include "base64.h"
#include "banned.h"

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *base64_decode(struct arena *a, const char *in, size_t *outlen)
{
	size_t n = strlen(in);
	while (n && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return NULL;
	char *out = arena_alloc(a, n * 3 / 4 + 1);
	size_t o = 0;
	unsigned int acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)in[i]);
		if (v < 0)
			return NULL;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

char *base64_encode(struct arena *a, const void *in, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = in;
	char *out = arena_alloc(a, (len + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = (unsigned int)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned int)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = abc[(v >> 18) & 63];
		*o++ = abc[(v >> 12) & 63];
		*o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}
