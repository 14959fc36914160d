#include <string.h>

#include "arena.h"
#include "json.h"
#include "page.h"
#include "req.h"
#include "str.h"
#include "banned.h"

void page_from_query(struct req *rq, struct page *p)
{
	long long v;
	p->page = 1;
	p->size = PAGE_SIZE_DEFAULT;
	p->total = 0;
	if (str_to_ll(req_query(rq, "page"), 1, 1LL << 40, &v))
		p->page = v;
	if (str_to_ll(req_query(rq, "pageSize"), 1, PAGE_SIZE_MAX, &v))
		p->size = v;
}

void collection_begin(struct jw *w, struct req *rq, const char *path, const struct page *p)
{
	jw_obj(w);
	jw_kstr(w, "@context", "http://www.w3.org/ns/hydra/context.jsonld");
	jw_kstr(w, "@id", req_url(rq, "%s", path));
	jw_kstr(w, "@type", "Collection");
	jw_kint(w, "totalItems", p->total);
	jw_kint(w, "pageSize", p->size);
	jw_key(w, "member");
	jw_arr(w);
}

/* "?page=N&pageSize=P" plus every other parameter of the request, re-encoded. */
static const char *page_link(struct req *rq, const char *path, const struct page *p, long long page)
{
	struct sbuf b;
	sbuf_init(&b, rq->arena);
	sbuf_printf(&b, "%s?page=%lld&pageSize=%lld", path, page, p->size);
	for (size_t i = 0; i < rq->nquery_params; i++) {
		const struct kv *q = &rq->query_params[i];
		if (strcmp(q->key, "page") == 0 || strcmp(q->key, "pageSize") == 0)
			continue;
		sbuf_printf(&b, "&%s=%s", url_encode(rq->arena, q->key),
			    url_encode(rq->arena, q->value));
	}
	return req_url(rq, "%s", b.buf);
}

void collection_end(struct jw *w, struct req *rq, const char *path, const struct page *p)
{
	jw_arr_end(w);
	long long pages = p->total ? (p->total + p->size - 1) / p->size : 1;
	if (pages > 1) {
		jw_key(w, "view");
		jw_obj(w);
		jw_kstr(w, "@id", page_link(rq, path, p, p->page));
		jw_kstr(w, "@type", "PartialCollectionView");
		if (p->page > 1) {
			jw_kstr(w, "first", page_link(rq, path, p, 1));
			jw_kstr(w, "previous",
				page_link(rq, path, p, p->page > pages ? pages : p->page - 1));
		}
		if (p->page < pages) {
			jw_kstr(w, "next", page_link(rq, path, p, p->page + 1));
			jw_kstr(w, "last", page_link(rq, path, p, pages));
		}
		jw_kint(w, "page", p->page);
		jw_kint(w, "pageSize", p->size);
		jw_kint(w, "totalPages", pages);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

void collection_begin_all(struct jw *w, struct req *rq, const char *path, long long n)
{
	struct page p = {.page = 1, .size = n, .total = n};
	collection_begin(w, rq, path, &p);
}

void collection_end_all(struct jw *w)
{
	jw_arr_end(w);
	jw_obj_end(w);
}
