#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

#include "arena.h"
#include "ids.h"
#include "banned.h"

bool asset_id_valid(const char *id)
{
	if (!id)
		return false;
	size_t n = strlen(id);
	if (n == 0 || n > 200)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' || c == '-' ||
			  c == '(' || c == ')';
		if (!ok)
			return false;
	}
	return strstr(id, "..") == NULL && strcmp(id, ".") != 0;
}

bool customer_name_valid(const char *name)
{
	if (!name)
		return false;
	size_t n = strlen(name);
	if (n == 0 || n > 60)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

static void random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			fputs("getrandom failed: no secure randomness\n", stderr);
			abort();
		}
		p += got;
		n -= (size_t)got;
	}
}

void uuid_make(char out[37])
{
	uuid_t u;
	/* libuuid's random generator reads /dev/urandom; ids need no secrecy but
	 * must not collide across hosts. */
	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

bool uuid_valid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

char *uuid_canonical(struct arena *a, const char *s)
{
	if (!uuid_valid(s))
		return NULL;
	char *id = arena_strdup(a, s);
	for (char *p = id; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return id;
}

void random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[64];
	size_t o = 0;
	while (nbytes) {
		size_t n = nbytes < sizeof buf ? nbytes : sizeof buf;
		random_bytes(buf, n);
		for (size_t i = 0; i < n; i++) {
			out[o++] = hex[buf[i] >> 4];
			out[o++] = hex[buf[i] & 15];
		}
		nbytes -= n;
	}
	out[o] = '\0';
}

bool hex_lower_n(const char *s, size_t n)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (i >= n || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == n;
}
