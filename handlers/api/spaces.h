#ifndef DLCS_SPACES_H
#define DLCS_SPACES_H

struct db;
struct req;

/* Adds delta to the space's image count (assets call this in their transaction). */
int space_count_images(struct db *db, int c, int s, int delta);

/* The checks of a space body (rq->json) that need no database, exactly as
 * the handlers run them before their first query: POST (create), PUT and
 * PATCH of space c/s. 0, or the 400 answered naming the field. The fuzz
 * driver of the bodies calls this. */
enum space_body { SPACE_BODY_CREATE, SPACE_BODY_PUT, SPACE_BODY_PATCH };
int space_body_check(struct req *rq, int c, int s, enum space_body mode);

#endif
