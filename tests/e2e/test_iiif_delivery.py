"""IIIF delivery end to end (CONTRACT section 8) through nginx and dlcs-image:
info.json 3.0 and 2.1, redirects, every tile OpenSeadragon asks for (sent
from the stored file, byte for byte), stored thumbnails and one-tile levels
(sent by nginx itself by their size aliases), computed regions, sizes,
rotations, qualities and formats (decoded with PIL), the render cache, errors
(400, 401, 404, 501), the thumbnail service, and originals."""

import io
import math
import os
import time

import pytest
import requests
from PIL import Image

from helpers import role_uri, create_space, describe, put_asset
from origin import encode, quadrants

QUAD = ((220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 40))  # TL TR BL BR
CTX3 = "http://iiif.io/api/image/3/context.json"
CTX2 = "http://iiif.io/api/image/2/context.json"


def close(a, b, tol=40):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def decode(r):
    assert r.status_code == 200, describe(r)
    return Image.open(io.BytesIO(r.content))


def quads(img):
    """Colours at the centres of the four quarters of an image."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    return [rgb.getpixel((int(w * fx), int(h * fy))) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]


def assert_quads(img, order):
    got = quads(img)
    want = [QUAD[i] for i in order]
    assert all(close(g, w) for g, w in zip(got, want)), "quadrants %s, expected %s" % (got, want)


def assert_delivery_error(r, status):
    assert r.status_code == status, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == "*", describe(r)
    if r.content:
        j = r.json()
        assert j.get("statusCode") == status, j


@pytest.fixture(scope="module")
def img(make_customer, origin):
    """A customer, a space and a 1000x700 quadrant JPEG ingested on iiif-img
    and thumbs, plus a restricted copy and a file-only asset."""
    cust = make_customer("iiif")
    space = create_space(cust)
    url = origin.add(encode(quadrants(1000, 700), "JPEG", quality=95))
    put_asset(space, "quad", origin=url)
    put_asset(space, "secret", origin=url, maxUnauthorised=200)
    put_asset(space, "roles", origin=url, roles=[role_uri(cust)])
    put_asset(space, "doc", origin=origin.add(b"%PDF-1.4 not much\n", "application/pdf"),
              media="application/pdf", deliveryChannels=["file"])
    put_asset(space, "nofiles")  # no origin: registered, never ingested
    return space


def base_of(space, asset="quad", prefix="iiif-img"):
    return "/%s/%d/%d/%s" % (prefix, space.customer.id, space.id, asset)


# ---------------------------------------------------------------- info.json

def test_info_v3(anon, img):
    r = anon.get(base_of(img) + "/info.json")
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"] == 'application/ld+json;profile="%s"' % CTX3
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    assert r.headers.get("Cache-Control") == "public, max-age=3600"
    # nginx's copy (a weak ETag, its file's) or dlcs-image's (strong)
    etag = r.headers.get("ETag")
    assert etag and etag.lstrip("W/").startswith('"'), r.headers
    j = r.json()
    assert list(j)[0] == "@context" and j["@context"] == CTX3
    assert j["id"].endswith(base_of(img)) and j["id"].startswith("http")
    assert j["type"] == "ImageService3" and j["protocol"] == "http://iiif.io/api/image"
    assert j["profile"] == "level2"
    assert (j["width"], j["height"]) == (1000, 700)
    assert j["tiles"] == [{"type": "Tile", "width": 256, "height": 256, "scaleFactors": [1, 2, 4]}]
    sizes = [(s["width"], s["height"]) for s in j["sizes"]]
    assert sizes == sorted(sizes) and (400, 280) in sizes and (1000, 700) in sizes, sizes
    assert set(j["extraQualities"]) >= {"color", "gray", "bitonal"}
    assert set(j["extraFeatures"]) >= {"mirroring", "rotationArbitrary", "sizeUpscaling"}
    assert "tif" in j["extraFormats"] and "jpg" not in j["extraFormats"]
    r2 = anon.get(base_of(img) + "/info.json", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and not r2.content, describe(r2)
    r3 = anon.get(base_of(img) + "/info.json", headers={"Accept": "application/json"})
    assert r3.headers["Content-Type"] == "application/json"


def test_info_v2(anon, img):
    r = anon.get(base_of(img, prefix="iiif-img/v2") + "/info.json")
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"] == "application/json"
    assert "json-ld#context" in r.headers.get("Link", "")
    j = r.json()
    assert j["@context"] == CTX2 and j["@id"].endswith(base_of(img, prefix="iiif-img/v2"))
    assert j["profile"][0] == "http://iiif.io/api/image/2/level2.json"
    assert {"jpg", "png"} <= set(j["profile"][1]["formats"])
    assert j["tiles"][0]["scaleFactors"] == [1, 2, 4]
    r = anon.get(base_of(img, prefix="iiif-img/v2") + "/info.json", headers={"Accept": "application/ld+json"})
    assert r.headers["Content-Type"] == "application/ld+json"


def test_redirects(anon, img):
    r = anon.get(base_of(img), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith(base_of(img) + "/info.json"), describe(r)
    r = anon.get(base_of(img, prefix="iiif-img/v3") + "/info.json", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith(base_of(img) + "/info.json"), describe(r)
    r = anon.get(base_of(img, prefix="iiif-img/v2"), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith(
        base_of(img, prefix="iiif-img/v2") + "/info.json"), describe(r)
    # the customer by name
    by_name = "/iiif-img/%s/%d/quad/info.json" % (img.customer.name, img.id)
    r = anon.get(by_name)
    assert r.status_code == 200 and r.json()["id"].endswith(by_name[:-len("/info.json")]), describe(r)


# ---------------------------------------------------------------- tiles and thumbnails

def osd_urls(w, h, version, tile=256, factors=(1, 2, 4)):
    """OpenSeadragon's IIIFTileSource.getTileUrl for every tile."""
    max_level = int(math.log2(factors[-1]))
    for level in range(max_level + 1):
        scale = 0.5 ** (max_level - level)
        lw, lh = math.ceil(w * scale), math.ceil(h * scale)
        span = round(tile / scale)
        for y in range(math.ceil(lh / tile)):
            for x in range(math.ceil(lw / tile)):
                if lw < tile and lh < tile:
                    region = "full"
                    size = ("full" if lw == w else "%d," % lw) if version == 2 else \
                        ("max" if (lw, lh) == (w, h) else "%d,%d" % (lw, lh))
                    f = 2 ** (max_level - level)
                    name = "0,0,%d,%d_%d.jpg" % (w, h, lw)
                else:
                    tx, ty = x * span, y * span
                    tw, th = min(span, w - tx), min(span, h - ty)
                    region = "full" if (tx, ty, tw, th) == (0, 0, w, h) else "%d,%d,%d,%d" % (tx, ty, tw, th)
                    sw, sh = min(tile, lw - x * tile), min(tile, lh - y * tile)
                    size = "%d,%d" % (sw, sh)
                    name = "%d,%d,%d,%d_%d.jpg" % (tx, ty, tw, th, sw)
                yield "%s/%s/0/default.jpg" % (region, size), name


