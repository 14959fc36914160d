"""The asset query syntax on /customers/{c}/spaces/{s}/images and
/customers/{c}/allImages: q objects, shortcut parameters, OR within a field,
AND across fields, ordering, and the 400s for malformed queries."""

import pytest

from helpers import assert_collection, assert_error, create_space, ids, put_asset, q

# Role URIs of the query customer: "x" stands for its id (qd.real), any
# base is its API's (asset/role_uri.h)
R1 = "https://api.example.org/customers/x/roles/clickthrough"
R2 = "https://api.example.org/customers/x/roles/staff"

# space 1 of the query customer
S1 = [
    ("q01", "image/jpeg", dict(string1="alpha", string2="one", string3="x", number1=10, number2=5, number3=1,
                               tags=["red"], roles=[R1], manifests=["m1"])),
    ("q02", "image/png", dict(string1="beta", string2="two", string3="x", number1=20, number2=4, number3=1,
                              tags=["green", "red"])),
    ("q03", "audio/mp3", dict(string1="gamma", string2="one", string3="y", number1=30, number2=3, number3=2,
                              tags=["blue"], roles=[R2])),
    ("q04", "application/pdf", dict(string1="delta", string2="two", string3="y", number1=40, number2=2, number3=2,
                                    roles=[R1, R2], manifests=["m1", "m2"])),
    ("q05", "image/jpeg", dict(string1="alpha", string2="three", number1=50, number2=1, number3=3,
                               tags=["green"], maxUnauthorised=100)),
]
# space 2: the same id q01 again, plus q06
S2 = [
    ("q01", "image/jpeg", dict(string1="alpha", number1=60, tags=["red"])),
    ("q06", "image/jpeg", dict(string1="epsilon", number1=70, tags=["blue", "red"])),
]


class QData:
    pass


@pytest.fixture(scope="module")
def qd(make_customer):
    d = QData()
    d.c = make_customer("query")
    d.real = lambda text: text.replace("/customers/x/", "/customers/%d/" % d.c.id)
    assert d.c.api.put(d.c.path + "/roles/staff", json={}).status_code == 201
    d.s1 = create_space(d.c)
    d.s2 = create_space(d.c)
    for sp, rows in ((d.s1, S1), (d.s2, S2)):
        for aid, media, fields in rows:
            fields = dict(fields, roles=[d.real(r) for r in fields.get("roles", [])])
            put_asset(sp, aid, media=media, **fields)
    d.images = d.s1.path + "/images"
    d.all = d.c.path + "/allImages"
    return d


def get_ids(qd, params, path=None):
    params = {k: qd.real(v) if isinstance(v, str) else v for k, v in params.items()}
    r = qd.c.api.get(path or qd.images, params=params)
    j = assert_collection(r, "vocab:Image")
    assert j["totalItems"] == len(j["member"]), "expected a single page"
    return ids(j["member"])


def test_no_filter_lists_the_space_in_created_order(qd):
    assert get_ids(qd, {}) == ["q01", "q02", "q03", "q04", "q05"]


def test_members_are_full_images(qd):
    j = assert_collection(qd.c.api.get(qd.images, params={"q": q({"id": "q01"})}), "vocab:Image")
    m = j["member"][0]
    assert (m["string1"], m["number1"], m["tags"], m["roles"], m["manifests"], m["space"]) == \
        ("alpha", 10, ["red"], [qd.real(R1)], ["m1"], qd.s1.id)
    assert m["@id"].endswith(qd.s1.path + "/images/q01")


@pytest.mark.parametrize("query,expected", [
    ({"string1": "alpha"}, {"q01", "q05"}),
    ({"string1": ["beta", "gamma"]}, {"q02", "q03"}),
    ({"string1": "nobody"}, set()),
    ({"string1": "ALPHA-not"}, set()),
    ({"string2": "one"}, {"q01", "q03"}),
    ({"string3": "y"}, {"q03", "q04"}),
    ({"string3": ["x", "y"]}, {"q01", "q02", "q03", "q04"}),
    ({"number1": 30}, {"q03"}),
    ({"number1": [10, 50]}, {"q01", "q05"}),
    ({"number1": 0}, set()),
    ({"number2": 4}, {"q02"}),
    ({"number3": 2}, {"q03", "q04"}),
    ({"number3": [1, 3]}, {"q01", "q02", "q05"}),
    ({"tags": ["red"]}, {"q01", "q02"}),
    ({"tags": ["red", "blue"]}, {"q01", "q02", "q03"}),
    ({"tags": "green"}, {"q02", "q05"}),
    ({"tags": ["purple"]}, set()),
    ({"roles": [R1]}, {"q01", "q04"}),
    ({"roles": [R1, R2]}, {"q01", "q03", "q04"}),
    ({"roles": R2}, {"q03", "q04"}),
    ({"id": "q03"}, {"q03"}),
    ({"id": ["q01", "q04", "nope"]}, {"q01", "q04"}),
    ({"id": "q06"}, set()),
    ({"manifests": ["m1"]}, {"q01", "q04"}),
    ({"manifests": ["m2"]}, {"q04"}),
    ({"string1": "alpha", "number1": 50}, {"q05"}),
    ({"string1": "alpha", "tags": ["red"]}, {"q01"}),
    ({"string2": "two", "tags": ["red", "blue"]}, {"q02"}),
    ({"string1": ["alpha", "beta"], "number3": 1}, {"q01", "q02"}),
    ({"string1": "alpha", "number1": 20}, set()),
    ({"roles": [R1], "manifests": ["m2"], "string3": "y"}, {"q04"}),
    ({"id": ["q01", "q02", "q03"], "tags": ["red"], "number2": [4, 5]}, {"q01", "q02"}),
])
def test_q_filters_on_space_images(qd, query, expected):
    got = get_ids(qd, {"q": q(query)})
    assert set(got) == expected, "q=%s gave %s" % (q(query), got)
    assert len(got) == len(set(got)), "duplicates in %s" % got


