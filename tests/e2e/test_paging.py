"""Paged collections: walking view.next visits every member exactly once;
first/previous/next/last appear exactly when they should; links keep
pageSize, the filter and the ordering; pageSize bounds."""

import json
import math
from urllib.parse import urlsplit

import pytest

from helpers import assert_collection, create_space, describe, ids, put_asset, q, query_of, walk

N = 23


@pytest.fixture(scope="module")
def pd(make_customer):
    class D:
        pass
    d = D()
    d.c = make_customer("paging")
    d.s = create_space(d.c)
    d.ids = ["p%02d" % i for i in range(N)]
    for i, aid in enumerate(d.ids):
        put_asset(d.s, aid, string1="even" if i % 2 == 0 else "odd", number1=i)
    d.images = d.s.path + "/images"
    d.all = d.c.path + "/allImages"
    return d


def norm_q(obj):
    """A query object with every value as a list (single value == [value])."""
    return {k: (v if isinstance(v, list) else [v]) for k, v in obj.items()}


def check_view(page, number, total_pages, page_size, path):
    """The PartialCollectionView of page `number` of `total_pages`."""
    view = page.get("view")
    assert view is not None, "page %d of %d has no view" % (number, total_pages)
    assert view["@type"] == "PartialCollectionView", view
    assert view["page"] == number and view["pageSize"] == page_size and view["totalPages"] == total_pages, view
    has = {k for k in ("first", "previous", "next", "last") if k in view}
    want = set()
    if number > 1:
        want |= {"first", "previous"}
    if number < total_pages:
        want |= {"next", "last"}
    assert has == want, "page %d/%d has links %s, expected %s" % (number, total_pages, sorted(has), sorted(want))
    expect_page = {"first": 1, "previous": number - 1, "next": number + 1, "last": total_pages}
    for k in has:
        link = view[k]
        assert urlsplit(link).path.endswith(path), "%s link %r is not on %s" % (k, link, path)
        qs = query_of(link)
        assert qs.get("page") == str(expect_page[k]), "%s link %r" % (k, link)
        assert qs.get("pageSize") == str(page_size), "%s link %r lost pageSize" % (k, link)
    return view


def test_walk_next_visits_every_asset_once(pd):
    pages, members = walk(pd.c.api, pd.images, {"pageSize": 5}, "vocab:Image")
    assert len(pages) == 5
    got = ids(members)
    assert len(got) == N and len(set(got)) == N, "duplicates or gaps: %s" % got
    assert got == pd.ids, "default order is created (ties by id): %s" % got
    for n, page in enumerate(pages, 1):
        assert page["totalItems"] == N and page["pageSize"] == 5
        assert len(page["member"]) == (5 if n < 5 else 3)
        check_view(page, n, 5, 5, pd.images)


def test_previous_walks_back_from_last(pd):
    first = assert_collection(pd.c.api.get(pd.images, params={"pageSize": 5}))
    page = assert_collection(pd.c.api.follow(first["view"]["last"]))
    assert page["view"]["page"] == 5
    seen = list(reversed(ids(page["member"])))
    while "previous" in page["view"]:
        page = assert_collection(pd.c.api.follow(page["view"]["previous"]))
        seen.extend(reversed(ids(page["member"])))
    assert seen == list(reversed(pd.ids))
    assert page["view"]["page"] == 1


def test_explicit_page_parameter(pd):
    j = assert_collection(pd.c.api.get(pd.images, params={"page": 2, "pageSize": 10}))
    assert ids(j["member"]) == pd.ids[10:20]
    check_view(j, 2, 3, 10, pd.images)
    j = assert_collection(pd.c.api.get(pd.images, params={"page": 3, "pageSize": 10}))
    assert ids(j["member"]) == pd.ids[20:]


def test_single_page_has_no_view(pd):
    j = assert_collection(pd.c.api.get(pd.images))
    assert j["totalItems"] == N and len(j["member"]) == N and j["pageSize"] == 100
    assert "view" not in j, "one page only: no view"
    j = assert_collection(pd.c.api.get(pd.images, params={"pageSize": N}))
    assert "view" not in j and len(j["member"]) == N


@pytest.mark.parametrize("size,effective", [("0", 100), ("-1", 100), ("501", 100), ("100000", 100),
                                            ("500", 500), ("1", 1), ("23", 23)])
def test_page_size_bounds(pd, size, effective):
    r = pd.c.api.get(pd.images, params={"pageSize": size})
    j = assert_collection(r)
    assert j["pageSize"] == effective, describe(r)
    assert len(j["member"]) == min(effective, N)


def test_links_keep_q_filter_and_order(pd):
    params = {"q": q({"string1": "even"}), "orderByDescending": "number1", "pageSize": 4}
    pages, members = walk(pd.c.api, pd.images, params, "vocab:Image")
    evens = [i for i in range(N) if i % 2 == 0]          # 12 assets: 0, 2, ..., 22
    assert [m["number1"] for m in members] == sorted(evens, reverse=True)
    assert len(pages) == math.ceil(len(evens) / 4) == 3
    for n, page in enumerate(pages, 1):
        assert page["totalItems"] == 12
        view = check_view(page, n, 3, 4, pd.images)
        for k in ("first", "previous", "next", "last"):
            if k in view:
                qs = query_of(view[k])
                assert "q" in qs, "%s link %r lost q" % (k, view[k])
                assert norm_q(json.loads(qs["q"])) == {"string1": ["even"]}, "%s link %r changed q" % (k, view[k])
                assert qs.get("orderByDescending") == "number1", "%s link %r lost the ordering" % (k, view[k])


def test_links_keep_shortcut_filter_and_order_by(pd):
    params = {"string1": "odd", "orderBy": "number1", "pageSize": 5}
    pages, members = walk(pd.c.api, pd.images, params, "vocab:Image")
    assert [m["number1"] for m in members] == [i for i in range(N) if i % 2 == 1]
    assert len(pages) == 3 and all(p["totalItems"] == 11 for p in pages)
    for page in pages:
        for k in ("first", "previous", "next", "last"):
            if k in page["view"]:
                qs = query_of(page["view"][k])
                assert qs.get("string1") == "odd" and qs.get("orderBy") == "number1", page["view"][k]


def test_all_images_pages_with_filter(pd):
    params = {"q": q({"number1": list(range(0, N, 3))}), "orderBy": "id", "pageSize": 3}
    pages, members = walk(pd.c.api, pd.all, params, "vocab:Image")
    want = ["p%02d" % i for i in range(0, N, 3)]  # 8 assets
    assert ids(members) == want
    assert len(pages) == 3
    for n, page in enumerate(pages, 1):
        assert page["totalItems"] == 8
        view = check_view(page, n, 3, 3, pd.all)
        if "next" in view:
            qs = query_of(view["next"])
            assert norm_q(json.loads(qs["q"])) == {"number1": list(range(0, N, 3))}, view["next"]
            assert qs["orderBy"] == "id" and qs["pageSize"] == "3", view["next"]
