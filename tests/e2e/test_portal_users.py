"""Portal users (CONTRACT section 11): /customers/{c}/portalUsers[/{id}],
e-mail unique per customer whatever its case (409), passwords of at least 12
characters stored as yescrypt hashes and never returned, never logged;
another customer's users are out of reach; and the login check the
access-control flow will use (portal_user_verify, run by `dlcs-admin
portal-login`)."""

import glob
import os
import subprocess
import uuid

import pytest

from helpers import (role_uri, admin_command, allow_set, assert_collection, assert_created, assert_error,
                     assert_resource, describe, uniq)

TYPE = "vocab:PortalUser"


def users(customer):
    return customer.path + "/portalUsers"


def password():
    """A password no other test uses, so that the logs can be searched for it."""
    return "pw-" + uuid.uuid4().hex


def email():
    return "%s@example.org" % uniq("user")


def create(customer, **fields):
    body = {"email": email(), "password": password()}
    body.update(fields)
    r = customer.api.post(users(customer), json=body)
    j = assert_created(r, TYPE)
    return j, body


def assert_user(j, customer, email_, enabled=True, roles=()):
    assert j["@id"].endswith("/customers/%d/portalUsers/%s" % (customer.id, j["id"])), j
    assert uuid.UUID(j["id"]).version == 4, j
    assert j["email"] == email_ and j["enabled"] is enabled and j["roles"] == list(roles), j
    assert j["created"].endswith("Z"), j
    assert "password" not in j and not any("hash" in k.lower() for k in j), j


def login(dlcs_var, customer_id, email_, pw):
    """portal_user_verify through dlcs-admin: (exit status, output)."""
    return admin_command(dlcs_var, "portal-login", str(customer_id), email_, stdin=pw + "\n")


def mariadb(dlcs_var, sql):
    sock = os.path.join(dlcs_var, "run", "mysqld.sock")
    return subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "dlcs", "-N", "-B", "-e", sql],
                          check=True, timeout=30, capture_output=True, text=True).stdout


# ---------------------------------------------------------------- the routes

def test_create_get_list_patch_delete(customer):
    j, body = create(customer, roles=[role_uri(customer)])
    assert_user(j, customer, body["email"], roles=[role_uri(customer)])
    assert body["password"] not in str(j)

    got = assert_resource(customer.api.get(j["@id"]), 200, TYPE)
    assert got == j

    listing = assert_collection(customer.api.get(users(customer)), TYPE)
    assert listing["totalItems"] == 1 and listing["member"] == [j]

    new_email = email()
    r = customer.api.patch(j["@id"], json={"email": new_email, "enabled": False, "roles": []})
    p = assert_resource(r, 200, TYPE)
    assert_user(p, customer, new_email, enabled=False)
    assert p["id"] == j["id"] and p["created"] == j["created"]
    # Omitted fields are kept; an empty PATCH changes nothing.
    p2 = assert_resource(customer.api.patch(j["@id"], json={"roles": [role_uri(customer)]}), 200, TYPE)
    assert_user(p2, customer, new_email, enabled=False, roles=[role_uri(customer)])
    assert assert_resource(customer.api.patch(j["@id"], json={}), 200, TYPE) == p2
    # @context, @id, @type and id may come along when they agree
    same = {k: p2[k] for k in ("@context", "@id", "@type", "id")}
    assert assert_resource(customer.api.patch(j["@id"], json=same), 200, TYPE) == p2
    assert_error(customer.api.patch(j["@id"], json=dict(same, created=p2["created"])), 400, "created")

    assert customer.api.delete(j["@id"]).status_code == 204
    assert_error(customer.api.get(j["@id"]), 404)
    assert_error(customer.api.patch(j["@id"], json={"enabled": True}), 404)
    assert_error(customer.api.delete(j["@id"]), 404)
    assert assert_collection(customer.api.get(users(customer)))["totalItems"] == 0


def test_enabled_defaults_to_true_and_can_start_false(customer):
    j, _ = create(customer)
    assert j["enabled"] is True and j["roles"] == []
    k, _ = create(customer, enabled=False)
    assert k["enabled"] is False


