"""/customers and /customers/{c}: admin-only listing and creation, names,
the Customer resource and its links, PATCH of displayName only."""

import math

import pytest

from helpers import assert_collection, assert_created, assert_error, assert_resource, describe, uniq

CUSTOMER_LINKS = ("spaces", "allImages", "queue", "storage", "keys", "namedQueries", "originStrategies",
                  "deliveryChannelPolicies", "defaultDeliveryChannels", "customHeaders", "authServices",
                  "roleProviders", "roles", "portalUsers", "iiif")


def test_admin_creates_customer_201_with_location_and_defaults(admin):
    name = uniq("Cu")
    r = admin.post("/customers", json={"name": name})
    j = assert_created(r, "vocab:Customer")
    assert type(j["id"]) is int and j["id"] > 1
    assert j["@id"].endswith("/customers/%d" % j["id"])
    assert j["name"] == name
    assert j["displayName"] == name, "displayName defaults to name"
    assert isinstance(j.get("created"), str) and j["created"]


def test_create_customer_with_display_name_and_ld_fields(admin):
    name = uniq()
    r = admin.post("/customers", json={"@context": "https://dlcs.github.io/vocab/context/future.json",
                                       "@type": "vocab:Customer", "name": name, "displayName": "Shown Name"})
    j = assert_created(r, "vocab:Customer")
    assert j["displayName"] == "Shown Name"
    got = assert_resource(admin.get("/customers/%d" % j["id"]), 200, "vocab:Customer")
    assert got["name"] == name and got["displayName"] == "Shown Name"


def test_get_customer_has_id_name_created_and_all_links(customer):
    j = assert_resource(customer.api.get(customer.path), 200, "vocab:Customer", customer.path)
    assert j["id"] == customer.id
    assert j["name"] == customer.name
    assert j["displayName"] == customer.name
    assert isinstance(j["created"], str)
    for link in CUSTOMER_LINKS:
        assert j.get(link) == j["@id"] + "/" + link, "link %r is %r" % (link, j.get(link))


def test_admin_customer_is_customer_1(admin):
    j = assert_resource(admin.get("/customers/1"), 200, "vocab:Customer", "/customers/1")
    assert j["id"] == 1
    assert j["name"].lower() == "admin"


def test_non_admin_cannot_list_or_create_customers(customer):
    assert_error(customer.api.get("/customers"), 403)
    assert_error(customer.api.post("/customers", json={"name": uniq()}), 403)


def test_admin_lists_customers_as_full_objects(admin, customer):
    first = assert_collection(admin.get("/customers", params={"pageSize": 500}), "vocab:Customer")
    total = first["totalItems"]
    assert total >= 2
    for m in first["member"]:
        assert type(m["id"]) is int and isinstance(m["name"], str) and isinstance(m["created"], str), m
        assert m["spaces"] == m["@id"] + "/spaces"
    # the new customer is listed: look from the last page backwards (newest last when ordered by id)
    pages = max(1, math.ceil(total / 500))
    found = None
    for page in range(pages, 0, -1):
        j = assert_collection(admin.get("/customers", params={"pageSize": 500, "page": page}), "vocab:Customer")
        found = next((m for m in j["member"] if m["id"] == customer.id), None)
        if found:
            break
    assert found is not None, "customer %d not listed" % customer.id
    assert found["name"] == customer.name and found["displayName"] == customer.name


def test_customers_list_pages(admin, make_customer):
    make_customer()
    make_customer()
    j = assert_collection(admin.get("/customers", params={"pageSize": 1}), "vocab:Customer")
    assert j["pageSize"] == 1 and len(j["member"]) == 1
    assert j["totalItems"] >= 3
    view = j["view"]
    assert view["page"] == 1 and view["totalPages"] == j["totalItems"]
    assert "next" in view and "last" in view and "first" not in view and "previous" not in view


