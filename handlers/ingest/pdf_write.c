/* The projections' PDF writer (ingest/pdf_write.h). The file's layout:
 * header; object 3 the font; per page its image (or nothing), its content
 * stream and the page; then object 2 the page tree and object 1 the
 * catalog (both known only at the end), the cross-reference table of every
 * object's byte offset, and the trailer. Offsets are counted as written,
 * never asked of the FILE (it may be a pipe). */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "ingest/pdf_write.h"
#include "banned.h"

enum { OBJ_CATALOG = 1, OBJ_PAGES = 2, OBJ_FONT = 3, OBJ_FIRST_FREE = 4 };

#define TEXT_MAX_BYTES 300
#define TEXT_LINE_MAX  60

struct pdf_writer {
	FILE *f;
	long long pos; /* bytes written so far */
	bool failed;
	long long *offsets; /* by object number; [0] unused */
	size_t nobj, capobj;
	int *pages; /* the page objects, in order */
	size_t npages, cappages;
};

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*v, n * size);
	if (!p)
		return false;
	*v = p;
	*cap = n;
	return true;
}

static void put(struct pdf_writer *p, const void *data, size_t len)
{
	if (p->failed)
		return;
	if (fwrite(data, 1, len, p->f) != len) {
		p->failed = true;
		return;
	}
	p->pos += (long long)len;
}

__attribute__((format(printf, 2, 3))) static void putf(struct pdf_writer *p, const char *fmt, ...)
{
	if (p->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(p->f, fmt, ap);
	va_end(ap);
	if (n < 0)
		p->failed = true;
	else
		p->pos += n;
}

/* A new object number; its offset is set by obj_start. */
static int obj_new(struct pdf_writer *p)
{
	if (!grow((void **)&p->offsets, &p->capobj, p->nobj + 1, sizeof *p->offsets)) {
		p->failed = true;
		return 0;
	}
	p->offsets[p->nobj] = 0;
	return (int)p->nobj++;
}

static void obj_start(struct pdf_writer *p, int n)
{
	if (n <= 0 || (size_t)n >= p->nobj) {
		p->failed = true;
		return;
	}
	p->offsets[n] = p->pos;
	putf(p, "%d 0 obj\n", n);
}

static unsigned be16(const unsigned char *d)
{
	return (unsigned)d[0] << 8 | d[1];
}

int jpeg_probe(const unsigned char *d, size_t len, struct jpeg_info *out)
{
	memset(out, 0, sizeof *out);
	if (len < 4 || d[0] != 0xFF || d[1] != 0xD8)
		return -1;
	size_t i = 2;
	while (i + 4 <= len) {
		if (d[i] != 0xFF)
			return -1;
		while (i < len && d[i] == 0xFF)
			i++; /* fill bytes */
		if (i + 3 > len)
			return -1;
		unsigned m = d[i++];
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD8))
			continue; /* markers without a length */
		unsigned seg = be16(d + i);
		if (seg < 2 || i + seg > len)
			return -1;
		if (m == 0xEE && seg >= 7 && memcmp(d + i + 2, "Adobe", 5) == 0)
			out->adobe = true;
		bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
		if (sof) {
			if (seg < 8 || d[i + 2] != 8)
				return -1; /* PDF readers take 8-bit samples */
			out->height = (int)be16(d + i + 3);
			out->width = (int)be16(d + i + 5);
			out->components = d[i + 7];
			bool ok = out->width > 0 && out->height > 0 &&
				  (out->components == 1 || out->components == 3 ||
				   out->components == 4);
			return ok ? 0 : -1;
		}
		if (m == 0xDA || m == 0xD9)
			return -1; /* scan or end before any frame header */
		i += seg;
	}
	return -1;
}

struct pdf_writer *pdf_begin(FILE *f)
{
	struct pdf_writer *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->f = f;
	p->nobj = 1; /* object 0 is the free list's head */
	for (int k = OBJ_CATALOG; k < OBJ_FIRST_FREE; k++)
		obj_new(p);
	/* A binary comment: tools then treat the file as binary. */
	putf(p, "%%PDF-1.4\n%%\xE2\xE3\xCF\xD3\n");
	obj_start(p, OBJ_FONT);
	putf(p, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
		" /Encoding /WinAnsiEncoding >>\nendobj\n");
	return p;
}

size_t pdf_pages(const struct pdf_writer *p)
{
	return p->npages;
}

/* A content stream object: its number. */
static int put_stream(struct pdf_writer *p, const char *text, size_t len)
{
	int n = obj_new(p);
	obj_start(p, n);
	putf(p, "<< /Length %zu >>\nstream\n", len);
	put(p, text, len);
	putf(p, "\nendstream\nendobj\n");
	return n;
}

/* The page object of a content stream and its resources. */
static int put_page(struct pdf_writer *p, int w, int h, int content, const char *resources)
{
	int n = obj_new(p);
	obj_start(p, n);
	putf(p,
	     "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R"
	     " /Resources %s >>\nendobj\n",
	     OBJ_PAGES, w, h, content, resources);
	if (!grow((void **)&p->pages, &p->cappages, p->npages + 1, sizeof *p->pages))
		p->failed = true;
	else
		p->pages[p->npages++] = n;
	return n;
}

