/* Colour management at ingest with Little CMS (see colour.h for the rules).
 *
 * The conversion runs on GraphicsMagick's decoded Q16 pixels, before they
 * are cut into tiles, halved into levels or resized into thumbnails, so that
 * every derivative is made from sRGB pixels and at full precision (a 16-bit
 * TIFF is converted at 16 bits). RGB and grey pixels are converted in place
 * (PixelPacket is four 16-bit samples, which Little CMS reads as BGRA or RGBA
 * with the opacity as an extra channel it leaves alone); CMYK pixels, whose
 * four samples are all colour, go through a row buffer. Each call has its own
 * Little CMS context (its error handler writes into the call's own buffer),
 * and the transform is made without Little CMS's one-pixel cache, so the
 * threads of one call share it safely. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lcms2.h>

#include "ingest/colour.h"
#include "banned.h"

#if QuantumDepth != 16
#error "colour.c expects GraphicsMagick's Q16 pixels (Debian's build)"
#endif

/* PixelPacket is BGRA in memory on little-endian hosts, RGBA on big-endian
 * ones (magick/image.h). */
#if defined(MAGICK_PIXELS_BGRA)
#define FMT_PACKET TYPE_BGRA_16
#else
#define FMT_PACKET TYPE_RGBA_16
#endif
/* A grey image has its level in every channel: read the first, skip three. */
#define FMT_PACKET_GREY (COLORSPACE_SH(PT_GRAY) | CHANNELS_SH(1) | EXTRA_SH(3) | BYTES_SH(2))

#define MAX_THREADS     16
#define THREADED_PIXELS (1L << 20) /* below this one thread is quicker */
#define SRGB_TOLERANCE  128        /* half an 8-bit step, in 16-bit units */

enum kind { KIND_RGB, KIND_GREY, KIND_CMYK };

struct lcms_msg {
	char text[160];
};

static void lcms_error(cmsContext ctx, cmsUInt32Number code, const char *text)
{
	(void)code;
	struct lcms_msg *m = cmsGetContextUserData(ctx);
	if (m && !m->text[0] && text) /* the first one: a long one is cut on purpose */
		(void)snprintf(m->text, sizeof m->text, "%s", text);
}

struct band {
	cmsHTRANSFORM t;
	enum kind kind;
	PixelPacket *px;
	unsigned long cols;
	long y0, y1;
	bool ok;
};

/* Converts rows y0..y1-1 of the band. */
static void band_convert(struct band *b)
{
	if (b->kind != KIND_CMYK) {
		for (long y = b->y0; y < b->y1; y++)
			cmsDoTransform(b->t, b->px + (size_t)y * b->cols,
				       b->px + (size_t)y * b->cols, (cmsUInt32Number)b->cols);
		b->ok = true;
		return;
	}
	/* CMYK in GraphicsMagick: cyan in red, magenta in green, yellow in
	 * blue, black in opacity; as ink amounts (its JPEG reader has already
	 * undone Adobe's inversion). */
	uint16_t *row = malloc((size_t)b->cols * 4 * sizeof *row);
	if (!row)
		return;
	for (long y = b->y0; y < b->y1; y++) {
		PixelPacket *p = b->px + (size_t)y * b->cols;
		for (unsigned long x = 0; x < b->cols; x++) {
			row[4 * x] = p[x].red;
			row[4 * x + 1] = p[x].green;
			row[4 * x + 2] = p[x].blue;
			row[4 * x + 3] = p[x].opacity;
		}
		cmsDoTransform(b->t, row, p, (cmsUInt32Number)b->cols);
		for (unsigned long x = 0; x < b->cols; x++)
			p[x].opacity = OpaqueOpacity;
	}
	free(row);
	b->ok = true;
}

static void *band_main(void *arg)
{
	band_convert(arg);
	return NULL;
}