@pytest.mark.parametrize("params,expected", [
    ({"string1": "alpha"}, {"q01", "q05"}),
    ({"number1": "20"}, {"q02"}),
    ({"string1": "alpha", "number1": "10"}, {"q01"}),
    ({"string1": "alpha", "number1": "20"}, set()),
    ({"string2": "two", "number3": "2"}, {"q04"}),
    ({"string3": "x"}, {"q01", "q02"}),
    ({"number2": "1"}, {"q05"}),
    ({"number3": "1"}, {"q01", "q02"}),
])
def test_shortcut_parameters(qd, params, expected):
    assert set(get_ids(qd, params)) == expected


def test_empty_result_is_an_empty_collection(qd):
    j = assert_collection(qd.c.api.get(qd.images, params={"string1": "nothing"}), "vocab:Image")
    assert j["totalItems"] == 0 and j["member"] == [] and "view" not in j


@pytest.mark.parametrize("param,field,expected", [
    ("orderBy", "id", ["q01", "q02", "q03", "q04", "q05"]),
    ("orderByDescending", "id", ["q05", "q04", "q03", "q02", "q01"]),
    ("orderBy", "number1", ["q01", "q02", "q03", "q04", "q05"]),
    ("orderByDescending", "number1", ["q05", "q04", "q03", "q02", "q01"]),
    ("orderBy", "number2", ["q05", "q04", "q03", "q02", "q01"]),
    ("orderByDescending", "number2", ["q01", "q02", "q03", "q04", "q05"]),
])
def test_ordering_exact(qd, param, field, expected):
    assert get_ids(qd, {param: field}) == expected


def test_order_by_string1_descending(qd):
    got = get_ids(qd, {"orderByDescending": "string1"})
    # gamma, delta, beta, then the two alphas in either order
    assert got[:3] == ["q03", "q04", "q02"] and set(got[3:]) == {"q01", "q05"}, got


def test_order_by_max_unauthorised(qd):
    got = get_ids(qd, {"orderBy": "maxUnauthorised"})
    assert got[-1] == "q05" and set(got[:4]) == {"q01", "q02", "q03", "q04"}, got
    got = get_ids(qd, {"orderByDescending": "maxUnauthorised"})
    assert got[0] == "q05" and set(got[1:]) == {"q01", "q02", "q03", "q04"}, got


@pytest.mark.parametrize("param,field", [
    ("orderBy", "string1"), ("orderBy", "string2"), ("orderByDescending", "string3"), ("orderBy", "mediaType"),
    ("orderByDescending", "mediaType"), ("orderBy", "family"), ("orderBy", "number3"), ("orderBy", "created"),
    ("orderByDescending", "created"),
])
def test_ordering_values_sorted(qd, param, field):
    j = assert_collection(qd.c.api.get(qd.images, params={param: field}), "vocab:Image")
    assert set(ids(j["member"])) == {"q01", "q02", "q03", "q04", "q05"}
    vals = [m.get(field, "") for m in j["member"]]
    want = sorted(vals, reverse=(param == "orderByDescending"))
    assert vals == want, "%s=%s gave values %s" % (param, field, vals)


@pytest.mark.parametrize("field", ["width", "height", "duration", "origin", "finished", "ingesting", "space",
                                   "id", "created"])
def test_every_documented_order_field_is_accepted(qd, field):
    for param in ("orderBy", "orderByDescending"):
        assert set(get_ids(qd, {param: field})) == {"q01", "q02", "q03", "q04", "q05"}


