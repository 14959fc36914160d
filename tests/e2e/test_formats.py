"""Origin formats and colour end to end (issue 14): JPEG 2000 origins made
with opj_compress (lossless and lossy, JP2 and raw J2K, several resolution
levels and tiles, grey, 16-bit, alpha) ingest with the right size and the
right pixels in tiles of every quadrant and in the thumbnails; truncated,
corrupt and oversized ones end in a readable error; images with an embedded
ICC profile (an Adobe RGB (1998)-compatible JPEG and TIFF, a CMYK JPEG with a
press profile, a grey PNG with a grey profile) are delivered as sRGB, as
Little CMS itself converts them (PIL's ImageCms wraps it), on tiles,
thumbnails, full/max and a png, while /file still serves the original as it
came; and the formats that already ingested right (16-bit TIFF, a pyramidal
TIFF, CMYK JPEG, PNG with alpha) still do.

The profiles come from Debian packages (.stack/deps --test): icc-profiles-free
(Adobe RGB-compatible, grey, sRGB) and libgs-common (Ghostscript's SWOP CMYK)."""

import io
import os
import shutil
import struct
import subprocess

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

from helpers import create_space, describe, put_asset
from origin import asset_dir, check_derivatives, encode, levels, quadrants

ICC_DIR = "/usr/share/color/icc"
ADOBE_RGB = os.path.join(ICC_DIR, "compatibleWithAdobeRGB1998.icc")
GREY = os.path.join(ICC_DIR, "Gray.icc")
SRGB = os.path.join(ICC_DIR, "sRGB.icc")
CMYK_SWOP = os.path.join(ICC_DIR, "ghostscript", "default_cmyk.icc")


def need(path):
    if not os.path.exists(path):
        pytest.fail("%s is missing: run .stack/deps --test" % path)
    return path


def icc(path):
    with open(need(path), "rb") as f:
        return f.read()


# ---------------------------------------------------------------- images

def pattern(w, h):
    """Quadrants (QUAD_COLOURS) under a soft diagonal ramp: a tile or a
    thumbnail taken from the wrong place, level or scale shows."""
    ramp = Image.linear_gradient("L").resize((w, h))
    ramp2 = Image.linear_gradient("L").rotate(90).resize((w, h))
    tint = Image.merge("RGB", (ramp, ramp2, ImageChops.invert(ramp)))
    return Image.blend(quadrants(w, h), tint, 0.3)


def opj(tmp, img, name, *args):
    """The bytes of img compressed by opj_compress with args."""
    if shutil.which("opj_compress") is None:
        pytest.fail("opj_compress is missing: run .stack/deps --test (libopenjp2-tools)")
    ext = {"RGB": "ppm", "L": "pgm", "RGBA": "png", "I;16": "png"}[img.mode]
    src = os.path.join(tmp, name + "." + ext)
    out = os.path.join(tmp, name)
    img.save(src)
    r = subprocess.run(["opj_compress", "-i", src, "-o", out] + list(args), capture_output=True, text=True)
    assert r.returncode == 0 and os.path.exists(out), "opj_compress %s: %s" % (args, r.stdout + r.stderr)
    with open(out, "rb") as f:
        return f.read()


def to_srgb(src_bytes):
    """What Little CMS makes of an image with an embedded profile: sRGB
    (its built-in profile), perceptual intent, as the ingest documents."""
    im = Image.open(io.BytesIO(src_bytes))
    im.load()
    prof = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
    t = ImageCms.buildTransform(prof, ImageCms.createProfile("sRGB"), im.mode, "RGB",
                                renderingIntent=ImageCms.Intent.PERCEPTUAL)
    return ImageCms.applyTransform(im, t)


def near(a, b, tol):
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))


def centres(w, h):
    return [(int(w * fx), int(h * fy)) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]


