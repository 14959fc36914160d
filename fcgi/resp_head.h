/* The one writer of response heads. Every header a program sends (the CGI
 * status, Content-Type, Content-Length, Location, ETag, X-Accel-Redirect,
 * the customers' custom headers) goes through resp_head_write, which never
 * writes a name that is not a token or a value with a control character:
 * one CR or LF in a stored string could otherwise add headers of its own
 * (X-Accel-Redirect to another customer's file, Set-Cookie) or end the head
 * early. */
#ifndef DLCS_RESP_HEAD_H
#define DLCS_RESP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

struct kv;
struct sbuf;

struct resp_head {
	int status;
	const char *content_type; /* NULL: application/ld+json */
	size_t content_length;
	bool has_body;            /* false for 204 and 304: no Content-Type/-Length */
	const struct kv *headers; /* in order; names compared without case */
	size_t nheaders;
};

/* Appends the CGI head of h to out (status, entity headers, h->headers,
 * "Access-Control-Allow-Origin: *" unless one is given, blank line) and
 * returns NULL; or, when any name or value may not be written, appends
 * nothing and returns the name of the first refused header (for the log). The
 * framework's own entity headers (Status, Content-Type, Content-Length) may
 * not be given in h->headers. */
const char *resp_head_write(struct sbuf *out, const struct resp_head *h);

#endif
