/* JPEG 2000 with OpenJPEG (see jp2.h).
 *
 * OpenJPEG applies the JP2 header's palette, channel definitions and ICC
 * profile only in its whole-image decode (opj_decode), which holds every
 * sample as a 32-bit integer: 12 bytes a pixel for RGB on top of the 8 of
 * GraphicsMagick's image. Tile by tile (opj_read_tile_header and
 * opj_decode_tile_data) it hands over a tile's samples at their own width (1
 * or 2 bytes) and nothing of the JP2 header; so this file reads the few boxes
 * it needs itself (colr, cdef, pclr in jp2h, which comes before the
 * codestream) and decodes tile by tile, each tile written into the image at
 * once, unless the file has a palette. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openjpeg.h>

#include "ingest/jp2.h"
#include "banned.h"

#if QuantumDepth != 16
#error "jp2.c expects GraphicsMagick's Q16 pixels (Debian's build)"
#endif

#define MAX_SIDE      (1 << 20)   /* as derive.c: beyond any scan */
#define MAX_JP2H      (16u << 20) /* the JP2 header box, ICC profile included */
#define MAX_TILE_DATA (1u << 30)  /* one decoded tile, all components */
#define MAX_CDEF      16
#define MAX_COMPS     64 /* components; more is a multispectral image */
#define BOX(a, b, c, d)                                                                            \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

enum model { MODEL_AUTO, MODEL_GREY, MODEL_RGB, MODEL_SYCC, MODEL_CMYK };

/* What the JP2 header says about colour. */
struct colour_spec {
	enum model model;
	unsigned char *icc; /* an ICC profile (colr method 2 or 3), malloc'd */
	size_t icc_len;
	bool palette; /* pclr: decoded whole, OpenJPEG applies it and cdef */
	int ncdef;
	struct {
		unsigned channel, type, assoc;
	} cdef[MAX_CDEF];
};

/* One component's samples of a decoded region, as OpenJPEG laid them out. */
struct plane {
	const unsigned char *data;
	int bytes; /* per sample: 1, 2 or 4 */
	bool sgnd;
	int prec;    /* 1..16 */
	long x0, y0; /* the first sample, on the component's reduced grid */
	long w, h;
	int dx, dy;       /* subsampling */
	Quantum *lut;     /* sample (sign offset added) -> quantum */
	int *xmap, *ymap; /* output column/row -> sample column/row */
};

struct dec {
	const struct jp2_opts *o;
	struct jp2_result *r;
	struct colour_spec cs;
	enum model model; /* after MODEL_AUTO is resolved */
	int nchan;        /* colour channels: 1, 3 or 4 */
	int role[4];      /* component of each colour channel */
	int alpha;        /* component of the alpha channel, or -1 */
	int reduce;
	int dx0, dy0; /* the first channel's subsampling: its samples are the pixels */
	long ox, oy;  /* the image's origin on the reduced grid */
	Image *img;
	char opj_error[160];
};

/* --- errors --- */

static void fail(struct dec *d, bool bad_input, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct dec *d, bool bad_input, const char *fmt, ...)
{
	if (d->r->error[0])
		return; /* the first cause is the one to read */
	va_list ap;
	va_start(ap, fmt);
	/* a long OpenJPEG message is cut on purpose: the cause is at its start */
	if (vsnprintf(d->r->error, sizeof d->r->error, fmt, ap) < 0)
		d->r->error[0] = '\0';
	va_end(ap);
	d->r->bad_input = bad_input;
}

static void opj_on_error(const char *msg, void *data)
{
	struct dec *d = data;
	if (d->opj_error[0] || !msg)
		return;
	(void)snprintf(d->opj_error, sizeof d->opj_error, "%s", msg);
	size_t n = strlen(d->opj_error);
	while (n > 0 && (d->opj_error[n - 1] == '\n' || d->opj_error[n - 1] == '\r'))
		d->opj_error[--n] = '\0';
}

static void opj_quiet(const char *msg, void *data)
{
	(void)msg;
	(void)data;
}

/* A failure inside OpenJPEG: its own first error message when it gave one.
 * Past the headers, that is a codestream cut short or damaged. */
static void fail_opj(struct dec *d, const char *what)
{
	const char *m = d->opj_error[0] ? d->opj_error : "no detail";
	bool decoding = strcmp(what, "header") != 0 && strcmp(what, "decoder setup") != 0;
	fail(d, strstr(m, "memory") == NULL, "JPEG 2000 %s%s: %s",
	     decoding ? "codestream truncated or corrupt, at the " : "", what, m);
}

