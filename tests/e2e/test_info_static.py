"""info.json at static speed (handlers/asset/info_static.h, nginx/dlcs.conf's
"info" fast path): nginx answers an open asset's info.json (Image API 3.0
and 2.1, /iiif-img and /thumbs) from the copy the ingest wrote beside its
tiles, its "id" filled in for the request. These tests check that the answer
is exactly dlcs-image's -- the same bytes, for every variant, customer by id
or by name, and base URL (Host, X-Forwarded-Proto, X-Forwarded-Host) -- with
its Content-Type, CORS, Cache-Control, Vary and Link; that what nginx would
answer differently goes to dlcs-image; that a restricted or deleted asset's
copy is out of reach as soon as the API has answered; and that a re-ingest
or `dlcs-admin publish-assets` brings the copies up to date.

nginx's answers carry a weak ETag (the file's: sub_filter makes it weak),
dlcs-image's a strong one (a hash of the document): that is how the tests
tell who answered."""

import os
import shutil
import time

import pytest

from helpers import role_uri, admin_command, assert_resource, create_space, describe, put_asset
from origin import asset_dir, jpeg

CTX3 = "http://iiif.io/api/image/3/context.json"
TYPE3 = 'application/ld+json;profile="%s"' % CTX3
LINK2 = ('<http://iiif.io/api/image/2/context.json>; rel="http://www.w3.org/ns/json-ld#context"; '
         'type="application/ld+json"')

# (route prefix, Image API version, the Accept that makes dlcs-image answer:
# the one Content-Type nginx's copy is not sent with)
VARIANTS = (("iiif-img", 3, "application/json"), ("iiif-img/v2", 2, "application/ld+json"),
            ("thumbs", 3, "application/json"), ("thumbs/v2", 2, "application/ld+json"))

# Request headers that change the base URL of the links, as dlcs-image takes it.
BASES = (
    ({}, None),
    ({"Host": "iiif.example.org"}, "http://iiif.example.org"),
    ({"Host": "iiif.example.org:8443"}, "http://iiif.example.org:8443"),
    ({"Host": "[::1]:99"}, "http://[::1]:99"),
    ({"X-Forwarded-Proto": "https"}, None),
    ({"X-Forwarded-Host": "cdn.example.net"}, "http://cdn.example.net"),
    ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cdn.example.net:444"}, "https://cdn.example.net:444"),
    # values dlcs-image does not take are ignored by both
    ({"X-Forwarded-Proto": "HTTPS"}, None),
    ({"X-Forwarded-Proto": "ftp"}, None),
    ({"X-Forwarded-Host": "bad_host"}, None),
    ({"X-Forwarded-Host": "a/b"}, None),
    ({"X-Forwarded-Host": 'x"y'}, None),
)


def info_url(space, asset_id, prefix="iiif-img", customer=None):
    c = customer if customer is not None else space.customer.id
    return "/%s/%s/%d/%s/info.json" % (prefix, c, space.id, asset_id)


def by_nginx(r):
    return r.status_code == 200 and r.headers.get("ETag", "").startswith('W/"')


def by_dlcs_image(r):
    etag = r.headers.get("ETag", "")
    return r.status_code == 200 and etag.startswith('"') and len(etag) == 34


def ingest(space, origin, asset_id, w=600, h=400, status=201, **fields):
    body = {"mediaType": "image/jpeg", "origin": origin.add(jpeg(w, h))}
    body.update(fields)
    r = space.customer.api.put(space.image(asset_id), json=body, timeout=60)
    j = assert_resource(r, status, "vocab:Image")
    assert (j.get("width"), j.get("height")) == (w, h) and "error" not in j, describe(r)
    return j


@pytest.fixture(scope="module")
def open_asset(make_customer, origin):
    space = create_space(make_customer("info"))
    ingest(space, origin, "open")
    return space


