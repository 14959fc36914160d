"""The API workers' response cache (fcgi/respcache.h): asset reads are kept
per worker and answered again while the data generation does not move, and
every committed write -- through the API, by a runner finishing an ingest,
or by `dlcs-admin bump-generation` after an edit in SQL -- is seen at once by
every worker. Each read after a write is repeated from several parallel
connections, so that nginx spreads it over all the API workers (each has its
own cache), and the workers' log says whether the cache answered. Credentials
and the caller are checked before the cache is looked at, and the links in a
cached answer follow the request's Host and X-Forwarded-* headers."""

import os
import re
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from helpers import Api, assert_collection, assert_error, assert_resource, describe, ids, put_asset, q, uniq
from origin import jpeg, member, submit, wait_batch

SMALL = jpeg(64, 48)
PARALLEL = 6   # connections at once: more than nginx keeps alive, so every worker answers some
ROUNDS = 24    # GETs per check (four per connection)


# ---------------------------------------------------------------- the stack

@pytest.fixture(scope="module")
def stack_var(dlcs_var):
    """The stack's state directory: $DLCS_VAR, else the directory of the
    admin key file (the suite is often pointed at a stack by that alone)."""
    if os.environ.get("DLCS_VAR"):
        return os.path.abspath(os.environ["DLCS_VAR"])
    key = os.environ.get("DLCS_ADMIN_KEY_FILE")
    if key and os.path.exists(os.path.join(os.path.dirname(os.path.abspath(key)), "dlcs.conf")):
        return os.path.dirname(os.path.abspath(key))
    return dlcs_var


@pytest.fixture(scope="module")
def cache_on(stack_var):
    """Whether the stack's workers cache responses (response_cache_mb, default 16)."""
    mb = "16"
    try:
        with open(os.path.join(stack_var, "dlcs.conf")) as f:
            for line in f:
                key, sep, value = line.split("#", 1)[0].partition("=")
                if sep and key.strip() == "response_cache_mb" and value.strip():
                    mb = value.strip()
    except OSError:
        pass
    return mb != "0"


