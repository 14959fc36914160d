"""The origin address guard (issue 8, finding 8): an origin may not point
inside the platform (loopback, private ranges, link-local such as the cloud
metadata endpoint 169.254.169.254, unique-local, unspecified), not by its
literal address, not by a name, not through a redirect; with the `file`
channel the fetched bytes would otherwise be published at /file.

The test stack opens only 127.0.0.1/32 (origin_allow_networks, .stack/test),
where the e2e origin listens; the rest of loopback stays refused. So
127.0.0.2 and ::1 stand in for the inside addresses an attacker aims at, and
every byte these tests send stays on loopback. "Inside" HTTP services listen
on 127.0.0.2 and [::1] and count their requests: a refusal must leave them
untouched, so a guard that let a request through fails the test even if the
asset then got an error for another reason.

(A host name that resolves only to refused addresses would need DNS or an
/etc/hosts entry; tests/unit/test_origin.c shows it with `localhost` under
a narrower allow list.)"""

import os
import socket
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import assert_error, assert_resource, describe
from origin import batch_ids, get_asset, jpeg, member, submit, wait_batch

SECRET = b"inside-secret: what only the platform should see\n"
NOT_ALLOWED = "is not allowed (origin_allow_networks)"


class _Inside(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(SECRET)))
        self.end_headers()
        self.wfile.write(SECRET)


class Inside:
    """An HTTP service on an inside loopback address that answers SECRET to
    every GET and counts them (and the connections it accepted)."""

    def __init__(self, host):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Server(ThreadingHTTPServer):
            address_family = family

            def get_request(self):
                req = super().get_request()
                with self.lock:
                    self.connections += 1
                return req

        self.server = Server((host, 0), _Inside)
        self.server.daemon_threads = True
        self.server.lock = threading.Lock()
        self.server.hits = 0
        self.server.connections = 0
        self.port = self.server.server_address[1]
        self.host = host
        self.netloc = ("[%s]" % host if ":" in host else host) + ":%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/secret.jpg", host=None):
        return "http://%s%s" % (host or self.netloc, path)

    def touched(self):
        with self.server.lock:
            return self.server.connections + self.server.hits

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module", autouse=True)
def only_127_0_0_1_is_open(stack_config):
    assert stack_config.get("origin_allow_networks") == "127.0.0.1/32", \
        "the test stack must open 127.0.0.1/32 only (.stack/test): %r" % stack_config.get("origin_allow_networks")


@pytest.fixture(scope="module")
def inside4():
    s = Inside("127.0.0.2")
    yield s
    s.close()


@pytest.fixture(scope="module")
def inside6():
    try:
        s = Inside("::1")
    except OSError as e:
        pytest.skip("no IPv6 loopback here: %s" % e)
    yield s
    s.close()


def refused_error(hop, address):
    return "origin: %s: address %s %s" % (hop, address, NOT_ALLOWED)


def put_origin(space, asset_id, url, **fields):
    body = {"mediaType": "image/jpeg", "origin": url}
    body.update(fields)
    return space.customer.api.put(space.image(asset_id), json=body, timeout=60)


def assert_refused(space, asset_id, r, error):
    """A synchronous PUT of a refused origin: 502 like any origin that cannot be
    fetched, the asset kept with exactly that error, no dimensions."""
    e = assert_error(r, 502)
    assert e["description"] == "ingest failed: " + error, describe(r)
    j = get_asset(space, asset_id)
    assert j.get("error") == error, j
    assert j["ingesting"] is False and "width" not in j and "height" not in j, j


# ---------------------------------------------------------------- synchronous PUT

def test_origin_on_127_0_0_1_is_fetched(space, origin):
    url = origin.add(jpeg(300, 200))
    r = put_origin(space, "allowed", url)
    j = assert_resource(r, 201, "vocab:Image")
    assert (j.get("width"), j.get("height")) == (300, 200) and "error" not in j, describe(r)
    assert origin.count(url) == 1
    # localhost is 127.0.0.1 here: a name is judged by the address connected to
    url = origin.add(jpeg(30, 20))
    r = put_origin(space, "by-name", url.replace("127.0.0.1", "localhost", 1))
    assert assert_resource(r, 201, "vocab:Image").get("width") == 30, describe(r)