def assert_same_as_dlcs_image(anon, url, version, dyn_accept, headers=None, want_base=None):
    """The static answer to url is dlcs-image's, byte for byte; returns it."""
    headers = dict(headers or {})
    r = anon.get(url, headers=headers)
    assert by_nginx(r), "not nginx's copy: %s %s" % (describe(r), r.headers)
    d = anon.get(url, headers=dict(headers, Accept=dyn_accept))
    assert by_dlcs_image(d), "not dlcs-image's answer: %s %s" % (describe(d), d.headers)
    assert r.content == d.content, "%s %s:\nnginx:      %s\ndlcs-image: %s" % (url, headers, r.text, d.text)
    j = r.json()
    id_ = j["id"] if version == 3 else j["@id"]
    assert id_.endswith(url[:-len("/info.json")]), (url, id_)
    if want_base:
        assert id_ == want_base + url[:-len("/info.json")], (url, headers, id_)
    # the headers dlcs-image sends with it
    assert r.headers.get("Content-Type") == (TYPE3 if version == 3 else "application/json"), r.headers
    assert r.headers.get("Access-Control-Allow-Origin") == "*", r.headers
    assert r.headers.get("Cache-Control") == "public, max-age=3600", r.headers
    assert r.headers.get("Vary") == "Accept", r.headers
    assert r.headers.get("Link") == (LINK2 if version == 2 else None), r.headers
    assert d.headers.get("Vary") == "Accept" and d.headers.get("Cache-Control") == "public, max-age=3600"
    return r


# ---------------------------------------------------------------- the same bytes

@pytest.mark.parametrize("prefix,version,dyn_accept", VARIANTS)
def test_every_variant_and_base_is_dlcs_images_answer(anon, open_asset, prefix, version, dyn_accept):
    space = open_asset
    for customer in (space.customer.id, space.customer.name):
        url = info_url(space, "open", prefix, customer)
        for headers, want_base in BASES:
            assert_same_as_dlcs_image(anon, url, version, dyn_accept, headers, want_base)


def test_dlcs_image_never_sees_them(anon, space, origin, dlcs_var):
    """The ETag tells who answered; dlcs-image's log (a line per request it
    answers) says so too: none of nginx's answers reached it."""
    ingest(space, origin, "quiet")
    log = os.path.join(dlcs_var, "log", "image.log")
    start = os.path.getsize(log)
    urls = all_urls(space, "quiet")
    for u in urls:
        for headers, _ in BASES:
            assert by_nginx(anon.get(u, headers=headers)), (u, headers)
    # a request only dlcs-image answers, once logged, shows the log caught up
    probe = info_url(space, "quiet")
    assert by_dlcs_image(anon.get(probe, headers={"Accept": "application/json"}))
    end, seen = time.time() + 10, ""
    while " GET %s 200 " % probe not in seen and time.time() < end:
        time.sleep(0.1)
        with open(log, errors="replace") as f:
            f.seek(start)
            seen = f.read()
    assert " GET %s 200 " % probe in seen, "dlcs-image did not log %s" % probe
    for u in urls:
        assert seen.count(" GET %s " % u) == (1 if u == probe else 0), (u, seen)


def test_base_url_of_the_request(anon, open_asset, base):
    r = anon.get(info_url(open_asset, "open"))
    assert by_nginx(r)
    assert r.json()["id"] == base + info_url(open_asset, "open")[:-len("/info.json")]


def test_hosts_dlcs_image_would_not_take_go_to_it(anon, open_asset):
    # dlcs-image builds these links from the server name: nginx leaves them to it
    for host in ("under_score.example", "a b"):
        url = info_url(open_asset, "open")
        r = anon.get(url, headers={"Host": host})
        if r.status_code == 400:  # nginx refused the Host itself
            continue
        assert by_dlcs_image(r), describe(r)
        assert "under_score" not in r.json()["id"], r.json()["id"]


def test_accept_negotiation(anon, open_asset):
    v3, v2 = info_url(open_asset, "open"), info_url(open_asset, "open", "iiif-img/v2")
    # what browsers and viewers send: nginx
    for accept in (None, "*/*", "application/json, text/javascript, */*; q=0.01",
                   "application/ld+json", "application/*", "text/html"):
        r = anon.get(v3, headers={"Accept": accept} if accept else {})
        assert by_nginx(r) and r.headers["Content-Type"] == TYPE3, (accept, r.headers)
    # 3.0 as plain JSON, 2.1 as JSON-LD: dlcs-image
    r = anon.get(v3, headers={"Accept": "APPLICATION/JSON"})
    assert by_dlcs_image(r) and r.headers["Content-Type"] == "application/json", r.headers
    r = anon.get(v2, headers={"Accept": "application/ld+json"})
    assert by_dlcs_image(r) and r.headers["Content-Type"] == "application/ld+json", r.headers
    assert "Link" not in r.headers
    for accept in (None, "*/*", "application/json"):
        r = anon.get(v2, headers={"Accept": accept} if accept else {})
        assert by_nginx(r) and r.headers["Content-Type"] == "application/json", (accept, r.headers)
        assert r.headers.get("Link") == LINK2


