"""Restricted tiles at nginx speed (nginx/dlcs.conf, "Restricted tiles";
handlers/asset/grant.h, grants; asset/auth_session.h, sids and revocation
markers): after dlcs-image has sent one of a restricted asset's tiles to a
session that may see it, it grants the asset to the session and nginx sends
the next ones itself, through
auth-grants/{c}/{cookie}/{bucket}/{s}/{id}; a logout, a role's deletion and
any change of the asset's access take effect on the very next tile, a
session's expiry too; another customer's cookie, a session without the
roles and every URL trick reach no restricted byte."""

import glob
import os
import re
import time
import uuid

import pytest

from helpers import create_space, describe, role_uri
from test_auth_flow import cookie_name, ingest, login, make_site, raw_get

TILES = ["0,0,256,256/256,/0/default.jpg", "256,0,256,256/256,/0/default.jpg",
         "512,0,88,256/88,/0/default.jpg", "0,256,256,144/256,/0/default.jpg"]


def tile_url(space, asset_id, rest=TILES[0], customer=None):
    c = customer if customer is not None else space.customer.id
    return "/iiif-img/%s/%d/%s/%s" % (c, space.id, asset_id, rest)


def stored_tile(storage_root, space, asset_id, rest=TILES[0]):
    region, size = rest.split("/")[:2]
    path = os.path.join(storage_root, str(space.customer.id), str(space.id), asset_id, "tiles",
                        "%s_%s.jpg" % (region, size.rstrip(",")))
    with open(path, "rb") as f:
        return f.read()


BUCKET = 100  # seconds (asset/grant.h GRANT_BUCKET_SECONDS)


def grants(storage_root, space, asset_id, cookie="*"):
    """The asset's grants: of the session with that cookie, or of any."""
    return glob.glob(os.path.join(storage_root, "auth-grants", str(space.customer.id), cookie, "*",
                                  str(space.id), asset_id))


