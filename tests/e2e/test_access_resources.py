"""Access control's resources (CONTRACT section 9): /customers/{c}/roles,
/authServices and /roleProviders with their fields, checks and statuses;
what every new customer gets (the clickthrough role, auth service and role
provider); assets', spaces' and portal users' roles checked against the
customer's roles (a role URI of another customer, an unknown role, a bare
name: 400); a role in use cannot be deleted (409); the space's defaultRoles
and maxUnauthorised given to new assets; another customer's resources out of
reach."""

import uuid

import pytest

from helpers import (assert_collection, assert_created, assert_error, assert_resource, create_space,
                     describe, put_asset, role_uri)


def roles(c):
    return c.path + "/roles"


def services(c):
    return c.path + "/authServices"


def providers(c):
    return c.path + "/roleProviders"


# ---------------------------------------------------------------- the seeded ones

def test_new_customer_gets_clickthrough(customer):
    r = assert_resource(customer.api.get(roles(customer) + "/clickthrough"), 200, "vocab:Role")
    assert r["@id"] == role_uri(customer) and r["name"] == "clickthrough" and r["aliases"] == []
    assert r["authService"].endswith(services(customer) + "/clickthrough"), r
    s = assert_resource(customer.api.get(r["authService"]), 200, "vocab:AuthService")
    assert s["profile"] == "active" and s["timeToLive"] == 600 and s["roles"] == [role_uri(customer)]
    for text in ("label", "heading", "note", "confirmLabel", "logoutLabel", "accessTokenErrorHeading",
                 "accessTokenErrorNote"):
        assert isinstance(s[text], str) and s[text], (text, s)
    p = assert_resource(customer.api.get(s["roleProvider"]), 200, "vocab:RoleProvider")
    assert p["type"] == "clickthrough" and "credentials" not in p
    for path, n in ((roles(customer), 1), (services(customer), 1), (providers(customer), 1)):
        assert assert_collection(customer.api.get(path))["totalItems"] == n, path


# ---------------------------------------------------------------- roles

def test_role_crud(customer):
    api = customer.api
    j = assert_created(api.post(roles(customer), json={"name": "staff", "label": "Staff", "aliases": ["s"]}),
                       "vocab:Role", "/roles/staff")
    assert (j["name"], j["label"], j["aliases"], j["authService"]) == ("staff", "Staff", ["s"], None)
    assert j["@id"] == role_uri(customer, "staff")
    assert_error(api.post(roles(customer), json={"name": "staff"}), 409)
    # PUT replaces (200) or creates (201)
    j = assert_resource(api.put(roles(customer) + "/staff", json={"label": "All staff",
                                                                  "authService": "clickthrough"}),
                        200, "vocab:Role")
    assert j["label"] == "All staff" and j["aliases"] == [] and j["authService"].endswith("/authServices/clickthrough")
    assert_created(api.put(roles(customer) + "/readers", json={}), "vocab:Role", "/roles/readers")
    assert assert_resource(api.get(roles(customer) + "/readers"), 200, "vocab:Role")["label"] == "readers"
    names = [m["name"] for m in assert_collection(api.get(roles(customer)), "vocab:Role")["member"]]
    assert names == ["clickthrough", "readers", "staff"]
    assert api.delete(roles(customer) + "/readers").status_code == 204
    assert_error(api.get(roles(customer) + "/readers"), 404)
    assert_error(api.delete(roles(customer) + "/readers"), 404)


@pytest.mark.parametrize("body,field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "a b"}, "name"), ({"name": "../x"}, "name"),
    ({"name": "x" * 61}, "name"), ({"name": "r\u00e9le"}, "name"), ({"name": 5}, "name"),
    ({"name": "ok", "label": 5}, "label"), ({"name": "ok", "label": "l" * 1001}, "label"),
    ({"name": "ok", "aliases": "a"}, "aliases"), ({"name": "ok", "aliases": [""]}, "aliases"),
    ({"name": "ok", "authService": "nope"}, "authService"),
    ({"name": "ok", "authService": "https://h/customers/1/authServices/clickthrough"}, "authService"),
    ({"name": "ok", "extra": 1}, "extra"),
])
def test_role_bad_bodies(customer, body, field):
    assert_error(customer.api.post(roles(customer), json=body), 400, field)


def test_role_put_name_must_agree(customer):
    assert_error(customer.api.put(roles(customer) + "/one", json={"name": "two"}), 400, "name")
    assert_error(customer.api.put(roles(customer) + "/a%20b", json={}), 400, "name")
    r = customer.api.get(roles(customer) + "/a%2Fb")
    assert r.status_code in (400, 404), describe(r)


