#ifndef DLCS_SPACES_H
#define DLCS_SPACES_H

struct db;

/* Adds delta to the space's image count (assets call this in their transaction). */
int space_count_images(struct db *db, int c, int s, int delta);

#endif
