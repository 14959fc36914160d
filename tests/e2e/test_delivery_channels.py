"""Delivery channels on assets (defaults by mediaType, explicit lists,
validation, family), the customer's delivery channel policies, and default
delivery channels at customer and space level."""

import json
import uuid

import pytest

from helpers import (assert_collection, assert_created, assert_error, assert_resource, create_space, describe,
                     put_asset)


def channels(asset):
    """[(channel, policy-name)] of an asset, with a policy URL reduced to its
    last segment."""
    out = []
    for dc in asset["deliveryChannels"]:
        assert dc.get("@type") == "vocab:DeliveryChannel", dc
        pol = dc.get("policy")
        out.append((dc["channel"], pol.rsplit("/", 1)[-1] if isinstance(pol, str) else pol))
    return out


def channel_names(asset):
    return [dc["channel"] for dc in asset["deliveryChannels"]]


# ---------------------------------------------------------------- defaults by mediaType

def test_image_gets_iiif_img_and_thumbs_and_family_i(space):
    j = put_asset(space, "jpeg", media="image/jpeg")
    assert channels(j) == [("iiif-img", "default"), ("thumbs", "default")]
    assert j["deliveryChannels"][0]["policy"] == "default", "iiif-img/default is a system policy: bare name"
    thumbs_pol = j["deliveryChannels"][1]["policy"]
    assert thumbs_pol.endswith("%s/deliveryChannelPolicies/thumbs/default" % space.customer.path), thumbs_pol
    assert j["family"] == "I"
    assert "imageService" in j and "thumbnailImageService" in j


def test_other_image_types_get_image_defaults(space):
    for i, media in enumerate(["image/png", "image/tiff", "image/jp2"]):
        j = put_asset(space, "img%d" % i, media=media)
        assert channel_names(j) == ["iiif-img", "thumbs"] and j["family"] == "I", (media, j)


def test_audio_gets_iiif_av_and_family_t(space):
    j = put_asset(space, "mp3", media="audio/mp3")
    assert channel_names(j) == ["iiif-av"]
    assert channels(j)[0][1] == "default-audio"
    assert j["family"] == "T"
    assert "imageService" not in j and "thumbnailImageService" not in j


def test_video_gets_iiif_av_and_its_poster_and_family_t(space):
    j = put_asset(space, "mp4", media="video/mp4")
    assert sorted(channels(j)) == [("iiif-av", "default-video"), ("thumbs", "default")]
    assert j["family"] == "T"


def test_pdf_gets_file_none_and_family_f(space):
    j = put_asset(space, "pdf", media="application/pdf")
    assert channels(j) == [("file", "none")]
    assert j["family"] == "F"
    assert "imageService" not in j and "thumbnailImageService" not in j


# ---------------------------------------------------------------- explicit channels

def test_explicit_file_on_jpeg_gives_family_f(space):
    j = put_asset(space, "jpeg-file", deliveryChannels=["file"])
    assert channel_names(j) == ["file"]
    assert j["family"] == "F"
    assert "imageService" not in j and "thumbnailImageService" not in j


def test_thumbnail_is_normalised_to_thumbs(space):
    j = put_asset(space, "thumb-alias", deliveryChannels=["thumbnail"])
    assert channel_names(j) == ["thumbs"]
    assert j["family"] == "I"
    assert "thumbnailImageService" in j and "imageService" not in j


def test_channels_are_sorted_by_channel(space):
    j = put_asset(space, "sorted", deliveryChannels=["thumbs", "file", "iiif-img"])
    assert channel_names(j) == ["file", "iiif-img", "thumbs"]


def test_object_form_with_policy(space):
    j = put_asset(space, "objform", deliveryChannels=[{"channel": "iiif-img", "policy": "default"},
                                                      {"channel": "thumbnail", "policy": "default"}])
    assert channels(j) == [("iiif-img", "default"), ("thumbs", "default")]


def _small_thumbs(c):
    """Gives customer c a thumbs policy named "small"."""
    r = c.api.post(c.path + "/deliveryChannelPolicies/thumbs",
                   json={"id": "small", "policyData": json.dumps(["!200,200", "100,"])})
    assert_created(r, "vocab:DeliveryChannelPolicy", c.path + "/deliveryChannelPolicies/thumbs/small")


def test_explicit_customer_thumbs_policy_is_a_url(space):
    c = space.customer
    _small_thumbs(c)
    j = put_asset(space, "custom-thumbs", deliveryChannels=[{"channel": "thumbs", "policy": "small"}])
    assert j["deliveryChannels"][0]["policy"].endswith(c.path + "/deliveryChannelPolicies/thumbs/small")


