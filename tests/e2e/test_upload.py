"""Direct upload (issue 12 item 2): an asset's bytes sent with it as the
base64 "file" field of a PUT body, stored under storage_root as its origin
and ingested as usual; the size cap (upload_max_bytes, 413), the type sniffed
from the bytes (415), and the attacker's cases: malformed base64, a forged
upload origin, another customer's space, control bytes, a huge
Content-Length."""

import base64
import os
import socket
from urllib.parse import urlsplit

from helpers import assert_error, assert_resource, base_url, describe, uniq
from origin import config_int, get_asset, jpeg, quadrants, encode


def b64(data):
    return base64.b64encode(data).decode()


def png(w, h):
    return encode(quadrants(w, h), "PNG")


def upload_path(storage_root, space, asset_id):
    return os.path.join(storage_root, ".uploads", str(space.customer.id), str(space.id),
                        "upload-" + asset_id)


def test_upload_ingests_the_bytes(space, storage_root):
    data = png(300, 200)
    r = space.customer.api.put(space.image("up1"), json={"file": b64(data)})
    j = assert_resource(r, 201, "vocab:Image")
    assert (j.get("width"), j.get("height")) == (300, 200), describe(r)
    assert j["mediaType"] == "image/png", j  # sniffed: none was declared
    assert j["origin"].startswith("dlcs-upload:"), j
    assert "error" not in j, j
    with open(upload_path(storage_root, space, "up1"), "rb") as f:
        assert f.read() == data
    # the ingested original is the uploaded bytes
    with open(os.path.join(storage_root, str(space.customer.id), str(space.id), "up1", "original"), "rb") as f:
        assert f.read() == data
    info = space.customer.api.get("/iiif-img/%d/%d/up1/info.json" % (space.customer.id, space.id))
    assert info.status_code == 200, describe(info)
    assert info.json()["width"] == 300

    # a new PUT with other bytes replaces the asset (declared type kept)
    r = space.customer.api.put(space.image("up1"), json={"file": b64(jpeg(64, 48)), "mediaType": "image/jpeg"})
    j = assert_resource(r, 200, "vocab:Image")
    assert (j["width"], j["height"], j["mediaType"]) == (64, 48, "image/jpeg"), j

    # DELETE removes the upload with the asset
    assert space.customer.api.delete(space.image("up1")).status_code == 204
    assert not os.path.exists(upload_path(storage_root, space, "up1"))


def test_upload_type_is_sniffed(space, storage_root):
    api = space.customer.api
    r = api.put(space.image("text"), json={"file": b64(b"hello, this is not an image\n" * 10)})
    assert_error(r, 415, field="file")
    r = api.put(space.image("html"), json={"file": b64(b"<html><script>alert(1)</script></html>"),
                                           "mediaType": "image/png"})
    assert_error(r, 415, field="file")
    # a PNG declared as audio, a WAV declared as an image
    r = api.put(space.image("png-as-audio"), json={"file": b64(png(10, 10)), "mediaType": "audio/mpeg"})
    assert_error(r, 415, field="file", mentions="image/png")
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40
    r = api.put(space.image("wav-as-image"), json={"file": b64(wav), "mediaType": "image/jpeg"})
    assert_error(r, 415, field="file")
    for i in ("text", "html", "png-as-audio", "wav-as-image"):
        assert not os.path.exists(upload_path(storage_root, space, i)), i
        assert space.customer.api.get(space.image(i)).status_code == 404, i


def test_upload_malformed_base64(space):
    api = space.customer.api
    good = b64(png(8, 8))
    for bad in (good[:-1], good[:-3], good[:20] + "\n" + good[20:], good[:20] + "\x00" + good[20:],
                good[:20] + "\r\n" + good[20:], "!!!!" + good, good + "====", "=" + good, ""):
        r = api.put(space.image("bad"), json={"file": bad, "mediaType": "image/png"})
        assert r.status_code == 400, "%r: %s" % (bad[-8:], describe(r))
    for bad in (123, None, ["x"], {"a": "b"}):
        r = api.put(space.image("bad"), json={"file": bad, "mediaType": "image/png"})
        assert_error(r, 400, field="file")
    assert api.get(space.image("bad")).status_code == 404