@pytest.mark.parametrize("spelling", ["literal", "decimal", "hex", "mapped"])
def test_put_of_another_loopback_address_is_502_naming_it(space, inside4, spelling):
    host, address = {
        "literal": ("127.0.0.2", "127.0.0.2"),
        "decimal": ("2130706434", "127.0.0.2"),       # 127.0.0.2 as one number
        "hex": ("0x7f000002", "127.0.0.2"),
        "mapped": ("[::ffff:127.0.0.2]", "::ffff:127.0.0.2"),  # the kernel connects over IPv4
    }[spelling]
    url = inside4.url(host="%s:%d" % (host, inside4.port))
    r = put_origin(space, "in-" + spelling, url)
    shown = "[::ffff:127.0.0.2]" if spelling == "mapped" else "127.0.0.2"
    assert_refused(space, "in-" + spelling, r, refused_error("http://%s:%d" % (shown, inside4.port), address))
    assert inside4.touched() == 0


def test_put_of_ipv6_loopback_and_unspecified_addresses_is_502(space, origin, inside6):
    # [::1] has a service; 0.0.0.0 and [::] would reach this host's own
    # listeners (the e2e origin on 127.0.0.1 among them) if connected to.
    target = origin.add(jpeg(40, 40))
    path = target[len(origin.base):]
    cases = {
        "v6-loopback": (inside6.url(), "http://%s" % inside6.netloc, "::1"),
        "zero": ("http://0.0.0.0:%d%s" % (origin.port, path), "http://0.0.0.0:%d" % origin.port, "0.0.0.0"),
        "v6-zero": ("http://[::]:%d%s" % (inside6.port, path), "http://[::]:%d" % inside6.port, "::"),
    }
    for aid, (url, hop, address) in cases.items():
        assert_refused(space, aid, put_origin(space, aid, url), refused_error(hop, address))
    assert inside6.touched() == 0
    assert origin.count(target) == 0


def test_userinfo_path_and_query_stay_out_of_the_error(space, inside4):
    url = "http://bob:hunter2@%s/secret.jpg?token=abc" % inside4.netloc
    r = put_origin(space, "creds", url)
    assert_refused(space, "creds", r, refused_error("http://" + inside4.netloc, "127.0.0.2"))
    assert "hunter2" not in r.text and "token" not in r.text
    assert inside4.touched() == 0


def test_redirect_from_the_allowed_origin_to_inside_is_refused(space, origin, inside4):
    target = origin.add(jpeg(40, 40))
    hops = {
        "to-127-0-0-2": (inside4.url(), "http://" + inside4.netloc, "127.0.0.2"),
        "to-mapped": (inside4.url(host="[::ffff:127.0.0.2]:%d" % inside4.port),
                      "http://[::ffff:127.0.0.2]:%d" % inside4.port, "::ffff:127.0.0.2"),
        # 0.0.0.0 would reach the allowed origin itself, by a refused address
        "to-zero": ("http://0.0.0.0:%d%s" % (origin.port, target[len(origin.base):]),
                    "http://0.0.0.0:%d" % origin.port, "0.0.0.0"),
    }
    for aid, (location, hop, address) in hops.items():
        first = origin.redirect(location)
        r = put_origin(space, aid, first)
        assert_refused(space, aid, r, refused_error("redirect to " + hop, address))
        assert origin.count(first) == 1, aid
    # and a chain: allowed -> allowed -> inside
    second = origin.redirect(inside4.url())
    first = origin.redirect(second)
    r = put_origin(space, "chain", first)
    assert_refused(space, "chain", r, refused_error("redirect to http://" + inside4.netloc, "127.0.0.2"))
    assert origin.count(first) == 1 and origin.count(second) == 1
    assert inside4.touched() == 0
    assert origin.count(target) == 0