@pytest.mark.parametrize("media,chans", [("image/jpeg", ["none"]), ("image/jpeg", ["default"]),
                                         ("audio/mp3", ["iiif-av"]), ("video/mp4", ["iiif-av"]),
                                         ("video/mp4", ["iiif-av", "thumbs"]),
                                         ("application/pdf", ["file"]), ("image/png", ["iiif-img"])])
def test_valid_explicit_channel_lists_are_accepted(space, media, chans):
    put_asset(space, "ok-" + "-".join(chans), media=media, deliveryChannels=chans)


def test_default_marker_means_the_defaults(space):
    j = put_asset(space, "dflt", deliveryChannels=["default"])
    assert channel_names(j) == ["iiif-img", "thumbs"]


@pytest.mark.parametrize("media,chans", [
    ("image/jpeg", []),
    ("image/jpeg", ["none", "file"]),
    ("image/jpeg", ["default", "iiif-img"]),
    ("image/jpeg", ["bogus"]),
    ("image/jpeg", ["file", "file"]),
    ("image/jpeg", ["thumbs", "thumbnail"]),
    ("image/jpeg", ["iiif-av"]),
    ("application/pdf", ["iiif-img"]),
    ("application/pdf", ["thumbs"]),
    ("audio/mp3", ["iiif-img"]),
    ("audio/mp3", ["thumbs"]),
    ("image/jpeg", [{"policy": "default"}]),
    ("image/jpeg", [{"channel": 5}]),
    ("image/jpeg", [{"channel": "iiif-img", "policy": 5}]),
])
def test_invalid_channel_lists_are_400(space, media, chans):
    r = space.customer.api.put(space.image("badch"), json={"mediaType": media, "deliveryChannels": chans})
    assert_error(r, 400, "deliveryChannels")
    assert_error(space.customer.api.get(space.image("badch")), 404)


# ---------------------------------------------------------------- default delivery channels (customer)

SEEDED = {("image/*", "iiif-img", "default"), ("image/*", "thumbs", "default"),
          ("audio/*", "iiif-av", "default-audio"), ("video/*", "iiif-av", "default-video"),
          ("video/*", "thumbs", "default"), ("application/*", "file", "none")}


def ddc_set(members):
    return {(m["mediaType"], m["channel"], m["policy"].rsplit("/", 1)[-1]) for m in members}


def test_new_customer_has_the_six_seeded_defaults(customer):
    j = assert_collection(customer.api.get(customer.path + "/defaultDeliveryChannels"),
                          "vocab:DefaultDeliveryChannel")
    assert j["totalItems"] == 6
    assert ddc_set(j["member"]) == SEEDED
    for m in j["member"]:
        tail = m["@id"].rsplit("/", 1)[-1]
        uuid.UUID(tail)
        assert m["@id"].endswith(customer.path + "/defaultDeliveryChannels/" + tail)


def test_default_delivery_channel_crud(customer):
    api = customer.api
    coll = customer.path + "/defaultDeliveryChannels"
    _small_thumbs(customer)
    r = api.post(coll, json={"channel": "thumbs", "policy": "small", "mediaType": "image/tiff"})
    j = assert_created(r, "vocab:DefaultDeliveryChannel")
    assert (j["channel"], j["policy"].rsplit("/", 1)[-1], j["mediaType"]) == ("thumbs", "small", "image/tiff")
    item = j["@id"][j["@id"].index("/customers/"):]
    assert assert_resource(api.get(item), 200, "vocab:DefaultDeliveryChannel") == j
    # the longer pattern image/tiff wins over image/* for the thumbs channel
    sp = create_space(customer)
    tiff = put_asset(sp, "tiff", media="image/tiff")
    assert dict(channels(tiff)).get("thumbs") == "small", tiff["deliveryChannels"]
    jpeg = put_asset(sp, "jpeg", media="image/jpeg")
    assert channels(jpeg) == [("iiif-img", "default"), ("thumbs", "default")]
    r = api.put(item, json={"channel": "thumbs", "policy": "small", "mediaType": "image/gif"})
    j2 = assert_resource(r, 200, "vocab:DefaultDeliveryChannel")
    assert j2["mediaType"] == "image/gif" and j2["@id"] == j["@id"]
    assert assert_resource(api.get(item), 200, "vocab:DefaultDeliveryChannel")["mediaType"] == "image/gif"
    r = api.delete(item)
    assert r.status_code == 204, describe(r)
    assert_error(api.get(item), 404)
    assert_error(api.delete(item), 404)
    j = assert_collection(api.get(coll))
    assert j["totalItems"] == 6 and ddc_set(j["member"]) == SEEDED


def test_duplicate_media_type_and_channel_is_409(customer):
    r = customer.api.post(customer.path + "/defaultDeliveryChannels",
                          json={"channel": "iiif-img", "policy": "default", "mediaType": "image/*"})
    assert_error(r, 409)


