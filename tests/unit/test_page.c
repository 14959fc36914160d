#include <string.h>

#include "arena.h"
#include "json.h"
#include "page.h"
#include "check.h"
#include "fake_req.h"

static void set_query(struct req *rq, struct kv *kv, size_t n)
{
	rq->query_params = kv;
	rq->nquery_params = n;
}

int main(void)
{
	struct arena *a = arena_new(4096);
	struct req rq;
	struct page p;

	fake_req(&rq, a, NULL, M_GET, "/x", NULL);
	page_from_query(&rq, &p);
	CHECK(p.page == 1 && p.size == 100);

	struct kv q1[] = {{"page", "3"}, {"pageSize", "7"}};
	set_query(&rq, q1, 2);
	page_from_query(&rq, &p);
	CHECK(p.page == 3 && p.size == 7 && page_offset(&p) == 14);

	struct kv q2[] = {{"page", "0"}, {"pageSize", "501"}};
	set_query(&rq, q2, 2);
	page_from_query(&rq, &p);
	CHECK(p.page == 1 && p.size == 100);

	struct kv q3[] = {{"page", "x"}, {"pageSize", "-4"}};
	set_query(&rq, q3, 2);
	page_from_query(&rq, &p);
	CHECK(p.page == 1 && p.size == 100);

	/* Middle page: every link, keeping the other parameters. */
	struct kv q4[] = {{"page", "2"}, {"pageSize", "5"}, {"q", "{\"string1\":\"a b\"}"}};
	set_query(&rq, q4, 3);
	page_from_query(&rq, &p);
	p.total = 23;
	struct jw *w = jw_new(a);
	collection_begin(w, &rq, "/c", &p);
	collection_end(w, &rq, "/c", &p);
	const char *t = jw_text(w, NULL);
	CHECK(t && strstr(t, "\"totalItems\":23"));
	CHECK(t && strstr(t, "\"totalPages\":5"));
	CHECK(t && strstr(t, "\"first\":\"http://h/"
			     "c?page=1&pageSize=5&q=%7B%22string1%22%3A%22a%20b%22%7D\""));
	CHECK(t && strstr(t, "\"previous\":\"http://h/c?page=1&pageSize=5"));
	CHECK(t && strstr(t, "\"next\":\"http://h/c?page=3&pageSize=5"));
	CHECK(t && strstr(t, "\"last\":\"http://h/c?page=5&pageSize=5"));

	/* First page: no first/previous. Last page: no next/last. One page: no view. */
	struct kv q5[] = {{"pageSize", "5"}};
	set_query(&rq, q5, 1);
	page_from_query(&rq, &p);
	p.total = 23;
	w = jw_new(a);
	collection_begin(w, &rq, "/c", &p);
	collection_end(w, &rq, "/c", &p);
	t = jw_text(w, NULL);
	CHECK(t && !strstr(t, "\"first\"") && !strstr(t, "\"previous\"") && strstr(t, "\"next\""));

	struct kv q6[] = {{"page", "5"}, {"pageSize", "5"}};
	set_query(&rq, q6, 2);
	page_from_query(&rq, &p);
	p.total = 23;
	w = jw_new(a);
	collection_begin(w, &rq, "/c", &p);
	collection_end(w, &rq, "/c", &p);
	t = jw_text(w, NULL);
	CHECK(t && strstr(t, "\"first\"") && !strstr(t, "\"next\"") && !strstr(t, "\"last\""));

	set_query(&rq, NULL, 0);
	page_from_query(&rq, &p);
	p.total = 100;
	w = jw_new(a);
	collection_begin(w, &rq, "/c", &p);
	collection_end(w, &rq, "/c", &p);
	t = jw_text(w, NULL);
	CHECK(t && !strstr(t, "\"view\""));

	arena_free(a);
	return check_done();
}
