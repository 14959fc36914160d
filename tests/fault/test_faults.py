"""Fault injection under load (issue 8, Acceptance): the supervised pools
replace a worker killed with kill -9 and lose nothing; a request that may
crash an API worker (deeply nested JSON, finding 2) leaves the pool whole;
MariaDB stopped for 5 s gives 503 JSON errors, then full service, and no
worker is restarted. The load is a few client threads of plain requests
sessions (no retries: every failure is counted), and every request's outcome
is recorded; the figures are printed at the end (conftest.py)."""

import os
import random
import re
import subprocess
import threading
import time

import requests

import pools
from helpers import LD_JSON, create_space, describe, media_type, put_asset, uniq
from origin import batch_ids, collection, config_int, get_asset, jpeg, member, wait_batch

SMALL = jpeg(64, 48)
POOLS = ("api", "image", "runner")
RECOVERY_LIMIT = 2.0  # seconds for a pool to be whole again after a death


# ---------------------------------------------------------------- load

class Load:
    """Client threads, each repeating one step until stopped; every request
    made through call() is recorded as (time, kind, method, path, status or
    None, error)."""

    def __init__(self, base):
        self.base = base
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.records = []
        self.unexpected = []  # wrong answers that are not failures (4xx, wrong fields)
        self.threads = []

    def call(self, s, kind, method, path, expect=(200,), **kw):
        """One request; returns the response when its status is in expect,
        else None (a 5xx or a connection error counts as failed; anything
        else is unexpected)."""
        kw.setdefault("timeout", 60)
        kw.setdefault("allow_redirects", False)
        t = time.time()
        try:
            r = s.request(method, self.base + path, **kw)
        except requests.RequestException as e:
            self._record(t, kind, method, path, None, "%s: %s" % (type(e).__name__, e))
            return None
        self._record(t, kind, method, path, r.status_code, "")
        if r.status_code in expect:
            return r
        if r.status_code < 500:
            self.wrong("%s: %s" % (kind, describe(r)))
        return None

    def _record(self, t, kind, method, path, status, error):
        with self.lock:
            self.records.append((t, kind, method, path, status, error))

    def wrong(self, what):
        with self.lock:
            self.unexpected.append(what)

    def spawn(self, kind, step, auth=None, pause=0.0):
        """A thread calling step(session, i) for i = 0, 1, ... until stopped."""
        def loop():
            s = requests.Session()
            if auth is not None:
                s.auth = auth
            i = 0
            while not self.stop.is_set():
                try:
                    step(s, i)
                except Exception as e:  # noqa: BLE001 - an assertion inside a step: report it
                    self.wrong("%s step %d raised %r" % (kind, i, e))
                i += 1
                if pause:
                    self.stop.wait(pause)
            s.close()
        th = threading.Thread(target=loop, name="load-" + kind, daemon=True)
        th.start()
        self.threads.append(th)

    def finish(self, timeout=180):
        self.stop.set()
        for th in self.threads:
            th.join(timeout)
            assert not th.is_alive(), "load thread %s still running after %ss" % (th.name, timeout)

    @staticmethod
    def is_failure(rec):
        return rec[4] is None or rec[4] >= 500

    def failures(self, kinds=None):
        return [r for r in self.records if self.is_failure(r) and (kinds is None or r[1] in kinds)]

    def count(self, kinds=None):
        return len([r for r in self.records if kinds is None or r[1] in kinds])

    def breakdown(self):
        """'kind failed/total' for every kind, in a stable order."""
        kinds = sorted({r[1] for r in self.records})
        return ", ".join("%s %d/%d" % (k, len(self.failures([k])), self.count([k])) for k in kinds)

    def failure_lines(self, t0, records=None):
        return ["  +%.2fs %s %s %s -> %s %s" % (r[0] - t0, r[1], r[2], r[3], r[4], r[5][:160])
                for r in (self.failures() if records is None else records)]


