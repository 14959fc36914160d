"""nginx/dlcs.conf inside an admin's server block (README "Deploying",
dlcs.conf's "Your own headers"): the admin's headers (dlcs-extra-headers.conf
next to nginx.conf, which .stack writes with "X-Admin-Extra: stack") reach
every DLCS response exactly once, whoever makes it (the API, dlcs-image,
nginx's fast path, its X-Accel-Redirect location, its own errors); DLCS's
JSON error pages stay on DLCS's locations (the test server block has two
locations of the admin's own: /admin-down/, a proxy_pass to nothing, and
/admin-static/, a directory); and an error never carries a customer's
Cache-Control, which replaces the platform's on images."""

import time

import pytest
import requests

from helpers import assert_resource, create_space, describe
from origin import jpeg

EXTRA = ("X-Admin-Extra", "stack")
CLOSE = {"Connection": "close"}  # a header change reloads nginx
LONG = "a" * 20000  # past large_client_header_buffers: nginx's 414


def ingest(space, origin, asset_id, w=600, h=400):
    r = space.customer.api.put(space.image(asset_id), json={
        "mediaType": "image/jpeg", "origin": origin.add(jpeg(w, h))}, timeout=60)
    j = assert_resource(r, 201, "vocab:Image")
    assert "error" not in j, describe(r)


def img(space, asset_id, rest):
    return "/iiif-img/%s/%d/%s/%s" % (space.customer.id, space.id, asset_id, rest)


def thumbs(space, asset_id, rest):
    return "/thumbs/%s/%d/%s/%s" % (space.customer.id, space.id, asset_id, rest)


def get(anon, url, **kw):
    """GET that rides out a kept connection closed by an nginx reload."""
    for _ in range(20):
        try:
            return anon.get(url, allow_redirects=False, **kw)
        except requests.exceptions.ConnectionError:
            time.sleep(0.2)
    return anon.get(url, allow_redirects=False, **kw)


def is_json_error(r, status):
    return (r.status_code == status and r.headers.get("Content-Type", "").startswith("application/ld+json")
            and r.json().get("@type") == "Error")


def test_admin_headers_reach_every_dlcs_response_once(space, origin, anon, admin):
    ingest(space, origin, "a")
    cases = {
        "API entry point": (anon.get("/"), 200),
        "API /ping": (anon.get("/ping"), 200),
        "API list, admin": (admin.get("/customers"), 200),
        "API 401": (anon.get(space.customer.path), 401),
        "API 404": (admin.get(space.customer.path + "/spaces/999999"), 404),
        "stored tile (nginx)": (get(anon, img(space, "a", "0,0,256,256/256,256/0/default.jpg")), 200),
        "stored size (nginx)": (get(anon, img(space, "a", "full/!400,400/0/default.jpg")), 200),
        "stored thumbnail (nginx)": (get(anon, thumbs(space, "a", "full/!200,200/0/default.jpg")), 200),
        "info.json (dlcs-image)": (get(anon, img(space, "a", "info.json")), 200),
        "thumbs info.json (dlcs-image)": (get(anon, thumbs(space, "a", "info.json")), 200),
        "a render (dlcs-image)": (get(anon, img(space, "a", "10,10,90,90/45,/0/default.jpg")), 200),
        "a file through X-Accel-Redirect": (get(anon, thumbs(space, "a", "full/max/0/default.jpg")), 200),
        "missing tile (dlcs-image 404)": (get(anon, img(space, "nope", "0,0,256,256/256,256/0/default.jpg")),
                                          404),
        "nginx 405 on a stored tile": (anon.post(img(space, "a", "0,0,256,256/256,256/0/default.jpg")), 405),
        "nginx 414 on an API path": (anon.get("/customers/" + LONG), 414),
        "range past a stored tile's end (nginx 416)": (
            get(anon, img(space, "a", "0,0,256,256/256,256/0/default.jpg"), headers={"Range": "bytes=9999999-"}),
            416),
    }
    for what, (r, status) in cases.items():
        assert r.status_code == status, "%s: %s" % (what, describe(r))
        # requests joins a repeated header with ", ": equality means once
        assert r.headers.get(EXTRA[0]) == EXTRA[1], "%s: %s" % (what, r.headers)
        assert r.headers.get("Access-Control-Allow-Origin") == "*" or what.startswith("API"), \
            "%s: %s" % (what, r.headers)
    # and the admin's own locations get them from the server level
    r = anon.get("/admin-static/hello.txt")
    assert r.status_code == 200 and r.text == "hello\n", describe(r)
    assert r.headers.get(EXTRA[0]) == EXTRA[1], r.headers


