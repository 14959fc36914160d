#ifndef DLCS_ROUTES_IMAGE_H
#define DLCS_ROUTES_IMAGE_H

#include <stddef.h>

#include "router.h"

/* dlcs-image's dispatch table (routes_image.c is the only file of the
 * program that knows its URLs). */
extern const struct route image_routes[];
extern const size_t image_routes_count;

#endif
