"""Regressions of issue 8, each written as the attacker tried it: header
injection through mediaType (finding 1), stored XSS through /file (4), space 0
aliasing the customer's defaults (6), nginx's own HTML error pages (7), and
the fast path serving an asset after the write that restricted it (10)."""

import os
import socket
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from helpers import role_uri, assert_error, assert_resource, base_url, create_space, describe, put_asset, uniq
from origin import jpeg

INJECTED = ("application/octet-stream\r\nX-Accel-Redirect: /dlcs-storage/%s/original\r\n"
            "Set-Cookie: p=1; Path=/\r\n\r\n")


def mariadb(dlcs_var, sql):
    sock = os.path.join(dlcs_var, "run", "mysqld.sock")
    p = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-N", "-B", "-e", sql],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def sql_str(s):
    """s as a MariaDB utf8mb4 string, from its bytes (any control byte)."""
    return "CONVERT(X'%s' USING utf8mb4)" % s.encode().hex()


@pytest.fixture(scope="module")
def victim(make_customer, origin):
    """Customer A with a restricted original on the file channel."""
    a = make_customer("victim")
    sa = create_space(a)
    r = a.api.put(sa.image("secret"), json={
        "mediaType": "text/plain", "origin": origin.add(b"A's restricted bytes\n", "text/plain"),
        "deliveryChannels": ["file"], "roles": [role_uri(a)]}, timeout=60)
    assert_resource(r, 201, "vocab:Image")
    return sa


# ---------------------------------------------------------------- finding 1: header injection

@pytest.mark.parametrize("media", [
    INJECTED,
    "application/octet-stream\nX-Accel-Redirect: /dlcs-storage/x",
    "application/octet-stream\rX-Accel-Redirect: /dlcs-storage/x",
    "application/octet-stream\vX",
    "image/jpeg\x00",
    "image/jpeg\x7f",
    "image/jpeg\t\r\n",
    "image/jpeg;\r\n x=y",
    "image",
    "image/",
    "/jpeg",
    "image/jpeg/x",
    "image /jpeg",
    "image/jp\u00e9g",
    "image/jpeg; charset",
    "image/jpeg; =x",
    "image/jpeg; a=\"unterminated",
    "image/" + "x" * 200,
    "a" * 100 + "/" + "b" * 100 + "; x=" + "y" * 60,
])
def test_media_type_injection_is_refused(space, victim, origin, media):
    """The exact registration of finding 1 (and its variants): 400 naming
    mediaType, nothing stored."""
    if "%s" in media:
        media = media % ("%d/%d/secret" % (victim.customer.id, victim.id))
    body = {"origin": origin.add(b"x", "application/octet-stream"), "deliveryChannels": ["file"],
            "mediaType": media}
    r = space.customer.api.put(space.image("inject"), json=body, timeout=60)
    assert_error(r, 400, field="mediaType")
    assert space.customer.api.get(space.image("inject")).status_code == 404
    # through a batch and a PATCH too
    r = space.customer.api.post(space.customer.path + "/queue", json={
        "@type": "Collection", "member": [dict(body, id="inject-q", space=space.id)]})
    assert_error(r, 400, field="mediaType")
    put_asset(space, "plain")
    r = space.customer.api.patch(space.image("plain"), json={"mediaType": media})
    assert_error(r, 400, field="mediaType")


@pytest.mark.parametrize("media", [
    "image/jpeg", "application/pdf", "text/plain; charset=utf-8", "text/plain;charset=\"utf-8\"",
    "application/vnd.ms-excel", "image/svg+xml", "audio/mpeg", "video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"",
    "application/x-foo_bar.baz+json", "x/y",
])
def test_valid_media_types_are_accepted(space, media):
    j = put_asset(space, uniq("mt"), media=media, deliveryChannels=["file"])
    assert j["mediaType"] == media


