"""Custom headers (CONTRACT section 10, delivery.md "Custom headers"):
/customers/{c}/customHeaders CRUD and validation, and their rendering into
the nginx include (config nginx_custom_headers), which a runner renders
after changes (test_header_renderer.py) and nginx reloads, so that the tiles
and thumbnails it serves itself carry them.

None of these tests needs dlcs-image: the headers are checked on tiles and
stored thumbnail sizes that nginx serves from storage.

A burst of changes reloads nginx, whose old workers then close the client
connections they hold as soon as their request ends; a client that sends
its next request on such a connection at that moment gets a reset. The
changes below are therefore made with "Connection: close"."""

import os
import subprocess
import time

import pytest
import requests

from helpers import (Api, assert_collection, assert_created, assert_error, assert_resource, change_counter,
                     create_space, describe, include_generation, walk)
from origin import UUID_RE, jpeg

TILE_V3 = "0,0,256,256/256,256/0/default.jpg"
CLOSE = {"Connection": "close"}  # see the module's docstring


def mariadb(dlcs_var, sql):
    sock = os.path.join(dlcs_var, "run", "mysqld.sock")
    subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-e", sql],
                   check=True, timeout=30)


def headers_path(c):
    return c.path + "/customHeaders"


def post(c, status=201, **body):
    r = c.api.post(headers_path(c), json=body, headers=CLOSE)
    if status == 201:
        return assert_created(r, "vocab:CustomHeader")
    return r


def ingest(space, origin, asset_id):
    r = space.customer.api.put(space.image(asset_id), json={
        "mediaType": "image/jpeg", "origin": origin.add(jpeg(600, 400))}, timeout=60)
    j = assert_resource(r, 201, "vocab:Image")
    assert "error" not in j, describe(r)


def tile(space, asset_id, customer=None):
    return "/iiif-img/%s/%d/%s/%s" % (customer or space.customer.id, space.id, asset_id, TILE_V3)


def thumb(space, asset_id, size, customer=None, prefix="iiif-img"):
    """A stored thumbnail size (an alias nginx serves itself, iiif/thumb_alias.h)."""
    return "/%s/%s/%d/%s/full/%s/0/default.jpg" % (prefix, customer or space.customer.id, space.id,
                                                   asset_id, size)


def wait_header(anon, url, key, want, timeout=15.0):
    """Polls url (a tile or thumbnail nginx serves itself) until header key has the value
    want (None: absent); nginx reloads asynchronously after SIGHUP. Returns
    the last response."""
    end = time.time() + timeout
    while True:
        try:
            r = anon.get(url)
        except requests.exceptions.ConnectionError:
            # An old nginx worker closing a kept connection during a reload.
            time.sleep(0.2)
            continue
        assert r.status_code == 200 and r.headers.get("Accept-Ranges") == "bytes", describe(r)
        if r.headers.get(key) == want or time.time() > end:
            return r
        time.sleep(0.2)


@pytest.fixture(scope="module")
def rendered(stack_config, dlcs_var):
    """The include's text, once the runner that renders it has caught up with
    every change the API has answered (it renders after a burst settles)."""
    path = stack_config.get("nginx_custom_headers")
    assert path, "the test stack's dlcs.conf has no nginx_custom_headers"

    def read(timeout=15.0):
        want = change_counter(dlcs_var)
        end = time.time() + timeout
        while True:
            with open(path) as f:
                text = f.read()
            if include_generation(text) >= want or time.time() > end:
                return text
            time.sleep(0.05)
    return read


# ---------------------------------------------------------------- the resource