/* Runs the transform over every row, on up to `threads` threads. */
static bool convert_all(cmsHTRANSFORM t, enum kind kind, PixelPacket *px, unsigned long cols,
			unsigned long rows, int threads)
{
	int n = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	if ((long long)cols * (long long)rows < THREADED_PIXELS || (unsigned long)n > rows)
		n = 1;
	struct band bands[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	bool started[MAX_THREADS] = {false};
	for (int i = 0; i < n; i++)
		bands[i] = (struct band){
			.t = t,
			.kind = kind,
			.px = px,
			.cols = cols,
			.y0 = (long)(rows * (unsigned long)i / (unsigned long)n),
			.y1 = (long)(rows * (unsigned long)(i + 1) / (unsigned long)n)};
	for (int i = 1; i < n; i++)
		started[i] = pthread_create(&tid[i], NULL, band_main, &bands[i]) == 0;
	band_convert(&bands[0]);
	for (int i = 1; i < n; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			band_convert(&bands[i]); /* no thread: this one does it */
	}
	bool ok = true;
	for (int i = 0; i < n; i++)
		ok = ok && bands[i].ok;
	return ok;
}

/* True when the transform leaves every colour of a 9×9×9 grid (or every
 * grey level) within SRGB_TOLERANCE: the profile is sRGB, or as good as. */
static bool is_identity(cmsHTRANSFORM t, enum kind kind)
{
	enum { STEPS = 9, N = STEPS * STEPS * STEPS };
	PixelPacket in[N], out[N];
	int n = 0;
	for (int r = 0; r < STEPS; r++)
		for (int g = 0; g < STEPS; g++)
			for (int b = 0; b < STEPS; b++, n++) {
				Quantum v[3] = {(Quantum)(r * 65535 / (STEPS - 1)),
						(Quantum)(g * 65535 / (STEPS - 1)),
						(Quantum)(b * 65535 / (STEPS - 1))};
				if (kind == KIND_GREY) /* every grey level of the grid */
					v[1] = v[2] = v[0] = (Quantum)(n * 65535 / (N - 1));
				in[n] = (PixelPacket){.red = v[0], .green = v[1], .blue = v[2]};
				out[n] = in[n];
			}
	cmsDoTransform(t, out, out, N);
	for (int i = 0; i < N; i++) {
		int d[3] = {out[i].red - in[i].red, out[i].green - in[i].green,
			    out[i].blue - in[i].blue};
		for (int c = 0; c < 3; c++)
			if (d[c] > SRGB_TOLERANCE || d[c] < -SRGB_TOLERANCE)
				return false;
	}
	return true;
}

static void put_note(char *note, size_t len, const char *what, const char *desc)
{
	if (note && len) /* a long profile description is cut on purpose */
		(void)snprintf(note, len, "%s%s%s%s", what, desc[0] ? " (" : "", desc,
			       desc[0] ? ")" : "");
}

int colour_to_srgb(Image *img, int threads, char *err, size_t errlen, char *note, size_t notelen)
{
	if (note && notelen)
		note[0] = '\0';
	size_t len = 0;
	const unsigned char *icc = GetImageProfile(img, "ICM", &len);
	if (!icc || len == 0)
		return COLOUR_NONE;

	struct lcms_msg msg = {{0}};
	cmsContext ctx = cmsCreateContext(NULL, &msg);
	if (!ctx) {
		(void)snprintf(err, errlen, "out of memory for a colour transform");
		return -1;
	}
	cmsSetLogErrorHandlerTHR(ctx, lcms_error);
	int rv = COLOUR_IGNORED;
	char desc[96] = "";
	cmsHPROFILE in = cmsOpenProfileFromMemTHR(ctx, icc, (cmsUInt32Number)len);
	cmsHPROFILE out = cmsCreate_sRGBProfileTHR(ctx);
	cmsHTRANSFORM t = NULL;
	const bool cmyk = img->colorspace == CMYKColorspace;
	enum kind kind = KIND_RGB;
	const char *why = NULL;
	if (!in) {
		why = "unreadable ICC profile ignored";
		goto done;
	}
	(void)cmsGetProfileInfoASCII(in, cmsInfoDescription, "en", "US", desc, sizeof desc);
	cmsColorSpaceSignature cs = cmsGetColorSpace(in);
	cmsProfileClassSignature cls = cmsGetDeviceClass(in);
	if (cls == cmsSigLinkClass || cls == cmsSigAbstractClass || cls == cmsSigNamedColorClass) {
		why = "ICC profile that is not an input profile ignored";
		goto done;
	}
	if (cs == cmsSigRgbData && !cmyk)
		kind = KIND_RGB;
	else if (cs == cmsSigGrayData && !cmyk)
		kind = KIND_GREY;
	else if (cs == cmsSigCmykData && cmyk)
		kind = KIND_CMYK;
	else {
		why = "ICC profile of another colour space than the pixels ignored";
		goto done;
	}
	if (!out) {
		(void)snprintf(err, errlen, "out of memory for the sRGB profile");
		rv = -1;
		goto done;
	}
	cmsUInt32Number fmt_in = kind == KIND_RGB    ? FMT_PACKET
				 : kind == KIND_GREY ? FMT_PACKET_GREY
						     : TYPE_CMYK_16;
	t = cmsCreateTransformTHR(ctx, in, fmt_in, out, FMT_PACKET, INTENT_PERCEPTUAL,
				  cmsFLAGS_NOCACHE);
	if (!t) {
		why = "ICC profile Little CMS cannot transform from ignored";
		goto done;
	}
	if (kind != KIND_CMYK && is_identity(t, kind)) {
		rv = COLOUR_SRGB;
		why = "sRGB-equivalent ICC profile, nothing to convert";
		goto done;
	}
	PixelPacket *px = GetImagePixels(img, 0, 0, img->columns, img->rows);
	if (!px || !convert_all(t, kind, px, img->columns, img->rows, threads) ||
	    !SyncImagePixels(img)) {
		(void)snprintf(err, errlen, "converting to sRGB: %s",
			       img->exception.reason ? img->exception.reason : "out of memory");
		rv = -1;
		goto done;
	}
	img->colorspace = RGBColorspace;
	img->is_grayscale = MagickFalse;
	rv = COLOUR_CONVERTED;
	why = kind == KIND_RGB    ? "converted from an RGB ICC profile to sRGB"
	      : kind == KIND_GREY ? "converted from a grey ICC profile to sRGB"
				  : "converted from a CMYK ICC profile to sRGB";
done:
	if (why)
		put_note(note, notelen, why, desc[0] ? desc : msg.text);
	if (t)
		cmsDeleteTransform(t);
	if (in)
		cmsCloseProfile(in);
	if (out)
		cmsCloseProfile(out);
	cmsDeleteContext(ctx);
	if (rv != -1) /* used, equivalent or unusable: no derivative carries it */
		(void)DeleteImageProfile(img, "ICM");
	return rv;
}
