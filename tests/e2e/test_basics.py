"""The entry point, /ping, the shared anonymous lists, routing errors
(404/405), authentication (401) and request-body handling (400/413/415)."""

import base64
import json
import os
import signal
import subprocess
import time

import pytest

import pools
from helpers import (allow_set, assert_collection, assert_created, assert_error, assert_resource,
                     describe, json_body, uniq)


# ---------------------------------------------------------------- entry point, ping

def test_entry_point_is_anonymous_and_links_everything(anon):
    j = assert_resource(anon.get("/"), 200, "vocab:EntryPoint")
    for link in ("customers", "queue", "storagePolicies", "thumbnailPolicies",
                 "imageOptimisationPolicies", "originStrategies"):
        assert isinstance(j.get(link), str), "entry point lacks link %r: %s" % (link, j)
        assert j[link].endswith("/" + link), "%s link is %r" % (link, j[link])


def test_ping_is_anonymous_and_ok(anon):
    r = anon.get("/ping")
    j = json_body(r, 200)
    assert j.get("status") == "ok", describe(r)
    # each check by name (a failed one: 503, "failed" with its reason)
    assert j.get("checks") == {"database": {"status": "ok"}, "storage": {"status": "ok"},
                                 "runners": {"status": "ok"}}, describe(r)
    assert r.headers.get("Cache-Control") == "no-store"


def _sql(dlcs_var, statement):
    sock = os.path.join(dlcs_var, "run", "mysqld.sock")
    return subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-N", "-B", "-e",
                           statement], check=True, timeout=30, capture_output=True, text=True).stdout


def test_ping_names_the_runners_check_when_none_is_live(anon, dlcs_var):
    # the runner pool held still (SIGSTOP: no beat, no replacement) and its
    # heartbeats made old: no runner is live, so nothing queued is ingested
    sup = pools.supervisor(dlcs_var, "runner")
    assert sup, "no runner pool under %s" % dlcs_var
    held = [sup] + pools.workers(dlcs_var, "runner")
    for pid in held:
        os.kill(pid, signal.SIGSTOP)
    try:
        _sql(dlcs_var, "UPDATE runners SET heartbeat = UTC_TIMESTAMP(6) - INTERVAL 1 HOUR")
        r = anon.get("/ping")
        j = json_body(r, 503)
        assert j.get("status") == "failed", describe(r)
        checks = j.get("checks", {})
        assert checks.get("database") == {"status": "ok"}, describe(r)
        assert checks.get("storage") == {"status": "ok"}, describe(r)
        assert checks.get("runners", {}).get("status") == "failed", describe(r)
        assert "none live" in checks["runners"].get("reason", ""), describe(r)
        assert r.headers.get("Cache-Control") == "no-store"
    finally:
        for pid in reversed(held):
            os.kill(pid, signal.SIGCONT)
    # the runners beat again (every few seconds) and /ping recovers
    deadline = time.time() + 30
    while anon.get("/ping").status_code != 200:
        assert time.time() < deadline, "no runner beat again after SIGCONT: %s" % describe(anon.get("/ping"))
        time.sleep(0.2)


def test_ping_with_wrong_method_is_405_with_allow(admin):
    r = admin.post("/ping", json={})
    assert_error(r, 405)
    assert "GET" in allow_set(r), "Allow: %r" % r.headers.get("Allow")
    assert "POST" not in allow_set(r)


# ---------------------------------------------------------------- routing errors

@pytest.mark.parametrize("path", ["/nope", "/customers/1/nope", "/customers/1/spaces/1/images/x/y/z",
                                  "/ping/extra", "/storagePolicies/default/extra"])
def test_unknown_path_is_404_json(admin, path):
    assert_error(admin.get(path), 404)


