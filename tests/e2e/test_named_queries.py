"""Named queries as a resource (CONTRACT section 10): a customer's own and
the global ones in its list, the samples a new customer gets, POST (global
only for the admin), GET, PUT of the template, DELETE of its own, the
template checked when stored, and isolation between customers."""

import uuid

import pytest

from helpers import assert_collection, assert_created, assert_error, assert_resource, describe, walk

NQ = "vocab:NamedQuery"
SAMPLES = {"manifest": "s1=p1&canvas=n1", "space-manifest": "space=p1&s1=p2&canvas=n1",
           "pdf": "s1=p1&canvas=n1&objectname={s1}.pdf"}
GLOBALS = {"manifest-query": "manifest=p1&canvas=n1", "batch-query": "batch=p1&canvas=n1"}


def nq_list(customer):
    _, members = walk(customer.api, customer.path + "/namedQueries", member_type=NQ)
    return members


def create(customer, name, template, status=201, **extra):
    body = {"name": name, "template": template}
    body.update(extra)
    r = customer.api.post(customer.path + "/namedQueries", json=body)
    if status != 201:
        return r
    return assert_created(r, NQ)


def test_new_customer_has_samples_and_globals(customer):
    members = nq_list(customer)
    own = {m["name"]: m for m in members if not m["global"]}
    glob = {m["name"]: m for m in members if m["global"]}
    assert {n: m["template"] for n, m in own.items()} == SAMPLES, members
    for name, template in GLOBALS.items():
        assert glob[name]["template"] == template, members
        # a global query's @id is its owner's, the admin customer
        assert "/customers/1/namedQueries/" in glob[name]["@id"], glob[name]
        assert glob[name]["customer"] == 1
    for m in own.values():
        assert m["@id"].endswith("%s/namedQueries/%s" % (customer.path, m["id"]))
        uuid.UUID(m["id"])


def test_crud(customer):
    j = create(customer, "book-pages", "s1=p1&canvas=n1;n2 desc")
    assert j["name"] == "book-pages" and j["template"] == "s1=p1&canvas=n1;n2 desc"
    assert j["global"] is False
    path = "%s/namedQueries/%s" % (customer.path, j["id"])
    assert assert_resource(customer.api.get(path), 200, NQ)["template"] == j["template"]
    # GET accepts the id in upper case too
    r = customer.api.get("%s/namedQueries/%s" % (customer.path, j["id"].upper()))
    assert assert_resource(r, 200, NQ)["id"] == j["id"]
    assert "book-pages" in [m["name"] for m in nq_list(customer)]
    # PUT changes the template only
    r = customer.api.put(path, json={"template": "s2=p1"})
    assert assert_resource(r, 200, NQ)["template"] == "s2=p1"
    r = customer.api.put(path, json={"name": "book-pages", "template": "s3=p1", "global": False})
    assert assert_resource(r, 200, NQ)["template"] == "s3=p1"
    assert_error(customer.api.put(path, json={"name": "other", "template": "s1=p1"}), 400, "name")
    assert_error(customer.api.put(path, json={"template": "s1=p1", "global": True}), 400, "global")
    assert_error(customer.api.put(path, json={"template": "colour=red"}), 400, "template")
    assert_error(customer.api.put(path, json={"name": "book-pages"}), 400, "template")
    assert customer.api.get(path).json()["template"] == "s3=p1"
    # DELETE
    r = customer.api.delete(path)
    assert r.status_code == 204, describe(r)
    assert_error(customer.api.get(path), 404)
    assert_error(customer.api.delete(path), 404)
    assert_error(customer.api.put(path, json={"template": "s1=p1"}), 404)


