"""Stored manifests of named queries (handlers/asset/manifest_store.h): the
API keeps each manifest it builds as a file and, for every later request,
runs the query again for its assets' row versions and lets nginx send the
file only when the query still selects exactly what it was built from.
These tests check that a stored manifest is used (nginx sends it: the answer
has a Last-Modified, the worker's has none), that every kind of change shows
in the very next answer, that restricted manifests are never stored, and
that the stored files cannot be reached from outside."""

import glob
import os
import threading
import time

import pytest

from helpers import assert_error, create_space, describe, put_asset, role_uri
from origin import jpeg, member, submit, wait_batch

P3 = "http://iiif.io/api/presentation/3/context.json"


def stored_files(storage_root, c):
    return glob.glob(os.path.join(storage_root, "manifests", str(c.id), "*", "*.json"))


def get(anon, path, **kw):
    r = anon.get(path, **kw)
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == "*", r.headers
    assert r.headers.get("Vary") == "Accept", r.headers
    assert r.headers["Content-Type"].startswith("application/ld+json;profile="), r.headers
    return r


def from_store(r):
    """nginx sent a stored file (with the file's Last-Modified); a body the
    worker wrote has none."""
    return "Last-Modified" in r.headers


def ids(r):
    return [c["id"].rsplit("/canvas/", 1)[0].rsplit("/", 1)[1] for c in r.json()["items"]]


def meta(r, i, label):
    return {m["label"]["none"][0]: m["value"]["none"][0] for m in r.json()["items"][i]["metadata"]}[label]


@pytest.fixture()
def shelf(make_customer, origin):
    c = make_customer("mstore")
    space = create_space(c)
    url = origin.add(jpeg(320, 240))
    for aid, n in (("s-b", 2), ("s-a", 1), ("s-c", 3)):
        put_asset(space, aid, origin=url, string1="shelf", number1=n)
    return space


