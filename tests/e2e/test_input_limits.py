"""JSON input limits and strict UTF-8 (issue 8, findings 2 and 5), sent as an
attacker would: a 2 MB body of a million nested brackets and an object
nested 500,000 deep used to answer 400 and then kill the API worker (yajl's
recursive free ran off the stack); overlong UTF-8 gave a 500 and surrogates
were stored. Now nesting deeper than 64 levels is a 400 naming the limit,
any string or member name that is not strict UTF-8 is a 400 naming the
member, query parameters and path segments must be UTF-8 too, and every API
worker is still alive after each test."""

import os
import time
from urllib.parse import quote

import pytest

import pools

from helpers import assert_created, assert_error, assert_resource, create_space, describe, put_asset, q, uniq
from origin import collection, jpeg, member

LIMIT = "nested deeper than 64 levels"
JSON = {"Content-Type": "application/json"}

# Strings that are not UTF-8 (raw bytes) or that decode to no character
# (\u escapes of surrogates that do not pair).
BAD_RAW = {
    "overlong": b"\xc0\xaf",
    "overlong3": b"\xe0\x80\xaf",
    "surrogate": b"s\xed\xa0\x80",
    "cesu8": b"\xed\xa0\xbd\xed\xb8\x80",
    "above-10FFFF": b"\xf4\x90\x80\x80",
    "truncated": b"x\xe2\x82",
    "stray": b"\x80",
}
BAD_ESCAPED = {
    "lone-high": b"e\\ud800x",
    "lone-high-end": b"\\ud800",
    "lone-low": b"\\udc00",
    "high-then-ascii": b"\\ud800\\u0041",
    "reversed": b"\\udc00\\ud800",
}
BAD = dict(BAD_RAW, **BAD_ESCAPED)


def nest(n, inner=b"1"):
    return b"[" * n + inner + b"]" * n


def api_pids(dlcs_var):
    """The API pool's workers (the supervisor's children, tests/e2e/pools.py)."""
    return pools.workers(dlcs_var, "api")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture(autouse=True)
def workers_survive(dlcs_var, admin):
    """Every API worker alive before the test is alive after it, and the
    stack still answers (a worker died a moment after answering 400)."""
    before = [p for p in api_pids(dlcs_var) if alive(p)]
    yield
    time.sleep(0.3)
    dead = [p for p in before if not alive(p)]
    assert not dead, "API worker(s) %s died during the test" % dead
    r = admin.get("/customers/1")
    assert r.status_code == 200, describe(r)


@pytest.fixture(scope="module")
def lim(make_customer):
    class D:
        pass
    d = D()
    d.c = make_customer("limits")
    d.s = create_space(d.c)
    put_asset(d.s, "a1")
    return d


def send(api, method, path, body):
    return api.request(method, path, data=body, headers=JSON, timeout=60)


# ---------------------------------------------------------------- nesting

def test_a_million_nested_arrays_is_400_and_the_worker_lives(lim):
    body = b'{"name":' + b"[" * 1000000 + b"]" * 1000000 + b"}"
    assert len(body) > 2000000
    for _ in range(4):  # once per worker of the default pool, and more
        r = send(lim.c.api, "POST", lim.c.path + "/spaces", body)
        assert_error(r, 400, mentions=LIMIT)
    # The worker that refused it serves the next request; the crash used to
    # come a moment after the answer, while the tree was freed.
    create_space(lim.c)
    time.sleep(1.5)


def test_an_object_nested_500000_deep_is_400_and_the_worker_lives(lim):
    body = b'{"a":' * 500000 + b"1" + b"}" * 500000
    for _ in range(4):
        r = send(lim.c.api, "POST", lim.c.path + "/spaces", body)
        assert_error(r, 400, mentions=LIMIT)
    create_space(lim.c)
    time.sleep(1.5)


def test_100000_levels_and_65_levels_are_refused_naming_the_limit(lim):
    for n in (100000, 65):
        body = b'{"name":"n","metadata":' + nest(n - 1) + b"}"
        r = send(lim.c.api, "POST", lim.c.path + "/spaces", body)
        assert_error(r, 400, mentions=LIMIT)


