"""/customers/{c}/keys: creation by the admin (secret shown once), listing
without secrets, deletion and its effect on authentication."""

import re
import uuid

from helpers import Api, assert_collection, assert_error, assert_resource, describe, json_body

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _new_key(admin, customer, **kw):
    r = admin.post(customer.path + "/keys", **kw)
    j = json_body(r, 200)
    assert j.get("@type") == "vocab:Key", describe(r)
    return j


def test_admin_creates_key_200_with_secret_once(admin, customer):
    r = admin.post(customer.path + "/keys")
    j = assert_resource(r, 200, "vocab:Key")
    assert re.fullmatch(UUID_RE, j["key"]), "key is not a UUID: %r" % j["key"]
    assert re.fullmatch(r"[0-9a-f]{64}", j["secret"]), "secret is not 64 hex chars: %r" % j["secret"]
    assert j["@id"].endswith("%s/keys/%s" % (customer.path, j["key"]))


def test_key_creation_accepts_empty_object_body(admin, customer):
    j = _new_key(admin, customer, json={})
    assert re.fullmatch(r"[0-9a-f]{64}", j["secret"])


def test_two_keys_get_different_secrets(admin, customer):
    a = _new_key(admin, customer)
    b = _new_key(admin, customer)
    assert a["key"] != b["key"] and a["secret"] != b["secret"]


def test_new_key_authenticates(admin, base, customer):
    k = _new_key(admin, customer)
    s = Api(base, auth=(k["key"], k["secret"]))
    try:
        assert assert_resource(s.get(customer.path), 200, "vocab:Customer")["id"] == customer.id
    finally:
        s.close()


def test_non_admin_cannot_create_keys_even_for_itself(customer):
    assert_error(customer.api.post(customer.path + "/keys"), 403)


def test_keys_list_never_shows_secrets(admin, customer):
    extra = _new_key(admin, customer)
    r = customer.api.get(customer.path + "/keys")
    j = assert_collection(r, "vocab:Key")
    assert j["totalItems"] == 2, "the customer has exactly 2 keys: %s" % describe(r)
    keys = {m["key"] for m in j["member"]}
    assert keys == {customer.key, extra["key"]}
    for m in j["member"]:
        assert "secret" not in m, "secret leaked in list: %s" % m
        assert m["@id"].endswith("/keys/" + m["key"])
    assert customer.secret not in r.text and extra["secret"] not in r.text


def test_delete_key_204_then_that_key_is_401_everywhere(admin, base, customer):
    k = _new_key(admin, customer)
    s = Api(base, auth=(k["key"], k["secret"]))
    try:
        assert s.get(customer.path).status_code == 200
        r = customer.api.delete(customer.path + "/keys/" + k["key"])
        assert r.status_code == 204, describe(r)
        assert r.content == b"", "204 with a body"
        assert_error(s.get(customer.path), 401)
        assert_error(s.get(customer.path + "/spaces"), 401)
        assert_error(s.post(customer.path + "/spaces", json={"name": "x"}), 401)
    finally:
        s.close()
    j = assert_collection(customer.api.get(customer.path + "/keys"), "vocab:Key")
    assert k["key"] not in {m["key"] for m in j["member"]}
    # the other key still works
    assert customer.api.get(customer.path).status_code == 200


def test_delete_unknown_key_is_404(customer):
    assert_error(customer.api.delete(customer.path + "/keys/" + str(uuid.uuid4())), 404)


def test_delete_key_twice_is_404(admin, customer):
    k = _new_key(admin, customer)
    assert admin.delete(customer.path + "/keys/" + k["key"]).status_code == 204
    assert_error(admin.delete(customer.path + "/keys/" + k["key"]), 404)


def test_key_of_another_customer_cannot_be_deleted_through_own_path(admin, make_customer):
    a = make_customer()
    b = make_customer()
    # admin, on A's path, names B's key: not A's key -> 404, and B's key keeps working
    assert_error(admin.delete(a.path + "/keys/" + b.key), 404)
    assert_error(a.api.delete(a.path + "/keys/" + b.key), 404)
    assert b.api.get(b.path).status_code == 200