def image_asset(space, origin, asset_id="deliv", w=1200, h=900):
    """An ingested image for the delivery load (synchronous PUT)."""
    c = space.customer
    r = c.api.put(space.image(asset_id), json={"mediaType": "image/jpeg", "origin": origin.add(jpeg(w, h))},
                  timeout=120)
    assert r.status_code == 201 and r.json().get("width") == w, describe(r)
    return "/iiif-img/%d/%d/%s" % (c.id, space.id, asset_id), "/thumbs/%d/%d/%s" % (c.id, space.id, asset_id)


def delivery_step(load, iiif, thumbs, w=1200, h=900):
    """info.json, computed regions (dlcs-image renders them: not a stored
    tile size), the thumbnails' info.json, a stored tile (nginx)."""
    def step(s, i):
        k = i % 4
        if k == 0:
            r = load.call(s, "image", "GET", iiif + "/info.json")
            if r is not None and r.json().get("width") != w:
                load.wrong("info.json: %s" % describe(r))
        elif k == 1:
            x, y = random.randrange(0, w - 200), random.randrange(0, h - 200)
            r = load.call(s, "image", "GET", "%s/%d,%d,200,200/%d,/0/default.jpg" % (iiif, x, y, 50 + i % 90))
            if r is not None and r.headers.get("Content-Type") != "image/jpeg":
                load.wrong("region: %s" % describe(r))
        elif k == 2:
            load.call(s, "image", "GET", thumbs + "/info.json")
        else:
            load.call(s, "image", "GET", iiif + "/0,0,256,256/256,/0/default.jpg")
    return step


def snapshot(dlcs_var):
    """{pool: (supervisor, [workers])} of the stack."""
    return {p: (pools.supervisor(dlcs_var, p), pools.workers(dlcs_var, p)) for p in POOLS}


def assert_pools_whole(dlcs_var):
    for p in POOLS:
        assert pools.supervisor(dlcs_var, p), "pool %s has no supervisor" % p
        took = pools.wait_full(dlcs_var, p, RECOVERY_LIMIT)
        assert took is not None, "pool %s is %s, not %d workers" % (
            p, pools.workers(dlcs_var, p), pools.size(dlcs_var, p))


# ---------------------------------------------------------------- kill -9 under load

