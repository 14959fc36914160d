"""Assets (vocab:Image) at /customers/{c}/spaces/{s}/images/{id}: PUT
create/replace, GET, PATCH, DELETE, identifier rules, field types,
read-only fields, and the bulk PATCH of a space's images."""

import pytest

from helpers import (role_uri, assert_collection, assert_created, assert_error, assert_resource, describe, ids, put_asset,
                     seg)

READ_ONLY = {
    "width": 100, "height": 100, "duration": 5000, "batch": 1, "finished": "2020-01-01T00:00:00Z",
    "created": "2020-01-01T00:00:00Z", "ingesting": False, "error": "boom",
}


# ---------------------------------------------------------------- create / read

def test_put_new_asset_201_with_location_and_fields(space):
    c = space.customer
    r = c.api.put(space.image("img-1"), json={
        "mediaType": "image/jpeg",
        "string1": "s1", "string2": "s2", "string3": "s3", "number1": 1, "number2": 2, "number3": 3,
        "tags": ["t1", "t2"], "roles": [role_uri(c)], "maxUnauthorised": 200,
        "manifests": ["m1"]})
    j = assert_created(r, "vocab:Image", "%s/spaces/%d/images/img-1" % (c.path, space.id))
    assert j["id"] == "img-1"
    assert j["space"] == space.id and type(j["space"]) is int
    assert isinstance(j["created"], str) and j["created"]
    assert (j["string1"], j["string2"], j["string3"]) == ("s1", "s2", "s3")
    assert (j["number1"], j["number2"], j["number3"]) == (1, 2, 3)
    assert j["tags"] == ["t1", "t2"]
    assert j["roles"] == [role_uri(c)]
    assert j["maxUnauthorised"] == 200
    assert j["manifests"] == ["m1"]
    assert j["mediaType"] == "image/jpeg"
    assert j["family"] == "I"
    assert j["ingesting"] is False, "an asset without origin has nothing to ingest"
    for absent in ("width", "height", "finished", "error", "batch"):
        assert absent not in j, "%r must be omitted before ingest: %s" % (absent, j)
    assert j["storage"] == j["@id"] + "/storage"
    assert isinstance(j.get("imageService"), str) and "/iiif-img/" in j["imageService"]
    assert isinstance(j.get("thumbnailImageService"), str) and "/thumbs/" in j["thumbnailImageService"]


def test_put_with_dead_origin_is_502_and_asset_kept_with_error(space):
    # CONTRACT 5: PUT ingests synchronously; an unreachable origin answers
    # 502 naming the cause while the asset stays stored with its error.
    origin = "http://127.0.0.1:9/images/with-origin.jpg"  # discard port: refused
    r = space.customer.api.put(space.image("with-origin"),
                               json={"mediaType": "image/jpeg", "origin": origin})
    assert_error(r, 502, mentions="origin")
    got = assert_resource(space.customer.api.get(space.image("with-origin")), 200, "vocab:Image")
    assert got["origin"] == origin
    assert got["ingesting"] is False
    assert got.get("error", "").startswith("origin:"), got
    assert "width" not in got and "height" not in got


def test_put_without_origin_is_registered_not_ingested(space):
    j = put_asset(space, "no-origin")
    assert j["ingesting"] is False
    assert "error" not in j and "width" not in j


def test_put_minimal_asset_defaults(space):
    j = put_asset(space, "minimal")
    assert j["tags"] == [] and j["roles"] == [] and j["manifests"] == []
    assert j["maxUnauthorised"] == -1
    # string1..3, number1..3 and origin default to empty / 0 (present or omitted)
    for k in ("string1", "string2", "string3", "origin"):
        assert j.get(k, "") == "", "%s should default to empty: %s" % (k, j)
    for k in ("number1", "number2", "number3"):
        assert j.get(k, 0) == 0, "%s should default to 0: %s" % (k, j)
    for absent in ("width", "height", "duration", "finished", "batch"):
        assert absent not in j, "%r should be omitted before ingest: %s" % (absent, j)


def test_get_asset_matches_put(space):
    put = put_asset(space, "roundtrip", string1="x", tags=["a"])
    r = space.customer.api.get(space.image("roundtrip"))
    got = assert_resource(r, 200, "vocab:Image", "/images/roundtrip")
    assert got["ingesting"] is False
    assert "width" not in got and "height" not in got
    for k in ("id", "space", "created", "string1", "tags", "mediaType", "family", "deliveryChannels", "@id"):
        assert got[k] == put[k], "GET %s %r != PUT %r" % (k, got[k], put[k])