def test_every_tile_is_the_stored_file(anon, img, storage_root):
    d = os.path.join(storage_root, str(img.customer.id), str(img.id), "quad")
    for version, prefix in ((3, "iiif-img"), (3, "iiif-img/v3"), (2, "iiif-img/v2")):
        n = 0
        for path, name in osd_urls(1000, 700, version):
            r = anon.get(base_of(img, prefix=prefix) + "/" + path)
            assert r.status_code == 200, "%s: %s" % (path, describe(r))
            assert r.headers["Content-Type"] == "image/jpeg", r.headers
            assert r.headers.get("Access-Control-Allow-Origin") == "*", r.headers
            assert r.headers.get("ETag"), r.headers
            with open(os.path.join(d, "tiles", name), "rb") as f:
                assert r.content == f.read(), "%s is not the stored %s" % (path, name)
            n += 1
        assert n == 12 + 4 + 1


def test_thumbnail_sizes_are_the_stored_files(anon, img, storage_root):
    d = os.path.join(storage_root, str(img.customer.id), str(img.id), "quad")
    for size, edge in (("400,280", 400), ("!400,400", 400), ("200,", 200), (",70", 100)):
        r = anon.get(base_of(img) + "/full/%s/0/default.jpg" % size)
        assert r.status_code == 200, describe(r)
        with open(os.path.join(d, "thumbs", "%d.jpg" % edge), "rb") as f:
            assert r.content == f.read(), size
        assert r.headers.get("Cache-Control") == "public, max-age=31536000"


