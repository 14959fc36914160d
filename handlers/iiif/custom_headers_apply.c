/* Custom headers on dlcs-image's responses, from asset/custom_header_rules.c
 * (which owns the table, its validation and its precedence). */
#include "app.h"
#include "req.h"
#include "asset/custom_header_rules.h"
#include "iiif/custom_headers_apply.h"
#include "banned.h"

int custom_headers_apply(struct req *rq, int c, int s, const char *roles_json)
{
	struct custom_header *h;
	size_t n;
	if (custom_headers_for(rq->app->db, rq->arena, c, s, roles_json, &h, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		req_header(rq, h[i].key, h[i].value);
	return (int)n;
}
