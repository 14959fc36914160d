/* Role URIs (asset/role_uri.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "asset/role_uri.h"
#include "banned.h"

bool role_name_valid(const char *name)
{
	size_t n = 0;
	for (const char *p = name; *p; p++, n++) {
		char ch = *p;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return n >= 1 && n <= ROLE_NAME_MAX;
}

const char *role_uri_name(struct arena *a, const char *uri, int c)
{
	const char *rest;
	if (!strncasecmp(uri, "https://", 8))
		rest = uri + 8;
	else if (!strncasecmp(uri, "http://", 7))
		rest = uri + 7;
	else
		return NULL;
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#' || *p == '\\')
			return NULL;
	const char *name = strrchr(rest, '/');
	if (!name || !role_name_valid(name + 1))
		return NULL;
	char tail[48];
	int n = snprintf(tail, sizeof tail, "/customers/%d/roles/", c);
	if (n < 0 || (size_t)n >= sizeof tail)
		return NULL;
	size_t tl = (size_t)n, before = (size_t)(name + 1 - rest);
	/* the host comes first: at least one character before the tail */
	if (before <= tl || memcmp(name + 1 - tl, tail, tl) != 0)
		return NULL;
	return arena_strdup(a, name + 1);
}
