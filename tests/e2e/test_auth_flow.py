"""The IIIF Authorization Flow 2.0 over HTTP (CONTRACT section 9,
handlers/api/auth_flow.c, auth_access.c): a restricted asset answers 401
without a session; the clickthrough access page, its form, the cookie; the
token page's postMessage (every value escaped, the origin checked); the probe
with the bearer token; tiles, computed images and thumbnails with the cookie;
a session without the asset's role: 403; logout and role deletion end the
session at once; an asset restricted by maxUnauthorised: 0 alone; the portal
and kiosk services; another customer's session opens nothing."""

import json
import re
import uuid

import pytest

from helpers import assert_resource, create_space, describe, role_uri
from origin import jpeg

ORIGIN = "https://viewer.example.org"
TILE = "0,0,256,256/256,/0/default.jpg"
CTX = "http://iiif.io/api/auth/2/context.json"


def ingest(space, origin, asset_id, **fields):
    body = {"mediaType": "image/jpeg", "origin": origin.add(jpeg(600, 400))}
    body.update(fields)
    r = space.customer.api.put(space.image(asset_id), json=body, timeout=60)
    assert_resource(r, 201, "vocab:Image")


def img(space, asset_id, rest=TILE):
    return "/iiif-img/%d/%d/%s/%s" % (space.customer.id, space.id, asset_id, rest)


def probe(anon, space, asset_id, token=None, customer=None):
    c = customer if customer is not None else space.customer.id
    h = {"Authorization": "Bearer " + token} if token else {}
    r = anon.get("/auth/v2/probe/%s/%d/%s" % (c, space.id, asset_id), headers=h)
    return r


def probe_status(anon, space, asset_id, token=None):
    r = probe(anon, space, asset_id, token)
    assert r.status_code == 200, describe(r)
    j = r.json()
    assert j["@context"] == CTX and j["type"] == "AuthProbeResult2", j
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    return j["status"], j


def cookie_name(customer):
    return "dlcs-auth2-%d" % customer.id


def login(anon, customer, service="clickthrough", data=None, headers=None):
    """POSTs the access service's form; returns the response and the cookie."""
    form = {"origin": ORIGIN}
    form.update(data or {})
    r = anon.post("/auth/v2/access/%d/%s" % (customer.id, service), data=form, headers=headers or {})
    return r, r.cookies.get(cookie_name(customer))


def token_message(anon, customer, cookie, message_id="m1", origin=ORIGIN):
    """The token page's message and its targetOrigin."""
    r = anon.get("/auth/v2/access/%d/token" % customer.id, params={"messageId": message_id, "origin": origin},
                 cookies={cookie_name(customer): cookie} if cookie else {})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), describe(r)
    assert r.headers.get("Cache-Control") == "no-store"
    m = re.search(r"<script>window\.parent\.postMessage\((\{.*\}), (\".*\")\);</script>", r.text)
    assert m, r.text
    return json.loads(m.group(1)), json.loads(m.group(2)), r.text


def make_site(make_customer, origin, name):
    """A customer's space of four assets: open, restricted to its
    clickthrough role, restricted by maxUnauthorised 0 alone, and restricted
    to a role "staff" no clickthrough session holds."""
    c = make_customer(name)
    sp = create_space(c)
    ingest(sp, origin, "open")
    ingest(sp, origin, "click", roles=[role_uri(c)])
    ingest(sp, origin, "max0", maxUnauthorised=0)
    assert c.api.put(c.path + "/roles/staff", json={}).status_code in (200, 201)
    ingest(sp, origin, "staff", roles=[role_uri(c, "staff")])
    return sp


@pytest.fixture(scope="module")
def site(make_customer, origin):
    return make_site(make_customer, origin, "auth")


def fresh_session(anon, customer):
    s = type(anon)(anon.base)
    r, cookie = login(s, customer)
    assert r.status_code == 200 and cookie, describe(r)
    msg, _, _ = token_message(s, customer, cookie)
    return s, cookie, msg["accessToken"]


# ---------------------------------------------------------------- without a session