/* --- the JP2 header boxes --- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

const char *jp2_sniff(const unsigned char *b, size_t n)
{
	static const unsigned char sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10};
	if (n >= 12 && memcmp(b, sig, 12) == 0)
		return "JP2";
	if (n >= 4 && b[0] == 0xFF && b[1] == 0x4F && b[2] == 0xFF && b[3] == 0x51)
		return "J2K"; /* SOC then SIZ */
	return NULL;
}

/* The colour specification (the first colr box), channel definitions and
 * palette of a jp2h box's content. */
static bool parse_jp2h(struct dec *d, const unsigned char *p, size_t len)
{
	bool have_colr = false;
	while (len >= 8) {
		uint64_t blen = be32(p);
		uint32_t type = be32(p + 4);
		size_t head = 8;
		if (blen == 1) {
			if (len < 16)
				break;
			blen = (uint64_t)be32(p + 8) << 32 | be32(p + 12);
			head = 16;
		} else if (blen == 0) {
			blen = len;
		}
		if (blen < head || blen > len) {
			fail(d, true, "JPEG 2000 header: a box runs past its parent");
			return false;
		}
		const unsigned char *c = p + head;
		size_t clen = (size_t)blen - head;
		if (type == BOX('c', 'o', 'l', 'r') && !have_colr && clen >= 3) {
			unsigned meth = c[0];
			if (meth == 1 && clen >= 7) {
				have_colr = true;
				uint32_t cs = be32(c + 3);
				switch (cs) {
				case 16:
					d->cs.model = MODEL_RGB;
					break;
				case 17:
					d->cs.model = MODEL_GREY;
					break;
				case 18:
					d->cs.model = MODEL_SYCC;
					break;
				case 12:
					d->cs.model = MODEL_CMYK;
					break;
				default:
					fail(d, true,
					     "JPEG 2000 colour space %u is not supported "
					     "(sRGB, greyscale, sYCC, CMYK or an ICC profile)",
					     (unsigned)cs);
					return false;
				}
			} else if ((meth == 2 || meth == 3) && clen >= 3 + 128) {
				/* the profile's data colour space is at byte 16 */
				have_colr = true;
				uint32_t space = be32(c + 3 + 16);
				d->cs.model = space == BOX('R', 'G', 'B', ' ')   ? MODEL_RGB
					      : space == BOX('G', 'R', 'A', 'Y') ? MODEL_GREY
					      : space == BOX('C', 'M', 'Y', 'K') ? MODEL_CMYK
										 : MODEL_AUTO;
				if (d->cs.model == MODEL_AUTO) {
					fail(d, true,
					     "JPEG 2000 with an ICC profile that is not RGB, "
					     "grey or CMYK");
					return false;
				}
				d->cs.icc_len = clen - 3;
				d->cs.icc = malloc(d->cs.icc_len);
				if (!d->cs.icc) {
					fail(d, false, "out of memory for an ICC profile");
					return false;
				}
				memcpy(d->cs.icc, c + 3, d->cs.icc_len);
			} /* other methods (vendor colour): the next colr box, if any */
		} else if (type == BOX('p', 'c', 'l', 'r')) {
			d->cs.palette = true;
		} else if (type == BOX('c', 'd', 'e', 'f') && clen >= 2) {
			unsigned n = be16(c);
			for (unsigned i = 0; i < n && 2 + 6 * (size_t)i + 6 <= clen; i++) {
				const unsigned char *e = c + 2 + 6 * (size_t)i;
				if (d->cs.ncdef < MAX_CDEF) {
					d->cs.cdef[d->cs.ncdef].channel = be16(e);
					d->cs.cdef[d->cs.ncdef].type = be16(e + 2);
					d->cs.cdef[d->cs.ncdef].assoc = be16(e + 4);
					d->cs.ncdef++;
				}
			}
		}
		p += blen;
		len -= (size_t)blen;
	}
	return true;
}

