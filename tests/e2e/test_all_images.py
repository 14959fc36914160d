"""POST and PATCH of /customers/{c}/allImages: fetching assets by full id,
and adding/removing/replacing manifests by member list or by query."""

import pytest

from helpers import assert_collection, assert_error, assert_resource, create_space, put_asset, q


@pytest.fixture
def two(customer):
    """A customer with two spaces: a1, a2 in the first, b1 in the second."""
    s1, s2 = create_space(customer), create_space(customer)
    put_asset(s1, "a1", string1="tagged", manifests=["m0"])
    put_asset(s1, "a2", string1="tagged")
    put_asset(s2, "b1", string1="other", manifests=["m0", "m9"])
    return customer, s1, s2


def full(c, s, aid):
    return "%d/%d/%s" % (c.id, s.id, aid)


def manifests_of(c, s, aid):
    return assert_resource(c.api.get(s.image(aid)), 200, "vocab:Image")["manifests"]


# ---------------------------------------------------------------- POST

def test_post_returns_the_found_assets_unpaged(two):
    c, s1, s2 = two
    r = c.api.post(c.path + "/allImages", json={"@type": "Collection", "member": [
        {"id": full(c, s1, "a1")}, {"id": full(c, s2, "b1")}, {"id": full(c, s1, "missing")}]})
    j = assert_collection(r, "vocab:Image")
    assert j["totalItems"] == 2 and j["pageSize"] == 2 and "view" not in j
    assert sorted((m["space"], m["id"]) for m in j["member"]) == [(s1.id, "a1"), (s2.id, "b1")]
    by = {m["id"]: m for m in j["member"]}
    assert by["a1"]["string1"] == "tagged" and by["b1"]["manifests"] == ["m0", "m9"]


def test_post_with_nothing_found(two):
    c, s1, _ = two
    j = assert_collection(c.api.post(c.path + "/allImages", json={"member": [{"id": full(c, s1, "zzz")}]}))
    assert j["totalItems"] == 0 and j["member"] == []


def test_post_admin_may_query_any_customer(admin, two):
    c, s1, _ = two
    j = assert_collection(admin.post(c.path + "/allImages", json={"member": [{"id": full(c, s1, "a2")}]}))
    assert [m["id"] for m in j["member"]] == ["a2"]


def test_post_ids_of_another_customer_are_400(two, make_customer):
    c, s1, _ = two
    other = make_customer()
    os1 = create_space(other)
    put_asset(os1, "a1", string1="secret-of-other")
    r = c.api.post(c.path + "/allImages", json={"member": [{"id": full(c, s1, "a1")}, {"id": full(other, os1, "a1")}]})
    assert_error(r, 400)
    assert "secret-of-other" not in r.text


@pytest.mark.parametrize("make_member", [
    lambda c, s: {"id": "nope"},
    lambda c, s: {"id": "%d/%d" % (c.id, s.id)},
    lambda c, s: {"id": "%d/x/a1" % c.id},
    lambda c, s: {"id": "x/%d/a1" % s.id},
    lambda c, s: {"id": "%d/%d/a b" % (c.id, s.id)},
    lambda c, s: {"id": "%d/%d/a/b" % (c.id, s.id)},
    lambda c, s: {"id": "%d/%d/" % (c.id, s.id)},
    lambda c, s: {"id": 5},
    lambda c, s: {"string1": "no id"},
    lambda c, s: "a1",
])
def test_post_malformed_member_is_400(two, make_member):
    c, s1, _ = two
    assert_error(c.api.post(c.path + "/allImages", json={"member": [make_member(c, s1)]}), 400)


def test_post_duplicate_ids_are_400(two):
    c, s1, _ = two
    r = c.api.post(c.path + "/allImages", json={"member": [{"id": full(c, s1, "a1")}, {"id": full(c, s1, "a1")}]})
    assert_error(r, 400)


def test_post_more_than_500_is_400_and_500_is_fine(two):
    c, s1, _ = two
    members = [{"id": full(c, s1, "n%d" % i)} for i in range(501)]
    assert_error(c.api.post(c.path + "/allImages", json={"member": members}), 400)
    j = assert_collection(c.api.post(c.path + "/allImages", json={"member": members[:499] + [{"id": full(c, s1, "a1")}]}))
    assert j["totalItems"] == 1 and j["member"][0]["id"] == "a1"