def test_create_read_update_delete(customer):
    j = post(customer, key="X-Served-By", value="our library")
    assert UUID_RE.fullmatch(j["id"]), j
    assert j["@id"].endswith("%s/%s" % (headers_path(customer), j["id"])), j
    assert (j["key"], j["value"]) == ("X-Served-By", "our library")
    assert "space" not in j and "role" not in j, j
    path = "%s/%s" % (headers_path(customer), j["id"])

    got = assert_resource(customer.api.get(path), 200, "vocab:CustomHeader", path)
    assert got == j

    _, members = walk(customer.api, headers_path(customer), member_type="vocab:CustomHeader")
    assert [m["id"] for m in members] == [j["id"]]

    sp = create_space(customer)
    r = customer.api.put(path, json={"key": "X-Served-By", "value": "v2", "space": sp.id, "role": "staff"},
                         headers=CLOSE)
    put = assert_resource(r, 200, "vocab:CustomHeader", path)
    assert (put["value"], put["space"], put["role"]) == ("v2", sp.id, "staff"), put
    # PUT replaces: what it omits goes.
    r = customer.api.put(path, json={"key": "X-Other", "value": "v3", "@id": j["@id"], "id": j["id"]}, headers=CLOSE)
    put = assert_resource(r, 200, "vocab:CustomHeader", path)
    assert (put["key"], put["value"]) == ("X-Other", "v3") and "space" not in put and "role" not in put, put

    # Upper-case UUIDs name the same header.
    r = customer.api.get("%s/%s" % (headers_path(customer), j["id"].upper()))
    assert assert_resource(r, 200, "vocab:CustomHeader", path)["id"] == j["id"]

    r = customer.api.delete(path, headers=CLOSE)
    assert r.status_code == 204, describe(r)
    assert_error(customer.api.get(path), 404)
    assert_error(customer.api.delete(path, headers=CLOSE), 404)
    j = assert_collection(customer.api.get(headers_path(customer)), "vocab:CustomHeader")
    assert j["totalItems"] == 0


def test_space_and_role_are_kept(customer):
    sp = create_space(customer)
    j = post(customer, key="Link", value='<https://example.org/terms>; rel="license"', space=sp.id,
             role="https://api.example.org/customers/%d/roles/staff" % customer.id)
    assert j["space"] == sp.id and j["role"].endswith("/roles/staff"), j
    assert j["value"] == '<https://example.org/terms>; rel="license"'


def test_list_is_paged(customer):
    made = [post(customer, key="X-N%d" % i, value=str(i))["id"] for i in range(5)]
    pages, members = walk(customer.api, headers_path(customer), params={"pageSize": 2},
                          member_type="vocab:CustomHeader")
    assert len(pages) == 3 and pages[0]["totalItems"] == 5
    assert [m["id"] for m in members] == made


@pytest.mark.parametrize("body,field,mentions", [
    ({"value": "v"}, "key", "required"),
    ({"key": "X-A"}, "value", "required"),
    ({"key": 5, "value": "v"}, "key", None),
    ({"key": "X-A", "value": 5}, "value", None),
    ({"key": "", "value": "v"}, "key", None),
    ({"key": "X A", "value": "v"}, "key", None),
    ({"key": "X:A", "value": "v"}, "key", None),
    ({"key": "X-A\r\nX-B", "value": "v"}, "key", None),
    ({"key": "-X", "value": "v"}, "key", None),
    ({"key": "X" * 101, "value": "v"}, "key", None),
    ({"key": "Content-Length", "value": "1"}, "key", None),
    ({"key": "content-type", "value": "text/html"}, "key", None),
    ({"key": "Transfer-Encoding", "value": "chunked"}, "key", None),
    ({"key": "Connection", "value": "close"}, "key", None),
    ({"key": "Set-Cookie", "value": "a=b"}, "key", None),
    ({"key": "Access-Control-Allow-Origin", "value": "https://example.org"}, "key", None),
    ({"key": "ETag", "value": '"x"'}, "key", None),
    ({"key": "X-Accel-Redirect", "value": "/etc/passwd"}, "key", None),
    ({"key": "X-A", "value": "a\r\nX-Injected: 1"}, "value", None),
    ({"key": "X-A", "value": "a\nb"}, "value", None),
    ({"key": "X-A", "value": "a\u0001b"}, "value", None),
    ({"key": "X-A", "value": "costs $5"}, "value", "$"),
    ({"key": "X-A", "value": "${host}"}, "value", "$"),
    # nginx would expand these in the rendered include: the reader's address
    # and cookies (the auth session's, some day) sent back in a header
    ({"key": "X-A", "value": "$remote_addr"}, "value", "$"),
    ({"key": "X-A", "value": "$http_cookie"}, "value", "$"),
    ({"key": "X-A", "value": "\\$http_authorization"}, "value", "$"),
    ({"key": "X-A", "value": "a\rb"}, "value", None),
    ({"key": "X-A", "value": "a\u000bb"}, "value", None),
    ({"key": "X-A", "value": "a\u000cb"}, "value", None),
    ({"key": "X-A", "value": "a\u001bb"}, "value", None),
    ({"key": "X-A", "value": "a\u007fb"}, "value", None),
    ({"key": "X-A", "value": "v\n\tadd_header Set-Cookie pwn=1"}, "value", None),
    ({"key": "X-A;", "value": "v"}, "key", None),
    ({"key": "X-A{", "value": "v"}, "key", None),
    ({"key": "X-A\"", "value": "v"}, "key", None),
    ({"key": "X-A$host", "value": "v"}, "key", None),
    ({"key": "X-A\\", "value": "v"}, "key", None),
    ({"key": "X-\u00e9", "value": "v"}, "key", None),
    ({"key": "X-A", "value": ""}, "value", None),
    ({"key": "X-A", "value": "   "}, "value", None),
    ({"key": "X-A", "value": "x" * 2001}, "value", None),
    ({"key": "X-A", "value": "v", "space": "1"}, "space", None),
    ({"key": "X-A", "value": "v", "space": -1}, "space", None),
    ({"key": "X-A", "value": "v", "space": 99999}, "space", "does not exist"),
    ({"key": "X-A", "value": "v", "role": 5}, "role", None),
    ({"key": "X-A", "value": "v", "role": ""}, "role", None),
    ({"key": "X-A", "value": "v", "role": "r" * 501}, "role", None),
    ({"key": "X-A", "value": "v", "colour": "red"}, "colour", None),
    ({"key": "X-A", "value": "v", "id": "0b9a1f8e-4b7c-4f3e-9d1a-2c3b4d5e6f70"}, "id", None),
])
def test_post_validation(customer, body, field, mentions):
    r = customer.api.post(headers_path(customer), json=body)
    assert_error(r, 400, field=field, mentions=mentions)
    assert assert_collection(customer.api.get(headers_path(customer)))["totalItems"] == 0