/* Walks the top-level boxes up to the codestream, reading jp2h. */
static bool read_boxes(struct dec *d, FILE *f)
{
	unsigned char h[16];
	for (int nbox = 0; nbox < 10000; nbox++) {
		if (fread(h, 1, 8, f) != 8)
			break; /* no codestream: OpenJPEG says so */
		uint64_t blen = be32(h);
		uint32_t type = be32(h + 4);
		uint64_t head = 8;
		if (blen == 1) {
			if (fread(h + 8, 1, 8, f) != 8)
				break;
			blen = (uint64_t)be32(h + 8) << 32 | be32(h + 12);
			head = 16;
		}
		if (type == BOX('j', 'p', '2', 'c') || blen == 0)
			return true;
		if (blen < head) {
			fail(d, true, "JPEG 2000 file: a box of %llu bytes",
			     (unsigned long long)blen);
			return false;
		}
		uint64_t clen = blen - head;
		if (type == BOX('j', 'p', '2', 'h')) {
			if (clen > MAX_JP2H) {
				fail(d, true, "JPEG 2000 header box of %llu bytes (at most %u)",
				     (unsigned long long)clen, MAX_JP2H);
				return false;
			}
			unsigned char *buf = malloc(clen ? (size_t)clen : 1);
			if (!buf) {
				fail(d, false, "out of memory for the JPEG 2000 header");
				return false;
			}
			bool ok = fread(buf, 1, (size_t)clen, f) == (size_t)clen;
			if (!ok)
				fail(d, true, "JPEG 2000 file: truncated in its header");
			else
				ok = parse_jp2h(d, buf, (size_t)clen);
			free(buf);
			return ok; /* jp2h is read: the rest is OpenJPEG's */
		}
		if (clen > INT64_MAX || fseeko(f, (off_t)clen, SEEK_CUR) != 0)
			break;
	}
	return true;
}

/* --- OpenJPEG's stream over the file already open --- */

static OPJ_SIZE_T stream_read(void *buf, OPJ_SIZE_T n, void *f)
{
	size_t got = fread(buf, 1, n, f);
	return got > 0 ? got : (OPJ_SIZE_T)-1; /* OpenJPEG's end of stream */
}

static OPJ_OFF_T stream_skip(OPJ_OFF_T n, void *f)
{
	return fseeko(f, (off_t)n, SEEK_CUR) == 0 ? n : -1;
}

static OPJ_BOOL stream_seek(OPJ_OFF_T at, void *f)
{
	return fseeko(f, (off_t)at, SEEK_SET) == 0;
}

static opj_stream_t *stream_new(FILE *f)
{
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0)
		return NULL;
	opj_stream_t *st = opj_stream_create(1 << 20, OPJ_TRUE);
	if (!st)
		return NULL;
	opj_stream_set_user_data(st, f, NULL);
	opj_stream_set_user_data_length(st, (OPJ_UINT64)sb.st_size);
	opj_stream_set_read_function(st, stream_read);
	opj_stream_set_skip_function(st, stream_skip);
	opj_stream_set_seek_function(st, stream_seek);
	return st;
}

/* --- channels --- */

static const char *model_name(enum model m)
{
	return m == MODEL_GREY ? "greyscale" : m == MODEL_CMYK ? "CMYK" : "RGB";
}

/* Which component is each colour channel and alpha (cdef, else in order). */
static bool assign_roles(struct dec *d, const opj_image_t *im)
{
	if (im->numcomps < 1 || im->numcomps > MAX_COMPS) {
		fail(d, true, "JPEG 2000 with %u components (at most %d)", im->numcomps, MAX_COMPS);
		return false;
	}
	d->model = d->cs.model;
	if (d->model == MODEL_AUTO)
		d->model = im->numcomps <= 2 ? MODEL_GREY : MODEL_RGB;
	d->nchan = d->model == MODEL_GREY ? 1 : d->model == MODEL_CMYK ? 4 : 3;
	if (im->numcomps < (OPJ_UINT32)d->nchan) {
		fail(d, true, "JPEG 2000 %s image with %u component%s", model_name(d->model),
		     im->numcomps, im->numcomps == 1 ? "" : "s");
		return false;
	}
	for (int i = 0; i < d->nchan; i++)
		d->role[i] = i;
	d->alpha = im->numcomps > (OPJ_UINT32)d->nchan ? d->nchan : -1;
	if (d->cs.ncdef > 0 && !d->cs.palette) {
		int role[4] = {-1, -1, -1, -1}, alpha = -1;
		for (int i = 0; i < d->cs.ncdef; i++) {
			unsigned ch = d->cs.cdef[i].channel, type = d->cs.cdef[i].type;
			unsigned assoc = d->cs.cdef[i].assoc;
			if (ch >= im->numcomps)
				continue;
			if (type == 0 && assoc >= 1 && assoc <= (unsigned)d->nchan)
				role[assoc - 1] = (int)ch;
			else if ((type == 1 || type == 2) && alpha < 0)
				alpha = (int)ch;
		}
		bool complete = true;
		for (int i = 0; i < d->nchan; i++)
			complete = complete && role[i] >= 0;
		if (complete) { /* else the definitions are no use: in order */
			memcpy(d->role, role, sizeof role);
			d->alpha = alpha;
		}
	}
	for (int i = 0; i < d->nchan + 1; i++) {
		int c = i < d->nchan ? d->role[i] : d->alpha;
		if (c < 0)
			continue;
		const opj_image_comp_t *k = &im->comps[c];
		if (k->prec < 1 || k->prec > 16) {
			fail(d, true, "JPEG 2000 with %u-bit samples (1 to 16 are supported)",
			     k->prec);
			return false;
		}
		if (k->dx < 1 || k->dy < 1) {
			fail(d, true, "JPEG 2000 component subsampled %ux%u", k->dx, k->dy);
			return false;
		}
	}
	return true;
}

