"""The queue runners (CONTRACT section 6: work is never lost, ingested once
per submission, shared without double work): runners killed with SIGKILL in
the middle of a batch, several runners on one queue, priority batches and
synchronous ingests overtaking a waiting batch, and an origin slower than
the lease. The runner pool is the stack's own: its supervisor
(run/runner.pid) replaces each killed runner at once (tests/e2e/pools.py)."""

import threading
import time

import pools
from helpers import assert_resource, describe
from origin import (batch_ids, config_int, get_asset, get_batch, jpeg, member, parse_time, submit, wait_batch)

SMALL = jpeg(64, 48)


# ---------------------------------------------------------------- the runner pool

def live_runners(dlcs_var):
    """The pids of the live dlcs-runner workers of the stack's runner pool."""
    return pools.workers(dlcs_var, "runner")


# ---------------------------------------------------------------- kill -9

def test_runners_killed_mid_batch_lose_no_work(space, origin, dlcs_var, stack_config):
    c = space.customer
    lease = config_int(stack_config, "runner_lease_seconds", 120)
    pids = live_runners(dlcs_var)
    assert pids, "no live dlcs-runner under the supervisor of %s/run/runner.pid" % dlcs_var
    n_runners = len(pids)
    assert n_runners == pools.size(dlcs_var, "runner"), (pids, pools.size(dlcs_var, "runner"))

    n = 200
    urls = {"k%03d" % i: origin.add(SMALL, delay=0.06) for i in range(n)}
    batch = submit(c, [member(space, aid, url) for aid, url in urls.items()])

    kills = 0
    killed = set()
    rounds = 3
    for rnd in range(rounds):
        # let the batch make progress under the current pool, then kill it
        want = 40 * (rnd + 1)
        deadline = time.time() + 60 + lease
        b = get_batch(c, batch)
        while b["completed"] + b["errors"] < want:
            assert time.time() < deadline, "no progress to %d after the restart: %s" % (want, b)
            time.sleep(0.1)
            b = get_batch(c, batch)
        assert "finished" not in b, "the batch finished before kill round %d; slow the origin down" % rnd
        victims = live_runners(dlcs_var)
        assert len(victims) == n_runners, "runner pool is %s, expected %d runners" % (victims, n_runners)
        for i, pid in enumerate(victims):
            if i:
                time.sleep(0.7)  # the others go on working meanwhile
            pools.kill_worker(dlcs_var, "runner", pid)
            kills += 1
            killed.add(pid)
        # the supervisor has put fresh runners in their place
        took = pools.wait_full(dlcs_var, "runner", 2.0, without=killed)
        fresh = live_runners(dlcs_var)
        assert took is not None and len(fresh) == n_runners and not (set(fresh) & killed), \
            "runner pool 2 s after the kills: %s (killed %s)" % (fresh, sorted(killed))

    done = wait_batch(c, batch, timeout=120 + 2 * lease)
    assert (done["count"], done["completed"], done["errors"]) == (n, n, 0), done
    assert sorted(batch_ids(c, done["completedImages"])) == sorted(urls)
    assert batch_ids(c, done["errorImages"]) == []
    sizes = thumbs = 0
    for aid in urls:
        a = get_asset(space, aid)
        assert (a.get("width"), a.get("height"), a["ingesting"]) == (64, 48, False), a
        assert "error" not in a and isinstance(a.get("finished"), str), a
        st = assert_resource(c.api.get(space.image(aid) + "/storage"), 200, "vocab:ImageStorage")
        assert st["size"] > 0 and st["thumbnailSize"] > 0, (aid, st)
        sizes += st["size"]
        thumbs += st["thumbnailSize"]
    # each outcome recorded once: the totals are the sum of the assets'
    tot = assert_resource(c.api.get(c.path + "/storage"), 200, "vocab:CustomerStorage")
    assert (tot["numberOfStoredImages"], tot["totalSizeOfStoredImages"], tot["totalSizeOfThumbnails"]) == \
        (n, sizes, thumbs), tot
    counts = origin.counts(urls.values())
    never = [u for u, k in counts.items() if k == 0]
    assert not never, "%d assets completed without a fetch" % len(never)
    total = sum(counts.values())
    assert total <= n + kills, "%d fetches for %d assets and %d kills: only an item in flight at a kill " \
        "may be fetched again (refetched: %s)" % (total, n, kills, {u: k for u, k in counts.items() if k > 1})
    q = assert_resource(c.api.get(c.path + "/queue"), 200, "vocab:CustomerQueue")
    assert (q["size"], q["batchesWaiting"], q["imagesWaiting"]) == (0, 0, 0), q
    assert len(live_runners(dlcs_var)) == n_runners


# ---------------------------------------------------------------- several runners

