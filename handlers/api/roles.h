/* Roles as other resources refer to them (api/roles.c). */
#ifndef DLCS_API_ROLES_H
#define DLCS_API_ROLES_H

#include <stddef.h>

struct req;

/* The URI of customer c's role `name`, with the request's base. */
const char *role_uri(struct req *rq, int c, const char *name);

/* 0 when each of uris[0..n) is the URI of one of customer c's roles, with
 * names[i] (when names is not NULL) its name; else the 400 that names the
 * body's key and the value (a URI of another customer, an unknown role,
 * not a role URI), or a database failure. */
int roles_check(struct req *rq, int c, const char *key, const char *const *uris, size_t n,
		const char **names);

/* The auth service a body's link `link` names: a URI ending in
 * /customers/{c}/authServices/{name}, or the bare name. 0 with *out the
 * name, or the 400 naming key. */
int auth_service_link(struct req *rq, int c, const char *key, const char *link, const char **out);

#endif
