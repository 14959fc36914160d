"""The deployment README.md describes, followed literally (tests/deploy/stack):
make install into a temporary prefix, the three pools run as the installed
systemd units run them, as an unprivileged user, behind a stock-style nginx
(root master, unprivileged workers) that serves the installed example site
over TLS with a self-signed certificate. The suite's smoke checks pass
through it, and every link, Location and redirect comes out https://.

.stack/test runs it after the e2e suite, on the test stack's MariaDB
(DLCS_DEPLOY_MYSQL_SOCK)."""

import os
import re
import subprocess
import sys
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from helpers import Api, assert_created, assert_resource, create_space, describe, uniq  # noqa: E402
from origin import Origin, jpeg  # noqa: E402

PORT = int(os.environ.get("DLCS_DEPLOY_PORT", "8790"))
DIR = os.environ.get("DLCS_DEPLOY_DIR", "/tmp/dlcs-deploy-%d" % PORT)
BASE = "https://localhost:%d" % PORT
CERT = os.path.join(DIR, "tls", "cert.pem")
CLOSE = {"Connection": "close"}  # a reload closes kept-alive connections
TILE_V3 = "0,0,256,256/256,256/0/default.jpg"


class TlsApi(Api):
    """An Api that trusts the deployment's self-signed certificate (per
    request: requests prefers $REQUESTS_CA_BUNDLE to a session's verify)."""

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("verify", CERT)
        return super().request(method, url, *args, **kwargs)


class Deployed:
    def __init__(self):
        self.dir = DIR
        self.prefix = os.path.join(DIR, "prefix")
        with open(os.path.join(DIR, "keys", "admin.key")) as f:
            key, _, secret = f.read().strip().partition(":")
        self.admin = self.session((key, secret))
        self.anon = self.session(None)

    def session(self, auth):
        return TlsApi(BASE, auth=auth)

    def customer(self):
        r = self.admin.post("/customers", json={"name": uniq("deploy")})
        c = assert_resource(r, 201, "vocab:Customer")
        r = self.admin.post("/customers/%d/keys" % c["id"])
        assert r.status_code == 200, describe(r)
        k = r.json()
        api = self.session((k["key"], k["secret"]))

        class C:
            pass

        out = C()
        out.id, out.name, out.api, out.path = c["id"], c["name"], api, "/customers/%d" % c["id"]
        return out


@pytest.fixture(scope="module")
def deployed():
    stack = os.path.join(HERE, "stack")
    if not os.environ.get("DLCS_DEPLOY_MYSQL_SOCK"):
        pytest.fail("DLCS_DEPLOY_MYSQL_SOCK is not set (.stack/test sets it)")
    subprocess.run([stack, "up"], check=True)
    try:
        yield Deployed()
    finally:
        subprocess.run([stack, "down"], check=False)


@pytest.fixture(scope="module")
def origin():
    o = Origin()
    yield o
    o.close()


@pytest.fixture(scope="module")
def ingested(deployed, origin):
    """A customer, a space and an image ingested through the deployment."""
    c = deployed.customer()
    space = create_space(c)
    r = c.api.put(space.image("one"), json={"mediaType": "image/jpeg", "origin": origin.add(jpeg(600, 400))},
                  timeout=60)
    body = assert_resource(r, 201, "vocab:Image")
    assert body.get("ingesting") is False, describe(r)
    return c, space


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))