# Headers a browser applies to the whole site (every customer's responses
# and the API share the host), that redirect from it, that belong to the
# connection or the framing, or that the platform sets: each exactly as an
# attacker would send it, refused with a 400 that names it.
REFUSED = [
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload", "whole site"),
    ("strict-transport-security", "max-age=0", "whole site"),
    ("Clear-Site-Data", '"cookies", "storage", "cache", "executionContexts"', "whole site"),
    ("Alt-Svc", 'h2="evil.example:443"; ma=2592000; persist=1', "whole site"),
    ("Content-Security-Policy", "default-src 'none'; report-uri https://evil.example/r", "whole site"),
    ("Content-Security-Policy-Report-Only", "default-src 'none'", "whole site"),
    ("Set-Cookie", "session=attacker; Path=/; Max-Age=31536000", "whole site"),
    ("SET-COOKIE2", "a=b", "whole site"),
    ("Public-Key-Pins", 'pin-sha256="AAAA"; max-age=5184000', "whole site"),
    ("Public-Key-Pins-Report-Only", 'pin-sha256="AAAA"', "whole site"),
    ("Expect-CT", "max-age=86400, enforce", "whole site"),
    ("Report-To", '{"group":"g","max_age":31536000,"endpoints":[{"url":"https://evil.example/r"}]}',
     "whole site"),
    ("NEL", '{"report_to":"g","max_age":31536000,"include_subdomains":true}', "whole site"),
    ("Reporting-Endpoints", 'default="https://evil.example/r"', "whole site"),
    ("Service-Worker-Allowed", "/", "whole site"),
    ("Origin-Agent-Cluster", "?0", "whole site"),
    ("Accept-CH", "Sec-CH-UA-Full-Version-List", "whole site"),
    ("Critical-CH", "Sec-CH-UA-Model", "whole site"),
    ("Refresh", "0; url=https://evil.example/login", "elsewhere"),
    ("Location", "https://evil.example/", "elsewhere"),
    ("Connection", "close", "connection"),
    ("Keep-Alive", "timeout=600", "connection"),
    ("Proxy-Authenticate", 'Basic realm="x"', "connection"),
    ("Proxy-Connection", "keep-alive", "connection"),
    ("Proxy-Status", "x", "connection"),
    ("TE", "trailers", "connection"),
    ("Trailer", "X-A", "connection"),
    ("Transfer-Encoding", "chunked", "connection"),
    ("Upgrade", "websocket", "connection"),
    ("Content-Length", "0", "connection"),
    ("Content-Encoding", "gzip", "connection"),
    ("Content-Range", "bytes 0-0/1", "connection"),
    ("Content-Type", "text/html", "connection"),
    ("Status", "302 Found", "connection"),
    ("Date", "Thu, 01 Jan 1970 00:00:00 GMT", "connection"),
    ("Server", "evil", "connection"),
    ("Host", "evil.example", "connection"),
    ("HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA", "connection"),
    ("Sec-WebSocket-Accept", "x", "connection"),
    ("X-Accel-Redirect", "/dlcs-storage/1/1/secret/original", "platform"),
    ("x-accel-buffering", "no", "platform"),
    ("X-Accel-Limit-Rate", "1", "platform"),
    ("X-DLCS-Anything", "1", "platform"),
    ("Access-Control-Allow-Origin", "https://evil.example", "platform"),
    ("Access-Control-Allow-Credentials", "true", "platform"),
    ("Access-Control-Allow-Methods", "DELETE", "platform"),
    ("Access-Control-Allow-Headers", "Authorization", "platform"),
    ("Access-Control-Max-Age", "86400", "platform"),
    ("ETag", '"x"', "platform"),
    ("Last-Modified", "Thu, 01 Jan 1970 00:00:00 GMT", "platform"),
    ("WWW-Authenticate", 'Basic realm="DLCS-API"', "platform"),
    ("Authentication-Info", "x", "platform"),
    ("Content-Disposition", "inline", "platform"),
    ("X-Content-Type-Options", "sniff", "platform"),
]