@pytest.mark.parametrize("method,path_tail,allowed", [
    ("DELETE", "", {"GET", "PATCH"}),
    ("PUT", "/spaces", {"GET", "POST"}),
    ("POST", "/spaces/1", {"GET", "PUT", "PATCH", "DELETE"}),
    ("PUT", "/allImages", {"GET", "POST", "PATCH"}),
    ("GET", "/keys/00000000-0000-0000-0000-000000000000", {"DELETE"}),
    ("POST", "/spaces/1/images/abc", {"GET", "PUT", "PATCH", "DELETE"}),
    ("DELETE", "/spaces/1/images", {"GET", "PATCH"}),
    ("POST", "/storage", {"GET"}),
])
def test_known_path_wrong_method_is_405_with_allow(customer, method, path_tail, allowed):
    r = customer.api.request(method, customer.path + path_tail, json={})
    assert_error(r, 405)
    got = allow_set(r)
    assert allowed <= got, "Allow %r lacks %r" % (r.headers.get("Allow"), allowed)
    assert method not in got, "Allow %r lists the refused method" % r.headers.get("Allow")


def test_put_on_customers_collection_is_405(admin):
    r = admin.put("/customers", json={})
    assert_error(r, 405)
    assert {"GET", "POST"} <= allow_set(r)


@pytest.mark.parametrize("bad", ["abc", "2a", "1.0", "0x10", "+1", "1e3"])
def test_non_decimal_customer_id_is_404(admin, bad):
    assert_error(admin.get("/customers/" + bad), 404)


@pytest.mark.parametrize("bad", ["abc", "1x", "1.5"])
def test_non_decimal_space_id_is_404(customer, bad):
    assert_error(customer.api.get(customer.path + "/spaces/" + bad), 404)


# Numbers that cannot be ids (issue 8: ids start at 1) are the client's
# error, naming the segment.
@pytest.mark.parametrize("bad", ["-3", "0", "00", "2147483648", "99999999999999999999"])
def test_number_that_is_not_an_id_is_400(admin, customer, bad):
    assert_error(admin.get("/customers/" + bad), 400, field=bad)
    assert_error(customer.api.get(customer.path + "/spaces/" + bad), 400, field=bad)


# ---------------------------------------------------------------- authentication

def _basic(value):
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}


def test_no_credentials_is_401_with_www_authenticate(anon, customer):
    assert_error(anon.get(customer.path), 401)
    assert_error(anon.get(customer.path + "/spaces"), 401)
    assert_error(anon.get("/customers"), 401)
    assert_error(anon.post("/customers", json={"name": uniq()}), 401)


def test_no_credentials_on_nonexistent_customer_is_401(anon):
    assert_error(anon.get("/customers/999999999/spaces"), 401)
    assert_error(anon.get("/customers/999999999"), 401)


def test_bad_secret_is_401(anon, customer):
    r = anon.get(customer.path, headers=_basic(customer.key + ":" + "0" * 64))
    assert_error(r, 401)


def test_unknown_key_is_401(anon, customer):
    r = anon.get(customer.path, headers=_basic("00000000-0000-0000-0000-000000000000:" + customer.secret))
    assert_error(r, 401)


@pytest.mark.parametrize("header", ["Basic", "Basic !!!notbase64", "Bearer abc",
                                    "Basic " + base64.b64encode(b"nocolon").decode(), "Basic Og=="])
def test_malformed_authorization_is_401(anon, customer, header):
    assert_error(anon.get(customer.path, headers={"Authorization": header}), 401)


def test_customer_key_works_on_own_customer(customer):
    j = assert_resource(customer.api.get(customer.path), 200, "vocab:Customer", customer.path)
    assert j["name"] == customer.name


# ---------------------------------------------------------------- request bodies

def _spaces(customer):
    return customer.path + "/spaces"


@pytest.mark.parametrize("raw", [b'{"name": "x"', b'{"name": }', b"{name: 1}", b'{"name":"x"} trailing',
                                 b"\xff\xfe", b'{"name":"\xff"}', b"{'name':'x'}"])
def test_malformed_json_is_400(customer, raw):
    r = customer.api.post(_spaces(customer), data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400)


@pytest.mark.parametrize("raw", [b"[]", b'[{"name":"x"}]', b'"x"', b"42", b"null", b"true"])
def test_json_body_not_an_object_is_400(customer, raw):
    r = customer.api.post(_spaces(customer), data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400)