def test_nginx_errors_are_json_on_dlcs_paths_only(anon):
    # the admin's proxy_pass to an upstream that is down: nginx's own 502
    r = anon.get("/admin-down/x")
    assert r.status_code == 502, describe(r)
    assert r.headers.get("Content-Type", "").startswith("text/html"), describe(r)
    assert "Error" not in r.headers.get("Content-Type", "") and "statusCode" not in r.text
    # a method a static location refuses: nginx's own 405
    r = anon.post("/admin-static/hello.txt", data=b"x")
    assert r.status_code == 405 and r.headers.get("Content-Type", "").startswith("text/html"), describe(r)
    # an error raised before any location is chosen (headers too large):
    # the admin's path gets nginx's page, DLCS's paths the JSON error
    big = {"X-Big": LONG}
    r = anon.get("/admin-static/hello.txt", headers=big)
    assert r.status_code == 400 and r.headers.get("Content-Type", "").startswith("text/html"), describe(r)
    for path in ("/customers", "/iiif-img/1/1/a/info.json", "/thumbs/x", "/ping", "/"):
        r = anon.get(path, headers=big)
        assert is_json_error(r, 431), "%s: %s" % (path, describe(r))
        assert r.headers.get("Cache-Control") == "no-store", r.headers
    # (a request line too long has no URI yet to tell whose it is: JSON)
    for path in ("/customers/", "/iiif-img/", "/thumbs/", "/"):
        r = anon.get(path + LONG)
        assert is_json_error(r, 414), "%s: %s" % (path, describe(r))
        assert r.headers.get("Cache-Control") == "no-store", r.headers
    # DLCS's own paths keep the JSON errors nginx makes there
    r = anon.request("TRACE", "/customers")
    assert is_json_error(r, 405), describe(r)


@pytest.fixture
def cached_space(space, origin, anon):
    """A space with an ingested image "a" whose customer sets its own
    Cache-Control on everything, rendered into nginx's include."""
    ingest(space, origin, "a")
    r = space.customer.api.post(space.customer.path + "/customHeaders", headers=CLOSE,
                                json={"key": "Cache-Control", "value": "public, max-age=86400"})
    assert r.status_code == 201, describe(r)
    url = img(space, "a", "0,0,256,256/256,256/0/default.jpg")
    end = time.time() + 15
    while get(anon, url).headers.get("Cache-Control") != "public, max-age=86400" and time.time() < end:
        time.sleep(0.2)
    assert get(anon, url).headers.get("Cache-Control") == "public, max-age=86400", "nginx did not reload"
    return space


def test_errors_never_take_a_customers_cache_control(cached_space, anon):
    s = cached_space
    tile = img(s, "a", "0,0,256,256/256,256/0/default.jpg")
    accel = thumbs(s, "a", "full/max/0/default.jpg")
    # the successes carry the customer's header, once
    for url in (tile, img(s, "a", "full/!400,400/0/default.jpg"), img(s, "a", "info.json"), accel,
                img(s, "a", "10,10,90,90/45,/0/default.jpg")):
        r = get(anon, url)
        assert r.status_code == 200 and r.headers.get("Cache-Control") == "public, max-age=86400", \
            "%s: %s" % (url, r.headers)
    # every error keeps no-store
    errors = {
        "missing asset's tile": (get(anon, img(s, "nope", "0,0,256,256/256,256/0/default.jpg")), 404),
        "missing asset's info.json": (get(anon, img(s, "nope", "info.json")), 404),
        "bad region": (get(anon, img(s, "a", "0,0,0,0/45,/0/default.jpg")), 400),
        "region outside the image": (get(anon, img(s, "a", "9000,9000,10,10/10,/0/default.jpg")), 400),
        "range past a stored tile's end": (get(anon, tile, headers={"Range": "bytes=9999999-"}), 416),
        "range past an X-Accel-Redirect file's end": (get(anon, accel, headers={"Range": "bytes=9999999-"}),
                                                      416),
        "POST to a stored tile": (anon.post(tile), 405),
        "a failed If-Match on a stored tile": (get(anon, tile, headers={"If-Match": '"nope"'}), 412),
    }
    for what, (r, status) in errors.items():
        assert r.status_code == status, "%s: %s" % (what, describe(r))
        assert r.headers.get("Cache-Control") == "no-store", "%s: %s" % (what, r.headers)
        assert "Expires" not in r.headers, "%s: %s" % (what, r.headers)
        assert r.headers.get(EXTRA[0]) == EXTRA[1], "%s: %s" % (what, r.headers)
