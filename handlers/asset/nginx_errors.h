/* nginx's own errors as DLCS answers them (JSON, no-store, CORS): the
 * table of the errors nginx raises itself, where each is listed, and the
 * writers of their error_page lines and internal locations, for
 * asset/nginx_include.c (nginx/dlcs.conf's generated blocks and the
 * custom-headers include). */
#ifndef DLCS_ASSET_NGINX_ERRORS_H
#define DLCS_ASSET_NGINX_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

/* The errors nginx makes itself, answered as JSON by the internal locations
 * /dlcs-error/NNN (the generated block error-locations). Where each is
 * listed:
 *   EP_SERVER  at server level too: nginx raises it while it reads the
 *              request line and headers, before it has chosen any location
 *              (so only a server-level error_page can answer it); its error
 *              location gives nginx's own page back to a request of a path
 *              that is not DLCS's (DLCS_PATHS), so that the admin's other
 *              locations keep nginx's pages;
 *   EP_DLCS    in every DLCS location (an error_page there replaces the
 *              inherited list, and the server level has only EP_SERVER's):
 *              a 502 of the admin's own proxy_pass stays the admin's;
 *   EP_FILES   in the locations where nginx sends a stored file (the fast
 *              paths and the X-Accel-Redirect location), so that no error
 *              carries the file's caching headers;
 *   EP_STORAGE in the X-Accel-Redirect location only: the file dlcs-image
 *              named is gone (deleted meanwhile);
 *   EP_LATE    raised by nginx's range filter, which runs after the
 *              location's add_header lines have been applied to the response
 *              (If-Match's 412 comes before them): its error location adds
 *              only no-store, else CORS and the admin's headers would come
 *              twice. The location's Cache-Control is on it by then, so
 *              dlcs-image refuses such ranges before nginx sees them. */
enum { EP_SERVER = 1, EP_DLCS = 2, EP_FILES = 4, EP_STORAGE = 8, EP_LATE = 16 };

struct nginx_error_page {
	int status, as; /* as: the status sent (0: the same) */
	unsigned where;
	const char *why;         /* a comment above its error_page line */
	const char *description; /* the JSON error's description */
};
extern const struct nginx_error_page NGINX_ERROR_PAGES[];
extern const size_t NGINX_ERROR_PAGES_N;

/* The admin's own headers for every DLCS response: files next to nginx's
 * main configuration file (a relative include is relative to its
 * directory), each "add_header ...;" lines; the pattern makes them
 * optional (an include of a pattern that matches nothing is no error).
 * Every DLCS location includes them, after its own add_header lines. */
#define EXTRA_HEADERS_INCLUDE "include dlcs-extra-headers*.conf;"

/* The error_page lines of the errors listed for any of `where`, each line
 * after indent (with its comment when commented). */
void nginx_error_pages_write(struct sbuf *out, bool commented, const char *indent, unsigned where);

/* The internal locations /dlcs-error/NNN that answer them. */
void nginx_error_locations_write(struct sbuf *out);

#endif