def test_64_levels_are_accepted_where_the_body_allows_any_json(lim, origin):
    deep = nest(63)  # inside the top-level object: 64 levels
    c, s = lim.c, lim.s
    name = uniq("deep")
    r = send(c.api, "POST", c.path + "/spaces", b'{"name":"%s","metadata":%s}' % (name.encode(), deep))
    assert assert_created(r, "vocab:Space")["name"] == name
    r = send(c.api, "PUT", s.image("deep64"), b'{"mediaType":"image/jpeg","@context":%s}' % deep)
    assert_created(r, "vocab:Image")
    r = send(c.api, "PATCH", c.path, b'{"displayName":"Deep","@context":%s}' % deep)
    assert assert_resource(r, 200, "vocab:Customer")["displayName"] == "Deep"
    m = member(s, "deep-q", origin.add(jpeg(40, 30)))
    body = b'{"@context":%s,"member":[%s]}' % (deep, q(m).encode())
    r = send(c.api, "POST", c.path + "/queue", body)
    assert_created(r, "vocab:Batch")


@pytest.mark.parametrize("route", ["space PUT", "asset PUT", "asset PATCH", "batch", "customer PATCH"])
def test_65_levels_are_refused_on_every_json_route(lim, route):
    c, s = lim.c, lim.s
    deep = nest(64)
    method, path, body = {
        "space PUT": ("PUT", s.path, b'{"name":"x","metadata":%s}' % deep),
        "asset PUT": ("PUT", s.image("deep65"), b'{"mediaType":"image/jpeg","@context":%s}' % deep),
        "asset PATCH": ("PATCH", s.image("a1"), b'{"@context":%s}' % deep),
        "batch": ("POST", c.path + "/queue", b'{"@context":%s,"member":[]}' % deep),
        "customer PATCH": ("PATCH", c.path, b'{"@context":%s}' % deep),
    }[route]
    assert_error(send(c.api, method, path, body), 400, mentions=LIMIT)


def test_deep_q_is_refused_naming_the_limit(lim):
    c = lim.c
    r = c.api.get(c.path + "/allImages", params={"q": '{"string1":' + "[" * 64 + "]" * 64 + "}"})
    assert_error(r, 400, "q", mentions=LIMIT)
    # 64 levels are within the limit; the query syntax itself refuses them.
    r = c.api.get(c.path + "/allImages", params={"q": '{"string1":' + "[" * 63 + "]" * 63 + "}"})
    e = assert_error(r, 400, "string1")
    assert LIMIT not in e["description"], describe(r)


def test_brackets_in_strings_are_not_nesting(lim):
    name = "[" * 300 + "{" * 300
    r = lim.c.api.post(lim.c.path + "/spaces", json={"name": name[:255]})
    assert assert_created(r, "vocab:Space")["name"] == name[:255]


# ---------------------------------------------------------------- strict UTF-8

@pytest.mark.parametrize("kind", sorted(BAD))
def test_space_name_not_utf8_is_400_naming_it(lim, kind):
    r = send(lim.c.api, "POST", lim.c.path + "/spaces", b'{"name":"%s"}' % BAD[kind])
    assert_error(r, 400, "name")


@pytest.mark.parametrize("kind", sorted(BAD))
def test_asset_put_values_not_utf8_are_400_naming_the_field(lim, kind):
    c, s = lim.c, lim.s
    bad = BAD[kind]
    for field, body in [
        ("string1", b'{"mediaType":"image/jpeg","string1":"%s"}' % bad),
        ("tags", b'{"mediaType":"image/jpeg","tags":["ok","%s"]}' % bad),
        ("mediaType", b'{"mediaType":"image/%s"}' % bad),
        ("origin", b'{"mediaType":"image/jpeg","origin":"http://example.org/%s"}' % bad),
    ]:
        r = send(c.api, "PUT", s.image("u8-" + kind), body)
        assert_error(r, 400, field)
    assert c.api.get(s.image("u8-" + kind)).status_code == 404, "nothing may be stored"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_batch_member_not_utf8_is_400_naming_the_field(lim, kind):
    c, s = lim.c, lim.s
    m = q(member(s, "u8b-" + kind, "http://example.org/x.jpg")).encode()
    m = m.replace(b'"image/jpeg"', b'"image/jpeg","string2":"%s"' % BAD[kind])
    body = b'{"@type":"Collection","member":[%s]}' % m
    assert_error(send(c.api, "POST", c.path + "/queue", body), 400, "string2")
    assert c.api.get(s.image("u8b-" + kind)).status_code == 404, "nothing may be stored"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_customer_patch_not_utf8_is_400_naming_the_field(lim, kind):
    r = send(lim.c.api, "PATCH", lim.c.path, b'{"displayName":"%s"}' % BAD[kind])
    assert_error(r, 400, "displayName")