def test_restricted_without_session(site, anon):
    assert anon.get(img(site, "open")).status_code == 200
    for aid in ("click", "max0", "staff"):
        for rest in (TILE, "full/!100,100/0/default.jpg", "full/77,/0/default.png"):
            r = anon.get(img(site, aid, rest))
            assert r.status_code == 401, (aid, rest, describe(r))
        # info.json: 200, with the services that lead in (CONTRACT section 9)
        j = anon.get(img(site, aid, "info.json")).json()
        probe_service = j["service"][0]
        assert probe_service["id"].endswith("/auth/v2/probe/%d/%d/%s" % (site.customer.id, site.id, aid))
        access = probe_service["service"][0]
        assert access["type"] == "AuthAccessService2" and access["profile"] == "active"
        # the roles' services; staff names none: the customer's clickthrough
        assert access["label"]["en"][0] and access["id"].endswith("/auth/v2/access/%d/clickthrough" %
                                                                  site.customer.id)
        assert [x["type"] for x in access["service"]] == ["AuthAccessTokenService2", "AuthLogoutService2"]
        assert probe_status(anon, site, aid)[0] == 401
    st, j = probe_status(anon, site, "click")
    assert j["heading"]["en"][0] and j["note"]["en"][0], j
    assert probe_status(anon, site, "open")[0] == 200
    assert probe(anon, site, "nope").status_code == 404
    assert probe_status(anon, site, "click", token="0" * 64)[0] == 401
    assert probe_status(anon, site, "click", token="x' OR '1'='1")[0] == 401


# ---------------------------------------------------------------- clickthrough

def test_max_unauthorised_opens_the_whole_image_only(site, anon, origin):
    """maxUnauthorised opens the whole image at a small size (CONTRACT
    section 9), never a part of it: small regions at full resolution would
    rebuild the image tile by tile. A session of the customer opens the
    parts."""
    sp = site
    ingest(sp, origin, "max300", maxUnauthorised=300)  # 600 x 400
    whole = ("full/300,/0/default.jpg", "full/!300,300/0/default.jpg", "0,0,600,400/300,/0/default.jpg",
             "pct:0,0,100,100/300,/0/default.jpg", "0,0,900,900/150,/0/default.jpg",
             "full/300,/0/default.png")
    for rest in whole:
        r = anon.get(img(sp, "max300", rest))
        assert r.status_code == 200, (rest, describe(r))
    parts = ("0,0,256,256/256,/0/default.jpg", "256,0,256,256/256,/0/default.jpg",
             "0,0,300,300/300,/0/default.jpg", "300,200,300,200/150,/0/default.jpg", "square/300,/0/default.jpg",
             "pct:0,0,50,50/300,/0/default.jpg", "0,0,599,400/299,/0/default.jpg", "full/max/0/default.jpg",
             "full/301,/0/default.jpg")
    for rest in parts:
        for v in ("", "v2/", "v3/"):
            r = anon.get("/iiif-img/%s%d/%d/max300/%s" % (v, sp.customer.id, sp.id, rest))
            assert r.status_code == 401 and r.content[:2] != b"\xff\xd8", (v, rest, describe(r))
    s, _, _ = fresh_session(anon, sp.customer)
    for rest in parts:
        r = s.get(img(sp, "max300", rest))
        assert r.status_code == 200 and r.content[:2] in (b"\xff\xd8", b"\x89P"), (rest, describe(r))
    # info.json: without access, a level 0 service of the open sizes (the
    # largest of them, 300 x 200, too), no tiles, so that a viewer draws
    # the largest instead of asking for tiles it would be refused
    for v, level in (("", "level0"), ("v2/", "level0.json")):
        r = anon.get("/iiif-img/%s%d/%d/max300/info.json" % (v, sp.customer.id, sp.id))
        assert r.status_code == 200, describe(r)
        j = r.json()
        profile = j["profile"] if isinstance(j["profile"], str) else j["profile"][0]
        assert profile.endswith(level) and "tiles" not in j, j
        assert "extraFeatures" not in j, j
        sizes = [(z["width"], z["height"]) for z in j["sizes"]]
        assert sizes and max(sizes) == (300, 200) and all(max(z) <= 300 for z in sizes), j
        for w, h in sizes:
            r = anon.get(img(sp, "max300", "full/%d,%d/0/default.jpg" % (w, h)))
            assert r.status_code == 200, (v, w, h, describe(r))
    # with access: the whole service
    j = s.get(img(sp, "max300", "info.json")).json()
    assert j["profile"] == "level2" and j["tiles"] and "maxWidth" not in j, j


def test_access_page(site, anon):
    c = site.customer
    r = anon.get("/auth/v2/access/%d/clickthrough" % c.id, params={"origin": ORIGIN})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), describe(r)
    assert '<form method="post">' in r.text and 'value="%s"' % ORIGIN in r.text
    assert "default-src 'none'" in r.headers.get("Content-Security-Policy", "")
    assert anon.get("/auth/v2/access/%s/clickthrough" % c.name, params={"origin": ORIGIN}).status_code == 200
    for bad in ('https://x.org/"><script>', "javascript:alert(1)", "https://a.org/path"):
        r = anon.get("/auth/v2/access/%d/clickthrough" % c.id, params={"origin": bad})
        assert r.status_code == 400 and "<script>" not in r.text, describe(r)
    assert anon.get("/auth/v2/access/%d/nope" % c.id).status_code == 404
    assert anon.get("/auth/v2/access/%d/..%%2Fx" % c.id).status_code in (400, 404)


