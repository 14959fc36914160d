"""Shared helpers for the end-to-end suite: an HTTP session bound to the
stack's base URL, and assertions for the shapes every API response has
(resources, collections, errors)."""

import json
import os
import re
import subprocess
import uuid
from urllib.parse import parse_qs, quote, unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

TIMEOUT = 10
DLCS_CONTEXT = "https://dlcs.github.io/vocab/context/future.json"
HYDRA_CONTEXT = "http://www.w3.org/ns/hydra/context.jsonld"
LD_JSON = "application/ld+json"


def base_url():
    return os.environ.get("DLCS_BASE", "http://127.0.0.1:8080").rstrip("/")


def uniq(prefix="e2e"):
    """A name no other test run has used (fits customer/space name rules)."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:16])


class Api(requests.Session):
    """A requests.Session that prefixes relative paths with the base URL and
    always applies a timeout."""

    def __init__(self, base, auth=None):
        super().__init__()
        self.base = base.rstrip("/")
        # nginx closes idle kept-alive client connections when it reloads,
        # which every custom-header change makes it do: a request sent on
        # such a connection at that moment finds it closed, unanswered. Like
        # a browser, retry a GET or HEAD once on a new connection then (no
        # retry on a status); other methods: see request().
        retry = Retry(total=1, connect=1, read=1, status=0, other=0, redirect=0,
                      allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False)
        self.mount("http://", HTTPAdapter(max_retries=retry))
        self.mount("https://", HTTPAdapter(max_retries=retry))
        if auth is not None:
            self.auth = auth

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        if url.startswith("/"):
            url = self.base + url
        try:
            return super().request(method, url, *args, **kwargs)
        except requests.exceptions.ConnectionError as e:
            # A kept-alive connection that nginx closed as it reloaded (see
            # above) is reset before any byte of the request is read, so
            # nothing was done: like Chromium on a reused connection, send a
            # POST/PUT/PATCH/DELETE once more on a new one. A timeout is not
            # such a reset and is never retried.
            if method.upper() in ("GET", "HEAD") or isinstance(e, requests.exceptions.ConnectTimeout) \
                    or "Connection aborted" not in str(e):
                raise
            return super().request(method, url, *args, **kwargs)

    def follow(self, link, **kwargs):
        """GET an absolute link from a response, against our base (the server
        may build links from a configured public base URL)."""
        parts = urlsplit(link)
        path = parts.path
        if parts.query:
            path += "?" + parts.query
        prefix = urlsplit(self.base).path.rstrip("/")
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix):]
        return self.get(path, **kwargs)


def describe(r):
    """One line about a response, for assertion messages."""
    body = r.text if r.text is not None else ""
    if len(body) > 600:
        body = body[:600] + "..."
    return "%s %s -> %s %s" % (r.request.method, r.request.url, r.status_code, body)


def media_type(r):
    return r.headers.get("Content-Type", "").split(";")[0].strip().lower()


def json_body(r, status=None):
    """Checks status (if given) and Content-Type application/ld+json and
    returns the parsed body."""
    if status is not None:
        assert r.status_code == status, "expected %s: %s" % (status, describe(r))
    assert media_type(r) == LD_JSON, "Content-Type %r is not %s: %s" % (
        r.headers.get("Content-Type"), LD_JSON, describe(r))
    try:
        return r.json()
    except ValueError:
        raise AssertionError("body is not JSON: %s" % describe(r))


def assert_resource(r, status, rtype, id_suffix=None):
    """A vocab resource: status, ld+json, @context, @type, @id (ending with
    id_suffix when given). Returns the body."""
    j = json_body(r, status)
    assert isinstance(j, dict), describe(r)
    assert j.get("@context") == DLCS_CONTEXT, "@context: %s" % describe(r)
    assert j.get("@type") == rtype, "@type is not %s: %s" % (rtype, describe(r))
    assert isinstance(j.get("@id"), str) and j["@id"].startswith("http"), \
        "@id must be an absolute URL: %s" % describe(r)
    if id_suffix is not None:
        assert j["@id"].endswith(id_suffix), "@id does not end with %s: %s" % (id_suffix, describe(r))
    return j


def assert_created(r, rtype, id_suffix=None):
    """201 with a Location equal to the body's @id."""
    j = assert_resource(r, 201, rtype, id_suffix)
    loc = r.headers.get("Location")
    assert loc, "201 without Location: %s" % describe(r)
    assert loc == j["@id"], "Location %r differs from @id %r" % (loc, j["@id"])
    return j


