"""Audio and video (CONTRACT section 12, issue 13): iiif-av policies are lists
of presets; the runners transcode with ffmpeg (one output per preset, the
duration and size from ffprobe, a video's poster frame as its thumbnails);
nginx delivers the transcodes with byte ranges; a restricted asset is not
served; corrupt files and files without streams end in a readable error; a
DELETE cancels a transcode; a runner killed mid-transcode leaves nothing
half-written and the item completes once; transcodes do not hold up images.

The media are made here with ffmpeg's lavfi sources (a tone, a test pattern
with sound, a silent video) and checked with ffprobe."""

import json
import os
import subprocess
import time

import pytest

import pools
from helpers import assert_created, assert_error, assert_resource, describe, put_asset, role_uri
from origin import jpeg

FFMPEG = "/usr/bin/ffmpeg"
FFPROBE = "/usr/bin/ffprobe"
AUDIO = "full/max/default.%s"
VIDEO = "full/full/max/max/0/default.%s"
# How long a transcode may take on a loaded test machine.
TRANSCODE_WAIT = 300

pytestmark = pytest.mark.skipif(not os.access(FFMPEG, os.X_OK), reason="ffmpeg is not installed")


def ffmpeg(*args):
    subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + list(args),
                   check=True, timeout=300)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """The test media, by name: bytes."""
    d = tmp_path_factory.mktemp("av")
    p = lambda name: str(d / name)
    # a 20 s tone (FLAC: small, and not what any preset writes)
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=20", "-c:a", "flac",
           p("tone.flac"))
    # 10 s of a 1280x720 test pattern with a tone
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25:duration=10",
           "-f", "lavfi", "-i", "sine=frequency=660:duration=10",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           p("clip.mp4"))
    # 3 s of a small silent video
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", p("silent.mp4"))
    # the same, as a phone films upright: stored 320x240, turned a quarter
    # by its display matrix
    ffmpeg("-i", p("silent.mp4"), "-c", "copy", "-metadata:s:v", "rotate=90", p("portrait.mp4"))
    out = {}
    for name in ("tone.flac", "clip.mp4", "silent.mp4", "portrait.mp4"):
        with open(p(name), "rb") as f:
            out[name] = f.read()
    # an mp4 whose middle is noise: the header promises what is not there
    clip = out["clip.mp4"]
    out["corrupt.mp4"] = clip[:64] + os.urandom(200000)
    out["text.txt"] = b"This is not a film.\n" * 100
    return out


def probe(data, tmp_path, name="probe"):
    """ffprobe of bytes: {"format": ..., "streams": [...]}."""
    path = tmp_path / name
    path.write_bytes(data)
    r = subprocess.run([FFPROBE, "-v", "error", "-show_entries",
                        "format=duration,format_name:stream=codec_type,codec_name,width,height",
                        "-of", "json", str(path)], capture_output=True, check=True, timeout=60)
    return json.loads(r.stdout)


def codecs(info):
    return {s["codec_type"]: s["codec_name"] for s in info["streams"]}


def av_url(space, asset_id, path, customer=None):
    return "/iiif-av/%s/%d/%s/%s" % (customer or space.customer.id, space.id, asset_id, path)


def wait_ingested(space, asset_id, timeout=TRANSCODE_WAIT):
    """The asset once it is no longer ingesting."""
    end = time.time() + timeout
    while True:
        r = space.customer.api.get(space.image(asset_id))
        j = assert_resource(r, 200, "vocab:Image")
        if not j.get("ingesting"):
            return j
        assert time.time() < end, "asset %s still ingesting after %d s: %s" % (asset_id, timeout, j)
        time.sleep(0.5)


def put_av(space, origin, asset_id, data, media, **fields):
    """Registers an AV asset; it is queued (201 with ingesting: true)."""
    url = origin.add(data, content_type=media)
    j = put_asset(space, asset_id, media=media, origin=url, **fields)
    assert j["ingesting"] is True, j
    return j


def iiif_av_policy(customer, name, presets):
    r = customer.api.post(customer.path + "/deliveryChannelPolicies/iiif-av",
                          json={"id": name, "policyData": json.dumps(presets)})
    return assert_created(r, "vocab:DeliveryChannelPolicy")