def test_kill_one_worker_of_each_pool_under_load(make_customer, origin, dlcs_var, stack_config, figures):
    c = make_customer("fault")
    # A space per kind of writer: concurrent creations in one space can
    # deadlock in MariaDB (a 503 "database busy" that has nothing to do with
    # the kills).
    sp = create_space(c)
    spaces = {k: create_space(c) for k in ("a", "b", "batch", "sync")}
    lease = config_int(stack_config, "runner_lease_seconds", 120)
    iiif, thumbs = image_asset(sp, origin)
    assert_pools_whole(dlcs_var)
    before = snapshot(dlcs_var)
    load = Load(c.api.base)
    auth = (c.key, c.secret)

    written = []  # (space, asset id, string1, number1) of every acknowledged PUT
    batches = []  # every acknowledged batch
    synced = []   # (asset id, status) of every acknowledged synchronous ingest

    def writer(tag):
        def step(s, i):
            aid = "w%s-%d" % (tag, i)
            fields = {"mediaType": "image/jpeg", "string1": uniq("v"), "number1": i}
            r = load.call(s, "api-write", "PUT", spaces[tag].image(aid), expect=(201,), json=fields)
            if r is not None:
                with load.lock:
                    written.append((spaces[tag], aid, fields["string1"], i))
        return step

    def reader(s, i):
        with load.lock:
            if not written:
                pick = None
            else:
                pick = random.choice(written)
        if pick is None:
            load.call(s, "api-read", "GET", sp.path)
            return
        where, aid, s1, n1 = pick
        hdr = {"Cache-Control": "no-cache"} if i % 2 else {}
        r = load.call(s, "api-read", "GET", where.image(aid), headers=hdr)
        if r is not None and (r.json().get("string1"), r.json().get("number1")) != (s1, n1):
            load.wrong("read %s: %s" % (aid, describe(r)))

    def batcher(s, i):
        members = [member(spaces["batch"], "b%d-%d" % (i, k), origin.add(SMALL, delay=0.2)) for k in range(3)]
        r = load.call(s, "api-batch", "POST", c.path + "/queue", expect=(201,), json=collection(members))
        if r is not None:
            with load.lock:
                batches.append((r.json(), [m["id"] for m in members]))

    def syncer(s, i):
        aid = "s%d" % i
        r = load.call(s, "api-sync", "PUT", spaces["sync"].image(aid), expect=(201, 202),
                      json={"mediaType": "image/jpeg", "origin": origin.add(SMALL, delay=0.1)}, timeout=120)
        if r is not None:
            with load.lock:
                synced.append((aid, r.status_code))

    load.spawn("api-write", writer("a"), auth)
    load.spawn("api-write", writer("b"), auth)
    load.spawn("api-read", reader, auth)
    load.spawn("api-batch", batcher, auth, pause=0.5)
    load.spawn("api-sync", syncer, auth, pause=0.3)
    load.spawn("image", delivery_step(load, iiif, thumbs))
    load.spawn("image", delivery_step(load, iiif, thumbs))

    t0 = time.time()
    recovery = {}
    victims = {}
    try:
        time.sleep(3)
        # one worker of each pool, as close together as the kills go
        for p in POOLS:
            victims[p] = random.choice(pools.workers(dlcs_var, p))
        t_kill = {}
        for p in POOLS:
            pools.kill_worker(dlcs_var, p, victims[p])
            t_kill[p] = time.time()
        for p in POOLS:
            took = pools.wait_full(dlcs_var, p, 5.0, without=[victims[p]])
            recovery[p] = None if took is None else time.time() - t_kill[p]
        time.sleep(max(0.0, 10 - (time.time() - t0)))
    finally:
        load.finish()
    duration = time.time() - t0

    failed = load.failures()
    figures.append("kill -9 of one api, image and runner worker under %.0f s of mixed load: %d of %d requests "
                   "failed (5xx or connection error; %s); pools whole again after %s" % (
                       duration, len(failed), load.count(), load.breakdown(),
                       ", ".join("%s %.2f s" % (p, recovery[p]) if recovery[p] is not None else "%s NEVER" % p
                                 for p in POOLS)))
    for line in load.failure_lines(t0):
        figures.append(line)

    for p in POOLS:
        assert recovery[p] is not None and recovery[p] <= RECOVERY_LIMIT, \
            "pool %s after killing %d: %s (recovery %s)" % (p, victims[p], pools.workers(dlcs_var, p), recovery[p])
        now = pools.workers(dlcs_var, p)
        assert len(now) == len(before[p][1]) and victims[p] not in now, (p, before[p], now)
        # only the victim was replaced: its siblings are the same processes
        assert set(before[p][1]) - {victims[p]} <= set(now), (p, before[p], now)
        assert pools.supervisor(dlcs_var, p) == before[p][0], "the %s supervisor changed" % p
    assert not load.unexpected, "wrong answers under load:\n" + "\n".join(load.unexpected[:20])
    assert load.count(["api-write"]) > 20 and load.count(["image"]) > 20 and batches and synced, \
        "too little load to prove anything: %s" % load.breakdown()
    # A killed FastCGI worker fails the request it had in hand (nginx: 502);
    # the requests queued on the socket go to its siblings.
    assert len(failed) <= 3 * 2, "%d failed requests for 2 killed FastCGI workers:\n%s" % (
        len(failed), "\n".join(load.failure_lines(t0)))

    # Nothing acknowledged was lost.
    s = requests.Session()
    s.auth = auth
    for where, aid, s1, n1 in written:
        r = s.get(c.api.base + where.image(aid), headers={"Cache-Control": "no-cache"}, timeout=30)
        assert r.status_code == 200, describe(r)
        j = r.json()
        assert (j["string1"], j["number1"], j["mediaType"]) == (s1, n1, "image/jpeg"), describe(r)
    for b, ids in batches:
        done = wait_batch(c, b, timeout=120 + 2 * lease)
        assert (done["count"], done["completed"], done["errors"]) == (len(ids), len(ids), 0), done
        assert sorted(batch_ids(c, done["completedImages"])) == sorted(ids), done
        for aid in ids:
            a = get_asset(spaces["batch"], aid)
            assert (a.get("width"), a.get("height"), a["ingesting"]) == (64, 48, False) and "error" not in a, a
    deadline = time.time() + 60 + 2 * lease
    for aid, status in synced:
        while True:
            a = get_asset(spaces["sync"], aid)
            if not a["ingesting"] or time.time() > deadline:
                break
            time.sleep(0.2)
        assert (a.get("width"), a.get("height"), a["ingesting"]) == (64, 48, False) and "error" not in a, \
            "sync ingest answered %d: %s" % (status, a)
    s.close()