def test_conditional_head_and_methods(anon, open_asset):
    url = info_url(open_asset, "open")
    r = anon.get(url)
    assert by_nginx(r)
    r304 = anon.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert r304.status_code == 304 and not r304.content, describe(r304)
    assert r304.headers.get("Access-Control-Allow-Origin") == "*", r304.headers
    # no byte ranges of a document whose id is filled in: the whole of it
    part = anon.get(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 200 and part.content == r.content, describe(part)
    head = anon.head(url)
    assert head.status_code == 200 and not head.content and head.headers["Content-Type"] == TYPE3
    for method in ("POST", "PUT", "DELETE"):
        assert anon.request(method, url).status_code == 405


# ---------------------------------------------------------------- kept exact

def all_urls(space, asset_id):
    return [info_url(space, asset_id, prefix, c) for prefix, _, _ in VARIANTS
            for c in (space.customer.id, space.customer.name)]


def test_restricted_right_after_the_answer(space, origin, anon):
    ingest(space, origin, "r")
    urls = all_urls(space, "r")
    assert all(by_nginx(anon.get(u)) for u in urls)
    api = space.customer.api
    r = api.patch(space.image("r"), json={"roles": [role_uri(space.customer)]}, timeout=60)
    assert_resource(r, 200, "vocab:Image")
    for u in urls:  # no wait: the very next requests
        for headers in ({}, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cdn.example.net"},
                        {"Accept": "application/json"}, {"Host": "under_score"}):
            g = anon.get(u, headers=headers)
            assert not by_nginx(g), (headers, describe(g))
            # dlcs-image's document with the auth services (CONTRACT section 9), also
            # for /thumbs, which has no open size to list
            assert g.status_code == 200 and g.json()["service"][0]["type"] == "AuthProbeService2", \
                describe(g)
            assert "private" in g.headers.get("Cache-Control", ""), g.headers
            if "/thumbs/" in u:
                assert g.json()["sizes"] == [], g.text
    # open again: nginx's copy again (the same document as before)
    assert_resource(api.patch(space.image("r"), json={"roles": []}, timeout=60), 200, "vocab:Image")
    assert all(by_nginx(anon.get(u)) for u in urls)


def test_max_unauthorised_lists_only_the_open_sizes(space, origin, anon):
    ingest(space, origin, "mu")
    api = space.customer.api
    assert_resource(api.patch(space.image("mu"), json={"maxUnauthorised": 150}, timeout=60), 200,
                    "vocab:Image")
    r = anon.get(info_url(space, "mu"))
    assert r.status_code == 200 and not by_nginx(r), describe(r)
    assert (r.json()["maxWidth"], r.json()["maxHeight"]) == (150, 100), r.text
    assert all(max(s["width"], s["height"]) <= 150 for s in r.json().get("sizes", [])), r.text
    r = anon.get(info_url(space, "mu", "thumbs"))
    assert by_dlcs_image(r), describe(r)
    assert all(max(s["width"], s["height"]) <= 150 for s in r.json()["sizes"]), r.text


def test_deleted_right_after_the_answer(space, origin, anon):
    ingest(space, origin, "d")
    urls = all_urls(space, "d")
    assert all(by_nginx(anon.get(u)) for u in urls)
    assert space.customer.api.delete(space.image("d")).status_code == 204
    for u in urls:
        for headers in ({}, {"X-Forwarded-Proto": "https"}, {"Accept": "application/ld+json"}):
            g = anon.get(u, headers=headers)
            assert g.status_code == 404 and "not found" in g.json().get("description", ""), \
                (headers, describe(g))


def test_reingest_and_patch_change_it(space, origin, anon):
    ingest(space, origin, "re", 600, 400)
    url, turl = info_url(space, "re"), info_url(space, "re", "thumbs")
    first = anon.get(url)
    assert by_nginx(first) and (first.json()["width"], first.json()["height"]) == (600, 400)
    # a PUT with another origin: ingested again, the new copy at once
    ingest(space, origin, "re", 900, 500, status=200)
    r = assert_same_as_dlcs_image(anon, url, 3, "application/json")
    assert (r.json()["width"], r.json()["height"]) == (900, 500)
    assert r.headers["ETag"] != first.headers["ETag"]
    t = assert_same_as_dlcs_image(anon, turl, 3, "application/json")
    assert max(t.json()["sizes"], key=lambda s: s["width"])["width"] == 900
    # a PATCH of the origin: the same
    r = space.customer.api.patch(space.image("re"), json={"origin": origin.add(jpeg(500, 800))}, timeout=60)
    assert_resource(r, 200, "vocab:Image")
    r = assert_same_as_dlcs_image(anon, url, 3, "application/json")
    assert (r.json()["width"], r.json()["height"]) == (500, 800)
    # a PATCH that drops the thumbs channel: no thumbnail service
    r = space.customer.api.patch(space.image("re"), json={"deliveryChannels": ["iiif-img"]}, timeout=60)
    if r.status_code == 200:
        g = anon.get(turl)
        assert g.status_code == 404 and not by_nginx(g), describe(g)
        assert_same_as_dlcs_image(anon, url, 3, "application/json")


def test_channels_decide_which_services(space, origin, anon):
    ingest(space, origin, "t", deliveryChannels=["thumbs"])
    assert anon.get(info_url(space, "t")).status_code == 404
    assert_same_as_dlcs_image(anon, info_url(space, "t", "thumbs"), 3, "application/json")
    assert_same_as_dlcs_image(anon, info_url(space, "t", "thumbs/v2"), 2, "application/ld+json")


def test_publish_assets_writes_the_copies_of_older_assets(space, origin, anon, storage_root, dlcs_var):
    ingest(space, origin, "old")
    info_dir = os.path.join(asset_dir(storage_root, space, "old"), "info")
    assert sorted(os.listdir(info_dir)) == ["iiif-img-v2.json", "iiif-img-v3.json", "thumbs-v2.json",
                                            "thumbs-v3.json"]
    shutil.rmtree(info_dir)  # as an asset stored before they existed
    urls = [info_url(space, "old", p) for p, _, _ in VARIANTS]
    for u in urls:  # dlcs-image answers meanwhile
        assert by_dlcs_image(anon.get(u)), u
    rc, out = admin_command(dlcs_var, "publish-assets", str(space.customer.id))
    assert rc == 0, out
    assert "info.json: 4 copies written or removed" in out, out
    for (prefix, version, dyn), u in zip(VARIANTS, urls):
        assert_same_as_dlcs_image(anon, u, version, dyn)
    # a copy changed by hand is put right; once right, nothing changes
    path = os.path.join(info_dir, "iiif-img-v3.json")
    with open(path, "w") as f:
        f.write('{"id":"@DLCS_BASE@@DLCS_PATH@","width":1}')
    rc, out = admin_command(dlcs_var, "publish-assets", str(space.customer.id))
    assert rc == 0 and "info.json: 1 copy written or removed" in out, out
    assert_same_as_dlcs_image(anon, urls[0], 3, "application/json")
    rc, out = admin_command(dlcs_var, "publish-assets", str(space.customer.id))
    assert rc == 0 and "info.json: 0 copies written or removed" in out, out


def test_customers_headers_apply(space, origin, anon):
    ingest(space, origin, "h")
    api = space.customer.api
    r = api.post(space.customer.path + "/customHeaders", json={"key": "X-Info-Test", "value": "on info"})
    assert r.status_code == 201, describe(r)
    r = api.post(space.customer.path + "/customHeaders",
                 json={"key": "Cache-Control", "value": "public, max-age=60", "space": space.id})
    assert r.status_code == 201, describe(r)
    urls = all_urls(space, "h")
    end = time.time() + 20
    pending = list(urls)
    while pending and time.time() < end:  # the runner renders and reloads nginx
        pending = [u for u in pending if anon.get(u).headers.get("X-Info-Test") != "on info"]
        time.sleep(0.2)
    assert not pending, "no custom header on %s" % pending
    for u in urls:
        r = anon.get(u)
        assert by_nginx(r) and r.headers.get("Cache-Control") == "public, max-age=60", r.headers
        assert r.headers.get("Access-Control-Allow-Origin") == "*" and r.headers.get("Vary") == "Accept"
        d = anon.get(u, headers={"Accept": "application/json" if "/v2/" not in u else "application/ld+json"})
        assert by_dlcs_image(d) and d.headers.get("X-Info-Test") == "on info", d.headers
        assert r.content == d.content