def test_file_channel_does_not_publish_an_inside_service(space, inside4, anon):
    """Finding 8 as an attacker writes it: an origin on an inside address
    and the file channel, then the anonymous /file URL."""
    r = put_origin(space, "leak", inside4.url(), mediaType="application/octet-stream",
                   deliveryChannels=["file"])
    assert_refused(space, "leak", r, refused_error("http://" + inside4.netloc, "127.0.0.2"))
    f = anon.get("/file/%d/%d/leak" % (space.customer.id, space.id))
    assert f.status_code != 200 and SECRET not in f.content, describe(f)
    assert inside4.touched() == 0


# ---------------------------------------------------------------- the queue

def test_queued_ingest_of_inside_origins_records_the_error(space, origin, inside4, inside6):
    c = space.customer
    good = origin.add(jpeg(64, 48))
    redirect = origin.redirect(inside4.url())
    bad = {
        "q-127-0-0-2": (inside4.url(), refused_error("http://" + inside4.netloc, "127.0.0.2")),
        "q-mapped": (inside4.url(host="[::ffff:127.0.0.2]:%d" % inside4.port),
                     refused_error("http://[::ffff:127.0.0.2]:%d" % inside4.port, "::ffff:127.0.0.2")),
        "q-v6": (inside6.url(), refused_error("http://" + inside6.netloc, "::1")),
        "q-zero": ("http://0.0.0.0:%d/x.jpg" % inside4.port,
                   refused_error("http://0.0.0.0:%d" % inside4.port, "0.0.0.0")),
        "q-redirect": (redirect, refused_error("redirect to http://" + inside4.netloc, "127.0.0.2")),
        "q-file": (inside4.url(), refused_error("http://" + inside4.netloc, "127.0.0.2")),
    }
    members = [member(space, "q-good", good)]
    for aid, (url, _) in bad.items():
        m = member(space, aid, url)
        if aid == "q-file":
            m.update({"mediaType": "application/octet-stream", "deliveryChannels": ["file"]})
        members.append(m)
    batch = submit(c, members)
    done = wait_batch(c, batch, timeout=90)
    assert (done["completed"], done["errors"]) == (1, len(bad)), done
    assert sorted(batch_ids(c, done["errorImages"])) == sorted(bad)
    assert get_asset(space, "q-good").get("width") == 64
    for aid, (_, error) in bad.items():
        j = get_asset(space, aid)
        assert j.get("error") == error, j
    assert origin.count(good) == 1 and origin.count(redirect) == 1
    assert inside4.touched() == 0 and inside6.touched() == 0


# ---------------------------------------------------------------- the setting

def _runner_exe(dlcs_var):
    with open(os.path.join(dlcs_var, "run", "runner.pid")) as f:
        pid = int(f.read().split()[0])
    exe = os.readlink("/proc/%d/exe" % pid)
    return exe[:-len(" (deleted)")] if exe.endswith(" (deleted)") else exe


@pytest.mark.parametrize("value,named", [
    ("127.0.0.1/33", "'127.0.0.1/33' has a prefix length above 32"),
    ("127.0.0.0/8, 10.0.0.1/8", "'10.0.0.1/8' has address bits set beyond its prefix length"),
    ("localhost", "'localhost' is not an IPv4 or IPv6 network"),
    ("127.0.0.1;::1", "'127.0.0.1;::1' is not an IPv4 or IPv6 network"),
])
def test_an_invalid_allow_list_stops_the_runner_at_start(dlcs_var, value, named):
    exe = _runner_exe(dlcs_var)
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write("# no database: the runner must stop before it needs one\norigin_allow_networks = %s\n" % value)
        conf.flush()
        env = {k: v for k, v in os.environ.items() if k != "DLCS_CONFIG"}
        p = subprocess.run([exe, "-c", conf.name], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    # 78 (EX_CONFIG): the worker found its configuration unusable, and the
    # supervisor stops the pool instead of replacing it (fcgi/supervise.h)
    assert p.returncode == 78, out
    assert "origin_allow_networks: " + named in out, out
