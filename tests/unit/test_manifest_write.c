/* The manifest writer (handlers/api/manifest_write.c): the Presentation 3
 * and 2.1 shapes of a few assets, which assets get a canvas, the body and
 * thumbnail sizes chosen, the image services of each version, metadata,
 * the file channel's rendering, text that needs escaping, audio and video
 * canvases (a transcode, a Choice of several, the poster); and that a
 * manifest joined from canvas fragments (api/manifest_fragment.h) is the
 * whole writer's text byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "api/manifest_fragment.h"
#include "api/manifest_write.h"
#include "asset/av_presets.h"
#include "asset/av_stored.h"
#include "check.h"

static struct arena *A;

static yajl_val write_doc(const struct mf_doc *d)
{
	struct jw *w = jw_new(A);
	manifest_write(w, A, d);
	size_t len;
	const char *text = jw_text(w, &len);
	CHECK(text != NULL);
	if (!text)
		return NULL;
	const char *err;
	yajl_val v = json_parse(A, text, len, &err);
	CHECK(v != NULL);
	return v;
}

/* The value at a path of keys and array indices: "items", "0", "id". */
static yajl_val at(yajl_val v, const char *const *path)
{
	for (; v && *path; path++) {
		if (YAJL_IS_ARRAY(v)) {
			size_t i = (size_t)atoi(*path);
			v = i < v->u.array.len ? v->u.array.values[i] : NULL;
		} else {
			v = json_get(v, *path);
		}
	}
	return v;
}
#define AT(v, ...) at(v, (const char *const[]){__VA_ARGS__, NULL})

static const char *str(yajl_val v)
{
	return v && YAJL_IS_STRING(v) ? v->u.string : "";
}

