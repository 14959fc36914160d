#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "json.h"
#include "req.h"
#include "banned.h"

const char *req_env(struct req *rq, const char *name)
{
	return rq->getenv ? rq->getenv(rq->env_ctx, name) : NULL;
}

const char *req_header_in(struct req *rq, const char *name)
{
	/* CGI spells request headers HTTP_ + upper case, '-' as '_'; two are bare. */
	if (str_ieq(name, "Content-Type"))
		return req_env(rq, "CONTENT_TYPE");
	if (str_ieq(name, "Content-Length"))
		return req_env(rq, "CONTENT_LENGTH");
	char key[128];
	size_t n = strlen(name);
	if (n > sizeof key - 6)
		return NULL;
	memcpy(key, "HTTP_", 5);
	for (size_t i = 0; i < n; i++)
		key[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	key[5 + n] = '\0';
	return req_env(rq, key);
}

const char *req_query(struct req *rq, const char *name)
{
	for (size_t i = 0; i < rq->nquery_params; i++)
		if (strcmp(rq->query_params[i].key, name) == 0)
			return rq->query_params[i].value;
	return NULL;
}

bool req_not_modified(struct req *rq, const char *etag)
{
	const char *inm = req_header_in(rq, "If-None-Match");
	if (!inm)
		return false;
	size_t elen = strlen(etag);
	for (const char *p = inm; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		size_t n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && strncmp(p, etag, n) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

void req_header(struct req *rq, const char *name, const char *value)
{
	if (rq->nresp_headers == rq->resp_headers_cap) {
		size_t cap = rq->resp_headers_cap ? rq->resp_headers_cap * 2 : 8;
		rq->resp_headers = arena_realloc(rq->arena, rq->resp_headers,
						 rq->resp_headers_cap * sizeof *rq->resp_headers,
						 cap * sizeof *rq->resp_headers);
		rq->resp_headers_cap = cap;
	}
	rq->resp_headers[rq->nresp_headers].key = arena_strdup(rq->arena, name);
	rq->resp_headers[rq->nresp_headers].value = arena_strdup(rq->arena, value);
	rq->nresp_headers++;
}

struct jw *req_json(struct req *rq)
{
	rq->jw = jw_new(rq->arena);
	rq->content_type = "application/ld+json";
	return rq->jw;
}

const char *req_url(struct req *rq, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *path = arena_vprintf(rq->arena, fmt, ap);
	va_end(ap);
	return arena_printf(rq->arena, "%s%s", rq->base_url ? rq->base_url : "", path);
}

int req_fail(struct req *rq, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *msg = arena_vprintf(rq->arena, fmt, ap);
	va_end(ap);
	if (rq->fail_context)
		msg = arena_printf(rq->arena, "%s: %s", rq->fail_context, msg);

	/* A half-built JSON body is thrown away: the error replaces it. */
	struct jw *w = req_json(rq);
	jw_obj(w);
	jw_kstr(w, "@context", "http://www.w3.org/ns/hydra/context.jsonld");
	jw_kstr(w, "@type", "Error");
	jw_kint(w, "statusCode", status);
	jw_kstr(w, "title", http_reason(status));
	jw_kstr(w, "description", msg);
	jw_obj_end(w);
	if (!jw_ok(w)) {
		/* The message held invalid UTF-8 (echoed input): say so plainly. */
		w = req_json(rq);
		jw_obj(w);
		jw_kstr(w, "@type", "Error");
		jw_kint(w, "statusCode", status);
		jw_kstr(w, "title", http_reason(status));
		jw_kstr(w, "description", "invalid UTF-8 in request");
		jw_obj_end(w);
	}
	rq->status = status;
	return status;
}

int req_db_fail(struct req *rq, const char *what)
{
	switch (db_last_err(rq->app->db)) {
	case DB_EDUP:
		return req_fail(rq, 409, "%s: conflicts with an existing resource", what);
	case DB_EDOWN:
		return req_fail(rq, 503, "%s: database unavailable, try again", what);
	case DB_ELOCK:
		return req_fail(rq, 503, "%s: database busy, try again", what);
	case DB_EFK:
		return req_fail(rq, 409, "%s: refers to or is referred to by another resource",
				what);
	default:
		return req_fail(rq, 500, "%s: database error", what);
	}
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Range Not Satisfiable";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 507:
		return "Insufficient Storage";
	default:
		return "Unknown";
	}
}

static const char *const method_names[METHOD__MAX] = {
	[M_GET] = "GET",     [M_HEAD] = "HEAD",     [M_POST] = "POST",       [M_PUT] = "PUT",
	[M_PATCH] = "PATCH", [M_DELETE] = "DELETE", [M_OPTIONS] = "OPTIONS",
};

const char *http_method_name(enum http_method m)
{
	return m < METHOD__MAX ? method_names[m] : "?";
}

enum http_method http_method_parse(const char *s)
{
	for (int m = 0; m < METHOD__MAX; m++)
		if (str_eq(s, method_names[m]))
			return (enum http_method)m;
	return METHOD__MAX;
}
