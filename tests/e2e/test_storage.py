"""Storage figures: customer, space and asset level."""

from helpers import assert_error, assert_resource, put_asset


def check_customer_storage(j):
    for k in ("numberOfStoredImages", "totalSizeOfStoredImages", "totalSizeOfThumbnails"):
        assert type(j.get(k)) is int and j[k] >= 0, "%s: %r" % (k, j.get(k))
    if "lastCalculated" in j:
        assert isinstance(j["lastCalculated"], str)
    assert isinstance(j.get("storagePolicy"), str) and j["storagePolicy"].endswith("/storagePolicies/default"), j


def test_customer_storage_of_new_customer(customer):
    j = assert_resource(customer.api.get(customer.path + "/storage"), 200, "vocab:CustomerStorage")
    check_customer_storage(j)
    assert j["numberOfStoredImages"] == 0 and j["totalSizeOfStoredImages"] == 0 and j["totalSizeOfThumbnails"] == 0


def test_space_storage(space):
    api = space.customer.api
    j = assert_resource(api.get(space.path + "/storage"), 200, "vocab:CustomerStorage", space.path + "/storage")
    check_customer_storage(j)
    assert j["numberOfStoredImages"] == 0
    put_asset(space, "stored")
    j = assert_resource(api.get(space.path + "/storage"), 200, "vocab:CustomerStorage")
    check_customer_storage(j)


def test_storage_policy_link_resolves(anon, customer):
    j = assert_resource(customer.api.get(customer.path + "/storage"), 200, "vocab:CustomerStorage")
    pol = assert_resource(anon.follow(j["storagePolicy"]), 200, "vocab:StoragePolicy")
    assert pol["maximumNumberOfStoredImages"] == 1000000000


def test_space_storage_of_missing_space_is_404(customer):
    assert_error(customer.api.get(customer.path + "/spaces/321/storage"), 404)


def test_asset_storage(space):
    j = put_asset(space, "st")
    r = space.customer.api.get(space.image("st") + "/storage")
    s = assert_resource(r, 200, "vocab:ImageStorage")
    assert s["@id"] == j["storage"]
    assert type(s["size"]) is int and s["size"] >= 0
    assert type(s["thumbnailSize"]) is int and s["thumbnailSize"] >= 0
    assert s["checkingInProgress"] is False
    if "lastChecked" in s:
        assert isinstance(s["lastChecked"], str)


def test_asset_storage_of_missing_asset_is_404(space):
    assert_error(space.customer.api.get(space.image("none") + "/storage"), 404)


def test_admin_storage_of_missing_customer_is_404(admin):
    assert_error(admin.get("/customers/999999999/storage"), 404)