/* --- samples to pixels --- */

static long ceil_div(long a, long b)
{
	return (a + b - 1) / b;
}

static long ceil_pow2(long a, int r)
{
	return (a + (1L << r) - 1) >> r;
}

/* Reference-grid coordinate v on the grid of a component subsampled by dx,
 * at resolution reduce (OpenJPEG's own arithmetic). */
static long grid(long v, int dx, int reduce)
{
	return ceil_pow2(ceil_div(v, dx), reduce);
}

static inline int sample_at(const struct plane *p, long i)
{
	int v;
	switch (p->bytes) {
	case 1:
		v = p->sgnd ? (int)((const int8_t *)p->data)[i] : (int)p->data[i];
		break;
	case 2: { /* components follow each other unaligned: memcpy */
		uint16_t u;
		memcpy(&u, p->data + 2 * i, 2);
		v = p->sgnd ? (int)(int16_t)u : (int)u;
		break;
	}
	default: {
		int32_t s;
		memcpy(&s, p->data + 4 * i, 4);
		v = s;
		break;
	}
	}
	if (p->sgnd)
		v += 1 << (p->prec - 1);
	int max = (1 << p->prec) - 1;
	return v < 0 ? 0 : v > max ? max : v;
}

/* The lookup table of a component's samples to 16-bit quanta. */
static Quantum *make_lut(int prec)
{
	long max = (1L << prec) - 1;
	Quantum *lut = malloc(((size_t)max + 1) * sizeof *lut);
	if (lut)
		for (long v = 0; v <= max; v++)
			lut[v] = (Quantum)((v * 65535 + max / 2) / max);
	return lut;
}

/* sYCC (ITU-R BT.601 full range) to RGB at the luma's precision. */
static void sycc_to_rgb(int y, int cb, int cr, int prec, int rgb[3])
{
	double off = (double)(1 << (prec - 1)), max = (double)((1 << prec) - 1);
	double b = cb - off, r = cr - off;
	double v[3] = {y + 1.402 * r, y - 0.344136 * b - 0.714136 * r, y + 1.772 * b};
	for (int i = 0; i < 3; i++)
		rgb[i] = v[i] < 0 ? 0 : v[i] > max ? (int)max : (int)(v[i] + 0.5);
}

/* Writes the region of the reduced image that starts at (X, Y) and is w × h
 * from the planes of the channels (pl[0..nchan-1], then alpha if any). */
