"""Bad input is never a server error: every JSON-taking route answers odd
bodies and odd query strings with a JSON 2xx/4xx, never a 5xx or HTML."""

import pytest

from helpers import create_space, describe, json_body, put_asset

FIELDS = ["name", "displayName", "defaultTags", "defaultRoles", "maxUnauthorised", "mediaType", "origin",
          "string1", "number1", "tags", "roles", "manifests", "family", "deliveryChannels", "member", "field",
          "operation", "value", "channel", "policy", "policyData", "id", "@id", "space"]
ODD_VALUES = [None, {"a": {"b": []}}, [None], [{}], 1e308, 2 ** 64, -(2 ** 63) - 1, "", "\u2603\U0001F600",
              "x" * 5000, True]


@pytest.fixture(scope="module")
def rb(make_customer):
    class D:
        pass
    d = D()
    d.c = make_customer("robust")
    d.s = create_space(d.c)
    put_asset(d.s, "a1")
    return d


def routes(d):
    c, s = d.c.path, d.s.path
    return [
        ("PATCH", c), ("POST", c + "/spaces"), ("PUT", c + "/spaces/7"), ("PATCH", s),
        ("PUT", s + "/images/a1"), ("PATCH", s + "/images/a1"), ("PUT", s + "/images/new1"),
        ("PATCH", s + "/images"), ("POST", c + "/allImages"), ("PATCH", c + "/allImages"),
        ("POST", c + "/deliveryChannelPolicies/thumbs"), ("PUT", c + "/deliveryChannelPolicies/thumbs/p"),
        ("POST", c + "/defaultDeliveryChannels"), ("POST", s + "/defaultDeliveryChannels"),
    ]


ROUTE_NAMES = ["customer PATCH", "spaces POST", "space PUT", "space PATCH", "asset PUT existing",
               "asset PATCH", "asset PUT new", "bulk PATCH", "allImages POST", "allImages PATCH",
               "policy POST", "policy PUT", "defaults POST", "space defaults POST"]


@pytest.mark.parametrize("index", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_odd_field_values_never_5xx(rb, index):
    method, path = routes(rb)[index]
    for field in FIELDS:
        for value in ODD_VALUES:
            body = {"mediaType": "image/jpeg", "name": "n-robust", field: value}
            r = rb.c.api.request(method, path, json=body)
            assert r.status_code < 500, "%s %s %s=%r: %s" % (method, path, field, value, describe(r))
            json_body(r)


@pytest.mark.parametrize("params", [
    {"page": "99999999999999999999"}, {"page": "-5"}, {"page": "1e3"}, {"pageSize": "1e3"},
    {"pageSize": "99999999999999999999"}, {"q": "{\"number1\": 1e400}"}, {"q": "{\"number1\": -0}"},
    {"q": "{\"string1\": \"" + "x" * 3000 + "\"}"}, {"q": "{\"id\": []}"}, {"q": "{}"}, {"q": ""},
    {"q": "null"}, {"orderBy": "id", "orderByDescending": "number1"}, {"number1": ""}, {"space": "x"},
    {"string1": "\u2603"}, {"q": "{\"tags\": [null]}"}, {"q": "{\"string1\": null}"},
])
def test_odd_query_strings_never_5xx(rb, params):
    for path in (rb.s.path + "/images", rb.c.path + "/allImages", rb.c.path + "/spaces"):
        r = rb.c.api.get(path, params=params)
        assert r.status_code < 500, describe(r)
        json_body(r)