def test_anonymous_file_never_carries_injected_headers(make_customer, victim, origin, anon, dlcs_var):
    """A row stored before the check (written here with SQL, as an upgrade
    would find it): the header writer refuses to send it, so the anonymous
    GET of finding 1 gets a 500 JSON error and neither A's file nor the
    cookie."""
    b = make_customer("attacker")
    sb = create_space(b)
    r = b.api.put(sb.image("evil"), json={"origin": origin.add(b"B's own bytes", "application/octet-stream"),
                                          "deliveryChannels": ["file"], "mediaType": "application/octet-stream"},
                  timeout=60)
    assert_resource(r, 201, "vocab:Image")
    injected = INJECTED % ("%d/%d/secret" % (victim.customer.id, victim.id))
    mariadb(dlcs_var, "UPDATE assets SET media_type = %s WHERE customer_id = %d AND space_id = %d AND id = 'evil'"
            % (sql_str(injected), b.id, sb.id))
    r = anon.get("/file/%d/%d/evil" % (b.id, sb.id))
    assert r.status_code == 500, describe(r)
    assert b"restricted" not in r.content
    assert "Set-Cookie" not in r.headers and "p" not in r.cookies
    assert r.json()["statusCode"] == 500
    # the victim's file itself stays refused to the anonymous caller
    r = anon.get("/file/%d/%d/secret" % (victim.customer.id, victim.id))
    assert r.status_code == 401 and b"restricted bytes" not in r.content, describe(r)


def test_migration_repairs_stored_media_types(make_customer, anon, dlcs_var, dlcs_repo):
    """schema/004-repairs.sql, run again over rows stored before the check:
    each bad value becomes its leading type/subtype (or
    application/octet-stream), the change is recorded, good ones are kept."""
    c = make_customer("repair")
    s = create_space(c)
    cases = {
        "crlf": (INJECTED % "1/1/x", "application/octet-stream"),
        "lf": ("image/jpeg\nX-Accel-Redirect: /x", "image/jpeg"),
        "vt": ("text/html\v", "text/html"),
        "junk": ("\r\nSet-Cookie: a=b", "application/octet-stream"),
        "noslash": ("jpeg", "application/octet-stream"),
        "good": ("text/plain; charset=\"utf-8\"", "text/plain; charset=\"utf-8\""),
        "good2": ("image/jpeg", "image/jpeg"),
    }
    for aid in cases:
        put_asset(s, aid, media="image/jpeg")
    for aid, (stored, _) in cases.items():
        mariadb(dlcs_var, "UPDATE assets SET media_type = %s WHERE customer_id = %d AND space_id = %d AND id = '%s'"
                % (sql_str(stored), c.id, s.id, aid))
    with open(os.path.join(dlcs_repo, "schema", "004-repairs.sql")) as f:
        sql = f.read()
    mariadb(dlcs_var, sql)
    for aid, (stored, want) in cases.items():
        got = mariadb(dlcs_var, "SELECT HEX(media_type) FROM assets WHERE customer_id = %d AND space_id = %d AND "
                      "id = '%s'" % (c.id, s.id, aid)).strip()
        assert bytes.fromhex(got).decode() == want, aid
        rec = mariadb(dlcs_var, "SELECT HEX(old_value), HEX(new_value) FROM asset_repairs WHERE customer_id = %d "
                      "AND asset_id = '%s'" % (c.id, aid)).split()
        if stored == want:
            assert rec == [], aid
        else:
            assert [bytes.fromhex(x).decode() for x in rec] == [stored, want], aid


# ---------------------------------------------------------------- finding 4: stored XSS via /file

PAGE = b"<html><body><script>fetch('/customers')</script></body></html>"


