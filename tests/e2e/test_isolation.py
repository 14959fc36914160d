"""Cross-customer isolation: customer A's key on customer B's paths gets 401
and never B's data; A's queries never return B's assets even with the same
space and asset ids; the admin reads both."""

import pytest

from helpers import assert_collection, assert_error, assert_resource, create_space, put_asset, q


@pytest.fixture(scope="module")
def ab(make_customer):
    class D:
        pass
    d = D()
    d.a = make_customer("iso-a")
    d.b = make_customer("iso-b")
    # same space ids (1) and the same asset ids in both customers
    d.sa = create_space(d.a, "shared-name")
    d.sb = create_space(d.b, "shared-name")
    assert d.sa.id == d.sb.id == 1
    for aid in ("same", "other"):
        put_asset(d.sa, aid, string1="A-data", tags=["t"], number1=1)
        put_asset(d.sb, aid, string1="B-secret", tags=["t"], number1=1)
    put_asset(d.sb, "b-only", string1="B-secret")
    return d


def b_paths(d):
    b = d.b.path
    return [
        ("GET", b), ("PATCH", b), ("GET", b + "/spaces"), ("POST", b + "/spaces"), ("GET", b + "/spaces/1"),
        ("PUT", b + "/spaces/1"), ("PATCH", b + "/spaces/1"), ("DELETE", b + "/spaces/1"),
        ("GET", b + "/spaces/1/images"), ("PATCH", b + "/spaces/1/images"),
        ("GET", b + "/spaces/1/images/same"), ("PUT", b + "/spaces/1/images/same"),
        ("PATCH", b + "/spaces/1/images/same"), ("DELETE", b + "/spaces/1/images/same"),
        ("GET", b + "/spaces/1/images/same/storage"), ("GET", b + "/spaces/1/storage"),
        ("GET", b + "/keys"), ("DELETE", b + "/keys/" + d.b.key),
        ("GET", b + "/allImages"), ("POST", b + "/allImages"), ("PATCH", b + "/allImages"),
        ("GET", b + "/storage"), ("GET", b + "/defaultDeliveryChannels"),
        ("POST", b + "/defaultDeliveryChannels"), ("GET", b + "/deliveryChannelPolicies"),
        ("GET", b + "/deliveryChannelPolicies/thumbs"), ("POST", b + "/deliveryChannelPolicies/thumbs"),
        ("GET", b + "/spaces/1/defaultDeliveryChannels"),
    ]


BODIES = {
    "PATCH": {"displayName": "pwned", "string1": "pwned", "name": "pwned"},
    "POST": {"name": "pwned", "member": [], "channel": "file", "policy": "none", "mediaType": "x/*"},
    "PUT": {"name": "pwned", "mediaType": "image/jpeg"},
}


def test_a_key_on_b_paths_is_401_and_leaks_nothing(ab):
    for method, path in b_paths(ab):
        r = ab.a.api.request(method, path, json=BODIES.get(method))
        assert r.status_code == 401, "%s %s with A's key gave %s %s" % (method, path, r.status_code, r.text[:300])
        assert_error(r, 401)
        assert "B-secret" not in r.text and ab.b.name not in r.text and ab.b.key not in r.text, \
            "%s %s leaked B's data: %s" % (method, path, r.text[:300])


def test_b_unchanged_after_a_attempts(ab):
    # run after the attempts above have been made
    test_a_key_on_b_paths_is_401_and_leaks_nothing(ab)
    b = ab.b
    cust = assert_resource(b.api.get(b.path), 200, "vocab:Customer")
    assert cust["displayName"] != "pwned"
    sp = assert_resource(b.api.get(ab.sb.path), 200, "vocab:Space")
    assert sp["name"] == "shared-name"
    img = assert_resource(b.api.get(ab.sb.image("same")), 200, "vocab:Image")
    assert img["string1"] == "B-secret"
    assert b.api.get(b.path).status_code == 200, "B's key was not deleted"
    assert assert_collection(b.api.get(b.path + "/spaces"))["totalItems"] == 1


def test_a_key_on_b_key_creation_is_refused(ab):
    r = ab.a.api.post(ab.b.path + "/keys")
    assert r.status_code in (401, 403), "A created a key for B: %s %s" % (r.status_code, r.text[:200])
    assert "secret" not in r.json()


def test_a_key_on_nonexistent_customer_is_401(ab):
    assert_error(ab.a.api.get("/customers/999999999"), 401)
    assert_error(ab.a.api.get("/customers/999999999/spaces/1/images"), 401)


def test_a_all_images_never_returns_b(ab):
    a = ab.a
    for params in ({}, {"q": q({"id": "same"})}, {"q": q({"id": ["same", "other", "b-only"]})},
                   {"q": q({"string1": "B-secret"})}, {"string1": "B-secret"}, {"q": q({"space": 1})},
                   {"q": q({"tags": ["t"]})}, {"number1": "1"}):
        r = a.api.get(a.path + "/allImages", params=params)
        j = assert_collection(r, "vocab:Image")
        assert "B-secret" not in r.text, "allImages %s returned B's assets" % params
        for m in j["member"]:
            assert m["@id"].rsplit("/images/", 1)[0].endswith(a.path + "/spaces/1"), m["@id"]
            assert m["string1"] == "A-data"
    j = assert_collection(a.api.get(a.path + "/allImages", params={"q": q({"id": "same"})}))
    assert j["totalItems"] == 1


def test_a_space_images_query_never_returns_b(ab):
    r = ab.a.api.get(ab.sa.path + "/images", params={"q": q({"id": ["same", "b-only"]})})
    j = assert_collection(r)
    assert [m["id"] for m in j["member"]] == ["same"] and j["member"][0]["string1"] == "A-data"
    j = assert_collection(ab.a.api.get(ab.sa.path + "/images", params={"string1": "B-secret"}))
    assert j["totalItems"] == 0


def test_a_post_all_images_with_b_ids_is_400(ab):
    r = ab.a.api.post(ab.a.path + "/allImages", json={"member": [{"id": "%d/1/same" % ab.b.id}]})
    assert_error(r, 400)
    assert "B-secret" not in r.text


def test_admin_reads_both(admin, ab):
    for c, sp, marker in ((ab.a, ab.sa, "A-data"), (ab.b, ab.sb, "B-secret")):
        assert assert_resource(admin.get(c.path), 200, "vocab:Customer")["name"] == c.name
        img = assert_resource(admin.get(sp.image("same")), 200, "vocab:Image")
        assert img["string1"] == marker
        j = assert_collection(admin.get(c.path + "/allImages", params={"q": q({"id": "same"})}))
        assert [m["string1"] for m in j["member"]] == [marker]
        keys = assert_collection(admin.get(c.path + "/keys"))
        assert c.key in {m["key"] for m in keys["member"]}


def test_admin_allimages_is_per_customer(admin, ab):
    j = assert_collection(admin.get(ab.b.path + "/allImages"))
    assert j["totalItems"] == 3 and all(m["string1"] == "B-secret" for m in j["member"])