static long long num(yajl_val v)
{
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

static size_t len(yajl_val v)
{
	return v && YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

static const struct stored_size sizes[] = {
	{100, 75, true}, {200, 150, true}, {400, 300, true}, {1024, 768, false}};

static struct mf_asset image(const char *id, int space)
{
	return (struct mf_asset){.space = space,
				 .id = id,
				 .width = 1600,
				 .height = 1200,
				 .media_type = "image/jpeg",
				 .iiif_img = true,
				 .thumbs = true,
				 .strings = {"book \"7\"", NULL, "caf\xc3\xa9"},
				 .numbers = {3, 0, 12},
				 .tags_json = "[\"a\",\"b\"]",
				 .roles_json = "[]",
				 .sizes = sizes,
				 .nsizes = 4};
}

static void test_p3(void)
{
	struct mf_asset as[5];
	as[0] = image("p1", 4);
	as[1] = image("p2", 4);
	as[1].restricted = true;
	as[1].nsizes = 0; /* nothing open: the body is the image confined to 200 px */
	as[2] = image("unmeasured", 4);
	as[2].width = 0; /* not ingested: no canvas */
	as[3] = image("with-file", 5);
	as[3].file = true;
	as[3].iiif_img = false; /* thumbs only: body from /thumbs, no service */
	as[4] = (struct mf_asset){
		.space = 4, .id = "doc", .media_type = "application/pdf", .file = true};
	CHECK(mf_asset_shown(&as[0]) && mf_asset_shown(&as[1]) && !mf_asset_shown(&as[2]) &&
	      mf_asset_shown(&as[3]) && !mf_asset_shown(&as[4]));
	struct mf_doc d = {.version = 3,
			   .id = "https://h/iiif-resource/7/q/book",
			   .base = "https://h",
			   .cpart = "lib",
			   .label = "Generated from 'q' named query",
			   .assets = as,
			   .n = 5};
	yajl_val v = write_doc(&d);
	CHECK_STR(str(AT(v, "@context")), "http://iiif.io/api/presentation/3/context.json");
	CHECK_STR(str(AT(v, "id")), "https://h/iiif-resource/7/q/book");
	CHECK_STR(str(AT(v, "type")), "Manifest");
	CHECK_STR(str(AT(v, "label", "en", "0")), "Generated from 'q' named query");
	CHECK(len(AT(v, "items")) == 3);
	/* canvases numbered in order over the shown assets */
	CHECK_STR(str(AT(v, "items", "0", "id")), "https://h/iiif-img/lib/4/p1/canvas/c/1");
	CHECK_STR(str(AT(v, "items", "1", "id")), "https://h/iiif-img/lib/4/p2/canvas/c/2");
	CHECK_STR(str(AT(v, "items", "2", "id")), "https://h/iiif-img/lib/5/with-file/canvas/c/3");
	CHECK_STR(str(AT(v, "items", "2", "label", "en", "0")), "Canvas 3");
	CHECK(num(AT(v, "items", "0", "width")) == 1600 &&
	      num(AT(v, "items", "0", "height")) == 1200);
	/* the body: the largest open thumbnail, with both image services */
	yajl_val body = AT(v, "items", "0", "items", "0", "items", "0", "body");
	CHECK_STR(str(AT(body, "id")), "https://h/iiif-img/lib/4/p1/full/400,300/0/default.jpg");
	CHECK(num(AT(body, "width")) == 400 && num(AT(body, "height")) == 300);
	CHECK_STR(str(AT(body, "service", "0", "@id")), "https://h/iiif-img/v2/lib/4/p1");
	CHECK_STR(str(AT(body, "service", "0", "@type")), "ImageService2");
	CHECK_STR(str(AT(body, "service", "0", "profile")),
		  "http://iiif.io/api/image/2/level2.json");
	CHECK_STR(str(AT(body, "service", "1", "id")), "https://h/iiif-img/lib/4/p1");
	CHECK_STR(str(AT(body, "service", "1", "type")), "ImageService3");
	CHECK(num(AT(body, "service", "1", "width")) == 1600);
	CHECK_STR(str(AT(v, "items", "0", "items", "0", "items", "0", "target")),
		  "https://h/iiif-img/lib/4/p1/canvas/c/1");
	/* the thumbnail: the open size nearest 200, level 0 services with the open sizes */
	yajl_val th = AT(v, "items", "0", "thumbnail", "0");
	CHECK_STR(str(AT(th, "id")), "https://h/thumbs/lib/4/p1/full/200,150/0/default.jpg");
	CHECK(len(AT(th, "service", "1", "sizes")) == 3);
	CHECK_STR(str(AT(th, "service", "1", "profile")), "level0");
	CHECK_STR(str(AT(v, "thumbnail", "0", "id")), str(AT(th, "id")));
	/* metadata: strings (escaped as needed), numbers, tags, roles */
	yajl_val meta = AT(v, "items", "0", "metadata");
	CHECK(len(meta) == 8);
	CHECK_STR(str(AT(meta, "0", "value", "none", "0")), "book \"7\"");
	CHECK_STR(str(AT(meta, "1", "value", "none", "0")), "");
	CHECK_STR(str(AT(meta, "2", "value", "none", "0")), "caf\xc3\xa9");
	CHECK_STR(str(AT(meta, "5", "label", "none", "0")), "Number 3");
	CHECK_STR(str(AT(meta, "5", "value", "none", "0")), "12");
	CHECK_STR(str(AT(meta, "6", "value", "none", "0")), "a, b");
	CHECK_STR(str(AT(meta, "7", "value", "none", "0")), "");
	/* nothing open: no thumbnail, the body confined to 200 px */
	CHECK(AT(v, "items", "1", "thumbnail") == NULL);
	CHECK_STR(str(AT(v, "items", "1", "items", "0", "items", "0", "body", "id")),
		  "https://h/iiif-img/lib/4/p2/full/200,150/0/default.jpg");
	/* thumbs only: from /thumbs without a service; the file as a rendering */
	body = AT(v, "items", "2", "items", "0", "items", "0", "body");
	CHECK_STR(str(AT(body, "id")),
		  "https://h/thumbs/lib/5/with-file/full/400,300/0/default.jpg");
	CHECK(AT(body, "service") == NULL);
	CHECK_STR(str(AT(v, "items", "2", "rendering", "0", "id")),
		  "https://h/file/lib/5/with-file");
	CHECK_STR(str(AT(v, "items", "2", "rendering", "0", "format")), "image/jpeg");
}

static void test_p2(void)
{
	struct mf_asset as[2];
	static struct av_output mp3[1];
	mp3[0] = (struct av_output){av_preset_find("audio-mp3-128"), 0, 0, 61020};
	as[0] = image("p1", 4);
	as[1] = (struct mf_asset){.space = 4,
				  .id = "song",
				  .media_type = "audio/mpeg",
				  .av = true,
				  .duration = 61000,
				  .av_out = mp3,
				  .n_av = 1};
	struct mf_doc d = {.version = 2,
			   .id = "https://h/iiif-manifest/v2/7/4/p1",
			   .base = "https://h",
			   .cpart = "7",
			   .label = "Generated by DLCS",
			   .single = true,
			   .assets = as,
			   .n = 2};
	yajl_val v = write_doc(&d);
	CHECK_STR(str(AT(v, "@context")), "http://iiif.io/api/presentation/2/context.json");
	CHECK_STR(str(AT(v, "@type")), "sc:Manifest");
	CHECK_STR(str(AT(v, "label")), "Generated by DLCS");
	CHECK_STR(str(AT(v, "sequences", "0", "@id")),
		  "https://h/iiif-manifest/v2/7/4/p1/sequence/0");
	/* 2.1: images only (the audio asset has no canvas) */
	yajl_val canvases = AT(v, "sequences", "0", "canvases");
	CHECK(len(canvases) == 1);
	CHECK_STR(str(AT(canvases, "0", "@type")), "sc:Canvas");
	CHECK_STR(str(AT(canvases, "0", "label")), "Canvas 1");
	yajl_val res = AT(canvases, "0", "images", "0", "resource");
	CHECK_STR(str(AT(canvases, "0", "images", "0", "on")), str(AT(canvases, "0", "@id")));
	CHECK_STR(str(AT(res, "@id")), "https://h/iiif-img/v2/7/4/p1/full/400,300/0/default.jpg");
	CHECK_STR(str(AT(res, "service", "@id")), "https://h/iiif-img/v2/7/4/p1");
	CHECK_STR(str(AT(res, "service", "@context")), "http://iiif.io/api/image/2/context.json");
	CHECK_STR(str(AT(canvases, "0", "metadata", "0", "label")), "String 1");
	CHECK_STR(str(AT(canvases, "0", "thumbnail", "@id")),
		  "https://h/thumbs/v2/7/4/p1/full/200,150/0/default.jpg");
	/* the same assets in 3.0: the audio asset is a Sound canvas */
	d.version = 3;
	v = write_doc(&d);
	CHECK(len(AT(v, "items")) == 2);
	yajl_val song = AT(v, "items", "1");
	CHECK(AT(song, "width") == NULL && YAJL_IS_DOUBLE(AT(song, "duration")));
	CHECK_STR(str(AT(song, "items", "0", "items", "0", "body", "type")), "Sound");
	yajl_val body = AT(song, "items", "0", "items", "0", "body");
	CHECK_STR(str(AT(body, "id")), "https://h/iiif-av/7/4/song/full/max/default.mp3");
	CHECK_STR(str(AT(body, "format")), "audio/mpeg");
	CHECK(AT(body, "duration") && YAJL_GET_DOUBLE(AT(body, "duration")) == 61.02);
	CHECK(YAJL_GET_DOUBLE(AT(song, "duration")) == 61.0);
	/* without its transcodes (none listed) no canvas */
	as[1].n_av = 0;
	v = write_doc(&d);
	CHECK(len(AT(v, "items")) == 1);
}

/* A video in two formats with its poster and the file channel: a Choice,
 * the poster's thumbnail, the original as a rendering; 2.1 has none of it. */
static void test_av(void)
{
	static struct av_output out[2];
	out[0] = (struct av_output){av_preset_find("video-mp4-720p"), 1280, 720, 10010};
	out[1] = (struct av_output){av_preset_find("video-webm-720p"), 1280, 720, 10000};
	struct mf_asset as = {.space = 2,
			      .id = "film",
			      .media_type = "video/mp4",
			      .width = 1920,
			      .height = 1080,
			      .duration = 10000,
			      .av = true,
			      .thumbs = true,
			      .file = true,
			      .sizes = sizes,
			      .nsizes = sizeof sizes / sizeof sizes[0],
			      .av_out = out,
			      .n_av = 2};
	struct mf_doc d = {.version = 3,
			   .id = "https://h/iiif-manifest/3/2/film",
			   .base = "https://h",
			   .cpart = "3",
			   .label = "Film",
			   .single = true,
			   .assets = &as,
			   .n = 1};
	yajl_val v = write_doc(&d);
	yajl_val canvas = AT(v, "items", "0");
	CHECK(num(AT(canvas, "width")) == 1920 && num(AT(canvas, "height")) == 1080);
	CHECK(YAJL_GET_DOUBLE(AT(canvas, "duration")) == 10.0);
	yajl_val body = AT(canvas, "items", "0", "items", "0", "body");
	CHECK_STR(str(AT(body, "type")), "Choice");
	CHECK(len(AT(body, "items")) == 2);
	CHECK_STR(str(AT(body, "items", "0", "id")),
		  "https://h/iiif-av/3/2/film/full/full/max/max/0/default.mp4");
	CHECK_STR(str(AT(body, "items", "0", "type")), "Video");
	CHECK_STR(str(AT(body, "items", "0", "format")), "video/mp4");
	CHECK(num(AT(body, "items", "0", "width")) == 1280);
	CHECK_STR(str(AT(body, "items", "1", "id")),
		  "https://h/iiif-av/3/2/film/full/full/max/max/0/default.webm");
	CHECK_STR(str(AT(body, "items", "1", "format")), "video/webm");
	/* the poster: a thumbnail from /thumbs, on the canvas and the manifest */
	CHECK(str_starts(str(AT(canvas, "thumbnail", "0", "id")),
			 "https://h/thumbs/3/2/film/full/"));
	CHECK_STR(str(AT(v, "thumbnail", "0", "id")), str(AT(canvas, "thumbnail", "0", "id")));
	CHECK_STR(str(AT(canvas, "rendering", "0", "id")), "https://h/file/3/2/film");
	CHECK_STR(str(AT(canvas, "rendering", "0", "type")), "Video");
	/* one transcode: the body is that Video */
	as.n_av = 1;
	v = write_doc(&d);
	body = AT(v, "items", "0", "items", "0", "items", "0", "body");
	CHECK_STR(str(AT(body, "type")), "Video");
	CHECK(YAJL_GET_DOUBLE(AT(body, "duration")) == 10.01);
	/* 2.1: no canvas */
	d.version = 2;
	CHECK(!mf_asset_in_version(&as, 2) && mf_asset_in_version(&as, 3));
	v = write_doc(&d);
	CHECK(len(AT(v, "sequences", "0", "canvases")) == 0);
}

/* d's manifest joined as api/manifests.c joins it: head, each shown
 * asset's fragment filled in (or the canvas written when it has none),
 * tail. */
static const char *joined_doc(const struct mf_doc *d, size_t *len)
{
	const struct mf_asset *first = NULL;
	for (size_t i = 0; i < d->n && !first; i++)
		if (mf_asset_in_version(&d->assets[i], d->version))
			first = &d->assets[i];
	const char *base_json = mf_json_inner(A, d->base);
	const char *cpart_json = mf_json_inner(A, d->cpart);
	CHECK(base_json && cpart_json);
	struct jw *w = jw_new(A);
	manifest_write_head(w, A, d, first);
	int n = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (!mf_asset_in_version(&d->assets[i], d->version))
			continue;
		n++;
		size_t flen;
		const char *frag = mf_fragment_make(A, d->version, &d->assets[i], &flen);
		if (!frag) {
			char num[16];
			xsnprintf(num, sizeof num, "%d", n);
			manifest_write_canvas(w, A, d, &d->assets[i], num);
			continue;
		}
		struct sbuf b;
		sbuf_init(&b, A);
		mf_fragment_fill(&b, frag, flen, base_json, cpart_json, n);
		jw_raw(w, b.buf, b.len);
	}
	manifest_write_tail(w, d);
	return jw_text(w, len);
}

static void same_text(const struct mf_doc *d)
{
	struct jw *w = jw_new(A);
	manifest_write(w, A, d);
	size_t l1 = 0, l2 = 0;
	const char *t1 = jw_text(w, &l1), *t2 = joined_doc(d, &l2);
	CHECK(t1 && t2 && l1 == l2 && memcmp(t1, t2, l1) == 0);
	if (t1 && t2 && (l1 != l2 || memcmp(t1, t2, l1) != 0))
		fprintf(stderr, "whole:  %s\njoined: %s\n", t1, t2);
}

/* Fragments: every kind of canvas (image, restricted, thumbs only with a
 * file, audio, video, unmeasured) in both versions, with a base URL and a
 * customer part that need escaping and with numbers past 9, gives the
 * whole writer's bytes; an asset whose text holds the marker byte gets no
 * fragment (and still the same bytes, written the long way). */
static void test_fragments(void)
{
	static struct av_output song[1], film[2];
	song[0] = (struct av_output){av_preset_find("audio-mp3-128"), 0, 0, 61020};
	film[0] = (struct av_output){av_preset_find("video-mp4-720p"), 640, 360, 1510};
	film[1] = (struct av_output){av_preset_find("video-webm-720p"), 640, 360, 1500};
	struct mf_asset as[16];
	size_t n = 0;
	as[n++] = image("p1", 4);
	as[n] = image("p2", 4);
	as[n].restricted = true;
	as[n++].nsizes = 0;
	as[n] = image("unmeasured", 4);
	as[n++].width = 0;
	as[n] = image("with-file", 5);
	as[n].file = true;
	as[n++].iiif_img = false;
	as[n++] = (struct mf_asset){.space = 4,
				    .id = "song",
				    .media_type = "audio/mpeg",
				    .av = true,
				    .duration = 61000,
				    .av_out = song,
				    .n_av = 1};
	as[n++] = (struct mf_asset){.space = 4,
				    .id = "film",
				    .media_type = "video/mp4",
				    .av = true,
				    .file = true,
				    .width = 640,
				    .height = 360,
				    .duration = 1500,
				    .av_out = film,
				    .n_av = 2};
	as[n] = image("marked", 6);
	as[n].strings[1] = "a\x7f"
			   "B b";
	size_t marked = n++;
	while (n < 15) {
		as[n] = image(n % 2 ? "odd" : "even", (int)n);
		as[n].tags_json = "[\"x\\\"y\", \"\\u00e9\"]";
		n++;
	}
	as[n] = image("escaped-mark", 6);
	as[n].tags_json = "[\"a\\u007FB\"]"; /* the marker byte, escaped */
	size_t escaped = n++;
	size_t flen;
	CHECK(mf_fragment_make(A, 3, &as[marked], &flen) == NULL);
	CHECK(mf_fragment_make(A, 2, &as[escaped], &flen) == NULL);
	CHECK(mf_fragment_make(A, 3, &as[0], &flen) != NULL);
	const char *bases[] = {"https://h", "http://h\"q\\:8080/x y", "http://127.0.0.1:8580"};
	const char *cparts[] = {"7", "lib\"rary", "caf\xc3\xa9"};
	for (int v = 2; v <= 3; v++)
		for (int k = 0; k < 3; k++) {
			struct mf_doc d = {.version = v,
					   .id = "https://h/iiif-resource/7/q",
					   .base = bases[k],
					   .cpart = cparts[k],
					   .label = "Generated from 'q' named query",
					   .assets = as,
					   .n = n};
			same_text(&d);
			d.single = true;
			d.assets = &as[3]; /* the first canvas without a thumbnail service */
			d.n = n - 3;
			same_text(&d);
		}
}

/* A restricted asset's probe service (written by the caller, as text):
 * on its image body beside the image services and on each AV transcode in
 * 3.0, never in 2.1, and no manifest-level "services"; such an asset gets
 * no fragment (the probe is written per request). */
static void test_probe(void)
{
	static const char probe[] = "{\"id\":\"https://h/auth/v2/probe/7/4/r\","
				    "\"type\":\"AuthProbeService2\",\"service\":[]}";
	static struct av_output song[1];
	song[0] = (struct av_output){av_preset_find("audio-mp3-128"), 0, 0, 61020};
	struct mf_asset as[3] = {image("r", 4), image("open", 4),
				 (struct mf_asset){.space = 4,
						   .id = "song",
						   .media_type = "audio/mpeg",
						   .av = true,
						   .restricted = true,
						   .duration = 61000,
						   .av_out = song,
						   .n_av = 1}};
	as[0].restricted = true;
	as[0].probe_json = as[2].probe_json = probe;
	as[0].probe_len = as[2].probe_len = strlen(probe);
	struct mf_doc d = {.version = 3,
			   .id = "https://h/iiif-resource/7/q",
			   .base = "https://h",
			   .cpart = "7",
			   .label = "q",
			   .assets = as,
			   .n = 3,
			   .auth = true};
	yajl_val v = write_doc(&d);
	CHECK(len(AT(v, "@context")) == 2);
	CHECK_STR(str(AT(v, "@context", "0")), "http://iiif.io/api/auth/2/context.json");
	CHECK_STR(str(AT(v, "@context", "1")), "http://iiif.io/api/presentation/3/context.json");
	yajl_val svc = AT(v, "items", "0", "items", "0", "items", "0", "body", "service");
	CHECK(len(svc) == 3);
	CHECK_STR(str(AT(svc, "2", "type")), "AuthProbeService2");
	CHECK_STR(str(AT(svc, "2", "id")), "https://h/auth/v2/probe/7/4/r");
	CHECK(len(AT(v, "items", "1", "items", "0", "items", "0", "body", "service")) == 2);
	CHECK_STR(str(AT(v, "items", "2", "items", "0", "items", "0", "body", "service", "0",
			 "type")),
		  "AuthProbeService2");
	CHECK(AT(v, "services") == NULL);
	size_t flen;
	CHECK(mf_fragment_make(A, 3, &as[0], &flen) == NULL);
	CHECK(mf_fragment_make(A, 3, &as[1], &flen) != NULL);
	/* 2.1: neither */
	d.version = 2;
	v = write_doc(&d);
	CHECK(AT(v, "services") == NULL);
	CHECK_STR(str(AT(v, "@context")), "http://iiif.io/api/presentation/2/context.json");
	CHECK(AT(v, "sequences", "0", "canvases", "0", "images", "0", "resource", "service",
		 "@id") != NULL);
	CHECK(len(AT(v, "sequences", "0", "canvases")) == 2);
}

int main(void)
{
	A = arena_new(1 << 16);
	test_p3();
	test_p2();
	test_av();
	test_fragments();
	test_probe();
	arena_free(A);
	return check_done();
}