@pytest.mark.parametrize("key,value,why", REFUSED, ids=[k for k, _, _ in REFUSED])
def test_headers_that_act_beyond_the_customer_are_refused_naming_them(customer, key, value, why):
    r = customer.api.post(headers_path(customer), json={"key": key, "value": value})
    e = assert_error(r, 400, field="key", mentions="'key' %s is not allowed: it " % key)
    assert why in e["description"], describe(r)
    # nor by replacing a harmless one, nor for a space or a role only (the
    # harmless one is role-only: the include, and nginx, stay as they are)
    j = post(customer, key="X-Harmless", value="v", role="staff")
    path = "%s/%s" % (headers_path(customer), j["id"])
    for body in ({"key": key, "value": value}, {"key": key, "value": value, "role": "staff"},
                 {"key": key, "value": value, "space": create_space(customer).id}):
        assert_error(customer.api.put(path, json=body, headers=CLOSE), 400, field="key", mentions=key)
    got = assert_collection(customer.api.get(headers_path(customer)), "vocab:CustomHeader")
    assert [(m["key"], m["value"]) for m in got["member"]] == [("X-Harmless", "v")], got


def test_neighbours_of_refused_headers_are_fine(customer):
    # The list is exact (prefixes only where a whole family is the
    # transport's or the platform's): these are the customer's business.
    for key in ("Access-Control-Expose-Headers", "Cache-Control", "Expires", "Link", "Content-Language",
                "Timing-Allow-Origin", "X-Frame-Options", "Cross-Origin-Resource-Policy", "X-Set-Cookie",
                "Strict-Transport-Security-Note", "X-Location", "Vary", "Retry-After", "X-Accel",
                "Access-Control"):
        j = post(customer, key=key, value="v")
        assert j["key"] == key


def test_escaped_nul_is_refused(customer):
    r = customer.api.post(headers_path(customer), data='{"key":"X-A","value":"a\\u0000b"}',
                          headers={"Content-Type": "application/json"})
    assert_error(r, 400)


def test_values_that_are_fine(customer):
    for value in ('quoted "word" and back\\slash', "semi; {braces} #hash 'single'", "tab\there",
                  "caf\u00e9", "x" * 2000):
        j = post(customer, key="X-Fine", value=value)
        assert j["value"] == value


