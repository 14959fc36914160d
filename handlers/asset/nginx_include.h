/* The nginx text DLCS generates, rendered in one place so that it exists
 * once:
 *   - the include of the customers' custom headers (nginx_custom_headers),
 *     so that the responses nginx makes itself (open tiles and stored sizes,
 *     and the files the application answers with X-Accel-Redirect) carry
 *     them too;
 *   - the generated blocks of nginx/dlcs.conf: the server's error pages, the
 *     four fast-path locations and the X-Accel-Redirect location, of which
 *     the include's locations are per-customer copies.
 * Rendering only: writing the include into place, testing it and reloading
 * nginx are asset/nginx_reload.h's. */
#ifndef DLCS_ASSET_NGINX_INCLUDE_H
#define DLCS_ASSET_NGINX_INCLUDE_H

struct arena;
struct db;

/* The include's text for every customer's headers, as the table holds them
 * now. Its first line names `generation`, the custom headers' change counter
 * (asset/change_counter.h) the caller read before calling: whoever reads the
 * file can tell which change it includes. *nlocations: how many locations it
 * has. NULL after logging (the table could not be read). */
const char *nginx_include_render(struct db *db, struct arena *a, long long generation,
				 int *nlocations);

/* The first line of an include text rendered for `generation` (the one line
 * of two renderings that may differ while their locations are the same). */
const char *nginx_include_first_line(struct arena *a, long long generation);

/* `text` (nginx/dlcs.conf) with each generated block, the lines between
 * "# BEGIN GENERATED name" and "# END GENERATED name", replaced by its
 * rendering: it is the same text when the file is current. NULL, with *why,
 * when a block is unknown, repeated, unterminated or missing. */
const char *nginx_conf_generate(struct arena *a, const char *text, const char **why);

#endif
