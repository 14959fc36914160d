"""The queue API (CONTRACT section 6, seeds/queues.txt): batches posted to
a customer's queue and priority queue, their resources and collections, the
customer queue and the global queue, whole-batch validation (nothing stored
when one member is bad), limits and authorisation. Origins are served by the
loopback origin (origin.py); a gate holds fetches so that the waiting state
can be observed exactly."""

import threading
import time

import pytest

from helpers import (assert_collection, assert_error, assert_resource, create_space, describe, json_body)
from origin import (UUID_RE, batch_ids, collection, config_int, get_asset, jpeg, member, submit, wait_batch)

SMALL = jpeg(40, 30)


def queue_of(customer):
    return assert_resource(customer.api.get(customer.path + "/queue"), 200, "vocab:CustomerQueue",
                           customer.path + "/queue")


def coll(customer, path, member_type=None):
    return assert_collection(customer.api.get(path, params={"pageSize": 500}), member_type)


def assert_nothing_stored(space, ids):
    c = space.customer
    sp = assert_resource(c.api.get(space.path), 200, "vocab:Space")
    assert sp["approximateNumberOfImages"] == 0, "a rejected batch stored assets: %s" % sp
    for i in ids:
        if i:
            r = c.api.get(space.image(i))
            assert r.status_code == 404, "a rejected batch stored %s: %s" % (i, describe(r))
    assert coll(c, c.path + "/queue/batches")["totalItems"] == 0, "a rejected batch was recorded"
    assert queue_of(c)["size"] == 0


# ---------------------------------------------------------------- batches

def test_post_batch_is_201_with_a_batch_and_stores_the_assets(space, origin):
    c = space.customer
    gate = threading.Event()
    try:
        urls = [origin.add(SMALL, gate=gate) for _ in range(3)]
        members = [member(space, "b-%d" % i, u) for i, u in enumerate(urls)]
        members[0].update({"string1": "first", "tags": ["t1"], "number2": 7})
        b = submit(c, members)
        assert (b["count"], b["completed"], b["errors"], b["superseded"]) == (3, 0, 0, False), b
        assert "finished" not in b, b
        assert isinstance(b["submitted"], str) and b["submitted"].endswith("Z"), b
        for link in ("images", "completedImages", "errorImages", "test"):
            assert b[link] == b["@id"] + "/" + link, b
        assert assert_resource(c.api.follow(b["@id"]), 200, "vocab:Batch")["@id"] == b["@id"]
        a0 = get_asset(space, "b-0")
        assert (a0["string1"], a0["tags"], a0["number2"]) == ("first", ["t1"], 7), a0
        assert a0["batch"] == b["@id"], a0
        assert a0["ingesting"] is True and "width" not in a0, a0
        assert sorted(batch_ids(c, b["images"])) == ["b-0", "b-1", "b-2"]
        assert batch_ids(c, b["completedImages"]) == [] and batch_ids(c, b["errorImages"]) == []
    finally:
        gate.set()
    done = wait_batch(c, b)
    assert (done["count"], done["completed"], done["errors"], done["superseded"]) == (3, 3, 0, False), done
    assert sorted(batch_ids(c, done["completedImages"])) == ["b-0", "b-1", "b-2"]
    for i in range(3):
        a = get_asset(space, "b-%d" % i)
        assert (a["width"], a["height"], a["ingesting"]) == (40, 30, False), a


def test_customer_queue_counts_waiting_work_and_links(space, origin):
    c = space.customer
    q = queue_of(c)
    assert (q["size"], q["batchesWaiting"], q["imagesWaiting"]) == (0, 0, 0), q
    for link in ("batches", "images", "active", "recent", "priority"):
        assert q[link] == q["@id"] + "/" + link, q
    gate = threading.Event()
    try:
        b = submit(c, [member(space, "w-%d" % i, origin.add(SMALL, gate=gate)) for i in range(4)])
        q = queue_of(c)
        assert (q["size"], q["batchesWaiting"], q["imagesWaiting"]) == (4, 1, 4), q
        waiting = coll(c, c.path + "/queue/images", "vocab:Image")
        assert sorted(m["id"] for m in waiting["member"]) == ["w-0", "w-1", "w-2", "w-3"], waiting
        active = coll(c, c.path + "/queue/active", "vocab:Batch")
        assert [m["@id"] for m in active["member"]] == [b["@id"]], active
        assert coll(c, c.path + "/queue/recent")["totalItems"] == 0
        assert [m["@id"] for m in coll(c, c.path + "/queue/batches", "vocab:Batch")["member"]] == [b["@id"]]
    finally:
        gate.set()
    done = wait_batch(c, b)
    q = queue_of(c)
    assert (q["size"], q["batchesWaiting"], q["imagesWaiting"]) == (0, 0, 0), q
    assert coll(c, c.path + "/queue/images")["totalItems"] == 0
    assert coll(c, c.path + "/queue/active")["totalItems"] == 0
    recent = coll(c, c.path + "/queue/recent", "vocab:Batch")
    assert [m["@id"] for m in recent["member"]] == [b["@id"]], recent
    assert recent["member"][0]["finished"] == done["finished"]