def test_upload_size_cap(space, stack_config):
    limit = config_int(stack_config, "upload_max_bytes", 10 << 20)
    api = space.customer.api
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (limit + 1 - 8)
    r = api.put(space.image("big"), json={"file": b64(big), "mediaType": "image/png"},
                timeout=60)
    assert_error(r, 413, field="file", mentions="upload_max_bytes")
    assert api.get(space.image("big")).status_code == 404


def test_upload_huge_content_length_refused_before_the_body():
    """A 1 GB Content-Length is answered 413 without reading (or waiting
    for) the gigabyte: nginx's client_max_body_size, a JSON error."""
    u = urlsplit(base_url())
    with socket.create_connection((u.hostname, u.port or 80), timeout=10) as s:
        s.sendall(b"PUT /customers/1/spaces/1/images/x HTTP/1.1\r\nHost: " + u.netloc.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n"
                  b"Connection: close\r\n\r\n{\"file\":\"")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 413"), data[:200]


def test_upload_cannot_be_forged_as_an_origin(space, make_customer, storage_root):
    """The upload origin is the platform's: a customer cannot name one (their
    own or another's) as an origin, and the runner reads the upload of the
    asset's own ids whatever the text says."""
    api = space.customer.api
    r = api.put(space.image("mine"), json={"file": b64(png(20, 10))})
    assert_resource(r, 201, "vocab:Image")
    other = make_customer("victim")
    for origin in ("dlcs-upload:%d/%d/mine" % (space.customer.id, space.id),
                   "dlcs-upload:%d/1/secret" % other.id, "DLCS-UPLOAD:1/1/x",
                   "file://%s/.uploads/%d/%d/upload-mine" % (storage_root, space.customer.id, space.id)):
        r = api.put(space.image("forged"), json={"origin": origin, "mediaType": "image/png"})
        if r.status_code == 400:
            assert_error(r, 400, field="origin")
        else:  # file:// is a syntax the API accepts; the runner refuses it
            j = get_asset(space, "forged")
            assert "error" in j and "width" not in j, j
        r = api.patch(space.image("mine"), json={"origin": origin})
        if r.status_code == 400:
            assert_error(r, 400, field="origin")
    # file beside origin, and file in a PATCH or a bulk patch
    r = api.put(space.image("both"), json={"file": b64(png(4, 4)), "origin": "http://example.org/x.png",
                                           "mediaType": "image/png"})
    assert_error(r, 400, field="file")
    r = api.patch(space.image("mine"), json={"file": b64(png(4, 4))})
    assert_error(r, 400, field="file")


def test_upload_into_another_customers_space(space, make_customer, storage_root):
    intruder = make_customer("intruder")
    r = intruder.api.put(space.image("planted"), json={"file": b64(png(8, 8))})
    assert r.status_code == 401, describe(r)
    assert not os.path.exists(upload_path(storage_root, space, "planted"))
    assert space.customer.api.get(space.image("planted")).status_code == 404


def test_upload_ids_and_fields_with_control_bytes(space, storage_root):
    api = space.customer.api
    data = b64(png(8, 8))
    for bad_id in ("a%0d%0aX-Injected:%201", "a%00b", "..", "a%2fb", "%2e%2e"):
        r = api.put(space.path + "/images/" + bad_id, json={"file": data})
        assert r.status_code in (400, 404), "%s: %s" % (bad_id, describe(r))
        assert "X-Injected" not in r.headers
    r = api.put(space.image("ctl"), json={"file": data, "mediaType": "image/png\r\nX-Injected: 1"})
    assert_error(r, 400, field="mediaType")
    r = api.put(space.image("ctl"), json={"file": data, "string1": "a\x00b\r\nc"})
    if r.status_code == 400:
        assert_error(r, 400, field="string1")
    else:
        j = assert_resource(r, 201, "vocab:Image")
        assert j["string1"] == "a\x00b\r\nc", j
    # nothing was written outside the uploads of this space
    up = os.path.join(storage_root, ".uploads", str(space.customer.id), str(space.id))
    names = os.listdir(up) if os.path.isdir(up) else []
    assert set(names) <= {"upload-ctl"}, names