def test_the_customer_links_to_the_collection(customer):
    j, _ = create(customer)
    cust = assert_resource(customer.api.get(customer.path), 200, "vocab:Customer")
    listing = assert_collection(customer.api.follow(cust["portalUsers"]), TYPE)
    assert [m["id"] for m in listing["member"]] == [j["id"]]
    assert listing["@id"] == cust["portalUsers"]


def test_paging(customer):
    made = [create(customer)[0]["id"] for _ in range(3)]
    first = assert_collection(customer.api.get(users(customer), params={"pageSize": 2}), TYPE)
    assert first["totalItems"] == 3 and len(first["member"]) == 2 and "next" in first["view"]
    second = assert_collection(customer.api.follow(first["view"]["next"]), TYPE)
    assert [m["id"] for m in first["member"] + second["member"]] == made


def test_methods_and_ids(customer):
    j, _ = create(customer)
    r = customer.api.put(j["@id"], json={"email": email(), "password": password()})
    assert_error(r, 405)
    assert allow_set(r) >= {"GET", "PATCH", "DELETE"} and "PUT" not in allow_set(r)
    assert_error(customer.api.delete(users(customer)), 405)
    # not a UUID, or no such user: 404
    for bad in ("not-a-guid", str(uuid.uuid4()), j["id"] + "0", "%2e%2e", "%00"):
        assert_error(customer.api.get(users(customer) + "/" + bad), 404 if bad != "%00" else 400)
    # a UUID in upper case names the same user
    assert assert_resource(customer.api.get(users(customer) + "/" + j["id"].upper()), 200, TYPE)["id"] == j["id"]


def test_unknown_customer(admin):
    assert_error(admin.get("/customers/2147483647/portalUsers"), 404)
    assert_error(admin.post("/customers/2147483647/portalUsers",
                            json={"email": email(), "password": password()}), 404)


# ---------------------------------------------------------------- validation

BAD_EMAILS = ["", "plain", "@example.org", "a@", "a@b@example.org", "a@localhost", "a..b@example.org",
              ".a@example.org", "a@-x.org", "a b@example.org", "a@example.org\r\nBcc: x@y.z",
              "\u00e9@example.org", "x" * 65 + "@example.org", "a@" + "b" * 250 + ".org"]


@pytest.mark.parametrize("bad", BAD_EMAILS)
def test_bad_emails(customer, bad):
    assert_error(customer.api.post(users(customer), json={"email": bad, "password": password()}),
                 400, "email")