def test_batches_are_listed_newest_first(space, origin):
    c = space.customer
    b1 = submit(c, [member(space, "n1", origin.add(SMALL))])
    b2 = submit(c, [member(space, "n2", origin.add(SMALL)), member(space, "n3", origin.add(SMALL))])
    b3 = submit(c, [member(space, "n4", origin.add(SMALL))], priority=True)
    listed = coll(c, c.path + "/queue/batches", "vocab:Batch")
    assert listed["totalItems"] == 3
    assert [m["@id"] for m in listed["member"]] == [b3["@id"], b2["@id"], b1["@id"]], listed
    assert [m["count"] for m in listed["member"]] == [1, 2, 1]
    for b in (b1, b2, b3):
        wait_batch(c, b)
    recent = coll(c, c.path + "/queue/recent", "vocab:Batch")
    assert {m["@id"] for m in recent["member"]} == {b1["@id"], b2["@id"], b3["@id"]}
    assert [m["finished"] for m in recent["member"]] == sorted((m["finished"] for m in recent["member"]),
                                                              reverse=True), "recent is newest first"


def test_resubmitted_assets_supersede_the_older_batch_and_test_recomputes(space, origin):
    c = space.customer
    urls = [origin.add(SMALL) for _ in range(2)]
    a = wait_batch(c, submit(c, [member(space, "s-%d" % i, u) for i, u in enumerate(urls)]))
    b = wait_batch(c, submit(c, [member(space, "s-%d" % i, u) for i, u in enumerate(urls)]))
    assert (a["completed"], b["completed"]) == (2, 2)
    for i in range(2):
        assert get_asset(space, "s-%d" % i)["batch"] == b["@id"]
        assert origin.count(urls[i]) == 2, "each submission is ingested once"

    r = c.api.post(a["test"])
    assert json_body(r, 200).keys() == {"success"} and type(r.json()["success"]) is bool, describe(r)
    a2 = assert_resource(c.api.follow(a["@id"]), 200, "vocab:Batch")
    assert a2["superseded"] is True, a2
    assert (a2["count"], a2["completed"], a2["errors"], a2["finished"]) == (2, 2, 0, a["finished"]), a2
    r = c.api.post(a["test"])
    assert json_body(r, 200) == {"success": False}, "nothing left to change: %s" % describe(r)
    assert batch_ids(c, a["images"]) == [], "the assets belong to the newer batch now"
    assert sorted(batch_ids(c, a["completedImages"])) == ["s-0", "s-1"], "the history stays"

    r = c.api.post(b["test"])
    assert json_body(r, 200) == {"success": False}, describe(r)
    b2 = assert_resource(c.api.follow(b["@id"]), 200, "vocab:Batch")
    assert b2["superseded"] is False and b2["finished"] == b["finished"], b2
    recent = coll(c, c.path + "/queue/recent", "vocab:Batch")
    assert [m["@id"] for m in recent["member"]] == [b["@id"]], "a superseded batch is not recent: %s" % recent
    assert coll(c, c.path + "/queue/batches")["totalItems"] == 2


def test_missing_batch_is_404(customer, make_customer, origin):
    assert_error(customer.api.get(customer.path + "/queue/batches/999999999"), 404)
    assert_error(customer.api.get(customer.path + "/queue/batches/999999999/images"), 404)
    assert_error(customer.api.post(customer.path + "/queue/batches/999999999/test"), 404)
    # another customer's batch is not found under this customer (as admin too)
    other = make_customer()
    sp = create_space(other)
    b = submit(other, [member(sp, "x", origin.add(SMALL))])
    bid = b["@id"].rsplit("/", 1)[1]
    assert_error(customer.api.get(customer.path + "/queue/batches/" + bid), 404)
    wait_batch(other, b)


