"""GET /openapi.json: the API's OpenAPI 3 description (handlers/api/openapi.json,
checked against the route table by tests/unit/test_openapi.c), served
anonymously; what it says about the anonymous paths holds."""

from helpers import describe


def test_openapi_is_served_and_its_anonymous_paths_answer(anon, admin):
    r = anon.get("/openapi.json")
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    doc = r.json()
    assert doc["openapi"].startswith("3."), doc.get("openapi")
    paths = doc["paths"]
    assert "/customers/{customer}/spaces/{space}/images/{image}" in paths
    assert set(paths["/customers/{customer}/spaces/{space}/images/{image}"]) >= {"get", "put", "patch", "delete"}
    checked = 0
    for path, item in paths.items():
        get = item.get("get")
        if "{" in path or not get:
            continue
        who = anon if get.get("security") == [] else admin
        r = who.get(path)
        assert r.status_code == 200, "%s: %s" % (path, describe(r))
        checked += 1
        # {} among the requirements: credentials optional (/metrics, whose
        # anonymous answer depends on the client's address)
        if get.get("security") != [] and {} not in get.get("security", [{}]):
            assert anon.get(path).status_code == 401, path
    assert checked >= 8
