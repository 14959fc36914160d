/* Hydra collections (CONTRACT section 3): paging parameters and the
 * Collection / PartialCollectionView envelope. */
#ifndef DLCS_PAGE_H
#define DLCS_PAGE_H

#include <stdbool.h>

struct jw;
struct req;

#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX     500

struct page {
	long long page;  /* 1-based */
	long long size;  /* rows per page */
	long long total; /* set by the handler before collection_end */
};

/* ?page (default 1) and ?pageSize (default 100, max 500; out of range: default). */
void page_from_query(struct req *rq, struct page *p);
static inline long long page_offset(const struct page *p)
{
	return (p->page - 1) * p->size;
}

/* Writes {"@context","@id","@type":"Collection","totalItems","pageSize","member":[
 * and leaves the member array open; `path` is the collection path (no query). */
void collection_begin(struct jw *w, struct req *rq, const char *path, const struct page *p);
/* Closes the member array, writes "view" when there is more than one page
 * (links keep pageSize and every other query parameter of the request), and
 * closes the object. */
void collection_end(struct jw *w, struct req *rq, const char *path, const struct page *p);
/* A whole unpaged collection: totalItems = pageSize = n. Leaves member open. */
void collection_begin_all(struct jw *w, struct req *rq, const char *path, long long n);
void collection_end_all(struct jw *w);

#endif