static bool put_region(struct dec *d, struct plane *pl, long X, long Y, long w, long h)
{
	const int n = d->nchan + (d->alpha >= 0);
	for (int i = 0; i < n; i++) {
		struct plane *p = &pl[i];
		p->xmap = malloc((size_t)w * sizeof *p->xmap);
		p->ymap = malloc((size_t)h * sizeof *p->ymap);
		if (!p->xmap || !p->ymap) {
			fail(d, false, "out of memory for a JPEG 2000 tile");
			return false;
		}
		/* output pixel -> the sample that covers it (subsampled: repeated) */
		for (long x = 0; x < w; x++) {
			long s = (X + d->ox + x) * d->dx0 / p->dx - p->x0;
			p->xmap[x] = (int)(s < 0 ? 0 : s >= p->w ? p->w - 1 : s);
		}
		for (long y = 0; y < h; y++) {
			long s = (Y + d->oy + y) * d->dy0 / p->dy - p->y0;
			p->ymap[y] = (int)(s < 0 ? 0 : s >= p->h ? p->h - 1 : s);
		}
	}
	/* 8-bit unsigned RGB or grey without alpha or subsampling: no lookups */
	bool plain8 = (d->model == MODEL_RGB || d->model == MODEL_GREY) && d->alpha < 0;
	for (int i = 0; i < n; i++)
		plain8 = plain8 && pl[i].bytes == 1 && pl[i].prec == 8 && !pl[i].sgnd &&
			 pl[i].dx == d->dx0 && pl[i].dy == d->dy0;
	for (long y = 0; y < h; y++) {
		PixelPacket *q = SetImagePixels(d->img, X, Y + y, (unsigned long)w, 1);
		if (!q) {
			fail(d, false, "JPEG 2000 pixels: %s",
			     d->img->exception.reason ? d->img->exception.reason : "out of memory");
			return false;
		}
		long row[5];
		for (int i = 0; i < n; i++)
			row[i] = (long)pl[i].ymap[y] * pl[i].w;
		if (plain8) { /* the common case: 8-bit RGB or grey, one sample a pixel */
			const unsigned char *a = pl[0].data + row[0] + pl[0].xmap[0];
			const unsigned char *b = pl[n > 2 ? 1 : 0].data + row[n > 2 ? 1 : 0] +
						 pl[n > 2 ? 1 : 0].xmap[0];
			const unsigned char *c = pl[n > 2 ? 2 : 0].data + row[n > 2 ? 2 : 0] +
						 pl[n > 2 ? 2 : 0].xmap[0];
			for (long x = 0; x < w; x++, q++) {
				q->red = (Quantum)(a[x] * 257);
				q->green = (Quantum)(b[x] * 257);
				q->blue = (Quantum)(c[x] * 257);
				q->opacity = OpaqueOpacity;
			}
		}
		for (long x = 0; x < w && !plain8; x++, q++) {
			int v[5];
			for (int i = 0; i < n; i++)
				v[i] = sample_at(&pl[i], row[i] + pl[i].xmap[x]);
			if (d->model == MODEL_SYCC) {
				int rgb[3];
				sycc_to_rgb(v[0], v[1], v[2], pl[0].prec, rgb);
				q->red = pl[0].lut[rgb[0]];
				q->green = pl[0].lut[rgb[1]];
				q->blue = pl[0].lut[rgb[2]];
			} else if (d->nchan == 1) {
				q->red = q->green = q->blue = pl[0].lut[v[0]];
			} else {
				q->red = pl[0].lut[v[0]];
				q->green = pl[1].lut[v[1]];
				q->blue = pl[2].lut[v[2]];
			}
			if (d->nchan == 4) /* CMYK: black where GraphicsMagick keeps it */
				q->opacity = pl[3].lut[v[3]];
			else
				q->opacity = d->alpha >= 0
						     ? (Quantum)(MaxRGB - pl[n - 1].lut[v[n - 1]])
						     : OpaqueOpacity;
		}
		if (!SyncImagePixels(d->img)) {
			fail(d, false, "JPEG 2000 pixels: cannot store them");
			return false;
		}
	}
	return true;
}

static void planes_free(struct plane *pl, int n)
{
	for (int i = 0; i < n; i++) {
		free(pl[i].xmap);
		free(pl[i].ymap);
		pl[i].xmap = pl[i].ymap = NULL;
	}
}

/* The planes of the used components of a decoded region whose reference-
 * grid rectangle is (x0, y0)-(x1, y1); data[c] is component c's samples,
 * bytes[c] their size. Returns the region's place in the reduced image. */
static bool put_decoded(struct dec *d, const opj_image_t *im, Quantum **luts,
			const unsigned char *const *data, const int *bytes, const long *len,
			long x0, long y0, long x1, long y1)
{
	struct plane pl[5];
	memset(pl, 0, sizeof pl);
	const int n = d->nchan + (d->alpha >= 0);
	for (int i = 0; i < n; i++) {
		int c = i < d->nchan ? d->role[i] : d->alpha;
		const opj_image_comp_t *k = &im->comps[c];
		struct plane *p = &pl[i];
		p->data = data[c];
		p->bytes = bytes[c];
		p->sgnd = k->sgnd != 0;
		p->prec = (int)k->prec;
		p->dx = (int)k->dx;
		p->dy = (int)k->dy;
		p->x0 = grid(x0, (int)k->dx, d->reduce);
		p->y0 = grid(y0, (int)k->dy, d->reduce);
		p->w = grid(x1, (int)k->dx, d->reduce) - p->x0;
		p->h = grid(y1, (int)k->dy, d->reduce) - p->y0;
		p->lut = luts[c];
		if (p->w < 1 || p->h < 1 || p->w * p->h > len[c]) {
			fail(d, true, "JPEG 2000 tile of an unexpected size");
			return false;
		}
	}
	/* the first channel's grid is the image's */
	bool ok = put_region(d, pl, pl[0].x0 - d->ox, pl[0].y0 - d->oy, pl[0].w, pl[0].h);
	planes_free(pl, n);
	return ok;
}

