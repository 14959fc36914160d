"""Public links and nginx's fast path (delivery.md "Public links" and "nginx
fast path"): an open asset (no roles, maxUnauthorised -1, ingested without
error) gets storage/public/{iiif-img,thumbs}/{c}/{s}/{id} links, and nginx
itself answers its canonical tile URLs from the stored tiles, and its stored
whole-image sizes (the one-tile level, the thumbnails) from their aliases in
full/ and thumbs/; a restricted, failed or deleted asset has no link, and its
tile URLs go to dlcs-image. `dlcs-admin publish-assets` repairs links and
aliases.

None of these tests needs dlcs-image: requests that nginx does not answer
itself are only checked not to be a 200 (without dlcs-image they are 502;
with it, 401/404 for restricted or deleted assets)."""

import os
import shutil
import time

from helpers import role_uri, admin_command, assert_error, assert_resource, create_space, describe, uniq
from origin import asset_dir, jpeg

W, H = 600, 400
TILE_FILE = "0,0,256,256_256.jpg"  # scale factor 1, top-left tile
TILE_V3 = "0,0,256,256/256,256/0/default.jpg"
TILE_V2 = "0,0,256,256/256,/0/default.jpg"


def forms(w, h):
    """The size strings linked to a stored w x h file (iiif/thumb_alias.h)."""
    n = max(w, h)
    return ["!%d,%d" % (n, n)] + (["!%d,%d" % (w, h)] if w != h else []) + \
        ["%d,%d" % (w, h), "%d," % w, ",%d" % h]


# The thumbnails of a 600x400 image and their size aliases (iiif/thumb_alias.h):
# thumbs/ for /thumbs, full/ for /iiif-img (with the one-tile level, 150x100,
# and the full size as max and 2.1's full).
THUMBS = ((600, 400), (400, 267), (200, 133), (100, 67))
LEVEL_TILE = "0,0,600,400_150.jpg"
ALIASES = sorted("%s.jpg>%d.jpg" % (size, max(w, h)) for w, h in THUMBS for size in forms(w, h))
FULL_ALIASES = sorted(["%s.jpg>../tiles/%s" % (size, LEVEL_TILE) for size in forms(150, 100)] +
                      ["%s.jpg>../thumbs/%d.jpg" % (size, max(w, h)) for w, h in THUMBS
                       for size in forms(w, h)] +
                      ["max.jpg>../thumbs/600.jpg", "full.jpg>../thumbs/600.jpg"])


def ingest(space, origin, asset_id, **fields):
    """A synchronous PUT of a 600x400 JPEG; returns the asset."""
    body = {"mediaType": "image/jpeg", "origin": origin.add(jpeg(W, H))}
    body.update(fields)
    r = space.customer.api.put(space.image(asset_id), json=body, timeout=60)
    j = assert_resource(r, 201, "vocab:Image")
    assert (j.get("width"), j.get("height")) == (W, H) and "error" not in j, describe(r)
    return j


def link_path(storage_root, channel, space, asset_id):
    return os.path.join(storage_root, "public", channel, str(space.customer.id), str(space.id), asset_id)


def tile_url(space, asset_id, tile=TILE_V3, customer=None, version=""):
    c = customer if customer is not None else space.customer.id
    return "/iiif-img/%s%s/%d/%s/%s" % (version, c, space.id, asset_id, tile)


def assert_static_tile(anon, storage_root, space, asset_id, url):
    """nginx answered url from the stored tile itself: the file's bytes, with
    what nginx adds to files it sends (ranges, Last-Modified, ETag) and the
    delivery headers of dlcs.conf."""
    r = anon.get(url)
    assert r.status_code == 200, describe(r)
    with open(os.path.join(asset_dir(storage_root, space, asset_id), "tiles", TILE_FILE), "rb") as f:
        assert r.content == f.read(), "%s: not the stored tile" % url
    assert r.headers.get("Content-Type") == "image/jpeg", r.headers
    assert r.headers.get("Accept-Ranges") == "bytes", r.headers
    assert r.headers.get("Last-Modified"), r.headers
    assert r.headers.get("ETag"), r.headers
    assert r.headers.get("Access-Control-Allow-Origin") == "*", r.headers
    assert r.headers.get("Cache-Control") == "public, max-age=31536000", r.headers
    return r


