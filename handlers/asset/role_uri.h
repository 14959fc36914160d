/* Role URIs (CONTRACT section 9). A role is a name per customer; the URI
 * that assets', spaces', portal users' and auth services' roles hold is
 * {api base}/customers/{c}/roles/{name}. The base differs by host (behind
 * proxies, or with base_url unset), so the name and the customer are what
 * identify a role: every program reads a URI through role_uri_name, and
 * one of another customer is never a role of this one. */
#ifndef DLCS_ASSET_ROLE_URI_H
#define DLCS_ASSET_ROLE_URI_H

#include <stdbool.h>

struct arena;

#define ROLE_NAME_MAX 60 /* roles.name VARCHAR(60) */

/* True when name is a role's (or an auth service's) name:
 * ^[A-Za-z0-9_-]{1,60}$. */
bool role_name_valid(const char *name);

/* The role name of uri when it is an http(s) URI ending in
 * /customers/{c}/roles/{name} (c in decimal, without leading zeros), in a;
 * NULL for anything else: a URI of another customer, a bare name, a
 * query or fragment, a control character. */
const char *role_uri_name(struct arena *a, const char *uri, int c);

#endif
