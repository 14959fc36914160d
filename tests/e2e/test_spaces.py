"""/customers/{c}/spaces and /customers/{c}/spaces/{s}: create, list,
get, PUT (create/replace), PATCH, DELETE, validation and conflicts."""

import pytest

from helpers import (role_uri, assert_collection, assert_created, assert_error, assert_resource, create_space, describe, ids,
                     put_asset, uniq, walk)


def test_post_space_201_with_location_and_defaults(customer):
    name = uniq("sp")
    r = customer.api.post(customer.path + "/spaces", json={"name": name})
    j = assert_created(r, "vocab:Space", customer.path + "/spaces/1")
    assert j["id"] == 1, "first space of a new customer is 1"
    assert j["name"] == name
    assert isinstance(j["created"], str)
    assert j["defaultTags"] == [] and j["defaultRoles"] == []
    assert j["maxUnauthorised"] == -1
    assert j["approximateNumberOfImages"] == 0
    for link in ("images", "storage", "defaultDeliveryChannels", "metadata"):
        assert j.get(link) == j["@id"] + "/" + link, "link %r is %r" % (link, j.get(link))


def test_space_ids_are_minted_in_sequence(customer):
    assert [create_space(customer).id for _ in range(3)] == [1, 2, 3]


def test_post_space_with_all_optional_fields(customer):
    r = customer.api.post(customer.path + "/spaces", json={
        "name": "full", "defaultTags": ["t1", "t2"], "defaultRoles": [role_uri(customer)],
        "maxUnauthorised": 400})
    j = assert_created(r, "vocab:Space")
    assert j["defaultTags"] == ["t1", "t2"]
    assert j["defaultRoles"] == [role_uri(customer)]
    assert j["maxUnauthorised"] == 400
    got = assert_resource(customer.api.get(j["@id"][j["@id"].index("/customers"):]), 200, "vocab:Space")
    assert got == j


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"defaultTags": []}, "name"),
    ({"name": 5}, "name"),
    ({"name": "ok", "id": 7}, "id"),
    ({"name": "ok", "@id": "http://x/customers/1/spaces/7"}, None),
    ({"name": "ok", "defaultTags": "t"}, "defaultTags"),
    ({"name": "ok", "defaultTags": [1]}, "defaultTags"),
    ({"name": "ok", "defaultRoles": "r"}, "defaultRoles"),
    ({"name": "ok", "defaultRoles": [None]}, "defaultRoles"),
    ({"name": "ok", "maxUnauthorised": -2}, "maxUnauthorised"),
    ({"name": "ok", "maxUnauthorised": "5"}, "maxUnauthorised"),
    ({"name": "ok", "maxUnauthorised": 1.5}, "maxUnauthorised"),
    ({"name": "ok", "maxUnauthorised": True}, "maxUnauthorised"),
])
def test_bad_space_post_is_400_naming_field(customer, body, field):
    r = customer.api.post(customer.path + "/spaces", json=body)
    assert_error(r, 400, field, mentions="@id" if "@id" in body else None)
    j = assert_collection(customer.api.get(customer.path + "/spaces"))
    assert j["totalItems"] == 0, "a rejected POST created a space"


def test_duplicate_space_name_is_409_but_fine_in_another_customer(make_customer):
    a = make_customer()
    b = make_customer()
    name = uniq("same")
    create_space(a, name)
    assert_error(a.api.post(a.path + "/spaces", json={"name": name}), 409)
    assert create_space(b, name).name == name


def test_list_spaces_ordered_by_id_with_types(customer):
    made = [create_space(customer, n) for n in ("c-space", "a-space", "b-space")]
    j = assert_collection(customer.api.get(customer.path + "/spaces"), "vocab:Space")
    assert j["totalItems"] == 3
    assert [m["id"] for m in j["member"]] == [s.id for s in made]
    assert "view" not in j, "a single page has no view"


@pytest.mark.parametrize("param,field,expected", [
    ("orderBy", "name", ["a-space", "b-space", "c-space"]),
    ("orderByDescending", "name", ["c-space", "b-space", "a-space"]),
    ("orderByDescending", "id", ["b-space", "a-space", "c-space"]),
    ("orderBy", "id", ["c-space", "a-space", "b-space"]),
])
def test_list_spaces_ordering(customer, param, field, expected):
    for n in ("c-space", "a-space", "b-space"):
        create_space(customer, n)
    j = assert_collection(customer.api.get(customer.path + "/spaces", params={param: field}), "vocab:Space")
    assert [m["name"] for m in j["member"]] == expected


def test_list_spaces_paged(customer):
    made = [create_space(customer).id for _ in range(5)]
    pages, members = walk(customer.api, customer.path + "/spaces", {"pageSize": 2}, "vocab:Space")
    assert len(pages) == 3
    assert [m["id"] for m in members] == made
    assert all(p["totalItems"] == 5 for p in pages)


def test_get_unknown_space_is_404(customer):
    assert_error(customer.api.get(customer.path + "/spaces/999"), 404)


def test_put_space_creates_201_then_replaces_200(customer):
    path = customer.path + "/spaces/42"
    r = customer.api.put(path, json={"name": "put-space", "defaultTags": ["x"], "maxUnauthorised": 10})
    j = assert_created(r, "vocab:Space", path)
    assert j["id"] == 42 and j["defaultTags"] == ["x"] and j["maxUnauthorised"] == 10
    r = customer.api.put(path, json={"name": "put-space-2"})
    j2 = assert_resource(r, 200, "vocab:Space", path)
    assert j2["name"] == "put-space-2"
    assert j2["defaultTags"] == [], "PUT replaces: omitted defaultTags reset"
    assert j2["maxUnauthorised"] == -1, "PUT replaces: omitted maxUnauthorised reset"
    assert j2["created"] == j["created"]
    assert assert_resource(customer.api.get(path), 200, "vocab:Space") == j2


