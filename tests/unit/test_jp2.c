/* JPEG 2000 (handlers/ingest/jp2.c): the signatures, the JP2 header boxes it
 * reads itself (colr, cdef, pclr) including hostile ones (boxes running past
 * their parent, 64-bit lengths, short entries), the channel roles they give,
 * and jp2_read's refusals of files that are not JPEG 2000 or cut short
 * before the codestream. Real codestreams (lossless, lossy, tiled, grey,
 * 16-bit, alpha, truncated) are decoded end to end in
 * tests/e2e/test_formats.py. The .c is included to reach its static
 * functions. */
#include "../../handlers/ingest/jp2.c"

#include <unistd.h>

#include "check.h"

static struct jp2_result res;

static struct dec fresh(void)
{
	memset(&res, 0, sizeof res);
	return (struct dec){.r = &res, .alpha = -1};
}

static size_t box(unsigned char *out, const char *type, const void *content, size_t len)
{
	uint32_t n = (uint32_t)(len + 8);
	out[0] = (unsigned char)(n >> 24);
	out[1] = (unsigned char)(n >> 16);
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	memcpy(out + 4, type, 4);
	memcpy(out + 8, content, len);
	return len + 8;
}

static void test_sniff(void)
{
	static const unsigned char jp2[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10};
	static const unsigned char j2k[4] = {0xFF, 0x4F, 0xFF, 0x51};
	CHECK_STR(jp2_sniff(jp2, sizeof jp2), "JP2");
	CHECK_STR(jp2_sniff(j2k, sizeof j2k), "J2K");
	CHECK(jp2_sniff(jp2, 11) == NULL);
	CHECK(jp2_sniff(j2k, 3) == NULL);
	CHECK(jp2_sniff((const unsigned char *)"\xFF\xD8\xFF\xE0", 4) == NULL); /* JPEG */
	CHECK(jp2_sniff((const unsigned char *)"", 0) == NULL);
}

static void test_colr(void)
{
	unsigned char b[512];
	/* enumerated: sRGB, greyscale, sYCC, CMYK */
	const struct {
		unsigned cs;
		enum model m;
	} enums[] = {{16, MODEL_RGB}, {17, MODEL_GREY}, {18, MODEL_SYCC}, {12, MODEL_CMYK}};
	for (size_t i = 0; i < sizeof enums / sizeof *enums; i++) {
		unsigned char c[7] = {1, 0, 0, 0, 0, 0, (unsigned char)enums[i].cs};
		struct dec d = fresh();
		CHECK(parse_jp2h(&d, b, box(b, "colr", c, sizeof c)));
		CHECK(d.cs.model == enums[i].m);
	}
	/* CIELab (14): refused, naming the colour space */
	unsigned char lab[7] = {1, 0, 0, 0, 0, 0, 14};
	struct dec d = fresh();
	CHECK(!parse_jp2h(&d, b, box(b, "colr", lab, sizeof lab)));
	CHECK(strstr(res.error, "colour space 14") != NULL && res.bad_input);
	/* only the first colr box counts */
	unsigned char grey[7] = {1, 0, 0, 0, 0, 0, 17};
	size_t n = box(b, "colr", grey, sizeof grey);
	n += box(b + n, "colr", lab, sizeof lab);
	d = fresh();
	CHECK(parse_jp2h(&d, b, n) && d.cs.model == MODEL_GREY);
	/* an ICC profile: its colour space at byte 16 decides, the bytes are kept */
	unsigned char icc[3 + 132] = {2, 0, 0};
	memcpy(icc + 3 + 16, "GRAY", 4);
	d = fresh();
	CHECK(parse_jp2h(&d, b, box(b, "colr", icc, sizeof icc)));
	CHECK(d.cs.model == MODEL_GREY && d.cs.icc && d.cs.icc_len == 132);
	CHECK(d.cs.icc && memcmp(d.cs.icc + 16, "GRAY", 4) == 0);
	free(d.cs.icc);
	memcpy(icc + 3 + 16, "Lab ", 4);
	d = fresh();
	CHECK(!parse_jp2h(&d, b, box(b, "colr", icc, sizeof icc)) && d.cs.icc == NULL);
	/* a profile shorter than an ICC header, a vendor method: no colour said */
	d = fresh();
	CHECK(parse_jp2h(&d, b, box(b, "colr", icc, 40)) && d.cs.model == MODEL_AUTO);
	unsigned char vendor[20] = {4};
	d = fresh();
	CHECK(parse_jp2h(&d, b, box(b, "colr", vendor, sizeof vendor)) && d.cs.model == MODEL_AUTO);
}