def test_get_on_priority_queue_is_405(customer):
    r = customer.api.get(customer.path + "/queue/priority")
    assert_error(r, 405)
    assert "POST" in {m.strip() for m in r.headers["Allow"].split(",")}, r.headers


def test_global_queue_is_anonymous_and_counts_main_and_priority(anon, space, origin):
    def glob():
        return assert_resource(anon.get("/queue"), 200, "vocab:Queue")
    # Wait until earlier work (of any test) has drained, so counts are exact.
    deadline = time.time() + 60
    g = glob()
    while (g["incoming"], g["priority"]) != (0, 0) and time.time() < deadline:
        time.sleep(0.2)
        g = glob()
    assert (g["incoming"], g["priority"], g["success"], g["failed"]) == (0, 0, 0, 0), g
    c = space.customer
    gate = threading.Event()
    try:
        main = submit(c, [member(space, "g-%d" % i, origin.add(SMALL, gate=gate)) for i in range(3)])
        prio = submit(c, [member(space, "gp-%d" % i, origin.add(SMALL, gate=gate)) for i in range(2)],
                      priority=True)
        g = glob()
        assert (g["incoming"], g["priority"], g["success"], g["failed"]) == (3, 2, 0, 0), g
        assert queue_of(c)["size"] == 5
    finally:
        gate.set()
    wait_batch(c, main)
    wait_batch(c, prio)
    g = glob()
    assert (g["incoming"], g["priority"], g["success"], g["failed"]) == (0, 0, 0, 0), g


# ---------------------------------------------------------------- validation

BAD_MEMBERS = [
    ({"width": 10}, "width"),
    ({"id": "bad/id"}, None),
    ({"mediaType": None}, "mediaType"),
    ({"string1": 5}, "string1"),
    ({"deliveryChannels": []}, "deliveryChannels"),
    ({"thumbnailPolicy": "x"}, "thumbnailPolicy"),
    ({"origin": None}, "origin"),
    ({"origin": "ftp://example.org/x.jpg"}, "origin"),
]


@pytest.mark.parametrize("change,field", BAD_MEMBERS, ids=[f or "id" for _, f in BAD_MEMBERS])
def test_one_bad_member_rejects_the_whole_batch(space, origin, change, field):
    members = [member(space, "ok-%d" % i, origin.add(SMALL)) for i in range(4)]
    members[2].update(change)
    members[2] = {k: v for k, v in members[2].items() if v is not None}
    r = space.customer.api.post(space.customer.path + "/queue", json=collection(members))
    e = assert_error(r, 400, field)
    assert e["description"].startswith("member 2"), "the description must name the member: %s" % describe(r)
    assert_nothing_stored(space, ["ok-0", "ok-1", "ok-3"])


def test_duplicate_ids_in_one_batch_are_400(space, origin):
    members = [member(space, i, origin.add(SMALL)) for i in ("d-a", "d-b", "d-a")]
    r = space.customer.api.post(space.customer.path + "/queue", json=collection(members))
    e = assert_error(r, 400)
    assert e["description"].startswith("member 2") and "d-a" in e["description"], describe(r)
    assert_nothing_stored(space, ["d-a", "d-b"])


def test_same_id_in_two_spaces_is_not_a_duplicate(space, origin):
    c = space.customer
    other = create_space(c)
    b = submit(c, [member(space, "same", origin.add(SMALL)), member(other, "same", origin.add(SMALL))])
    done = wait_batch(c, b)
    assert (done["completed"], done["errors"]) == (2, 0), done
    assert get_asset(space, "same")["space"] == space.id
    assert get_asset(other, "same")["space"] == other.id


def test_member_without_id_gets_a_uuid(space, origin):
    c = space.customer
    m = member(space, None, origin.add(SMALL))
    del m["id"]
    b = submit(c, [m, member(space, "named", origin.add(SMALL))])
    done = wait_batch(c, b)
    got = sorted(batch_ids(c, done["completedImages"]))
    assert len(got) == 2 and "named" in got, got
    minted = [i for i in got if i != "named"][0]
    assert UUID_RE.fullmatch(minted), "%r is not a UUID" % minted
    a = get_asset(space, minted)
    assert (a["width"], a["height"], a["ingesting"]) == (40, 30, False), a


