/* GET /openapi.json: the description as it was built in, for API clients
 * and code generators; anonymous, like the entry point it describes. */
#include <string.h>

#include "req.h"
#include "str.h"
#include "api/openapi.h"
#include "banned.h"

int openapi_get(struct req *rq)
{
	sbuf_init(&rq->out, rq->arena);
	sbuf_add(&rq->out, openapi_json, strlen(openapi_json));
	rq->content_type = "application/json";
	/* it changes only with the program */
	req_header(rq, "Cache-Control", "public, max-age=300");
	req_header(rq, "Access-Control-Allow-Origin", "*");
	return 200;
}
