"""Ingest end to end (CONTRACT sections 5-7): images of many formats and
sizes through the queue and through synchronous PUT/PATCH, fetched from a
loopback origin (origin.py) by the stack's runners; their dimensions, the
files on disk (original, every tile, thumbnails never upscaled, s.json,
info.txt), the storage figures, and the recorded errors of dead, missing,
broken, non-image and oversized origins."""

import json
import os
import threading
import time

from PIL import Image

from helpers import assert_error, assert_resource, describe
from origin import (QUAD_COLOURS, asset_dir, big_png, batch_ids, check_derivatives, cmyk_jpeg, config_int,
                    dead_url, dir_bytes, display_image, encode, exif_rotated_jpeg, expected_thumb_edges, get_asset,
                    jpeg, member, noisy_jpeg, pixel_close, quadrants, submit, tile_levels, wait_batch)


def storage_of(api, path):
    return assert_resource(api.get(path + "/storage"), 200,
                           "vocab:ImageStorage" if "/images/" in path else "vocab:CustomerStorage")


def assert_ingested(space, asset_id, w, h, batch=None):
    j = get_asset(space, asset_id)
    assert (j.get("width"), j.get("height")) == (w, h), "%s: expected %dx%d: %s" % (asset_id, w, h, j)
    assert j["ingesting"] is False, j
    assert isinstance(j.get("finished"), str) and j["finished"], j
    assert "error" not in j, "%s has an error: %s" % (asset_id, j)
    if batch is not None:
        assert j.get("batch") == batch["@id"], "%s: batch %r, expected %r" % (asset_id, j.get("batch"), batch["@id"])
    return j


def assert_failed(space, asset_id, *mentions):
    j = get_asset(space, asset_id)
    err = j.get("error")
    assert isinstance(err, str) and err.strip(), "%s must have an error: %s" % (asset_id, j)
    for m in mentions:
        assert m.lower() in err.lower(), "%s: error %r does not mention %r" % (asset_id, err, m)
    assert j["ingesting"] is False, j
    assert "width" not in j and "height" not in j, j
    return j


def check_colours(d, w, h, original):
    """The full-resolution tiles and the largest thumbnail show the image as
    a viewer would (EXIF orientation applied, CMYK/greyscale/palette in RGB):
    the colour at each quadrant centre matches the original's."""
    disp = display_image(original)
    assert disp.size == (w, h), "PIL sees %s, the asset says %dx%d" % (disp.size, w, h)
    level1 = tile_levels(w, h)[1]
    for fx in (0.25, 0.75):
        for fy in (0.25, 0.75):
            x, y = int(w * fx), int(h * fy)
            want = disp.getpixel((x, y))
            col, row = x // 256, y // 256
            name = [n for n in level1 if n.startswith("%d,%d," % (col * 256, row * 256))]
            assert len(name) == 1, name
            with Image.open(os.path.join(d, "tiles", name[0])) as t:
                got = t.convert("RGB").getpixel((x - col * 256, y - row * 256))
            assert pixel_close(got, want), "tile %s at (%d,%d): %s, expected about %s" % (name[0], x, y, got, want)
    edge = expected_thumb_edges(w, h)[0]
    with Image.open(os.path.join(d, "thumbs", "%d.jpg" % edge)) as t:
        tw, th = t.size
        thumb = t.convert("RGB")
    if tw >= 8 and th >= 8:
        for fx in (0.25, 0.75):
            for fy in (0.25, 0.75):
                want = disp.getpixel((int(w * fx), int(h * fy)))
                got = thumb.getpixel((int(tw * fx), int(th * fy)))
                assert pixel_close(got, want), "thumb %d.jpg at (%.2f,%.2f): %s, expected about %s" % (
                    edge, fx, fy, got, want)


# ---------------------------------------------------------------- a batch of varied images