# ---------------------------------------------------------------- computed images

@pytest.mark.parametrize("path,size,order", [
    ("full/!150,150/0/default.png", (150, 105), (0, 1, 2, 3)),
    ("400,300,200,100/max/0/default.jpg", (200, 100), (0, 1, 2, 3)),
    ("pct:40,40,20,20/100,/0/color.jpg", (100, 70), (0, 1, 2, 3)),
    ("square/90,/0/default.jpg", (90, 90), (0, 1, 2, 3)),
    ("full/100,/90/default.jpg", (70, 100), (2, 0, 3, 1)),
    ("full/100,/180/default.jpg", (100, 70), (3, 2, 1, 0)),
    ("full/100,/!0/default.jpg", (100, 70), (1, 0, 3, 2)),
    ("full/100,/!90/default.jpg", (70, 100), (3, 1, 2, 0)),
    ("full/120,/0/default.webp", (120, 84), (0, 1, 2, 3)),
    ("full/120,/0/default.gif", (120, 84), (0, 1, 2, 3)),
    ("full/120,/0/default.tif", (120, 84), (0, 1, 2, 3)),
    ("0,0,10,10/^50,50/0/default.png", (50, 50), None),
])
def test_computed(anon, img, path, size, order):
    r = anon.get(base_of(img) + "/" + path)
    im = decode(r)
    assert im.size == size, "%s: %s" % (path, im.size)
    ext = path.rsplit(".", 1)[1]
    assert r.headers["Content-Type"] == {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                                         "gif": "image/gif", "tif": "image/tiff"}[ext]
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    if order:
        assert_quads(im, order)


def test_qualities_and_arbitrary_rotation(anon, img):
    im = decode(anon.get(base_of(img) + "/full/100,/0/gray.png")).convert("RGB")
    for p in quads(im):
        assert p[0] == p[1] == p[2], p
    im = decode(anon.get(base_of(img) + "/full/100,/30/bitonal.png")).convert("RGBA")
    assert {px[:3] for px in im.getdata()} <= {(0, 0, 0), (255, 255, 255)}
    im = decode(anon.get(base_of(img) + "/full/100,/45/default.png")).convert("RGBA")
    assert abs(im.size[0] - 120) <= 3 and im.getpixel((0, 0))[3] == 0
    im = decode(anon.get(base_of(img) + "/full/100,/45/default.jpg")).convert("RGB")
    assert close(im.getpixel((0, 0)), (255, 255, 255), 12)


def test_render_cache(anon, img, storage_root):
    path = base_of(img) + "/full/173,/0/default.png"
    r1 = anon.get(path)
    r2 = anon.get(path)
    assert r1.status_code == r2.status_code == 200
    assert r1.content == r2.content and r1.headers["ETag"] == r2.headers["ETag"]
    r3 = anon.get(path, headers={"If-None-Match": r1.headers["ETag"]})
    assert r3.status_code == 304, describe(r3)
    assert os.path.isdir(os.path.join(storage_root, ".cache"))


def test_head(anon, img):
    r = anon.head(base_of(img) + "/full/71,/0/default.jpg")
    assert r.status_code == 200 and not r.content and r.headers["Content-Type"] == "image/jpeg"


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("path,status", [
    ("full/max/0/default.jp2", 501),
    ("full/max/0/default.pdf", 501),
    ("full/max/0/default.bmp", 400),
    ("full/max/0/grey.jpg", 400),
    ("full/max/361/default.jpg", 400),
    ("full/max/-90/default.jpg", 400),
    ("full/full/0/default.jpg", 400),   # 3.0 has no "full" size
    ("full/1001,/0/default.jpg", 400),  # upscaling needs ^
    ("full/0,/0/default.jpg", 400),
    ("0,0,0,10/max/0/default.jpg", 400),
    ("1000,0,10,10/max/0/default.jpg", 400),
    ("nonsense/max/0/default.jpg", 400),
    ("full/max/0/default", 400),
])
def test_bad_requests(anon, img, path, status):
    assert_delivery_error(anon.get(base_of(img) + "/" + path), status)


