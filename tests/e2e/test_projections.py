"""The PDF and ZIP projections of named queries (CONTRACT section 10):
/pdf/{c}/{query}/{args...}, /zip/..., /pdf-control/..., /zip-control/....
Made by the runners, never inside a request: the first GET answers 202 with
Retry-After, a later one the file (sent by nginx from storage). The PDF is
read by poppler (pdfinfo, pdfimages, pdftotext) and its pages embed the
stored thumbnails byte for byte; the ZIP is read by Python's zipfile.
Restricted assets never show their full image: a redaction page in the PDF
(roles), their open size only (maxUnauthorised), left out of the ZIP (roles).
A projection is remade when its query's result changes; customers never see
each other's."""

import hashlib
import io
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import zipfile

import pytest

from helpers import assert_created, create_space, describe, put_asset, role_uri
from origin import jpeg

POPPLER = shutil.which("pdfinfo") and shutil.which("pdfimages") and shutil.which("pdftotext")


def nq(customer, name, template):
    r = customer.api.post(customer.path + "/namedQueries", json={"name": name, "template": template})
    return assert_created(r, "vocab:NamedQuery")


def made(anon, path, timeout=60):
    """GETs path until the projection is made: asserts the 202s on the way
    (Retry-After, the control JSON in process) and returns the 200."""
    deadline = time.time() + timeout
    seen_202 = 0
    while True:
        r = anon.get(path)
        if r.status_code == 200:
            return r, seen_202
        assert r.status_code == 202, describe(r)
        assert int(r.headers["Retry-After"]) > 0, r.headers
        assert r.headers.get("Cache-Control") == "no-store", r.headers
        j = r.json()
        assert j["inProcess"] is True and j["exists"] is False, j
        seen_202 += 1
        assert time.time() < deadline, "%s: still 202 after %ss" % (path, timeout)
        time.sleep(0.3)


def poppler(tool, pdf, *args):
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "p.pdf")
        with open(f, "wb") as out:
            out.write(pdf)
        tail = {"pdfimages": [] if "-list" in args else [os.path.join(d, "img")],
                "pdftotext": ["-"]}.get(tool, [])
        p = subprocess.run([tool, *args, f] + tail, capture_output=True, timeout=60)
        # poppler reads a damaged file with repairs: a warning is a failure
        assert p.returncode == 0 and not p.stderr, p.stderr
        files = {n: open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d)) if n != "p.pdf"}
        return p.stdout.decode("utf-8", "replace"), files


@pytest.fixture(scope="module")
def book(make_customer, origin):
    """A book of four pages (number1 order): an open 1600 x 1200 image, an
    open 640 x 480 one, one restricted by a role, one by maxUnauthorised
    200; a page of another book; a query over it with an objectname and a
    redaction message."""
    cust = make_customer("proj")
    space = create_space(cust, name="proj-" + str(random.randrange(10**9)))
    big, small = origin.add(jpeg(1600, 1200)), origin.add(jpeg(640, 480))
    put_asset(space, "p1", origin=big, string1="bk", number1=1)
    put_asset(space, "p2", origin=small, string1="bk", number1=2)
    put_asset(space, "p3", origin=big, string1="bk", number1=3, roles=[role_uri(cust)])
    put_asset(space, "p4", origin=big, string1="bk", number1=4, maxUnauthorised=200)
    put_asset(space, "x1", origin=small, string1="other", number1=1)
    nq(cust, "book", "s1=p1&canvas=n1&objectname=my-book&redactedmessage=Restricted (ask us)")
    space.urls = (big, small)
    return space


@pytest.fixture(scope="module")
def book_pdf(anon, book):
    path = "/pdf/%d/book/bk" % book.customer.id
    r, seen_202 = made(anon, path)
    assert seen_202 >= 1  # never made inside the first request
    return r