@pytest.mark.parametrize("media,inline", [
    ("text/html", False), ("text/html; charset=utf-8", False), ("image/svg+xml", False),
    ("application/xhtml+xml", False), ("application/xml", False), ("text/xml", False),
    ("application/javascript", False), ("text/javascript", False), ("application/x-unknown", False),
    ("IMAGE/SVG+XML", False), ("application/octet-stream", False), ("text/css", False),
    ("application/pdf", True), ("image/png", True), ("text/plain", True), ("audio/mpeg", True),
])
def test_file_is_never_a_page_on_our_origin(space, origin, anon, media, inline):
    aid = uniq("xss")
    r = space.customer.api.put(space.image(aid), json={
        "origin": origin.add(PAGE, media), "mediaType": media, "deliveryChannels": ["file"]}, timeout=60)
    assert_resource(r, 201, "vocab:Image")
    r = anon.get("/file/%d/%d/%s" % (space.customer.id, space.id, aid))
    assert r.status_code == 200 and r.content == PAGE, describe(r)
    assert r.headers.get("Content-Type") == media
    assert r.headers.get("X-Content-Type-Options") == "nosniff", r.headers
    assert r.headers.get("Content-Security-Policy") == "sandbox", r.headers
    disposition = r.headers.get("Content-Disposition", "")
    if inline:
        assert not disposition.startswith("attachment"), r.headers
    else:
        assert disposition == 'attachment; filename="%s"' % aid, r.headers
    # ranges keep them
    r = anon.get("/file/%d/%d/%s" % (space.customer.id, space.id, aid), headers={"Range": "bytes=0-5"})
    assert r.status_code == 206 and r.headers.get("X-Content-Type-Options") == "nosniff", describe(r)


def test_file_errors_carry_the_same_guards(space, anon):
    r = anon.get("/file/%d/%d/nothing-here" % (space.customer.id, space.id))
    assert r.status_code == 404, describe(r)
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("Content-Security-Policy") == "sandbox"


def test_custom_header_cannot_make_a_page_inline(space, origin, anon):
    """A customer's Content-Disposition or X-Content-Type-Options does not
    loosen /file's."""
    api = space.customer.api
    for key, value in (("Content-Disposition", "inline"), ("X-Content-Type-Options", "sniff")):
        r = api.post(space.customer.path + "/customHeaders", json={"key": key, "value": value})
        if r.status_code == 400:
            continue  # refused outright: fine too
        assert r.status_code == 201, describe(r)
    aid = uniq("xss")
    r = api.put(space.image(aid), json={"origin": origin.add(PAGE, "text/html"), "mediaType": "text/html",
                                        "deliveryChannels": ["file"]}, timeout=60)
    assert_resource(r, 201, "vocab:Image")
    r = anon.get("/file/%d/%d/%s" % (space.customer.id, space.id, aid))
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Disposition") == 'attachment; filename="%s"' % aid, r.headers
    assert r.headers.get("X-Content-Type-Options") == "nosniff", r.headers


# ---------------------------------------------------------------- finding 6: space 0

def test_space_zero_is_not_a_space(customer, anon):
    api = customer.api
    before = api.get(customer.path + "/defaultDeliveryChannels")
    assert before.status_code == 200
    for method in ("PUT", "PATCH"):
        r = api.request(method, customer.path + "/spaces/0", json={"name": uniq("zero")})
        assert_error(r, 400, field="0")
    for method, path in (("DELETE", "/spaces/0"), ("GET", "/spaces/0"), ("GET", "/spaces/0/images"),
                         ("GET", "/spaces/-1"), ("DELETE", "/spaces/-1"), ("GET", "/spaces/0/defaultDeliveryChannels"),
                         ("GET", "/spaces/2147483648"), ("PUT", "/spaces/0/images/x")):
        r = api.request(method, customer.path + path, json={"mediaType": "image/jpeg"} if method == "PUT" else None)
        assert_error(r, 400)
    for path in ("/customers/0", "/customers/-5/spaces", "/customers/00/spaces"):
        assert_error(api.get(path), 400)
    assert_error(anon.get("/iiif-img/%d/0/x/info.json" % customer.id), 400)
    # the customer-level defaults are untouched and images still register
    after = api.get(customer.path + "/defaultDeliveryChannels")
    assert after.json()["member"] == before.json()["member"]
    s = create_space(customer)
    assert s.id >= 1
    put_asset(s, "still-works")


# ---------------------------------------------------------------- finding 7: nginx's own errors

