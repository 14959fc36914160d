/* Direct upload: an asset's bytes sent with it, as the base64 "file" field of
 * a PUT body (the reference implementation's), stored under storage_root as
 * the asset's origin. Internal to handlers/api/. */
#ifndef DLCS_API_UPLOAD_H
#define DLCS_API_UPLOAD_H

#include <yajl/yajl_tree.h>

struct req;

/* Decodes body's "file" for asset c/s/id, checks its size (413 past
 * upload_max_bytes) and its type sniffed from the bytes (415 when it is not a
 * kind of file the platform ingests, or not of the declared mediaType's
 * family), and stores it. *media_type is the declared one, or the sniffed one
 * when NULL. Returns 0 with *origin set, or the status it answered. */
int upload_take(struct req *rq, yajl_val file, int c, int s, const char *id,
		const char **media_type, const char **origin);

#endif