def test_ids_and_methods(customer):
    base = headers_path(customer)
    unknown = "%s/0b9a1f8e-4b7c-4f3e-9d1a-2c3b4d5e6f70" % base
    assert_error(customer.api.get(unknown), 404)
    assert_error(customer.api.put(unknown, json={"key": "X-A", "value": "v"}, headers=CLOSE), 404)
    assert_error(customer.api.delete(unknown, headers=CLOSE), 404)
    assert_error(customer.api.get(base + "/not-a-uuid"), 404)
    assert_error(customer.api.delete(base + "/not-a-uuid", headers=CLOSE), 404)
    assert_error(customer.api.put(base + "/not-a-uuid", json={"key": "X-A", "value": "v"}, headers=CLOSE), 400)
    j = post(customer, key="X-A", value="v")
    path = "%s/%s" % (base, j["id"])
    assert_error(customer.api.put(path, json={"value": "v"}, headers=CLOSE), 400, field="key")
    assert_error(customer.api.put(path, json={"key": "X-A", "value": "v", "id": "x"}, headers=CLOSE), 400)
    assert_error(customer.api.put(path, json={"key": "Host", "value": "v"}, headers=CLOSE), 400, field="key")
    assert_error(customer.api.post(path, json={"key": "X-A", "value": "v"}, headers=CLOSE), 405)
    assert_error(customer.api.patch(path, json={"value": "w"}, headers=CLOSE), 405)
    assert assert_resource(customer.api.get(path), 200, "vocab:CustomHeader")["value"] == "v"


def test_other_customers_and_anonymous_get_401(make_customer, base):
    owner, other = make_customer(), make_customer()
    j = post(owner, key="X-Mine", value="secret-ish")
    path = "%s/%s" % (headers_path(owner), j["id"])
    anon = Api(base)
    try:
        for api in (other.api, anon):
            assert_error(api.get(headers_path(owner)), 401)
            assert_error(api.post(headers_path(owner), json={"key": "X-B", "value": "v"}, headers=CLOSE), 401)
            assert_error(api.get(path), 401)
            assert_error(api.put(path, json={"key": "X-B", "value": "v"}, headers=CLOSE), 401)
            assert_error(api.delete(path, headers=CLOSE), 401)
    finally:
        anon.close()
    # Another customer's header id under one's own path is simply unknown.
    assert_error(other.api.get("%s/%s" % (headers_path(other), j["id"])), 404)
    assert_error(other.api.delete("%s/%s" % (headers_path(other), j["id"]), headers=CLOSE), 404)
    assert assert_resource(owner.api.get(path), 200, "vocab:CustomHeader")["value"] == "secret-ish"


def test_admin_may_manage_any_customer(customer, admin):
    r = admin.post(headers_path(customer), json={"key": "X-By-Admin", "value": "1"}, headers=CLOSE)
    assert_created(r, "vocab:CustomHeader")
    assert_error(admin.get("/customers/999999/customHeaders"), 404)
    assert_error(admin.post("/customers/999999/customHeaders", json={"key": "X-A", "value": "v"}, headers=CLOSE), 404)


def test_limit_per_customer(customer):
    for i in range(100):
        post(customer, key="X-L%d" % i, value="v")
    assert_error(customer.api.post(headers_path(customer), json={"key": "X-Over", "value": "v"}), 400,
                 mentions="100")


# ---------------------------------------------------------------- the nginx include

def test_rendered_file_follows_changes(customer, rendered):
    j = post(customer, key="X-Rendered", value='say "hi" \\ bye')
    text = rendered()
    assert 'add_header X-Rendered "say \\"hi\\" \\\\ bye" always;' in text, text[-3000:]
    assert "(?<dlcs_c>%d|%s)" % (customer.id, customer.name) in text
    # seven fast-path locations for the customer: tiles, the stored sizes of
    # /iiif-img and of /thumbs, and info.json of both in 3.0 and 2.1
    assert text.count("(?<dlcs_c>%d|%s)" % (customer.id, customer.name)) == 7, text[-3000:]
    assert "alias $dlcs_storage/public/iiif-img/$dlcs_c/$dlcs_s/$dlcs_id/full/$dlcs_size.jpg;" in text
    assert "alias $dlcs_storage/public/thumbs/$dlcs_c/$dlcs_s/$dlcs_id/thumbs/$dlcs_size.jpg;" in text
    # The X-Accel-Redirect location puts the key back from the application.
    assert "add_header X-Rendered $upstream_http_x_rendered always;" in text
    r = customer.api.delete("%s/%s" % (headers_path(customer), j["id"]), headers=CLOSE)
    assert r.status_code == 204
    assert "X-Rendered" not in rendered()