def children(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            out += [int(p) for p in f.read().split()]
    return out


def test_installed_files(deployed):
    p = deployed.prefix
    for rel in ["bin/dlcs-api", "bin/dlcs-image", "bin/dlcs-runner", "bin/dlcs-admin",
                "share/dlcs/schema/001-core.sql", "share/dlcs/nginx/dlcs.conf",
                "share/dlcs/nginx/dlcs-site.conf.example", "share/dlcs/sudoers.example",
                "etc/dlcs/dlcs.conf.example", "lib/systemd/system/dlcs-api.service",
                "lib/systemd/system/dlcs-image.service", "lib/systemd/system/dlcs-runner.service",
                "share/man/man8/dlcs-api.8", "share/man/man8/dlcs-image.8", "share/man/man8/dlcs-runner.8",
                "share/man/man8/dlcs-admin.8", "share/man/man5/dlcs.conf.5", "etc/logrotate.d/dlcs"]:
        assert os.path.isfile(os.path.join(p, rel)), rel
    # logrotate.d's file: the installed prefix's log, and the reopen signal
    with open(os.path.join(p, "etc/logrotate.d/dlcs")) as f:
        text = f.read()
    assert re.search(r"^%s \{$" % re.escape(os.path.join(p, "var/log/dlcs/dlcs.log")), text, re.M), text
    assert "pkill -USR1" in text, text
    for unit in ("dlcs-api", "dlcs-image", "dlcs-runner"):
        with open(os.path.join(p, "lib/systemd/system/%s.service" % unit)) as f:
            text = f.read()
        assert re.search(r"^User=dlcsdeploy$", text, re.M), unit
        assert re.search(r"^Restart=on-failure$", text, re.M), unit
        assert re.search(r"^StandardError=journal$", text, re.M), unit
    # Every key of the table is in the example, and in the manual page.
    with open(os.path.join(p, "etc/dlcs/dlcs.conf.example")) as f:
        example = f.read()
    with open(os.path.join(p, "share/man/man5/dlcs.conf.5")) as f:
        man = f.read()
    keys = re.findall(r"^#?(\w+) =", example, re.M)
    assert "storage_root" in keys and "nginx_reload_command" in keys and len(keys) > 30
    for k in keys:
        assert ".It Cm %s\n" % k in man, k


def test_processes_run_as_unprivileged_users(deployed):
    import pwd
    dlcs, web = pwd.getpwnam("dlcsdeploy").pw_uid, pwd.getpwnam("dlcsdeployweb").pw_uid
    for unit in ("dlcs-api", "dlcs-image", "dlcs-runner"):
        with open(os.path.join(DIR, unit + ".pid")) as f:
            sup = int(f.read())
        assert uid_of(sup) == dlcs, unit
        kids = children(sup)
        assert kids, "%s: no workers" % unit
        assert all(uid_of(k) == dlcs for k in kids), unit
    with open(os.path.join(DIR, "nginx", "nginx.pid")) as f:
        master = int(f.read())
    workers = children(master)
    assert workers and all(uid_of(w) == web for w in workers)
    # The sockets' directory: only nginx's group may enter it.
    st = os.stat(os.path.join(DIR, "run"))
    assert st.st_mode & 0o777 == 0o750 and st.st_uid == dlcs


def test_api_over_tls_links_are_https(deployed):
    r = deployed.anon.get("/")
    assert r.status_code == 200, describe(r)
    assert r.json()["@id"].startswith(BASE + "/"), describe(r)
    r = deployed.admin.get("/customers")
    assert r.status_code == 200, describe(r)
    assert all(m["@id"].startswith(BASE + "/customers/") for m in r.json()["member"])
    c = deployed.customer()
    r = c.api.post(c.path + "/spaces", json={"name": uniq("space")})
    body = assert_created(r, "vocab:Space")
    assert r.headers["Location"].startswith(BASE + c.path + "/spaces/"), describe(r)
    assert body["@id"] == r.headers["Location"]


def test_plain_http_redirects_to_https(deployed):
    r = requests.get("http://localhost:%d/customers" % (PORT + 1), allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == BASE + "/customers"


def test_ingest_info_json_and_tiles(deployed, ingested):
    c, space = ingested
    path = "/iiif-img/%d/%d/one" % (c.id, space.id)
    r = deployed.anon.get(path, allow_redirects=False)
    assert r.status_code == 303, describe(r)
    assert r.headers["Location"] == BASE + path + "/info.json"
    r = deployed.anon.get(path + "/info.json")
    assert r.status_code == 200, describe(r)
    info = r.json()
    assert info["id"] == BASE + path and info["width"] == 600 and info["height"] == 400
    # A stored tile of an open asset: nginx sends the file (the storage its
    # workers read through their group); a computed region: dlcs-image.
    r = deployed.anon.get(path + "/" + TILE_V3)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg", describe(r)
    assert r.content[:2] == b"\xff\xd8"
    r = deployed.anon.get(path + "/10,10,300,200/150,/0/default.png")
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG", (r.status_code, dict(r.headers))
    r = deployed.anon.get("/thumbs/%d/%d/one/info.json" % (c.id, space.id))
    assert r.status_code == 200 and r.json()["id"].startswith(BASE + "/thumbs/"), describe(r)


def test_stored_manifest_sent_by_nginx(deployed, ingested):
    """A named query's manifest is stored by dlcs-api (its user) and sent by
    nginx (its workers' user) from the next request on: the installed site
    has the internal location, and the file is readable across users."""
    c, space = ingested
    r = c.api.patch(space.image("one"), json={"string1": "deploy-book", "number1": 1})
    assert r.status_code == 200, describe(r)
    path = "/iiif-resource/%d/manifest/deploy-book" % c.id
    first = deployed.anon.get(path)
    assert first.status_code == 200 and "Last-Modified" not in first.headers, describe(first)
    assert first.json()["id"] == BASE + path
    second = deployed.anon.get(path)
    assert second.status_code == 200, describe(second)
    assert "Last-Modified" in second.headers, dict(second.headers)  # nginx sent the stored file
    assert second.content == first.content and second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"] == "public, max-age=3600"


def test_custom_header_reaches_a_tile(deployed, ingested):
    """The runner, not root, renders the include and reloads the root nginx
    master through the installed sudoers rule."""
    c, space = ingested
    r = c.api.post(c.path + "/customHeaders", json={"key": "X-Deploy", "value": "yes"}, headers=CLOSE)
    assert_created(r, "vocab:CustomHeader")
    url = "/iiif-img/%d/%d/one/%s" % (c.id, space.id, TILE_V3)
    end = time.time() + 20
    while True:
        try:
            r = deployed.anon.get(url, headers=CLOSE)
        except requests.exceptions.ConnectionError:
            continue
        assert r.status_code == 200, describe(r)
        if r.headers.get("X-Deploy") == "yes":
            break
        if time.time() > end:
            with open(os.path.join(DIR, "log", "dlcs-runner.log")) as f:
                log = f.read()[-3000:]
            pytest.fail("the header did not reach the tile within 20 s; runner log:\n" + log)
        time.sleep(0.1)
    # And dlcs-image's answers carry it too (on a new session: a connection
    # kept alive from before the reload may still reach an old nginx worker).
    fresh = deployed.session(None)
    r = fresh.get("/iiif-img/%d/%d/one/10,10,300,200/150,/0/default.png" % (c.id, space.id), headers=CLOSE)
    assert r.status_code == 200 and r.headers.get("X-Deploy") == "yes", (r.status_code, dict(r.headers))
    fresh.close()


def test_help_and_version_touch_nothing(deployed, tmp_path):
    """--help, --version, a command's --help and a wrong command line answer
    at once, without the database (whose socket here does not exist) and,
    but for dlcs-admin COMMAND --help, without the configuration."""
    conf = tmp_path / "dlcs.conf"
    conf.write_text("db_socket = /nonexistent/mysqld.sock\ndb_connect_timeout = 30\n")
    env = dict(os.environ, DLCS_CONFIG=str(conf))
    bindir = os.path.join(deployed.prefix, "bin")

    def run(*argv):
        t0 = time.time()
        p = subprocess.run([os.path.join(bindir, argv[0])] + list(argv[1:]), env=env,
                           capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        assert time.time() - t0 < 5, argv
        assert "unavailable" not in p.stderr and "connect" not in p.stderr.lower(), (argv, p.stderr)
        return p

    for prog in ("dlcs-api", "dlcs-image", "dlcs-runner", "dlcs-admin"):
        p = run(prog, "--version")
        assert p.returncode == 0 and re.fullmatch(r"%s \d+\.\d+\.\d+\n" % prog, p.stdout), (prog, p)
        p = run(prog, "--help")
        assert p.returncode == 0 and p.stdout.startswith("usage: %s " % prog), (prog, p)
        assert "%s(8)" % prog in p.stdout
    p = run("dlcs-api", "-w", "2", "--help")
    assert p.returncode == 0 and "-w WORKERS" in p.stdout
    for cmd in ("migrate", "bootstrap", "create-key", "render-headers", "publish-assets", "config"):
        p = run("dlcs-admin", cmd, "--help")
        assert p.returncode == 0 and p.stdout.startswith("usage: dlcs-admin [-c CONFIG] %s" % cmd), (cmd, p)
    p = run("dlcs-admin", "no-such-command")
    assert p.returncode == 2 and "unknown command 'no-such-command'" in p.stderr and "usage:" in p.stderr
    p = run("dlcs-admin", "create-key")  # a missing argument
    assert p.returncode == 2 and "usage:" in p.stderr


def test_a_runner_without_its_database_says_so(deployed, tmp_path):
    """A runner whose database is unreachable logs it at once (and every 30 s
    while it lasts, tests/unit/test_outage), instead of "started" and then
    nothing."""
    conf = tmp_path / "dlcs.conf"
    conf.write_text("db_socket = /nonexistent/mysqld.sock\nstorage_root = %s\n" % tmp_path)
    p = subprocess.Popen([os.path.join(deployed.prefix, "bin", "dlcs-runner"), "-c", str(conf), "-w", "1"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2.5)
    finally:
        p.terminate()
        out, _ = p.communicate(timeout=20)
    assert p.returncode == 0, out
    assert re.search(r"dlcs-runner\[\d+\] error database unreachable: .*mysqld\.sock", out), out
    assert "died" not in out, out  # retried in the runner, not by restarting it


def admin_status(deployed, conf=None):
    env = dict(os.environ, DLCS_CONFIG=conf or os.path.join(deployed.prefix, "etc", "dlcs", "dlcs.conf"))
    return subprocess.run(["runuser", "-u", "dlcsdeploy", "--", os.path.join(deployed.prefix, "bin", "dlcs-admin"),
                           "status"], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_admin_status(deployed, ingested, origin):
    """dlcs-admin status: the database and its migrations, the queue, the
    live runners with their heartbeat, the last day's errors, storage; a
    problem is a PROBLEM line and exit 1."""
    c, space = ingested
    r = c.api.put(space.image("broken"), json={"mediaType": "image/jpeg",
                                               "origin": origin.add(b"not found", status=404)}, timeout=60)
    assert r.status_code == 502 and "404" in r.text, describe(r)  # the synchronous ingest failed
    sock = os.environ["DLCS_DEPLOY_MYSQL_SOCK"]
    subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs_deploy", "-e",
                    "INSERT INTO runners VALUES ('ghost:1', 'ghost', 1, UTC_TIMESTAMP() - INTERVAL 2 HOUR,"
                    " UTC_TIMESTAMP() - INTERVAL 2 HOUR)"], check=True)
    p = admin_status(deployed)
    out = p.stdout
    assert p.returncode == 0, out + p.stderr
    assert "PROBLEM" not in out
    files = [f for f in os.listdir(os.path.join(deployed.prefix, "share", "dlcs", "schema")) if f.endswith(".sql")]
    n, last = len(files), max(files)[:3]
    assert re.search(r"^database  ok: MariaDB \S+, %d migrations applied \(the last %s\) of %d in schema_dir$"
                     % (n, last, n), out, re.M), out
    assert re.search(r"^queue     \d+ item\(s\), \d+ in a runner's hand", out, re.M), out
    assert re.search(r"^runners   2 live, 1 stale ", out, re.M), out
    live = re.findall(r"^  live  (\S+)  last heartbeat (\d+) s ago, started .* ago, \d+ item\(s\) in hand$",
                      out, re.M)
    assert len(live) == 2 and all(int(age) <= 10 for _, age in live), out
    assert re.search(r"^  stale ghost:1  last heartbeat 2 h ago", out, re.M), out
    assert re.search(r"^errors    [1-9]\d* ingest error\(s\) in the last 24 h; the latest:$", out, re.M), out
    assert re.search(r"^  \S+Z  %d/%d/broken  origin: " % (c.id, space.id), out, re.M), out
    assert re.search(r"^storage   [1-9]\d* image\(s\) recorded: ", out, re.M), out
    assert re.search(r"^          %s: its filesystem .* free \(\d+%%\)$"
                     % re.escape(os.path.join(deployed.prefix, "var", "lib", "dlcs", "storage")), out, re.M), out
    # The database unreachable: said, and exit 1.
    conf = os.path.join(deployed.dir, "unreachable.conf")
    with open(conf, "w") as f:
        f.write("db_socket = /nonexistent/mysqld.sock\nstorage_root = %s\n" % deployed.dir)
    os.chmod(conf, 0o644)
    p = admin_status(deployed, conf)
    assert p.returncode == 1 and re.search(r"^PROBLEM database: unreachable: .*mysqld\.sock", p.stdout, re.M), p