def test_clickthrough_flow(site, anon):
    c = site.customer
    s = type(anon)(anon.base)
    r, cookie = login(s, c)
    assert r.status_code == 200 and cookie and re.fullmatch(r"[0-9a-f]{96}", cookie), describe(r)
    sc = r.headers["Set-Cookie"]
    assert "HttpOnly" in sc and "Path=/" in sc and "Secure" not in sc, sc
    assert "window.close()" in r.text
    msg, target, _ = token_message(s, c, cookie)
    assert target == ORIGIN
    assert msg["@context"] == CTX and msg["type"] == "AuthAccessToken2" and msg["messageId"] == "m1", msg
    token = msg["accessToken"]
    assert re.fullmatch(r"[0-9a-f]{64}", token) and token != cookie
    assert 0 < msg["expiresIn"] <= 600
    assert probe_status(anon, site, "click", token)[0] == 200
    assert probe_status(anon, site, "max0", token)[0] == 200
    assert probe_status(anon, site, "staff", token)[0] == 403
    # the images, with the cookie
    for rest in (TILE, "full/!100,100/0/default.jpg", "full/77,/0/default.png"):
        g = s.get(img(site, "click", rest))
        assert g.status_code == 200 and g.content[:2] in (b"\xff\xd8", b"\x89P"), (rest, describe(g))
        assert "private" in g.headers.get("Cache-Control", ""), g.headers
        assert anon.get(img(site, "click", rest)).status_code == 401
    assert s.get(img(site, "max0")).status_code == 200
    g = s.get(img(site, "staff"))
    assert g.status_code == 403 and g.content[:2] != b"\xff\xd8", describe(g)
    # the token is no cookie, the cookie no token
    assert probe_status(anon, site, "click", cookie)[0] == 401
    assert anon.get(img(site, "click"), cookies={cookie_name(c): token}).status_code == 401


def test_https_cookie_is_secure(site, anon):
    r, cookie = login(type(anon)(anon.base), site.customer, headers={"X-Forwarded-Proto": "https"})
    sc = r.headers.get("Set-Cookie", "")
    assert cookie and "Secure" in sc and "SameSite=None" in sc and "HttpOnly" in sc, sc


