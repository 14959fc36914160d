/* What the access flow's two files share (api/auth_flow.c: probe, token,
 * logout and the pages; api/auth_access.c: the access services). */
#ifndef DLCS_API_AUTH_FLOW_H
#define DLCS_API_AUTH_FLOW_H

#include <stdbool.h>

struct req;
struct sbuf;

/* s, HTML-escaped (& < > " '), appended to b. */
void html_add(struct sbuf *b, const char *s);

/* Answers status with an HTML page of title around body_html (already
 * escaped), not stored by caches, under a policy that runs inline script
 * only and loads nothing. */
int auth_page(struct req *rq, int status, const char *title, const char *body_html);

/* True when o is an origin: http(s)://host[:port], nothing else. */
bool auth_origin_valid(const char *o);

/* The Set-Cookie value of customer c's session cookie (value NULL: its
 * deletion): HttpOnly, Path=/, SameSite=None and Secure when the request's
 * base URL is https, else SameSite=Lax. */
const char *auth_cookie_header(struct req *rq, int c, const char *value);

/* The external role provider (api/auth_external.c): POSTs token (form
 * field "token") to the provider's configuration.url, with Basic
 * credentials when it has them; the answer must be a JSON array of
 * strings, returned as its text (in the request's arena). NULL when the
 * URL does not answer 200 with one within 5 seconds. svc's columns
 * cfg_col and cred_col are the provider's configuration and credentials.
 * The fetch meets the origin guard (asset/origin_guard.h) on every address
 * it connects to: a provider inside the platform's networks (loopback,
 * 10/8, 169.254.169.254, ...) is refused unless origin_allow_networks
 * opens it; then *refused is set (may be NULL) and the log names the
 * address, and no byte is sent there. */
struct db_rows;
const char *auth_external_roles(struct req *rq, const struct db_rows *svc, int cfg_col,
				int cred_col, const char *token, bool *refused);

#endif