def test_role_headers_are_not_rendered_for_tiles(customer, rendered):
    post(customer, key="X-Role-Only", value="role value", role="staff")
    text = rendered()
    assert '"role value"' not in text
    assert "add_header X-Role-Only $upstream_http_x_role_only always;" in text


def test_static_tiles_carry_the_customers_headers(customer, origin, anon, rendered):
    sa, sb = create_space(customer), create_space(customer)
    ingest(sa, origin, "a")
    ingest(sb, origin, "b")
    ta, tb = tile(sa, "a"), tile(sb, "b")
    # stored thumbnails (600x400: 400x267), in both trees and API versions,
    # and the one-tile level (150x100) and the full size of /iiif-img
    tha = (thumb(sa, "a", "!400,400"), thumb(sa, "a", "400,", prefix="iiif-img/v2"),
           thumb(sa, "a", ",267", prefix="thumbs"), thumb(sa, "a", "400,267", prefix="thumbs/v2"),
           thumb(sa, "a", "150,100"), thumb(sa, "a", "150,", prefix="iiif-img/v2"),
           thumb(sa, "a", "max"), thumb(sa, "a", "full", prefix="iiif-img/v2"))
    thb = (thumb(sb, "b", "!200,200"), thumb(sb, "b", "200,", prefix="thumbs"))
    for url in (ta,) + tha:
        before = anon.get(url)
        assert before.status_code == 200 and "X-Wide" not in before.headers, describe(before)

    wide = post(customer, key="X-Wide", value='wide "one"; {x} #y \\z')
    for url in (ta,) + tha:
        r = wait_header(anon, url, "X-Wide", 'wide "one"; {x} #y \\z')
        assert r.headers.get("X-Wide") == 'wide "one"; {x} #y \\z', "nginx did not reload with the header: %s" % (
            r.headers,)
        assert r.headers.get("Access-Control-Allow-Origin") == "*"
        assert r.headers.get("Cache-Control") == "public, max-age=31536000"
        assert r.headers.get("ETag") and r.headers.get("Last-Modified")
    for url in (tb,) + thb:
        assert wait_header(anon, url, "X-Wide", 'wide "one"; {x} #y \\z').headers.get("X-Wide")
    # By name too.
    for url in (tile(sa, "a", customer.name), thumb(sa, "a", "!400,400", customer.name),
                thumb(sa, "a", "400,", customer.name, "thumbs/v2")):
        assert wait_header(anon, url, "X-Wide", 'wide "one"; {x} #y \\z').headers.get("X-Wide")

    # A space's headers come on top of the customer's, for that space only;
    # the same key replaces the customer's value there.
    post(customer, key="X-Space", value="only a", space=sa.id)
    post(customer, key="x-wide", value="a's own", space=sa.id)
    for url in (ta,) + tha:
        r = wait_header(anon, url, "X-Wide", "a's own")
        assert r.headers.get("X-Wide") == "a's own", r.headers
        assert r.headers.get("X-Space") == "only a", r.headers
    for url in (tb,) + thb:
        rb = anon.get(url)
        assert "X-Space" not in rb.headers and rb.headers.get("X-Wide") == 'wide "one"; {x} #y \\z', rb.headers

    # A custom Cache-Control replaces the platform's; role headers are the
    # application's (restricted assets never come from here).
    post(customer, key="Cache-Control", value="public, max-age=60", space=sb.id)
    post(customer, key="X-Role", value="r", role="staff")
    for url in (tb,) + thb:
        r = wait_header(anon, url, "Cache-Control", "public, max-age=60")
        assert r.headers.get("Cache-Control") == "public, max-age=60", r.headers
        assert "X-Role" not in r.headers

    # Another customer's tiles are untouched.
    # (customer-level locations match this customer's id and name only)
    r = customer.api.delete("%s/%s" % (headers_path(customer), wide["id"]), headers=CLOSE)
    assert r.status_code == 204
    for url in (tb,) + thb:
        rb = wait_header(anon, url, "X-Wide", None)
        assert "X-Wide" not in rb.headers, rb.headers
    for url in (ta,) + tha:
        assert wait_header(anon, url, "X-Wide", "a's own").headers.get("X-Wide") == "a's own"


