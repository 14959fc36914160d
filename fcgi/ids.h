/* Identifiers: asset ids as CONTRACT section 5 allows them, names, UUIDs and secrets. */
#ifndef DLCS_IDS_H
#define DLCS_IDS_H

#include <stdbool.h>
#include <stddef.h>

/* 1..200 characters of [A-Za-z0-9._~-()], not "." or "..", no "..". */
bool asset_id_valid(const char *id);
/* ^[A-Za-z0-9_.-]{1,60}$ */
bool customer_name_valid(const char *name);
/* A random (version 4) UUID, lower case, into out[37]. */
void uuid_make(char out[37]);
/* True for the canonical 8-4-4-4-12 hex form. */
bool uuid_valid(const char *s);
/* s in lower case (arena memory), the form ids are stored in; NULL when s
 * is not a UUID. */
struct arena;
char *uuid_canonical(struct arena *a, const char *s);
/* nbytes from the kernel's CSPRNG as lower-case hex into out[2*nbytes+1]; aborts if unavailable. */
void random_hex(char *out, size_t nbytes);
/* True when s is exactly n lower-case hex digits (random_hex's form). */
bool hex_lower_n(const char *s, size_t n);

#endif