int pdf_add_jpeg(struct pdf_writer *p, const unsigned char *data, size_t len)
{
	struct jpeg_info ji;
	if (p->failed || jpeg_probe(data, len, &ji))
		return -1;
	const char *cs = ji.components == 1   ? "/DeviceGray"
			 : ji.components == 3 ? "/DeviceRGB"
					      : "/DeviceCMYK";
	int img = obj_new(p);
	obj_start(p, img);
	putf(p,
	     "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s"
	     " /BitsPerComponent 8 /Filter /DCTDecode%s /Length %zu >>\nstream\n",
	     ji.width, ji.height, cs,
	     ji.components == 4 && ji.adobe ? " /Decode [1 0 1 0 1 0 1 0]" : "", len);
	put(p, data, len);
	putf(p, "\nendstream\nendobj\n");
	char content[96], res[64];
	xsnprintf(content, sizeof content, "q %d 0 0 %d 0 0 cm /Im0 Do Q", ji.width, ji.height);
	xsnprintf(res, sizeof res, "<< /XObject << /Im0 %d 0 R >> >>", img);
	int c = put_stream(p, content, strlen(content));
	put_page(p, ji.width, ji.height, c, res);
	return p->failed ? -1 : 0;
}

/* The message as Helvetica can show it in a PDF string: printable ASCII,
 * with ( ) \ escaped; any other byte, or UTF-8 sequence, becomes '?'. Cut
 * into lines of at most TEXT_LINE_MAX characters, at a space when there is
 * one. Writes "(line) Tj T* ..." into out (big enough: 4 x TEXT_MAX_BYTES
 * + 8 per line). */
static size_t text_ops(const char *msg, char *out)
{
	char clean[TEXT_MAX_BYTES + 1];
	size_t n = 0;
	for (const unsigned char *s = (const unsigned char *)msg; *s && n < TEXT_MAX_BYTES; s++) {
		if (*s >= 0x80 && (*s & 0xC0) == 0x80)
			continue; /* a continuation byte: its lead byte gave the '?' */
		clean[n++] = *s >= 0x20 && *s < 0x7F ? (char)*s : '?';
	}
	clean[n] = '\0';
	size_t o = 0, at = 0;
	while (at < n) {
		size_t end = at + TEXT_LINE_MAX < n ? at + TEXT_LINE_MAX : n;
		if (end < n) {
			size_t sp = end;
			while (sp > at && clean[sp] != ' ')
				sp--;
			if (sp > at)
				end = sp;
		}
		out[o++] = '(';
		for (size_t k = at; k < end; k++) {
			if (clean[k] == '(' || clean[k] == ')' || clean[k] == '\\')
				out[o++] = '\\';
			out[o++] = clean[k];
		}
		memcpy(out + o, ") Tj T* ", 8);
		o += 8;
		at = end;
		while (at < n && clean[at] == ' ')
			at++;
	}
	out[o] = '\0';
	return o;
}

int pdf_add_text_page(struct pdf_writer *p, const char *message)
{
	if (p->failed)
		return -1;
	char ops[4 * TEXT_MAX_BYTES + 8 * (TEXT_MAX_BYTES + 1)];
	char content[sizeof ops + 64];
	text_ops(message ? message : "", ops);
	/* bounded: the message is cut to TEXT_MAX_BYTES */
	xsnprintf(content, sizeof content, "BT /F1 16 Tf 20 TL 72 760 Td %sET", ops);
	int c = put_stream(p, content, strlen(content));
	char res[48];
	xsnprintf(res, sizeof res, "<< /Font << /F1 %d 0 R >> >>", OBJ_FONT);
	put_page(p, 595, 842, c, res);
	return p->failed ? -1 : 0;
}

int pdf_end(struct pdf_writer *p)
{
	bool ok = p->npages > 0;
	obj_start(p, OBJ_PAGES);
	putf(p, "<< /Type /Pages /Count %zu /Kids [", p->npages);
	for (size_t i = 0; i < p->npages; i++)
		putf(p, "%s%d 0 R", i ? " " : "", p->pages[i]);
	putf(p, "] >>\nendobj\n");
	obj_start(p, OBJ_CATALOG);
	putf(p, "<< /Type /Catalog /Pages %d 0 R >>\nendobj\n", OBJ_PAGES);
	long long xref = p->pos;
	putf(p, "xref\n0 %zu\n0000000000 65535 f \n", p->nobj);
	for (size_t i = 1; i < p->nobj; i++)
		putf(p, "%010lld 00000 n \n", p->offsets[i]);
	putf(p, "trailer\n<< /Size %zu /Root %d 0 R >>\nstartxref\n%lld\n%%%%EOF\n", p->nobj,
	     OBJ_CATALOG, xref);
	if (fflush(p->f) != 0)
		p->failed = true;
	ok = ok && !p->failed;
	free(p->offsets);
	free(p->pages);
	free(p);
	return ok ? 0 : -1;
}
