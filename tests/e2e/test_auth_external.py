"""The external role provider (api/auth_external.c) and the origin guard:
the provider's URL is the customer's choice and the API workers POST the
visitor's token to it, so it meets the same guard as the runner's origin
fetches (asset/origin_guard.h, origin_allow_networks). Without it a
customer could make the API reach loopback services, the private network
or the cloud metadata endpoint 169.254.169.254.

The test stack opens only 127.0.0.1/32 (.stack/test): a provider there
grants its roles; one on 127.0.0.2 (an "inside" service that counts what
reaches it), 10.0.0.1 or 169.254.169.254 is refused before any connection,
with a page that says why and a 502."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import assert_resource, create_space, describe, role_uri
from origin import jpeg

ORIGIN = "https://viewer.example.org"
TILE = "0,0,256,256/256,/0/default.jpg"
REFUSED = "address is not allowed; the token was not sent"


class _Provider(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(n).decode()
        with self.server.lock:
            self.server.hits += 1
        good = form == "token=" + self.server.token
        if good:
            status, answer = 200, self.server.roles
        elif form == "token=none":  # a provider's "no roles": []
            status, answer = 200, []
        else:
            status, answer = 403, {"error": "unknown token"}
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Provider:
    """A role provider on host: grants roles to the token it knows; counts
    the requests that reach it."""

    def __init__(self, host, token, roles):
        self.server = ThreadingHTTPServer((host, 0), _Provider)
        self.server.daemon_threads = True
        self.server.lock = threading.Lock()
        self.server.hits = 0
        self.server.token = token
        self.server.roles = roles
        self.url = "http://%s:%d/check" % (host, self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hits(self):
        with self.server.lock:
            return self.server.hits

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module", autouse=True)
def only_127_0_0_1_is_open(stack_config):
    assert stack_config.get("origin_allow_networks") == "127.0.0.1/32", stack_config


@pytest.fixture(scope="module")
def site(make_customer, origin):
    c = make_customer("authx")
    sp = create_space(c)
    r = c.api.put(sp.image("click"), json={"mediaType": "image/jpeg", "origin": origin.add(jpeg(600, 400)),
                                           "roles": [role_uri(c)]}, timeout=60)
    assert_resource(r, 201, "vocab:Image")
    r = c.api.put(sp.image("max0"), json={"mediaType": "image/jpeg", "origin": origin.add(jpeg(600, 400)),
                                          "maxUnauthorised": 0}, timeout=60)
    assert_resource(r, 201, "vocab:Image")
    return sp


def external_service(c, url):
    p = c.api.post(c.path + "/roleProviders", json={"type": "external", "configuration": {"url": url}})
    assert p.status_code == 201, describe(p)
    name = "ext-" + uuid.uuid4().hex[:8]
    r = c.api.put(c.path + "/authServices/" + name, json={
        "profile": "active", "label": "Token", "roleProvider": p.json()["@id"]})
    assert r.status_code == 201, describe(r)
    return name


def post_token(anon, c, service, token):
    s = type(anon)(anon.base)
    r = s.post("/auth/v2/access/%d/%s" % (c.id, service), data={"origin": ORIGIN, "token": token})
    return s, r, r.cookies.get("dlcs-auth2-%d" % c.id)


def tile(sp, asset_id="click"):
    return "/iiif-img/%d/%d/%s/%s" % (sp.customer.id, sp.id, asset_id, TILE)


def test_provider_on_an_allowed_address_grants_its_roles(site, anon):
    c = site.customer
    token = uuid.uuid4().hex
    p = Provider("127.0.0.1", token, [role_uri(c)])
    try:
        svc = external_service(c, p.url)
        s, r, cookie = post_token(anon, c, svc, token + "x")
        assert r.status_code == 401 and not cookie, describe(r)
        # no roles granted is no session: one would open every asset
        # restricted by maxUnauthorised alone
        s, r, cookie = post_token(anon, c, svc, "none")
        assert r.status_code == 401 and not cookie, describe(r)
        assert s.get(tile(site, "max0")).status_code == 401
        s, r, cookie = post_token(anon, c, svc, token)
        assert r.status_code == 200 and cookie, describe(r)
        assert s.get(tile(site)).status_code == 200
        assert s.get(tile(site, "max0")).status_code == 200
        assert p.hits() == 3
    finally:
        p.close()


@pytest.mark.parametrize("host", ["127.0.0.2", "10.0.0.1", "169.254.169.254"])
def test_provider_inside_the_platform_is_refused(site, anon, host):
    c = site.customer
    token = uuid.uuid4().hex
    if host == "127.0.0.2":
        p = Provider(host, token, [role_uri(c)])
        url = p.url
    else:
        p, url = None, "http://%s/latest/meta-data/" % host
    try:
        svc = external_service(c, url)
        s, r, cookie = post_token(anon, c, svc, token)
        assert r.status_code == 502 and not cookie, describe(r)
        assert REFUSED in r.text and token not in r.text, r.text
        assert s.get(tile(site)).status_code == 401
        if p:
            assert p.hits() == 0  # nothing reached it
    finally:
        if p:
            p.close()
