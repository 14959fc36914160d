"""The renderer of the custom-headers include (handlers/ingest/headers_renderer.c,
README "Custom headers"): the API answers once the row is stored and moves
the custom headers' change counter on; one runner of the host follows the
counter, renders the include once a burst of changes has settled, tests it
with nginx -t (nginx_test_command) and only then reloads nginx, logging the
outcome in log/runner.log:

  ... dlcs-runner[PID] info custom headers: generation 12: rendered 7 locations
      into .../custom-headers.conf; nginx -t ok; reloaded nginx (SIGHUP to 4242)

The figures (how long a header takes to reach a tile, how many reloads a
burst costs) are printed and appended to log/header-figures.txt."""

import os
import re
import time

import requests

import pools
from helpers import assert_created, assert_resource, change_counter, create_space, describe, include_generation
from origin import jpeg

CLOSE = {"Connection": "close"}  # a reload closes kept-alive connections
TILE_V3 = "0,0,256,256/256,256/0/default.jpg"
LINE = re.compile(r"dlcs-runner\[(\d+)\] \w+ custom headers: (.*)$")
RELOADED = re.compile(r"^generation (\d+): rendered (\d+) locations into .*; nginx -t ok; "
                      r"reloaded nginx \(SIGHUP to \d+\)$")
ELECTED = re.compile(r"^this runner renders ")


def renderer_log(dlcs_var):
    """The renderer's lines of the runners' log, as (pid, message)."""
    out = []
    with open(os.path.join(dlcs_var, "log", "runner.log"), errors="replace") as f:
        for line in f:
            m = LINE.search(line.rstrip("\n"))
            if m:
                out.append((int(m.group(1)), m.group(2)))
    return out


def reloads(dlcs_var):
    return [msg for _, msg in renderer_log(dlcs_var) if RELOADED.match(msg)]


def figure(dlcs_var, line):
    print("header figures: " + line)
    with open(os.path.join(dlcs_var, "log", "header-figures.txt"), "a") as f:
        f.write(line + "\n")


def settle(stack_config, dlcs_var, timeout=15.0):
    """Waits until the include names the change counter's value (every change
    the API answered is rendered), then a little longer than the renderer's
    quiet time, so that nothing of an earlier test is still on its way."""
    want = change_counter(dlcs_var)
    end = time.time() + timeout
    while True:
        with open(stack_config["nginx_custom_headers"]) as f:
            if include_generation(f.read()) >= want:
                break
        assert time.time() < end, "the include did not reach generation %d" % want
        time.sleep(0.05)
    time.sleep(1.0)


def ingest(space, origin, asset_id):
    r = space.customer.api.put(space.image(asset_id), json={
        "mediaType": "image/jpeg", "origin": origin.add(jpeg(600, 400))}, timeout=60)
    assert_resource(r, 201, "vocab:Image")
    return "/iiif-img/%d/%d/%s/%s" % (space.customer.id, space.id, asset_id, TILE_V3)


def wait_tile_header(anon, url, key, want, timeout=15.0):
    """Seconds until the tile nginx serves itself carries key: want, or None."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            r = anon.get(url)
        except requests.exceptions.ConnectionError:
            continue  # an old nginx worker closing a kept connection
        assert r.status_code == 200 and r.headers.get("Accept-Ranges") == "bytes", describe(r)
        if r.headers.get(key) == want:
            return time.time() - t0
        time.sleep(0.02)
    return None


def test_a_header_reaches_nginx_tiles_within_seconds(customer, origin, anon, stack_config, dlcs_var):
    url = ingest(create_space(customer), origin, "fast")
    settle(stack_config, dlcs_var)
    before = len(reloads(dlcs_var))
    t0 = time.time()
    r = customer.api.post(customer.path + "/customHeaders", json={"key": "X-Fast", "value": "soon"},
                          headers=CLOSE)
    answered = time.time() - t0
    assert_created(r, "vocab:CustomHeader")
    took = wait_tile_header(anon, url, "X-Fast", "soon")
    assert took is not None, "the header did not reach the tile within 15 s"
    figure(dlcs_var, "API answer %.0f ms; header on an nginx-served tile %.2f s after it" % (
        answered * 1000, took))
    assert took < 4.0, "the header took %.2f s to reach the tile" % took
    # one runner rendered, tested and reloaded; the API workers never did
    got = reloads(dlcs_var)[before:]
    assert len(got) == 1, got
    api_log = open(os.path.join(dlcs_var, "log", "api.log"), errors="replace").read()
    assert "custom headers: generation" not in api_log


def test_a_burst_of_changes_reloads_nginx_few_times(customer, origin, anon, stack_config, dlcs_var):
    url = ingest(create_space(customer), origin, "burst")
    settle(stack_config, dlcs_var)
    before = len(reloads(dlcs_var))
    path = customer.path + "/customHeaders"
    j = assert_created(customer.api.post(path, json={"key": "X-Burst", "value": "0"}, headers=CLOSE),
                       "vocab:CustomHeader")
    t0 = time.time()
    for i in range(1, 20):  # 20 changes in all
        r = customer.api.put("%s/%s" % (path, j["id"]), json={"key": "X-Burst", "value": str(i)},
                             headers=CLOSE)
        assert r.status_code == 200, describe(r)
    burst = time.time() - t0
    took = wait_tile_header(anon, url, "X-Burst", "19")
    assert took is not None, "the last value did not reach the tile within 15 s"
    settle(stack_config, dlcs_var)
    time.sleep(1.0)
    got = reloads(dlcs_var)[before:]
    figure(dlcs_var, "20 changes in %.2f s: %d nginx reload(s); the last value on the tile %.2f s "
           "after the last answer" % (burst, len(got), took))
    assert 1 <= len(got) <= 3, got


def test_another_runner_takes_over_when_the_renderer_dies(customer, origin, anon, stack_config, dlcs_var):
    url = ingest(create_space(customer), origin, "over")
    settle(stack_config, dlcs_var)
    runners = pools.workers(dlcs_var, "runner")
    elected = [pid for pid, msg in renderer_log(dlcs_var) if ELECTED.match(msg)]
    holder = [pid for pid in elected if pid in runners]
    assert holder, "no live runner says it renders the include: %s" % elected
    holder = holder[-1]
    pools.kill_worker(dlcs_var, "runner", holder)
    r = customer.api.post(customer.path + "/customHeaders", json={"key": "X-Over", "value": "taken"},
                          headers=CLOSE)
    assert_created(r, "vocab:CustomHeader")
    took = wait_tile_header(anon, url, "X-Over", "taken")
    assert took is not None, "no runner rendered the include after the renderer died"
    figure(dlcs_var, "the renderer killed: the next change on a tile %.2f s after its answer" % took)
    assert took < 6.0, took
    now = [pid for pid, msg in renderer_log(dlcs_var) if ELECTED.match(msg)]
    assert now[-1] != holder and now[-1] in pools.workers(dlcs_var, "runner"), now
    assert pools.wait_full(dlcs_var, "runner", 30, without=[holder]) is not None
