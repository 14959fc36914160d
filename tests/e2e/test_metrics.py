"""GET /metrics (issue 12): the pools' counters in the Prometheus text
format, counted across all the workers of a pool, for the admin or a client
on the host itself only."""

import re

from helpers import assert_error, describe

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? ([0-9.]+)$')


def samples(r):
    """{(name, labels): value} of a /metrics answer, every line checked."""
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"), describe(r)
    assert r.headers.get("Cache-Control") == "no-store"
    out = {}
    for line in r.text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ ", line), line
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def requests_of(s, route, status):
    key = ("dlcs_requests_total", '{program="dlcs-api",route="%s",status="%s"}' % (route, status))
    return s.get(key, 0)


def test_metrics_count_requests_by_route_across_workers(admin, customer):
    before = samples(admin.get("/metrics"))
    # more requests than the pool has workers: the counts of all add up
    n = 12
    for _ in range(n):
        assert customer.api.get(customer.path).status_code == 200
    for _ in range(3):
        assert customer.api.get(customer.path + "/spaces/999999").status_code == 404
    after = samples(admin.get("/metrics"))
    got = requests_of(after, "GET /customers/%d", "2xx") - requests_of(before, "GET /customers/%d", "2xx")
    assert got >= n, (got, n)
    got = requests_of(after, "GET /customers/%d/spaces/%d", "4xx") - requests_of(
        before, "GET /customers/%d/spaces/%d", "4xx")
    assert got >= 3, got
    # the route pattern, never the raw path
    assert not any(customer.path in labels for (name, labels) in after), sorted(after)
    for name in ("dlcs_render_cache_hits_total", "dlcs_render_cache_misses_total", "dlcs_ingest_ok_total",
                 "dlcs_ingest_errors_total", "dlcs_ingest_duration_seconds_count"):
        assert (name, "") in after, name
    assert ("dlcs_ingest_duration_seconds_bucket", '{le="+Inf"}') in after
    assert ("dlcs_queue_items", '{state="waiting"}') in after
    assert after[("dlcs_up", "")] == 1


def test_metrics_anonymous_from_this_host(anon):
    # the test client is nginx's loopback client
    s = samples(anon.get("/metrics"))
    assert ("dlcs_up", "") in s


def test_metrics_refuse_a_customer_and_bad_credentials(customer, anon):
    assert_error(customer.api.get("/metrics"), 403)
    r = anon.get("/metrics", auth=("nobody", "wrong"))
    assert_error(r, 401)


def test_metrics_other_methods_405(admin):
    assert_error(admin.post("/metrics", json={}), 405)