@pytest.mark.parametrize("param,field", [
    ("orderBy", "bogus"), ("orderBy", "tags"), ("orderByDescending", "roles"), ("orderBy", "customer_id"),
    ("orderBy", "string1; DROP TABLE assets"), ("orderBy", "string1 desc"), ("orderBy", "1"),
    ("orderByDescending", "secret"), ("orderBy", "number4"),
])
def test_unknown_order_field_is_400(qd, param, field):
    assert_error(qd.c.api.get(qd.images, params={param: field}), 400)
    assert_error(qd.c.api.get(qd.all, params={param: field}), 400)


@pytest.mark.parametrize("raw", [
    "{", "not json", "[1]", '"x"', "42", '{"bogus":1}', '{"string1":5}', '{"string1":[5]}', '{"number1":"x"}',
    '{"number1":["x"]}', '{"tags":5}', '{"tags":[1]}', '{"roles":{"a":1}}', '{"id":[1]}', '{"id":5}',
    '{"space":1}', '{"manifests":5}', '{"string1":{"a":"b"}}',
])
def test_malformed_q_is_400(qd, raw):
    assert_error(qd.c.api.get(qd.images, params={"q": raw}), 400)


@pytest.mark.parametrize("params", [{"number1": "abc"}, {"number2": "1x"}, {"number3": "-x"}])
def test_malformed_shortcut_number_is_400(qd, params):
    assert_error(qd.c.api.get(qd.images, params=params), 400)


# ---------------------------------------------------------------- allImages GET

def pairs(qd, params):
    j = assert_collection(qd.c.api.get(qd.all, params=params), "vocab:Image")
    assert j["totalItems"] == len(j["member"])
    return [(m["space"], m["id"]) for m in j["member"]]


def test_all_images_spans_spaces(qd):
    got = pairs(qd, {})
    assert sorted(got) == sorted([(qd.s1.id, a) for a, _, _ in S1] + [(qd.s2.id, a) for a, _, _ in S2])


def test_all_images_same_id_in_two_spaces(qd):
    assert sorted(pairs(qd, {"q": q({"id": "q01"})})) == [(qd.s1.id, "q01"), (qd.s2.id, "q01")]
    assert pairs(qd, {"q": q({"id": "q01", "space": qd.s2.id})}) == [(qd.s2.id, "q01")]


@pytest.mark.parametrize("make_params,expected_spaces", [
    (lambda d: {"q": q({"space": d.s1.id})}, "s1"),
    (lambda d: {"q": q({"space": [d.s1.id, d.s2.id]})}, "both"),
    (lambda d: {"space": str(d.s2.id)}, "s2"),
    (lambda d: {"q": q({"space": 999})}, "none"),
])
def test_all_images_space_filter(qd, make_params, expected_spaces):
    want = {"s1": {(qd.s1.id, a) for a, _, _ in S1}, "s2": {(qd.s2.id, a) for a, _, _ in S2}, "none": set()}
    want["both"] = want["s1"] | want["s2"]
    assert set(pairs(qd, make_params(qd))) == want[expected_spaces]


def test_all_images_filters_combine(qd):
    assert set(pairs(qd, {"q": q({"string1": "alpha"})})) == {(qd.s1.id, "q01"), (qd.s1.id, "q05"), (qd.s2.id, "q01")}
    assert pairs(qd, {"q": q({"string1": "alpha", "space": qd.s2.id})}) == [(qd.s2.id, "q01")]
    assert set(pairs(qd, {"q": q({"tags": ["blue"]})})) == {(qd.s1.id, "q03"), (qd.s2.id, "q06")}
    assert set(pairs(qd, {"string1": "alpha", "number1": "60"})) == {(qd.s2.id, "q01")}
    assert set(pairs(qd, {"q": q({"number1": [10, 70]})})) == {(qd.s1.id, "q01"), (qd.s2.id, "q06")}


def test_all_images_order_by_number1_descending(qd):
    assert pairs(qd, {"orderByDescending": "number1"}) == [
        (qd.s2.id, "q06"), (qd.s2.id, "q01"), (qd.s1.id, "q05"), (qd.s1.id, "q04"), (qd.s1.id, "q03"),
        (qd.s1.id, "q02"), (qd.s1.id, "q01")]


def test_all_images_order_by_space(qd):
    got = pairs(qd, {"orderBy": "space"})
    assert [s for s, _ in got] == sorted(s for s, _ in got)
    got = pairs(qd, {"orderByDescending": "space"})
    assert [s for s, _ in got] == sorted((s for s, _ in got), reverse=True)


@pytest.mark.parametrize("raw", ["{", '{"space":"x"}', '{"space":[1,"a"]}', '{"bogus":1}', '{"number2":"x"}'])
def test_all_images_malformed_q_is_400(qd, raw):
    assert_error(qd.c.api.get(qd.all, params={"q": raw}), 400)