def test_bad_bodies(customer):
    url = users(customer)
    pw = password()
    assert_error(customer.api.post(url, json={"password": pw}), 400, "email")
    assert_error(customer.api.post(url, json={"email": email()}), 400, "password")
    for bad_pw in ("short", "12345678901", "eleven char", "twelve chars\nplus", "x" * 512, 123456789012,
                   None):
        body = {"email": email(), "password": bad_pw}
        r = customer.api.post(url, json=body)
        if bad_pw is None:  # null counts as absent
            assert_error(r, 400, "password")
            continue
        j = assert_error(r, 400, "password")
        if isinstance(bad_pw, str):
            assert bad_pw not in j["description"], "the password is echoed: %s" % describe(r)
    # exactly 12 characters (not bytes) is enough; 511 bytes is the most
    assert_created(customer.api.post(url, json={"email": email(), "password": "\u00e9" * 12}), TYPE)
    assert_created(customer.api.post(url, json={"email": email(), "password": "y" * 511}), TYPE)
    base = {"email": email(), "password": pw}
    assert_error(customer.api.post(url, json=dict(base, enabled="yes")), 400, "enabled")
    assert_error(customer.api.post(url, json=dict(base, roles="reader")), 400, "roles")
    assert_error(customer.api.post(url, json=dict(base, roles=[1])), 400, "roles")
    assert_error(customer.api.post(url, json=dict(base, roles=[""])), 400, "roles")
    assert_error(customer.api.post(url, json=dict(base, roles=["r" * 501])), 400, "roles")
    # role URIs of the customer's roles only (CONTRACT section 9)
    for bad in ("staff", role_uri(customer, "nobody"), role_uri(customer).replace("/%d/" % customer.id, "/1/")):
        assert_error(customer.api.post(url, json=dict(base, roles=[bad])), 400, "roles")
    assert_error(customer.api.post(url, json=dict(base, roles=["r%d" % i for i in range(101)])), 400, "roles")
    assert_error(customer.api.post(url, json=dict(base, passwordHash="$y$x")), 400, "passwordHash")
    assert_error(customer.api.post(url, json=dict(base, created="2020-01-01T00:00:00Z")), 400, "created")
    assert_error(customer.api.post(url, json=dict(base, id=str(uuid.uuid4()))), 400, "id")
    assert_error(customer.api.post(url, data="not json", headers={"Content-Type": "application/json"}), 400)
    assert_error(customer.api.post(url, data="email=x", headers={"Content-Type": "text/plain"}), 415)
    assert_error(customer.api.post(url, json=["email"]), 400)
    # nothing of the above was stored
    assert assert_collection(customer.api.get(url))["totalItems"] == 2

    j, _ = create(customer)
    assert_error(customer.api.patch(j["@id"], json={"password": "too short"}), 400, "password")
    assert_error(customer.api.patch(j["@id"], json={"email": "nope"}), 400, "email")
    assert_error(customer.api.patch(j["@id"], json={"enabled": 1}), 400, "enabled")
    assert_error(customer.api.patch(j["@id"], json={"id": str(uuid.uuid4())}), 400, "id")
    other = j["@id"].rsplit("/", 1)[0] + "/" + str(uuid.uuid4())
    assert_error(customer.api.patch(j["@id"], json={"@id": other}), 400, "@id")
    assert assert_resource(customer.api.get(j["@id"]), 200, TYPE) == j


def test_email_unique_per_customer_in_any_case(customer, make_customer):
    j, body = create(customer, email="Reader.One@Example.ORG")
    assert j["email"] == "Reader.One@Example.ORG"
    r = customer.api.post(users(customer), json={"email": "reader.one@example.org", "password": password()})
    assert_error(r, 409, mentions="reader.one@example.org")
    # the same address at another customer is another user
    other = make_customer()
    assert_created(other.api.post(users(other), json={"email": "reader.one@example.org",
                                                      "password": password()}), TYPE)
    # a PATCH onto another user's address, in any case: 409, nothing changed
    k, _ = create(customer)
    assert_error(customer.api.patch(k["@id"], json={"email": "READER.ONE@example.org"}), 409)
    assert assert_resource(customer.api.get(k["@id"]), 200, TYPE) == k
    # changing the case of one's own address is fine
    p = assert_resource(customer.api.patch(j["@id"], json={"email": "reader.one@example.org"}), 200, TYPE)
    assert p["email"] == "reader.one@example.org"


# ---------------------------------------------------------------- isolation

def test_other_customers_users_are_out_of_reach(make_customer, admin, anon):
    a, b = make_customer(), make_customer()
    ua, _ = create(a)
    ub, _ = create(b)
    a_path = users(a) + "/" + ua["id"]
    # b's key on a's paths: 401, whatever the method
    assert_error(b.api.get(users(a)), 401)
    assert_error(b.api.get(a_path), 401)
    assert_error(b.api.post(users(a), json={"email": email(), "password": password()}), 401)
    assert_error(b.api.patch(a_path, json={"enabled": False}), 401)
    assert_error(b.api.delete(a_path), 401)
    # a's user under b's path: not found, even for the admin; nothing changes
    crossed = users(b) + "/" + ua["id"]
    for api in (b.api, admin):
        assert_error(api.get(crossed), 404)
        assert_error(api.patch(crossed, json={"enabled": False, "password": password()}), 404)
        assert_error(api.delete(crossed), 404)
    assert assert_resource(a.api.get(a_path), 200, TYPE) == ua
    assert [m["id"] for m in assert_collection(b.api.get(users(b)))["member"]] == [ub["id"]]
    # the admin reaches both, under their own customers
    assert assert_resource(admin.get(a_path), 200, TYPE) == ua
    # no credentials: 401
    assert_error(anon.get(users(b)), 401)
    assert_error(anon.get(users(b) + "/" + ub["id"]), 401)
    assert_error(anon.post(users(b), json={"email": email(), "password": password()}), 401)