def current_grant(storage_root, space, asset_id, cookie):
    return os.path.join(storage_root, "auth-grants", str(space.customer.id), cookie,
                        str(int(time.time()) // BUCKET), str(space.id), asset_id)


def bucket_room(seconds=30):
    """Waits, when the time's bucket ends within `seconds`, for the next:
    a grant serves only in its bucket, and the next tile after the bucket
    ends is dlcs-image's again."""
    left = BUCKET - time.time() % BUCKET
    if left < seconds:
        time.sleep(left + 0.5)


def session(anon, customer):
    """A new client with a clickthrough session of the customer."""
    s = type(anon)(anon.base)
    r, cookie = login(s, customer)
    assert r.status_code == 200 and cookie, describe(r)
    return s, cookie


def image_log(dlcs_var):
    with open(os.path.join(dlcs_var, "log", "image.log"), errors="replace") as f:
        return f.read()


def log_settled(anon, dlcs_var):
    """dlcs-image's log up to now: a request only dlcs-image answers, and
    its line in the log, show that the lines before it are written."""
    probe = "/iiif-img/0/0/settle-%s/info.json" % uuid.uuid4().hex
    anon.get(probe)
    end = time.time() + 10
    while " GET %s " % probe not in image_log(dlcs_var):
        assert time.time() < end, "dlcs-image's log is not written"
        time.sleep(0.1)
    return image_log(dlcs_var)


def dlcs_image_lines(log, path):
    return len(re.findall(r" GET %s \d+ " % re.escape(path), log))


def warm(s, space, asset_id, storage_root):
    """Tiles from dlcs-image until it grants the asset to the session: at
    the first one a second after the asset's last change (grant.c)."""
    bucket_room()
    cookie = s.cookies.get(cookie_name(space.customer))
    end = time.time() + 15
    while True:
        r = s.get(tile_url(space, asset_id))
        assert r.status_code == 200, describe(r)
        if os.path.islink(current_grant(storage_root, space, asset_id, cookie)):
            break
        assert time.time() < end, "dlcs-image did not grant %s" % asset_id
        time.sleep(0.5)
    r = s.get(tile_url(space, asset_id, TILES[1]))
    assert r.status_code == 200, describe(r)


@pytest.fixture(scope="module")
def rsite(make_customer, origin):
    return make_site(make_customer, origin, "rtiles")


def test_nginx_sends_restricted_tiles_after_the_first(rsite, anon, storage_root, dlcs_var):
    s, cookie = session(anon, rsite.customer)
    assert anon.get(tile_url(rsite, "click")).status_code == 401
    warm(s, rsite, "click", storage_root)
    # the public tree never points at it
    assert not os.path.lexists(os.path.join(storage_root, "public", "iiif-img", str(rsite.customer.id),
                                            str(rsite.id), "click"))
    before = log_settled(anon, dlcs_var)
    for rest in TILES:
        for _ in range(3):
            r = s.get(tile_url(rsite, "click", rest))
            assert r.status_code == 200 and r.content == stored_tile(storage_root, rsite, "click", rest), \
                describe(r)
            assert r.headers["Content-Type"] == "image/jpeg"
            assert r.headers.get("Cache-Control") == "private, no-cache", r.headers
            assert "Cookie" in r.headers.get("Vary", "") and r.headers.get("Access-Control-Allow-Origin") == "*"
    head = s.head(tile_url(rsite, "click", TILES[2]))
    assert head.status_code == 200 and not head.content
    after = log_settled(anon, dlcs_var)
    for rest in TILES:  # none of the tiles went to dlcs-image
        assert dlcs_image_lines(after, tile_url(rsite, "click", rest)) == \
            dlcs_image_lines(before, tile_url(rsite, "click", rest))
    # the grant is the session's alone, and reaches the asset's own files
    link = current_grant(storage_root, rsite, "click", cookie)
    assert os.path.samefile(link, os.path.join(storage_root, str(rsite.customer.id), str(rsite.id),
                                               "click"))
    assert grants(storage_root, rsite, "click") and all(cookie in g for g in grants(
        storage_root, rsite, "click", cookie))
    # 304 through the grant too
    etag = s.get(tile_url(rsite, "click")).headers["ETag"]
    assert s.get(tile_url(rsite, "click"), headers={"If-None-Match": etag}).status_code == 304
    # the same request without the cookie, or with a forged one: dlcs-image's 401
    for cookies in ({}, {cookie_name(rsite.customer): "0" * 96},
                    {cookie_name(rsite.customer): cookie[:32] + "0" * 64},
                    {cookie_name(rsite.customer): cookie[:95]},
                    {"x" + cookie_name(rsite.customer): cookie}):
        r = anon.get(tile_url(rsite, "click"), cookies=cookies)
        assert r.status_code == 401 and r.json()["statusCode"] == 401, (cookies, describe(r))
    # a session without the asset's role: 403, never the file
    assert s.get(tile_url(rsite, "staff")).status_code == 403


def test_session_cookie_carries_a_sid(rsite, anon):
    s, cookie = session(anon, rsite.customer)
    assert re.fullmatch(r"[0-9a-f]{96}", cookie), cookie


def test_another_customers_cookie_opens_nothing(rsite, make_customer, anon, storage_root):
    s, cookie = session(anon, rsite.customer)
    warm(s, rsite, "click", storage_root)
    other = make_customer("rtilesother")
    o, ocookie = session(anon, other)
    c = rsite.customer
    for cookies in ({cookie_name(other): ocookie},
                    {cookie_name(c): ocookie},
                    {cookie_name(other): cookie, cookie_name(c): ocookie}):
        for rest in TILES:
            r = anon.get(tile_url(rsite, "click", rest), cookies=cookies)
            assert r.status_code == 401, (cookies, rest, describe(r))
    # the right cookie among others: still the customer's decision
    r = anon.get(tile_url(rsite, "click"), headers={
        "Cookie": "a=1; %s=%s; %s=%s" % (cookie_name(other), ocookie, cookie_name(c), cookie)})
    assert r.status_code == 200, describe(r)


def test_logout_revokes_at_once(rsite, anon, storage_root):
    c = rsite.customer
    s, cookie = session(anon, c)
    warm(s, rsite, "click", storage_root)
    for rest in TILES:  # nginx sends them through the grant now
        assert s.get(tile_url(rsite, "click", rest)).status_code == 200
    r = s.get("/auth/v2/access/%d/clickthrough/logout" % c.id)
    assert r.status_code == 200, describe(r)
    for rest in TILES:  # the grant went with the session
        r = anon.get(tile_url(rsite, "click", rest), cookies={cookie_name(c): cookie})
        assert r.status_code == 401, (rest, describe(r))


def test_a_session_that_expires_sees_no_more_tiles(make_customer, origin, anon, storage_root):
    """A grant serves only until its bucket ends, and is made only for a
    session that outlives that: nginx sends no tile past the expiry."""
    c = make_customer("rtilesttl")
    sp = create_space(c)
    ingest(sp, origin, "a", roles=[role_uri(c)])
    r = c.api.patch(c.path + "/authServices/clickthrough", json={"timeToLive": 3})
    assert r.status_code == 200 and r.json()["timeToLive"] == 3, describe(r)
    s, cookie = session(anon, c)
    for rest in TILES:
        assert s.get(tile_url(sp, "a", rest)).status_code == 200, rest
    # a grant only within the last 3 s of a bucket, never past the expiry
    for g in grants(storage_root, sp, "a", cookie):
        bucket = int(g.split(os.sep)[-3])
        assert (bucket + 1) * BUCKET <= time.time() + 3, g
    time.sleep(4)
    for rest in TILES:
        r = anon.get(tile_url(sp, "a", rest), cookies={cookie_name(c): cookie})
        assert r.status_code == 401, (rest, describe(r))


def test_role_deletion_revokes_at_once(make_customer, origin, anon, storage_root):
    c = make_customer("rtilesdel")
    sp = create_space(c)
    ingest(sp, origin, "a", roles=[role_uri(c)])
    c.api.put(c.path + "/roles/temp", json={})
    r = c.api.patch(c.path + "/authServices/clickthrough", json={"roles": [role_uri(c), role_uri(c, "temp")]})
    assert r.status_code == 200, describe(r)
    s, cookie = session(anon, c)
    warm(s, sp, "a", storage_root)
    for rest in TILES:  # nginx sends them through the grant now
        assert s.get(tile_url(sp, "a", rest)).status_code == 200
    assert c.api.delete(c.path + "/roles/temp").status_code == 204
    for rest in TILES:
        r = anon.get(tile_url(sp, "a", rest), cookies={cookie_name(c): cookie})
        assert r.status_code == 401, (rest, describe(r))


def test_access_changes_take_effect_on_the_next_tile(rsite, anon, origin, storage_root):
    c = rsite.customer
    sp = rsite
    ingest(sp, origin, "chg", roles=[role_uri(c)])
    s, cookie = session(anon, c)
    warm(s, sp, "chg", storage_root)
    for rest in TILES:
        assert s.get(tile_url(sp, "chg", rest)).status_code == 200
    # a role the session lacks: the very next tile is refused
    r = c.api.patch(sp.image("chg"), json={"roles": [role_uri(c, "staff")]}, timeout=60)
    assert r.status_code == 200, describe(r)
    assert not grants(storage_root, sp, "chg")
    for rest in TILES:
        assert s.get(tile_url(sp, "chg", rest)).status_code == 403, rest
    # back to the session's role: allowed again (by dlcs-image first)
    r = c.api.patch(sp.image("chg"), json={"roles": [role_uri(c)]}, timeout=60)
    assert r.status_code == 200, describe(r)
    assert s.get(tile_url(sp, "chg")).status_code == 200
    # open: the public link, for everyone
    r = c.api.patch(sp.image("chg"), json={"roles": []}, timeout=60)
    assert r.status_code == 200, describe(r)
    assert anon.get(tile_url(sp, "chg")).status_code == 200
    # maxUnauthorised lowered to 0: the next tile needs a session again
    r = c.api.patch(sp.image("chg"), json={"maxUnauthorised": 0}, timeout=60)
    assert r.status_code == 200, describe(r)
    for rest in TILES:
        assert anon.get(tile_url(sp, "chg", rest)).status_code == 401, rest
    assert s.get(tile_url(sp, "chg")).status_code == 200  # any session of the customer
    # deleted: nothing
    assert c.api.delete(sp.image("chg")).status_code == 204
    for rest in TILES:
        assert s.get(tile_url(sp, "chg", rest)).status_code == 404, rest
    assert not grants(storage_root, sp, "chg")


def test_access_changes_under_load_revoke_at_once(rsite, anon, origin, storage_root):
    """Tiles asked for all the time by several clients of one session while
    the asset's roles change back and forth: no tile asked for after a
    change that takes the session's role away has been answered is sent
    (a decision it overtook is never left as a grant, asset/grant.c)."""
    import threading
    c, sp = rsite.customer, rsite
    ingest(sp, origin, "busy", roles=[role_uri(c)])
    s, cookie = session(anon, c)
    warm(s, sp, "busy", storage_root)
    stop, seen = threading.Event(), []

    def hammer(k):
        h = type(anon)(anon.base)
        i = 0
        while not stop.is_set():
            t0 = time.time()
            r = h.get(tile_url(sp, "busy", TILES[(k + i) % len(TILES)]), cookies={cookie_name(c): cookie})
            seen.append((t0, r.status_code))
            i += 1

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    closed = []  # when each change that took the role away had been answered
    try:
        for roles, pause in (([role_uri(c, "staff")], 1.5), ([role_uri(c)], 2.5)) * 3:
            r = c.api.patch(sp.image("busy"), json={"roles": roles}, timeout=60)
            assert r.status_code == 200, describe(r)
            if roles == [role_uri(c, "staff")]:
                closed.append((time.time(), time.time() + pause))
            time.sleep(pause)
    finally:
        stop.set()
        for t in threads:
            t.join()
    for start, end in closed:
        during = [st for t0, st in seen if start < t0 < end - 0.2]
        assert during and all(st == 403 for st in during), (start, sorted(set(during)))
    # and the role given back opened it again each time
    assert sum(1 for _, st in seen if st == 200) > len(closed), "no tile was sent while the role was held"


def test_max_unauthorised_alone(rsite, anon, storage_root):
    s, cookie = session(anon, rsite.customer)
    warm(s, rsite, "max0", storage_root)
    for rest in TILES:
        assert s.get(tile_url(rsite, "max0", rest)).status_code == 200
        assert anon.get(tile_url(rsite, "max0", rest)).status_code == 401


def test_no_url_trick_reaches_a_restricted_tile(rsite, make_customer, anon, storage_root):
    c, sid = rsite.customer, rsite.id
    s, cookie = session(anon, c)
    warm(s, rsite, "click", storage_root)
    other = make_customer("rtilestrick")
    o, ocookie = session(anon, other)
    bucket = int(time.time()) // BUCKET
    tile = TILES[0]
    file = "0,0,256,256_256.jpg"
    paths = []
    for target in ("staff", "click"):
        for cpart in (str(c.id), c.name, "0" + str(c.id), "+" + str(c.id)):
            for prefix in ("iiif-img", "iiif-img/v2", "iiif-img/v3"):
                paths.append("/%s/%s/%d/%s/%s" % (prefix, cpart, sid, target, tile))
        paths += ["//iiif-img/%d/%d/%s/%s" % (c.id, sid, target, tile),
                  "/iiif-img/%d//%d/%s/%s" % (c.id, sid, target, tile),
                  "/iiif-img/%d/%d/open/../%s/%s" % (c.id, sid, target, tile),
                  "/iiif-img/%d/%d/open/%%2E%%2E/%s/%s" % (c.id, sid, target, tile),
                  "/iiif-img/%d/%d/%s%%2F%s" % (c.id, sid, target, tile.replace("/", "%2F")),
                  "/dlcs-restricted/iiif-img/%d/%d/%s/tiles/%s" % (c.id, sid, target, file),
                  "/dlcs-restricted/iiif-img/%d/%d/open/../%s/tiles/%s" % (c.id, sid, target, file),
                  "/auth-grants/%d/%s/%d/%d/%s/tiles/%s" % (c.id, cookie, bucket, sid, target, file),
                  "/dlcs-storage/auth-grants/%d/%s/%d/%d/%s/tiles/%s" % (c.id, cookie, bucket, sid,
                                                                        target, file),
                  "/public/../auth-grants/%d/%s/%d/%d/%s/tiles/%s" % (c.id, cookie, bucket, sid, target,
                                                                     file),
                  "/dlcs-restricted/iiif-img/%d/%d/click/../%s/tiles/%s" % (c.id, sid, target, file),
                  "/iiif-img/%d/%d/%s/%s" % (c.id, sid, target, tile.replace("default.jpg", "default.jpg%00"))]
    cookies = [
        "",  # none
        "%s=%s" % (cookie_name(other), ocookie),  # another customer's session
        "%s=%s" % (cookie_name(c), ocookie),  # its value under this customer's name
        "%s=%s" % (cookie_name(c), "../" * 32),
        "%s=%s%s" % (cookie_name(c), cookie[:32], "f" * 64),  # a sid, a made-up secret
    ]
    for p in paths:
        for ck in cookies:
            status, body = raw_get(anon.base, p, {"Cookie": ck} if ck else {})
            assert status not in (200, 204, 206) and body[:2] != b"\xff\xd8", (p, ck, status)
    # the session that holds the role, on the staff asset: never
    for p in paths:
        if "/staff/" in p or p.endswith("/staff"):
            status, body = raw_get(anon.base, p, {"Cookie": "%s=%s" % (cookie_name(c), cookie)})
            assert status not in (200, 204, 206) and body[:2] != b"\xff\xd8", (p, status)


def test_role_headers_keep_restricted_tiles_with_dlcs_image(make_customer, origin, anon, storage_root,
                                                            stack_config, dlcs_var):
    """A customer's role-specific headers are dlcs-image's to add: its tiles
    never take nginx's restricted path, even once the asset is linked."""
    from helpers import change_counter, include_generation
    c = make_customer("rtilesrole")
    sp = create_space(c)
    ingest(sp, origin, "r", roles=[role_uri(c)])
    r = c.api.post(c.path + "/customHeaders", json={"key": "X-Role-Tile", "value": "granted",
                                                    "role": role_uri(c)})
    assert r.status_code == 201, describe(r)
    want, end = change_counter(dlcs_var), time.time() + 20
    while True:  # the runner renders the include, nginx reloads
        with open(stack_config["nginx_custom_headers"]) as f:
            text = f.read()
        # its alternative, in a location it may share with other customers
        if include_generation(text) >= want and "%d|%s" % (c.id, c.name.replace(".", "\\.")) in text:
            break
        assert time.time() < end, "the include was not rendered"
        time.sleep(0.2)
    time.sleep(1)
    s, cookie = session(anon, c)
    warm(s, sp, "r", storage_root)
    for rest in TILES:
        g = s.get(tile_url(sp, "r", rest))
        assert g.status_code == 200 and g.headers.get("X-Role-Tile") == "granted", (rest, g.headers)