def varied_images():
    """(id, bytes, content type, displayed width, displayed height)."""
    rgba = quadrants(300, 520).convert("RGBA")
    return [
        ("jpeg-600x400", jpeg(600, 400), "image/jpeg", 600, 400),
        ("png-rgba-300x520", encode(rgba, "PNG"), "image/png", 300, 520),
        ("tiff-257x256", encode(quadrants(257, 256), "TIFF"), "image/tiff", 257, 256),
        ("grey-500x300", encode(quadrants(500, 300, "L"), "JPEG", quality=90), "image/jpeg", 500, 300),
        ("cmyk-320x240", cmyk_jpeg(320, 240), "image/jpeg", 320, 240),
        ("exif6-400x300", exif_rotated_jpeg(400, 300, 6), "image/jpeg", 300, 400),
        ("gif-130x90", encode(quadrants(130, 90, "P"), "GIF"), "image/gif", 130, 90),
        ("png-1x1", encode(Image.new("RGB", (1, 1), QUAD_COLOURS[2]), "PNG"), "image/png", 1, 1),
        ("jpeg-10000x50", jpeg(10000, 50), "image/jpeg", 10000, 50),
    ]


def test_batch_of_varied_images_is_ingested_with_all_derivatives(space, origin, storage_root):
    c = space.customer
    before = storage_of(c.api, c.path)
    assert (before["numberOfStoredImages"], before["totalSizeOfStoredImages"], before["totalSizeOfThumbnails"]) \
        == (0, 0, 0), before
    images = varied_images()
    urls = {}
    members = []
    for aid, data, ctype, _, _ in images:
        urls[aid] = origin.add(data, ctype, name=aid)
        members.append(member(space, aid, urls[aid], media=ctype))
    batch = submit(c, members)
    assert batch["superseded"] is False
    done = wait_batch(c, batch, timeout=90)
    assert (done["count"], done["completed"], done["errors"]) == (len(images), len(images), 0), done
    assert isinstance(done["finished"], str) and done["finished"] >= done["submitted"], done

    assert sorted(batch_ids(c, done["completedImages"])) == sorted(i[0] for i in images)
    assert batch_ids(c, done["errorImages"]) == []
    assert sorted(batch_ids(c, done["images"])) == sorted(i[0] for i in images)

    total_size = total_thumbs = 0
    for aid, data, ctype, w, h in images:
        assert_ingested(space, aid, w, h, batch)
        assert origin.count(urls[aid]) == 1, "%s fetched %d times" % (aid, origin.count(urls[aid]))
        d = check_derivatives(storage_root, space, aid, w, h, data)
        check_colours(d, w, h, data)
        st = storage_of(c.api, space.image(aid))
        assert st["size"] > 0 and st["thumbnailSize"] > 0, st
        assert st["size"] >= len(data), "%s: size %d below the original's %d bytes" % (aid, st["size"], len(data))
        assert st["size"] == dir_bytes(d, skip="thumbs"), (aid, st, dir_bytes(d, skip="thumbs"))
        assert st["thumbnailSize"] == dir_bytes(os.path.join(d, "thumbs")), (aid, st)
        total_size += st["size"]
        total_thumbs += st["thumbnailSize"]

    for path in (c.path, space.path):
        after = storage_of(c.api, path)
        assert after["numberOfStoredImages"] == len(images), after
        assert after["totalSizeOfStoredImages"] == total_size, (path, after, total_size)
        assert after["totalSizeOfThumbnails"] == total_thumbs, (path, after, total_thumbs)


# ---------------------------------------------------------------- failures in a batch

