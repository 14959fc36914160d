/* handlers/api/openapi.json against the route table (handlers/api/routes.c):
 * every route is documented, with its method, and nothing documented is
 * not routed. Paths are compared with each {parameter} and each %d, %s or
 * %* (the remaining segments) of a route as one placeholder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "check.h"
#include "router.h"
#include "api/openapi.h"
#include "api/routes.h"

static const char *const METHODS[] = {"get",    "put",  "post",    "patch",
				      "delete", "head", "options", "trace"};

/* path with "{name}" and "%d"/"%s"/"%*" each as "*" (into out, of size n). */
static void shape(const char *path, char *out, size_t n)
{
	size_t k = 0;
	for (const char *p = path; *p && k + 1 < n; p++) {
		if (*p == '{') {
			const char *e = strchr(p, '}');
			if (!e)
				break;
			out[k++] = '*';
			p = e;
		} else if (*p == '%' && (p[1] == 'd' || p[1] == 's' || p[1] == '*')) {
			out[k++] = '*';
			p++;
		} else {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
}

static const char *method_name(enum http_method m)
{
	switch (m) {
	case M_GET:
		return "get";
	case M_PUT:
		return "put";
	case M_POST:
		return "post";
	case M_PATCH:
		return "patch";
	case M_DELETE:
		return "delete";
	default:
		return "?";
	}
}

/* The documented operation of the route's shape and method, or NULL. */
static yajl_val find_op(yajl_val paths, const struct route *r)
{
	char want[512], got[512];
	shape(r->pattern, want, sizeof want);
	for (size_t i = 0; i < YAJL_GET_OBJECT(paths)->len; i++) {
		shape(YAJL_GET_OBJECT(paths)->keys[i], got, sizeof got);
		if (strcmp(want, got) != 0)
			continue;
		const char *m[] = {method_name(r->method), NULL};
		return yajl_tree_get(YAJL_GET_OBJECT(paths)->values[i], m, yajl_t_object);
	}
	return NULL;
}

static bool routed(const char *path, const char *method)
{
	char want[512], got[512];
	shape(path, want, sizeof want);
	for (size_t i = 0; i < api_routes_count; i++) {
		shape(api_routes[i].pattern, got, sizeof got);
		if (strcmp(want, got) == 0 &&
		    strcmp(method_name(api_routes[i].method), method) == 0)
			return true;
	}
	return false;
}

int main(void)
{
	char err[256];
	yajl_val doc = yajl_tree_parse(openapi_json, err, sizeof err);
	CHECK(doc != NULL);
	if (!doc) {
		fprintf(stderr, "handlers/api/openapi.json: %s\n", err);
		return check_done();
	}
	const char *version[] = {"openapi", NULL};
	const char *v = YAJL_GET_STRING(yajl_tree_get(doc, version, yajl_t_string));
	CHECK(v && strncmp(v, "3.", 2) == 0);
	const char *pk[] = {"paths", NULL};
	yajl_val paths = yajl_tree_get(doc, pk, yajl_t_object);
	CHECK(paths != NULL);
	if (!paths)
		return check_done();

	/* every route is documented: an operation with responses, anonymous
	 * routes with an empty security list */
	for (size_t i = 0; i < api_routes_count; i++) {
		const struct route *r = &api_routes[i];
		yajl_val op = find_op(paths, r);
		CHECK(op != NULL);
		if (!op) {
			fprintf(stderr, "  not documented: %s %s\n", method_name(r->method),
				r->pattern);
			continue;
		}
		const char *resp[] = {"responses", NULL}, *sec[] = {"security", NULL};
		CHECK(yajl_tree_get(op, resp, yajl_t_object) != NULL);
		yajl_val s = yajl_tree_get(op, sec, yajl_t_array);
		bool anonymous = s && YAJL_GET_ARRAY(s)->len == 0;
		CHECK(anonymous == ((r->flags & R_ANON) != 0));
		if (anonymous != ((r->flags & R_ANON) != 0))
			fprintf(stderr, "  security differs: %s %s\n", method_name(r->method),
				r->pattern);
	}
	/* nothing documented is not routed */
	for (size_t i = 0; i < YAJL_GET_OBJECT(paths)->len; i++) {
		const char *path = YAJL_GET_OBJECT(paths)->keys[i];
		yajl_val item = YAJL_GET_OBJECT(paths)->values[i];
		size_t ops = 0;
		for (size_t m = 0; m < sizeof METHODS / sizeof *METHODS; m++) {
			const char *key[] = {METHODS[m], NULL};
			if (!yajl_tree_get(item, key, yajl_t_object))
				continue;
			ops++;
			bool ok = routed(path, METHODS[m]);
			CHECK(ok);
			if (!ok)
				fprintf(stderr, "  documented, not routed: %s %s\n", METHODS[m],
					path);
		}
		CHECK(ops > 0);
	}
	yajl_tree_free(doc);
	return check_done();
}