def test_not_found(anon, img):
    c, s = img.customer.id, img.id
    for path in ("/iiif-img/%d/%d/nope/info.json" % (c, s),
                 "/iiif-img/%d/%d/nope/full/max/0/default.jpg" % (c, s),
                 "/iiif-img/%d/99999/quad/info.json" % c,
                 "/iiif-img/no-such-customer-xyz/%d/quad/info.json" % s,
                 "/iiif-img/%d/%d/doc/info.json" % (c, s),        # not on iiif-img
                 "/iiif-img/%d/%d/nofiles/info.json" % (c, s),    # never ingested
                 "/thumbs/%d/%d/doc/info.json" % (c, s),
                 "/file/%d/%d/quad" % (c, s)):                   # not on file
        assert_delivery_error(anon.get(path), 404)


def restricted_info(anon, url):
    """A restricted asset's info.json: 200 with its auth services (CONTRACT
    section 9), not kept by shared caches."""
    r = anon.get(url)
    assert r.status_code == 200, describe(r)
    j = r.json()
    assert j["@context"] == ["http://iiif.io/api/auth/2/context.json", "http://iiif.io/api/image/3/context.json"]
    probe = j["service"][0]
    assert probe["type"] == "AuthProbeService2" and "/auth/v2/probe/" in probe["id"], probe
    assert probe["service"][0]["type"] == "AuthAccessService2", probe
    assert "private" in r.headers.get("Cache-Control", "") and "public" not in r.headers["Cache-Control"]
    return j


def test_restricted(anon, img):
    j = restricted_info(anon, base_of(img, "secret") + "/info.json")
    # without access: the open sizes, and the largest open size (200 of 1000x700)
    assert (j["maxWidth"], j["maxHeight"]) == (200, 140), j
    assert all(max(s["width"], s["height"]) <= 200 for s in j["sizes"]), j
    # a level 0 service of those sizes: no tiles to be refused
    assert j["profile"] == "level0" and "tiles" not in j, j
    assert max((s["width"], s["height"]) for s in j["sizes"]) == (200, 140), j
    assert_delivery_error(anon.get(base_of(img, "secret") + "/full/max/0/default.jpg"), 401)
    assert_delivery_error(anon.get(base_of(img, "secret") + "/full/201,/0/default.jpg"), 401)
    assert decode(anon.get(base_of(img, "secret") + "/full/200,/0/default.jpg")).size == (200, 140)
    # a part of the image is never open, however small (CONTRACT section 9)
    assert_delivery_error(anon.get(base_of(img, "secret") + "/0,0,256,256/128,128/0/default.jpg"), 401)
    assert decode(anon.get(base_of(img, "secret") + "/0,0,1000,700/128,/0/default.jpg")).size == (128, 90)
    j = restricted_info(anon, base_of(img, "roles") + "/info.json")
    assert "maxWidth" not in j and not j.get("sizes"), j
    assert_delivery_error(anon.get(base_of(img, "roles") + "/full/100,/0/default.jpg"), 401)
    # thumbnails: only the open sizes
    j = anon.get(base_of(img, "secret", "thumbs") + "/info.json").json()
    assert {(s["width"], s["height"]) for s in j["sizes"]} == {(100, 70), (200, 140)}, j
    assert_delivery_error(anon.get(base_of(img, "secret", "thumbs") + "/full/400,280/0/default.jpg"), 401)
    assert anon.get(base_of(img, "secret", "thumbs") + "/full/200,140/0/default.jpg").status_code == 200


# ---------------------------------------------------------------- stored thumbnails from nginx

THUMBS_1000x700 = ((1000, 700), (400, 280), (200, 140), (100, 70))
PREFIXES = ("iiif-img", "iiif-img/v2", "iiif-img/v3", "thumbs", "thumbs/v2")