# ---------------------------------------------------------------- finding 2 under load

def nested_array(depth):
    return b'{"name":' + b"[" * depth + b"]" * depth + b"}"


def nested_object(depth):
    return b'{"name":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


def test_deeply_nested_json_leaves_the_api_pool_whole(make_customer, origin, dlcs_var, figures):
    c = make_customer("deep")
    sp = create_space(c)
    put_asset(sp, "r1", string1="kept")
    iiif, thumbs = image_asset(sp, origin, w=600, h=400)
    assert_pools_whole(dlcs_var)
    n = pools.size(dlcs_var, "api")
    load = Load(c.api.base)
    auth = (c.key, c.secret)

    def writer(s, i):
        load.call(s, "api-write", "PUT", sp.image("d%d" % i), expect=(201,), json={"mediaType": "image/jpeg"})

    def reader(s, i):
        load.call(s, "api-read", "GET", sp.image("r1"), headers={"Cache-Control": "no-cache"})

    load.spawn("api-write", writer, auth)
    load.spawn("api-read", reader, auth)
    load.spawn("image", delivery_step(load, iiif, thumbs, 600, 400))

    outcomes = []
    died_all = []
    t0 = time.time()
    try:
        time.sleep(1)
        for name, body in (("array nested 1,000,000 deep", nested_array(1000000)),
                           ("object nested 500,000 deep", nested_object(500000))):
            before = set(pools.workers(dlcs_var, "api"))
            try:
                # (slow where finding 2 is not fixed: over a minute in a sanitizer build)
                r = requests.post(c.api.base + c.path + "/spaces", data=body, auth=auth, timeout=300,
                                  headers={"Content-Type": "application/json"})
                answer = r.status_code
            except requests.RequestException as e:
                r, answer = None, type(e).__name__
            if r is not None and r.status_code == 400:
                j = r.json()
                assert media_type(r) == LD_JSON and j.get("@type") == "Error" and j.get("statusCode") == 400, \
                    describe(r)
            else:
                # the worker died on it: a connection failure, or nginx's 502
                assert r is None or r.status_code == 502, "%s: %s" % (name, describe(r))
            # A worker that dies on it (finding 2 unfixed) dies within a
            # moment of answering; watch the pool for 5 s.
            died, t_death, recovered = set(), None, None
            end = time.time() + 5
            while time.time() < end:
                now = set(pools.workers(dlcs_var, "api"))
                gone = before - now
                if gone - died:
                    pools.record_deliberate(dlcs_var, sorted(gone - died))
                    died |= gone
                    t_death, recovered = time.time(), None
                if died and recovered is None and len(now) == n and not (died & now):
                    recovered = time.time() - t_death
                    break
                time.sleep(0.01)
            died_all.extend(sorted(died))
            outcomes.append("%s -> %s, %s" % (name, answer, "no worker died" if not died else
                                              "worker(s) %s died, pool whole again after %s" % (
                                                  sorted(died), "%.2f s" % recovered if recovered is not None
                                                  else "NEVER")))
            if died:
                assert recovered is not None and recovered <= RECOVERY_LIMIT, outcomes[-1]
        time.sleep(1)
    finally:
        load.finish()
    figures.append("deeply nested JSON to POST /customers/{c}/spaces under load: %s; background load: %d of %d "
                   "requests failed (%s)" % ("; ".join(outcomes), len(load.failures()), load.count(),
                                             load.breakdown()))
    if died_all:
        figures.append("  WARNING: finding 2 is not fixed on this build: the JSON body killed API worker(s) %s"
                       % died_all)
    for line in load.failure_lines(t0):
        figures.append(line)

    assert not load.unexpected, "wrong answers under load:\n" + "\n".join(load.unexpected[:20])
    assert_pools_whole(dlcs_var)
    # the service answers: a write and a read
    sp2 = create_space(c)
    assert put_asset(sp2, "after")["id"] == "after"
    assert get_asset(sp, "r1")["string1"] == "kept"
    # a request in flight on a dying worker may fail, nothing else
    assert len(load.failures()) <= len(died_all), "\n".join(load.failure_lines(t0))


