#ifndef DLCS_ROUTES_H
#define DLCS_ROUTES_H

#include <stddef.h>

#include "router.h"

/* The API's dispatch table (routes.c is the only file that knows URLs). */
extern const struct route api_routes[];
extern const size_t api_routes_count;

#endif
