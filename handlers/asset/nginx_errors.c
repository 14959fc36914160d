/* nginx's own errors as DLCS answers them (asset/nginx_errors.h). */
#include <stdio.h>

#include "req.h"
#include "asset/nginx_errors.h"
#include "banned.h"

const struct nginx_error_page NGINX_ERROR_PAGES[] = {
	{400, 0, EP_SERVER | EP_DLCS, NULL,
	 "the request could not be parsed (malformed request line or headers)"},
	{403, 0, EP_FILES, NULL, "the file cannot be read"},
	{404, 0, EP_STORAGE, NULL, "the file is gone"},
	{405, 0, EP_SERVER | EP_DLCS, NULL, "this method is not allowed on this path"},
	{408, 0, EP_SERVER | EP_DLCS, NULL, "the request was not received in time"},
	{411, 0, EP_SERVER | EP_DLCS, NULL, "the request needs a Content-Length"},
	{412, 0, EP_FILES, NULL,
	 "the file does not meet the request precondition (If-Match, If-Unmodified-Since)"},
	{413, 0, EP_DLCS, NULL, "the request body is larger than the server accepts"},
	{414, 0, EP_SERVER | EP_DLCS, NULL, "the request URI is longer than the server accepts"},
	{416, 0, EP_FILES | EP_LATE, NULL, "the range is not within the file"},
	{494, 431, EP_SERVER | EP_DLCS,
	 "494 is nginx's \"request header too large\", sent as 400; 431 says what it is.",
	 "the request headers are larger than the server accepts"},
	{500, 0, EP_DLCS, NULL, "the web server failed to handle the request"},
	{501, 0, EP_SERVER | EP_DLCS, NULL,
	 "the server does not support this request (a Transfer-Encoding other than chunked?)"},
	{502, 0, EP_DLCS, NULL, "the DLCS application is not running or gave no valid response"},
	{503, 0, EP_DLCS, NULL, "the service is unavailable, try again later"},
	{504, 0, EP_DLCS, NULL, "the DLCS application did not answer in time"},
};
const size_t NGINX_ERROR_PAGES_N = sizeof NGINX_ERROR_PAGES / sizeof NGINX_ERROR_PAGES[0];

/* The paths of DLCS's locations, for the error locations of EP_SERVER
 * errors: a request whose URI is none of these gets nginx's own page.
 * (An empty or unparsed request URI counts as DLCS's: there is no one
 * else's location it could be meant for.) */
#define DLCS_PATHS                                                                                 \
	"customers|queue|storagePolicies|originStrategies|thumbnailPolicies|"                      \
	"imageOptimisationPolicies|ping|metrics|openapi\\.json|iiif-img|thumbs|file|"              \
	"iiif-manifest|iiif-resource|raw-resource|pdf|zip|pdf-control|zip-control|"                \
	"iiif-av|auth"

void nginx_error_pages_write(struct sbuf *out, bool commented, const char *indent, unsigned where)
{
	for (size_t i = 0; i < NGINX_ERROR_PAGES_N; i++) {
		const struct nginx_error_page *e = &NGINX_ERROR_PAGES[i];
		if (!(e->where & where))
			continue;
		if (commented && e->why)
			sbuf_printf(out, "%s# %s\n", indent, e->why);
		if (e->as)
			sbuf_printf(out, "%serror_page %d =%d /dlcs-error/%d;\n", indent, e->status,
				    e->as, e->as);
		else
			sbuf_printf(out, "%serror_page %d /dlcs-error/%d;\n", indent, e->status,
				    e->status);
	}
}

/* The internal locations that answer nginx's own errors in the shape of
 * the application's (@type Error, statusCode, title, description), with
 * CORS so that viewers on other origins read them too, and no-store. These
 * are URI locations, not named (@) ones: nginx cannot redirect to a named
 * location when the request line itself was bad (414, some 400s), since
 * there is no URI yet. client_max_body_size 0: an error page must not apply
 * the body limit again (a chunked body over the limit is refused while it
 * is read; discarding the rest under the error page's own limit gave
 * nginx's HTML 413 instead). An EP_SERVER error of another path than
 * DLCS's gets nginx's own page back (return without a text, inside an
 * error page, is nginx's page). */
void nginx_error_locations_write(struct sbuf *out)
{
	for (size_t i = 0; i < NGINX_ERROR_PAGES_N; i++) {
		int status = NGINX_ERROR_PAGES[i].as ? NGINX_ERROR_PAGES[i].as
						     : NGINX_ERROR_PAGES[i].status;
		sbuf_printf(out,
			    "location = /dlcs-error/%d {\n"
			    "    internal;\n"
			    "    client_max_body_size 0;\n",
			    status);
		if (NGINX_ERROR_PAGES[i].where & EP_SERVER)
			sbuf_printf(out,
				    "    if ($request_uri ~ \"^/(?!(?:|" DLCS_PATHS
				    ")(?:[/?]|$))\") {\n"
				    "        return %d;\n"
				    "    }\n",
				    NGINX_ERROR_PAGES[i].status);
		sbuf_adds(out, "    default_type application/ld+json;\n");
		if (!(NGINX_ERROR_PAGES[i].where & EP_LATE))
			sbuf_adds(out, "    add_header Access-Control-Allow-Origin \"*\" "
				       "always;\n");
		sbuf_adds(out, "    add_header Cache-Control \"no-store\" always;\n");
		if (!(NGINX_ERROR_PAGES[i].where & EP_LATE))
			sbuf_adds(out, "    " EXTRA_HEADERS_INCLUDE "\n");
		sbuf_printf(out,
			    "    return %d "
			    "'{\"@context\":\"http://www.w3.org/ns/hydra/context.jsonld\","
			    "\"@type\":\"Error\",\"statusCode\":%d,\"title\":\"%s\","
			    "\"description\":\"%s\"}\\n';\n"
			    "}\n",
			    status, status, http_reason(status), NGINX_ERROR_PAGES[i].description);
	}
}