def assert_error(r, status, field=None, mentions=None):
    """The error body: ld+json, @type Error, statusCode == HTTP status, a
    title and a description; the description names `field` (quoted, as in
    "'width' is read-only") and contains `mentions` when given."""
    j = json_body(r, status)
    assert isinstance(j, dict), describe(r)
    assert j.get("@type") == "Error", "@type is not Error: %s" % describe(r)
    assert j.get("statusCode") == status, "statusCode != %s: %s" % (status, describe(r))
    assert isinstance(j.get("title"), str) and j["title"], "no title: %s" % describe(r)
    assert isinstance(j.get("description"), str) and j["description"], "no description: %s" % describe(r)
    if field is not None:
        assert ("'%s'" % field) in j["description"], \
            "description does not name '%s': %s" % (field, describe(r))
    if mentions is not None:
        assert mentions in j["description"], \
            "description does not mention %r: %s" % (mentions, describe(r))
    if status == 405:
        assert r.headers.get("Allow"), "405 without Allow: %s" % describe(r)
    if status == 401:
        assert r.headers.get("WWW-Authenticate") == 'Basic realm="DLCS-API"', \
            "401 WWW-Authenticate is %r" % r.headers.get("WWW-Authenticate")
    return j


def allow_set(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


def assert_collection(r, member_type=None, status=200):
    """A hydra Collection: @type Collection, totalItems int, pageSize int,
    member list no longer than pageSize (each of member_type when given)."""
    j = json_body(r, status)
    assert isinstance(j, dict), describe(r)
    assert j.get("@context") == HYDRA_CONTEXT, "collection @context: %s" % describe(r)
    assert j.get("@type") == "Collection", "@type is not Collection: %s" % describe(r)
    assert isinstance(j.get("@id"), str), "collection without @id: %s" % describe(r)
    assert type(j.get("totalItems")) is int and j["totalItems"] >= 0, "totalItems: %s" % describe(r)
    assert type(j.get("pageSize")) is int and j["pageSize"] >= 0, "pageSize: %s" % describe(r)
    assert isinstance(j.get("member"), list), "member is not a list: %s" % describe(r)
    assert len(j["member"]) <= j["pageSize"], "more members than pageSize: %s" % describe(r)
    assert len(j["member"]) <= j["totalItems"], "more members than totalItems: %s" % describe(r)
    if member_type is not None:
        for m in j["member"]:
            assert m.get("@type") == member_type, "member @type %r is not %s" % (m.get("@type"), member_type)
    return j


def query_of(link):
    """The query parameters of a link, as {name: value} (single values)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def walk(api, path, params=None, member_type=None, max_pages=100):
    """Follows view.next from the first page; returns (pages, members) where
    pages is the list of parsed bodies."""
    r = api.get(path, params=params)
    pages = [assert_collection(r, member_type)]
    members = list(pages[0]["member"])
    while "view" in pages[-1] and "next" in pages[-1]["view"]:
        assert len(pages) < max_pages, "view.next never ends"
        r = api.follow(pages[-1]["view"]["next"])
        pages.append(assert_collection(r, member_type))
        members.extend(pages[-1]["member"])
    return pages, members


def seg(asset_id):
    """Percent-encodes an asset id as one path segment."""
    return quote(asset_id, safe="")


def q(obj):
    """The ?q= value for a query object."""
    return json.dumps(obj, separators=(",", ":"))


def ids(members):
    return [m["id"] for m in members]


class Customer:
    def __init__(self, cid, name, key, secret, api, body):
        self.id = cid
        self.name = name
        self.key = key
        self.secret = secret
        self.api = api
        self.body = body
        self.path = "/customers/%d" % cid

    def __repr__(self):
        return "Customer(%d, %s)" % (self.id, self.name)


class Space:
    def __init__(self, customer, sid, name, body):
        self.customer = customer
        self.id = sid
        self.name = name
        self.body = body
        self.path = "%s/spaces/%d" % (customer.path, sid)

    def image(self, asset_id):
        return "%s/images/%s" % (self.path, seg(asset_id))

    def __repr__(self):
        return "Space(%d/%d)" % (self.customer.id, self.id)


def create_space(customer, name=None, **fields):
    body = dict(fields)
    body["name"] = name or uniq("space")
    r = customer.api.post(customer.path + "/spaces", json=body)
    j = assert_created(r, "vocab:Space")
    assert type(j.get("id")) is int, describe(r)
    return Space(customer, j["id"], j["name"], j)


def role_uri(customer, name="clickthrough"):
    """The URI of customer's role `name` (CONTRACT section 9); clickthrough
    is every customer's."""
    return "%s%s/roles/%s" % (base_url(), customer.path, name)


def put_asset(where, asset_id, status=201, media="image/jpeg", **fields):
    """PUTs an asset into Space `where` (no origin unless given) and checks
    the status (201 new, 200 replaced); returns the body."""
    body = {"mediaType": media}
    body.update(fields)
    r = where.customer.api.put(where.image(asset_id), json=body)
    if status == 201:
        j = assert_created(r, "vocab:Image")
    else:
        j = assert_resource(r, status, "vocab:Image")
    want = "/customers/%d/spaces/%d/images/%s" % (where.customer.id, where.id, asset_id)
    assert unquote(j["@id"]).endswith(want), "@id %r does not end with %s" % (j["@id"], want)
    return j


# ---------------------------------------------------------------- the custom-headers include

def change_counter(dlcs_var):
    """The custom headers' change counter, which the API moves on after each change."""
    sock = os.path.join(dlcs_var, "run", "mysqld.sock")
    out = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-N", "-B", "-e",
                          "SELECT generation FROM change_counters WHERE name = 'custom_headers'"],
                         check=True, timeout=30, capture_output=True, text=True).stdout.strip()
    return int(out or 0)


