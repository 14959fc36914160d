#ifndef DLCS_BASE64_H
#define DLCS_BASE64_H

#include <stddef.h>

struct arena;

/* Decodes standard base64 (padding optional) into a NUL-terminated arena
 * string; NULL if malformed. *outlen gets the decoded length. */
char *base64_decode(struct arena *a, const char *in, size_t *outlen);
/* Encodes len bytes as standard padded base64, a NUL-terminated arena
 * string. */
char *base64_encode(struct arena *a, const void *in, size_t len);

#endif