@pytest.mark.parametrize("body,field", [
    ({"policy": "none", "mediaType": "image/x"}, "channel"),
    ({"channel": "file", "mediaType": "image/x"}, "policy"),
    ({"channel": "file", "policy": "none"}, "mediaType"),
    ({"channel": "bogus", "policy": "none", "mediaType": "image/x"}, "channel"),
    ({"channel": "iiif-img", "policy": "no-such-policy", "mediaType": "image/x"}, "policy"),
    ({"channel": "file", "policy": "none", "mediaType": 5}, "mediaType"),
])
def test_bad_default_delivery_channel_is_400(customer, body, field):
    assert_error(customer.api.post(customer.path + "/defaultDeliveryChannels", json=body), 400, field)


def test_default_delivery_channel_id_must_be_uuid(customer):
    coll = customer.path + "/defaultDeliveryChannels/"
    assert_error(customer.api.get(coll + "not-a-uuid"), 400)
    assert_error(customer.api.get(coll + str(uuid.uuid4())), 404)
    assert_error(customer.api.delete(coll + str(uuid.uuid4())), 404)
    assert_error(customer.api.put(coll + str(uuid.uuid4()),
                                  json={"channel": "file", "policy": "none", "mediaType": "x/y"}), 404)


# ---------------------------------------------------------------- default delivery channels (space)

def test_space_defaults_override_customer_defaults(customer):
    _small_thumbs(customer)
    special = create_space(customer)
    plain = create_space(customer)
    r = customer.api.post(special.path + "/defaultDeliveryChannels",
                          json={"channel": "thumbs", "policy": "small", "mediaType": "image/*"})
    j = assert_created(r, "vocab:DefaultDeliveryChannel")
    assert (special.path + "/defaultDeliveryChannels/") in j["@id"], j["@id"]
    uuid.UUID(j["@id"].rsplit("/", 1)[-1])
    a = put_asset(special, "in-special", media="image/jpeg")
    assert dict(channels(a)).get("thumbs") == "small", a["deliveryChannels"]
    assert a["family"] == "I"
    b = put_asset(plain, "in-plain", media="image/jpeg")
    assert channels(b) == [("iiif-img", "default"), ("thumbs", "default")] and b["family"] == "I"
    # non-matching mediaTypes fall through to the customer's defaults
    c = put_asset(special, "audio-in-special", media="audio/wav")
    assert channel_names(c) == ["iiif-av"] and c["family"] == "T"
    lst = assert_collection(customer.api.get(special.path + "/defaultDeliveryChannels"),
                            "vocab:DefaultDeliveryChannel")
    assert lst["totalItems"] == 1 and ddc_set(lst["member"]) == {("image/*", "thumbs", "small")}
    plain_list = assert_collection(customer.api.get(plain.path + "/defaultDeliveryChannels"))
    assert plain_list["totalItems"] == 0


def test_space_default_delivery_channel_item_crud(space):
    api = space.customer.api
    r = api.post(space.path + "/defaultDeliveryChannels",
                 json={"channel": "iiif-img", "policy": "default", "mediaType": "image/png"})
    j = assert_created(r, "vocab:DefaultDeliveryChannel")
    item = j["@id"][j["@id"].index("/customers/"):]
    assert assert_resource(api.get(item), 200, "vocab:DefaultDeliveryChannel")["mediaType"] == "image/png"
    assert_error(api.post(space.path + "/defaultDeliveryChannels",
                          json={"channel": "iiif-img", "policy": "default", "mediaType": "image/png"}), 409)
    r = api.put(item, json={"channel": "iiif-img", "policy": "default", "mediaType": "image/webp"})
    assert assert_resource(r, 200, "vocab:DefaultDeliveryChannel")["mediaType"] == "image/webp"
    assert api.delete(item).status_code == 204
    assert_error(api.get(item), 404)
    assert_error(api.get(space.path + "/defaultDeliveryChannels/not-a-uuid"), 400)
    assert_error(api.get(space.path + "/defaultDeliveryChannels/" + str(uuid.uuid4())), 404)


def test_space_defaults_of_missing_space_are_404(customer):
    assert_error(customer.api.get(customer.path + "/spaces/404/defaultDeliveryChannels"), 404)
    assert_error(customer.api.post(customer.path + "/spaces/404/defaultDeliveryChannels",
                                   json={"channel": "file", "policy": "none", "mediaType": "x/*"}), 404)


# ---------------------------------------------------------------- delivery channel policies

def test_policy_collections_are_the_four_channels(customer):
    j = assert_collection(customer.api.get(customer.path + "/deliveryChannelPolicies"))
    assert j["totalItems"] == 4
    tails = set()
    for m in j["member"]:
        assert m["@type"] == "Collection" and isinstance(m.get("title"), str), m
        assert (customer.path + "/deliveryChannelPolicies/") in m["@id"], m
        tails.add(m["@id"].rsplit("/", 1)[-1])
    assert tails == {"iiif-img", "thumbs", "iiif-av", "file"}