def test_headers_stay_with_their_customer(make_customer, origin, anon):
    one, two = make_customer(), make_customer()
    s1, s2 = create_space(one), create_space(two)
    ingest(s1, origin, "t")
    ingest(s2, origin, "t")
    post(one, key="X-Owner", value="one")
    assert wait_header(anon, tile(s1, "t"), "X-Owner", "one").headers.get("X-Owner") == "one"
    r = anon.get(tile(s2, "t"))
    assert r.status_code == 200 and "X-Owner" not in r.headers, r.headers
    r = anon.get(tile(s2, "t", two.name))
    assert r.status_code == 200 and "X-Owner" not in r.headers, r.headers


def test_nginx_config_stays_valid_after_every_kind_of_value(customer, origin, anon):
    sp = create_space(customer)
    ingest(sp, origin, "v")
    values = ['"', "\\", "\\\\\"", "a\tb", "}", "{", ";", "#", "'", "caf\u00e9", "end\\"]
    for i, v in enumerate(values):
        post(customer, key="X-V%d" % i, value=v)
    r = wait_header(anon, tile(sp, "v"), "X-V%d" % (len(values) - 1), "end\\")
    for i, v in enumerate(values):
        got = r.headers.get("X-V%d" % i)
        # requests decodes header bytes as latin-1
        if got is not None:
            got = got.encode("latin-1").decode("utf-8")
        assert got == v, "X-V%d: %r != %r" % (i, got, v)


# Attempts to break out of the nginx include's double-quoted string: each is
# either refused (above: '$', control characters) or written escaped, so the
# response carries exactly the value and no header, directive or location
# the value spells.
INJECTIONS = {
    "short": [
        '"; add_header Set-Cookie "pwned=1',
        '\\"; add_header Set-Cookie pwned=1; #',
        'x" always; } location / { return 200 "pwned"; } location /y { add_header X-B "',
        "x' always; add_header X-Pwned 1; #",
        "} } server { listen 9999; } #",
        "{",
        ";",
        "#",
        "\\",
        "end\\",
        "\\t\\n\\r\\x00",  # nginx's own escapes, spelled out: they must stay literal
    ],
    # the longest value with every byte escaped: nginx reads tokens of up to 4 KB
    "quotes": ['"' * 2000],
    "backslashes": ["\\" * 2000],
    "both": ["\\\"" * 1000],
}


@pytest.mark.parametrize("group", list(INJECTIONS))
def test_nginx_config_injection_attempts_are_delivered_verbatim(customer, origin, anon, group):
    values = INJECTIONS[group]
    sp = create_space(customer)
    ingest(sp, origin, "inj")
    url = tile(sp, "inj")
    before = anon.get(url)
    assert before.status_code == 200, describe(before)
    baseline = {k.lower() for k in before.raw.headers.keys()}
    for i, v in enumerate(values):
        post(customer, key="X-Inj-%d" % i, value=v)
    post(customer, key="X-Last", value="last")
    r = wait_header(anon, url, "X-Last", "last")
    assert r.headers.get("X-Last") == "last", "nginx did not load the include: %s" % r.headers
    assert r.content == before.content  # the tile, not a body a value spelled
    for i, v in enumerate(values):
        assert r.raw.headers.getlist("X-Inj-%d" % i) == [v], "X-Inj-%d: %r" % (i, r.raw.headers.getlist("X-Inj-%d" % i))
    names = {k.lower() for k in r.raw.headers.keys()}
    want = baseline | {"x-inj-%d" % i for i in range(len(values))} | {"x-last"}
    assert names == want, "headers beyond the values: %s" % (names - want)
    # and so do dlcs-image's own responses, and a stored tile it hands to
    # nginx by X-Accel-Redirect (the values then pass through a variable)
    for path in ("/iiif-img/%d/%d/inj/info.json" % (customer.id, sp.id), thumb(sp, "inj", "77,"),
                 "/iiif-img/%d/%d/inj/0,0,512,400/256,200/0/default.jpg" % (customer.id, sp.id)):
        r = anon.get(path)
        assert r.status_code == 200, describe(r)
        for i, v in enumerate(values):
            assert r.raw.headers.getlist("X-Inj-%d" % i) == [v], "X-Inj-%d on %s" % (i, path)
        assert not {"set-cookie", "x-pwned", "x-b"} & {k.lower() for k in r.raw.headers.keys()}, path