def include_generation(text):
    """The change counter an include was rendered for (its first line), or -1."""
    m = re.match(r"# generation (\d+) ", text)
    return int(m.group(1)) if m else -1


# ---------------------------------------------------------------- dlcs-admin

def admin_command(dlcs_var, *args, stdin=None):
    """Runs the stack's own dlcs-admin (next to its running dlcs-runner or
    dlcs-api) with its configuration, stdin (text) on its standard input;
    returns (exit status, output)."""
    exe = None
    for pool in ("runner", "api"):
        try:
            with open(os.path.join(dlcs_var, "run", pool + ".pid")) as f:
                pids = [int(p) for p in f.read().split() if p.isdigit()]
        except FileNotFoundError:
            continue
        for pid in pids:
            try:
                path = os.readlink("/proc/%d/exe" % pid)
            except OSError:
                continue
            cand = os.path.join(os.path.dirname(path.replace(" (deleted)", "")), "dlcs-admin")
            if os.access(cand, os.X_OK):
                exe = cand
                break
        if exe:
            break
    assert exe, "no dlcs-admin next to the stack's programs (run/runner.pid, run/api.pid)"
    env = dict(os.environ, DLCS_CONFIG=os.path.join(dlcs_var, "dlcs.conf"))
    p = subprocess.run([exe] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       input=stdin.encode("utf-8") if stdin is not None else None,
                       stdin=subprocess.DEVNULL if stdin is None else None, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace")
