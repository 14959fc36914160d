"""Helpers for the ingest tests: a loopback HTTP origin that serves generated
images (and broken or slow responses) and counts every fetch per path;
image generators (PIL); the expected derivative file set of an image; and
queue helpers (submit a batch, wait for it to finish).

The origin is a ThreadingHTTPServer on 127.0.0.1 with a random port. Each
test registers its own unique paths, so one server serves the whole session.
Every GET is counted per path (thread-safe), unknown paths included (they
answer 404)."""

import io
import json
import os
import base64
import re
import socket
import struct
import threading
import time
import uuid
import zlib
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageOps

from helpers import assert_collection, assert_created, assert_resource, describe

TILE = 256
DEFAULT_THUMBS = (1024, 400, 200, 100)  # the default thumbs policy: !n,n
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# ---------------------------------------------------------------- the origin server

class _Route:
    def __init__(self, body, content_type, status, delay, gate, extra_length, basic_auth=None, location=None):
        self.basic_auth = basic_auth  # (user, password) the origin demands, or None
        self.location = location  # a redirect's Location, or None
        self.body = body
        self.content_type = content_type
        self.status = status
        self.delay = delay
        self.gate = gate
        self.extra_length = extra_length


class _Handler(BaseHTTPRequestHandler):
    server_version = "e2e-origin/1"
    protocol_version = "HTTP/1.0"  # one request per connection

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        origin = self.server.origin
        path = self.path.split("?", 1)[0]
        route = origin._hit(path)
        if route is None:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if route.basic_auth is not None:
            want = "Basic " + base64.b64encode(("%s:%s" % route.basic_auth).encode()).decode()
            if self.headers.get("Authorization") != want:
                body = b"credentials required\n"
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="origin"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        if route.gate is not None:
            route.gate.wait(60)
        if route.delay:
            time.sleep(route.delay)
        try:
            self.send_response(route.status)
            if route.content_type:
                self.send_header("Content-Type", route.content_type)
            if route.location:
                self.send_header("Location", route.location)
            self.send_header("Content-Length", str(len(route.body) + route.extra_length))
            self.end_headers()
            self.wfile.write(route.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a killed runner, a timeout)


class Origin:
    """A loopback origin. add() registers a path and returns its URL;
    count(path_or_url) tells how many GETs it got."""

    def __init__(self):
        self._lock = threading.Lock()
        self._routes = {}
        self._counts = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.origin = self
        self.port = self._server.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self._server.serve_forever, name="e2e-origin", daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def _hit(self, path):
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1
            return self._routes.get(path)

    def path(self, name=None):
        """A fresh unique path (not registered: it answers 404)."""
        return "/%s/%s" % (uuid.uuid4().hex, name or "img")

    def url(self, path):
        return self.base + path

    def add(self, body, content_type="image/jpeg", status=200, delay=0.0, gate=None, extra_length=0,
            name=None, basic_auth=None):
        """Serves body at a new unique path; returns its URL. delay: seconds
        to wait before answering; gate: a threading.Event to wait for (up to
        60 s) before answering; extra_length: announce that many more bytes
        than are sent (the connection then closes early)."""
        path = self.path(name)
        with self._lock:
            self._routes[path] = _Route(body, content_type, status, delay, gate, extra_length,
                                        basic_auth)
        return self.url(path)

    def redirect(self, location, status=302, name=None):
        """Serves a redirect to location at a new unique path; returns its URL."""
        path = self.path(name)
        with self._lock:
            self._routes[path] = _Route(b"", None, status, 0.0, None, 0, location=location)
        return self.url(path)

    def count(self, path_or_url):
        path = path_or_url[len(self.base):] if path_or_url.startswith(self.base) else path_or_url
        with self._lock:
            return self._counts.get(path, 0)

    def counts(self, urls):
        return {u: self.count(u) for u in urls}


