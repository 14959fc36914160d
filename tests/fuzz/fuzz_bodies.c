/* libFuzzer driver: JSON request bodies as the API reads them. The input is
 * a body (tests/data/fuzz/bodies/); it is parsed with json_parse, as the
 * core parses every body, and an object then goes through the checks that
 * the space, asset and batch handlers run before their first query
 * (space_body_check, asset_body_check, batch_body_check: the handlers' own
 * code, factored out of the parts that need the database).
 *
 * Invariants: json_parse either refuses with a short UTF-8 message or
 * returns the tree yajl_tree_parse builds from the same text (compared only
 * then: yajl_tree_free recurses once per level); every check answers 0 or a
 * 400 whose error document could be written. */
#include <string.h>

#include "app.h"
#include "api/assets.h"
#include "config.h"
#include "json.h"
#include "api/queue.h"
#include "req.h"
#include "api/spaces.h"
#include "asset/settings.h"
#include "str.h"
#include "fuzz.h"
#include "../unit/fake_req.h"

static bool same_number(yajl_val mine, yajl_val theirs)
{
	if (strcmp(mine->u.number.r, theirs->u.number.r) != 0)
		return false;
	if ((mine->u.number.flags ^ theirs->u.number.flags) & YAJL_NUMBER_DOUBLE_VALID)
		return false;
	if (mine->u.number.flags & YAJL_NUMBER_INT_VALID)
		return (theirs->u.number.flags & YAJL_NUMBER_INT_VALID) &&
		       mine->u.number.i == theirs->u.number.i;
	/* yajl_tree also calls some integers just past LLONG_MAX valid (its
	 * overflow check multiplies first): ours says no to all of them. */
	return true;
}

static bool same_tree(yajl_val a, yajl_val b)
{
	if (!a || !b || a->type != b->type)
		return false;
	switch (a->type) {
	case yajl_t_string:
		return strcmp(a->u.string, b->u.string) == 0;
	case yajl_t_number:
		return same_number(a, b);
	case yajl_t_object:
		if (a->u.object.len != b->u.object.len)
			return false;
		for (size_t i = 0; i < a->u.object.len; i++)
			if (strcmp(a->u.object.keys[i], b->u.object.keys[i]) != 0 ||
			    !same_tree(a->u.object.values[i], b->u.object.values[i]))
				return false;
		return true;
	case yajl_t_array:
		if (a->u.array.len != b->u.array.len)
			return false;
		for (size_t i = 0; i < a->u.array.len; i++)
			if (!same_tree(a->u.array.values[i], b->u.array.values[i]))
				return false;
		return true;
	default:
		return true;
	}
}

static struct app *fuzz_app(void)
{
	static struct app app;
	if (!app.cfg)
		app.cfg = config_empty(&dlcs_settings);
	return &app;
}

/* st is what a check returned on rq: 0, or a 400 with its error document. */
static void expect(struct req *rq, int st)
{
	FUZZ_ASSERT(st == 0 || st == 400);
	if (st) {
		FUZZ_ASSERT(rq->status == st && rq->jw);
		FUZZ_ASSERT(jw_text(rq->jw, NULL) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct app *app = fuzz_app();
	const char *err = "unset";
	yajl_val v = json_parse(a, (const char *)data, size, &err);
	if (!v) {
		size_t n = err ? strlen(err) : 0;
		FUZZ_ASSERT(n > 0 && n <= JSON_ERR_MAX && utf8_valid(err, n));
		return 0;
	}
	FUZZ_ASSERT(err == NULL);
	/* Within the depth limit: yajl_tree may build and free it too. */
	char *text = arena_strndup(a, (const char *)data, size);
	yajl_val theirs = yajl_tree_parse(text, NULL, 0);
	FUZZ_ASSERT(theirs != NULL);
	FUZZ_ASSERT(same_tree(v, theirs));
	yajl_tree_free(theirs);

	/* The core answers 400 to anything but an object before a handler runs. */
	if (!YAJL_IS_OBJECT(v))
		return 0;
	struct req rq;
#define CHECK_BODY(method, path, call)                                                             \
	do {                                                                                       \
		fake_req(&rq, a, app, (method), (path), NULL);                                     \
		rq.json = v;                                                                       \
		expect(&rq, (call));                                                               \
	} while (0)

	CHECK_BODY(M_POST, "/customers/1/spaces", space_body_check(&rq, 1, 0, SPACE_BODY_CREATE));
	CHECK_BODY(M_PUT, "/customers/1/spaces/7", space_body_check(&rq, 1, 7, SPACE_BODY_PUT));
	CHECK_BODY(M_PATCH, "/customers/1/spaces/7", space_body_check(&rq, 1, 7, SPACE_BODY_PATCH));

	/* The asset id of the URL: the body's own when it has one (so that
	 * bodies get past the check that the two agree), else a fixed one. */
	yajl_val idv = json_get(v, "id");
	const char *id = YAJL_IS_STRING(idv) && *idv->u.string ? idv->u.string : "a1";
	const char *path = arena_printf(a, "/customers/1/spaces/7/images/%s", id);
	CHECK_BODY(M_PUT, path, asset_body_check(&rq, v, 1, 7, id, ASSET_BODY_PUT));
	CHECK_BODY(M_PATCH, path, asset_body_check(&rq, v, 1, 7, id, ASSET_BODY_PATCH));
	CHECK_BODY(M_PATCH, "/customers/1/spaces/7/images",
		   asset_body_check(&rq, v, 1, 7, NULL, ASSET_BODY_BULK));
	CHECK_BODY(M_POST, "/customers/1/queue", batch_body_check(&rq, v, 1));
	return 0;
}