def test_put_again_is_200_full_replacement_keeping_created(space):
    first = put_asset(space, "again", string1="old", number1=7, tags=["t"], manifests=["m"])
    j = put_asset(space, "again", status=200, media="image/png", string2="new")
    assert j["created"] == first["created"], "replacement keeps created"
    assert j["mediaType"] == "image/png"
    assert j["string2"] == "new"
    assert j.get("string1", "") == "" and j.get("number1", 0) == 0, "omitted fields take defaults on PUT: %s" % j
    assert j["tags"] == [] and j["manifests"] == []
    got = assert_resource(space.customer.api.get(space.image("again")), 200, "vocab:Image")
    assert got.get("string1", "") == "" and got["string2"] == "new" and got["mediaType"] == "image/png"
    j = assert_collection(space.customer.api.get(space.path + "/images"))
    assert j["totalItems"] == 1, "replacing does not duplicate"


def test_put_without_media_type_is_400(space):
    r = space.customer.api.put(space.image("nomedia"), json={"string1": "x"})
    assert_error(r, 400, "mediaType")
    assert_error(space.customer.api.get(space.image("nomedia")), 404)


def test_put_into_missing_space_is_404(customer):
    assert_error(customer.api.put(customer.path + "/spaces/55/images/a", json={"mediaType": "image/jpeg"}), 404)
    assert_error(customer.api.get(customer.path + "/spaces/55/images/a"), 404)
    assert_error(customer.api.get(customer.path + "/spaces/55/images"), 404)


def test_admin_put_into_missing_customer_is_404(admin):
    assert_error(admin.put("/customers/999999999/spaces/1/images/a", json={"mediaType": "image/jpeg"}), 404)


def test_get_unknown_asset_is_404(space):
    assert_error(space.customer.api.get(space.image("never-made")), 404)


# ---------------------------------------------------------------- identifiers

@pytest.mark.parametrize("good", ["a", "A.b_c~d-e(f)", "x" * 200, "0123456789", "a.b", "(x)", "~"])
def test_valid_asset_ids_are_accepted(space, good):
    j = put_asset(space, good)
    assert j["id"] == good
    got = assert_resource(space.customer.api.get(space.image(good)), 200, "vocab:Image")
    assert got["id"] == good


@pytest.mark.parametrize("raw", [
    "a%2Fb", "%2F", "a%20b", "%20", "a%0Ab", "a%01b", "a%00b", "a%09b", "a..b", "..a", "%2E%2E", "a%2E%2Eb",
    "x" * 201, "y" * 300, "a+b", "a%23b", "a%3Fb", "a%25b", "caf%C3%A9", "a:b", "a*b", "a'b", "a%22b",
])
def test_bad_asset_ids_are_400_on_put(space, raw):
    r = space.customer.api.put(space.path + "/images/" + raw, json={"mediaType": "image/jpeg"})
    assert_error(r, 400)
    j = assert_collection(space.customer.api.get(space.path + "/images"))
    assert j["totalItems"] == 0, "a rejected id was stored: %s" % describe(r)


@pytest.mark.parametrize("raw", ["a%2Fb", "a%20b", "a%0Ab", "y" * 300])
def test_bad_asset_ids_are_400_on_get_patch_delete(space, raw):
    api = space.customer.api
    path = space.path + "/images/" + raw
    assert_error(api.get(path), 400)
    assert_error(api.patch(path, json={"string1": "x"}), 400)
    assert_error(api.delete(path), 400)


def test_raw_slash_in_id_is_another_path(space):
    r = space.customer.api.put(space.path + "/images/a/b", json={"mediaType": "image/jpeg"})
    assert r.status_code in (404, 405), describe(r)
    assert r.json()["@type"] == "Error"


# ---------------------------------------------------------------- field validation

@pytest.mark.parametrize("field,value", [
    ("string1", 5), ("string1", ["x"]), ("string1", True), ("string1", "z" * 256),
    ("string2", 5), ("string2", {"a": 1}), ("string3", 1.5), ("string3", "z" * 256),
    ("number1", "5"), ("number1", -1), ("number1", 1.5), ("number1", True), ("number1", [1]),
    ("number2", "x"), ("number2", -7), ("number3", {"n": 1}), ("number3", -1),
    ("tags", "t"), ("tags", [1]), ("tags", [["t"]]), ("tags", {"t": 1}),
    ("roles", "r"), ("roles", [5]),
    ("manifests", "m"), ("manifests", [1]),
    ("maxUnauthorised", -2), ("maxUnauthorised", "5"), ("maxUnauthorised", 1.5), ("maxUnauthorised", False),
    ("origin", 5), ("origin", ["https://x"]),
    ("family", "X"), ("family", 5), ("family", "image"),
    ("mediaType", 5), ("mediaType", ["image/jpeg"]),
    ("deliveryChannels", "iiif-img"), ("deliveryChannels", 5), ("deliveryChannels", [5]),
])
def test_wrong_type_is_400_naming_field(space, field, value):
    body = {"mediaType": "image/jpeg", field: value}
    assert_error(space.customer.api.put(space.image("typed"), json=body), 400, field)
    assert_error(space.customer.api.get(space.image("typed")), 404)


