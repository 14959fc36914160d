"""The load and the watch of tests/bench/soak (see there). Standard library
and Debian's python3-requests and python3-pil only."""

import argparse
import io
import json
import os
import queue
import random
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from PIL import Image

# ---------------------------------------------------------------- a loopback origin


def make_jpeg(w, h, seed):
    rnd = random.Random(seed)
    img = Image.new("RGB", (w, h))
    px = img.load()
    for y in range(0, h, 8):
        for x in range(0, w, 8):
            c = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
            for dy in range(min(8, h - y)):
                for dx in range(min(8, w - x)):
                    px[x + dx, y + dy] = c
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


class Origin:
    """Serves a few JPEGs at /{n}.jpg on 127.0.0.1."""

    def __init__(self, images):
        self.images = images
        bodies = images

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.strip("/").split(".")[0]
                body = bodies.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name):
        return "http://127.0.0.1:%d/%s.jpg" % (self.port, name)


# ---------------------------------------------------------------- processes


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def children(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid) if os.path.isdir("/proc/%d/task" % pid) else []:
        text = read("/proc/%d/task/%s/children" % (pid, task))
        if text:
            out += [int(x) for x in text.split()]
    return out


def pid_from(path):
    text = read(path)
    if not text:
        return None
    for tok in text.split():
        if tok.isdigit():
            return int(tok)
    return None


def stack_processes(var, conf):
    """{pid: role} of every process of the stack: nginx (master, workers),
    mariadbd, and each pool (the pid file's process and its descendants)."""
    procs = {}
    nginx = pid_from(os.path.join(var, "nginx", "nginx.pid"))
    if nginx:
        procs[nginx] = "nginx master"
        for c in children(nginx):
            procs[c] = "nginx worker"
    db = pid_from(os.path.join(var, "run", "mysqld.pid"))
    if db:
        procs[db] = "mariadbd"
    for name in sorted(os.listdir(os.path.join(var, "run"))):
        if not name.endswith(".pid") or name in ("mysqld.pid",):
            continue
        pool = name[:-4]
        top = pid_from(os.path.join(var, "run", name))
        if not top or not os.path.isdir("/proc/%d" % top):
            continue
        env = read("/proc/%d/environ" % top) or b""
        if ("DLCS_CONFIG=%s" % conf).encode() not in env.split(b"\0"):
            continue
        kids = children(top)
        procs[top] = "%s supervisor" % pool if kids else pool
        todo = list(kids)
        while todo:
            p = todo.pop()
            procs[p] = "%s worker" % pool
            todo += children(p)
    return procs


def sample(pid):
    """(RSS in KiB, open descriptors) or None when the process is gone."""
    status = read("/proc/%d/status" % pid)
    if status is None:
        return None
    rss = 0
    for line in status.decode().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    try:
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None
    return rss, fds


# ---------------------------------------------------------------- the load


