"""Named-query delivery (CONTRACT section 10): /iiif-resource manifests
(Presentation 3, and 2.1 by path or Accept profile), /iiif-manifest for one
asset, /raw-resource; the template rules (arguments, '#', missing arguments,
ordering, literals starting with p); statuses; headers; isolation between
customers; a 500-asset manifest in template order. Every manifest is read by
real IIIF client libraries (@iiif/parser, manifesto.js) and validated
against the IIIF Presentation 3 JSON schema (iiif_client.py)."""

import random
import re
from urllib.parse import quote

import pytest

from helpers import role_uri, assert_created, assert_error, create_space, describe, put_asset
from origin import jpeg, member, submit, wait_batch

P3 = "http://iiif.io/api/presentation/3/context.json"
P2 = "http://iiif.io/api/presentation/2/context.json"
AUTH2 = "http://iiif.io/api/auth/2/context.json"


def nq(customer, name, template):
    r = customer.api.post(customer.path + "/namedQueries", json={"name": name, "template": template})
    return assert_created(r, "vocab:NamedQuery")


def manifest(anon, iiif_client, path, status=200, headers=None, version=3):
    r = anon.get(path, headers=headers or {})
    assert r.status_code == status, describe(r)
    if status != 200:
        return r
    assert r.headers["Content-Type"] == 'application/ld+json;profile="%s"' % (P3 if version == 3 else P2), \
        r.headers
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    assert r.headers.get("ETag", "").startswith('"'), r.headers
    assert r.headers.get("Cache-Control") in ("public, max-age=3600", "private, max-age=3600"), r.headers
    j = r.json()
    # a manifest with IIIF Auth 2.0 services names their context first
    assert j["@context"] in ((P3, [AUTH2, P3]) if version == 3 else (P2,)), j
    iiif_client.check(j)
    return j


def canvases(j):
    return j["items"] if "items" in j else j["sequences"][0]["canvases"]


def asset_of(canvas):
    """'{s}/{id}' from a canvas id .../iiif-img/{c}/{s}/{id}/canvas/c/{n}."""
    cid = canvas.get("id") or canvas.get("@id")
    m = re.search(r"/iiif-img/[^/]+/(\d+)/([^/]+)/canvas/c/(\d+)$", cid)
    assert m, cid
    return "%s/%s" % (m.group(1), m.group(2))


def ids_of(j):
    return [asset_of(c).split("/")[1] for c in canvases(j)]


@pytest.fixture(scope="module")
def book(make_customer, origin):
    """A customer, a space, a book of four pages (string1 "book-7", number1
    in a scrambled order, a second string and numbers), a restricted page,
    a page of another book, an asset without delivery, a file-only asset,
    and a thumbs-only image."""
    cust = make_customer("nq-book")
    space = create_space(cust, name="books-" + str(random.randrange(10**9)))
    url = origin.add(jpeg(640, 480))
    for aid, n1, n2 in (("p-c", 3, 1), ("p-a", 1, 2), ("p-d", 4, 1), ("p-b", 2, 2)):
        put_asset(space, aid, origin=url, string1="book-7", string2="vol-%d" % n2, number1=n1,
                  number2=n2, tags=["t1", "t2"], manifests=["https://example.org/m/book-7"])
    put_asset(space, "p-r", origin=url, string1="book-7", number1=5, roles=[role_uri(cust)])
    put_asset(space, "other", origin=url, string1="book-8", number1=1)
    put_asset(space, "pottery", origin=url, string1="pottery", number1=1)
    put_asset(space, "hidden", origin=url, string1="book-7", number1=6, deliveryChannels=["none"])
    put_asset(space, "doc", origin=origin.add(b"%PDF-1.4 x\n", "application/pdf"), media="application/pdf",
              string1="book-7", number1=7, deliveryChannels=["file"])
    put_asset(space, "thumb-only", origin=url, string1="thumbs", number1=1, deliveryChannels=["thumbs"])
    return space


# ---------------------------------------------------------------- Presentation 3