def dead_url(name="dead.jpg"):
    """A URL on a loopback port nothing listens on (connection refused)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d/%s" % (port, name)


# ---------------------------------------------------------------- images

QUAD_COLOURS = ((220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 40))


def quadrants(w, h, mode="RGB"):
    """A w x h image in four coloured quadrants (TL red, TR green, BL blue,
    BR yellow), converted to mode."""
    img = Image.new("RGB", (w, h), QUAD_COLOURS[0])
    hw, hh = max(w // 2, 1), max(h // 2, 1)
    if w > 1:
        img.paste(QUAD_COLOURS[1], (hw, 0, w, hh))
    if h > 1:
        img.paste(QUAD_COLOURS[2], (0, hh, hw, h))
    if w > 1 and h > 1:
        img.paste(QUAD_COLOURS[3], (hw, hh, w, h))
    return img if mode == "RGB" else img.convert(mode)


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def jpeg(w, h, quality=85):
    return encode(quadrants(w, h), "JPEG", quality=quality)


def noisy_jpeg(w, h):
    """A JPEG of random pixels: lots of entropy-coded data (for truncation)."""
    img = Image.frombytes("RGB", (w, h), os.urandom(w * h * 3))
    return encode(img, "JPEG", quality=90)


def exif_rotated_jpeg(w, h, orientation=6):
    """A JPEG stored w x h with EXIF orientation (6: displayed h x w)."""
    img = quadrants(w, h)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(img, "JPEG", quality=90, exif=exif.tobytes())


def cmyk_jpeg(w, h):
    """A CMYK JPEG: left half red (0,255,255,0), right half blue (255,255,0,0)."""
    img = Image.new("CMYK", (w, h), (0, 255, 255, 0))
    img.paste((255, 255, 0, 0), (w // 2, 0, w, h))
    return encode(img, "JPEG", quality=95)


def big_png(w, h):
    """A valid 1-bit greyscale PNG of w x h, made without holding the pixels
    (rows of zeros compressed as a stream): cheap even for 10^8 pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    row = b"\x00" * (1 + (w + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    parts = []
    rows_per_step = max(1, (1 << 20) // len(row))
    left = h
    while left > 0:
        n = min(left, rows_per_step)
        parts.append(comp.compress(row * n))
        left -= n
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def display_image(data):
    """The image as a viewer shows it (EXIF orientation applied), in RGB."""
    img = Image.open(io.BytesIO(data))
    img.load()
    img = ImageOps.exif_transpose(img)
    return img.convert("RGB")


# ---------------------------------------------------------------- expected derivatives

def levels(w, h):
    """[(scale_factor, level_w, level_h)] from 1 down to the first level that
    fits one tile (level k is ceil(w/2^k) x ceil(h/2^k))."""
    out = []
    f = 1
    while True:
        lw, lh = -(-w // f), -(-h // f)
        out.append((f, lw, lh))
        if lw <= TILE and lh <= TILE:
            return out
        f *= 2


def tile_levels(w, h):
    """{scale factor: {file name: (pixel width, pixel height)}} of the tile
    pyramid: tiles/{x},{y},{w},{h}_{sw}.jpg for every scale factor."""
    out = {}
    for f, lw, lh in levels(w, h):
        tiles = out[f] = {}
        for row in range(-(-lh // TILE)):
            for col in range(-(-lw // TILE)):
                x, y = col * TILE * f, row * TILE * f
                rw, rh = min(TILE * f, w - x), min(TILE * f, h - y)
                sw, sh = min(TILE, lw - col * TILE), min(TILE, lh - row * TILE)
                tiles["%d,%d,%d,%d_%d.jpg" % (x, y, rw, rh, sw)] = (sw, sh)
    return out


def expected_tiles(w, h):
    """{file name: (pixel width, pixel height)} of every tile."""
    tiles = {}
    for lvl in tile_levels(w, h).values():
        tiles.update(lvl)
    return tiles


def expected_thumb_edges(w, h, sizes=DEFAULT_THUMBS):
    """Longest edges of the thumbnails of a !n,n policy: never above the
    image's own longest edge, one per distinct edge, largest first."""
    longest = max(w, h)
    return sorted({min(n, longest) for n in sizes}, reverse=True)


def asset_dir(storage_root, space, asset_id):
    return os.path.join(storage_root, str(space.customer.id), str(space.id), asset_id)


def dir_bytes(path, skip=None):
    total = 0
    for root, dirs, files in os.walk(path):
        if skip and os.path.abspath(root) == os.path.abspath(os.path.join(path, skip)):
            dirs[:] = []
            continue
        for f in files:
            # regular files only, like the runner's count (links: the size aliases
            # of thumbs/ and full/)
            if not os.path.islink(os.path.join(root, f)):
                total += os.path.getsize(os.path.join(root, f))
    return total


def check_derivatives(storage_root, space, asset_id, w, h, original, max_unauthorised=-1,
                      sample_tiles=4, tiles=True, thumbs=True, thumb_edges=None):
    """Checks the files of an ingested image asset: the original (the bytes
    the origin served), the exact tile set (a few opened to check their pixel
    size), info.txt and full/'s size aliases when `tiles` (iiif-img), the
    thumbnails (never upscaled, pixel sizes as named; edges of the default
    policy unless thumb_edges) and s.json when `thumbs`; neither when not
    asked for. Returns the directory."""
    d = asset_dir(storage_root, space, asset_id)
    assert os.path.isdir(d), "no directory %s for asset %s" % (d, asset_id)
    with open(os.path.join(d, "original"), "rb") as f:
        assert f.read() == original, "%s: the stored original differs from what the origin served" % asset_id
    if tiles:
        _check_tiles(d, asset_id, w, h, sample_tiles)
        _check_full(d, asset_id, w, h)
    else:
        for name in ("tiles", "info.txt", "full"):
            assert not os.path.exists(os.path.join(d, name)), "%s: %s without the iiif-img channel" % (asset_id, name)
    if thumbs:
        _check_thumbs(d, asset_id, w, h, max_unauthorised, thumb_edges)
    else:
        for name in ("thumbs", "s.json"):
            assert not os.path.exists(os.path.join(d, name)), "%s: %s without the thumbs channel" % (asset_id, name)
    return d


def _check_full(d, asset_id, w, h):
    """full/ (iiif/thumb_alias.h): links only, each to a stored tile or
    thumbnail, the one-tile level's "w,h" among them."""
    fdir = os.path.join(d, "full")
    names = os.listdir(fdir)
    for n in names:
        p = os.path.join(fdir, n)
        target = os.readlink(p) if os.path.islink(p) else None
        assert target and target.split("/")[:2] in (["..", "tiles"], ["..", "thumbs"]) and \
            os.path.isfile(p), "%s: full/%s -> %s" % (asset_id, n, target)
    f = 1
    while -(-w // f) > 256 or -(-h // f) > 256:
        f *= 2
    lw, lh = -(-w // f), -(-h // f)
    assert os.readlink(os.path.join(fdir, "%d,%d.jpg" % (lw, lh))) == "../tiles/0,0,%d,%d_%d.jpg" % (w, h, lw), \
        "%s (%dx%d): no full/ link to the one-tile level" % (asset_id, w, h)


def _check_tiles(d, asset_id, w, h, sample_tiles):
    want = expected_tiles(w, h)
    got = set(os.listdir(os.path.join(d, "tiles")))
    missing, extra = sorted(set(want) - got), sorted(got - set(want))
    assert not missing and not extra, "%s (%dx%d) tiles: missing %s, unexpected %s" % (
        asset_id, w, h, missing[:10], extra[:10])
    names = sorted(want)
    # The first and last tiles of each level, plus a spread of the rest.
    picks = set()
    for lvl in tile_levels(w, h).values():
        lnames = sorted(lvl)
        picks.update({lnames[0], lnames[-1]})
    step = max(1, len(names) // max(sample_tiles, 1))
    picks.update(names[::step])
    for n in sorted(picks):
        with Image.open(os.path.join(d, "tiles", n)) as t:
            assert t.format == "JPEG", "%s tile %s is %s" % (asset_id, n, t.format)
            assert t.size == want[n], "%s tile %s is %s px, expected %s" % (asset_id, n, t.size, want[n])

    with open(os.path.join(d, "info.txt")) as f:
        info = f.read().split()
    want_info = [str(w), str(h), str(TILE)] + [str(f) for f, _, _ in levels(w, h)]
    assert info == want_info, "%s info.txt %r, expected %r" % (asset_id, info, want_info)


def _check_thumbs(d, asset_id, w, h, max_unauthorised, thumb_edges):
    edges = thumb_edges or expected_thumb_edges(w, h)
    # the thumbnails; the links beside them are their size aliases (iiif/thumb_alias.h)
    tdir = os.path.join(d, "thumbs")
    links = [n for n in os.listdir(tdir) if os.path.islink(os.path.join(tdir, n))]
    thumbs = sorted(n for n in os.listdir(tdir) if n not in links)
    for n in links:
        assert os.readlink(os.path.join(tdir, n)) in thumbs, "%s: thumbs/%s -> %s" % (
            asset_id, n, os.readlink(os.path.join(tdir, n)))
    assert thumbs == sorted("%d.jpg" % e for e in edges), "%s (%dx%d) thumbs: %s, expected edges %s" % (
        asset_id, w, h, thumbs, edges)
    sizes = []
    for e in edges:
        with Image.open(os.path.join(d, "thumbs", "%d.jpg" % e)) as t:
            assert t.format == "JPEG"
            tw, th = t.size
        assert max(tw, th) == e, "%s thumb %d.jpg is %dx%d" % (asset_id, e, tw, th)
        assert max(tw, th) <= max(w, h), "%s thumb %d.jpg is upscaled" % (asset_id, e)
        # the other edge keeps the ratio (to the pixel)
        if w >= h:
            assert abs(th - h * tw / w) <= 1, "%s thumb %dx%d breaks the ratio of %dx%d" % (asset_id, tw, th, w, h)
        else:
            assert abs(tw - w * th / h) <= 1, "%s thumb %dx%d breaks the ratio of %dx%d" % (asset_id, tw, th, w, h)
        sizes.append([tw, th])

    with open(os.path.join(d, "s.json")) as f:
        sj = json.load(f)
    if max_unauthorised < 0:
        want_o, want_a = sizes, []
    else:
        want_o = [s for s in sizes if max(s) <= max_unauthorised]
        want_a = [s for s in sizes if max(s) > max_unauthorised]
    assert sj == {"o": want_o, "a": want_a}, "%s s.json %r, expected %r" % (asset_id, sj, {"o": want_o, "a": want_a})


def config_int(conf, key, default):
    """An integer setting of dlcs.conf (the stack_config fixture), or the
    program's default when absent or empty."""
    v = conf.get(key, "")
    return int(v) if v.strip() else default


def pixel_close(a, b, tol=60):
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))


# ---------------------------------------------------------------- queue helpers

def member(space, asset_id, origin, media="image/jpeg", **fields):
    m = {"id": asset_id, "space": space.id, "mediaType": media, "origin": origin}
    m.update(fields)
    return m


def collection(members):
    return {"@context": "http://www.w3.org/ns/hydra/context.jsonld", "@type": "Collection",
            "member": members}


def submit(customer, members, priority=False):
    """POSTs a batch; checks 201 + Location and returns the vocab:Batch."""
    path = customer.path + "/queue" + ("/priority" if priority else "")
    r = customer.api.post(path, json=collection(members), timeout=60)
    j = assert_created(r, "vocab:Batch")
    assert re.search(r"/customers/%d/queue/batches/\d+$" % customer.id, j["@id"]), describe(r)
    assert j["count"] == len(members), describe(r)
    return j


def get_batch(customer, batch):
    return assert_resource(customer.api.follow(batch["@id"]), 200, "vocab:Batch")


def wait_batch(customer, batch, timeout=60, poll=0.2):
    """Polls a batch until `finished` is set; returns it."""
    deadline = time.time() + timeout
    while True:
        j = get_batch(customer, batch)
        if j.get("finished"):
            return j
        if time.time() > deadline:
            raise AssertionError("batch %s not finished after %ss: %s" % (batch["@id"], timeout, j))
        time.sleep(poll)


def batch_ids(customer, link, page_size=500):
    """The asset ids (all pages) of a batch's images/completedImages/errorImages link."""
    out = []
    r = customer.api.follow(link, params={"pageSize": page_size})
    j = assert_collection(r, "vocab:Image")
    out.extend(m["id"] for m in j["member"])
    total = j["totalItems"]
    while "view" in j and "next" in j["view"]:
        j = assert_collection(customer.api.follow(j["view"]["next"]), "vocab:Image")
        out.extend(m["id"] for m in j["member"])
    assert len(out) == total, "%s: %d members, totalItems %d" % (link, len(out), total)
    return out


def get_asset(space, asset_id):
    return assert_resource(space.customer.api.get(space.image(asset_id)), 200, "vocab:Image")


def parse_time(s):
    s = s.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in s else "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(s, fmt)