# ---------------------------------------------------------------- MariaDB stopped under load

def stack_function(dlcs_repo, dlcs_var, fn):
    """Runs one function of .stack/lib.sh (stop_mariadb, start_mariadb)
    against the test stack's state directory."""
    env = dict(os.environ, DLCS_VAR=dlcs_var)
    p = subprocess.run(["bash", "-c", 'source "$1/.stack/lib.sh" && stack_env && "$2"', "bash",
                        dlcs_repo, fn], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, "%s failed (%d):\n%s" % (fn, p.returncode, out[-3000:])
    return out


def is_json_503(r):
    if r.status_code != 503 or media_type(r) != LD_JSON:
        return False
    try:
        j = r.json()
    except ValueError:
        return False
    return j.get("@type") == "Error" and j.get("statusCode") == 503 and bool(j.get("description"))


def test_mariadb_stopped_for_5s_under_load(make_customer, origin, dlcs_var, dlcs_repo, figures):
    c = make_customer("dbgap")
    sp = create_space(c)
    put_asset(sp, "known", string1="known")
    iiif, thumbs = image_asset(sp, origin, w=600, h=400)
    assert_pools_whole(dlcs_var)
    before = snapshot(dlcs_var)
    load = Load(c.api.base)
    auth = (c.key, c.secret)
    answers = []  # (time, kind, response) of every API answer
    written = []

    def keep(kind, r):
        with load.lock:
            answers.append((time.time(), kind, r))

    def writer(s, i):
        aid = "g%d" % i
        r = load.call(s, "api-write", "PUT", sp.image(aid), expect=(201, 503),
                      json={"mediaType": "image/jpeg", "number1": i})
        if r is not None:
            keep("api-write", r)
            if r.status_code == 201:
                with load.lock:
                    written.append((aid, i))

    def reader(s, i):
        path = sp.image("known") if i % 2 else sp.path + "/images"
        r = load.call(s, "api-read", "GET", path, expect=(200, 503), headers={"Cache-Control": "no-cache"})
        if r is not None:
            keep("api-read", r)

    def cached_reader(s, i):  # the response cache and the key cache in front of the database
        r = load.call(s, "api-read", "GET", sp.image("known"), expect=(200, 503))
        if r is not None:
            keep("api-read", r)

    load.spawn("api-write", writer, auth, pause=0.05)
    load.spawn("api-read", reader, auth, pause=0.05)
    load.spawn("api-read", cached_reader, auth, pause=0.05)
    load.spawn("image", delivery_step(load, iiif, thumbs, 600, 400), pause=0.05)

    t0 = time.time()
    stopped = False
    try:
        time.sleep(1.5)
        stack_function(dlcs_repo, dlcs_var, "stop_mariadb")
        stopped = True
        t_down = time.time()
        time.sleep(5)
        t_up0 = time.time()
        stack_function(dlcs_repo, dlcs_var, "start_mariadb")
        stopped = False
        t_up = time.time()
        # full service: a write and a read succeed
        s = requests.Session()
        s.auth = auth
        back = None
        while time.time() - t_up < 15:
            w = s.put(c.api.base + sp.image("back"), json={"mediaType": "image/jpeg", "string1": "back"}, timeout=30)
            g = s.get(c.api.base + sp.image("back"), headers={"Cache-Control": "no-cache"}, timeout=30)
            if w.status_code in (200, 201) and g.status_code == 200 and g.json().get("string1") == "back":
                back = time.time() - t_up
                break
            time.sleep(0.1)
        s.close()
        time.sleep(2)
    finally:
        if stopped:
            stack_function(dlcs_repo, dlcs_var, "start_mariadb")
        load.finish()
    after = snapshot(dlcs_var)

    kinds = ["api-write", "api-read"]
    ok = [a for a in answers if a[2].status_code < 300]
    json503 = [a for a in answers if is_json_503(a[2])]
    gap503 = [a for a in json503 if t_down <= a[0] <= t_up0]
    bad = [a for a in answers if a[2].status_code >= 300 and not is_json_503(a[2])]  # e.g. an HTML 503
    other = [r for r in load.failures(kinds) if r[4] != 503]  # 500, 502, 504, connection errors
    image_statuses = {}
    for r in load.records:
        if r[1] == "image" and t_down <= r[0] <= t_up0:
            image_statuses[r[4]] = image_statuses.get(r[4], 0) + 1
    figures.append("MariaDB stopped for %.1f s under load: %d API requests: %d answered 2xx, %d a 503 JSON error "
                   "(%d of them while it was down), %d failed otherwise (5xx, connection error or not JSON); "
                   "full service %s after it was back; delivery while it was down: %s; workers restarted: %s" % (
                       t_up0 - t_down, load.count(kinds), len(ok), len(json503), len(gap503), len(bad) + len(other),
                       "%.2f s" % back if back is not None else "NEVER",
                       ", ".join("%s x%d" % (k, v) for k, v in sorted(image_statuses.items(), key=str)) or "none",
                       "none" if after == before else "%s -> %s" % (before, after)))
    for line in load.failure_lines(t0, other + [r for r in load.failures(["image"]) if r[4] != 503]):
        figures.append(line)

    assert not bad, "API answers other than 2xx or a 503 JSON error:\n" + "\n".join(
        "+%.2fs %s" % (t - t0, describe(r)) for t, _, r in bad[:10])
    assert not other, "API requests failed:\n" + "\n".join(load.failure_lines(t0))
    assert not load.unexpected, "wrong answers under load:\n" + "\n".join(load.unexpected[:20])
    assert gap503, "no API request answered 503 while the database was down (%d answers)" % len(answers)
    assert back is not None and back <= 10, "no full service within 15 s of the database's return"
    assert after == before, "workers were restarted: %s -> %s" % (before, after)
    # the API workers and the runners said so, once each way (fcgi/outage.h)
    for pool in ("api", "runner"):
        with open(os.path.join(dlcs_var, "log", pool + ".log"), errors="replace") as f:
            log = f.read()[-400000:]
        assert re.search(r"dlcs-%s\[\d+\] error database unreachable: " % pool, log), pool
        assert re.search(r"dlcs-%s\[\d+\] info database reachable again after \d+ s" % pool, log), pool
    # delivery never crashed: no connection failures, no 502
    assert not [r for r in load.failures(["image"]) if r[4] is None or r[4] == 502], \
        "\n".join(load.failure_lines(t0))
    # what was acknowledged is there
    for aid, i in written:
        a = get_asset(sp, aid)
        assert a["number1"] == i, a