def transcodes_running(storage_root):
    """{pid: parent pid} of the ffmpeg processes working under storage_root."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                args = f.read().split(b"\0")
            if os.path.basename(args[0]) != b"ffmpeg":
                continue
            cwd = os.readlink("/proc/%s/cwd" % entry)
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if cwd.startswith(storage_root + "/"):
            found[int(entry)] = ppid
    return found


def wait_transcode(storage_root, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        running = transcodes_running(storage_root)
        if running:
            return running
        time.sleep(0.05)
    raise AssertionError("no ffmpeg started under %s within %d s" % (storage_root, timeout))


def asset_files(storage_root, space, asset_id):
    d = os.path.join(storage_root, str(space.customer.id), str(space.id), asset_id)
    out = set()
    for top, _, files in os.walk(d):
        for f in files:
            out.add(os.path.relpath(os.path.join(top, f), d))
    return out


# ---------------------------------------------------------------- policies

def test_seeded_av_policies(customer):
    api = customer.api
    for name, presets in (("default-audio", ["audio-mp3-128"]), ("default-video", ["video-mp4-720p"])):
        j = assert_resource(api.get(customer.path + "/deliveryChannelPolicies/iiif-av/" + name), 200,
                            "vocab:DeliveryChannelPolicy")
        assert json.loads(j["policyData"]) == presets


@pytest.mark.parametrize("data", ['["video-mp4-480p"]', "[]", '["audio-mp3-128", "audio-mp3-128"]',
                                  '["video-mp4-720p", "video-mp4-1080p"]', '["audio-mp3-128", "audio-mp3-192"]',
                                  '[5]', '"video-mp4-720p"', "not json", '{"a": 1}', '["Video-MP4-720p"]'])
def test_invalid_av_policy_data_is_400(customer, data):
    coll = customer.path + "/deliveryChannelPolicies/iiif-av"
    assert_error(customer.api.post(coll, json={"id": "bad", "policyData": data}), 400, "policyData")
    assert_error(customer.api.get(coll + "/bad"), 404)


def test_av_policy_of_known_presets(customer):
    j = iiif_av_policy(customer, "both", ["video-mp4-720p", "video-webm-720p"])
    assert json.loads(j["policyData"]) == ["video-mp4-720p", "video-webm-720p"]
    j = iiif_av_policy(customer, "audio-all", ["audio-mp3-192", "audio-aac-192"])
    assert json.loads(j["policyData"]) == ["audio-mp3-192", "audio-aac-192"]


# ---------------------------------------------------------------- transcodes

def test_tone_becomes_mp3(space, origin, anon, storage_root, tmp_path, media):
    put_av(space, origin, "tone", media["tone.flac"], "audio/flac")
    j = wait_ingested(space, "tone")
    assert "error" not in j, j
    assert abs(j["duration"] - 20000) <= 100, j
    assert not j.get("width") and not j.get("height"), j

    url = av_url(space, "tone", AUDIO % "mp3")
    r = anon.get(url)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"] == "audio/mpeg"
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    body = r.content
    info = probe(body, tmp_path)
    assert codecs(info) == {"audio": "mp3"}
    assert abs(float(info["format"]["duration"]) - 20.0) <= 0.1, info
    # 128 kb/s for 20 s
    assert 280000 <= len(body) <= 380000, len(body)

    # byte ranges, HEAD, the name of the customer
    r = anon.get(url, headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206, describe(r)
    assert r.content == body[1000:2000]
    assert r.headers["Content-Range"] == "bytes 1000-1999/%d" % len(body)
    r = anon.head(url)
    assert r.status_code == 200 and r.content == b"" and int(r.headers["Content-Length"]) == len(body)
    assert r.headers["Content-Type"] == "audio/mpeg"
    r = anon.get(av_url(space, "tone", AUDIO % "mp3", customer=space.customer.name))
    assert r.status_code == 200 and r.content == body

    # nothing on the other channels, nor at the paths of other presets
    assert anon.get(av_url(space, "tone", AUDIO % "m4a")).status_code == 404
    assert anon.get(av_url(space, "tone", VIDEO % "mp4")).status_code == 404
    assert anon.get("/iiif-img/%d/%d/tone/info.json" % (space.customer.id, space.id)).status_code == 404
    assert anon.get("/thumbs/%d/%d/tone/info.json" % (space.customer.id, space.id)).status_code == 404
    assert anon.get("/file/%d/%d/tone" % (space.customer.id, space.id)).status_code == 404
    assert anon.post(url, data=b"x").status_code == 405

    # the original is not kept (no file channel); storage counts the mp3
    files = asset_files(storage_root, space, "tone")
    assert files == {"av.json", "av/full/max/default.mp3"}, files
    s = assert_resource(space.customer.api.get(space.image("tone") + "/storage"), 200, "vocab:ImageStorage")
    assert len(body) <= s["size"] <= len(body) + 4096, (s, len(body))

    r = anon.get("/iiif-manifest/%d/%d/tone" % (space.customer.id, space.id))
    assert r.status_code == 200, describe(r)
    canvas = r.json()["items"][0]
    assert "width" not in canvas and abs(canvas["duration"] - 20.0) <= 0.1, canvas
    b = canvas["items"][0]["items"][0]["body"]
    assert b["type"] == "Sound" and b["format"] == "audio/mpeg" and b["id"].endswith(url), b


def test_av_caching_headers(space, origin, anon, media):
    # the file's answers are cached for a year; a range past its end is an
    # error that is never stored (and says how long the file is). nginx
    # answers both from the fast path: its 416 also repeats the year of the
    # file (nginx 1.22's add_header runs before its range filter refuses
    # the range, and the error page keeps what was added), so the test
    # holds no-store among them, which forbids any cache to keep it
    put_av(space, origin, "tone-cc", media["tone.flac"], "audio/flac")
    j = wait_ingested(space, "tone-cc")
    assert "error" not in j, j
    url = av_url(space, "tone-cc", AUDIO % "mp3")
    year = "public, max-age=31536000"
    full = anon.get(url)
    assert full.status_code == 200 and full.headers.get("Cache-Control") == year, describe(full)
    size = len(full.content)
    r = anon.head(url)
    assert r.status_code == 200 and r.headers.get("Cache-Control") == year, describe(r)
    for rng, want in (("bytes=1000-1999", full.content[1000:2000]), ("bytes=%d-" % (size - 10), full.content[-10:]),
                      ("bytes=-100", full.content[-100:])):
        r = anon.get(url, headers={"Range": rng})
        assert r.status_code == 206 and r.content == want, (rng, describe(r))
        # requests joins a repeated header with ", ": equality means once
        assert r.headers.get("Cache-Control") == year, (rng, r.headers)
        assert r.headers.get("Access-Control-Allow-Origin") == "*", (rng, r.headers)
    for rng in ("bytes=%d-" % size, "bytes=99999999-", "bytes=%d-%d" % (size + 5, size + 10)):
        for method in (anon.get, anon.head):
            r = method(url, headers={"Range": rng})
            assert r.status_code == 416, (rng, describe(r))
            assert "no-store" in r.headers.get("Cache-Control", "").split(", "), (rng, r.headers)
            assert "Expires" not in r.headers, (rng, r.headers)
            assert r.headers.get("Content-Range") == "bytes */%d" % size, (rng, r.headers)
            assert r.headers.get("Access-Control-Allow-Origin") == "*", (rng, r.headers)


def test_video_with_sound_becomes_mp4_with_poster(space, origin, anon, storage_root, tmp_path, media):
    put_av(space, origin, "clip", media["clip.mp4"], "video/mp4")
    j = wait_ingested(space, "clip")
    assert "error" not in j, j
    assert (j["width"], j["height"]) == (1280, 720), j
    assert abs(j["duration"] - 10000) <= 100, j

    url = av_url(space, "clip", VIDEO % "mp4")
    r = anon.get(url)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"] == "video/mp4"
    body = r.content
    info = probe(body, tmp_path)
    assert codecs(info) == {"video": "h264", "audio": "aac"}, info
    v = [s for s in info["streams"] if s["codec_type"] == "video"][0]
    assert (v["width"], v["height"]) == (1280, 720)
    assert abs(float(info["format"]["duration"]) - 10.0) <= 0.1, info
    r = anon.get(url, headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == body[1000:2000]

    # the poster frame as the thumbnails of the thumbs channel
    th = "/thumbs/%d/%d/clip" % (space.customer.id, space.id)
    r = anon.get(th + "/info.json")
    assert r.status_code == 200, describe(r)
    sizes = r.json()["sizes"]
    assert sizes and max(s["width"] for s in sizes) <= 1280
    s = sizes[0]
    r = anon.get(th + "/full/%d,%d/0/default.jpg" % (s["width"], s["height"]))
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg", describe(r)
    assert r.content[:2] == b"\xff\xd8"
    st = assert_resource(space.customer.api.get(space.image("clip") + "/storage"), 200, "vocab:ImageStorage")
    assert st["thumbnailSize"] > 0 and st["size"] >= len(body)

    # its manifest: a Video canvas with its duration and the poster
    r = anon.get("/iiif-manifest/%d/%d/clip" % (space.customer.id, space.id))
    assert r.status_code == 200, describe(r)
    canvas = r.json()["items"][0]
    assert (canvas["width"], canvas["height"], canvas["duration"]) == (1280, 720, 10.0), canvas
    b = canvas["items"][0]["items"][0]["body"]
    assert b["type"] == "Video" and b["format"] == "video/mp4" and abs(b["duration"] - 10.0) <= 0.1, b
    assert b["id"].endswith(url), b
    assert canvas["thumbnail"][0]["id"].startswith(r.url.split("/iiif-manifest/")[0] + th + "/full/")
    assert anon.get("/iiif-manifest/v2/%d/%d/clip" % (space.customer.id, space.id)).status_code == 404


def test_silent_video_in_two_formats(customer, space, origin, anon, tmp_path, media):
    iiif_av_policy(customer, "web", ["video-mp4-720p", "video-webm-720p"])
    put_av(space, origin, "silent", media["silent.mp4"], "video/mp4",
           deliveryChannels=[{"channel": "iiif-av", "policy": "web"}])
    j = wait_ingested(space, "silent")
    assert "error" not in j, j
    assert (j["width"], j["height"]) == (320, 240) and abs(j["duration"] - 3000) <= 100, j
    for ext, want in (("mp4", {"video": "h264"}), ("webm", {"video": "vp9"})):
        r = anon.get(av_url(space, "silent", VIDEO % ext))
        assert r.status_code == 200 and r.headers["Content-Type"] == "video/" + ext, describe(r)
        info = probe(r.content, tmp_path, ext)
        assert codecs(info) == want, info
        assert abs(float(info["format"]["duration"]) - 3.0) <= 0.1, info
    # its manifest: a Choice of the two, in the policy's order
    r = anon.get("/iiif-manifest/%d/%d/silent" % (space.customer.id, space.id))
    assert r.status_code == 200, describe(r)
    b = r.json()["items"][0]["items"][0]["items"][0]["body"]
    assert b["type"] == "Choice" and [i["format"] for i in b["items"]] == ["video/mp4", "video/webm"], b


def test_portrait_video_is_upright(space, origin, anon, tmp_path, media):
    # ffmpeg turns the picture upright before scaling it: the asset, its
    # transcode and the manifest all say 240 wide, 320 high
    put_av(space, origin, "portrait", media["portrait.mp4"], "video/mp4")
    j = wait_ingested(space, "portrait")
    assert "error" not in j, j
    assert (j["width"], j["height"]) == (240, 320), j
    r = anon.get(av_url(space, "portrait", VIDEO % "mp4"))
    assert r.status_code == 200, describe(r)
    v = [s for s in probe(r.content, tmp_path)["streams"] if s["codec_type"] == "video"][0]
    assert (v["width"], v["height"]) == (240, 320), v
    r = anon.get("/iiif-manifest/%d/%d/portrait" % (space.customer.id, space.id))
    assert r.status_code == 200, describe(r)
    canvas = r.json()["items"][0]
    b = canvas["items"][0]["items"][0]["body"]
    assert (canvas["width"], canvas["height"]) == (240, 320), canvas
    assert (b["width"], b["height"]) == (240, 320) and abs(b["duration"] - 3.0) <= 0.1, b


@pytest.mark.parametrize("name,media_type,mentions", [
    ("corrupt.mp4", "video/mp4", "media: iiif-av"),
    ("text.txt", "video/mp4", "media: iiif-av"),
])
def test_unusable_files_end_in_a_readable_error(space, origin, anon, storage_root, media, name, media_type,
                                                mentions):
    aid = name.replace(".", "-")
    put_av(space, origin, aid, media[name], media_type)
    j = wait_ingested(space, aid)
    err = j.get("error") or ""
    assert err.startswith(mentions), j
    assert all(0x20 <= ord(ch) < 0x7f or ord(ch) > 0x9f for ch in err) and len(err) < 600, err
    assert anon.get(av_url(space, aid, VIDEO % "mp4")).status_code == 404
    assert asset_files(storage_root, space, aid) == set()


def test_audio_only_file_for_a_video_preset_is_an_error(space, origin, media):
    put_av(space, origin, "tone-as-video", media["tone.flac"], "video/mp4")
    j = wait_ingested(space, "tone-as-video")
    assert "needs a video stream" in (j.get("error") or ""), j


def test_restricted_av_is_not_served(space, origin, anon, storage_root, media):
    put_av(space, origin, "locked", media["tone.flac"], "audio/flac", roles=[role_uri(space.customer)])
    j = wait_ingested(space, "locked")
    assert "error" not in j, j
    assert "av/full/max/default.mp3" in asset_files(storage_root, space, "locked")
    assert not os.path.lexists(os.path.join(storage_root, "public", "iiif-av", str(space.customer.id),
                                            str(space.id), "locked"))
    url = av_url(space, "locked", AUDIO % "mp3")
    r = anon.get(url)
    assert r.status_code == 401 and r.json()["statusCode"] == 401, describe(r)
    assert anon.get(url, headers={"Range": "bytes=0-99"}).status_code == 401
    assert anon.head(url).status_code == 401
    # open again: served by nginx
    assert_resource(space.customer.api.patch(space.image("locked"), json={"roles": []}), 200, "vocab:Image")
    assert anon.get(url).status_code == 200


def test_path_tricks_are_not_served(space, anon):
    c, s = space.customer.id, space.id
    for path in ("/iiif-av/%d/%d/x/full/max/../../../../../../etc/passwd" % (c, s),
                 "/iiif-av/%d/%d/x/full/max/default.mp3%%00.jpg" % (c, s),
                 "/iiif-av/%d/%d/..%%2Fx/full/max/default.mp3" % (c, s),
                 "/iiif-av/%d/%d/x/av.json" % (c, s),
                 "/iiif-av/../%d/%d/x/full/max/default.mp3" % (c, s)):
        r = anon.get(path)
        assert r.status_code in (400, 404), (path, describe(r))
        assert b"root:" not in r.content


# ---------------------------------------------------------------- cancel, kill, share

def test_delete_cancels_a_transcode(space, origin, storage_root, media):
    put_av(space, origin, "cancel-me", media["clip.mp4"], "video/mp4")
    running = wait_transcode(storage_root)
    r = space.customer.api.delete(space.image("cancel-me"))
    assert r.status_code == 204, describe(r)
    end = time.time() + 10
    while time.time() < end and set(transcodes_running(storage_root)) & set(running):
        time.sleep(0.1)
    assert not set(transcodes_running(storage_root)) & set(running), "ffmpeg still runs after the DELETE"
    time.sleep(1)
    assert asset_files(storage_root, space, "cancel-me") == set()


def test_runner_killed_mid_transcode_completes_once(space, origin, dlcs_var, storage_root, stack_config,
                                                      tmp_path, media):
    # each kill is a claim: stay below runner_max_attempts (3 by default)
    kills = min(2, int(stack_config.get("runner_max_attempts", "3")) - 1)
    url = origin.add(media["clip.mp4"], content_type="video/mp4")
    put_asset(space, "killed", media="video/mp4", origin=url)
    for _ in range(kills):
        running = wait_transcode(storage_root, timeout=60)
        victims = {ppid for ppid in running.values() if ppid in pools.workers(dlcs_var, "runner")}
        assert victims, "ffmpeg %s not run by a runner of the pool" % running
        for pid in victims:
            pools.kill_worker(dlcs_var, "runner", pid)
        # ffmpeg dies with its runner
        end = time.time() + 5
        while time.time() < end and set(transcodes_running(storage_root)) & set(running):
            time.sleep(0.05)
        assert not set(transcodes_running(storage_root)) & set(running), "ffmpeg outlived its runner"
    j = wait_ingested(space, "killed")
    assert "error" not in j, j
    assert (j["width"], j["height"]) == (1280, 720) and abs(j["duration"] - 10000) <= 100, j
    assert origin.count(url) == kills + 1
    files = asset_files(storage_root, space, "killed")
    assert "av/full/full/max/max/0/default.mp4" in files and "av.json" in files, files
    assert not any(f.startswith("scratch") or f == "original" for f in files), files
    with open(os.path.join(storage_root, str(space.customer.id), str(space.id), "killed",
                           "av/full/full/max/max/0/default.mp4"), "rb") as f:
        info = probe(f.read(), tmp_path)
    assert abs(float(info["format"]["duration"]) - 10.0) <= 0.1, info
    # nothing left of the killed runners' work
    r = space.customer.api.get(space.customer.path + "/queue/active")
    assert all("killed" not in json.dumps(m) for m in r.json().get("member", [])), r.text


def test_images_are_ingested_while_a_transcode_runs(space, origin, storage_root, media):
    put_av(space, origin, "long", media["clip.mp4"], "video/mp4")
    wait_transcode(storage_root)
    t0 = time.time()
    r = space.customer.api.put(space.image("pic"), json={"mediaType": "image/jpeg",
                                                        "origin": origin.add(jpeg(600, 400))}, timeout=60)
    j = assert_created(r, "vocab:Image")
    assert j["width"] == 600 and time.time() - t0 < 30, (j, time.time() - t0)
    wait_ingested(space, "long")