def test_string_of_255_chars_and_large_numbers_accepted(space):
    j = put_asset(space, "limits", string1="z" * 255, number1=0, number2=2147483647, maxUnauthorised=0)
    assert j["string1"] == "z" * 255 and j["number1"] == 0 and j["number2"] == 2147483647
    assert j["maxUnauthorised"] == 0


@pytest.mark.parametrize("field", sorted(READ_ONLY))
def test_read_only_field_on_put_is_400_naming_it(space, field):
    body = {"mediaType": "image/jpeg", field: READ_ONLY[field]}
    assert_error(space.customer.api.put(space.image("ro"), json=body), 400, field)
    assert_error(space.customer.api.get(space.image("ro")), 404)


@pytest.mark.parametrize("field", sorted(READ_ONLY))
def test_read_only_field_on_patch_is_400_naming_it(space, field):
    put_asset(space, "ro-patch", string1="before")
    r = space.customer.api.patch(space.image("ro-patch"), json={"string1": "after", field: READ_ONLY[field]})
    assert_error(r, 400, field)
    got = assert_resource(space.customer.api.get(space.image("ro-patch")), 200, "vocab:Image")
    assert got["string1"] == "before", "a rejected PATCH changed the asset"


@pytest.mark.parametrize("field,value", [("thumbnailPolicy", "default"), ("imageOptimisationPolicy", "fast-higher")])
def test_deprecated_policy_fields_are_400(space, field, value):
    assert_error(space.customer.api.put(space.image("dep"), json={"mediaType": "image/jpeg", field: value}), 400, field)


@pytest.mark.parametrize("field", ["bogus", "initialOrigin2", "Width", "customer"])
def test_unknown_field_is_400(space, field):
    assert_error(space.customer.api.put(space.image("unk"), json={"mediaType": "image/jpeg", field: 1}), 400, field)


def test_ignored_output_fields_are_accepted_on_input(space):
    j = put_asset(space, "ignored", **{
        "@context": "https://dlcs.github.io/vocab/context/future.json", "@type": "vocab:Image",
        "imageService": "https://elsewhere/x", "thumbnailImageService": "https://elsewhere/y",
        "storage": "https://elsewhere/z"})
    assert "elsewhere" not in j.get("imageService", "") and "elsewhere" not in j.get("storage", "")


def test_matching_id_space_and_at_id_are_accepted(space):
    put_asset(space, "agree")  # learn the @id
    at_id = assert_resource(space.customer.api.get(space.image("agree")), 200, "vocab:Image")["@id"]
    j = put_asset(space, "agree", status=200, id="agree", space=space.id, **{"@id": at_id})
    assert j["id"] == "agree"


@pytest.mark.parametrize("extra,field", [
    ({"id": "other"}, "id"), ({"space": 999}, "space"), ({"space": "1"}, "space"),
    ({"@id": "https://example.org/customers/1/spaces/1/images/other"}, "@id"),
])
def test_disagreeing_id_space_or_at_id_is_400(space, extra, field):
    body = {"mediaType": "image/jpeg"}
    body.update(extra)
    assert_error(space.customer.api.put(space.image("disagree"), json=body), 400)
    assert_error(space.customer.api.get(space.image("disagree")), 404)


# ---------------------------------------------------------------- PATCH / DELETE

def test_patch_changes_only_given_fields(space):
    before = put_asset(space, "p1", string1="a", string2="b", number1=1, tags=["x"], roles=[role_uri(space.customer)], manifests=["m"])
    r = space.customer.api.patch(space.image("p1"), json={"string1": "changed", "number2": 9})
    j = assert_resource(r, 200, "vocab:Image", "/images/p1")
    assert j["string1"] == "changed" and j["number2"] == 9
    for k in ("string2", "number1", "tags", "roles", "manifests", "mediaType", "family", "created",
              "deliveryChannels", "maxUnauthorised"):
        assert j[k] == before[k], "PATCH changed %s: %r -> %r" % (k, before[k], j[k])
    got = assert_resource(space.customer.api.get(space.image("p1")), 200, "vocab:Image")
    assert got["string1"] == "changed" and got["string2"] == "b" and got["number2"] == 9


def test_patch_replaces_arrays(space):
    put_asset(space, "p2", tags=["a", "b"])
    j = assert_resource(space.customer.api.patch(space.image("p2"), json={"tags": ["c"]}), 200, "vocab:Image")
    assert j["tags"] == ["c"]


def test_patch_unknown_asset_is_404(space):
    assert_error(space.customer.api.patch(space.image("ghost"), json={"string1": "x"}), 404)