def test_role_in_use_is_not_deleted(customer):
    api = customer.api
    api.put(roles(customer) + "/held", json={})
    sp = create_space(customer)
    put_asset(sp, "a", roles=[role_uri(customer, "held")])
    assert_error(api.delete(roles(customer) + "/held"), 409)
    assert api.patch(sp.image("a"), json={"roles": []}).status_code == 200
    sp2 = create_space(customer, defaultRoles=[role_uri(customer, "held")])
    assert_error(api.delete(roles(customer) + "/held"), 409)
    assert api.patch(sp2.path, json={"defaultRoles": []}).status_code == 200
    # a role whose name ends another's is another role
    api.put(roles(customer) + "/xheld", json={})
    put_asset(sp, "b", roles=[role_uri(customer, "xheld")])
    assert api.delete(roles(customer) + "/held").status_code == 204


def test_asset_and_space_roles_are_the_customers(customer, make_customer):
    other = make_customer()
    sp = create_space(customer)
    for bad in ("staff", "clickthrough", role_uri(customer, "nobody"), role_uri(other),
                role_uri(customer) + "?x", role_uri(customer).replace("/roles/", "/roles//"),
                "ftp://h/customers/%d/roles/clickthrough" % customer.id,
                "/customers/%d/roles/clickthrough" % customer.id):
        r = customer.api.put(sp.image("bad"), json={"mediaType": "image/jpeg", "roles": [bad]})
        assert_error(r, 400, "roles")
        assert_error(customer.api.post(customer.path + "/spaces", json={"name": "s", "defaultRoles": [bad]}),
                     400, "defaultRoles")
        put_asset(sp, "x") if bad == "staff" else None
        assert_error(customer.api.patch(sp.image("x"), json={"roles": [bad]}), 400, "roles")
    # any base: the role is the customer's and its name
    j = put_asset(sp, "ok", roles=["https://elsewhere.example/x/customers/%d/roles/clickthrough" % customer.id])
    assert j["roles"] == ["https://elsewhere.example/x/customers/%d/roles/clickthrough" % customer.id]


def test_space_defaults_go_to_new_assets(customer):
    sp = create_space(customer, defaultRoles=[role_uri(customer)], maxUnauthorised=300)
    j = put_asset(sp, "d")
    assert j["roles"] == [role_uri(customer)] and j["maxUnauthorised"] == 300, j
    j = put_asset(sp, "e", roles=[], maxUnauthorised=-1)
    assert j["roles"] == [] and j["maxUnauthorised"] == -1, j


# ---------------------------------------------------------------- auth services

def test_auth_service_crud(customer):
    api = customer.api
    j = assert_created(api.post(services(customer), json={
        "name": "staff-login", "profile": "active", "label": "Staff login", "heading": "Staff only",
        "roles": [role_uri(customer)]}), "vocab:AuthService", "/authServices/staff-login")
    assert j["timeToLive"] == 600 and j["note"] == "" and j["roleProvider"] is None
    assert j["roles"] == [role_uri(customer)]
    assert_error(api.post(services(customer), json={"name": "staff-login", "profile": "active"}), 409)
    # PATCH keeps what it does not name; PUT replaces
    p = assert_resource(api.patch(services(customer) + "/staff-login", json={"timeToLive": 60}), 200,
                        "vocab:AuthService")
    assert p["timeToLive"] == 60 and p["heading"] == "Staff only" and p["roles"] == j["roles"]
    prov = assert_created(api.post(providers(customer), json={"type": "portal"}), "vocab:RoleProvider")
    p = assert_resource(api.put(services(customer) + "/staff-login", json={
        "profile": "kiosk", "roleProvider": prov["@id"]}), 200, "vocab:AuthService")
    assert p["profile"] == "kiosk" and p["heading"] == "" and p["timeToLive"] == 600 and p["roles"] == []
    assert p["roleProvider"] == prov["@id"]
    assert_created(api.put(services(customer) + "/new-one", json={"profile": "external"}), "vocab:AuthService")
    assert_error(api.patch(services(customer) + "/missing", json={"timeToLive": 5}), 404)
    # a provider in use stays; a service a role names stays
    assert_error(api.delete(prov["@id"]), 409)
    api.put(roles(customer) + "/kiosk-role", json={"authService": "new-one"})
    assert_error(api.delete(services(customer) + "/new-one"), 409)
    assert api.delete(roles(customer) + "/kiosk-role").status_code == 204
    assert api.delete(services(customer) + "/new-one").status_code == 204
    assert api.delete(services(customer) + "/staff-login").status_code == 204
    assert api.delete(prov["@id"]).status_code == 204
    assert_error(api.get(services(customer) + "/staff-login"), 404)