def stored_tile(d, w, h, f, x, y):
    """The stored tile of scale factor f holding full-image pixel (x, y), and
    (x, y) within it."""
    span = 256 * f
    tx, ty = x // span * span, y // span * span
    tw, th = min(span, w - tx), min(span, h - ty)
    name = "%d,%d,%d,%d_%d.jpg" % (tx, ty, tw, th, -(-tw // f))
    im = Image.open(os.path.join(d, "tiles", name)).convert("RGB")
    return im, ((x - tx) // f, (y - ty) // f), name


def check_pixels(d, want, tol, thumb_tol):
    """Tiles of every level at the centre of every quadrant, and every
    thumbnail, against `want` (the full-size RGB image as it should look)."""
    w, h = want.size
    for f, lw, lh in levels(w, h):
        small = want if f == 1 else want.resize((lw, lh), Image.BOX)
        for x, y in centres(w, h):
            tile, at, name = stored_tile(d, w, h, f, x, y)
            got, exp = tile.getpixel(at), small.getpixel((min(x // f, lw - 1), min(y // f, lh - 1)))
            assert near(got, exp, tol), "tile %s at %s (factor %d): %s, expected %s" % (name, at, f, got, exp)
    for name in sorted(os.listdir(os.path.join(d, "thumbs"))):
        p = os.path.join(d, "thumbs", name)
        if os.path.islink(p):
            continue
        thumb = Image.open(p).convert("RGB")
        ref = want.resize(thumb.size, Image.LANCZOS)
        for x, y in centres(*thumb.size):
            assert near(thumb.getpixel((x, y)), ref.getpixel((x, y)), thumb_tol), \
                "thumb %s at %s: %s, expected %s" % (name, (x, y), thumb.getpixel((x, y)), ref.getpixel((x, y)))
        # and on the whole, not only at four points
        diff = ImageStat.Stat(ImageChops.difference(thumb, ref)).mean
        assert max(diff) <= thumb_tol, "thumb %s differs by %s on average" % (name, diff)


@pytest.fixture(scope="module")
def fmt(make_customer):
    cust = make_customer("formats")
    return create_space(cust)


def ingest(space, origin, aid, data, media, **fields):
    url = origin.add(data, media, name=aid)
    j = put_asset(space, aid, origin=url, media=media, **fields)
    assert "error" not in j, "%s: %s" % (aid, j)
    return j


# ---------------------------------------------------------------- JPEG 2000

JP2_CASES = [
    # id, size, mode, opj_compress arguments, tile tolerance
    ("jp2-lossless", (1300, 900), "RGB", ["-n", "5", "-t", "512,512"], 8),
    ("jp2-lossy", (2600, 1700), "RGB", ["-n", "6", "-t", "1024,1024", "-I", "-r", "20"], 12),
    ("j2k-codestream", (1000, 700), "RGB", ["-n", "4", "-t", "300,200"], 8),
    ("jp2-grey", (900, 1300), "L", ["-n", "4", "-t", "256,256", "-I", "-r", "10"], 10),
    ("jp2-precincts", (1100, 800), "RGB", ["-n", "6", "-c", "[128,128]", "-p", "RPCL", "-b", "32,32"], 8),
]


@pytest.mark.parametrize("aid,size,mode,args,tol", JP2_CASES, ids=[c[0] for c in JP2_CASES])
def test_jpeg2000_origins_ingest_with_the_right_size_and_pixels(fmt, origin, storage_root, tmp_path, aid, size,
                                                                 mode, args, tol):
    src = pattern(*size).convert(mode)
    name = aid + (".j2k" if aid.startswith("j2k") else ".jp2")
    data = opj(str(tmp_path), src, name, *args)
    j = ingest(fmt, origin, aid, data, "image/jp2")
    assert (j["width"], j["height"]) == size, j
    assert j["family"] == "I" and j["mediaType"] == "image/jp2", j
    d = check_derivatives(storage_root, fmt, aid, size[0], size[1], data)
    check_pixels(d, src.convert("RGB"), tol, tol + 4)


def test_jpx_media_type_is_accepted_as_an_image(fmt, origin, tmp_path):
    data = opj(str(tmp_path), pattern(600, 400), "x.jp2", "-n", "3")
    j = ingest(fmt, origin, "jpx", data, "image/jpx")
    assert (j["width"], j["height"], j["family"], j["mediaType"]) == (600, 400, "I", "image/jpx"), j


def test_jpeg2000_with_alpha_is_flattened_onto_white_and_16_bit_grey_keeps_its_levels(fmt, origin, storage_root,
                                                                                      tmp_path):
    rgba = quadrants(640, 480).convert("RGBA")
    rgba.paste((0, 0, 0, 0), (320, 0, 640, 240))  # top right: fully transparent
    data = opj(str(tmp_path), rgba, "a.jp2", "-n", "3")
    ingest(fmt, origin, "jp2-alpha", data, "image/jp2")
    want = quadrants(640, 480)
    want.paste((255, 255, 255), (320, 0, 640, 240))
    check_pixels(asset_dir(storage_root, fmt, "jp2-alpha"), want, 8, 12)

    # (PIL's paste of a value into I;16 repeats its low byte: rows of samples instead)
    levels16 = (1000, 20000, 40000, 65000)
    half = [struct.pack("<H", v) * 250 for v in levels16]
    g16 = Image.frombytes("I;16", (500, 400), (half[0] + half[1]) * 200 + (half[2] + half[3]) * 200)
    assert g16.getpixel((10, 10)) == 1000 and g16.getpixel((490, 390)) == 65000
    data = opj(str(tmp_path), g16, "g16.jp2", "-n", "3")
    ingest(fmt, origin, "jp2-16bit", data, "image/jp2")
    want = Image.new("RGB", (500, 400))
    for i, v in enumerate(levels16):
        x, y = (i % 2) * 250, (i // 2) * 200
        want.paste((round(v * 255 / 65535),) * 3, (x, y, x + 250, y + 200))
    check_pixels(asset_dir(storage_root, fmt, "jp2-16bit"), want, 4, 8)


def test_jpeg2000_tiles_and_sizes_are_delivered(anon, fmt, origin, tmp_path):
    """Through nginx and dlcs-image: a tile of each quadrant, full/max and a
    computed png of a lossy JP2."""
    src = pattern(1200, 800)
    data = opj(str(tmp_path), src, "d.jp2", "-n", "5", "-t", "512,512", "-I", "-r", "15")
    ingest(fmt, origin, "jp2-deliver", data, "image/jp2")
    base = "/iiif-img/%d/%d/jp2-deliver" % (fmt.customer.id, fmt.id)
    for x, y in centres(1200, 800):
        tx, ty = x // 256 * 256, y // 256 * 256
        r = anon.get("%s/%d,%d,256,256/256,/0/default.jpg" % (base, tx, ty))
        assert r.status_code == 200, describe(r)
        got = Image.open(io.BytesIO(r.content)).convert("RGB").getpixel((x - tx, y - ty))
        assert near(got, src.getpixel((x, y)), 12), (x, y, got, src.getpixel((x, y)))
    for path in ("/full/max/0/default.jpg", "/full/!600,600/0/default.png"):
        r = anon.get(base + path)
        assert r.status_code == 200, describe(r)
        im = Image.open(io.BytesIO(r.content)).convert("RGB")
        ref = src.resize(im.size, Image.LANCZOS)
        for x, y in centres(*im.size):
            assert near(im.getpixel((x, y)), ref.getpixel((x, y)), 14), (path, x, y)


def j2k_with_size(tmp, w, h):
    """A raw codestream whose SIZ marker claims w x h (the pixels are a
    small image's): only the header can be believed."""
    data = bytearray(opj(tmp, quadrants(64, 64), "s.j2k", "-n", "2"))
    assert data[2:4] == b"\xff\x51"
    struct.pack_into(">II", data, 8, w, h)  # Xsiz, Ysiz after Lsiz and Rsiz
    struct.pack_into(">II", data, 24, w, h)  # one tile as large as the image
    return bytes(data)


def test_truncated_corrupt_and_oversized_jpeg2000_end_in_a_readable_error(fmt, origin, tmp_path):
    good = opj(str(tmp_path), pattern(800, 600), "t.jp2", "-n", "4", "-t", "256,256")
    cases = [
        ("jp2-truncated", good[: len(good) * 2 // 3], "JPEG 2000 codestream truncated"),
        ("jp2-truncated-early", good[:300], "JPEG 2000 codestream truncated"),
        ("jp2-corrupt", good[:400] + bytes(b ^ 0x5A for b in good[400:]), "or corrupt"),
        ("j2k-huge", j2k_with_size(str(tmp_path), 60000, 60000), "over the limit"),
    ]
    for aid, data, mention in cases:
        url = origin.add(data, "image/jp2", name=aid)
        r = fmt.customer.api.put(fmt.image(aid), json={"mediaType": "image/jp2", "origin": url}, timeout=60)
        assert r.status_code == 422, describe(r)
        j = fmt.customer.api.get(fmt.image(aid)).json()
        err = j.get("error", "")
        assert err.startswith("image: ") and mention in err, "%s: error %r does not mention %r" % (aid, err, mention)
        assert "width" not in j and j["ingesting"] is False, j


# ---------------------------------------------------------------- colour

def colour_quads():
    """Quadrants of saturated colours, which differ most between spaces."""
    img = Image.new("RGB", (800, 600))
    for i, c in enumerate(((40, 200, 60), (200, 40, 60), (30, 60, 220), (128, 128, 128))):
        x, y = (i % 2) * 400, (i // 2) * 300
        img.paste(c, (x, y, x + 400, y + 300))
    return img


def cmyk_quads():
    img = Image.new("CMYK", (800, 600))
    for i, c in enumerate(((0, 80, 90, 10), (70, 0, 30, 5), (20, 30, 0, 60), (160, 20, 0, 0))):
        x, y = (i % 2) * 400, (i // 2) * 300
        img.paste(c, (x, y, x + 400, y + 300))
    return img


def grey_quads():
    img = Image.new("L", (800, 600))
    for i, v in enumerate((40, 100, 170, 230)):
        x, y = (i % 2) * 400, (i // 2) * 300
        img.paste(v, (x, y, x + 400, y + 300))
    return img


COLOUR_CASES = [
    # id, bytes, media type
    ("adobe-rgb-jpeg", lambda: encode(colour_quads(), "JPEG", quality=95, icc_profile=icc(ADOBE_RGB)), "image/jpeg"),
    ("adobe-rgb-tiff", lambda: encode(colour_quads(), "TIFF", compression="tiff_lzw", icc_profile=icc(ADOBE_RGB)),
     "image/tiff"),
    ("cmyk-swop-jpeg", lambda: encode(cmyk_quads(), "JPEG", quality=95, icc_profile=icc(CMYK_SWOP)), "image/jpeg"),
    ("grey-profile-png", lambda: encode(grey_quads(), "PNG", icc_profile=icc(GREY)), "image/png"),
]


@pytest.mark.parametrize("aid,make,media", COLOUR_CASES, ids=[c[0] for c in COLOUR_CASES])
def test_profiled_images_are_delivered_in_srgb_on_every_path(anon, fmt, origin, storage_root, aid, make, media):
    data = make()
    want = to_srgb(data)
    src = Image.open(io.BytesIO(data)).convert("RGB")
    # the case is worth testing: Little CMS moves these colours a lot
    assert any(not near(want.getpixel(p), src.getpixel(p), 10) for p in centres(800, 600)), "no colour change"
    ingest(fmt, origin, aid, data, media, deliveryChannels=["iiif-img", "thumbs", "file"])
    check_pixels(asset_dir(storage_root, fmt, aid), want, 5, 6)

    c, s = fmt.customer.id, fmt.id
    paths = ["/iiif-img/%d/%d/%s/%s" % (c, s, aid, p) for p in (
        "0,0,256,256/256,/0/default.jpg",       # a stored tile (nginx)
        "512,256,256,256/256,/0/default.jpg",
        "full/max/0/default.jpg",               # the full size
        "full/max/0/default.png",               # computed by dlcs-image
        "400,300,400,300/200,/0/default.png",   # a computed region
    )] + ["/thumbs/%d/%d/%s/full/!400,400/0/default.jpg" % (c, s, aid)]
    for path in paths:
        r = anon.get(path)
        assert r.status_code == 200, describe(r)
        im = Image.open(io.BytesIO(r.content)).convert("RGB")
        region = path.split("/")[-4]
        x0, y0, rw, rh = (0, 0, 800, 600) if region == "full" else map(int, region.split(","))
        for fx in (0.25, 0.75):
            for fy in (0.25, 0.75):
                x, y = x0 + int(rw * fx), y0 + int(rh * fy)
                got = im.getpixel((int(im.size[0] * fx), int(im.size[1] * fy)))
                assert near(got, want.getpixel((x, y)), 6), "%s at %s: %s, Little CMS says %s (source %s)" % (
                    path, (x, y), got, want.getpixel((x, y)), src.getpixel((x, y)))
    # the original is untouched: profile and numbers as they came
    r = anon.get("/file/%d/%d/%s" % (c, s, aid))
    assert r.status_code == 200 and r.content == data, describe(r)


def test_srgb_profiles_images_without_one_and_mismatched_profiles_keep_their_numbers(fmt, origin, storage_root):
    src = colour_quads()
    cases = [
        ("srgb-profile", encode(src, "JPEG", quality=95, icc_profile=icc(SRGB))),
        ("no-profile", encode(src, "JPEG", quality=95)),
        # a CMYK profile on RGB pixels cannot apply: ignored, as browsers do
        ("mismatched-profile", encode(src, "JPEG", quality=95, icc_profile=icc(CMYK_SWOP))),
    ]
    for aid, data in cases:
        ingest(fmt, origin, aid, data, "image/jpeg")
        check_pixels(asset_dir(storage_root, fmt, aid), src, 5, 6)


# ---------------------------------------------------------------- formats that already ingested right

def test_16_bit_tiff_pyramidal_tiff_cmyk_jpeg_and_png_with_alpha_still_ingest_right(fmt, origin, storage_root,
                                                                                   tmp_path):
    src = pattern(700, 500)
    # 16-bit RGB TIFF (PIL writes no 16-bit RGB: GraphicsMagick's own tool)
    png = os.path.join(str(tmp_path), "s.png")
    tif16 = os.path.join(str(tmp_path), "s16.tif")
    src.save(png)
    r = subprocess.run(["gm", "convert", png, "-depth", "16", tif16], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(tif16, "rb") as f:
        data = f.read()
    assert Image.open(io.BytesIO(data)).tag_v2.get(258) == (16, 16, 16), "not a 16-bit TIFF"
    ingest(fmt, origin, "tiff-16bit", data, "image/tiff")
    check_pixels(asset_dir(storage_root, fmt, "tiff-16bit"), src, 8, 12)

    # a pyramid in one TIFF: the full size first, then the halves
    pyr = encode(src, "TIFF", save_all=True, append_images=[src.resize((350, 250)), src.resize((175, 125))])
    j = ingest(fmt, origin, "tiff-pyramid", pyr, "image/tiff")
    assert (j["width"], j["height"]) == (700, 500), j
    check_pixels(asset_dir(storage_root, fmt, "tiff-pyramid"), src, 8, 12)

    # CMYK JPEG without a profile: GraphicsMagick's own conversion, as before
    cmyk = Image.new("CMYK", (600, 400), (0, 255, 255, 0))
    cmyk.paste((255, 255, 0, 0), (300, 0, 600, 400))
    ingest(fmt, origin, "cmyk-plain", encode(cmyk, "JPEG", quality=95), "image/jpeg")
    want = Image.new("RGB", (600, 400), (255, 0, 0))
    want.paste((0, 0, 255), (300, 0, 600, 400))
    check_pixels(asset_dir(storage_root, fmt, "cmyk-plain"), want, 8, 12)

    rgba = src.convert("RGBA")
    rgba.paste((0, 0, 0, 0), (350, 250, 700, 500))
    ingest(fmt, origin, "png-alpha", encode(rgba, "PNG"), "image/png")
    want = src.copy()
    want.paste((255, 255, 255), (350, 250, 700, 500))
    check_pixels(asset_dir(storage_root, fmt, "png-alpha"), want, 8, 12)