@pytest.mark.parametrize("field,value", [("number1", "x"), ("tags", "t"), ("deliveryChannels", []),
                                         ("maxUnauthorised", -3), ("bogus", 1), ("mediaType", 3)])
def test_patch_validates_like_put(space, field, value):
    put_asset(space, "pv", number1=4)
    assert_error(space.customer.api.patch(space.image("pv"), json={field: value}), 400, field)
    got = assert_resource(space.customer.api.get(space.image("pv")), 200, "vocab:Image")
    assert got["number1"] == 4


def test_delete_asset_204_then_404(space):
    put_asset(space, "gone")
    r = space.customer.api.delete(space.image("gone"))
    assert r.status_code == 204 and r.content == b"", describe(r)
    assert_error(space.customer.api.get(space.image("gone")), 404)
    assert_error(space.customer.api.delete(space.image("gone")), 404)
    assert_error(space.customer.api.get(space.image("gone") + "/storage"), 404)


def test_delete_unknown_asset_is_404(space):
    assert_error(space.customer.api.delete(space.image("nothing-here")), 404)


def test_same_id_in_two_spaces_are_separate_assets(customer):
    from helpers import create_space
    s1, s2 = create_space(customer), create_space(customer)
    put_asset(s1, "twin", string1="one")
    put_asset(s2, "twin", string1="two")
    assert customer.api.delete(s1.image("twin")).status_code == 204
    got = assert_resource(customer.api.get(s2.image("twin")), 200, "vocab:Image")
    assert got["string1"] == "two" and got["space"] == s2.id


# ---------------------------------------------------------------- bulk PATCH of a space's images

def test_bulk_patch_updates_members_and_returns_them(space):
    api = space.customer.api
    put_asset(space, "b1", string1="old1", number1=1, tags=["keep"])
    put_asset(space, "b2", string1="old2")
    put_asset(space, "b3", string1="untouched")
    r = api.patch(space.path + "/images", json={"@type": "Collection", "member": [
        {"id": "b1", "string1": "new1", "number3": 3},
        {"id": "b2", "tags": ["t"], "roles": [role_uri(space.customer)], "manifests": ["m"], "string2": "s2", "number1": 5}]})
    j = assert_collection(r, "vocab:Image")
    assert j["totalItems"] == 2 and sorted(ids(j["member"])) == ["b1", "b2"]
    by = {m["id"]: m for m in j["member"]}
    assert by["b1"]["string1"] == "new1" and by["b1"]["number3"] == 3 and by["b1"]["tags"] == ["keep"]
    assert by["b1"]["number1"] == 1
    b2 = assert_resource(api.get(space.image("b2")), 200, "vocab:Image")
    assert (b2["tags"], b2["roles"], b2["manifests"], b2["string2"], b2["number1"], b2["string1"]) == \
        (["t"], [role_uri(space.customer)], ["m"], "s2", 5, "old2")
    b3 = assert_resource(api.get(space.image("b3")), 200, "vocab:Image")
    assert b3["string1"] == "untouched"


@pytest.mark.parametrize("member,field", [
    ({"id": "c1", "origin": "https://x/y.jpg"}, "origin"),
    ({"id": "c1", "deliveryChannels": ["file"]}, "deliveryChannels"),
    ({"id": "c1", "maxUnauthorised": 5}, "maxUnauthorised"),
    ({"id": "c1", "width": 5}, "width"),
    ({"id": "c1", "number1": "x"}, "number1"),
    ({"string1": "no id"}, "id"),
])
def test_bulk_patch_rejects_bad_members_and_changes_nothing(space, member, field):
    api = space.customer.api
    put_asset(space, "c1", string1="orig")
    put_asset(space, "c2", string1="orig")
    r = api.patch(space.path + "/images", json={"@type": "Collection", "member": [
        {"id": "c2", "string1": "changed"}, member]})
    assert_error(r, 400, field)
    for a in ("c1", "c2"):
        assert assert_resource(api.get(space.image(a)), 200, "vocab:Image")["string1"] == "orig", \
            "rejected bulk PATCH changed %s" % a


def test_bulk_patch_with_id_not_in_space_is_400_naming_it(space):
    api = space.customer.api
    put_asset(space, "d1", string1="orig")
    r = api.patch(space.path + "/images", json={"@type": "Collection", "member": [
        {"id": "d1", "string1": "changed"}, {"id": "not-there", "string1": "x"}]})
    assert_error(r, 400, mentions="not-there")
    assert assert_resource(api.get(space.image("d1")), 200, "vocab:Image")["string1"] == "orig"
    assert_error(api.get(space.image("not-there")), 404)


def test_asset_id_percent_encoding_round_trips(space):
    j = put_asset(space, "p(1)~x")
    r = space.customer.api.get(space.path + "/images/" + seg("p(1)~x"))
    assert assert_resource(r, 200, "vocab:Image")["id"] == "p(1)~x" == j["id"]