def test_duplicate_customer_name_is_409_case_insensitive(admin):
    name = uniq("dup")
    assert_created(admin.post("/customers", json={"name": name}), "vocab:Customer")
    assert_error(admin.post("/customers", json={"name": name}), 409)
    assert_error(admin.post("/customers", json={"name": name.upper()}), 409)


@pytest.mark.parametrize("name", ["admin", "ADMIN", "Admin"])
def test_reserved_name_admin_is_400(admin, name):
    assert_error(admin.post("/customers", json={"name": name}), 400, "name")


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "x" * 61, "semi;colon", "quote'", "é-accent"])
def test_invalid_customer_name_is_400(admin, name):
    assert_error(admin.post("/customers", json={"name": name}), 400, "name")


def test_customer_name_of_60_chars_is_accepted(admin):
    name = ("n60-" + uniq())[:20] + "x" * 40
    assert len(name) == 60
    j = assert_created(admin.post("/customers", json={"name": name}), "vocab:Customer")
    assert j["name"] == name


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"displayName": "x"}, "name"),
    ({"name": 5}, "name"),
    ({"name": ["a"]}, "name"),
    ({"name": "ok-NAME", "displayName": 5}, "displayName"),
    ({"name": "ok-NAME", "created": "2020-01-01T00:00:00Z"}, "created"),
    ({"name": "ok-NAME", "bogus": 1}, "bogus"),
    ({"name": "ok-NAME", "id": 99}, "id"),
])
def test_bad_customer_create_body_is_400_naming_field(admin, body, field):
    if body.get("name") == "ok-NAME":
        body = dict(body, name=uniq())
    assert_error(admin.post("/customers", json=body), 400, field)


def test_admin_on_nonexistent_customer_is_404(admin):
    assert_error(admin.get("/customers/999999999"), 404)
    assert_error(admin.get("/customers/999999999/spaces"), 404)
    assert_error(admin.patch("/customers/999999999", json={"displayName": "x"}), 404)


def test_patch_display_name_only(customer):
    before = assert_resource(customer.api.get(customer.path), 200, "vocab:Customer")
    r = customer.api.patch(customer.path, json={"displayName": "New Display"})
    j = assert_resource(r, 200, "vocab:Customer", customer.path)
    assert j["displayName"] == "New Display"
    assert j["name"] == customer.name
    after = assert_resource(customer.api.get(customer.path), 200, "vocab:Customer")
    assert after["displayName"] == "New Display"
    assert after["name"] == before["name"] and after["created"] == before["created"]


def test_patch_ignores_context_type_and_matching_id(customer):
    r = customer.api.patch(customer.path, json={"@context": "x", "@type": "vocab:Customer",
                                                "@id": customer.body["@id"], "displayName": "D2"})
    assert assert_resource(r, 200, "vocab:Customer")["displayName"] == "D2"


@pytest.mark.parametrize("body,field", [
    ({"name": "renamed"}, "name"),
    ({"created": "2020-01-01T00:00:00Z"}, "created"),
    ({"displayName": 5}, "displayName"),
    ({"displayName": ["x"]}, "displayName"),
    ({"displayName": "ok", "spaces": "x"}, "spaces"),
])
def test_patch_customer_other_fields_are_400_naming_them(customer, body, field):
    assert_error(customer.api.patch(customer.path, json=body), 400, field)
    j = assert_resource(customer.api.get(customer.path), 200, "vocab:Customer")
    assert j["name"] == customer.name and j["displayName"] == customer.name, "a rejected PATCH changed %s" % j


def test_patch_customer_with_mismatched_id_is_400(customer):
    r = customer.api.patch(customer.path, json={"@id": customer.body["@id"] + "999", "displayName": "x"})
    assert_error(r, 400)


def test_admin_can_patch_any_customer(admin, customer):
    r = admin.patch(customer.path, json={"displayName": "By Admin"})
    assert assert_resource(r, 200, "vocab:Customer")["displayName"] == "By Admin", describe(r)
