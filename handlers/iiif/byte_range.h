/* Whether nginx would answer a Range header on a stored file with 416:
 * dlcs-image answers those itself, before it hands the file to nginx. */
#ifndef DLCS_BYTE_RANGE_H
#define DLCS_BYTE_RANGE_H

#include <stdbool.h>

/* False when nginx's range filter would answer `range` (the Range header's
 * value) on a file of `size` bytes with 416 Range Not Satisfiable: a
 * "bytes=" list with a syntax error, or none of whose ranges starts inside
 * the file. True for anything nginx serves (200 or 206), a header it
 * ignores (another unit) included. nginx raises its 416 after the
 * location's add_header lines have been applied, with the file's caching
 * headers on it; an error must never be cacheable, so the application
 * makes that answer instead (nginx/dlcs.conf, EP_LATE). */
bool byte_range_satisfiable(const char *range, long long size);

#endif