def raw(request, read=65536):
    """Sends bytes to the stack as they are; returns (status, headers, body)."""
    u = urlsplit(base_url())
    with socket.create_connection((u.hostname, u.port or 80), timeout=15) as sock:
        sock.sendall(request)
        data = b""
        try:
            while len(data) < read:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                if sep:
                    lines = head.decode("latin-1").split("\r\n")
                    hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
                    n = int(hdrs.get("content-length", "-1"))
                    if 0 <= n <= len(body):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    n = int(hdrs.get("content-length", len(body)))
    return status, hdrs, body[:n]


def assert_json_error(status, hdrs, body, want):
    import json
    assert status == want, (status, hdrs, body[:300])
    assert hdrs.get("content-type", "").startswith("application/ld+json"), (hdrs, body[:300])
    j = json.loads(body)
    assert j["@type"] == "Error" and j["statusCode"] == want, j
    assert hdrs.get("access-control-allow-origin") == "*"


HOST = b"Host: 127.0.0.1\r\n"


@pytest.mark.parametrize("path", [b"/customers/1", b"/iiif-img/1/1/x/info.json", b"/file/1/1/x", b"/ping"])
def test_trace_is_a_json_405(path):
    assert_json_error(*raw(b"TRACE " + path + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"), 405)


@pytest.mark.parametrize("path", [b"/customers/1/spaces", b"/iiif-img/1/1/x/info.json"])
def test_unknown_transfer_encoding_is_a_json_501(path):
    req = (b"POST " + path + b" HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n"
           b"Connection: close\r\n\r\n")
    assert_json_error(*raw(req), 501)


def test_chunked_body_over_the_cap_is_a_json_413(customer):
    chunk = b"x" * (1 << 20)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17)) + b"0\r\n\r\n"
    req = (b"POST " + customer.path.encode() + b"/spaces HTTP/1.1\r\n" + HOST +
           b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + body)
    assert_json_error(*raw(req), 413)


def test_declared_body_over_the_cap_is_a_json_413(customer):
    req = (b"POST " + customer.path.encode() + b"/spaces HTTP/1.1\r\n" + HOST +
           b"Content-Length: 99999999\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    assert_json_error(*raw(req), 413)


def test_long_uri_is_a_json_414():
    req = b"GET /customers/" + b"1" * 20000 + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    assert_json_error(*raw(req), 414)


def test_huge_header_is_a_json_431():
    req = (b"GET /customers/1 HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 20000 + b"\r\n"
           b"Connection: close\r\n\r\n")
    assert_json_error(*raw(req), 431)


def test_bad_request_line_is_a_json_400():
    assert_json_error(*raw(b"GET /customers/1 HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"), 400)


# ---------------------------------------------------------------- finding 10: restriction at once

TILE = "0,0,256,256/256,/0/default.jpg"


@pytest.mark.parametrize("how", ["roles", "maxUnauthorised", "delete", "bulk"])
def test_restriction_reaches_the_fast_path_at_once(space, origin, anon, how):
    """The tile is served by nginx from the public link; the first request
    that starts after the API answered the restricting write is refused,
    every time."""
    api = space.customer.api
    for round_ in range(3):
        aid = uniq("r%d" % round_)
        r = api.put(space.image(aid), json={"mediaType": "image/jpeg", "origin": origin.add(jpeg(600, 400))},
                    timeout=60)
        assert_resource(r, 201, "vocab:Image")
        url = "/iiif-img/%d/%d/%s/%s" % (space.customer.id, space.id, aid, TILE)
        for _ in range(20):  # warm whatever nginx keeps
            r = anon.get(url)
            assert r.status_code == 200, describe(r)
        if how == "roles":
            r = api.patch(space.image(aid), json={"roles": [role_uri(space.customer)]})
        elif how == "maxUnauthorised":
            r = api.patch(space.image(aid), json={"maxUnauthorised": 100}, timeout=60)
        elif how == "delete":
            r = api.delete(space.image(aid))
        else:
            r = api.patch(space.path + "/images", json={
                "@type": "Collection", "member": [{"id": aid, "roles": [role_uri(space.customer)]}]})
        assert r.status_code in (200, 204), describe(r)
        r = anon.get(url)
        assert r.status_code in (401, 404), "%s served after the %s write was answered: %s" % (
            url, how, describe(r))
