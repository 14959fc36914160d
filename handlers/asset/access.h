/* May the public see an asset? The one rule, for every program: delivery
 * answers by it (iiif/delivery.c), the public links that let nginx serve
 * files without asking follow it (asset/publish.h), and access control
 * will hang on it.
 *
 * CONTRACT section 9: an asset is restricted when it has roles or
 * maxUnauthorised >= 0 (Protagonist's RequiresAuth). maxUnauthorised -1 is
 * open, 0 opens no size, N opens whole images of at most N pixels on the
 * longest edge.
 *
 * Roles are stored as JSON array text (assets.roles). No roles: NULL, "" or
 * an empty array. "" counts as none because that is how Protagonist stores
 * an asset without roles (its default is roles ""; it keeps them
 * comma-separated), so a row carried over from it, or written by hand that
 * way, means what it meant there. Anything else, text that does not parse
 * or is not an array included, counts as roles: the rule fails closed. */
#ifndef DLCS_ASSET_ACCESS_H
#define DLCS_ASSET_ACCESS_H

#include <stdbool.h>

struct arena;

/* True when the stored roles text holds no role (see above). a: scratch
 * memory for the parse. */
bool asset_roles_empty(struct arena *a, const char *roles_json);

/* True when the asset is not restricted: no roles, and maxUnauthorised < 0. */
bool asset_is_open(struct arena *a, const char *roles_json, int max_unauthorised);

/* True when a whole image of w×h pixels of an asset may go to anyone: every
 * size of an open asset (`open`: asset_is_open); of a restricted one, a size
 * whose longest edge is at most max_unauthorised. w or h <= 0 stands for
 * what has no size (the whole image service, the original), which a
 * restricted asset never opens. */
bool asset_size_is_open(bool open, int max_unauthorised, int w, int h);

#endif