def test_second_answer_is_the_stored_file(anon, shelf, storage_root):
    c = shelf.customer
    path = "/iiif-resource/%d/manifest/shelf" % c.id
    first = get(anon, path)
    assert not from_store(first) and ids(first) == ["s-a", "s-b", "s-c"]
    files = stored_files(storage_root, c)
    assert len(files) == 1, files
    with open(files[0], "rb") as f:
        assert f.read() == first.content
    assert os.stat(files[0]).st_mode & 0o777 == 0o644
    second = get(anon, path)
    assert from_store(second), second.headers
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"] == first.headers["Cache-Control"] == "public, max-age=3600"
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    # the application's own headers to nginx stay between them
    assert not [h for h in second.headers if h.lower().startswith(("x-dlcs-", "x-accel"))], second.headers
    # If-None-Match: 304 with the validators, no body
    r = anon.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 304 and not r.content, describe(r)
    assert r.headers["ETag"] == first.headers["ETag"]
    # an If-Modified-Since of the file's time does not stand in for the ETag
    r = anon.get(path, headers={"If-Modified-Since": second.headers["Last-Modified"]})
    assert r.status_code == 200 and r.content == first.content, describe(r)
    # HEAD and a range of the stored file
    r = anon.head(path)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(first.content), describe(r)
    r = anon.get(path, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == first.content[:10], describe(r)


def test_each_kind_of_change_shows_at_once(anon, shelf, origin, storage_root):
    """Every write of an asset row gives it a new version: PATCH of metadata,
    roles on and off, a reingest, allImages' manifests, a new asset, a
    deletion, a batch; and the named query's own template."""
    c, space = shelf.customer, shelf
    path = "/iiif-resource/%d/manifest/shelf" % c.id
    seen = set()

    def answer(expect_ids):
        # twice: the first may be built, the second is the stored file
        for _ in range(2):
            r = get(anon, path)
            assert ids(r) == expect_ids, (ids(r), expect_ids)
        assert from_store(r) or r.headers["Cache-Control"].startswith("private"), r.headers
        etag = r.headers["ETag"]
        assert etag not in seen, "an ETag came back for other content"
        seen.add(etag)
        return r

    answer(["s-a", "s-b", "s-c"])
    r = c.api.patch(space.image("s-b"), json={"string2": "changed"})
    assert r.status_code == 200, describe(r)
    assert meta(answer(["s-a", "s-b", "s-c"]), 1, "String 2") == "changed"
    # restricted: not stored (private), then open again
    r = c.api.patch(space.image("s-a"), json={"roles": [role_uri(c)]})
    assert r.status_code == 200, describe(r)
    r = answer(["s-a", "s-b", "s-c"])
    assert r.headers["Cache-Control"] == "private, max-age=3600" and not from_store(r)
    r = c.api.patch(space.image("s-a"), json={"roles": []})
    assert r.status_code == 200, describe(r)
    assert answer(["s-a", "s-b", "s-c"]).headers["Cache-Control"] == "public, max-age=3600"
    # a reingest from a larger image
    put_asset(space, "s-c", status=200, origin=origin.add(jpeg(640, 480)), string1="shelf", number1=3)
    r = answer(["s-a", "s-b", "s-c"])
    assert (r.json()["items"][2]["width"], r.json()["items"][2]["height"]) == (640, 480)
    # allImages: manifests added by query
    r = c.api.patch(c.path + "/allImages", json={"member": [{"id": "%d/%d/s-a" % (c.id, space.id)}],
                                                 "field": "manifests", "operation": "add", "value": ["m-1"]})
    assert r.status_code == 200, describe(r)
    assert meta(answer(["s-a", "s-b", "s-c"]), 0, "String 1") == "shelf"
    assert '"m-1"' in c.api.get(space.image("s-a")).text
    # a new asset, a deletion, a reorder
    put_asset(space, "s-0", origin=origin.add(jpeg(64, 48)), string1="shelf", number1=0)
    answer(["s-0", "s-a", "s-b", "s-c"])
    r = c.api.delete(space.image("s-b"))
    assert r.status_code in (200, 204), describe(r)
    answer(["s-0", "s-a", "s-c"])
    r = c.api.patch(space.image("s-0"), json={"number1": 9})
    assert r.status_code == 200, describe(r)
    answer(["s-a", "s-c", "s-0"])
    # a batch that takes the assets over (its batch-query lists them)
    b = submit(c, [member(space, "s-a", origin.add(jpeg(64, 48)), string1="shelf", number1=1)])
    assert wait_batch(c, b, timeout=120)["completed"] == 1
    answer(["s-a", "s-c", "s-0"])
    batch = int(b["@id"].rstrip("/").rsplit("/", 1)[1])
    r = get(anon, "/iiif-resource/%d/batch-query/%d" % (c.id, batch))
    assert ids(r) == ["s-a"]
    # the named query's template: another query, another manifest
    r = c.api.post(c.path + "/namedQueries", json={"name": "shelf-q", "template": "s1=p1&canvas=n1"})
    assert r.status_code == 201, describe(r)
    qpath = "/iiif-resource/%d/shelf-q/shelf" % c.id
    assert ids(get(anon, qpath)) == ["s-a", "s-c", "s-0"]
    assert ids(get(anon, qpath)) == ["s-a", "s-c", "s-0"]
    r = c.api.put(c.path + "/namedQueries/" + r.json()["id"], json={"template": "s1=p1&canvas=n1 desc"})
    assert r.status_code == 200, describe(r)
    assert ids(get(anon, qpath)) == ["s-0", "s-c", "s-a"]


def test_restricted_manifest_is_never_stored(anon, make_customer, origin, storage_root):
    c = make_customer("mstore-r")
    space = create_space(c)
    put_asset(space, "r", origin=origin.add(jpeg(64, 48)), string1="closed", roles=[role_uri(c)])
    for _ in range(3):
        r = get(anon, "/iiif-resource/%d/manifest/closed" % c.id)
        assert r.headers["Cache-Control"] == "private, max-age=3600" and not from_store(r)
    assert stored_files(storage_root, c) == []


def test_request_variants_are_stored_apart(anon, shelf, storage_root):
    """The ids in a manifest come from the request (base URL, customer part,
    version): each variant has its own file, never another's."""
    c = shelf.customer
    variants = [("/iiif-resource/%d/manifest/shelf" % c.id, {}),
                ("/iiif-resource/%s/manifest/shelf" % c.name, {}),
                ("/iiif-resource/%d/manifest/shelf" % c.id, {"X-Forwarded-Proto": "https"}),
                ("/iiif-resource/v2/%d/manifest/shelf" % c.id, {})]
    firsts = [anon.get(p, headers=h) for p, h in variants]
    for (p, h), first in zip(variants, firsts):
        assert first.status_code == 200, describe(first)
        again = anon.get(p, headers=h)
        assert from_store(again) and again.content == first.content, (p, h)
        j = again.json()
        assert j.get("id", j.get("@id")).endswith(p)
    assert len({f.content for f in firsts}) == 4
    assert len(stored_files(storage_root, c)) == 4


def test_stored_files_are_not_reachable(anon, shelf, storage_root):
    c = shelf.customer
    get(anon, "/iiif-resource/%d/manifest/shelf" % c.id)
    (f,) = stored_files(storage_root, c)
    rel = os.path.relpath(f, os.path.join(storage_root, "manifests"))
    for path in ("/dlcs-manifests/" + rel, "/dlcs-storage/manifests/" + rel, "/manifests/" + rel,
                 "/iiif-resource/%d/manifest/shelf/../../../../dlcs-manifests/%s" % (c.id, rel),
                 "/iiif-resource/%d/manifest/%%2E%%2E%%2Fdlcs-manifests%%2F%s" % (c.id, rel.replace("/", "%2F"))):
        r = anon.get(path)
        assert r.status_code in (400, 404), describe(r)
        assert P3 not in r.text


def test_lost_file_is_made_again(anon, shelf, storage_root):
    c = shelf.customer
    path = "/iiif-resource/%d/manifest/shelf" % c.id
    first = get(anon, path)
    (f,) = stored_files(storage_root, c)
    os.unlink(f)
    r = get(anon, path)
    assert r.content == first.content and not from_store(r)
    assert from_store(get(anon, path))
    # a file unused for longer than the API sends is made again, not sent
    old = time.time() - 541
    os.utime(f, (old, old))
    r = get(anon, path)
    assert not from_store(r) and r.content == first.content
    assert os.stat(f).st_mtime > old + 500


def test_no_stale_answer_under_load(anon, base, shelf):
    """Four clients ask for the manifest all the time while an asset's
    string2 changes ten times: every answer to a request made after a
    change's PATCH returned shows that change or a later one."""
    from helpers import Api
    c, space = shelf.customer, shelf
    path = "/iiif-resource/%d/manifest/shelf" % c.id
    state = {"done": False, "bad": [], "count": 0, "version": 0}
    lock = threading.Lock()

    def client():
        s = Api(base)
        while not state["done"]:
            with lock:
                floor = state["version"]
            r = s.get(path)
            if r.status_code != 200:
                state["bad"].append(describe(r))
                continue
            v = int(meta(r, 1, "String 2") or "0")
            with lock:
                state["count"] += 1
                if v < floor:
                    state["bad"].append("saw %d after %d was written" % (v, floor))
        s.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for v in range(1, 11):
            time.sleep(0.2)
            r = c.api.patch(space.image("s-b"), json={"string2": str(v)})
            assert r.status_code == 200, describe(r)
            with lock:
                state["version"] = v
        time.sleep(0.3)
    finally:
        state["done"] = True
        for t in threads:
            t.join()
    assert not state["bad"], state["bad"][:5]
    assert state["count"] > 40, state["count"]
    assert_error(anon.get("/iiif-resource/%d/manifest/no-such-shelf" % c.id), 404)


def test_hostile_requests_get_no_other_answer(anon, shelf, make_customer, storage_root):
    """What a request sends goes only into the hash of its own file: a
    forged Host gets its own manifest and never gives it to others; bad
    bytes in the arguments are refused or select nothing (no file made);
    another customer's path never gets this customer's manifest."""
    c = shelf.customer
    path = "/iiif-resource/%d/manifest/shelf" % c.id
    for _ in range(2):
        r = anon.get(path, headers={"Host": "evil.example"})
        assert r.status_code == 200 and "http://evil.example/" in r.text, describe(r)
    for _ in range(2):
        r = get(anon, path)
        assert "evil.example" not in r.text
    assert from_store(r)
    before = set(stored_files(storage_root, c))
    for arg, statuses in (("%FF", (400,)), ("%00", (400,)), ("%C0%AE%C0%AE", (400,)),
                          ("a%0D%0Ab", (404,)), ("..%2F..%2Fshelf", (404,)), ("%2E%2E", (400, 404)),
                          ("x" * 3000, (404,))):
        for _ in range(2):
            r = anon.get("/iiif-resource/%d/manifest/%s" % (c.id, arg))
            assert r.status_code in statuses, describe(r)
            assert "Last-Modified" not in r.headers, r.headers
            if r.status_code == 404:  # the handler's; the core's 400 names no cache rule
                assert r.headers.get("Cache-Control") == "no-store", r.headers
    assert set(stored_files(storage_root, c)) == before
    # another customer: its own (empty) result, not this one's stored file
    other = make_customer("mstore-other")
    for p in ("/iiif-resource/%d/manifest/shelf" % other.id,
              "/iiif-resource/%s/manifest/shelf" % other.name):
        r = anon.get(p)
        assert r.status_code == 404 and "s-a" not in r.text, describe(r)
    assert stored_files(storage_root, other) == []