def test_create_refusals(customer):
    assert_error(create(customer, "manifest", "s1=p1", status=409), 409)
    assert_error(create(customer, "x", "s1=p1", status=400, id=str(uuid.uuid4())), 400)
    assert_error(create(customer, "x", "s1=p1", status=400, colour="red"), 400, "colour")
    r = customer.api.post(customer.path + "/namedQueries", json={"template": "s1=p1"})
    assert_error(r, 400, "name")
    r = customer.api.post(customer.path + "/namedQueries", json={"name": "x"})
    assert_error(r, 400, "template")
    for bad in ("has space", "a/b", "..", "", "x" * 101, "caf\u00e9", "a\nb", 7):
        assert_error(create(customer, bad, "s1=p1", status=400), 400, "name")
    for bad in ("", "s1", "colour=red", "n1=abc", "space=0", "s1=a&s1=b", "canvas=n9",
                "batch=1,x", "s1=a\r\nX-Evil: 1", "x" * 3000):
        assert_error(create(customer, "t-" + uuid.uuid4().hex[:8], bad, status=400), 400, "template")
    # only the admin may make a query global
    assert_error(create(customer, "g", "s1=p1", status=403, **{"global": True}), 403)
    r = customer.api.post(customer.path + "/namedQueries", data="not json",
                          headers={"Content-Type": "application/json"})
    assert_error(r, 400)


def test_literal_templates_are_kept_as_written(customer):
    # a literal starting with p, '#', legacy "sequence", a value holding '='
    j = create(customer, "pottery", "s1=pottery&#=x&sequence=0&s2=a=b&canvas=n1 desc;s3+asc")
    assert j["template"] == "s1=pottery&#=x&sequence=0&s2=a=b&canvas=n1 desc;s3+asc"


def test_global_by_admin(admin, make_customer):
    owner, other = make_customer("nq-owner"), make_customer("nq-other")
    name = "g-" + uuid.uuid4().hex[:10]
    r = admin.post(owner.path + "/namedQueries", json={"name": name, "template": "s1=p1", "global": True})
    g = assert_created(r, NQ)
    assert g["global"] is True and g["customer"] == owner.id
    # every customer sees it in its list and by id under its own path
    assert name in [m["name"] for m in nq_list(other)]
    r = other.api.get("%s/namedQueries/%s" % (other.path, g["id"]))
    assert assert_resource(r, 200, NQ)["@id"] == g["@id"]
    # but only its owner changes or deletes it
    assert_error(other.api.put("%s/namedQueries/%s" % (other.path, g["id"]), json={"template": "s2=p1"}), 403)
    assert_error(other.api.delete("%s/namedQueries/%s" % (other.path, g["id"])), 404)
    # the other customer may have its own query of the same name
    create(other, name, "s2=p1")
    r = admin.delete("%s/namedQueries/%s" % (owner.path, g["id"]))
    assert r.status_code == 204, describe(r)


def test_isolation(make_customer):
    a, b = make_customer("nq-a"), make_customer("nq-b")
    mine = create(a, "private", "s1=p1")
    # b's key on a's path: 401; a's query under b's path: 404
    assert_error(b.api.get("%s/namedQueries" % a.path), 401)
    assert_error(b.api.get("%s/namedQueries/%s" % (a.path, mine["id"])), 401)
    assert_error(b.api.post("%s/namedQueries" % a.path, json={"name": "x", "template": "s1=p1"}), 401)
    assert_error(b.api.get("%s/namedQueries/%s" % (b.path, mine["id"])), 404)
    assert_error(b.api.delete("%s/namedQueries/%s" % (b.path, mine["id"])), 404)
    assert_error(b.api.put("%s/namedQueries/%s" % (b.path, mine["id"]), json={"template": "s1=p1"}), 404)
    assert "private" not in [m["name"] for m in nq_list(b)]
    assert_error(a.api.get("%s/namedQueries/not-a-guid" % a.path), 404)
    assert a.api.get("%s/namedQueries/%s" % (a.path, mine["id"])).status_code == 200


def test_anonymous_and_methods(anon, customer):
    assert_error(anon.get(customer.path + "/namedQueries"), 401)
    r = customer.api.patch(customer.path + "/namedQueries", json={})
    assert_error(r, 405)
    assert assert_collection(customer.api.get(customer.path + "/namedQueries"), NQ)["totalItems"] >= 5
