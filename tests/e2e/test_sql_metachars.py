"""SQL metacharacters are data: stored and returned verbatim in string
fields, tags and names, and matched exactly in queries (no LIKE, so % and _
are not wildcards)."""

import pytest

from helpers import assert_collection, assert_created, assert_error, assert_resource, create_space, put_asset, q

NASTY = ["'", '"', ";", "--", "%", "_", "\\", "' OR '1'='1", "a%c", "a_c", "%%", "\\%", "'; DROP TABLE assets; --",
         "\" OR \"\"=\"", "x' --", "*", "?", "\\'", "\\\\", "NULL", "' UNION SELECT 1 --"]
DECOYS = ["abc", "aXc", "a\\c", "OR", "1", "ab"]


@pytest.fixture(scope="module")
def md(make_customer):
    class D:
        pass
    d = D()
    d.c = make_customer("meta")
    d.s = create_space(d.c)
    d.by_value = {}
    for i, v in enumerate(NASTY + DECOYS):
        aid = "m%02d" % i
        put_asset(d.s, aid, string1=v, string2="fixed", tags=[v, "common"])
        d.by_value[v] = aid
    return d


def test_values_round_trip_verbatim(md):
    for v, aid in md.by_value.items():
        j = assert_resource(md.c.api.get(md.s.image(aid)), 200, "vocab:Image")
        assert j.get("string1", "") == v, "string1 %r came back as %r" % (v, j.get("string1"))
        assert sorted(j["tags"]) == sorted([v, "common"]), "tag %r came back as %r" % (v, j["tags"])


@pytest.mark.parametrize("value", NASTY + ["abc", "a\\c"])
def test_q_string1_matches_exactly(md, value):
    j = assert_collection(md.c.api.get(md.s.path + "/images", params={"q": q({"string1": value})}))
    assert [m["id"] for m in j["member"]] == [md.by_value[value]], \
        "string1=%r matched %s" % (value, [(m["id"], m.get("string1")) for m in j["member"]])


@pytest.mark.parametrize("value", ["%", "_", "a%c", "a_c", "' OR '1'='1", "\\", "--", ";"])
def test_shortcut_string1_matches_exactly(md, value):
    j = assert_collection(md.c.api.get(md.s.path + "/images", params={"string1": value}))
    assert [m["id"] for m in j["member"]] == [md.by_value[value]], \
        "?string1=%r matched %s" % (value, [m.get("string1") for m in j["member"]])


@pytest.mark.parametrize("value", ["%", "_", "' OR '1'='1", "\\", '"', "a%c"])
def test_tags_match_exactly(md, value):
    j = assert_collection(md.c.api.get(md.s.path + "/images", params={"q": q({"tags": [value]})}))
    assert [m["id"] for m in j["member"]] == [md.by_value[value]], \
        "tags=[%r] matched %s" % (value, [m["tags"] for m in j["member"]])


def test_or_of_wildcards_matches_only_those(md):
    j = assert_collection(md.c.api.get(md.s.path + "/images", params={"q": q({"string1": ["%", "_"]})}))
    assert sorted(m["id"] for m in j["member"]) == sorted([md.by_value["%"], md.by_value["_"]])


def test_all_images_matches_exactly(md):
    j = assert_collection(md.c.api.get(md.c.path + "/allImages", params={"q": q({"string1": "%"})}))
    assert [m["id"] for m in j["member"]] == [md.by_value["%"]]
    j = assert_collection(md.c.api.get(md.c.path + "/allImages", params={"string1": "' OR '1'='1"}))
    assert [m["id"] for m in j["member"]] == [md.by_value["' OR '1'='1"]]


def test_everything_still_there(md):
    j = assert_collection(md.c.api.get(md.s.path + "/images", params={"q": q({"tags": ["common"]})}))
    assert j["totalItems"] == len(NASTY) + len(DECOYS)


@pytest.mark.parametrize("name", ["it's", 'say "hi"', "a;b", "a--b", "100%", "under_score", "back\\slash",
                                  "' OR '1'='1", "%", "_"])
def test_space_names_are_data(customer, name):
    r = customer.api.post(customer.path + "/spaces", json={"name": name, "defaultTags": [name]})
    j = assert_created(r, "vocab:Space")
    assert j["name"] == name and j["defaultTags"] == [name]
    got = assert_resource(customer.api.get(customer.path + "/spaces/%d" % j["id"]), 200, "vocab:Space")
    assert got["name"] == name
    lst = assert_collection(customer.api.get(customer.path + "/spaces"))
    assert [m["name"] for m in lst["member"]] == [name], "only one space exists"


def test_wildcard_space_name_does_not_clash(customer):
    create_space(customer, "a%")
    create_space(customer, "a_")
    create_space(customer, "ab")  # would clash with both if compared with LIKE
    lst = assert_collection(customer.api.get(customer.path + "/spaces", params={"orderBy": "id"}))
    assert [m["name"] for m in lst["member"]] == ["a%", "a_", "ab"]


def test_customer_display_name_is_data(customer):
    for v in ["it's", "' OR '1'='1", "%_\\;--"]:
        r = customer.api.patch(customer.path, json={"displayName": v})
        assert assert_resource(r, 200, "vocab:Customer")["displayName"] == v
        assert assert_resource(customer.api.get(customer.path), 200, "vocab:Customer")["displayName"] == v


# ---------------------------------------------------------------- exactness beyond metacharacters

# (roles hold role URIs of the customer's roles, which have no blank)
@pytest.mark.parametrize("field", ["string1", "tags", "manifests"])
def test_trailing_space_is_significant(space, field):
    """"x" and "x " are different values: each matches only itself."""
    def body(v):
        return {field: v if field == "string1" else [v]}
    put_asset(space, "plain", **body("x"))
    put_asset(space, "spaced", **body("x "))
    for value, want in (("x", ["plain"]), ("x ", ["spaced"])):
        r = space.customer.api.get(space.path + "/images", params={"q": q(body(value))})
        got = sorted(m["id"] for m in assert_collection(r)["member"])
        assert got == want, "%s=%r matched %s" % (field, value, got)


@pytest.mark.parametrize("field", ["string1", "tags"])
def test_nul_character_is_rejected_or_kept_never_truncated(space, field):
    """A JSON "\\u0000" inside a string must not silently cut the value: either
    400 naming the field, or the value stored verbatim."""
    value = "a\u0000b"
    r = space.customer.api.put(space.image("nul"), json={"mediaType": "image/jpeg",
                                                          field: value if field == "string1" else [value]})
    if r.status_code == 400:
        assert_error(r, 400, field)
        return
    j = assert_created(r, "vocab:Image")
    stored = j[field] if field == "string1" else j[field][0]
    if stored != value:  # (no assert: pytest's diff would print the raw NUL)
        pytest.fail("%s %r was stored as %r" % (field, value, stored))


def test_nul_character_in_space_name_is_rejected_or_kept(customer):
    r = customer.api.post(customer.path + "/spaces", json={"name": "nul\u0000x"})
    if r.status_code == 400:
        assert_error(r, 400, "name")
        return
    j = assert_created(r, "vocab:Space")
    if j["name"] != "nul\u0000x":
        pytest.fail("space name %r was stored as %r" % ("nul\u0000x", j["name"]))