def test_failures_are_recorded_per_asset_while_the_rest_of_the_batch_completes(space, origin, storage_root,
                                                                              stack_config):
    c = space.customer
    limit = config_int(stack_config, "max_image_pixels", 200000000)
    over_w = 10000
    over_h = limit // over_w + 1
    good = {
        "good-a": (jpeg(200, 150), 200, 150),
        "good-b": (encode(quadrants(64, 64), "PNG"), 64, 64),
        "good-c": (jpeg(300, 100), 300, 100),
    }
    truncated = noisy_jpeg(300, 200)
    bad = {
        # id: (url, words the error must mention)
        "dead": (dead_url(), ("origin",)),
        "missing-404": (origin.url(origin.path("missing.jpg")), ("404",)),
        "truncated": (origin.add(truncated[:len(truncated) * 6 // 10]), ()),
        "text": (origin.add(b"This is not an image at all.\n" * 20, "image/jpeg"), ()),
        "empty": (origin.add(b"", "image/jpeg"), ()),
        "short-read": (origin.add(jpeg(100, 100), extra_length=5000), ("origin",)),
        "over-limit": (origin.add(big_png(over_w, over_h), "image/png"), ("limit", "pixel")),
        # file:// is only read below origin_file_dirs, never /etc
        "file-passwd": ("file:///etc/passwd", ()),
    }
    members = []
    urls = {}
    for aid, (data, _, _) in good.items():
        urls[aid] = origin.add(data, "image/png" if data[:4] == b"\x89PNG" else "image/jpeg")
        members.append(member(space, aid, urls[aid]))
    for aid, (url, _) in bad.items():
        urls[aid] = url
        members.append(member(space, aid, url, media="image/png" if aid == "over-limit" else "image/jpeg"))
    # good and bad interleaved
    members.sort(key=lambda m: m["id"])
    batch = submit(c, members)
    done = wait_batch(c, batch, timeout=90)
    assert (done["count"], done["completed"], done["errors"]) == (len(members), len(good), len(bad)), done
    assert isinstance(done.get("finished"), str), done
    assert sorted(batch_ids(c, done["completedImages"])) == sorted(good)
    assert sorted(batch_ids(c, done["errorImages"])) == sorted(bad)

    for aid, (data, w, h) in good.items():
        assert_ingested(space, aid, w, h, batch)
        check_derivatives(storage_root, space, aid, w, h, data)
    for aid, (url, mentions) in bad.items():
        assert_failed(space, aid, *mentions)
        assert not os.path.exists(asset_dir(storage_root, space, aid)), "%s: files stored for a failed ingest" % aid
    for aid in ("missing-404", "truncated", "text", "empty", "short-read", "over-limit"):
        assert origin.count(urls[aid]) == 1, "%s fetched %d times" % (aid, origin.count(urls[aid]))


# ---------------------------------------------------------------- synchronous PUT / PATCH / DELETE

def test_put_with_http_origin_answers_after_ingest_with_dimensions(space, origin, storage_root):
    data = jpeg(640, 480)
    url = origin.add(data)
    r = space.customer.api.put(space.image("sync-1"), json={"mediaType": "image/jpeg", "origin": url}, timeout=60)
    j = assert_resource(r, 201, "vocab:Image")
    assert r.headers.get("Location") == j["@id"], describe(r)
    assert (j.get("width"), j.get("height")) == (640, 480), describe(r)
    assert j["ingesting"] is False and "error" not in j, describe(r)
    assert isinstance(j.get("finished"), str), describe(r)
    assert origin.count(url) == 1
    assert_ingested(space, "sync-1", 640, 480)
    check_derivatives(storage_root, space, "sync-1", 640, 480, data)


def test_put_with_dead_origin_is_502_naming_it_and_keeps_the_asset(space):
    url = dead_url("gone.jpg")
    r = space.customer.api.put(space.image("sync-dead"), json={"mediaType": "image/jpeg", "origin": url},
                               timeout=60)
    e = assert_error(r, 502)
    assert "origin" in e["description"].lower() and "connect" in e["description"].lower(), describe(r)
    j = assert_failed(space, "sync-dead", "origin")
    assert j["origin"] == url


def test_put_with_404_origin_is_502_mentioning_404(space, origin):
    url = origin.url(origin.path("nothing-here.jpg"))
    r = space.customer.api.put(space.image("sync-404"), json={"mediaType": "image/jpeg", "origin": url},
                               timeout=60)
    e = assert_error(r, 502)
    assert "404" in e["description"], describe(r)
    assert_failed(space, "sync-404", "404")
    assert origin.count(url) == 1


def test_put_of_files_that_are_not_usable_images_is_422_and_keeps_the_asset(space, origin, stack_config):
    limit = config_int(stack_config, "max_image_pixels", 200000000)
    truncated = noisy_jpeg(320, 240)
    cases = {
        "text": (b"hello, I am plain text\n" * 10, "image/jpeg", ()),
        "truncated": (truncated[:len(truncated) // 2], "image/jpeg", ()),
        "over-limit": (big_png(20000, limit // 20000 + 1), "image/png", ("limit",)),
    }
    for aid, (data, ctype, mentions) in cases.items():
        url = origin.add(data, ctype)
        r = space.customer.api.put(space.image(aid), json={"mediaType": ctype, "origin": url}, timeout=60)
        e = assert_error(r, 422)
        for m in mentions:
            assert m in e["description"].lower(), describe(r)
        assert_failed(space, aid, *mentions)
        assert origin.count(url) == 1


def test_patch_of_metadata_does_not_reingest_but_patch_of_origin_does(space, origin, storage_root):
    api = space.customer.api
    first = jpeg(300, 200)
    url1 = origin.add(first)
    r = api.put(space.image("p"), json={"mediaType": "image/jpeg", "origin": url1}, timeout=60)
    j0 = assert_resource(r, 201, "vocab:Image")
    assert (j0["width"], j0["height"]) == (300, 200), describe(r)

    r = api.patch(space.image("p"), json={"string1": "just metadata"}, timeout=60)
    j1 = assert_resource(r, 200, "vocab:Image")
    assert j1["string1"] == "just metadata"
    assert (j1["width"], j1["height"], j1["ingesting"]) == (300, 200, False), describe(r)
    assert j1["finished"] == j0["finished"], "a metadata PATCH must not reingest: %s" % describe(r)
    assert origin.count(url1) == 1, "a metadata PATCH fetched the origin again"

    second = jpeg(180, 500)
    url2 = origin.add(second)
    r = api.patch(space.image("p"), json={"origin": url2}, timeout=60)
    j2 = assert_resource(r, 200, "vocab:Image")
    assert (j2.get("width"), j2.get("height"), j2["ingesting"]) == (180, 500, False), describe(r)
    assert j2["origin"] == url2 and j2["string1"] == "just metadata"
    assert "error" not in j2
    assert origin.count(url1) == 1 and origin.count(url2) == 1
    assert_ingested(space, "p", 180, 500)
    check_derivatives(storage_root, space, "p", 180, 500, second)

    # the same origin again is no change: no reingest
    r = api.patch(space.image("p"), json={"origin": url2, "tags": ["x"]}, timeout=60)
    j3 = assert_resource(r, 200, "vocab:Image")
    assert j3["finished"] == j2["finished"] and origin.count(url2) == 1, describe(r)

    # maxUnauthorised changes what is open: reingest
    r = api.patch(space.image("p"), json={"maxUnauthorised": 150}, timeout=60)
    j4 = assert_resource(r, 200, "vocab:Image")
    assert (j4["width"], j4["height"], j4["ingesting"], j4["maxUnauthorised"]) == (180, 500, False, 150), describe(r)
    assert origin.count(url2) == 2, "a maxUnauthorised PATCH must reingest"
    check_derivatives(storage_root, space, "p", 180, 500, second, max_unauthorised=150)

    # so do delivery channels (now without thumbnails)
    r = api.patch(space.image("p"), json={"deliveryChannels": ["iiif-img"]}, timeout=60)
    j5 = assert_resource(r, 200, "vocab:Image")
    assert (j5["width"], j5["height"], j5["ingesting"]) == (180, 500, False), describe(r)
    assert origin.count(url2) == 3, "a deliveryChannels PATCH must reingest"
    check_derivatives(storage_root, space, "p", 180, 500, second, thumbs=False)


def test_put_again_reingests_from_the_origin(space, origin, storage_root):
    api = space.customer.api
    data = jpeg(120, 90)
    url = origin.add(data)
    body = {"mediaType": "image/jpeg", "origin": url}
    assert_resource(api.put(space.image("again"), json=body, timeout=60), 201, "vocab:Image")
    r = api.put(space.image("again"), json=body, timeout=60)
    j = assert_resource(r, 200, "vocab:Image")
    assert (j["width"], j["height"], j["ingesting"]) == (120, 90, False), describe(r)
    assert origin.count(url) == 2, "PUT always reingests: fetched %d times" % origin.count(url)
    check_derivatives(storage_root, space, "again", 120, 90, data)
    # the figures are replaced, not added
    st = storage_of(api, space.image("again"))
    sp = storage_of(api, space.path)
    assert (sp["numberOfStoredImages"], sp["totalSizeOfStoredImages"], sp["totalSizeOfThumbnails"]) == \
        (1, st["size"], st["thumbnailSize"]), (sp, st)


def test_delete_removes_the_files_and_the_storage_figures(space, origin, storage_root):
    c = space.customer
    keep, gone = jpeg(400, 300), jpeg(500, 260)
    for aid, data in (("keep", keep), ("gone", gone)):
        r = c.api.put(space.image(aid), json={"mediaType": "image/jpeg", "origin": origin.add(data)}, timeout=60)
        assert_resource(r, 201, "vocab:Image")
    d = check_derivatives(storage_root, space, "gone", 500, 260, gone)
    st_keep = storage_of(c.api, space.image("keep"))
    st_gone = storage_of(c.api, space.image("gone"))
    before = storage_of(c.api, c.path)
    assert (before["numberOfStoredImages"], before["totalSizeOfStoredImages"], before["totalSizeOfThumbnails"]) \
        == (2, st_keep["size"] + st_gone["size"], st_keep["thumbnailSize"] + st_gone["thumbnailSize"]), before

    r = c.api.delete(space.image("gone"))
    assert r.status_code == 204, describe(r)
    assert not os.path.exists(d), "the files of a deleted asset are still in %s" % d
    assert os.path.isdir(asset_dir(storage_root, space, "keep"))
    for path in (c.path, space.path):
        after = storage_of(c.api, path)
        assert (after["numberOfStoredImages"], after["totalSizeOfStoredImages"], after["totalSizeOfThumbnails"]) \
            == (1, st_keep["size"], st_keep["thumbnailSize"]), (path, after)


def test_max_unauthorised_splits_thumbnail_sizes_into_open_and_auth(space, origin, storage_root):
    data = jpeg(1200, 900)
    r = space.customer.api.put(space.image("mu"), json={"mediaType": "image/jpeg", "origin": origin.add(data),
                                                         "maxUnauthorised": 300}, timeout=60)
    j = assert_resource(r, 201, "vocab:Image")
    assert (j["width"], j["height"]) == (1200, 900)
    d = check_derivatives(storage_root, space, "mu", 1200, 900, data, max_unauthorised=300)
    with open(os.path.join(d, "s.json")) as f:
        assert json.load(f) == {"o": [[200, 150], [100, 75]], "a": [[1024, 768], [400, 300]]}


# ---------------------------------------------------------------- channels and policies

def test_channels_choose_the_derivatives(space, origin, storage_root):
    api = space.customer.api
    data = jpeg(700, 300)
    cases = {"tiles-only": (["iiif-img"], True, False), "thumbs-only": (["thumbs"], False, True)}
    for aid, (channels, tiles, thumbs) in cases.items():
        r = api.put(space.image(aid), json={"mediaType": "image/jpeg", "origin": origin.add(data),
                                            "deliveryChannels": channels}, timeout=60)
        j = assert_resource(r, 201, "vocab:Image")
        assert (j.get("width"), j.get("height"), j["ingesting"]) == (700, 300, False), describe(r)
        check_derivatives(storage_root, space, aid, 700, 300, data, tiles=tiles, thumbs=thumbs)
    st = storage_of(api, space.image("tiles-only"))
    assert st["thumbnailSize"] == 0 and st["size"] > len(data), st


def test_file_channel_stores_the_original_only(space, origin, storage_root):
    api = space.customer.api
    pdf = b"%PDF-1.4\n" + os.urandom(3000) + b"\n%%EOF\n"
    url = origin.add(pdf, "application/pdf")
    r = api.put(space.image("doc"), json={"mediaType": "application/pdf", "origin": url,
                                          "deliveryChannels": ["file"]}, timeout=60)
    j = assert_resource(r, 201, "vocab:Image")
    assert j["ingesting"] is False and "error" not in j, describe(r)
    assert "width" not in j and "height" not in j, describe(r)
    assert j["family"] == "F"
    d = asset_dir(storage_root, space, "doc")
    assert sorted(os.listdir(d)) == ["original"], os.listdir(d)
    with open(os.path.join(d, "original"), "rb") as f:
        assert f.read() == pdf
    st = storage_of(api, space.image("doc"))
    assert (st["size"], st["thumbnailSize"]) == (len(pdf), 0), st
    assert origin.count(url) == 1


def test_customer_thumbs_policy_adds_its_sizes_to_the_default_set(space, origin, storage_root):
    c = space.customer
    name = "e2e-thumbs"
    r = c.api.post(c.path + "/deliveryChannelPolicies/thumbs",
                   json={"id": name, "policyData": json.dumps(["!300,300", ",150", "500,"])})
    assert r.status_code == 201, describe(r)
    data = jpeg(800, 600)
    r = c.api.put(space.image("pol"), json={
        "mediaType": "image/jpeg", "origin": origin.add(data),
        "deliveryChannels": [{"channel": "iiif-img", "policy": "default"}, {"channel": "thumbs", "policy": name}]},
        timeout=60)
    j = assert_resource(r, 201, "vocab:Image")
    assert (j["width"], j["height"]) == (800, 600), describe(r)
    # !300,300 -> 300x225; ,150 -> 200x150 (the same edge as !200,200: stored
    # once); 500, -> 500x375; the default set: 800 (not upscaled), 400, 200, 100
    d = check_derivatives(storage_root, space, "pol", 800, 600, data, thumb_edges=[800, 500, 400, 300, 200, 100])
    with open(os.path.join(d, "s.json")) as f:
        assert json.load(f)["o"] == [[800, 600], [500, 375], [400, 300], [300, 225], [200, 150], [100, 75]]


# ---------------------------------------------------------------- delete during ingest

def test_delete_during_ingest_leaves_no_files_and_the_batch_finishes(space, origin, storage_root):
    c = space.customer
    gate = threading.Event()
    try:
        urls = {aid: origin.add(jpeg(90, 60), gate=gate) for aid in ("del-a", "del-b")}
        b = submit(c, [member(space, aid, u) for aid, u in urls.items()])
        # both are being fetched (held at the origin) when one is deleted
        deadline = time.time() + 3
        while sum(origin.counts(urls.values()).values()) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert origin.counts(urls.values()) == {u: 1 for u in urls.values()}, "both must be in flight"
        r = c.api.delete(space.image("del-a"))
        assert r.status_code == 204, describe(r)
    finally:
        gate.set()
    done = wait_batch(c, b)
    assert done["completed"] == 1 and done["completed"] + done["errors"] == done["count"], done
    assert batch_ids(c, done["completedImages"]) == ["del-b"]
    assert_ingested(space, "del-b", 90, 60)
    r = c.api.get(space.image("del-a"))
    assert r.status_code == 404, describe(r)
    time.sleep(0.5)  # a runner that lost the asset must not install its files late
    assert not os.path.exists(asset_dir(storage_root, space, "del-a")), "files of a deleted asset were installed"
    st_b = storage_of(c.api, space.image("del-b"))
    for path in (c.path, space.path):
        s = storage_of(c.api, path)
        assert (s["numberOfStoredImages"], s["totalSizeOfStoredImages"], s["totalSizeOfThumbnails"]) == \
            (1, st_b["size"], st_b["thumbnailSize"]), (path, s, st_b)