def alias_forms(w, h):
    """The size strings linked to a stored w x h file (iiif/thumb_alias.h)."""
    n = max(w, h)
    return ["!%d,%d" % (n, n)] + (["!%d,%d" % (w, h)] if w != h else []) + \
        ["%d,%d" % (w, h), "%d," % w, ",%d" % h]


def image_log(dlcs_var):
    with open(os.path.join(dlcs_var, "log", "image.log"), errors="replace") as f:
        return f.read()


def assert_not_through_dlcs_image(anon, dlcs_var, paths, probe):
    """The paths were answered by nginx alone. dlcs-image logs one line per
    request ("... GET {path} {status} ..."): probe, a path only dlcs-image
    answers, requested after them, shows that its log is written, and none
    of the paths is in it."""
    r = anon.get(probe)
    assert r.status_code == 200, describe(r)
    end = time.time() + 10
    while " GET %s 200 " % probe not in image_log(dlcs_var):
        assert time.time() < end, "%s is not in dlcs-image's log" % probe
        time.sleep(0.1)
    log = image_log(dlcs_var)
    went = [p for p in paths if " GET %s " % p in log]
    assert not went, "dlcs-image answered %s" % went


def test_stored_thumbnails_are_sent_by_nginx(anon, img, storage_root, dlcs_var):
    d = os.path.join(storage_root, str(img.customer.id), str(img.id), "quad", "thumbs")
    fast = []
    for w, h in THUMBS_1000x700:
        n = max(w, h)
        with open(os.path.join(d, "%d.jpg" % n), "rb") as f:
            stored = f.read()
        # what dlcs-image answers (pct: is never aliased): the same file
        app = anon.get(base_of(img) + "/full/pct:%d/0/default.jpg" % (w // 10))
        assert app.status_code == 200 and app.content == stored, describe(app)
        for size in alias_forms(w, h):
            assert os.readlink(os.path.join(d, size + ".jpg")) == "%d.jpg" % n, size
            assert os.readlink(os.path.join(d, "..", "full", size + ".jpg")) == "../thumbs/%d.jpg" % n, size
            for prefix in PREFIXES:
                path = base_of(img, prefix=prefix) + "/full/%s/0/default.jpg" % size
                r = anon.get(path)
                assert r.status_code == 200, describe(r)
                assert r.content == stored, "%s is not thumbs/%d.jpg" % (path, n)
                assert decode(r).size == (w, h), path
                for k in ("Content-Type", "Content-Length", "ETag", "Last-Modified",
                          "Cache-Control", "Access-Control-Allow-Origin"):
                    assert r.headers.get(k) == app.headers.get(k), "%s: %s %r, dlcs-image %r" % (
                        path, k, r.headers.get(k), app.headers.get(k))
                fast.append(path)
    # percent-encoded "!" and "," (nginx matches the decoded URI)
    for size in ("%21400,400", "400%2C280", "%21400%2C400"):
        r = anon.get(base_of(img) + "/full/%s/0/default.jpg" % size)
        assert r.status_code == 200 and decode(r).size == (400, 280), describe(r)
    # by the customer's name
    r = anon.get("/iiif-img/%s/%d/quad/full/!200,200/0/default.jpg" % (img.customer.name, img.id))
    assert r.status_code == 200 and decode(r).size == (200, 140), describe(r)
    fast.append("/iiif-img/%s/%d/quad/full/!200,200/0/default.jpg" % (img.customer.name, img.id))
    assert_not_through_dlcs_image(anon, dlcs_var, fast, base_of(img) + "/full/pct:40.000/0/default.jpg")


@pytest.fixture(scope="module")
def levels(img, origin):
    """Images beside img's 1000x700 "quad" whose one-tile pyramid level is
    something else: the whole image (150x100), the !200,200 thumbnail's size
    (800x600), a portrait (300x1000: 75x250). {asset id: (w, h)}."""
    shapes = {"small": (150, 100), "eight": (800, 600), "tall": (300, 1000)}
    for aid, (w, h) in shapes.items():
        put_asset(img, aid, origin=origin.add(encode(quadrants(w, h), "JPEG", quality=95)))
    return dict(shapes, quad=(1000, 700))


def one_tile_levels(anon, base):
    """(scale factor, level width, level height) of the info.json's levels
    that are one tile."""
    j = anon.get(base + "/info.json").json()
    w, h, t = j["width"], j["height"], j["tiles"][0]
    return [(f, -(-w // f), -(-h // f)) for f in t["scaleFactors"] if t["width"] * f >= max(w, h)]


def test_one_tile_levels_are_sent_by_nginx(anon, img, levels, storage_root, dlcs_var):
    """Every pyramid level that is one tile, as OpenSeadragon (and Mirador)
    ask for it: full/{w},{h} in 3.0, full/{w}, in 2.1, and max (2.1: full)
    when it is the whole image. nginx sends the stored tile through full/'s
    links; the bytes are dlcs-image's answer (pct:, which is never linked),
    with CORS, and dlcs-image's log shows none of these requests."""
    fast = []
    for aid, (w, h) in sorted(levels.items()):
        base = base_of(img, aid)
        found = one_tile_levels(anon, base)
        assert len(found) == 1, (aid, found)  # the pyramid stops at the first one
        for f, lw, lh in found:
            name = "0,0,%d,%d_%d.jpg" % (w, h, lw)
            with open(os.path.join(storage_root, str(img.customer.id), str(img.id), aid, "tiles", name), "rb") as fh:
                stored = fh.read()
            app = anon.get(base + "/full/pct:%s/0/default.jpg" % repr(100 / f).rstrip("0").rstrip("."))
            assert app.status_code == 200 and app.content == stored, "%s: %s" % (aid, describe(app))
            urls = [(prefix, "%d,%d" % (lw, lh)) for prefix in ("iiif-img", "iiif-img/v3")]
            urls.append(("iiif-img/v2", "%d," % lw))
            if (lw, lh) == (w, h):
                urls += [("iiif-img", "max"), ("iiif-img/v2", "max"), ("iiif-img/v2", "full")]
            for prefix, size in urls:
                path = base_of(img, aid, prefix) + "/full/%s/0/default.jpg" % size
                r = anon.get(path)
                assert r.status_code == 200, "%s: %s" % (path, describe(r))
                assert r.content == stored, "%s is not tiles/%s" % (path, name)
                assert decode(r).size == (lw, lh), path
                assert r.headers.get("Access-Control-Allow-Origin") == "*", r.headers
                for k in ("Content-Type", "Content-Length", "ETag", "Cache-Control"):
                    assert r.headers.get(k) == app.headers.get(k), "%s: %s %r, dlcs-image %r" % (
                        path, k, r.headers.get(k), app.headers.get(k))
                fast.append(path)
    # 800x600: "200,150" is the one-tile level on /iiif-img, the thumbnail on /thumbs
    d = os.path.join(storage_root, str(img.customer.id), str(img.id), "eight")
    with open(os.path.join(d, "thumbs", "200.jpg"), "rb") as fh:
        thumb = fh.read()
    for prefix in ("thumbs", "thumbs/v2"):
        for size in alias_forms(200, 150):
            path = base_of(img, "eight", prefix) + "/full/%s/0/default.jpg" % size
            r = anon.get(path)
            assert r.status_code == 200 and r.content == thumb, "%s: %s" % (path, describe(r))
            fast.append(path)
    # the 3.0 size "full" does not exist: not linked, dlcs-image answers 400
    assert_delivery_error(anon.get(base_of(img, "small") + "/full/full/0/default.jpg"), 400)
    assert_delivery_error(anon.get(base_of(img, "small", "iiif-img/v3") + "/full/full/0/default.jpg"), 400)
    assert_not_through_dlcs_image(anon, dlcs_var, fast, base_of(img, "small") + "/full/pct:50.0/0/default.jpg")


def test_other_thumbnail_sizes_go_to_dlcs_image(anon, img, storage_root, dlcs_var):
    """Sizes without an alias are dlcs-image's, and answered as before: a box
    larger than the image (3.0 refuses to upscale, 2.1 caps at the image),
    max, ^, and thumbnail sizes that are not stored."""
    d = os.path.join(storage_root, str(img.customer.id), str(img.id), "quad", "thumbs")
    assert not os.path.lexists(os.path.join(d, "!1024,1024.jpg"))
    assert_delivery_error(anon.get(base_of(img) + "/full/!1024,1024/0/default.jpg"), 400)
    r = anon.get(base_of(img, prefix="iiif-img/v2") + "/full/!1024,1024/0/default.jpg")
    assert decode(r).size == (1000, 700)
    assert decode(anon.get(base_of(img) + "/full/^!1024,1024/0/default.jpg")).size == (1024, 717)
    assert decode(anon.get(base_of(img) + "/full/max/0/default.jpg")).size == (1000, 700)
    assert decode(anon.get(base_of(img) + "/full/300,/0/default.jpg")).size == (300, 210)
    assert_delivery_error(anon.get(base_of(img, prefix="thumbs") + "/full/300,/0/default.jpg"), 404)


def test_restricted_thumbnails_go_to_dlcs_image(anon, img, storage_root):
    """A restricted asset has the aliases too, but no public link: its URLs
    reach dlcs-image, which checks access."""
    for aid in ("roles", "secret"):
        d = os.path.join(storage_root, str(img.customer.id), str(img.id), aid, "thumbs")
        assert os.readlink(os.path.join(d, "!400,400.jpg")) == "400.jpg"
    assert_delivery_error(anon.get(base_of(img, "roles") + "/full/!400,400/0/default.jpg"), 401)
    assert_delivery_error(anon.get(base_of(img, "roles", "thumbs") + "/full/100,/0/default.jpg"), 401)
    assert_delivery_error(anon.get(base_of(img, "secret") + "/full/!400,400/0/default.jpg"), 401)
    r = anon.get(base_of(img, "secret") + "/full/!200,200/0/default.jpg")  # open up to 200
    assert decode(r).size == (200, 140)


def test_deleted_thumbnails_are_gone(anon, img, origin):
    put_asset(img, "short-lived", origin=origin.add(encode(quadrants(600, 400), "JPEG")))
    path = base_of(img, "short-lived") + "/full/!400,400/0/default.jpg"
    assert decode(anon.get(path)).size == (400, 267)
    r = img.customer.api.delete(img.image("short-lived"))
    assert r.status_code == 204, describe(r)
    end = time.time() + 12  # nginx keeps open files for open_file_cache_valid (5 s)
    while anon.get(path).status_code != 404:
        assert time.time() < end, "%s still answered after DELETE" % path
        time.sleep(0.25)
    assert_delivery_error(anon.get(path), 404)
    assert_delivery_error(anon.get(base_of(img, "short-lived", "thumbs") + "/full/400,/0/default.jpg"), 404)


# ---------------------------------------------------------------- thumbs and file

def test_thumbs_service(anon, img, storage_root):
    r = anon.get(base_of(img, prefix="thumbs") + "/info.json")
    assert r.status_code == 200, describe(r)
    j = r.json()
    assert j["profile"] == "level0" and j["type"] == "ImageService3"
    assert j["id"].endswith(base_of(img, prefix="thumbs"))
    sizes = [(s["width"], s["height"]) for s in j["sizes"]]
    assert sizes == [(100, 70), (200, 140), (400, 280), (1000, 700)], sizes
    assert "tiles" not in j
    j2 = anon.get(base_of(img, prefix="thumbs/v2") + "/info.json").json()
    assert j2["@context"] == CTX2 and j2["profile"] == ["http://iiif.io/api/image/2/level0.json"]
    d = os.path.join(storage_root, str(img.customer.id), str(img.id), "quad", "thumbs")
    for size, edge in (("400,280", 400), ("!400,400", 400), ("400,", 400), (",280", 400), ("100,70", 100)):
        r = anon.get(base_of(img, prefix="thumbs") + "/full/%s/0/default.jpg" % size)
        assert r.status_code == 200, "%s: %s" % (size, describe(r))
        with open(os.path.join(d, "%d.jpg" % edge), "rb") as f:
            assert r.content == f.read()
    assert anon.get(base_of(img, prefix="thumbs/v2") + "/full/400,/0/default.jpg").status_code == 200
    assert_delivery_error(anon.get(base_of(img, prefix="thumbs") + "/full/300,/0/default.jpg"), 404)
    for bad in ("full/400,/90/default.jpg", "full/400,/0/default.png", "full/400,/0/gray.jpg",
                "0,0,10,10/400,/0/default.jpg"):
        assert_delivery_error(anon.get(base_of(img, prefix="thumbs") + "/" + bad), 400)
    r = anon.get(base_of(img, prefix="thumbs"), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith(base_of(img, prefix="thumbs") + "/info.json")


def test_file(anon, img):
    r = anon.get("/file/%d/%d/doc" % (img.customer.id, img.id))
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.content == b"%PDF-1.4 not much\n"
    r = anon.get("/file/%d/%d/doc" % (img.customer.id, img.id), headers={"Range": "bytes=0-3"})
    assert r.status_code == 206 and r.content == b"%PDF", describe(r)


# ---------------------------------------------------------------- custom headers

def wait_headers(anon, url, want, timeout=15.0):
    """Polls url until every header of want has its value (nginx reloads its
    custom-headers include asynchronously after a change). Returns the last
    response."""
    end = time.time() + timeout
    while True:
        try:
            r = anon.get(url)
        except requests.exceptions.ConnectionError:
            time.sleep(0.2)  # an old nginx worker closing a kept connection
            continue
        if all(r.headers.get(k) == v for k, v in want.items()) or time.time() > end:
            return r
        time.sleep(0.2)


def test_custom_headers(make_customer, origin, anon):
    cust = make_customer("iiifch")
    space = create_space(cust)
    url = origin.add(encode(quadrants(600, 400), "JPEG", quality=95))
    put_asset(space, "a", origin=url)
    put_asset(space, "r", origin=url, roles=[role_uri(cust)], maxUnauthorised=100)
    for body in ({"key": "X-Test-Cust", "value": "cust"},
                 {"key": "X-Test-Level", "value": "customer"},
                 {"key": "X-Test-Level", "value": "space", "space": space.id},
                 {"key": "X-Test-Level", "value": "role", "role": role_uri(cust)}):
        r = cust.api.post(cust.path + "/customHeaders", json=body, headers={"Connection": "close"})
        assert r.status_code == 201, describe(r)
    a = "/iiif-img/%d/%d/a" % (cust.id, space.id)
    want = {"X-Test-Cust": "cust", "X-Test-Level": "space", "Access-Control-Allow-Origin": "*"}
    for path in (a + "/info.json",                          # made by dlcs-image
                 a + "/full/!200,200/0/default.jpg",          # a stored thumbnail, sent by nginx
                 a + "/full/77,/0/default.png",               # computed, then sent from the cache
                 a + "/0,0,512,400/256,200/0/default.jpg",    # a tile, by its non-canonical name
                 "/thumbs/%d/%d/a/full/100,/0/default.jpg" % (cust.id, space.id),
                 "/iiif-img/%d/%d/nope/info.json" % (cust.id, space.id)):
        r = wait_headers(anon, path, want)
        assert r.status_code in (200, 404), describe(r)
        for k, v in want.items():
            assert r.headers.get(k) == v, "%s: %s=%r in %s" % (path, k, r.headers.get(k), dict(r.headers))
    # a role the asset holds comes last
    r = wait_headers(anon, "/iiif-img/%d/%d/r/full/100,/0/default.jpg" % (cust.id, space.id),
                     {"X-Test-Level": "role"})
    assert r.status_code == 200 and r.headers.get("X-Test-Level") == "role", dict(r.headers)
    # a restricted info.json answers 200 with its auth services (CONTRACT section 9)
    r = anon.get("/iiif-img/%d/%d/r/info.json" % (cust.id, space.id))
    assert r.status_code == 200 and r.headers.get("X-Test-Level") == "role", describe(r)
    r = anon.get("/iiif-img/%d/%d/r/full/max/0/default.jpg" % (cust.id, space.id))
    assert r.status_code == 401 and r.headers.get("X-Test-Level") == "role", describe(r)