class ApiLog:
    """The API workers' log (log/api.log), read from a mark: one line per
    request, "<time> dlcs-api[<pid>] info <request id> GET <path>[?query] <status>
    <bytes>B <ms>ms client=<address> customer=<id> [cache=<word>]"."""

    LINE = re.compile(r"\[(\d+)\] info \S+ (GET|HEAD) (\S+) (\d{3}) \d+B [0-9.]+ms client=\S+ customer=\d+"
                      r"(?: cache=(\w+))?$")

    def __init__(self, var):
        self.path = os.path.join(var, "log", "api.log")

    def mark(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def since(self, mark, path):
        """[(pid, status, cache word or None)] of the GET/HEAD lines for path."""
        out = []
        try:
            with open(self.path, "rb") as f:
                f.seek(mark)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return out
        for line in text.splitlines():
            m = self.LINE.search(line)
            if m and m.group(3) == path:
                out.append((int(m.group(1)), int(m.group(4)), m.group(5)))
        return out


@pytest.fixture(scope="module")
def api_log(stack_var):
    return ApiLog(stack_var)


def fan_out(base, auth, path, headers=None, n=ROUNDS, parallel=PARALLEL, method="GET"):
    """n requests for path from `parallel` connections at once; the responses."""
    per = -(-n // parallel)

    def run(_):
        s = Api(base, auth=auth)
        try:
            return [s.request(method, path, headers=headers) for _ in range(per)]
        finally:
            s.close()

    with ThreadPoolExecutor(parallel) as ex:
        return [r for rs in ex.map(run, range(parallel)) for r in rs]


def auth_of(customer):
    return (customer.key, customer.secret)


def all_assets(base, customer, path, check, headers=None):
    """Every one of the fanned-out GETs of an asset passes check(body)."""
    for r in fan_out(base, auth_of(customer), path, headers=headers):
        j = assert_resource(r, 200, "vocab:Image")
        assert check(j), "a worker answered an old version: %s" % describe(r)


def all_collections(base, customer, path, check, params=None):
    if params:
        path = path + "?" + urlencode(params)
    for r in fan_out(base, auth_of(customer), path):
        j = assert_collection(r, "vocab:Image")
        assert check(j), "a worker answered an old list: %s" % describe(r)


# ---------------------------------------------------------------- the cache is used

def test_repeated_asset_reads_are_answered_from_every_workers_cache(space, base, api_log, cache_on):
    put_asset(space, "cached", string1="v1")
    path = space.image("cached")
    mark = api_log.mark()
    all_assets(base, space.customer, path, lambda j: j["string1"] == "v1")
    lines = api_log.since(mark, path)
    assert len(lines) == ROUNDS, "the log has %d lines for %s, expected %d" % (len(lines), path, ROUNDS)
    words = [w for _, _, w in lines]
    if not cache_on:
        assert set(words) == {None}, words
        pytest.skip("response_cache_mb = 0: nothing is cached")
    assert set(words) <= {"hit", "miss"}, words
    pids = {pid for pid, _, _ in lines}
    # each worker computes the answer once, then keeps it (a write elsewhere
    # on the stack, say a runner finishing an earlier test's work, may cost
    # a few more misses)
    assert words.count("hit") >= ROUNDS // 2, lines
    for pid in pids:
        first = [w for p, _, w in lines if p == pid][0]
        assert first == "miss", "worker %d answered from its cache before computing: %s" % (pid, lines)
    assert len(pids) >= 2, "every GET reached the same worker (%s): the fan-out proves little" % pids


def test_no_cache_request_bypasses_and_refreshes(space, base, api_log, cache_on):
    put_asset(space, "nc", string1="v1")
    path = space.image("nc")
    fan_out(base, auth_of(space.customer), path)
    mark = api_log.mark()
    rs = fan_out(base, auth_of(space.customer), path, headers={"Cache-Control": "no-cache"}, n=6)
    for r in rs:
        assert assert_resource(r, 200, "vocab:Image")["string1"] == "v1"
    words = {w for _, _, w in api_log.since(mark, path)}
    assert words == ({"bypass"} if cache_on else {None}), words
    # HEAD shares the entries: headers only, the same length
    r = space.customer.api.head(path)
    g = space.customer.api.get(path)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == g.headers["Content-Length"] == str(len(g.content))


# ---------------------------------------------------------------- writes through the API

def test_patch_is_seen_at_once_by_every_worker(space, base):
    put_asset(space, "p", string1="before", number1=1)
    path = space.image("p")
    listing = space.path + "/images"
    query = {"q": q({"string1": "before"})}
    all_assets(base, space.customer, path, lambda j: j["string1"] == "before")
    all_collections(base, space.customer, listing, lambda j: ids(j["member"]) == ["p"])
    all_collections(base, space.customer, listing, lambda j: j["totalItems"] == 1, query)

    r = space.customer.api.patch(path, json={"string1": "after", "number1": 2})
    assert_resource(r, 200, "vocab:Image")
    all_assets(base, space.customer, path, lambda j: (j["string1"], j["number1"]) == ("after", 2))
    all_collections(base, space.customer, listing, lambda j: j["member"][0]["string1"] == "after")
    all_collections(base, space.customer, listing, lambda j: j["totalItems"] == 0, query)


def test_new_asset_shows_up_in_lists_and_queries(space, base):
    c = space.customer
    tag = uniq("s")
    put_asset(space, "one", string1=tag, number1=1)
    listing = space.path + "/images"
    by_query = {"q": q({"string1": tag}), "orderByDescending": "number1"}
    all_collections(base, c, listing, lambda j: ids(j["member"]) == ["one"])
    all_collections(base, c, listing, lambda j: ids(j["member"]) == ["one"], by_query)
    all_collections(base, c, c.path + "/allImages", lambda j: ids(j["member"]) == ["one"], by_query)
    assert_error(c.api.get(space.image("two")), 404)

    put_asset(space, "two", string1=tag, number1=2)
    all_collections(base, c, listing, lambda j: sorted(ids(j["member"])) == ["one", "two"])
    all_collections(base, c, listing, lambda j: ids(j["member"]) == ["two", "one"], by_query)
    all_collections(base, c, c.path + "/allImages", lambda j: j["totalItems"] == 2, by_query)
    all_assets(base, c, space.image("two"), lambda j: j["number1"] == 2)


def test_deleted_asset_disappears_everywhere(space, base):
    c = space.customer
    put_asset(space, "gone", string1="x")
    put_asset(space, "stays", string1="x")
    path = space.image("gone")
    listing = space.path + "/images"
    all_assets(base, c, path, lambda j: j["id"] == "gone")
    all_collections(base, c, listing, lambda j: j["totalItems"] == 2)

    r = c.api.delete(path)
    assert r.status_code == 204, describe(r)
    for r in fan_out(base, auth_of(c), path):
        assert_error(r, 404)
    all_collections(base, c, listing, lambda j: ids(j["member"]) == ["stays"])
    all_collections(base, c, c.path + "/allImages", lambda j: ids(j["member"]) == ["stays"],
                    {"q": q({"space": space.id})})


def test_bulk_patch_is_seen_at_once(space, base):
    c = space.customer
    for aid in ("b1", "b2", "b3"):
        put_asset(space, aid, string2="old")
    listing = space.path + "/images"
    old = {"q": q({"string2": "old"})}
    for aid in ("b1", "b2", "b3"):
        all_assets(base, c, space.image(aid), lambda j: j["string2"] == "old")
    all_collections(base, c, listing, lambda j: j["totalItems"] == 3, old)

    r = c.api.patch(listing, json={"@type": "Collection", "member": [
        {"id": "b1", "string2": "new"}, {"id": "b2", "string2": "new", "tags": ["t"]}]})
    assert_collection(r, "vocab:Image")
    all_assets(base, c, space.image("b1"), lambda j: j["string2"] == "new")
    all_assets(base, c, space.image("b2"), lambda j: (j["string2"], j["tags"]) == ("new", ["t"]))
    all_assets(base, c, space.image("b3"), lambda j: j["string2"] == "old")
    all_collections(base, c, listing, lambda j: ids(j["member"]) == ["b3"], old)


def test_manifests_patch_through_all_images_is_seen_at_once(space, base):
    c = space.customer
    put_asset(space, "m1")
    path = space.image("m1")
    all_assets(base, c, path, lambda j: j["manifests"] == [])
    r = c.api.patch(c.path + "/allImages", json={
        "member": [{"id": "%d/%d/m1" % (c.id, space.id)}], "field": "manifests", "operation": "add",
        "value": ["book-1"]})
    assert_collection(r, "vocab:Image")
    all_assets(base, c, path, lambda j: j["manifests"] == ["book-1"])
    all_collections(base, c, c.path + "/allImages", lambda j: ids(j["member"]) == ["m1"],
                    {"q": q({"manifests": "book-1"})})


# ---------------------------------------------------------------- writes by a runner

def test_ingest_finished_by_a_runner_is_seen_at_once(space, base, origin):
    c = space.customer
    gate = threading.Event()
    try:
        batch = submit(c, [member(space, "ing", origin.add(SMALL, gate=gate))])
        path = space.image("ing")
        # held at the origin: still ingesting, no dimensions yet (and cached so)
        all_assets(base, c, path, lambda j: j["ingesting"] is True and "width" not in j)
        images_path = batch["images"][batch["images"].index("/customers/"):]
        completed_path = batch["completedImages"][batch["completedImages"].index("/customers/"):]
        all_collections(base, c, completed_path, lambda j: j["totalItems"] == 0)
        all_collections(base, c, images_path, lambda j: ids(j["member"]) == ["ing"])
    finally:
        gate.set()
    done = wait_batch(c, batch, timeout=60)
    assert done["completed"] == 1, done
    all_assets(base, c, path, lambda j: (j["ingesting"], j.get("width"), j.get("height")) == (False, 64, 48))
    all_collections(base, c, completed_path, lambda j: ids(j["member"]) == ["ing"])
    all_collections(base, c, images_path, lambda j: j["member"][0]["width"] == 64)


# ---------------------------------------------------------------- credentials and callers first

def test_deleted_key_is_401_on_a_cached_route(admin, base, space):
    c = space.customer
    put_asset(space, "k")
    path = space.image("k")
    r = admin.post(c.path + "/keys")
    assert r.status_code == 200, describe(r)
    k = r.json()
    second = (k["key"], k["secret"])
    for r in fan_out(base, second, path):
        assert_resource(r, 200, "vocab:Image")
    r = c.api.delete(c.path + "/keys/" + k["key"])
    assert r.status_code == 204, describe(r)
    for r in fan_out(base, second, path):
        assert_error(r, 401)
    # the customer's own key still reads it (from the cache or not)
    all_assets(base, c, path, lambda j: j["id"] == "k")


def test_other_callers_are_refused_on_cached_routes(admin, base, space, make_customer, anon):
    c = space.customer
    put_asset(space, "mine", string1="private")
    path = space.image("mine")
    listing = space.path + "/images"
    all_assets(base, c, path, lambda j: j["string1"] == "private")
    all_collections(base, c, listing, lambda j: j["totalItems"] == 1)
    other = make_customer("other")
    for p in (path, listing, c.path + "/allImages"):
        for r in fan_out(base, auth_of(other), p, n=12):
            assert_error(r, 401)
        for r in fan_out(base, None, p, n=12):
            assert_error(r, 401)
        for r in fan_out(base, (c.key, "0" * 64), p, n=12):
            assert_error(r, 401)
    # the same ids under the other customer's own path: not theirs to see
    theirs = "/customers/%d/spaces/%d/images/mine" % (other.id, space.id)
    for r in fan_out(base, auth_of(other), theirs, n=12):
        assert_error(r, 404)
    # the admin may read it: its own entry, the same content
    for r in fan_out(base, admin.auth, path, n=12):
        assert assert_resource(r, 200, "vocab:Image")["string1"] == "private"


# ---------------------------------------------------------------- links follow the request

def test_links_follow_host_and_forwarded_headers(space, base):
    c = space.customer
    put_asset(space, "links")
    path = space.image("links")
    plain = assert_resource(c.api.get(path), 200, "vocab:Image")
    if not plain["@id"].startswith(base):
        pytest.skip("base_url is configured: links do not follow the request")
    variants = [
        ({}, base),
        ({"X-Forwarded-Proto": "https"}, "https://" + base.split("://", 1)[1]),
        ({"Host": "api.example.org"}, "http://api.example.org"),
        ({"Host": "api.example.org", "X-Forwarded-Proto": "https"}, "https://api.example.org"),
        ({"X-Forwarded-Host": "iiif.example.net", "X-Forwarded-Proto": "https"}, "https://iiif.example.net"),
    ]
    want_tail = "/customers/%d/spaces/%d/images/links" % (c.id, space.id)
    for _ in range(2):  # the second round comes from the caches
        for headers, prefix in variants:
            for r in fan_out(base, auth_of(c), path, headers=headers, n=12):
                j = assert_resource(r, 200, "vocab:Image")
                assert j["@id"] == prefix + want_tail, "%s: %s" % (headers, j["@id"])
                assert j["storage"] == prefix + want_tail + "/storage", j["storage"]
    # a collection's links (its @id and the page links) too
    listing = space.path + "/images?pageSize=1"
    put_asset(space, "links2")
    for headers, prefix in variants[1:3] + variants[1:3]:
        for r in fan_out(base, auth_of(c), listing, headers=headers, n=6):
            j = assert_collection(r, "vocab:Image")
            assert j["@id"] == prefix + space.path + "/images", j["@id"]
            assert j["view"]["next"].startswith(prefix + space.path + "/images?"), j["view"]


# ---------------------------------------------------------------- edits outside the API

def _build_dir(stack_var):
    with open(os.path.join(stack_var, "run", "api.pid")) as f:
        pid = int(f.read().split()[0])
    exe = os.readlink("/proc/%d/exe" % pid)
    if exe.endswith(" (deleted)"):
        exe = exe[:-len(" (deleted)")]
    return os.path.dirname(exe)


def test_sql_edit_then_bump_generation_is_seen(space, base, stack_var):
    c = space.customer
    put_asset(space, "sql", string3="before")
    path = space.image("sql")
    all_assets(base, c, path, lambda j: j["string3"] == "before")
    sock = os.path.join(stack_var, "run", "mysqld.sock")
    subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-e",
                    "UPDATE assets SET string3 = 'after' WHERE customer_id = %d AND space_id = %d"
                    " AND id = 'sql'" % (c.id, space.id)], check=True, timeout=30)
    env = dict(os.environ, DLCS_CONFIG=os.path.join(stack_var, "dlcs.conf"))
    p = subprocess.run([os.path.join(_build_dir(stack_var), "dlcs-admin"), "bump-generation"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode == 0, p.stdout.decode("utf-8", "replace")
    all_assets(base, c, path, lambda j: j["string3"] == "after")


def test_equivalent_spellings_of_a_uri_are_cached_apart_and_both_invalidated(space, base):
    c = space.customer
    put_asset(space, "a(1)", string1="v1")
    raw = space.path + "/images/a(1)"
    escaped = space.path + "/images/a%281%29"
    for p in (raw, escaped):
        all_assets(base, c, p, lambda j: (j["id"], j["string1"]) == ("a(1)", "v1"))
    assert_resource(c.api.patch(raw, json={"string1": "v2"}), 200, "vocab:Image")
    for p in (raw, escaped):
        all_assets(base, c, p, lambda j: j["string1"] == "v2")