def wait_until(check, timeout=12.0, poll=0.25):
    """Polls check() until it returns a true value; nginx keeps an open
    file for open_file_cache_valid (5 s) and reloads asynchronously."""
    end = time.time() + timeout
    while True:
        v = check()
        if v or time.time() > end:
            return v
        time.sleep(poll)


def not_served(anon, url):
    """True when url is not answered with the tile (a restricted or deleted
    asset: 502 without dlcs-image, 401/403/404 with it)."""
    return anon.get(url).status_code != 200


# ---------------------------------------------------------------- open assets

def test_open_asset_is_linked_and_its_tiles_served_by_nginx(space, origin, storage_root, anon):
    ingest(space, origin, "open-1")
    for channel in ("iiif-img", "thumbs"):
        link = link_path(storage_root, channel, space, "open-1")
        assert os.path.islink(link), "%s is not a link" % link
        # Relative, so that hosts mounting shared storage elsewhere agree.
        assert os.readlink(link) == "../../../../%d/%d/open-1" % (space.customer.id, space.id)
        assert os.path.samefile(link, asset_dir(storage_root, space, "open-1"))

    r = assert_static_tile(anon, storage_root, space, "open-1", tile_url(space, "open-1"))
    assert_static_tile(anon, storage_root, space, "open-1", tile_url(space, "open-1", TILE_V2))
    assert_static_tile(anon, storage_root, space, "open-1", tile_url(space, "open-1", version="v2/"))
    assert_static_tile(anon, storage_root, space, "open-1", tile_url(space, "open-1", version="v3/"))
    # The customer's name works as well as its id.
    assert_static_tile(anon, storage_root, space, "open-1",
                       tile_url(space, "open-1", customer=space.customer.name))

    # What nginx does for static files: conditional requests, ranges, HEAD.
    r304 = anon.get(tile_url(space, "open-1"), headers={"If-None-Match": r.headers["ETag"]})
    assert r304.status_code == 304, describe(r304)
    assert r304.headers.get("Access-Control-Allow-Origin") == "*", r304.headers
    part = anon.get(tile_url(space, "open-1"), headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == r.content[:10], describe(part)
    head = anon.head(tile_url(space, "open-1"))
    assert head.status_code == 200 and head.headers.get("Content-Length") == str(len(r.content))


def test_every_stored_tile_is_served(space, origin, storage_root, anon):
    ingest(space, origin, "all-tiles")
    tiles = os.listdir(os.path.join(asset_dir(storage_root, space, "all-tiles"), "tiles"))
    assert len(tiles) >= 6, tiles
    for name in tiles:
        region, sw = name[:-len(".jpg")].split("_")
        r = anon.get("/iiif-img/%d/%d/all-tiles/%s/%s,/0/default.jpg" % (space.customer.id, space.id, region, sw))
        assert r.status_code == 200 and r.headers.get("Accept-Ranges") == "bytes", describe(r)


def test_channels_decide_which_links_exist(space, origin, storage_root):
    ingest(space, origin, "thumbs-only", deliveryChannels=["thumbs"])
    assert not os.path.lexists(link_path(storage_root, "iiif-img", space, "thumbs-only"))
    assert os.path.islink(link_path(storage_root, "thumbs", space, "thumbs-only"))
    ingest(space, origin, "img-only", deliveryChannels=["iiif-img"])
    assert os.path.islink(link_path(storage_root, "iiif-img", space, "img-only"))
    assert not os.path.lexists(link_path(storage_root, "thumbs", space, "img-only"))


def test_customer_name_links(make_customer, storage_root):
    c = make_customer("pubname")
    for channel in ("iiif-img", "thumbs"):
        link = os.path.join(storage_root, "public", channel, c.name)
        assert os.path.islink(link), link
        assert os.readlink(link) == str(c.id)


# ---------------------------------------------------------------- restricted, failed, deleted

def test_restricted_assets_are_not_linked(space, origin, storage_root, anon):
    ingest(space, origin, "with-role", roles=[role_uri(space.customer)])
    ingest(space, origin, "max-unauth", maxUnauthorised=200)
    for aid in ("with-role", "max-unauth"):
        # The files are there; only the link is missing.
        assert os.path.isfile(os.path.join(asset_dir(storage_root, space, aid), "tiles", TILE_FILE))
        for channel in ("iiif-img", "thumbs"):
            assert not os.path.lexists(link_path(storage_root, channel, space, aid)), (aid, channel)
        assert not_served(anon, tile_url(space, aid))
        assert not_served(anon, tile_url(space, aid, customer=space.customer.name))


def test_space_default_roles_restrict(customer, origin, storage_root, anon):
    sp = create_space(customer, defaultRoles=[role_uri(customer)])
    ingest(sp, origin, "default-role")
    assert not os.path.lexists(link_path(storage_root, "iiif-img", sp, "default-role"))
    assert not_served(anon, tile_url(sp, "default-role"))


def test_patch_roles_unlinks_and_relinks(space, origin, storage_root, anon):
    ingest(space, origin, "toggle")
    url = tile_url(space, "toggle")
    link = link_path(storage_root, "iiif-img", space, "toggle")
    assert_static_tile(anon, storage_root, space, "toggle", url)
    api = space.customer.api

    r = api.patch(space.image("toggle"), json={"roles": [role_uri(space.customer)]})
    assert_resource(r, 200, "vocab:Image")
    assert not os.path.lexists(link) and not os.path.lexists(link_path(storage_root, "thumbs", space, "toggle"))
    assert wait_until(lambda: not_served(anon, url)), "%s still served after the roles were set" % url

    r = api.patch(space.image("toggle"), json={"roles": []})
    assert_resource(r, 200, "vocab:Image")
    assert os.path.islink(link)
    assert wait_until(lambda: anon.get(url).status_code == 200), "%s not served once open again" % url
    assert_static_tile(anon, storage_root, space, "toggle", url)

    r = api.patch(space.image("toggle"), json={"maxUnauthorised": 300}, timeout=60)
    assert_resource(r, 200, "vocab:Image")
    assert not os.path.lexists(link)
    r = api.patch(space.image("toggle"), json={"maxUnauthorised": -1}, timeout=60)
    assert_resource(r, 200, "vocab:Image")
    assert os.path.islink(link)


def test_bulk_patch_of_roles_unlinks(space, origin, storage_root):
    ingest(space, origin, "bulk-a")
    ingest(space, origin, "bulk-b")
    r = space.customer.api.patch(space.path + "/images", json={
        "@type": "Collection", "member": [{"id": "bulk-a", "roles": [role_uri(space.customer)]}, {"id": "bulk-b", "string1": "x"}]})
    assert r.status_code == 200, describe(r)
    assert not os.path.lexists(link_path(storage_root, "iiif-img", space, "bulk-a"))
    assert os.path.islink(link_path(storage_root, "iiif-img", space, "bulk-b"))


def test_put_replacement_with_roles_unlinks(space, origin, storage_root):
    ingest(space, origin, "replaced")
    r = space.customer.api.put(space.image("replaced"), json={
        "mediaType": "image/jpeg", "origin": origin.add(jpeg(W, H)), "roles": [role_uri(space.customer)]}, timeout=60)
    assert_resource(r, 200, "vocab:Image")
    assert not os.path.lexists(link_path(storage_root, "iiif-img", space, "replaced"))


def test_failed_reingest_unlinks(space, origin, storage_root, anon):
    ingest(space, origin, "broken-later")
    assert os.path.islink(link_path(storage_root, "iiif-img", space, "broken-later"))
    r = space.customer.api.put(space.image("broken-later"), json={
        "mediaType": "image/jpeg", "origin": origin.add(b"not an image at all", "image/jpeg")}, timeout=60)
    assert r.status_code in (422, 502), describe(r)
    for channel in ("iiif-img", "thumbs"):
        assert not os.path.lexists(link_path(storage_root, channel, space, "broken-later"))
    assert wait_until(lambda: not_served(anon, tile_url(space, "broken-later")))


def test_delete_unlinks(space, origin, storage_root, anon):
    ingest(space, origin, "doomed")
    url = tile_url(space, "doomed")
    thumbs = [thumb_url(space, "doomed", "!400,400"), thumb_url(space, "doomed", "400,", prefix="thumbs/v2")]
    assert_static_tile(anon, storage_root, space, "doomed", url)
    for t in thumbs:
        assert anon.get(t).status_code == 200
    r = space.customer.api.delete(space.image("doomed"))
    assert r.status_code == 204, describe(r)
    for channel in ("iiif-img", "thumbs"):
        assert not os.path.lexists(link_path(storage_root, channel, space, "doomed"))
    for u in [url] + thumbs:
        assert wait_until(lambda: not_served(anon, u)), "%s still served after DELETE" % u


def test_asset_without_origin_is_not_linked(space, storage_root):
    r = space.customer.api.put(space.image("no-origin"), json={"mediaType": "image/jpeg"})
    assert_resource(r, 201, "vocab:Image")
    assert not os.path.lexists(link_path(storage_root, "iiif-img", space, "no-origin"))


# ---------------------------------------------------------------- thumbnail aliases

def thumb_url(space, asset_id, size, prefix="iiif-img"):
    return "/%s/%d/%d/%s/full/%s/0/default.jpg" % (prefix, space.customer.id, space.id, asset_id, size)


def aliases(storage_root, space, asset_id, sub="thumbs"):
    d = os.path.join(asset_dir(storage_root, space, asset_id), sub)
    return sorted("%s>%s" % (n, os.readlink(os.path.join(d, n)))
                  for n in os.listdir(d) if os.path.islink(os.path.join(d, n)))


def assert_static(r, stored):
    assert r.status_code == 200 and r.content == stored, describe(r)
    assert r.headers.get("Accept-Ranges") == "bytes", r.headers
    assert r.headers.get("Access-Control-Allow-Origin") == "*", r.headers
    assert r.headers.get("Cache-Control") == "public, max-age=31536000", r.headers


def test_ingest_links_the_thumbnail_sizes(space, origin, storage_root, anon):
    ingest(space, origin, "sized")
    assert aliases(storage_root, space, "sized") == ALIASES
    assert aliases(storage_root, space, "sized", "full") == FULL_ALIASES
    d = asset_dir(storage_root, space, "sized")
    for w, h in THUMBS:
        with open(os.path.join(d, "thumbs", "%d.jpg" % max(w, h)), "rb") as f:
            stored = f.read()
        for size in forms(w, h):
            for prefix in ("iiif-img", "iiif-img/v2", "thumbs", "thumbs/v2"):
                assert_static(anon.get(thumb_url(space, "sized", size, prefix)), stored)
    # the one-tile level, as OpenSeadragon asks for it, and the full size
    with open(os.path.join(d, "tiles", LEVEL_TILE), "rb") as f:
        tile = f.read()
    for size, prefix in (("150,100", "iiif-img"), ("150,", "iiif-img/v2"), ("!150,150", "iiif-img/v3")):
        assert_static(anon.get(thumb_url(space, "sized", size, prefix)), tile)
    with open(os.path.join(d, "thumbs", "600.jpg"), "rb") as f:
        stored = f.read()
    for size, prefix in (("max", "iiif-img"), ("max", "iiif-img/v2"), ("full", "iiif-img/v2")):
        assert_static(anon.get(thumb_url(space, "sized", size, prefix)), stored)
    # a re-ingest swaps in new files and aliases at once
    r = space.customer.api.put(space.image("sized"), json={
        "mediaType": "image/jpeg", "origin": origin.add(jpeg(300, 500))}, timeout=60)
    assert_resource(r, 200, "vocab:Image")
    got = aliases(storage_root, space, "sized")
    assert "!400,400.jpg>400.jpg" in got and "240,400.jpg>400.jpg" in got and "!600,600.jpg>600.jpg" not in got, got
    # nginx may keep the old file open for open_file_cache_valid (5 s)
    assert wait_until(lambda: anon.get(thumb_url(space, "sized", "240,400")).status_code == 200)


def test_publish_assets_adds_the_aliases_of_older_assets(space, origin, storage_root, anon, dlcs_var):
    ingest(space, origin, "older")
    d = os.path.join(asset_dir(storage_root, space, "older"), "thumbs")
    with open(os.path.join(d, "400.jpg"), "rb") as f:
        stored = f.read()
    # As if it had been stored before aliases existed, with one stale link,
    # and before full/ existed.
    for name in os.listdir(d):
        if os.path.islink(os.path.join(d, name)):
            os.unlink(os.path.join(d, name))
    os.symlink("100.jpg", os.path.join(d, "123,.jpg"))
    shutil.rmtree(os.path.join(asset_dir(storage_root, space, "older"), "full"))
    # dlcs-image answers meanwhile
    r = anon.get(thumb_url(space, "older", "!400,400"))
    assert r.status_code == 200 and r.content == stored, describe(r)

    rc, out = admin_command(dlcs_var, "publish-assets", str(space.customer.id))
    assert rc == 0, out
    assert "%d link(s) made" % (len(ALIASES) + len(FULL_ALIASES)) in out, out
    assert aliases(storage_root, space, "older") == ALIASES
    assert aliases(storage_root, space, "older", "full") == FULL_ALIASES
    assert os.path.islink(link_path(storage_root, "iiif-img", space, "older"))
    for prefix in ("iiif-img", "thumbs/v2"):
        r = anon.get(thumb_url(space, "older", "!400,400", prefix))
        assert r.status_code == 200 and r.content == stored, describe(r)
    # again: nothing to do
    rc, out = admin_command(dlcs_var, "publish-assets", str(space.customer.id))
    assert rc == 0 and "0 link(s) made" in out, out
    assert aliases(storage_root, space, "older") == ALIASES


def test_publish_assets_repairs_full(space, origin, storage_root, dlcs_var):
    """publish-assets replaces a wrong full/ link, removes a stale one (and
    an old-style alias in thumbs/ that /thumbs does not answer with its
    thumbnail), and leaves regular files alone."""
    ingest(space, origin, "repair-full")
    d = asset_dir(storage_root, space, "repair-full")
    full, thumbs = os.path.join(d, "full"), os.path.join(d, "thumbs")
    os.unlink(os.path.join(full, "max.jpg"))
    os.symlink("../thumbs/100.jpg", os.path.join(full, "max.jpg"))       # wrong
    os.symlink("../thumbs/400.jpg", os.path.join(full, "300,.jpg"))      # stale
    os.symlink("600.jpg", os.path.join(thumbs, "max.jpg"))               # not a /thumbs alias
    with open(os.path.join(full, "notes.jpg"), "w") as f:
        f.write("a regular file is never touched")
    rc, out = admin_command(dlcs_var, "publish-assets", str(space.customer.id))
    assert rc == 0 and "1 link(s) made" in out, out
    assert aliases(storage_root, space, "repair-full", "full") == FULL_ALIASES
    assert aliases(storage_root, space, "repair-full") == ALIASES
    assert os.path.isfile(os.path.join(full, "notes.jpg")) and not os.path.islink(os.path.join(full, "notes.jpg"))


# ---------------------------------------------------------------- what nginx must not expose

def test_storage_is_not_reachable_directly(space, origin, storage_root, anon):
    ingest(space, origin, "private-files", roles=[role_uri(space.customer)])
    ingest(space, origin, "open-neighbour")
    c, s = space.customer.id, space.id
    for path in ("/dlcs-storage/%d/%d/private-files/original" % (c, s),
                 "/dlcs-storage/%d/%d/private-files/tiles/%s" % (c, s, TILE_FILE),
                 "/public/iiif-img/%d/%d/open-neighbour/tiles/%s" % (c, s, TILE_FILE),
                 "/%d/%d/private-files/original" % (c, s)):
        r = anon.get(path)
        assert r.status_code == 404, describe(r)
    # Through the link of an open neighbour, climbing back out of it: the
    # URL is normalised first, so it names the restricted asset's own tile.
    for trick in ("open-neighbour/..%2Fprivate-files", "open-neighbour%2F..%2Fprivate-files",
                  "open-neighbour/../private-files"):
        r = anon.get("/iiif-img/%d/%d/%s/%s" % (c, s, trick, TILE_V3))
        assert r.status_code != 200, describe(r)


def test_unknown_customer_name_is_not_served(anon):
    r = anon.get("/iiif-img/%s/1/nothing/%s" % (uniq("nobody"), TILE_V3))
    assert r.status_code != 200, describe(r)