def test_form_from_another_site_is_refused(site, anon):
    r, cookie = login(type(anon)(anon.base), site.customer, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and not cookie, describe(r)


# ---------------------------------------------------------------- the token page

def test_token_errors_and_escaping(site, anon):
    c = site.customer
    s, cookie, _ = fresh_session(anon, c)
    assert token_message(anon, c, None)[0]["profile"] == "missingAspect"
    assert token_message(anon, c, "f" * 64)[0]["profile"] == "invalidAspect"
    assert token_message(anon, c, "not a cookie")[0]["profile"] == "invalidAspect"
    msg, _, _ = token_message(s, c, cookie, origin="https://other.example")
    assert msg["profile"] == "invalidOrigin" and msg["type"] == "AuthAccessTokenError2"
    msg, target, _ = token_message(s, c, cookie, origin='https://x.org"</script><script>alert(1)//')
    assert msg["profile"] == "invalidOrigin" and target == "null"
    msg, _, _ = token_message(s, c, cookie, message_id="")
    assert msg["profile"] == "invalidRequest"
    evil = "</script><script>alert(1)</script>\u2028<!--&"
    msg, target, text = token_message(s, c, cookie, message_id=evil)
    assert msg["messageId"] == evil and msg["type"] == "AuthAccessToken2" and target == ORIGIN
    assert "</script><script>" not in text and "<!--" not in text and "\u2028" not in text


# ---------------------------------------------------------------- ending sessions

def test_logout_ends_the_session_at_once(site, anon):
    c = site.customer
    s, cookie, token = fresh_session(anon, c)
    assert s.get(img(site, "click")).status_code == 200
    r = s.get("/auth/v2/access/%d/clickthrough/logout" % c.id)
    assert r.status_code == 200 and "Max-Age=0" in r.headers.get("Set-Cookie", ""), describe(r)
    assert probe_status(anon, site, "click", token)[0] == 401
    assert anon.get(img(site, "click"), cookies={cookie_name(c): cookie}).status_code == 401
    assert token_message(anon, c, cookie)[0]["profile"] == "invalidAspect"


def test_role_deletion_ends_its_sessions(make_customer, origin, anon):
    c = make_customer("authdel")
    sp = create_space(c)
    ingest(sp, origin, "a", roles=[role_uri(c)])
    c.api.put(c.path + "/roles/temp", json={})
    r = c.api.patch(c.path + "/authServices/clickthrough", json={"roles": [role_uri(c), role_uri(c, "temp")]})
    assert r.status_code == 200, describe(r)
    s, cookie, token = fresh_session(anon, c)
    assert probe_status(anon, sp, "a", token)[0] == 200
    assert c.api.delete(c.path + "/roles/temp").status_code == 204
    assert probe_status(anon, sp, "a", token)[0] == 401
    assert s.get(img(sp, "a")).status_code == 401


# ---------------------------------------------------------------- other services

def test_portal_login(site, anon, origin):
    c = site.customer
    pw = "pw-" + uuid.uuid4().hex
    email = "u-%s@example.org" % uuid.uuid4().hex[:8]
    r = c.api.post(c.path + "/portalUsers", json={"email": email, "password": pw,
                                                  "roles": [role_uri(c, "staff")]})
    assert r.status_code == 201, describe(r)
    p = c.api.post(c.path + "/roleProviders", json={"type": "portal"}).json()
    r = c.api.put(c.path + "/authServices/staff-login", json={
        "profile": "active", "label": "Staff login", "roleProvider": p["@id"]})
    assert r.status_code == 201, describe(r)
    page = anon.get("/auth/v2/access/%d/staff-login" % c.id, params={"origin": ORIGIN})
    assert 'name="password"' in page.text and 'name="email"' in page.text
    s = type(anon)(anon.base)
    r, cookie = login(s, c, "staff-login", {"email": email, "password": pw + "x"})
    assert r.status_code == 401 and not cookie and pw not in r.text, describe(r)
    r, cookie = login(s, c, "staff-login", {"email": email.upper(), "password": pw})
    assert r.status_code == 200 and cookie, describe(r)
    assert s.get(img(site, "staff")).status_code == 200
    assert s.get(img(site, "click")).status_code == 403  # the user holds staff only


def test_kiosk_grants_on_the_page(site, anon):
    c = site.customer
    r = c.api.put(c.path + "/authServices/kiosk", json={"profile": "kiosk", "roles": [role_uri(c)]})
    assert r.status_code == 201, describe(r)
    s = type(anon)(anon.base)
    r = s.get("/auth/v2/access/%d/kiosk" % c.id, params={"origin": ORIGIN})
    assert r.status_code == 200 and s.cookies.get(cookie_name(c)), describe(r)
    assert s.get(img(site, "click")).status_code == 200


def test_another_customers_session_opens_nothing(site, make_customer, anon):
    b = make_customer("authother")
    s, cookie, token = fresh_session(anon, b)
    c = site.customer
    assert anon.get(img(site, "click"), cookies={cookie_name(c): cookie}).status_code == 401
    assert probe_status(anon, site, "click", token)[0] == 401
    assert token_message(anon, c, cookie)[0]["profile"] == "invalidAspect"


def test_probe_preflight(site, anon):
    r = anon.options("/auth/v2/probe/%d/%d/click" % (site.customer.id, site.id),
                     headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                              "Access-Control-Request-Headers": "authorization"})
    assert r.status_code == 204, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    assert "Authorization" in r.headers.get("Access-Control-Allow-Headers", "")


def raw_get(base, path, headers=None):
    """GET of path exactly as written (no client normalises .. or //)."""
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_no_url_trick_reaches_a_restricted_file(site, anon):
    c, s = site.customer, site.id
    paths = []
    for cpart in (str(c.id), c.name):
        for prefix in ("iiif-img", "iiif-img/v2", "iiif-img/v3", "thumbs", "thumbs/v2"):
            paths += ["/%s/%s/%d/click/%s" % (prefix, cpart, s, rest) for rest in (
                TILE, "full/!100,100/0/default.jpg", "full/100,/0/default.jpg", "full/max/0/default.jpg",
                "full/full/0/default.jpg")]
        paths += ["/file/%s/%d/click" % (cpart, s)]
    paths += ["//iiif-img/%d/%d/click/%s" % (c.id, s, TILE),
              "/iiif-img//%d/%d/click/%s" % (c.id, s, TILE),
              "/iiif-img/%d/%d/open/../click/%s" % (c.id, s, TILE),
              "/iiif-img/%d/%d/open/%%2E%%2E/click/%s" % (c.id, s, TILE),
              "/iiif-img/%d/%d/click%%2F%s" % (c.id, s, TILE.replace("/", "%2F")),
              "/iiif-img/%d/%d/%%63lick/%s" % (c.id, s, TILE),
              "/iiif-img/%d/%d/click/%s?x=1" % (c.id, s, TILE),
              "/dlcs-storage/%d/%d/click/tiles/0,0,256,256_256.jpg" % (c.id, s),
              "/dlcs-storage/%d/%d/click/original" % (c.id, s),
              "/public/iiif-img/%d/%d/click/tiles/0,0,256,256_256.jpg" % (c.id, s)]
    for p in paths:
        for headers in ({}, {"Cookie": "dlcs-auth2-%d=%s" % (c.id, "0" * 64)}):
            status, body = raw_get(anon.base, p, headers)
            assert status != 200 and body[:2] != b"\xff\xd8", (p, headers, status)


