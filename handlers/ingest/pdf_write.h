/* A small PDF writer for the named-query projections (CONTRACT section 10):
 * one page per image, the stored JPEG derivative embedded as it is
 * (/DCTDecode: no decoding, no re-encoding), the page the image's size at
 * 72 dpi; or a redaction page, a line of text in Helvetica, for an asset
 * whose image may not go to everyone. Streams to a FILE*, so a PDF of a
 * thousand pages costs one JPEG in memory at a time. No GraphicsMagick. */
#ifndef DLCS_INGEST_PDF_WRITE_H
#define DLCS_INGEST_PDF_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What a JPEG's frame header says: 0 when jpeg_probe found one. */
struct jpeg_info {
	int width, height;
	int components; /* 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK */
	bool adobe;     /* an Adobe APP14 marker: CMYK stored inverted */
};

/* Reads the frame header (SOF0..SOF15 except DHT/JPG/DAC) of a JPEG in
 * data[0..len). 0, or -1 when it is not a JPEG this writer can embed
 * (not a JPEG, truncated before its frame, 0 size, 2 components). */
int jpeg_probe(const unsigned char *data, size_t len, struct jpeg_info *out);

struct pdf_writer;

/* Starts a PDF on f (the caller's, still open after pdf_end). NULL when out
 * of memory. */
struct pdf_writer *pdf_begin(FILE *f);
/* A page showing the JPEG data[0..len) whole. 0, or -1 when jpeg_probe
 * refuses it (nothing written: the caller may add a redaction page) or
 * writing failed (it latches: pdf_end then fails). */
int pdf_add_jpeg(struct pdf_writer *p, const unsigned char *data, size_t len);
/* A page of A4 size with `message` on it (control bytes and what
 * Helvetica's standard encoding lacks become '?', at most 300 bytes, cut
 * into lines of at most 60). 0 or -1 (latched). */
int pdf_add_text_page(struct pdf_writer *p, const char *message);
/* Writes the page tree, the cross-reference table and the trailer, and
 * frees p. 0, or -1 when any write failed or there was no page. */
int pdf_end(struct pdf_writer *p);
/* How many pages p holds so far. */
size_t pdf_pages(const struct pdf_writer *p);

#endif