class Load:
    def __init__(self, base, customer, key, space, origin, seeded):
        self.base = base
        self.c = customer
        self.s = space
        self.origin = origin
        self.auth = key
        self.seeded = seeded  # ingested asset ids (tiles, regions, thumbs, file)
        self.mine = []        # registered by the load, deleted by it too
        self.lock = threading.Lock()
        self.local = threading.local()
        self.statuses = {}
        self.fives = []
        self.errors = 0
        self.sent = 0

    def session(self):
        s = getattr(self.local, "s", None)
        if s is None:
            s = requests.Session()
            self.local.s = s
        return s

    def record(self, what, status):
        with self.lock:
            self.sent += 1
            key = "%s %s" % (what, status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if status == "error" or (isinstance(status, int) and status >= 500):
                if status == "error":
                    self.errors += 1
                if len(self.fives) < 50:
                    self.fives.append((time.time(), what, status))

    def call(self, what, method, path, auth=True, **kw):
        try:
            r = self.session().request(method, self.base + path, auth=self.auth if auth else None,
                                       timeout=60, **kw)
            r.content
            self.record(what, r.status_code)
            return r
        except requests.RequestException:
            self.record(what, "error")
            return None

    def img(self):
        return random.choice(self.seeded)

    # the mix: (weight, name, function)
    def tile(self):
        self.call("tile", "GET", "/iiif-img/%d/%d/%s/0,0,256,256/256,/0/default.jpg" % (self.c, self.s, self.img()),
                  auth=False)

    def info(self):
        self.call("info", "GET", "/iiif-img/%d/%d/%s/info.json" % (self.c, self.s, self.img()), auth=False)

    def region(self):
        x, y = random.randrange(0, 500), random.randrange(0, 300)
        self.call("region", "GET", "/iiif-img/%d/%d/%s/%d,%d,300,200/150,/0/default.jpg"
                  % (self.c, self.s, self.img(), x, y), auth=False)

    def thumb(self):
        self.call("thumb", "GET", "/thumbs/%d/%d/%s/full/!100,100/0/default.jpg" % (self.c, self.s, self.img()),
                  auth=False)

    def file(self):
        self.call("file", "GET", "/file/%d/%d/%s" % (self.c, self.s, self.img()), auth=False)

    def asset_get(self):
        self.call("asset", "GET", "/customers/%d/spaces/%d/images/%s" % (self.c, self.s, self.img()))

    def query(self):
        q = json.dumps({"string1": "soak-%d" % random.randrange(10)})
        self.call("query", "GET", "/customers/%d/allImages" % self.c, params={"q": q, "pageSize": 20})

    def listing(self):
        self.call("list", "GET", "/customers/%d/spaces/%d/images" % (self.c, self.s),
                  params={"page": random.randrange(1, 4), "pageSize": 25})

    def put(self):
        aid = "m-" + uuid.uuid4().hex[:12]
        r = self.call("put", "PUT", "/customers/%d/spaces/%d/images/%s" % (self.c, self.s, aid),
                      json={"mediaType": "image/jpeg", "string1": "soak-%d" % random.randrange(10),
                            "number1": random.randrange(1000), "tags": ["soak"]})
        if r is not None and r.status_code == 201:
            with self.lock:
                self.mine.append(aid)

    def patch(self):
        with self.lock:
            aid = random.choice(self.mine) if self.mine else None
        if aid:
            self.call("patch", "PATCH", "/customers/%d/spaces/%d/images/%s" % (self.c, self.s, aid),
                      json={"string2": uuid.uuid4().hex[:8]})

    def delete(self):
        with self.lock:
            aid = self.mine.pop(0) if len(self.mine) > 50 else None
        if aid:
            self.call("delete", "DELETE", "/customers/%d/spaces/%d/images/%s" % (self.c, self.s, aid))

    def batch(self):
        members = []
        for _ in range(2):
            aid = "b-" + uuid.uuid4().hex[:12]
            members.append({"id": aid, "space": self.s, "mediaType": "image/jpeg",
                            "origin": self.origin.url(random.choice(list(self.origin.images)))})
            with self.lock:
                self.mine.append(aid)
        self.call("batch", "POST", "/customers/%d/queue" % self.c,
                  json={"@type": "Collection", "member": members})

    def bad(self):
        kind = random.randrange(4)
        if kind == 0:
            self.call("bad", "GET", "/customers/%d/spaces/%d/images/nope-%d" % (self.c, self.s, random.randrange(99)))
        elif kind == 1:
            self.call("bad", "POST", "/customers/%d/spaces" % self.c, data=b"{\"name\":[[[",
                      headers={"Content-Type": "application/json"})
        elif kind == 2:
            self.call("bad", "GET", "/customers/%d" % self.c, auth=False)
        else:
            self.call("bad", "GET", "/iiif-img/%d/%d/%s/0,0,10,10/99999,/0/default.jpg"
                      % (self.c, self.s, self.img()), auth=False)

    def mix(self):
        return [(25, self.tile), (8, self.info), (6, self.region), (6, self.thumb), (3, self.file),
                (15, self.asset_get), (6, self.query), (5, self.listing), (8, self.put), (5, self.patch),
                (5, self.delete), (2, self.batch), (6, self.bad)]


def run_load(load, rate, seconds, stop):
    """Open loop: request i starts at t0 + i/rate, whatever the answers do."""
    mix = load.mix()
    total = sum(w for w, _ in mix)
    work = queue.Queue(maxsize=rate * 5)
    late = [0]

    def worker():
        while True:
            fn = work.get()
            if fn is None:
                return
            fn()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(32)]
    for t in threads:
        t.start()
    t0 = time.time()
    i = 0
    while not stop.is_set():
        due = t0 + i / rate
        if due > t0 + seconds:
            break
        now = time.time()
        if due > now:
            time.sleep(due - now)
        pick = random.uniform(0, total)
        for w, fn in mix:
            pick -= w
            if pick <= 0:
                break
        try:
            work.put_nowait(fn)
        except queue.Full:
            late[0] += 1  # the server (or this client) cannot keep the rate
        i += 1
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join(timeout=120)
    return late[0]