# ---------------------------------------------------------------- passwords

def test_passwords_are_yescrypt_hashes_never_returned_or_logged(customer, dlcs_var):
    pw1, pw2 = password(), password()
    j, body = create(customer, password=pw1)
    texts = [customer.api.get(j["@id"]).text, customer.api.get(users(customer)).text]
    r = customer.api.patch(j["@id"], json={"password": pw2})
    assert_resource(r, 200, TYPE)
    texts.append(r.text)
    # refused bodies (the password in them is not repeated either)
    r = customer.api.post(users(customer), json={"email": body["email"], "password": pw1})
    assert_error(r, 409)
    texts.append(r.text)
    r = customer.api.post(users(customer), json={"email": "nope", "password": pw1})
    texts.append(r.text)
    r = customer.api.post(users(customer), json={"email": email(), "password": pw1, "x": 1})
    texts.append(r.text)
    stored = mariadb(dlcs_var, "SELECT password_hash FROM portal_users WHERE id = '%s'" % j["id"]).strip()
    assert stored.startswith("$y$") and pw1 not in stored and pw2 not in stored, stored
    for t in texts:
        assert pw1 not in t and pw2 not in t and stored not in t and "$y$" not in t, t
    # the logs of every program of the stack (the API's request lines, nginx's)
    logs = glob.glob(os.path.join(dlcs_var, "log", "*"))
    assert logs, "no logs in %s/log" % dlcs_var
    for path in logs:
        if os.path.isfile(path):
            with open(path, "rb") as f:
                data = f.read()
            for secret in (pw1, pw2, stored):
                assert secret.encode() not in data, "%s holds a password or its hash" % path
    # the request line was logged, without a body
    with open(os.path.join(dlcs_var, "log", "api.log"), "rb") as f:
        assert ("PATCH /customers/%d/portalUsers/%s 200" % (customer.id, j["id"])).encode() in f.read()


def test_login_check(customer, make_customer, dlcs_var):
    """portal_user_verify, as the access-control flow will call it."""
    pw = password()
    j, body = create(customer, password=pw, roles=[role_uri(customer)])
    rc, out = login(dlcs_var, customer.id, body["email"], pw)
    assert rc == 0 and out.split() == [j["id"], '["%s"]' % role_uri(customer)], out
    assert pw not in out
    # the e-mail in any case
    assert login(dlcs_var, customer.id, body["email"].upper(), pw)[0] == 0
    # refusals: a wrong password, an unknown address, another customer
    assert login(dlcs_var, customer.id, body["email"], pw + "x")[0] == 1
    assert login(dlcs_var, customer.id, body["email"], pw[:-1])[0] == 1
    assert login(dlcs_var, customer.id, "nobody-" + body["email"], pw)[0] == 1
    other = make_customer()
    assert login(dlcs_var, other.id, body["email"], pw)[0] == 1
    # a new password replaces the old one
    pw2 = password()
    assert_resource(customer.api.patch(j["@id"], json={"password": pw2}), 200, TYPE)
    assert login(dlcs_var, customer.id, body["email"], pw)[0] == 1
    assert login(dlcs_var, customer.id, body["email"], pw2)[0] == 0
    # disabled, enabled again, deleted
    assert_resource(customer.api.patch(j["@id"], json={"enabled": False}), 200, TYPE)
    assert login(dlcs_var, customer.id, body["email"], pw2)[0] == 1
    assert_resource(customer.api.patch(j["@id"], json={"enabled": True}), 200, TYPE)
    assert login(dlcs_var, customer.id, body["email"], pw2)[0] == 0
    assert customer.api.delete(j["@id"]).status_code == 204
    assert login(dlcs_var, customer.id, body["email"], pw2)[0] == 1
