"""Fixtures for the end-to-end suite. The stack (nginx + FastCGI + MariaDB)
is already running; DLCS_BASE points at it and DLCS_ADMIN_KEY_FILE holds
`key:secret` of the admin customer (1). Every test makes its own customers
and spaces with unique names, so the suite can run again and again against
the same database."""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import Api, Customer, assert_resource, base_url, create_space, describe, uniq  # noqa: E402


def _admin_credentials():
    path = os.environ.get("DLCS_ADMIN_KEY_FILE")
    if not path:
        repo = os.environ.get("DLCS_REPO") or os.path.join(os.path.dirname(__file__), "..", "..")
        var = os.environ.get("DLCS_VAR") or os.path.join(repo, "var")
        path = os.path.join(var, "admin.key")
    with open(path) as f:
        text = f.read().strip()
    key, sep, secret = text.partition(":")
    assert sep and key and secret, "%s must hold key:secret" % path
    return key, secret


@pytest.fixture(scope="session")
def base():
    """The base URL of the stack, e.g. http://127.0.0.1:8181."""
    return base_url()


@pytest.fixture(scope="session")
def anon(base):
    """A session without credentials."""
    s = Api(base)
    yield s
    s.close()


@pytest.fixture(scope="session")
def admin_credentials():
    return _admin_credentials()


@pytest.fixture(scope="session")
def admin(base, admin_credentials):
    """A session authenticated as the admin customer (1)."""
    s = Api(base, auth=admin_credentials)
    r = s.get("/ping")
    assert r.status_code == 200, "stack not answering: %s" % describe(r)
    yield s
    s.close()


@pytest.fixture(scope="session")
def make_customer(base, admin):
    """Factory: make_customer() creates a customer with a unique name as the
    admin, gives it a key, and returns a Customer (id, name, key, secret, api
    = an authenticated session, path = /customers/{id})."""
    made = []

    def make(prefix="cust"):
        name = uniq(prefix)
        r = admin.post("/customers", json={"name": name})
        j = assert_resource(r, 201, "vocab:Customer")
        assert type(j.get("id")) is int, describe(r)
        cid = j["id"]
        r = admin.post("/customers/%d/keys" % cid)
        assert r.status_code == 200, "creating a key: %s" % describe(r)
        k = r.json()
        assert re.fullmatch(r"[0-9a-f]{64}", k.get("secret", "")), describe(r)
        api = Api(base, auth=(k["key"], k["secret"]))
        made.append(api)
        return Customer(cid, name, k["key"], k["secret"], api, j)

    yield make
    for api in made:
        api.close()


@pytest.fixture
def customer(make_customer):
    """A fresh customer of its own."""
    return make_customer()


@pytest.fixture
def space(customer):
    """A fresh space in `customer`."""
    return create_space(customer)


def _e2e_counts(stats):
    passed = [r for r in stats.get("passed", []) if getattr(r, "when", "call") == "call"]
    failed = {r.nodeid for r in stats.get("failed", [])} | {r.nodeid for r in stats.get("error", [])}
    return len([r for r in passed if r.nodeid not in failed]), len(failed)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Remembers the reporter; the line itself is written by the
    pytest_sessionfinish wrapper below so that it comes after pytest's own
    "N passed in Xs" line and is really the last line of the output."""
    config._e2e_reporter = terminalreporter


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    yield
    tr = getattr(session.config, "_e2e_reporter", None) or \
        session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        passed, failed = _e2e_counts(tr.stats)
        tr.write_line("e2e: %d passed, %d failed" % (passed, failed))


# ---------------------------------------------------------------- ingest (added with the queue/ingest tests)

@pytest.fixture(scope="session")
def origin():
    """A loopback HTTP origin (tests/e2e/origin.py) for the whole session:
    origin.add(bytes, ...) serves a new unique path and returns its URL;
    origin.count(url) is how many times it was fetched."""
    from origin import Origin
    o = Origin()
    yield o
    o.close()


@pytest.fixture(scope="session")
def dlcs_repo():
    return os.path.abspath(os.environ.get("DLCS_REPO") or os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="session")
def dlcs_var(dlcs_repo):
    """The stack's state directory ($DLCS_VAR)."""
    return os.path.abspath(os.environ.get("DLCS_VAR") or os.path.join(dlcs_repo, "var"))


@pytest.fixture(scope="session")
def stack_config(dlcs_var):
    """$DLCS_VAR/dlcs.conf as {key: value} (key = value lines, # comments)."""
    conf = {}
    with open(os.path.join(dlcs_var, "dlcs.conf")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            key, sep, value = line.partition("=")
            if sep and key.strip():
                conf[key.strip()] = value.strip()
    return conf


@pytest.fixture(scope="session")
def storage_root(stack_config, dlcs_var):
    """Where the runners store asset files ({root}/{customer}/{space}/{id}/)."""
    root = stack_config.get("storage_root") or os.path.join(dlcs_var, "storage")
    return os.path.abspath(root)


# ---------------------------------------------------------------- IIIF clients (named queries, manifests)

@pytest.fixture(scope="session")
def iiif_client(dlcs_repo, dlcs_var):
    """check(manifest) -> the verdict of real IIIF client libraries on a
    manifest (tests/iiif-client/check.mjs: @iiif/parser and manifesto.js,
    and the IIIF Presentation 3 JSON schema of IIIF/presentation-validator
    when it can be found), asserting that they read it without error."""
    from iiif_client import IiifClient
    c = IiifClient(dlcs_repo, dlcs_var)
    yield c
    c.close()
