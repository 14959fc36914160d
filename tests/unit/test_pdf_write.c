/* The projections' PDF writer (handlers/ingest/pdf_write.c): what jpeg_probe
 * accepts and refuses, and the structure of a written PDF as a reader finds
 * it (every cross-reference offset at its object, startxref at the table,
 * the page count, each JPEG embedded byte for byte under /DCTDecode, the
 * redaction text escaped). The e2e tests read real projections with
 * poppler's pdfinfo. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../handlers/ingest/pdf_write.c"

/* A JPEG's head: SOI, optional APP14 Adobe, a frame header, SOS, EOI (the
 * scan data does not matter to the writer, which never decodes it). */
static size_t fake_jpeg(unsigned char *b, unsigned sof, int precision, int w, int h, int comps,
			bool adobe)
{
	size_t n = 0;
	b[n++] = 0xFF, b[n++] = 0xD8;
	b[n++] = 0xFF, b[n++] = 0xE0, b[n++] = 0, b[n++] = 7; /* APP0, 5 bytes */
	memcpy(b + n, "JFIF\0", 5), n += 5;
	if (adobe) {
		b[n++] = 0xFF, b[n++] = 0xEE, b[n++] = 0, b[n++] = 14;
		memcpy(b + n, "Adobe\0d\0\0\0\0\2", 12), n += 12;
	}
	b[n++] = 0xFF, b[n++] = 0xFF; /* a fill byte before the marker */
	b[n++] = (unsigned char)sof, b[n++] = 0, b[n++] = (unsigned char)(8 + 3 * comps);
	b[n++] = (unsigned char)precision;
	b[n++] = (unsigned char)(h >> 8), b[n++] = (unsigned char)h;
	b[n++] = (unsigned char)(w >> 8), b[n++] = (unsigned char)w;
	b[n++] = (unsigned char)comps;
	for (int k = 0; k < comps; k++)
		b[n++] = (unsigned char)(k + 1), b[n++] = 0x11, b[n++] = 0;
	b[n++] = 0xFF, b[n++] = 0xDA, b[n++] = 0, b[n++] = 2;
	b[n++] = 0x12, b[n++] = 0x34;
	b[n++] = 0xFF, b[n++] = 0xD9;
	return n;
}

static void test_probe(void)
{
	unsigned char b[128];
	struct jpeg_info ji;
	size_t n = fake_jpeg(b, 0xC0, 8, 1000, 750, 3, false);
	CHECK(jpeg_probe(b, n, &ji) == 0 && ji.width == 1000 && ji.height == 750 &&
	      ji.components == 3 && !ji.adobe);
	n = fake_jpeg(b, 0xC2, 8, 640, 1, 1, false); /* progressive, grey */
	CHECK(jpeg_probe(b, n, &ji) == 0 && ji.width == 640 && ji.height == 1 &&
	      ji.components == 1);
	n = fake_jpeg(b, 0xC1, 8, 65535, 65535, 4, true);
	CHECK(jpeg_probe(b, n, &ji) == 0 && ji.components == 4 && ji.adobe && ji.width == 65535);
	/* refused */
	n = fake_jpeg(b, 0xC0, 12, 100, 100, 3, false);
	CHECK(jpeg_probe(b, n, &ji) == -1); /* 12-bit */
	n = fake_jpeg(b, 0xC0, 8, 100, 100, 2, false);
	CHECK(jpeg_probe(b, n, &ji) == -1); /* 2 components */
	n = fake_jpeg(b, 0xC0, 8, 0, 100, 3, false);
	CHECK(jpeg_probe(b, n, &ji) == -1); /* no width */
	n = fake_jpeg(b, 0xC0, 8, 100, 0, 3, false);
	CHECK(jpeg_probe(b, n, &ji) == -1); /* height in a DNL marker */
	n = fake_jpeg(b, 0xC4, 8, 100, 100, 3, false);
	CHECK(jpeg_probe(b, n, &ji) == -1); /* DHT is no frame: SOS comes first */
	n = fake_jpeg(b, 0xC0, 8, 100, 100, 3, false);
	for (size_t cut = 0; cut < 30; cut++)
		CHECK(jpeg_probe(b, cut, &ji) == -1); /* truncated before the frame */
	b[1] = 0xD9;
	CHECK(jpeg_probe(b, n, &ji) == -1); /* no SOI */
	CHECK(jpeg_probe((const unsigned char *)"%PDF-1.4", 8, &ji) == -1);
	/* a segment length running past the end */
	n = fake_jpeg(b, 0xC0, 8, 100, 100, 3, false);
	b[5] = 200;
	CHECK(jpeg_probe(b, n, &ji) == -1);
}

static bool has(const char *pdf, size_t len, const char *s)
{
	return memmem(pdf, len, s, strlen(s)) != NULL;
}

/* The object "N 0 obj" at offset off of pdf. */
static bool obj_at(const char *pdf, size_t len, long long off, size_t n)
{
	char want[32];
	xsnprintf(want, sizeof want, "%zu 0 obj\n", n);
	return off > 0 && (size_t)off + strlen(want) <= len &&
	       memcmp(pdf + off, want, strlen(want)) == 0;
}