def test_post_without_member_list_is_400(two):
    c = two[0]
    assert_error(c.api.post(c.path + "/allImages", json={"@type": "Collection"}), 400)
    assert_error(c.api.post(c.path + "/allImages", json={"member": "x"}), 400)


# ---------------------------------------------------------------- PATCH manifests

def test_patch_add_remove_replace_by_member(two):
    c, s1, s2 = two
    members = [{"id": full(c, s1, "a1")}, {"id": full(c, s2, "b1")}]
    r = c.api.patch(c.path + "/allImages", json={"@type": "Collection", "member": members,
                                                  "field": "manifests", "operation": "add", "value": ["m1"]})
    j = assert_collection(r, "vocab:Image")
    assert j["totalItems"] == 2
    assert sorted(manifests_of(c, s1, "a1")) == ["m0", "m1"]
    assert sorted(manifests_of(c, s2, "b1")) == ["m0", "m1", "m9"]
    assert manifests_of(c, s1, "a2") == [], "a2 was not named"
    by = {m["id"]: m for m in j["member"]}
    assert sorted(by["a1"]["manifests"]) == ["m0", "m1"]

    r = c.api.patch(c.path + "/allImages", json={"member": members, "field": "manifests",
                                                  "operation": "remove", "value": ["m0"]})
    assert_collection(r, "vocab:Image")
    assert manifests_of(c, s1, "a1") == ["m1"]
    assert sorted(manifests_of(c, s2, "b1")) == ["m1", "m9"]

    r = c.api.patch(c.path + "/allImages", json={"member": members[:1], "field": "manifests",
                                                  "operation": "replace", "value": ["x", "y"]})
    assert_collection(r, "vocab:Image")
    assert sorted(manifests_of(c, s1, "a1")) == ["x", "y"]
    assert sorted(manifests_of(c, s2, "b1")) == ["m1", "m9"]


def test_patch_add_is_idempotent(two):
    c, s1, _ = two
    body = {"member": [{"id": full(c, s1, "a1")}], "field": "manifests", "operation": "add", "value": ["m0"]}
    assert_collection(c.api.patch(c.path + "/allImages", json=body))
    assert manifests_of(c, s1, "a1") == ["m0"], "adding an existing manifest does not duplicate it"


def test_patch_by_query(two):
    c, s1, s2 = two
    r = c.api.patch(c.path + "/allImages", params={"q": q({"string1": "tagged"})},
                    json={"@type": "Collection", "field": "manifests", "operation": "replace", "value": ["book"]})
    j = assert_collection(r, "vocab:Image")
    assert sorted(m["id"] for m in j["member"]) == ["a1", "a2"]
    assert manifests_of(c, s1, "a1") == ["book"] and manifests_of(c, s1, "a2") == ["book"]
    assert sorted(manifests_of(c, s2, "b1")) == ["m0", "m9"], "b1 does not match the query"
    # and the manifests filter now finds them
    got = assert_collection(c.api.get(c.path + "/allImages", params={"q": q({"manifests": ["book"]})}))
    assert sorted(m["id"] for m in got["member"]) == ["a1", "a2"]


@pytest.mark.parametrize("body,field", [
    ({"field": "tags", "operation": "add", "value": ["x"]}, "field"),
    ({"field": "string1", "operation": "replace", "value": ["x"]}, "field"),
    ({"field": "manifests", "operation": "merge", "value": ["x"]}, "operation"),
    ({"field": "manifests", "operation": 1, "value": ["x"]}, "operation"),
])
def test_patch_bad_field_or_operation_is_400(two, body, field):
    c, s1, _ = two
    body = dict(body, member=[{"id": full(c, s1, "a1")}])
    assert_error(c.api.patch(c.path + "/allImages", json=body), 400, field)
    assert manifests_of(c, s1, "a1") == ["m0"]


def test_patch_member_of_another_customer_is_400(two, make_customer):
    c, s1, _ = two
    other = make_customer()
    os1 = create_space(other)
    put_asset(os1, "a1")
    r = c.api.patch(c.path + "/allImages", json={"member": [{"id": full(other, os1, "a1")}], "field": "manifests",
                                                  "operation": "add", "value": ["stolen"]})
    assert_error(r, 400)
    assert assert_resource(other.api.get(os1.image("a1")), 200, "vocab:Image")["manifests"] == []