/* --- decoding --- */

/* Decodes every tile in codestream order, writing each into the image. */
static bool decode_tiles(struct dec *d, opj_codec_t *codec, opj_stream_t *st, opj_image_t *im,
			 Quantum **luts, OPJ_UINT32 ntiles)
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	OPJ_UINT32 done = 0;
	bool ok = true;
	for (;;) {
		OPJ_UINT32 index = 0, size = 0, nc = 0;
		OPJ_INT32 tx0, ty0, tx1, ty1;
		OPJ_BOOL go_on = OPJ_FALSE;
		if (!opj_read_tile_header(codec, st, &index, &size, &tx0, &ty0, &tx1, &ty1, &nc,
					  &go_on)) {
			fail_opj(d, "tile header");
			ok = false;
			break;
		}
		if (!go_on)
			break;
		if (size > MAX_TILE_DATA || nc != im->numcomps) {
			fail(d, true, "JPEG 2000 tile %u: %u bytes in %u components", index, size,
			     nc);
			ok = false;
			break;
		}
		if (size > cap) {
			free(buf);
			cap = size;
			if (!(buf = malloc(cap))) {
				fail(d, false, "out of memory for a JPEG 2000 tile");
				ok = false;
				break;
			}
		}
		if (!opj_decode_tile_data(codec, index, buf, size, st)) {
			fail_opj(d, "tile");
			ok = false;
			break;
		}
		/* component c's samples follow component c-1's, each at
		 * (prec + 7) / 8 bytes, 3 rounded up to 4 (OpenJPEG's layout) */
		const unsigned char *data[MAX_COMPS];
		int bytes[MAX_COMPS];
		long len[MAX_COMPS];
		size_t at = 0;
		for (OPJ_UINT32 c = 0; c < im->numcomps && ok; c++) {
			const opj_image_comp_t *k = &im->comps[c];
			int b = (int)((k->prec + 7) / 8);
			b = b == 3 ? 4 : b < 1 ? 1 : b;
			long w =
				grid(tx1, (int)k->dx, d->reduce) - grid(tx0, (int)k->dx, d->reduce);
			long h =
				grid(ty1, (int)k->dy, d->reduce) - grid(ty0, (int)k->dy, d->reduce);
			size_t n = (size_t)(w > 0 ? w : 0) * (size_t)(h > 0 ? h : 0);
			if (at + n * (size_t)b > size) {
				fail(d, true, "JPEG 2000 tile %u is shorter than its size", index);
				ok = false;
			}
			data[c] = buf + at;
			bytes[c] = b;
			len[c] = (long)n;
			at += n * (size_t)b;
		}
		if (!ok || !put_decoded(d, im, luts, data, bytes, len, tx0, ty0, tx1, ty1)) {
			ok = false;
			break;
		}
		done++;
	}
	free(buf);
	if (ok && done != ntiles) {
		fail(d, true, "JPEG 2000 codestream is truncated: %u of %u tiles", done, ntiles);
		ok = false;
	}
	return ok;
}

/* A file with a palette: OpenJPEG decodes it whole and applies the palette
 * and channel definitions (the components are then the palette's). */
static bool decode_whole(struct dec *d, opj_codec_t *codec, opj_stream_t *st, opj_image_t *im,
			 Quantum **luts)
{
	if (!opj_decode(codec, st, im)) {
		fail_opj(d, "decoding");
		return false;
	}
	d->cs.ncdef = 0;
	d->cs.palette = false;
	if (!assign_roles(d, im))
		return false;
	const unsigned char *data[MAX_COMPS];
	int bytes[MAX_COMPS];
	long len[MAX_COMPS];
	for (OPJ_UINT32 c = 0; c < im->numcomps; c++) {
		data[c] = (const unsigned char *)im->comps[c].data;
		bytes[c] = 4;
		len[c] = im->comps[c].data ? (long)im->comps[c].w * (long)im->comps[c].h : 0;
		free(luts[c]);
		luts[c] = NULL;
	}
	for (int i = 0; i < d->nchan + 1; i++) {
		int c = i < d->nchan ? d->role[i] : d->alpha;
		if (c >= 0 && !luts[c] && !(luts[c] = make_lut((int)im->comps[c].prec))) {
			fail(d, false, "out of memory for a JPEG 2000 palette");
			return false;
		}
	}
	return put_decoded(d, im, luts, data, bytes, len, (long)im->x0, (long)im->y0, (long)im->x1,
			   (long)im->y1);
}