@pytest.mark.parametrize("channel", ["iiif-img", "thumbs", "thumbnail", "iiif-av", "file"])
def test_policy_channel_lists(customer, channel):
    j = assert_collection(customer.api.get(customer.path + "/deliveryChannelPolicies/" + channel),
                          "vocab:DeliveryChannelPolicy")
    for m in j["member"]:
        assert m["channel"] == ("thumbs" if channel == "thumbnail" else channel), m


def test_unknown_policy_channel_is_404(customer):
    assert_error(customer.api.get(customer.path + "/deliveryChannelPolicies/bogus"), 404)
    assert_error(customer.api.post(customer.path + "/deliveryChannelPolicies/bogus",
                                   json={"id": "x", "policyData": "[]"}), 404)


def test_seed_example_thumbnail_policy_post(customer):
    body = {"id": "my-custom-thumbs", "displayName": "Standard set of thumbs for use on our website",
            "channel": "thumbnail",
            "policyData": "[ \"2048,\", \"1336,\", \"880,\", \"^!1024,1024\", \"^!400,400\", \"^,250\" ]"}
    r = customer.api.post(customer.path + "/deliveryChannelPolicies/thumbnail", json=body)
    j = assert_created(r, "vocab:DeliveryChannelPolicy",
                       customer.path + "/deliveryChannelPolicies/thumbs/my-custom-thumbs")
    assert j["name"] == "my-custom-thumbs"
    assert j["displayName"] == body["displayName"]
    assert j["channel"] == "thumbs"
    assert isinstance(j["policyData"], str)
    assert json.loads(j["policyData"]) == ["2048,", "1336,", "880,", "^!1024,1024", "^!400,400", "^,250"]
    assert isinstance(j["policyCreated"], str) and isinstance(j["policyModified"], str)
    lst = assert_collection(customer.api.get(customer.path + "/deliveryChannelPolicies/thumbs"))
    assert "my-custom-thumbs" in {m["name"] for m in lst["member"]}


def test_policy_crud(customer):
    api = customer.api
    coll = customer.path + "/deliveryChannelPolicies/thumbs"
    assert_created(api.post(coll, json={"name": "p1", "policyData": "[\"!300,300\"]"}), "vocab:DeliveryChannelPolicy")
    assert_error(api.post(coll, json={"name": "p1", "policyData": "[\"!300,300\"]"}), 409)
    got = assert_resource(api.get(coll + "/p1"), 200, "vocab:DeliveryChannelPolicy", coll + "/p1")
    assert json.loads(got["policyData"]) == ["!300,300"]
    # PATCH changes only what it is given
    r = api.patch(coll + "/p1", json={"displayName": "Patched"})
    j = assert_resource(r, 200, "vocab:DeliveryChannelPolicy")
    assert j["displayName"] == "Patched" and json.loads(j["policyData"]) == ["!300,300"]
    # PUT replaces an existing one (200) and creates a new one (201)
    r = api.put(coll + "/p1", json={"policyData": "[\",150\"]"})
    assert json.loads(assert_resource(r, 200, "vocab:DeliveryChannelPolicy")["policyData"]) == [",150"]
    r = api.put(coll + "/p2", json={"displayName": "Two", "policyData": "[\"120,\"]"})
    assert assert_created(r, "vocab:DeliveryChannelPolicy", coll + "/p2")["displayName"] == "Two"
    assert api.delete(coll + "/p1").status_code == 204
    assert_error(api.get(coll + "/p1"), 404)
    assert_error(api.delete(coll + "/p1"), 404)
    assert_error(api.patch(coll + "/nope", json={"displayName": "x"}), 404)


@pytest.mark.parametrize("data", ["[\"max\"]", "[\"200\"]", "not json", "[200]", "{}", "[\"!200\"]",
                                  "[\"!a,b\"]", "[\"pct:50\"]", "\"!200,200\""])
def test_invalid_thumbs_policy_data_is_400(customer, data):
    r = customer.api.post(customer.path + "/deliveryChannelPolicies/thumbs", json={"id": "bad", "policyData": data})
    assert_error(r, 400, "policyData")
    assert_error(customer.api.get(customer.path + "/deliveryChannelPolicies/thumbs/bad"), 404)


@pytest.mark.parametrize("channel", ["iiif-img", "file"])
def test_system_only_channels_refuse_customer_policies(customer, channel):
    r = customer.api.post(customer.path + "/deliveryChannelPolicies/" + channel,
                          json={"id": "mine", "policyData": "[\"!200,200\"]"})
    assert_error(r, 400)


def test_unknown_policy_is_404(customer):
    assert_error(customer.api.get(customer.path + "/deliveryChannelPolicies/thumbs/never"), 404)