@pytest.mark.parametrize("kind", sorted(BAD))
def test_member_names_not_utf8_are_400(lim, kind):
    c, s = lim.c, lim.s
    for method, path, body, inside in [
        ("POST", c.path + "/spaces", b'{"name":"n","%s":1}' % BAD[kind], None),
        ("PUT", s.image("k-" + kind), b'{"mediaType":"image/jpeg","%s":1}' % BAD[kind], None),
        ("PATCH", c.path, b'{"@context":{"%s":1}}' % BAD[kind], "@context"),
        ("POST", c.path + "/queue", b'{"member":[{"%s":1}]}' % BAD[kind], "member"),
    ]:
        e = assert_error(send(c.api, method, path, body), 400, inside)
        assert "member name" in e["description"], e["description"]


def test_nul_in_a_long_member_name_is_400_and_bounded(lim):
    c = lim.c
    for n in (10, 40, 63, 64, 200, 5000):
        key = ("k" * (n - 1) + "\u00e9").encode()
        for body in (b'{"%s":"a\\u0000b"}' % key, b'{"%s":"\xc0\xaf"}' % key,
                     b'{"%s\\u0000":1}' % key):
            r = send(c.api, "PATCH", c.path, body)
            e = assert_error(r, 400)
            assert len(e["description"]) < 200, describe(r)


def test_valid_utf8_and_escaped_pairs_are_stored_verbatim(lim):
    c, s = lim.c, lim.s
    value = "\u00e9\u20ac\U0001F600\ud7ff\ue000\U0010FFFF"
    body = b'{"mediaType":"image/jpeg","string1":"%s","string2":"\\ud83d\\ude00"}' % value.encode()
    r = send(c.api, "PUT", s.image("good-u8"), body)
    j = assert_created(r, "vocab:Image")
    assert j["string1"] == value and j["string2"] == "\U0001F600", describe(r)


@pytest.mark.parametrize("kind", sorted(BAD))
def test_q_not_utf8_is_400(lim, kind):
    c = lim.c
    raw = b'{"string1":"%s"}' % BAD[kind]
    r = c.api.get(c.path + "/allImages?q=" + quote(raw, safe=""))
    # Raw bytes are refused with the parameter; escapes inside the JSON text
    # with the member that holds them.
    assert_error(r, 400, "q" if kind in BAD_RAW else "string1")
    r = c.api.get(c.path + "/allImages?q=" + quote(b'{"%s":"x"}' % BAD[kind], safe=""))
    assert_error(r, 400, "q" if kind in BAD_RAW else None)


@pytest.mark.parametrize("kind", sorted(BAD_RAW))
def test_query_parameters_and_paths_not_utf8_are_400(lim, kind):
    c, s = lim.c, lim.s
    enc = quote(BAD_RAW[kind], safe="")
    for path in (c.path + "/allImages?string1=" + enc, s.path + "/images?string2=" + enc,
                 c.path + "/spaces?orderBy=" + enc, c.path + "/allImages?" + enc + "=1"):
        r = c.api.get(path)
        assert_error(r, 400, mentions="not valid UTF-8")
    for method in ("GET", "PUT", "DELETE"):
        r = c.api.request(method, s.path + "/images/a" + enc, data=b'{"mediaType":"image/jpeg"}',
                          headers=JSON)
        assert_error(r, 400, mentions="UTF-8")
    r = c.api.get(c.path + "/deliveryChannelPolicies/" + enc)
    assert_error(r, 400, mentions="UTF-8")