static void test_hostile_boxes(void)
{
	unsigned char b[64];
	/* a box longer than its parent */
	size_t n = box(b, "colr", "\1\0\0\0\0\0\20", 7);
	struct dec d = fresh();
	CHECK(!parse_jp2h(&d, b, n - 1));
	CHECK(strstr(res.error, "runs past") != NULL);
	/* a box shorter than its own header */
	memcpy(b, "\0\0\0\4colr", 8);
	d = fresh();
	CHECK(!parse_jp2h(&d, b, 8));
	/* a 64-bit length past the end, and one that wraps */
	memcpy(b, "\0\0\0\1colr\xff\xff\xff\xff\xff\xff\xff\xf0", 16);
	d = fresh();
	CHECK(!parse_jp2h(&d, b, 16));
	memcpy(b, "\0\0\0\1colr\0\0\0\0\0\0\0\x08", 16);
	d = fresh();
	CHECK(!parse_jp2h(&d, b, 16)); /* 8 < its 16-byte header */
	/* length 0: to the end of the parent */
	memcpy(b, "\0\0\0\0pclr", 8);
	d = fresh();
	CHECK(parse_jp2h(&d, b, 8) && d.cs.palette);
	/* a cdef that promises more entries than it holds: the whole ones only */
	unsigned char cdef[2 + 6 + 3] = {0, 200, 0, 3, 0, 1, 0, 0, 9, 9, 9};
	d = fresh();
	CHECK(parse_jp2h(&d, b, box(b, "cdef", cdef, sizeof cdef)) && d.cs.ncdef == 1);
	/* truncated headers: fewer than 8 bytes are ignored */
	d = fresh();
	CHECK(parse_jp2h(&d, b, 5) && d.cs.model == MODEL_AUTO);
}

static void test_roles(void)
{
	opj_image_comp_t comps[4];
	memset(comps, 0, sizeof comps);
	for (int i = 0; i < 4; i++)
		comps[i] = (opj_image_comp_t){.dx = 1, .dy = 1, .prec = 8};
	opj_image_t im = {.numcomps = 4, .comps = comps};
	/* RGBA in order: alpha is the fourth */
	struct dec d = fresh();
	d.cs.model = MODEL_RGB;
	CHECK(assign_roles(&d, &im) && d.nchan == 3 && d.alpha == 3 && d.role[2] == 2);
	/* cdef: alpha first, then B, G, R */
	d = fresh();
	d.cs.model = MODEL_RGB;
	unsigned defs[4][3] = {{0, 1, 0}, {1, 0, 3}, {2, 0, 2}, {3, 0, 1}};
	for (int i = 0; i < 4; i++) {
		d.cs.cdef[i].channel = defs[i][0];
		d.cs.cdef[i].type = defs[i][1];
		d.cs.cdef[i].assoc = defs[i][2];
	}
	d.cs.ncdef = 4;
	CHECK(assign_roles(&d, &im));
	CHECK(d.role[0] == 3 && d.role[1] == 2 && d.role[2] == 1 && d.alpha == 0);
	/* a cdef naming a channel that does not exist leaves the order alone */
	d.cs.cdef[3].channel = 9;
	d.role[0] = d.role[1] = d.role[2] = -1;
	CHECK(assign_roles(&d, &im) && d.role[0] == 0 && d.alpha == 3);
	/* a raw codestream: two components are grey + alpha */
	im.numcomps = 2;
	d = fresh();
	CHECK(assign_roles(&d, &im) && d.model == MODEL_GREY && d.alpha == 1);
	/* CMYK wants four components; 17-bit samples are refused */
	d = fresh();
	d.cs.model = MODEL_CMYK;
	CHECK(!assign_roles(&d, &im) && strstr(res.error, "CMYK image with 2 components"));
	im.numcomps = 3;
	comps[1].prec = 17;
	d = fresh();
	CHECK(!assign_roles(&d, &im) && strstr(res.error, "17-bit"));
	comps[1].prec = 8;
	im.numcomps = 65;
	d = fresh();
	CHECK(!assign_roles(&d, &im) && strstr(res.error, "65 components"));
}

static void test_read_refusals(void)
{
	char dir[] = "/tmp/test_jp2.XXXXXX", path[64];
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	struct jp2_opts o = {.threads = 1};
	struct jp2_result r;
	snprintf(path, sizeof path, "%s/none", dir);
	CHECK(jp2_read(path, &o, &r) == NULL && !r.bad_input && strstr(r.error, "cannot open"));

	/* bytes of another kind, and a JP2 signature with nothing after it */
	static const unsigned char sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10};
	const struct {
		const void *bytes;
		size_t len;
		const char *mention;
	} cases[] = {
		{"\xFF\xD8\xFF\xE0 a JPEG", 10, "not a JPEG 2000"},
		{sig, sizeof sig, "JPEG 2000 header"},
		{"\xFF\x4F\xFF\x51\0\x29", 6, "JPEG 2000 header"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		snprintf(path, sizeof path, "%s/f%zu", dir, i);
		FILE *f = fopen(path, "wb");
		CHECK(f && fwrite(cases[i].bytes, 1, cases[i].len, f) == cases[i].len);
		if (f)
			fclose(f);
		Image *img = jp2_read(path, &o, &r);
		CHECK(img == NULL && r.bad_input && strstr(r.error, cases[i].mention));
		if (img)
			DestroyImage(img);
		if (!strstr(r.error, cases[i].mention))
			fprintf(stderr, "case %zu: %s\n", i, r.error);
		unlink(path);
	}
	/* a JP2 whose header box claims more than the file holds */
	unsigned char b[64];
	memcpy(b, sig, 12);
	memcpy(b + 12, "\0\0\1\0jp2h", 8);
	snprintf(path, sizeof path, "%s/short", dir);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(b, 1, 30, f) == 30);
	if (f)
		fclose(f);
	CHECK(jp2_read(path, &o, &r) == NULL && r.bad_input &&
	      strstr(r.error, "truncated in its header"));
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	(void)argc;
	InitializeMagick(argv[0]);
	test_sniff();
	test_colr();
	test_hostile_boxes();
	test_roles();
	test_read_refusals();
	DestroyMagick();
	return check_done();
}