@pytest.mark.parametrize("body,field", [
    ({"profile": "active"}, "name"),
    ({"name": "token", "profile": "active"}, "name"), ({"name": "gesture", "profile": "active"}, "name"),
    ({"name": "probe", "profile": "active"}, "name"), ({"name": "a/b", "profile": "active"}, "name"),
    ({"name": "x"}, "profile"), ({"name": "x", "profile": "login"}, "profile"),
    ({"name": "x", "profile": "active", "timeToLive": 0}, "timeToLive"),
    ({"name": "x", "profile": "active", "timeToLive": "600"}, "timeToLive"),
    ({"name": "x", "profile": "active", "label": ["a"]}, "label"),
    ({"name": "x", "profile": "active", "note": "n" * 1001}, "note"),
    ({"name": "x", "profile": "active", "roles": ["clickthrough"]}, "roles"),
    ({"name": "x", "profile": "active", "roleProvider": str(uuid.uuid4())}, "roleProvider"),
    ({"name": "x", "profile": "active", "roleProvider": "not-a-uuid"}, "roleProvider"),
])
def test_auth_service_bad_bodies(customer, body, field):
    assert_error(customer.api.post(services(customer), json=body), 400, field)


# ---------------------------------------------------------------- role providers

def test_role_provider_crud_and_credentials(customer, dlcs_var):
    api = customer.api
    secret = "pw-" + uuid.uuid4().hex
    j = assert_created(api.post(providers(customer), json={
        "type": "external", "configuration": {"url": "https://roles.example.org/check"},
        "credentials": {"user": "dlcs", "password": secret}}), "vocab:RoleProvider")
    assert j["credentials"] == "xxx" and j["configuration"] == {"url": "https://roles.example.org/check"}
    assert secret not in api.get(j["@id"]).text and secret not in api.get(providers(customer)).text
    # PUT without credentials keeps them; null drops them
    p = assert_resource(api.put(j["@id"], json={"type": "external",
                                                "configuration": {"url": "http://roles.example.org/2"}}),
                        200, "vocab:RoleProvider")
    assert p["credentials"] == "xxx" and p["configuration"]["url"] == "http://roles.example.org/2"
    p = assert_resource(api.put(j["@id"], json={"type": "clickthrough", "credentials": None}), 200,
                        "vocab:RoleProvider")
    assert "credentials" not in p and p["configuration"] == {}
    assert_error(api.put(providers(customer) + "/" + str(uuid.uuid4()), json={"type": "portal"}), 404)
    assert api.delete(j["@id"]).status_code == 204
    assert_error(api.get(j["@id"]), 404)
    assert_error(api.get(providers(customer) + "/nope"), 404)


@pytest.mark.parametrize("body,field", [
    ({}, "type"), ({"type": "cas"}, "type"), ({"type": "external"}, "configuration"),
    ({"type": "external", "configuration": {"url": "file:///etc/passwd"}}, "configuration"),
    ({"type": "external", "configuration": {"url": "http://a b"}}, "configuration"),
    ({"type": "portal", "configuration": []}, "configuration"),
    ({"type": "portal", "credentials": "user:pw"}, "credentials"),
    ({"type": "portal", "credentials": {"user": "a:b", "password": "x"}}, "credentials"),
    ({"type": "portal", "id": "x"}, "id"),
])
def test_role_provider_bad_bodies(customer, body, field):
    assert_error(customer.api.post(providers(customer), json=body), 400, field)


# ---------------------------------------------------------------- isolation

def test_other_customers_resources_are_out_of_reach(make_customer, admin, anon):
    a, b = make_customer(), make_customer()
    pa = assert_resource(a.api.get(a.path + "/authServices/clickthrough"), 200, "vocab:AuthService")
    for path in (roles(a), roles(a) + "/clickthrough", services(a), services(a) + "/clickthrough",
                 providers(a), pa["roleProvider"]):
        assert_error(b.api.get(path), 401)
        assert_error(anon.get(path), 401)
    assert_error(b.api.delete(roles(a) + "/clickthrough"), 401)
    assert_error(b.api.put(roles(a) + "/mine", json={}), 401)
    # a's provider under b's path: not found, even for the admin
    crossed = providers(b) + "/" + pa["roleProvider"].rsplit("/", 1)[1]
    for api in (b.api, admin):
        assert_error(api.get(crossed), 404)
        assert_error(api.delete(crossed), 404)
    # b's service may not use a's provider
    assert_error(b.api.post(services(b), json={"name": "x", "profile": "active",
                                               "roleProvider": pa["roleProvider"]}), 400, "roleProvider")
    assert assert_resource(admin.get(roles(a) + "/clickthrough"), 200, "vocab:Role")["@id"] == role_uri(a)
