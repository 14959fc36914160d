/* The API's OpenAPI 3 description: handlers/api/openapi.json, built in as a
 * string (Makefile.am), and the handler that serves it. */
#ifndef DLCS_API_OPENAPI_H
#define DLCS_API_OPENAPI_H

struct req;

/* The text of handlers/api/openapi.json (handlers/api/openapi_json.c,
 * generated). Every row of routes.c is in it, and nothing else
 * (tests/unit/test_openapi.c). */
extern const char openapi_json[];

/* GET /openapi.json, anonymous: 200 with the description. */
int openapi_get(struct req *rq);

#endif