def test_manifest_p3(anon, iiif_client, book):
    c = book.customer
    path = "/iiif-resource/%d/manifest/book-7" % c.id
    j = manifest(anon, iiif_client, path)
    assert j["id"] == anon.base + path and j["type"] == "Manifest"
    assert j["label"] == {"en": ["Generated from 'manifest' named query"]}
    # one canvas per asset in number1 order; not "hidden" (no delivery);
    # the file-only "doc" has no image to paint
    assert ids_of(j) == ["p-a", "p-b", "p-c", "p-d", "p-r"]
    first = j["items"][0]
    base = "%s/iiif-img/%d/%d/p-a" % (anon.base, c.id, book.id)
    assert first["id"] == base + "/canvas/c/1" and first["label"] == {"en": ["Canvas 1"]}
    assert (first["width"], first["height"]) == (640, 480)
    meta = {m["label"]["none"][0]: m["value"]["none"][0] for m in first["metadata"]}
    assert meta == {"String 1": "book-7", "String 2": "vol-2", "String 3": "", "Number 1": "1",
                    "Number 2": "2", "Number 3": "0", "Tags": "t1, t2", "Roles": ""}, meta
    page = first["items"][0]
    anno = page["items"][0]
    assert page["type"] == "AnnotationPage" and anno["motivation"] == "painting"
    assert anno["target"] == first["id"]
    body = anno["body"]
    # the largest open thumbnail: the 1024 box of a 640 x 480 image is the whole image
    assert body["id"] == base + "/full/640,480/0/default.jpg", body
    assert (body["type"], body["format"], body["width"], body["height"]) == ("Image", "image/jpeg", 640, 480)
    s2, s3 = body["service"]
    assert s2 == {"@context": "http://iiif.io/api/image/2/context.json",
                  "@id": "%s/iiif-img/v2/%d/%d/p-a" % (anon.base, c.id, book.id), "@type": "ImageService2",
                  "profile": "http://iiif.io/api/image/2/level2.json", "width": 640, "height": 480}
    assert s3 == {"id": base, "type": "ImageService3", "profile": "level2", "width": 640, "height": 480}
    thumb = first["thumbnail"][0]
    assert thumb["id"] == "%s/thumbs/%d/%d/p-a/full/200,150/0/default.jpg" % (anon.base, c.id, book.id)
    assert [s.get("type") or s.get("@type") for s in thumb["service"]] == ["ImageService2", "ImageService3"]
    assert j["thumbnail"] == first["thumbnail"]
    # every link a viewer follows works: the body, the thumbnail, info.json
    for url in (body["id"], thumb["id"], s3["id"] + "/info.json", s2["@id"] + "/info.json"):
        r = anon.get(url[len(anon.base):])
        assert r.status_code == 200, describe(r)


def test_restricted_asset_keeps_its_canvas(anon, iiif_client, book):
    j = manifest(anon, iiif_client, "/iiif-resource/%d/manifest/book-7" % book.customer.id)
    r = anon.get("/iiif-resource/%d/manifest/book-7" % book.customer.id)
    # a manifest with a restricted asset is not for shared caches
    assert r.headers["Cache-Control"] == "private, max-age=3600"
    last = j["items"][-1]
    assert asset_of(last).endswith("/p-r")
    assert "thumbnail" not in last  # no open thumbnail
    body = last["items"][0]["items"][0]["body"]
    assert body["service"][1]["type"] == "ImageService3"
    # the asset confined to 200 px, computed by the image service (401 until authorised)
    assert body["id"].endswith("/full/200,150/0/default.jpg"), body
    # IIIF Auth 2.0: the body's probe service holds the clickthrough access
    # service (the role's) with its token and logout services; open canvases
    # have none. No manifest-level "services": manifesto.js gives those to
    # every resource, so a viewer would take open images for restricted.
    c = book.customer
    probe = body["service"][2]
    assert probe["type"] == "AuthProbeService2", body
    assert j["@context"] == [AUTH2, P3]
    assert probe["id"] == anon.base + "/auth/v2/probe/%d/%d/p-r" % (c.id, book.id)
    access = probe["service"][0]
    assert access["type"] == "AuthAccessService2" and access["profile"] == "active", probe
    assert access["id"] == anon.base + "/auth/v2/access/%d/clickthrough" % c.id
    assert access["label"]["en"][0]
    kinds = {x["type"]: x["id"] for x in access["service"]}
    assert kinds == {"AuthAccessTokenService2": anon.base + "/auth/v2/access/%d/token" % c.id,
                     "AuthLogoutService2": anon.base + "/auth/v2/access/%d/clickthrough/logout" % c.id}
    assert "services" not in j
    for cv in j["items"][:-1]:
        assert len(cv["items"][0]["items"][0]["body"]["service"]) == 2, cv
    # the probe service answers for this asset: 401 without a session
    r = anon.get(probe["id"][len(anon.base):])
    assert r.status_code == 200 and r.json()["status"] == 401, describe(r)
    # by name, the ids name the customer as the request did; 2.1 has no Auth 2.0 services
    j = manifest(anon, iiif_client, "/iiif-resource/%s/manifest/book-7" % c.name)
    probe = j["items"][-1]["items"][0]["items"][0]["body"]["service"][2]
    assert probe["id"] == anon.base + "/auth/v2/probe/%s/%d/p-r" % (c.name, book.id)
    j2 = manifest(anon, iiif_client, "/iiif-resource/v2/%d/manifest/book-7" % c.id, version=2)
    assert "AuthProbeService2" not in str(j2) and "services" not in j2
    # an open query's manifest may be cached publicly
    r = anon.get("/iiif-resource/%d/manifest/book-8" % book.customer.id)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=3600", describe(r)
    assert r.json()["@context"] == P3  # no auth services, no auth context