def test_runners_share_the_queue_without_double_work(space, origin, dlcs_var):
    c = space.customer
    n_runners = len(live_runners(dlcs_var))
    assert n_runners >= 2, "this test needs at least 2 runners (DLCS_RUNNERS), found %d" % n_runners

    # While fetches are held, each runner holds exactly one item: as many
    # concurrent fetches as runners, and no item fetched twice.
    gate = threading.Event()
    try:
        held = {"h%d" % i: origin.add(SMALL, gate=gate) for i in range(n_runners + 2)}
        hb = submit(c, [member(space, aid, url) for aid, url in held.items()])
        deadline = time.time() + 3
        while sum(origin.counts(held.values()).values()) < n_runners and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        counts = origin.counts(held.values())
        assert sum(counts.values()) == n_runners and max(counts.values()) == 1, \
            "with fetches held, %d runners fetched %s" % (n_runners, sorted(counts.values()))
    finally:
        gate.set()
    done = wait_batch(c, hb)
    assert (done["completed"], done["errors"]) == (len(held), 0), done
    assert all(k == 1 for k in origin.counts(held.values()).values())

    n = 60
    urls = {"r%02d" % i: origin.add(SMALL) for i in range(n)}
    batch = submit(c, [member(space, aid, url) for aid, url in urls.items()])
    done = wait_batch(c, batch, timeout=90)
    assert (done["count"], done["completed"], done["errors"]) == (n, n, 0), done
    counts = origin.counts(urls.values())
    assert all(k == 1 for k in counts.values()), "fetched more than once: %s" % {
        u: k for u, k in counts.items() if k != 1}
    for aid in urls:
        a = get_asset(space, aid)
        assert (a["width"], a["height"], a["ingesting"]) == (64, 48, False) and "error" not in a, a


def test_priority_batch_and_sync_put_overtake_a_waiting_batch(space, origin):
    c = space.customer
    slow = {"slow%02d" % i: origin.add(SMALL, delay=0.05) for i in range(80)}
    normal = submit(c, [member(space, aid, url) for aid, url in slow.items()])
    fast = {"prio%d" % i: origin.add(SMALL) for i in range(5)}
    prio = submit(c, [member(space, aid, url) for aid, url in fast.items()], priority=True)

    # a synchronous PUT jumps the queue too
    t0 = time.time()
    r = c.api.put(space.image("sync"), json={"mediaType": "image/jpeg", "origin": origin.add(SMALL)}, timeout=60)
    took = time.time() - t0
    j = assert_resource(r, 201, "vocab:Image")
    assert (j["width"], j["height"]) == (64, 48), describe(r)
    n = get_batch(c, normal)
    assert "finished" not in n and n["completed"] + n["errors"] < n["count"], \
        "the sync PUT (%.1fs) waited for the whole batch: %s" % (took, n)

    p = wait_batch(c, prio, timeout=60, poll=0.05)
    n = get_batch(c, normal)
    assert (p["completed"], p["errors"]) == (5, 0), p
    assert "finished" not in n and n["completed"] + n["errors"] < n["count"], \
        "the priority batch did not overtake: %s / %s" % (p, n)
    waiting = n["count"] - n["completed"] - n["errors"]
    assert waiting > 0

    n = wait_batch(c, normal, timeout=90)
    assert (n["completed"], n["errors"]) == (80, 0), n
    assert parse_time(p["finished"]) < parse_time(n["finished"]), (p, n)
    assert parse_time(p["submitted"]) > parse_time(n["submitted"]), (p, n)
    assert all(k == 1 for k in origin.counts(list(slow.values()) + list(fast.values())).values())


# ---------------------------------------------------------------- leases

def test_origin_slower_than_the_lease_is_fetched_once(space, origin, stack_config):
    """A runner still working on an item keeps it: a fetch that takes longer
    than runner_lease_seconds must not hand the item to another runner."""
    c = space.customer
    lease = config_int(stack_config, "runner_lease_seconds", 120)
    timeout = config_int(stack_config, "origin_timeout", 120)
    delay = lease + 2
    assert delay <= 15 and delay < timeout - 1, \
        "needs a short lease (runner_lease_seconds = 5, origin_timeout = 10): lease %d, origin_timeout %d" % (
            lease, timeout)
    url = origin.add(SMALL, delay=delay)
    b = submit(c, [member(space, "slow", url)])
    done = wait_batch(c, b, timeout=4 * delay + 10)
    assert (done["completed"], done["errors"]) == (1, 0), "%s; asset: %s" % (done, get_asset(space, "slow"))
    assert origin.count(url) == 1, "a slow origin was fetched %d times (the lease ran out mid-fetch)" % \
        origin.count(url)
