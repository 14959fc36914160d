/* The ingest queue (queue.c): what other files need besides the handlers. */
#ifndef DLCS_QUEUE_H
#define DLCS_QUEUE_H

struct req;
struct yajl_val_s;

/* The checks of a batch body (the submitted Collection) that need no
 * database, exactly as POST .../queue and .../queue/priority run them
 * before their first query, for customer c: the Collection's keys, the
 * batch size, then each member's space, id (no duplicates) and asset
 * fields. 0, or the 400 answered naming the member and the field. The fuzz
 * driver of the bodies calls this. */
int batch_body_check(struct req *rq, struct yajl_val_s *body, int c);

#endif