def test_member_in_a_missing_space_is_400(space, origin):
    members = [member(space, "ms-0", origin.add(SMALL)), member(space, "ms-1", origin.add(SMALL))]
    members[1]["space"] = space.id + 1000
    r = space.customer.api.post(space.customer.path + "/queue", json=collection(members))
    e = assert_error(r, 400)
    assert e["description"].startswith("member 1") and "space" in e["description"], describe(r)
    assert_nothing_stored(space, ["ms-0", "ms-1"])


def test_member_without_space_is_400(space, origin):
    members = [member(space, "ns-0", origin.add(SMALL))]
    del members[0]["space"]
    e = assert_error(space.customer.api.post(space.customer.path + "/queue", json=collection(members)), 400, "space")
    assert e["description"].startswith("member 0"), e
    assert_nothing_stored(space, ["ns-0"])


def test_batch_over_the_size_limit_is_400_and_at_the_limit_is_accepted(space, origin, stack_config):
    c = space.customer
    limit = config_int(stack_config, "queue_max_batch", 1000)
    # channel "none": nothing to fetch or make, so the runners drain it fast
    url = origin.add(SMALL)
    members = [member(space, "m%05d" % i, url, deliveryChannels=["none"]) for i in range(limit + 1)]
    r = c.api.post(c.path + "/queue", json=collection(members), timeout=120)
    e = assert_error(r, 400, "member")
    assert str(limit) in e["description"], describe(r)
    assert_nothing_stored(space, ["m00000"])
    b = submit(c, members[:limit])
    assert b["count"] == limit
    done = wait_batch(c, b, timeout=120)
    assert (done["completed"], done["errors"]) == (limit, 0), done
    sp = assert_resource(c.api.get(space.path), 200, "vocab:Space")
    assert sp["approximateNumberOfImages"] == limit


def test_priority_queue_refuses_audio_and_video(space, origin):
    c = space.customer
    for media in ("audio/mpeg", "video/mp4"):
        members = [member(space, "pv-0", origin.add(SMALL)), member(space, "pv-1", origin.url("/x.mp4"), media=media)]
        r = c.api.post(c.path + "/queue/priority", json=collection(members))
        e = assert_error(r, 400)
        assert e["description"].startswith("member 1"), describe(r)
        assert_nothing_stored(space, ["pv-0", "pv-1"])
    members = [member(space, "pv-0", origin.add(SMALL)),
               member(space, "pv-1", origin.url("/x.mp4"), media="audio/mpeg", deliveryChannels=["iiif-av"])]
    r = c.api.post(c.path + "/queue/priority", json=collection(members))
    assert_error(r, 400)
    assert_nothing_stored(space, ["pv-0", "pv-1"])


def test_another_customers_key_is_401(make_customer, origin):
    a, b = make_customer(), make_customer()
    sp = create_space(a)
    batch = submit(a, [member(sp, "mine", origin.add(SMALL))])
    bid = batch["@id"].rsplit("/", 1)[1]
    body = collection([member(sp, "theirs", origin.add(SMALL))])
    for method, path in (("post", "/queue"), ("post", "/queue/priority"), ("get", "/queue"),
                         ("get", "/queue/batches"), ("get", "/queue/batches/" + bid),
                         ("get", "/queue/batches/%s/images" % bid), ("post", "/queue/batches/%s/test" % bid),
                         ("get", "/queue/images"), ("get", "/queue/active"), ("get", "/queue/recent")):
        kw = {"json": body} if method == "post" and not path.endswith("/test") else {}
        assert_error(getattr(b.api, method)(a.path + path, **kw), 401)
    assert coll(a, a.path + "/queue/batches")["totalItems"] == 1
    r = a.api.get(sp.image("theirs"))
    assert r.status_code == 404, describe(r)
    wait_batch(a, batch)


def test_anonymous_customer_queue_is_401(anon, customer):
    assert_error(anon.get(customer.path + "/queue"), 401)
    assert_error(anon.post(customer.path + "/queue", json=collection([])), 401)