# ---------------------------------------------------------------- setup and report


def admin_session(base, key_file):
    with open(key_file) as f:
        key, _, secret = f.read().strip().partition(":")
    s = requests.Session()
    s.auth = (key, secret)
    return s


def setup(base, admin, origin, seeded_ids):
    name = "soak-" + uuid.uuid4().hex[:10]
    r = admin.post(base + "/customers", json={"name": name})
    r.raise_for_status()
    c = r.json()["id"]
    r = admin.post(base + "/customers/%d/keys" % c)
    r.raise_for_status()
    k = r.json()
    auth = (k["key"], k["secret"])
    r = requests.post(base + "/customers/%d/spaces" % c, json={"name": "soak"}, auth=auth)
    r.raise_for_status()
    s = r.json()["id"]
    for aid, img in seeded_ids:
        r = requests.put(base + "/customers/%d/spaces/%d/images/%s" % (c, s, aid), auth=auth, timeout=120,
                         json={"mediaType": "image/jpeg", "origin": origin.url(img),
                               "deliveryChannels": ["iiif-img", "thumbs", "file"]})
        if r.status_code != 201:
            sys.exit("seeding %s: %s %s" % (aid, r.status_code, r.text[:300]))
    return c, auth, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--admin-key", required=True)
    ap.add_argument("--var", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--warmup", type=float, default=120)
    ap.add_argument("--report", required=True)
    a = ap.parse_args()

    images = {"i%d" % n: make_jpeg(1000 + 37 * n, 700 + 23 * n, n) for n in range(4)}
    origin = Origin(images)
    admin = admin_session(a.base, a.admin_key)
    seeded = [("seed-%d" % n, "i%d" % (n % 4)) for n in range(8)]
    c, auth, s = setup(a.base, admin, origin, seeded)
    load = Load(a.base, c, auth, s, origin, [aid for aid, _ in seeded])
    print("[soak] customer %d space %d, %d seeded assets; %d req/s for %.1f min, warm-up %d s"
          % (c, s, len(seeded), a.rate, a.minutes, a.warmup), flush=True)

    seconds = a.minutes * 60
    stop = threading.Event()
    samples = []  # (t, {pid: (role, rss, fds)})
    result = {}

    def loader():
        result["late"] = run_load(load, a.rate, seconds, stop)

    th = threading.Thread(target=loader)
    t0 = time.time()
    th.start()
    while th.is_alive():
        snap = {}
        for pid, role in stack_processes(a.var, a.conf).items():
            v = sample(pid)
            if v:
                snap[pid] = (role,) + v
        samples.append((time.time() - t0, snap))
        sent = load.sent
        print("[soak] t=%4.0fs sent=%d 5xx/errors=%d processes=%d rss=%.0f MiB" % (
            time.time() - t0, sent, len(load.fives), len(snap), sum(v[1] for v in snap.values()) / 1024),
            flush=True)
        th.join(timeout=10)

    # the report. Each process is judged on what it settles at: the median
    # RSS of the first minute after the warm-up against that of the last
    # minute (an ingest or a computed region peaks for a moment and gives
    # the memory back: that is not growth), and the fewest descriptors in
    # each of those minutes (an nginx worker's count follows the
    # connections in flight; a leak raises the floor).
    warm = [x for x in samples if x[0] >= a.warmup]
    if len(warm) < 2:
        sys.exit("the run ended before the warm-up did")
    base_t, base_snap = warm[0]
    last_t, last_snap = samples[-1]
    first = [snap for t, snap in warm if t < base_t + 60]
    final = [snap for t, snap in warm if t > last_t - 60]

    def median(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2] if xs else 0

    lines = []
    fail = []
    lines.append("soak  %s  %d req/s  %.1f min  warm-up %d s  sent %d  late %d" % (
        time.strftime("%Y-%m-%dT%H:%M:%S"), a.rate, a.minutes, a.warmup, load.sent, result.get("late", 0)))
    lines.append("RSS: median of the first minute after the warm-up -> of the last minute; fds: fewest in each")
    lines.append("%-20s %7s %10s %10s %10s %7s %6s %6s" % (
        "process", "pid", "rss first", "rss last", "rss max", "growth", "fd", "fd end"))
    for pid, (role, _, _) in sorted(base_snap.items(), key=lambda kv: (kv[1][0], kv[0])):
        if pid not in last_snap:
            fail.append("%s %d is gone (died or was replaced)" % (role, pid))
            lines.append("%-20s %7d %10s" % (role, pid, "gone"))
            continue
        rss0 = median([snap[pid][1] for snap in first if pid in snap])
        rss1 = median([snap[pid][1] for snap in final if pid in snap])
        fd0 = min(snap[pid][2] for snap in first if pid in snap)
        fd1 = min(snap[pid][2] for snap in final if pid in snap)
        rss_max = max(snap[pid][1] for t, snap in warm if pid in snap)
        growth = (rss1 - rss0) / rss0 * 100 if rss0 else 0
        lines.append("%-20s %7d %9dK %9dK %9dK %+6.1f%% %6d %6d" % (
            role, pid, rss0, rss1, rss_max, growth, fd0, fd1))
        if growth > 5.0:
            fail.append("%s %d: RSS grew %.1f%% after the warm-up (%d -> %d KiB)" % (role, pid, growth, rss0, rss1))
        if fd1 > fd0:
            fail.append("%s %d: descriptors %d -> %d" % (role, pid, fd0, fd1))
    new = sorted(set(last_snap) - set(base_snap))
    for pid in new:
        fail.append("%s %d appeared after the warm-up (a replacement?)" % (last_snap[pid][0], pid))
    fives = sum(n for k, n in load.statuses.items() if k.split()[-1] == "error" or
                (k.split()[-1].isdigit() and int(k.split()[-1]) >= 500))
    lines.append("responses: " + ", ".join("%s=%d" % kv for kv in sorted(load.statuses.items())))
    lines.append("5xx or connection errors: %d" % fives)
    for t, what, st in load.fives[:10]:
        lines.append("  %s at %.0fs: %s" % (what, t - t0, st))
    if fives:
        fail.append("%d responses were 5xx or connection errors" % fives)
    if result.get("late"):
        lines.append("note: %d requests could not be started on time" % result["late"])
    lines.append("verdict: %s" % ("PASS" if not fail else "FAIL"))
    lines += ["  " + f for f in fail]
    text = "\n".join(lines)
    print(text)
    with open(a.report, "w") as f:
        f.write(text + "\n")
    # every sample, for a closer look: t, role, pid, RSS KiB, descriptors
    with open(a.report[:-4] + "-samples.csv" if a.report.endswith(".txt") else a.report + ".csv", "w") as f:
        f.write("t,role,pid,rss_kib,fds\n")
        for t, snap in samples:
            for pid, (role, rss, fds) in sorted(snap.items()):
                f.write("%.0f,%s,%d,%d,%d\n" % (t, role, pid, rss, fds))
    sys.exit(1 if fail else 0)


if __name__ == "__main__":
    main()