/* Checks the cross-reference table and trailer; returns the object count. */
static size_t check_xref(const char *pdf, size_t len)
{
	const char *sx = NULL;
	for (const char *s = pdf; (s = memmem(s, len - (size_t)(s - pdf), "startxref\n", 10)); s++)
		sx = s;
	CHECK(sx != NULL);
	if (!sx)
		return 0;
	long long xref = strtoll(sx + 10, NULL, 10);
	CHECK(xref > 0 && (size_t)xref < len && memcmp(pdf + xref, "xref\n0 ", 7) == 0);
	char *end;
	size_t nobj = strtoul(pdf + xref + 7, &end, 10);
	CHECK(nobj >= 4 && *end == '\n');
	const char *e = end + 1;
	CHECK(memcmp(e, "0000000000 65535 f \n", 20) == 0);
	for (size_t i = 1; i < nobj; i++) {
		const char *row = e + 20 * i;
		CHECK(row[10] == ' ' && memcmp(row + 11, "00000 n \n", 9) == 0);
		CHECK(obj_at(pdf, len, strtoll(row, NULL, 10), i));
	}
	CHECK(memcmp(pdf + len - 6, "%%EOF\n", 6) == 0);
	char trailer[64];
	xsnprintf(trailer, sizeof trailer, "trailer\n<< /Size %zu /Root 1 0 R >>", nobj);
	CHECK(memmem(pdf, len, trailer, strlen(trailer)) != NULL);
	return nobj;
}

static void test_document(void)
{
	char *pdf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&pdf, &len);
	struct pdf_writer *p = pdf_begin(f);
	unsigned char a[128], b[128];
	size_t na = fake_jpeg(a, 0xC0, 8, 1000, 750, 3, false);
	size_t nb = fake_jpeg(b, 0xC2, 8, 480, 1000, 1, false);
	CHECK(pdf_add_jpeg(p, a, na) == 0);
	CHECK(pdf_add_text_page(p, "Restricted (staff) \\ only: caf\xc3\xa9 \x01") == 0);
	CHECK(pdf_add_jpeg(p, (const unsigned char *)"not a jpeg", 10) == -1);
	CHECK(pdf_add_jpeg(p, b, nb) == 0);
	CHECK(pdf_pages(p) == 3);
	CHECK(pdf_end(p) == 0);
	fclose(f);
	CHECK(len > 0 && memcmp(pdf, "%PDF-1.4\n", 9) == 0);
	size_t nobj = check_xref(pdf, len);
	/* font, 2 x (image, content, page), text content + page, pages, catalog */
	CHECK(nobj == 1 + 3 + 3 + 3 + 2);
	CHECK(has(pdf, len, "/Type /Pages /Count 3 /Kids [6 0 R 8 0 R 11 0 R]"));
	CHECK(has(pdf, len, "/MediaBox [0 0 1000 750]"));
	CHECK(has(pdf, len, "/MediaBox [0 0 480 1000]"));
	CHECK(has(pdf, len, "/MediaBox [0 0 595 842]"));
	/* the JPEGs as they are, each right after its stream keyword */
	const char *ia = memmem(pdf, len, "/Filter /DCTDecode /Length", 26);
	CHECK(ia && has(pdf, len, "/ColorSpace /DeviceRGB"));
	CHECK(has(pdf, len, "/ColorSpace /DeviceGray"));
	const char *sa = memmem(pdf, len, "stream\n\xFF\xD8", 9);
	CHECK(sa && memcmp(sa + 7, a, na) == 0 && memcmp(sa + 7 + na, "\nendstream", 10) == 0);
	const char *sb =
		sa ? memmem(sa + 1, len - (size_t)(sa + 1 - pdf), "stream\n\xFF\xD8", 9) : NULL;
	CHECK(sb && memcmp(sb + 7, b, nb) == 0);
	/* the message: escaped, non-ASCII and control bytes as '?' */
	CHECK(has(pdf, len, "(Restricted \\(staff\\) \\\\ only: caf? ?) Tj T*"));
	free(pdf);
}

static void test_text_lines(void)
{
	char ops[4 * TEXT_MAX_BYTES + 8 * (TEXT_MAX_BYTES + 1)];
	char msg[1000];
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	size_t n = text_ops(msg, ops); /* cut at 300, lines of 60 */
	CHECK(n == 300 + 5 * (1 + 8));
	text_ops("aaaa bbbb", ops);
	CHECK_STR(ops, "(aaaa bbbb) Tj T* ");
	memset(msg, 'a', 70);
	msg[50] = ' ';
	msg[70] = '\0';
	text_ops(msg, ops);
	CHECK(strncmp(ops, "(aaaa", 5) == 0 && strstr(ops, ") Tj T* (") == ops + 1 + 50);
	memset(msg, '(', 300);
	msg[300] = '\0';
	CHECK(text_ops(msg, ops) == 600 + 5 * 9); /* every byte escaped: the buffer holds it */
	/* an empty message gives a page without text, still valid */
	char *pdf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&pdf, &len);
	struct pdf_writer *p = pdf_begin(f);
	CHECK(pdf_add_text_page(p, "") == 0 && pdf_add_text_page(p, NULL) == 0);
	CHECK(pdf_end(p) == 0);
	fclose(f);
	CHECK(check_xref(pdf, len) == 1 + 3 + 2 * 2 + 0);
	free(pdf);
	/* no page: refused */
	f = open_memstream(&pdf, &len);
	CHECK(pdf_end(pdf_begin(f)) == -1);
	fclose(f);
	free(pdf);
}

int main(void)
{
	test_probe();
	test_document();
	test_text_lines();
	return check_done();
}