def test_headers_must_fit_one_response(customer, origin, anon):
    """dlcs-image's response headers must fit nginx's FastCGI header buffer
    (else nginx answers 502): a customer's headers may add 2500 bytes to one
    response, counted as customer-wide plus the fullest space."""
    sp1, sp2 = create_space(customer), create_space(customer)
    ingest(sp1, origin, "fit")
    big = post(customer, key="X-Big", value="b" * 1500)            # 1509 bytes
    post(customer, key="X-S1", value="s" * 900, space=sp1.id)      # 1509 + 908 = 2417
    post(customer, key="X-S2", value="t" * 900, space=sp2.id)      # spaces apart: still 2417
    post(customer, key="X-R", value="r" * 70, space=sp1.id, role="staff")  # 2417 + 77 = 2494
    for body in ({"key": "X-More", "value": "m" * 10},              # customer-wide: 2514
                 {"key": "X-More", "value": "m" * 10, "space": sp1.id},
                 {"key": "X-More", "value": "m" * 600, "space": sp2.id, "role": "x"}):
        assert_error(customer.api.post(headers_path(customer), json=body, headers=CLOSE), 400,
                     field="value", mentions="2500")
    # a replacement is counted in place of what it replaces
    path = "%s/%s" % (headers_path(customer), big["id"])
    assert_error(customer.api.put(path, json={"key": "X-Big", "value": "b" * 1600}, headers=CLOSE), 400,
                 field="value", mentions="2500")
    r = customer.api.put(path, json={"key": "X-Big", "value": "b" * 1400}, headers=CLOSE)
    assert assert_resource(r, 200, "vocab:CustomHeader")["value"] == "b" * 1400
    # and what fits is delivered by dlcs-image, not a 502 (once nginx has
    # reloaded, it adds them back to the files dlcs-image hands it, too)
    assert wait_header(anon, tile(sp1, "fit"), "X-Big", "b" * 1400).headers.get("X-Big") == "b" * 1400
    for p in ("/iiif-img/%d/%d/fit/info.json" % (customer.id, sp1.id), thumb(sp1, "fit", "77,")):
        r = anon.get(p)
        assert r.status_code == 200, describe(r)
        assert r.headers.get("X-Big") == "b" * 1400 and r.headers.get("X-S1") == "s" * 900, p


def test_rows_stored_before_the_rules_never_act(customer, origin, anon, rendered, dlcs_var):
    """A row the rules now refuse (stored by an older version, or by hand) is
    neither rendered for nginx nor added by dlcs-image; the API still shows
    it, so that it can be deleted."""
    sp = create_space(customer)
    ingest(sp, origin, "old")
    hsts = post(customer, key="X-Was-Hsts", value="v")
    var = post(customer, key="X-Was-Var", value="v")
    mariadb(dlcs_var, "UPDATE custom_headers SET header_key = 'Strict-Transport-Security',"
                      " header_value = 'max-age=63072000; includeSubDomains' WHERE id = '%s';"
                      " UPDATE custom_headers SET header_value = '$http_cookie' WHERE id = '%s'"
                      % (hsts["id"], var["id"]))
    post(customer, key="X-Fresh", value="fresh")  # renders the include again
    text = rendered()
    assert "add_header Strict-Transport-Security " not in text, text[-3000:]
    assert "$http_cookie" not in text and "X-Was-Var" not in text, text[-3000:]
    r = wait_header(anon, tile(sp, "old"), "X-Fresh", "fresh")
    assert r.headers.get("X-Fresh") == "fresh", r.headers
    for got in (r, anon.get("/iiif-img/%d/%d/old/info.json" % (customer.id, sp.id)),
                anon.get(thumb(sp, "old", "77,"))):
        assert got.status_code == 200, describe(got)
        assert "Strict-Transport-Security" not in got.headers, got.headers
        assert "X-Was-Var" not in got.headers and got.headers.get("X-Fresh") == "fresh", got.headers
    got = assert_resource(customer.api.get("%s/%s" % (headers_path(customer), hsts["id"])), 200,
                          "vocab:CustomHeader")
    assert got["key"] == "Strict-Transport-Security"
    r = customer.api.delete("%s/%s" % (headers_path(customer), hsts["id"]), headers=CLOSE)
    assert r.status_code == 204, describe(r)