# ---------------------------------------------------------------- fixes

def test_portal_user_without_roles_gets_no_session(site, anon):
    """A role-less session would open every asset restricted by maxUnauthorised alone."""
    c = site.customer
    p = c.api.post(c.path + "/roleProviders", json={"type": "portal"}).json()
    r = c.api.put(c.path + "/authServices/noroles-login", json={
        "profile": "active", "label": "Login", "roleProvider": p["@id"]})
    assert r.status_code == 201, describe(r)
    pw = "pw-" + uuid.uuid4().hex
    email = "n-%s@example.org" % uuid.uuid4().hex[:8]
    r = c.api.post(c.path + "/portalUsers", json={"email": email, "password": pw, "roles": []})
    assert r.status_code == 201, describe(r)
    s = type(anon)(anon.base)
    r, cookie = login(s, c, "noroles-login", {"email": email, "password": pw})
    assert r.status_code == 403 and not cookie and "Set-Cookie" not in r.headers, describe(r)
    assert "not been given access" in r.text
    assert s.get(img(site, "max0")).status_code == 401


def thumbs_info(space, asset_id, v2=False):
    return "/thumbs/%s%d/%d/%s/info.json" % ("v2/" if v2 else "", space.customer.id, space.id, asset_id)


def test_restricted_thumbs_info_is_200_with_the_auth_services(site, anon):
    """Like /iiif-img's: a client finds the probe service there, even with no open size."""
    open_sizes = anon.get(thumbs_info(site, "open")).json()["sizes"]
    assert open_sizes
    for aid in ("click", "max0", "staff"):
        r = anon.get(thumbs_info(site, aid))
        assert r.status_code == 200, describe(r)
        j = r.json()
        assert j["sizes"] == [] and j["@context"][0] == CTX, j
        assert j["service"][0]["type"] == "AuthProbeService2"
        assert j["service"][0]["id"].endswith("/auth/v2/probe/%d/%d/%s" % (site.customer.id, site.id, aid))
        assert "private" in r.headers["Cache-Control"] and "Cookie" in r.headers.get("Vary", "")
        r2 = anon.get(thumbs_info(site, aid, v2=True))
        assert r2.status_code == 200 and r2.json()["service"][0]["type"] == "AuthProbeService2", describe(r2)
    s, cookie, token = fresh_session(anon, site.customer)
    j = s.get(thumbs_info(site, "click")).json()
    assert j["sizes"] == open_sizes and j["service"][0]["type"] == "AuthProbeService2", j
    assert s.get(thumbs_info(site, "staff")).json()["sizes"] == []  # the session lacks staff


def sessions_of(dlcs_var, customer):
    import os
    import subprocess
    sock = os.path.join(dlcs_var, "run", "mysqld.sock")
    out = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-N", "-B", "-e",
                          "SELECT COUNT(*) FROM auth_sessions WHERE customer_id = %d" % customer.id],
                         check=True, timeout=30, capture_output=True, text=True).stdout.strip()
    return int(out)


def test_expired_sessions_are_purged(make_customer, anon, dlcs_var):
    import time
    c = make_customer("authpurge")
    r = c.api.patch(c.path + "/authServices/clickthrough", json={"timeToLive": 1})
    assert r.status_code == 200, describe(r)
    fresh_session(anon, c)
    assert sessions_of(dlcs_var, c) == 1
    time.sleep(2.2)
    r = c.api.patch(c.path + "/authServices/clickthrough", json={"timeToLive": 600})
    assert r.status_code == 200, describe(r)
    fresh_session(anon, c)  # a login purges the expired
    assert sessions_of(dlcs_var, c) == 1