def test_put_space_without_name_is_400(customer):
    assert_error(customer.api.put(customer.path + "/spaces/5", json={"defaultTags": []}), 400, "name")
    assert_error(customer.api.get(customer.path + "/spaces/5"), 404)
    s = create_space(customer, defaultTags=["kept"])
    assert_error(customer.api.put(s.path, json={"defaultTags": []}), 400, "name")
    got = assert_resource(customer.api.get(s.path), 200, "vocab:Space")
    assert got["name"] == s.name and got["defaultTags"] == ["kept"], "a rejected PUT changed the space"


def test_put_space_name_clash_is_409(customer):
    a = create_space(customer)
    create_space(customer, "taken")
    assert_error(customer.api.put(customer.path + "/spaces/9", json={"name": "taken"}), 409)
    assert_error(customer.api.put(a.path, json={"name": "taken"}), 409)


def test_put_space_with_mismatched_id_is_400(customer):
    assert_error(customer.api.put(customer.path + "/spaces/3", json={"name": "x", "id": 4}), 400)


def test_patch_space_changes_only_given_fields(customer):
    s = create_space(customer, defaultTags=["keep"], maxUnauthorised=5)
    r = customer.api.patch(s.path, json={"name": "patched-name"})
    j = assert_resource(r, 200, "vocab:Space", s.path)
    assert j["name"] == "patched-name"
    assert j["defaultTags"] == ["keep"] and j["maxUnauthorised"] == 5
    r = customer.api.patch(s.path, json={"defaultRoles": [role_uri(customer)], "maxUnauthorised": -1})
    j = assert_resource(r, 200, "vocab:Space")
    assert j["name"] == "patched-name" and j["defaultTags"] == ["keep"]
    assert j["defaultRoles"] == [role_uri(customer)] and j["maxUnauthorised"] == -1
    assert assert_resource(customer.api.get(s.path), 200, "vocab:Space") == j


def test_patch_unknown_space_is_404(customer):
    assert_error(customer.api.patch(customer.path + "/spaces/77", json={"name": "x"}), 404)


def test_patch_space_name_clash_is_409(customer):
    create_space(customer, "first-name")
    s = create_space(customer)
    assert_error(customer.api.patch(s.path, json={"name": "first-name"}), 409)


@pytest.mark.parametrize("body,field", [
    ({"name": 5}, "name"),
    ({"defaultTags": "x"}, "defaultTags"),
    ({"maxUnauthorised": -5}, "maxUnauthorised"),
    ({"defaultRoles": [1]}, "defaultRoles"),
])
def test_patch_space_bad_field_is_400(space, body, field):
    assert_error(space.customer.api.patch(space.path, json=body), 400, field)


def test_delete_space_204_then_404(customer):
    s = create_space(customer)
    r = customer.api.delete(s.path)
    assert r.status_code == 204 and r.content == b""
    assert_error(customer.api.get(s.path), 404)
    assert_error(customer.api.delete(s.path), 404)


def test_delete_unknown_space_is_404(customer):
    assert_error(customer.api.delete(customer.path + "/spaces/123"), 404)


def test_delete_space_holding_assets_is_409_until_emptied(space):
    api = space.customer.api
    put_asset(space, "keeper")
    assert_error(api.delete(space.path), 409)
    assert assert_resource(api.get(space.path), 200, "vocab:Space")["approximateNumberOfImages"] == 1
    assert api.delete(space.image("keeper")).status_code == 204
    assert api.delete(space.path).status_code == 204


def test_approximate_number_of_images_counts_assets(space):
    api = space.customer.api
    for i in range(3):
        put_asset(space, "n%d" % i)
    assert assert_resource(api.get(space.path), 200, "vocab:Space")["approximateNumberOfImages"] == 3
    api.delete(space.image("n0"))
    assert assert_resource(api.get(space.path), 200, "vocab:Space")["approximateNumberOfImages"] == 2
    j = assert_collection(api.get(space.path + "/images"), "vocab:Image")
    assert sorted(ids(j["member"])) == ["n1", "n2"]


def test_minted_ids_skip_ids_chosen_by_put(customer):
    one = create_space(customer, "one")
    assert_created(customer.api.put(customer.path + "/spaces/2", json={"name": "two"}), "vocab:Space")
    three = create_space(customer, "three")
    assert three.id not in (one.id, 2), "POST minted an id already taken: %d" % three.id
    assert assert_resource(customer.api.get(customer.path + "/spaces/2"), 200, "vocab:Space")["name"] == "two"


def test_post_after_space_at_int_max_is_not_a_server_error(customer):
    assert_created(customer.api.put(customer.path + "/spaces/2147483647", json={"name": "at-max"}), "vocab:Space")
    r = customer.api.post(customer.path + "/spaces", json={"name": "after-max"})
    assert r.status_code < 500, "bad input must never be a 5xx: %s" % describe(r)
    if r.status_code == 201:
        j = assert_created(r, "vocab:Space")
        assert j["id"] != 2147483647 and 0 <= j["id"] <= 2147483647
    else:
        assert_error(r, r.status_code)
    got = assert_resource(customer.api.get(customer.path + "/spaces/2147483647"), 200, "vocab:Space")
    assert got["name"] == "at-max"