def test_pdf_is_202_then_the_file(anon, book, book_pdf):
    r = book_pdf
    assert r.headers["Content-Type"] == "application/pdf", r.headers
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    assert r.headers.get("Content-Disposition") == 'inline; filename="my-book.pdf"', r.headers
    assert r.content.startswith(b"%PDF-1.4\n") and r.content.rstrip().endswith(b"%%EOF")
    # nginx sends it: ETag, and ranges
    assert r.headers.get("ETag"), r.headers
    part = anon.get("/pdf/%d/book/bk" % book.customer.id, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.content == b"%PDF-1.4", describe(part)
    # the customer by name too (the same projection)
    r2 = anon.get("/pdf/%s/book/bk" % book.customer.name)
    assert r2.status_code == 200 and r2.content == r.content, describe(r2)


def test_objectname_takes_the_query_fields(anon, book):
    """The sample query every customer gets, objectname={s1}.pdf: the file
    is named after the book's string1; a field the template lacks is empty."""
    r, _ = made(anon, "/pdf/%d/pdf/bk" % book.customer.id)
    assert r.headers.get("Content-Disposition") == 'inline; filename="bk.pdf"', r.headers
    nq(book.customer, "named-n2", "s1=p1&objectname=book-{s1}-{n2}")
    r, _ = made(anon, "/zip/%d/named-n2/bk" % book.customer.id)
    assert r.headers.get("Content-Disposition") == 'inline; filename="book-bk-.zip"', r.headers


def cover_pdf():
    """A two-page PDF: a red portrait page and a blue landscape one."""
    from PIL import Image
    out = io.BytesIO()
    red, blue = Image.new("RGB", (600, 800), (200, 30, 30)), Image.new("RGB", (3000, 1000), (30, 30, 200))
    red.save(out, format="PDF", save_all=True, append_images=[blue])
    return out.getvalue()


def test_coverpage_comes_first(anon, book, origin):
    """coverpage=URL ({s1} taken from the request): its pages, rendered to
    A4 at 100 dpi, come before the assets'; a cover that cannot be had
    makes the projection fail, saying why and nothing of the URL."""
    assert POPPLER, "poppler-utils (pdfinfo, pdfimages, pdftotext) is not installed"
    c = book.customer
    url = origin.add(cover_pdf(), "application/pdf", name="bk.pdf")
    nq(c, "covered", "s1=p1&canvas=n1&coverpage=%s" % url.replace("/bk.pdf", "/{s1}.pdf"))
    r, _ = made(anon, "/pdf/%d/covered/bk" % c.id, timeout=120)
    info, _ = poppler("pdfinfo", r.content)
    assert re.search(r"^Pages:\s+6$", info, re.M), info
    listing, _ = poppler("pdfimages", r.content, "-list")
    rows = [l.split() for l in listing.splitlines()[2:] if l.strip()]
    got = [(int(x[0]), int(x[3]), int(x[4])) for x in rows]
    # every cover page fitted to A4 at 100 dpi, then p1, p2, (p3 redacted), p4
    assert got[:2] == [(1, 826, 1169), (2, 826, 1169)], listing
    assert [g[0] for g in got[2:]] == [3, 4, 6], listing
    _, files = poppler("pdfimages", r.content, "-j", "-f", "1", "-l", "2")
    from PIL import Image
    centres = [Image.open(io.BytesIO(files[n])).convert("RGB").getpixel((413, 584)) for n in sorted(files)]
    assert centres[0][0] > 150 and centres[0][2] < 80, centres  # red
    assert centres[1][2] > 150 and centres[1][0] < 80, centres  # blue
    # the control JSON counts the assets, not the cover
    j = anon.get("/pdf-control/%d/covered/bk" % c.id).json()
    assert j["itemCount"] == 4, j
    # a cover that is not there, and one that is not a PDF
    missing = origin.url(origin.path("gone.pdf"))
    nq(c, "cover-404", "s1=p1&coverpage=%s" % missing)
    nq(c, "cover-jpeg", "s1=p1&coverpage=%s" % book.urls[1])
    for name, says in (("cover-404", "coverpage: answered HTTP 404"), ("cover-jpeg", "coverpage: not a PDF")):
        deadline = time.time() + 60
        while True:
            r = anon.get("/pdf/%d/%s/bk" % (c.id, name))
            if r.status_code != 202 or time.time() > deadline:
                break
            time.sleep(0.3)
        assert r.status_code == 500, describe(r)
        assert says in r.json()["description"] and "127.0.0.1" not in r.text, describe(r)
    # the error stands for projection_error_retry_seconds (10 on the test
    # stack, .stack/lib.sh), then a request queues the projection again
    r = anon.get("/pdf/%d/cover-404/bk" % c.id)
    assert r.status_code == 500, describe(r)
    deadline = time.time() + 30
    while r.status_code == 500 and time.time() < deadline:
        time.sleep(1)
        r = anon.get("/pdf/%d/cover-404/bk" % c.id)
    assert r.status_code == 202 and r.json()["inProcess"] is True, describe(r)


def test_pdf_pages_as_poppler_reads_them(anon, book, book_pdf):
    # .stack/deps installs poppler-utils: missing, the test fails rather than prove nothing
    assert POPPLER, "poppler-utils (pdfinfo, pdfimages, pdftotext) is not installed"
    pdf = book_pdf.content
    info, _ = poppler("pdfinfo", pdf)
    assert re.search(r"^Pages:\s+4$", info, re.M), info
    listing, _ = poppler("pdfimages", pdf, "-list")
    rows = [l.split() for l in listing.splitlines()[2:] if l.strip()]
    # page, width, height, encoding: p1 its 1024 thumbnail, p2 whole, p3 a
    # redaction page (no image), p4 at most its 200 px open size
    got = [(int(x[0]), int(x[3]), int(x[4]), x[2], x[8]) for x in rows]
    assert got == [(1, 1024, 768, "image", "jpeg"), (2, 640, 480, "image", "jpeg"),
                   (4, 200, 150, "image", "jpeg")], listing
    # the redaction page; nothing of the restricted image
    c = book.customer
    text, _ = poppler("pdftotext", pdf, "-f", "3", "-l", "3")
    assert "Restricted (ask us)" in text, text
    # embedded as stored: the bytes of the thumbnails nginx serves
    _, files = poppler("pdfimages", pdf, "-j")
    thumb = anon.get("/thumbs/%d/%d/p1/full/1024,768/0/default.jpg" % (c.id, book.id))
    assert thumb.status_code == 200, describe(thumb)
    assert files["img-000.jpg"] == thumb.content
    small = anon.get("/thumbs/%d/%d/p4/full/200,150/0/default.jpg" % (c.id, book.id))
    assert small.status_code == 200 and files["img-002.jpg"] == small.content


def test_pdf_control(anon, book, book_pdf):
    c = book.customer
    r = anon.get("/pdf-control/%d/book/bk" % c.id)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    j = r.json()
    assert j["exists"] is True and j["inProcess"] is False, j
    assert j["itemCount"] == 4 and j["sizeBytes"] == len(book_pdf.content), j
    assert j["roles"] == [role_uri(c)], j
    assert j["created"].endswith("Z") and j["key"].startswith("%d/pdf/book/" % c.id), j


def test_zip(anon, book):
    c = book.customer
    r, seen_202 = made(anon, "/zip/%d/book/bk" % c.id)
    assert seen_202 >= 1
    assert r.headers["Content-Type"] == "application/zip", r.headers
    assert r.headers.get("Content-Disposition") == 'inline; filename="my-book.zip"', r.headers
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert z.testzip() is None
    # p3 (a role) is left out; p4 only in its open size
    assert z.namelist() == ["p1.jpg", "p2.jpg", "p4.jpg"], z.namelist()
    thumb = anon.get("/thumbs/%d/%d/p1/full/1024,768/0/default.jpg" % (c.id, book.id))
    assert z.read("p1.jpg") == thumb.content
    assert z.read("p4.jpg") == anon.get("/thumbs/%d/%d/p4/full/200,150/0/default.jpg" % (c.id, book.id)).content
    assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    j = anon.get("/zip-control/%d/book/bk" % c.id).json()
    assert (j["exists"], j["inProcess"], j["itemCount"], j["sizeBytes"]) == (True, False, 3, len(r.content)), j


def test_remade_when_the_result_changes(anon, book, storage_root):
    c = book.customer
    space = create_space(c, name="proj-remade-" + str(random.randrange(10**9)))
    put_asset(space, "a", origin=book.urls[1], string1="rm", number1=1)
    path = "/pdf/%d/book/rm" % c.id
    first, _ = made(anon, path)
    assert b"/Count 1 " in first.content
    # the same result: the same file, no new work
    again = anon.get(path)
    assert again.status_code == 200 and again.content == first.content, describe(again)
    # another asset joins the result: made again
    put_asset(space, "b", origin=book.urls[1], string1="rm", number1=2)
    r = anon.get(path)
    assert r.status_code == 202, describe(r)
    ctl = anon.get("/pdf-control/%d/book/rm" % c.id).json()
    assert ctl["inProcess"] is True, ctl
    second, _ = made(anon, path)
    assert b"/Count 2 " in second.content and second.content != first.content
    # a restriction added to an asset: made again, its page redacted
    put_asset(space, "b", status=200, origin=book.urls[1], string1="rm", number1=2, roles=[role_uri(c)])
    third, seen_202 = made(anon, path)
    assert seen_202 >= 1 and b"(Restricted \\(ask us\\)) Tj" in third.content
    assert third.content.count(b"/Subtype /Image") == 1
    j = anon.get("/pdf-control/%d/book/rm" % c.id).json()
    assert j["itemCount"] == 2 and j["roles"] == [role_uri(c)], j
    # the replaced files are removed: one PDF of this query in storage, no
    # temporary file left (its name: the key of the query and its arguments)
    key = hashlib.sha256(b"book\0rm\0").hexdigest()
    d = os.path.join(storage_root, "projections", str(c.id), "pdf")
    mine = [n for n in os.listdir(d) if n.startswith(key)]
    assert len(mine) == 1 and mine[0].endswith(".pdf"), os.listdir(d)
    assert j["key"] == "%d/pdf/book/%s" % (c.id, key)


def test_statuses(anon, book, make_customer):
    c = book.customer
    for kind in ("pdf", "zip", "pdf-control", "zip-control"):
        assert anon.get("/%s/%d/book/nothing-here" % (kind, c.id)).status_code == 404  # no asset
        assert anon.get("/%s/%d/no-such-query/bk" % (kind, c.id)).status_code == 404
        assert anon.get("/%s/999999999/book/bk" % kind).status_code == 404
        assert anon.get("/%s/no-such-customer-%d/book/bk" % (kind, random.randrange(10**9))).status_code == 404
    nq(c, "bynum", "n1=p1")
    r = anon.get("/pdf/%d/bynum/not-a-number" % c.id)
    assert r.status_code == 400, describe(r)
    # a template that needs an argument, given none
    assert anon.get("/zip/%d/book" % c.id).status_code in (400, 404)
    # writes are not routes
    assert anon.post("/pdf/%d/book/bk" % c.id).status_code in (404, 405)


def test_hostile_arguments(anon, book):
    c = book.customer
    for arg in ("..%2F..%2F..%2Fetc%2Fpasswd", "%2E%2E", "a%00b", "%0d%0aX-Injected:%201", "x" * 3000):
        r = anon.get("/pdf/%d/book/%s" % (c.id, arg))
        assert r.status_code in (400, 404, 414), describe(r)
        assert "X-Injected" not in r.headers
    # the storage location is internal
    assert anon.get("/dlcs-storage/projections/%d/pdf/" % c.id).status_code == 404


def test_cross_customer_isolation(anon, book, book_pdf, make_customer, origin):
    c = book.customer
    other = make_customer("proj-other")
    # the query is c's: another customer does not have it
    for kind in ("pdf", "zip", "pdf-control"):
        assert anon.get("/%s/%d/book/bk" % (kind, other.id)).status_code == 404
    # the same query name for the other customer selects only its own assets
    nq(other, "book", "s1=p1&canvas=n1")
    assert anon.get("/pdf/%d/book/bk" % other.id).status_code == 404  # none of its own
    space = create_space(other, name="proj-o-" + str(random.randrange(10**9)))
    put_asset(space, "mine", origin=book.urls[1], string1="bk", number1=1)
    r, _ = made(anon, "/zip/%d/book/bk" % other.id)
    assert zipfile.ZipFile(io.BytesIO(r.content)).namelist() == ["mine.jpg"]
    # and c's PDF is unchanged by it
    assert anon.get("/pdf/%d/book/bk" % c.id).content == book_pdf.content