def test_customer_by_name(anon, iiif_client, book):
    c = book.customer
    j = manifest(anon, iiif_client, "/iiif-resource/%s/manifest/book-7" % c.name)
    assert ids_of(j) == ["p-a", "p-b", "p-c", "p-d", "p-r"]
    assert "/iiif-img/%s/%d/p-a/" % (c.name, book.id) in j["items"][0]["items"][0]["items"][0]["body"]["id"]
    assert_error(anon.get("/iiif-resource/no-such-customer-x/manifest/book-7"), 404)


def test_etag_and_not_modified(anon, book):
    path = "/iiif-resource/%d/manifest/book-7" % book.customer.id
    r = anon.get(path)
    etag = r.headers["ETag"]
    r2 = anon.get(path, headers={"If-None-Match": etag})
    assert r2.status_code == 304 and not r2.content, describe(r2)
    assert anon.get(path).headers["ETag"] == etag
    # the 2.1 manifest is another representation
    assert anon.get("/iiif-resource/v2/%d/manifest/book-7" % book.customer.id).headers["ETag"] != etag
    assert r.headers.get("Vary") == "Accept"
    # a CORS preflight from a viewer
    r = anon.options(path, headers={"Origin": "https://viewer.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 204 and r.headers.get("Access-Control-Allow-Origin") == "*", describe(r)


# ---------------------------------------------------------------- Presentation 2.1

def test_manifest_p2_shape(anon, iiif_client, book):
    c = book.customer
    for path, headers in (("/iiif-resource/v2/%d/manifest/book-7" % c.id, None),
                          ("/iiif-resource/%d/manifest/book-7" % c.id,
                           {"Accept": 'application/ld+json;profile="%s"' % P2})):
        j = manifest(anon, iiif_client, path, headers=headers, version=2)
        assert j["@id"] == anon.base + path and j["@type"] == "sc:Manifest"
        assert j["label"] == "Generated from 'manifest' named query"
        seq = j["sequences"][0]
        assert seq["@type"] == "sc:Sequence" and seq["@id"] == anon.base + "/iiif-query/sequence/0"
        assert [asset_of(cv).split("/")[1] for cv in seq["canvases"]] == ["p-a", "p-b", "p-c", "p-d", "p-r"]
        cv = seq["canvases"][0]
        assert cv["@type"] == "sc:Canvas" and (cv["width"], cv["height"]) == (640, 480)
        img = cv["images"][0]
        assert img["@type"] == "oa:Annotation" and img["motivation"] == "sc:painting" and img["on"] == cv["@id"]
        res = img["resource"]
        v2 = "%s/iiif-img/v2/%d/%d/p-a" % (anon.base, c.id, book.id)
        assert res["@id"] == v2 + "/full/640,480/0/default.jpg" and res["@type"] == "dctypes:Image"
        # 2.1 has the ImageService2 only
        assert res["service"]["@id"] == v2 and res["service"]["profile"].endswith("/level2.json")
        assert "ImageService3" not in str(j)
        assert cv["metadata"][0] == {"label": "String 1", "value": "book-7"}
    # /v3/ forces 3 whatever the Accept header says
    manifest(anon, iiif_client, "/iiif-resource/v3/%d/manifest/book-7" % c.id,
             headers={"Accept": 'application/ld+json;profile="%s"' % P2})


# ---------------------------------------------------------------- the template rules

def test_template_rules(anon, iiif_client, book):
    c, s = book.customer, book.id
    # arguments, ordering on several keys, descending
    nq(c, "by-vol", "space=p1&s1=p2&assetOrder=n2 desc;n1 desc")
    j = manifest(anon, iiif_client, "/iiif-resource/%d/by-vol/%d/book-7" % (c.id, s))
    # number2 2: p-b p-a (number1 desc), 1: p-d p-c, 0: p-r
    assert ids_of(j) == ["p-b", "p-a", "p-d", "p-c", "p-r"], ids_of(j)
    nq(c, "desc", "s1=p1&canvas=n1 desc")
    assert ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/desc/book-7" % c.id)) == \
        ["p-r", "p-d", "p-c", "p-b", "p-a"]
    nq(c, "by-s2", "s1=p1&canvas=s2;n1 desc")
    assert ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/by-s2/book-7" % c.id)) == \
        ["p-r", "p-d", "p-c", "p-b", "p-a"]
    # a missing trailing argument drops its filter
    nq(c, "optional", "s1=p1&n2=p2&canvas=n1")
    assert ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/optional/book-7/1" % c.id)) == ["p-c", "p-d"]
    assert len(ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/optional/book-7" % c.id))) == 5
    # '#' comes after the URL's arguments
    nq(c, "hash", "s1=p1&#=book-8")
    assert ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/hash" % c.id)) == ["other"]
    assert len(ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/hash/book-7" % c.id))) == 5
    # a literal that starts with p is a literal
    nq(c, "pots", "s1=pottery")
    assert ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/pots" % c.id)) == ["pottery"]
    assert ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/pots/ignored/args" % c.id)) == ["pottery"]
    # spacename
    nq(c, "by-space-name", "spacename=p1&s1=p2&canvas=n1")
    assert len(ids_of(manifest(anon, iiif_client, "/iiif-resource/%d/by-space-name/%s/book-7"
                               % (c.id, quote(book.name, safe=""))))) == 5
    # the global manifest-query: %2F in an argument is a '/' inside it
    arg = quote("https://example.org/m/book-7", safe="")
    j = manifest(anon, iiif_client, "/iiif-resource/%d/manifest-query/%s" % (c.id, arg))
    assert ids_of(j) == ["p-a", "p-b", "p-c", "p-d"]
    # thumbs-only: the body from /thumbs, no image service
    j = manifest(anon, iiif_client, "/iiif-resource/%d/manifest/thumbs" % c.id)
    body = j["items"][0]["items"][0]["items"][0]["body"]
    assert "/thumbs/%d/%d/thumb-only/full/" % (c.id, s) in body["id"] and "service" not in body, body


def test_statuses(anon, book):
    c = book.customer
    nq(c, "needs-arg", "s1=p1")
    nq(c, "number-arg", "n1=p1")
    cases = [
        ("/iiif-resource/%d/manifest/no-such-book" % c.id, 404),      # no asset
        ("/iiif-resource/%d/no-such-query/x" % c.id, 404),            # unknown query
        ("/iiif-resource/999999999/manifest/book-7", 404),             # unknown customer
        ("/iiif-resource/%d/needs-arg" % c.id, 400),                  # pN, no argument
        ("/iiif-resource/%d/number-arg/abc" % c.id, 400),             # not a number
        ("/iiif-resource/%d/number-arg/-1" % c.id, 400),
        ("/iiif-resource/%d/manifest/a%%C0%%AF" % c.id, 400),         # not UTF-8
        ("/iiif-resource/%d/man%%2Fifest/x" % c.id, 404),
        ("/iiif-resource/%d/%s/x" % (c.id, "q" * 300), 404),
        ("/raw-resource/%d/needs-arg" % c.id, 400),
        ("/raw-resource/%d/manifest/nothing" % c.id, 404),
        ("/iiif-manifest/%d/%d/nope" % (c.id, book.id), 404),
        ("/iiif-manifest/%d/%d/hidden" % (c.id, book.id), 404),       # no delivery channel
        ("/iiif-manifest/v2/%d/%d/doc" % (c.id, book.id), 404),       # 2.1: images only
        ("/iiif-manifest/%d/0/p-a" % c.id, 400),                      # not an id
        ("/iiif-manifest/%d/%d/%s" % (c.id, book.id, "..%2F..%2Fetc"), 404),
        ("/iiif-manifest/no-such-customer-x/%d/p-a" % book.id, 404),
    ]
    for path, status in cases:
        r = anon.get(path)
        assert r.status_code == status, "%s: %s" % (path, describe(r))
        assert r.headers.get("Access-Control-Allow-Origin") == "*", describe(r)
        assert r.json()["statusCode"] == status
        # the handlers' errors are never cached (the core's own 400s for a
        # malformed path come before any handler)
        if "%C0" not in path and "/0/" not in path:
            assert r.headers.get("Cache-Control") == "no-store", describe(r)
    r = anon.get("/iiif-resource/%d/number-arg/abc" % c.id)
    assert "'n1': 'abc'" in r.json()["description"], describe(r)
    r = anon.post("/iiif-resource/%d/manifest/book-7" % c.id, json={})
    assert r.status_code == 405 and "GET" in r.headers.get("Allow", ""), describe(r)
    # a hostile argument is data, never SQL or a header
    for arg in ("x'%20OR%20'1'='1", "%0D%0AX-Evil:%201", "%E2%80%AE", "a" * 2000):
        r = anon.get("/iiif-resource/%d/manifest/%s" % (c.id, arg))
        assert r.status_code == 404 and "X-Evil" not in r.headers, describe(r)


def test_single_asset_manifest(anon, iiif_client, book):
    c = book.customer
    path = "/iiif-manifest/%d/%d/p-c" % (c.id, book.id)
    j = manifest(anon, iiif_client, path)
    assert j["id"] == anon.base + path and j["label"] == {"en": ["Generated by DLCS"]}
    assert ids_of(j) == ["p-c"]
    r = anon.get(path)
    assert r.headers.get("X-Asset-Id") == "%d/%d/p-c" % (c.id, book.id)
    j2 = manifest(anon, iiif_client, "/iiif-manifest/v2/%s/%d/p-c" % (c.name, book.id), version=2)
    assert j2["sequences"][0]["@id"] == j2["@id"] + "/sequence/0"
    manifest(anon, iiif_client, "/iiif-manifest/v3/%d/%d/p-c" % (c.id, book.id))
    # a file-only asset: nothing to paint
    assert_error(anon.get("/iiif-manifest/%d/%d/doc" % (c.id, book.id)), 404)


def test_raw_resource(anon, book):
    c = book.customer
    r = anon.get("/raw-resource/%d/manifest/book-7" % c.id)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Access-Control-Allow-Origin") == "*" and r.headers.get("ETag")
    # every asset the query selects, in order (the file-only one included)
    assert r.json() == ["%d/%d/%s" % (c.id, book.id, a) for a in ("p-a", "p-b", "p-c", "p-d", "p-r", "doc")]
    assert anon.get("/raw-resource/%s/manifest/book-8" % c.name).json() == ["%d/%d/other" % (c.id, book.id)]


# ---------------------------------------------------------------- isolation

def test_isolation(anon, iiif_client, book, make_customer, origin):
    a = book.customer
    b = make_customer("nq-iso")
    sb = create_space(b)
    put_asset(sb, "b-page", origin=origin.add(jpeg(64, 48)), string1="book-7", number1=0)
    # the same query name and arguments never mix customers' assets
    ja = manifest(anon, iiif_client, "/iiif-resource/%d/manifest/book-7" % a.id)
    jb = manifest(anon, iiif_client, "/iiif-resource/%d/manifest/book-7" % b.id)
    assert "b-page" not in ids_of(ja) and ids_of(jb) == ["b-page"]
    assert all("/iiif-img/%d/" % b.id in cv["id"] for cv in jb["items"])
    # another customer's own query is not found under a's path
    nq(b, "b-only", "s1=p1")
    assert_error(anon.get("/iiif-resource/%d/b-only/book-7" % a.id), 404)
    assert anon.get("/iiif-resource/%d/b-only/book-7" % b.id).status_code == 200
    assert_error(anon.get("/raw-resource/%d/b-only/book-7" % a.id), 404)
    # a's single-asset manifest under b's id
    assert_error(anon.get("/iiif-manifest/%d/%d/p-a" % (b.id, book.id)), 404)


# ---------------------------------------------------------------- many canvases

def test_500_canvases_in_template_order(anon, iiif_client, make_customer, origin):
    c = make_customer("nq-500")
    space = create_space(c)
    url = origin.add(jpeg(48, 36))
    order = list(range(500))
    random.Random(7).shuffle(order)
    members = [member(space, "a%03d" % i, url, string1="big", number1=order[i]) for i in range(500)]
    b = submit(c, members)
    done = wait_batch(c, b, timeout=300)
    assert (done["completed"], done["errors"]) == (500, 0), done
    want = ["a%03d" % i for i in sorted(range(500), key=lambda i: order[i])]
    j = manifest(anon, iiif_client, "/iiif-resource/%d/manifest/big" % c.id)
    assert len(j["items"]) == 500 and ids_of(j) == want
    assert [cv["label"]["en"][0] for cv in j["items"][:3]] == ["Canvas 1", "Canvas 2", "Canvas 3"]
    # the batch-query global: the batch's assets, in number1 order too
    batch = int(b["@id"].rstrip("/").rsplit("/", 1)[1])
    j = manifest(anon, iiif_client, "/iiif-resource/%d/batch-query/%d" % (c.id, batch))
    assert ids_of(j) == want
    j2 = manifest(anon, iiif_client, "/iiif-resource/v2/%d/batch-query/%d" % (c.id, batch), version=2)
    assert len(j2["sequences"][0]["canvases"]) == 500


# ---------------------------------------------------------------- kept canvases follow the row

def test_changed_asset_shows_at_once(anon, iiif_client, make_customer, origin):
    """Each API worker keeps a canvas as text while the asset's row is
    unchanged (api/manifests.c): a reingest with a new size, roles added and
    a metadata PATCH show in the very next manifest, from every worker, and
    a kept canvas takes the request's own base URL and customer part."""
    c = make_customer("nq-change")
    space = create_space(c)
    put_asset(space, "a", origin=origin.add(jpeg(640, 480)), string1="chg", number1=1)
    put_asset(space, "b", origin=origin.add(jpeg(300, 200)), string1="chg", number1=2)
    path = "/iiif-resource/%d/manifest/chg" % c.id
    path2 = "/iiif-resource/v2/%d/manifest/chg" % c.id
    tries = 8  # more than the workers: each has kept both versions' canvases

    def firsts():
        for _ in range(tries):
            j = manifest(anon, iiif_client, path)
            j2 = manifest(anon, iiif_client, path2, version=2)
            assert ids_of(j) == ["a", "b"] and ids_of(j2) == ["a", "b"]
            yield j["items"][0], j2["sequences"][0]["canvases"][0]

    def meta(cv):
        return {m["label"]["none"][0]: m["value"]["none"][0] for m in cv["metadata"]}

    for cv, cv2 in firsts():
        assert (cv["width"], cv["height"]) == (640, 480) and (cv2["width"], cv2["height"]) == (640, 480)
    # reingested from a larger image: canvas, body, services and thumbnail sizes
    put_asset(space, "a", status=200, origin=origin.add(jpeg(1280, 720)), string1="chg", number1=1)
    for cv, cv2 in firsts():
        body = cv["items"][0]["items"][0]["body"]
        assert (cv["width"], cv["height"]) == (1280, 720), cv
        assert body["id"].endswith("/full/1024,576/0/default.jpg"), body
        assert body["service"][1]["width"] == 1280
        assert max(s["width"] for s in cv["thumbnail"][0]["service"][1]["sizes"]) == 1024
        assert (cv2["width"], cv2["height"]) == (1280, 720), cv2
        assert cv2["images"][0]["resource"]["service"]["width"] == 1280
    # roles added: restricted, no open thumbnail, not for shared caches
    role = role_uri(c)
    r = c.api.patch(space.image("a"), json={"roles": [role]}, timeout=60)
    assert r.status_code == 200, describe(r)
    for cv, cv2 in firsts():
        assert meta(cv)["Roles"] == role and "thumbnail" not in cv and "thumbnail" not in cv2, cv
        assert cv["items"][0]["items"][0]["body"]["id"].endswith("/full/200,113/0/default.jpg")
    for _ in range(tries):
        assert anon.get(path).headers["Cache-Control"] == "private, max-age=3600"
    # a metadata PATCH (no reingest)
    r = c.api.patch(space.image("a"), json={"string2": 'new "value"', "roles": []}, timeout=60)
    assert r.status_code == 200, describe(r)
    for cv, cv2 in firsts():
        assert meta(cv)["String 2"] == 'new "value"' and meta(cv)["Roles"] == "", cv
        assert "thumbnail" in cv
    for _ in range(tries):
        assert anon.get(path).headers["Cache-Control"] == "public, max-age=3600"
    # kept canvases, another base URL and the customer by name
    for _ in range(tries):
        r = anon.get("/iiif-resource/%s/manifest/chg" % c.name, headers={"X-Forwarded-Proto": "https"})
        assert r.status_code == 200, describe(r)
        cv = r.json()["items"][1]
        host = anon.base.split("://", 1)[1]
        assert cv["id"] == "https://%s/iiif-img/%s/%d/b/canvas/c/2" % (host, c.name, space.id), cv["id"]
        assert cv["label"] == {"en": ["Canvas 2"]}