def test_empty_body_where_one_is_required_is_400(customer):
    r = customer.api.post(_spaces(customer), data=b"", headers={"Content-Type": "application/json"})
    assert_error(r, 400)


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "text/html",
                                   "multipart/form-data; boundary=x", "application/xml"])
def test_non_json_content_type_is_415(customer, ctype):
    r = customer.api.post(_spaces(customer), data=json.dumps({"name": uniq()}), headers={"Content-Type": ctype})
    assert_error(r, 415)


@pytest.mark.parametrize("ctype", ["application/json", "application/ld+json", "application/json; charset=utf-8",
                                   "application/vnd.example+json", None])
def test_json_content_types_and_absent_content_type_are_accepted(customer, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    name = uniq()
    r = customer.api.post(_spaces(customer), data=json.dumps({"name": name}).encode(), headers=headers)
    if ctype is None:
        assert "Content-Type" not in r.request.headers
    j = assert_created(r, "vocab:Space")
    assert j["name"] == name


def test_oversized_body_is_413_with_json_error(customer):
    big = b'{"name":"' + b"a" * (17 * 1024 * 1024) + b'"}'
    try:
        r = customer.api.post(_spaces(customer), data=big, headers={"Content-Type": "application/json"},
                              timeout=60)
    except Exception as e:  # a reset while sending is a failure too: the client must get a 413
        raise AssertionError("17 MiB POST got no response: %r" % e)
    assert_error(r, 413)


# ---------------------------------------------------------------- shared anonymous lists

def test_storage_policies_are_anonymous(anon):
    j = assert_collection(anon.get("/storagePolicies"))
    assert any(m.get("@id", "").endswith("/storagePolicies/default") for m in j["member"]), j


def test_default_storage_policy(anon):
    j = assert_resource(anon.get("/storagePolicies/default"), 200, "vocab:StoragePolicy", "/storagePolicies/default")
    assert j["maximumNumberOfStoredImages"] == 1000000000
    assert j["maximumTotalSizeOfStoredImages"] == 1125899906842624


def test_unknown_storage_policy_is_404(anon):
    assert_error(anon.get("/storagePolicies/" + uniq()), 404)


@pytest.mark.parametrize("path", ["/thumbnailPolicies", "/imageOptimisationPolicies", "/originStrategies"])
def test_shared_policy_lists_are_anonymous_and_items_resolve(anon, path):
    j = assert_collection(anon.get(path))
    assert j["totalItems"] >= 1 and j["member"], "%s is empty" % path
    for m in j["member"]:
        assert isinstance(m.get("@id"), str) and isinstance(m.get("@type"), str), m
    first = j["member"][0]
    r = anon.follow(first["@id"])
    item = json_body(r, 200)
    assert item["@id"] == first["@id"] and item["@type"] == first["@type"], describe(r)
    assert_error(anon.get(path + "/" + uniq()), 404)


def test_origin_strategies_include_basic_http_authentication(anon):
    j = assert_collection(anon.get("/originStrategies"))
    assert any(m["@id"].endswith("/originStrategies/basic-http-authentication") for m in j["member"]), j


# ---------------------------------------------------------------- absolute links

def test_links_are_absolute_and_honour_forwarded_headers(customer, base):
    plain = assert_resource(customer.api.get(customer.path), 200, "vocab:Customer")
    assert plain["@id"].startswith("http") and plain["@id"].endswith(customer.path)
    fwd = assert_resource(customer.api.get(customer.path, headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "iiif.example.org"}), 200, "vocab:Customer")
    if plain["@id"] == base + customer.path:
        # links come from the request (no base_url configured): the forwarded headers win
        assert fwd["@id"] == "https://iiif.example.org" + customer.path, fwd["@id"]
        assert fwd["spaces"] == "https://iiif.example.org" + customer.path + "/spaces"
    else:
        # a configured base_url: forwarded headers change nothing
        assert fwd["@id"] == plain["@id"]
