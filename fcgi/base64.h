#ifndef DLCS_BASE64_H
#define DLCS_BASE64_H

#include <stddef.h>

struct arena;

/* Decodes standard base64 (padding optional) into a NUL-terminated arena
 * string; NULL if malformed. *outlen gets the decoded length. */
char *base64_decode(struct arena *a, const char *in, size_t *outlen);

#endif