/* The decoder for a JP2 file or a raw codestream on f, its errors latched
 * into d. False (and d's error) when it cannot be made. */
static bool codec_open(struct dec *d, FILE *f, bool is_jp2, opj_codec_t **codec, opj_stream_t **st)
{
	*codec = opj_create_decompress(is_jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	*st = stream_new(f);
	if (!*codec || !*st) {
		fail(d, false, "out of memory for the JPEG 2000 decoder");
		return false;
	}
	opj_set_error_handler(*codec, opj_on_error, d);
	opj_set_warning_handler(*codec, opj_quiet, d);
	opj_set_info_handler(*codec, opj_quiet, d);
	opj_dparameters_t params;
	opj_set_default_decoder_parameters(&params);
	if (!opj_setup_decoder(*codec, &params) || !opj_decoder_set_strict_mode(*codec, OPJ_TRUE)) {
		fail_opj(d, "decoder setup");
		return false;
	}
	if (d->o->threads > 1 && opj_has_thread_support())
		(void)opj_codec_set_threads(*codec, d->o->threads);
	return true;
}

/* Size, resolution levels and tiles, all from the headers (nothing is
 * decoded yet), checked against the limits; the level to decode chosen. */
static bool geometry(struct dec *d, opj_codec_t *codec, const opj_image_t *im, long *W, long *H,
		     OPJ_UINT32 *levels, OPJ_UINT32 *ntiles)
{
	const struct jp2_opts *o = d->o;
	struct jp2_result *r = d->r;
	d->dx0 = (int)im->comps[d->role[0]].dx;
	d->dy0 = (int)im->comps[d->role[0]].dy;
	*W = grid(im->x1, d->dx0, 0) - grid(im->x0, d->dx0, 0);
	*H = grid(im->y1, d->dy0, 0) - grid(im->y0, d->dy0, 0);
	if (*W < 1 || *H < 1 || *W > MAX_SIDE || *H > MAX_SIDE) {
		fail(d, true, "the image has no usable size (%ldx%ld)", *W, *H);
		return false;
	}
	r->width = (int)*W;
	r->height = (int)*H;
	if (o->max_pixels > 0 && (long long)*W * *H > o->max_pixels) {
		fail(d, true, "the image is %ldx%ld (%lld pixels), over the limit of %lld", *W, *H,
		     (long long)*W * *H, o->max_pixels);
		return false;
	}
	opj_codestream_info_v2_t *ci = opj_get_cstr_info(codec);
	if (!ci || !ci->m_default_tile_info.tccp_info) {
		if (ci)
			opj_destroy_cstr_info(&ci);
		fail(d, true, "JPEG 2000 header without coding parameters");
		return false;
	}
	*levels = 33;
	*ntiles = ci->tw * ci->th;
	for (OPJ_UINT32 c = 0; c < ci->nbcomps; c++)
		if (ci->m_default_tile_info.tccp_info[c].numresolutions < *levels)
			*levels = ci->m_default_tile_info.tccp_info[c].numresolutions;
	opj_destroy_cstr_info(&ci);
	if (*levels < 1 || *levels > 33) {
		fail(d, true, "JPEG 2000 with %u resolution levels", *levels);
		return false;
	}
	r->levels = (int)*levels;
	/* The smallest level that still covers min_w × min_h. */
	while ((OPJ_UINT32)d->reduce + 1 < *levels && (o->min_w > 0 || o->min_h > 0) &&
	       grid(im->x1, d->dx0, d->reduce + 1) - grid(im->x0, d->dx0, d->reduce + 1) >=
		       o->min_w &&
	       grid(im->y1, d->dy0, d->reduce + 1) - grid(im->y0, d->dy0, d->reduce + 1) >=
		       o->min_h)
		d->reduce++;
	r->reduce = d->reduce;
	d->ox = grid(im->x0, d->dx0, d->reduce);
	d->oy = grid(im->y0, d->dy0, d->reduce);
	return true;
}

/* The GraphicsMagick image the decode fills (or, pinging, only describes). */
static Image *image_new(struct dec *d, const opj_image_t *im, const char *kind, long W, long H,
			long rw, long rh)
{
	Image *img = AllocateImage(NULL);
	if (!img) {
		fail(d, false, "out of memory for an image");
		return NULL;
	}
	img->columns = (unsigned long)(d->o->ping ? W : rw);
	img->rows = (unsigned long)(d->o->ping ? H : rh);
	img->depth = im->comps[d->role[0]].prec > 8 ? 16 : 8;
	img->matte = d->alpha >= 0 && d->model != MODEL_CMYK ? MagickTrue : MagickFalse;
	img->colorspace = d->model == MODEL_CMYK ? CMYKColorspace : RGBColorspace;
	(void)snprintf(img->magick, sizeof img->magick, "%s", kind);
	if (d->cs.icc && !SetImageProfile(img, "ICM", d->cs.icc, d->cs.icc_len)) {
		fail(d, false, "out of memory for an ICC profile");
		DestroyImage(img);
		return NULL;
	}
	return img;
}

Image *jp2_read(const char *path, const struct jp2_opts *o, struct jp2_result *r)
{
	memset(r, 0, sizeof *r);
	struct dec d = {.o = o, .r = r, .alpha = -1};
	opj_codec_t *codec = NULL;
	opj_stream_t *st = NULL;
	opj_image_t *im = NULL;
	Quantum *luts[MAX_COMPS] = {NULL};
	Image *img = NULL;
	unsigned char head[12];
	FILE *f = fopen(path, "rbe");
	if (!f) {
		fail(&d, false, "cannot open the original: %s",
		     strerror_r(errno, (char[128]){0}, 128));
		return NULL;
	}
	size_t n = fread(head, 1, sizeof head, f);
	const char *kind = jp2_sniff(head, n);
	if (!kind) {
		fail(&d, true, "not a JPEG 2000 file");
		goto out;
	}
	bool is_jp2 = strcmp(kind, "JP2") == 0;
	if (is_jp2 && !read_boxes(&d, f))
		goto out;
	rewind(f);
	if (!codec_open(&d, f, is_jp2, &codec, &st))
		goto out;
	if (!opj_read_header(st, codec, &im)) {
		fail_opj(&d, "header");
		goto out;
	}
	long W, H;
	OPJ_UINT32 levels, ntiles;
	if (!assign_roles(&d, im) || !geometry(&d, codec, im, &W, &H, &levels, &ntiles))
		goto out;
	long rw = grid(im->x1, d.dx0, d.reduce) - d.ox, rh = grid(im->y1, d.dy0, d.reduce) - d.oy;
	if (!(img = image_new(&d, im, kind, W, H, rw, rh)) || o->ping)
		goto out;
#ifdef DERIVE_TRACE
	fprintf(stderr, "jp2: %ldx%ld, %u levels, %u tiles: decoding level %d, %ldx%ld\n", W, H,
		levels, ntiles, d.reduce, rw, rh);
#endif
	if (d.reduce > 0 && !opj_set_decoded_resolution_factor(codec, (OPJ_UINT32)d.reduce)) {
		fail_opj(&d, "resolution level");
		goto out;
	}
	for (int i = 0; i < d.nchan + 1 && !d.cs.palette; i++) {
		int c = i < d.nchan ? d.role[i] : d.alpha;
		if (c >= 0 && !luts[c] && !(luts[c] = make_lut((int)im->comps[c].prec))) {
			fail(&d, false, "out of memory for a JPEG 2000 decode");
			goto out;
		}
	}
	d.img = img;
	bool ok = d.cs.palette ? decode_whole(&d, codec, st, im, luts)
			       : decode_tiles(&d, codec, st, im, luts, ntiles);
	if (ok && !opj_end_decompress(codec, st)) {
		fail_opj(&d, "end of codestream");
		ok = false;
	}
	(void)ok; /* a failure has latched r->error */
out:
	if (r->error[0] && img) {
		DestroyImage(img);
		img = NULL;
	}
	for (int c = 0; c < MAX_COMPS; c++)
		free(luts[c]);
	if (im)
		opj_image_destroy(im);
	if (st)
		opj_stream_destroy(st);
	if (codec)
		opj_destroy_codec(codec);
	fclose(f);
	free(d.cs.icc);
	return img;
}
