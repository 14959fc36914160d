"""Origin strategies (CONTRACT 7 and 10): the customer's list, credentials
that are stored but never shown, and their use when an origin is fetched;
plus the storage policy's limits (507)."""

import os
import subprocess

from helpers import (assert_collection, assert_created, assert_error, assert_resource, put_asset,
                     uniq)
from origin import jpeg


def strategies(customer):
    return customer.path + "/originStrategies"


def test_create_list_get_put_delete(customer):
    r = customer.api.post(strategies(customer), json={
        "regex": "https?://127\\.0\\.0\\.1:[0-9]+/private/.*",
        "strategy": "basic-http-authentication",
        "credentials": "{ \"user\": \"uuu\", \"password\": \"ppp\" }",
        "order": 2})
    j = assert_created(r, "vocab:CustomerOriginStrategy")
    assert j["credentials"] == "xxx", "stored credentials must never be echoed: %s" % j
    assert j["strategy"].endswith("/originStrategies/basic-http-authentication")
    assert j["order"] == 2 and j["optimised"] is False
    assert "ppp" not in r.text and "uuu" not in r.text

    listing = assert_collection(customer.api.get(strategies(customer)))
    assert [m["@id"] for m in listing["member"]] == [j["@id"]]
    assert "ppp" not in customer.api.get(strategies(customer)).text

    got = assert_resource(customer.api.get(j["@id"]), 200, "vocab:CustomerOriginStrategy")
    assert got["regex"] == j["regex"] and got["credentials"] == "xxx"

    put = customer.api.put(j["@id"], json={"regex": "^https://other/.*", "strategy": "default",
                                           "order": 5})
    p = assert_resource(put, 200, "vocab:CustomerOriginStrategy")
    assert p["regex"] == "^https://other/.*" and p["order"] == 5 and "credentials" not in p

    assert customer.api.delete(j["@id"]).status_code == 204
    assert_error(customer.api.get(j["@id"]), 404)


def test_validation(customer):
    url = strategies(customer)
    assert_error(customer.api.post(url, json={"strategy": "default"}), 400, "regex")
    assert_error(customer.api.post(url, json={"regex": "(unclosed", "strategy": "default"}), 400,
                 "regex")
    assert_error(customer.api.post(url, json={"regex": ".*", "strategy": "ftp-magic"}), 400,
                 "strategy")
    assert_error(customer.api.post(url, json={"regex": ".*",
                                              "strategy": "basic-http-authentication"}),
                 400, "credentials")
    ok = {"regex": "^http://dup/.*", "strategy": "default"}
    assert_created(customer.api.post(url, json=ok), "vocab:CustomerOriginStrategy")
    assert_error(customer.api.post(url, json=ok), 409)


def test_other_customers_key_is_refused(make_customer, customer):
    other = make_customer(uniq("os-other"))
    r = other.api.get(strategies(customer))
    assert_error(r, 401)


def test_basic_credentials_are_sent_to_matching_origins(space, origin):
    c = space.customer
    secret_url = origin.add(jpeg(300, 200), basic_auth=("lib", "s3cret"), name="private.jpg")
    # Without a strategy the origin refuses us: 502 naming the origin's 401.
    r = c.api.put(space.image("no-creds"), json={"mediaType": "image/jpeg", "origin": secret_url})
    assert_error(r, 502, mentions="401")

    assert_created(c.api.post(strategies(c), json={
        "regex": "^http://127\\.0\\.0\\.1:%d/.*private" % origin.port,
        "strategy": "basic-http-authentication",
        "credentials": {"user": "lib", "password": "s3cret"}}), "vocab:CustomerOriginStrategy")
    j = put_asset(space, "with-creds", origin=secret_url)
    assert (j["width"], j["height"]) == (300, 200) and j["ingesting"] is False


def mariadb(dlcs_var, sql):
    sock = os.path.join(dlcs_var, "run", "mysqld.sock")
    subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-e", sql],
                   check=True, timeout=30)


def test_storage_policy_limits_new_assets_with_507(space, origin, dlcs_var):
    # Policies cannot be set through the API ("you cannot set these
    # yourself"): an operator assigns them in the database.
    c = space.customer
    policy = uniq("tiny")
    mariadb(dlcs_var, "INSERT INTO storage_policies (id, max_images, max_bytes) VALUES "
                      "('%s', 2, 1000000000); UPDATE customers SET storage_policy = '%s' "
                      "WHERE id = %d" % (policy, policy, c.id))
    storage = assert_resource(c.api.get(c.path + "/storage"), 200, "vocab:CustomerStorage")
    assert storage["storagePolicy"].endswith("/storagePolicies/" + policy)
    got = assert_resource(c.api.get(storage["storagePolicy"]), 200, "vocab:StoragePolicy")
    assert got["maximumNumberOfStoredImages"] == 2

    put_asset(space, "one")
    put_asset(space, "two")
    r = c.api.put(space.image("three"), json={"mediaType": "image/jpeg"})
    assert_error(r, 507)
    assert_error(c.api.get(space.image("three")), 404)
    # Replacing an existing asset is not a new one.
    put_asset(space, "two", status=200, string1="again")


def test_storage_policy_bytes_limit(space, origin, dlcs_var):
    c = space.customer
    policy = uniq("small")
    mariadb(dlcs_var, "INSERT INTO storage_policies (id, max_images, max_bytes) VALUES "
                      "('%s', 1000, 1000); UPDATE customers SET storage_policy = '%s' "
                      "WHERE id = %d" % (policy, policy, c.id))
    j = put_asset(space, "big", origin=origin.add(jpeg(400, 300)))
    assert j["width"] == 400
    r = c.api.put(space.image("next"), json={"mediaType": "image/jpeg"})
    assert_error(r, 507, mentions="size")
