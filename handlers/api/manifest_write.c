/* IIIF Presentation 3.0 and 2.1 manifests (api/manifest_write.h). */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "api/manifest_write.h"
#include "asset/auth_doc.h"
#include "asset/av_presets.h"
#include "asset/av_stored.h"
#include "asset/channel_rules.h"
#include "banned.h"

#define P3_CONTEXT   "http://iiif.io/api/presentation/3/context.json"
#define P2_CONTEXT   "http://iiif.io/api/presentation/2/context.json"
#define IMG2_CONTEXT "http://iiif.io/api/image/2/context.json"
#define IMG2_LEVEL2  "http://iiif.io/api/image/2/level2.json"
#define IMG2_LEVEL0  "http://iiif.io/api/image/2/level0.json"
/* The size a thumbnail is chosen for, and the box of a body that has none
 * open (Protagonist's TargetThumbnailSize). */
#define THUMB_TARGET 200

/* The URLs of one asset's canvas, made once. */
struct mf_urls {
	const char *img;    /* {base}/iiif-img/{c}/{s}/{id} */
	const char *img2;   /* {base}/iiif-img/v2/{c}/{s}/{id} */
	const char *thumbs; /* {base}/thumbs/{c}/{s}/{id} */
	const char *thumbs2;
	const char *canvas; /* {img}/canvas/c/{n} */
	const char *n;      /* the canvas's number, as text */
};

struct box {
	int w, h;
};

/* A video: a canvas with a size (its transcodes include a video). */
static bool av_is_video(const struct mf_asset *as)
{
	for (size_t i = 0; i < as->n_av; i++)
		if (as->av_out[i].preset->kind == AV_VIDEO)
			return true;
	return false;
}

bool mf_asset_shown(const struct mf_asset *as)
{
	if (as->av)
		return as->duration > 0 && as->n_av > 0 &&
		       (!av_is_video(as) || (as->width > 0 && as->height > 0));
	if (as->iiif_img || as->thumbs)
		return as->width > 0 && as->height > 0 && (as->iiif_img || as->nsizes > 0);
	return false;
}

bool mf_asset_in_version(const struct mf_asset *as, int version)
{
	return mf_asset_shown(as) && (version == 3 || !as->av);
}

static int longest(int w, int h)
{
	return w > h ? w : h;
}

/* The body's image: the largest open thumbnail; with none, the asset
 * confined to THUMB_TARGET px (an image request the service computes). */
static struct box body_box(const struct mf_asset *as)
{
	struct box b = {0, 0};
	for (size_t i = 0; i < as->nsizes; i++)
		if (as->sizes[i].open &&
		    (long long)as->sizes[i].w * as->sizes[i].h > (long long)b.w * b.h)
			b = (struct box){as->sizes[i].w, as->sizes[i].h};
	if (b.w)
		return b;
	int l = longest(as->width, as->height);
	if (l <= THUMB_TARGET)
		return (struct box){as->width, as->height};
	b.w = (int)(((long long)as->width * THUMB_TARGET + l / 2) / l);
	b.h = (int)(((long long)as->height * THUMB_TARGET + l / 2) / l);
	return (struct box){b.w ? b.w : 1, b.h ? b.h : 1};
}

/* The canvas thumbnail: the open thumbnail nearest THUMB_TARGET on its
 * longest edge; false when none is open. */
static bool thumb_box(const struct mf_asset *as, struct box *out)
{
	int best = -1, dist = 0;
	for (size_t i = 0; i < as->nsizes; i++) {
		if (!as->sizes[i].open)
			continue;
		int d = longest(as->sizes[i].w, as->sizes[i].h) - THUMB_TARGET;
		d = d < 0 ? -d : d;
		if (best < 0 || d < dist) {
			best = (int)i;
			dist = d;
		}
	}
	if (best < 0)
		return false;
	*out = (struct box){as->sizes[best].w, as->sizes[best].h};
	return true;
}

/* A stored JSON array of strings as "a, b" (empty for none or unreadable). */
static const char *joined(struct arena *a, const char *json)
{
	if (!json || json[0] != '[' || json[1] == ']')
		return "";
	yajl_val v = json_parse(a, json, strlen(json), NULL);
	if (!v || !YAJL_IS_ARRAY(v))
		return "";
	struct sbuf b;
	sbuf_init(&b, a);
	sbuf_adds(&b, "");
	for (size_t i = 0; i < v->u.array.len; i++) {
		if (!YAJL_IS_STRING(v->u.array.values[i]))
			continue;
		if (b.len)
			sbuf_adds(&b, ", ");
		sbuf_adds(&b, v->u.array.values[i]->u.string);
	}
	return b.buf;
}

/* {"<lang>":["text"]} (3.0) */
static void meta_pair(struct jw *w, int version, const char *lang, const char *label,
		      const char *value)
{
	jw_obj(w);
	if (version == 3) {
		jw_klang(w, "label", lang, label);
		jw_klang(w, "value", lang, value);
	} else {
		jw_kstr(w, "label", label);
		jw_kstr(w, "value", value);
	}
	jw_obj_end(w);
}

static void canvas_metadata(struct jw *w, struct arena *a, int version, const struct mf_asset *as)
{
	static const char *const string_labels[] = {"String 1", "String 2", "String 3"};
	static const char *const number_labels[] = {"Number 1", "Number 2", "Number 3"};
	char num[24];
	jw_key(w, "metadata");
	jw_arr(w);
	for (int i = 0; i < 3; i++)
		meta_pair(w, version, "none", string_labels[i],
			  as->strings[i] ? as->strings[i] : "");
	for (int i = 0; i < 3; i++) {
		xsnprintf(num, sizeof num, "%lld", as->numbers[i]);
		meta_pair(w, version, "none", number_labels[i], num);
	}
	meta_pair(w, version, "none", "Tags", joined(a, as->tags_json));
	meta_pair(w, version, "none", "Roles", joined(a, as->roles_json));
	jw_arr_end(w);
}

static void size_list(struct jw *w, const struct mf_asset *as, bool v3)
{
	jw_key(w, "sizes");
	jw_arr(w);
	for (size_t i = 0; i < as->nsizes; i++) {
		if (!as->sizes[i].open)
			continue;
		jw_obj(w);
		if (v3)
			jw_kstr(w, "type", "Size");
		jw_kint(w, "width", as->sizes[i].w);
		jw_kint(w, "height", as->sizes[i].h);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* An ImageService2 reference (also the 2.1 "service" object). */
static void service2(struct jw *w, const char *id, const char *profile, int W, int H)
{
	jw_obj(w);
	jw_kstr(w, "@context", IMG2_CONTEXT);
	jw_kstr(w, "@id", id);
	jw_kstr(w, "@type", "ImageService2");
	jw_kstr(w, "profile", profile);
	jw_kint(w, "width", W);
	jw_kint(w, "height", H);
}

static void thumbnail3(struct jw *w, struct arena *a, const struct mf_urls *u,
		       const struct mf_asset *as, struct box t)
{
	char size[32];
	xsnprintf(size, sizeof size, "%d,%d", t.w, t.h);
	jw_key(w, "thumbnail");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/full/%s/0/default.jpg", u->thumbs, size));
	jw_kstr(w, "type", "Image");
	jw_kstr(w, "format", "image/jpeg");
	jw_kint(w, "width", t.w);
	jw_kint(w, "height", t.h);
	jw_key(w, "service");
	jw_arr(w);
	service2(w, u->thumbs2, IMG2_LEVEL0, as->width, as->height);
	size_list(w, as, false);
	jw_obj_end(w);
	jw_obj(w);
	jw_kstr(w, "id", u->thumbs);
	jw_kstr(w, "type", "ImageService3");
	jw_kstr(w, "profile", "level0");
	jw_kint(w, "width", as->width);
	jw_kint(w, "height", as->height);
	size_list(w, as, true);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
}

/* A restricted asset's probe service (IIIF Auth 2.0: on the content
 * resource), as the caller wrote it; nothing for an open one. */
static void probe_service(struct jw *w, const struct mf_asset *as)
{
	if (as->probe_json)
		jw_raw(w, as->probe_json, as->probe_len);
}

/* The image services of a body, and in 3.0 a restricted asset's probe
 * service beside them (2.1 clients know no Auth 2.0 services). */
static void image_services(struct jw *w, const struct mf_urls *u, const struct mf_asset *as,
			   int version)
{
	if (version == 2) {
		jw_key(w, "service");
		service2(w, u->img2, IMG2_LEVEL2, as->width, as->height);
		jw_obj_end(w);
		return;
	}
	jw_key(w, "service");
	jw_arr(w);
	service2(w, u->img2, IMG2_LEVEL2, as->width, as->height);
	jw_obj_end(w);
	jw_obj(w);
	jw_kstr(w, "id", u->img);
	jw_kstr(w, "type", "ImageService3");
	jw_kstr(w, "profile", "level2");
	jw_kint(w, "width", as->width);
	jw_kint(w, "height", as->height);
	jw_obj_end(w);
	probe_service(w, as);
	jw_arr_end(w);
}

/* The painting body of an image: from /iiif-img with its services, or from
 * /thumbs (no service) when the asset has no iiif-img channel. */
static void image_body(struct jw *w, struct arena *a, const struct mf_urls *u,
		       const struct mf_asset *as, int version)
{
	struct box b = body_box(as);
	const char *base = as->iiif_img ? (version == 2 ? u->img2 : u->img)
					: (version == 2 ? u->thumbs2 : u->thumbs);
	jw_kstr(w, version == 2 ? "@id" : "id",
		arena_printf(a, "%s/full/%d,%d/0/default.jpg", base, b.w, b.h));
	jw_kstr(w, version == 2 ? "@type" : "type", version == 2 ? "dctypes:Image" : "Image");
	jw_kstr(w, "format", "image/jpeg");
	jw_kint(w, "width", b.w);
	jw_kint(w, "height", b.h);
	if (as->iiif_img) {
		image_services(w, u, as, version);
	} else if (version == 3 && as->probe_json) {
		jw_key(w, "service");
		jw_arr(w);
		probe_service(w, as);
		jw_arr_end(w);
	}
}

/* One transcode of audio or video (3.0 only), its own duration and size. */
static void av_item(struct jw *w, struct arena *a, const struct mf_asset *as,
		    const struct mf_doc *d, const struct av_output *o)
{
	bool video = o->preset->kind == AV_VIDEO;
	jw_obj(w);
	jw_kstr(w, "id",
		arena_printf(a, "%s/iiif-av/%s/%d/%s/%s", d->base, d->cpart, as->space, as->id,
			     o->preset->path));
	jw_kstr(w, "type", video ? "Video" : "Sound");
	jw_kstr(w, "format", o->preset->media_type);
	if (video) {
		jw_kint(w, "width", o->width ? o->width : as->width);
		jw_kint(w, "height", o->height ? o->height : as->height);
	}
	jw_key(w, "duration");
	jw_double(w, (double)(o->duration ? o->duration : as->duration) / 1000.0);
	if (as->probe_json) {
		jw_key(w, "service");
		jw_arr(w);
		probe_service(w, as);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

/* The painting body of audio or video: its transcode, or a Choice of them
 * in the policy's order when there are several. */
static void av_body(struct jw *w, struct arena *a, const struct mf_asset *as,
		    const struct mf_doc *d)
{
	if (as->n_av == 1) {
		av_item(w, a, as, d, &as->av_out[0]);
		return;
	}
	jw_obj(w);
	jw_kstr(w, "type", "Choice");
	jw_key(w, "items");
	jw_arr(w);
	for (size_t i = 0; i < as->n_av; i++)
		av_item(w, a, as, d, &as->av_out[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

/* The file channel's original, as a rendering of the canvas (3.0). */
static void rendering3(struct jw *w, struct arena *a, const struct mf_asset *as,
		       const struct mf_doc *d)
{
	const char *type = media_is(as->media_type, "image")   ? "Image"
			   : media_is(as->media_type, "audio") ? "Sound"
			   : media_is(as->media_type, "video") ? "Video"
			   : media_is(as->media_type, "text")  ? "Text"
							       : "Dataset";
	jw_key(w, "rendering");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/file/%s/%d/%s", d->base, d->cpart, as->space, as->id));
	jw_kstr(w, "type", type);
	jw_klang(w, "label", "none", arena_printf(a, "File %s/%d/%s", d->cpart, as->space, as->id));
	jw_kstr(w, "format", as->media_type);
	jw_obj_end(w);
	jw_arr_end(w);
}

static void canvas3(struct jw *w, struct arena *a, const struct mf_doc *d,
		    const struct mf_asset *as, const struct mf_urls *u)
{
	bool image = !as->av;
	jw_obj(w);
	jw_kstr(w, "id", u->canvas);
	jw_kstr(w, "type", "Canvas");
	jw_klang(w, "label", "en", arena_printf(a, "Canvas %s", u->n));
	if (image || av_is_video(as)) {
		jw_kint(w, "width", as->width);
		jw_kint(w, "height", as->height);
	}
	if (!image) {
		jw_key(w, "duration");
		jw_double(w, (double)as->duration / 1000.0);
	}
	canvas_metadata(w, a, 3, as);
	struct box t;
	if (as->thumbs && thumb_box(as, &t))
		thumbnail3(w, a, u, as, t);
	if (as->file)
		rendering3(w, a, as, d);
	jw_key(w, "items");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/page", u->canvas));
	jw_kstr(w, "type", "AnnotationPage");
	jw_key(w, "items");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "id", arena_printf(a, "%s/page/image", u->canvas));
	jw_kstr(w, "type", "Annotation");
	jw_kstr(w, "motivation", "painting");
	jw_kstr(w, "target", u->canvas);
	jw_key(w, "body");
	if (image) {
		jw_obj(w);
		image_body(w, a, u, as, 3);
		jw_obj_end(w);
	} else {
		av_body(w, a, as, d);
	}
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void canvas2(struct jw *w, struct arena *a, const struct mf_asset *as,
		    const struct mf_urls *u)
{
	jw_obj(w);
	jw_kstr(w, "@id", u->canvas);
	jw_kstr(w, "@type", "sc:Canvas");
	jw_kstr(w, "label", arena_printf(a, "Canvas %s", u->n));
	jw_kint(w, "width", as->width);
	jw_kint(w, "height", as->height);
	canvas_metadata(w, a, 2, as);
	struct box t;
	if (as->thumbs && thumb_box(as, &t)) {
		jw_key(w, "thumbnail");
		jw_obj(w);
		jw_kstr(w, "@id",
			arena_printf(a, "%s/full/%d,%d/0/default.jpg", u->thumbs2, t.w, t.h));
		jw_kstr(w, "@type", "dctypes:Image");
		jw_kstr(w, "format", "image/jpeg");
		jw_kint(w, "width", t.w);
		jw_kint(w, "height", t.h);
		jw_key(w, "service");
		service2(w, u->thumbs2, IMG2_LEVEL0, as->width, as->height);
		size_list(w, as, false);
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_key(w, "images");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "@id", arena_printf(a, "%s/imageanno/0", u->canvas));
	jw_kstr(w, "@type", "oa:Annotation");
	jw_kstr(w, "motivation", "sc:painting");
	jw_key(w, "resource");
	jw_obj(w);
	image_body(w, a, u, as, 2);
	jw_obj_end(w);
	jw_kstr(w, "on", u->canvas);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void urls_make(struct arena *a, const struct mf_doc *d, const struct mf_asset *as,
		      const char *n, struct mf_urls *u)
{
	u->img = arena_printf(a, "%s/iiif-img/%s/%d/%s", d->base, d->cpart, as->space, as->id);
	u->img2 = arena_printf(a, "%s/iiif-img/v2/%s/%d/%s", d->base, d->cpart, as->space, as->id);
	u->thumbs = arena_printf(a, "%s/thumbs/%s/%d/%s", d->base, d->cpart, as->space, as->id);
	u->thumbs2 = arena_printf(a, "%s/thumbs/v2/%s/%d/%s", d->base, d->cpart, as->space, as->id);
	u->canvas = arena_printf(a, "%s/canvas/c/%s", u->img, n);
	u->n = n;
}

/* The manifest's thumbnail: the first canvas's (3.0: the same object). */
static void manifest_thumbnail(struct jw *w, struct arena *a, const struct mf_doc *d,
			       const struct mf_asset *as)
{
	struct box t;
	if (!as || !as->thumbs || !thumb_box(as, &t))
		return;
	struct mf_urls u;
	urls_make(a, d, as, "1", &u);
	if (d->version == 3) {
		thumbnail3(w, a, &u, as, t);
	} else {
		jw_key(w, "thumbnail");
		jw_obj(w);
		jw_kstr(w, "@id",
			arena_printf(a, "%s/full/%d,%d/0/default.jpg", u.thumbs2, t.w, t.h));
		jw_kstr(w, "@type", "dctypes:Image");
		jw_obj_end(w);
	}
}

void manifest_write_head(struct jw *w, struct arena *a, const struct mf_doc *d,
			 const struct mf_asset *first)
{
	int v = d->version;
	jw_obj(w);
	if (v == 3 && d->auth) {
		/* IIIF Auth 2.0: its context before the Presentation one */
		jw_key(w, "@context");
		jw_arr(w);
		jw_str(w, AUTH2_CONTEXT);
		jw_str(w, P3_CONTEXT);
		jw_arr_end(w);
	} else {
		jw_kstr(w, "@context", v == 3 ? P3_CONTEXT : P2_CONTEXT);
	}
	jw_kstr(w, v == 3 ? "id" : "@id", d->id);
	jw_kstr(w, v == 3 ? "type" : "@type", v == 3 ? "Manifest" : "sc:Manifest");
	if (v == 3)
		jw_klang(w, "label", "en", d->label);
	else
		jw_kstr(w, "label", d->label);
	jw_key(w, "metadata");
	jw_arr(w);
	meta_pair(w, v, "en", "Title", "Created by DLCS");
	jw_arr_end(w);
	manifest_thumbnail(w, a, d, first);
	if (v == 3) {
		jw_key(w, "items");
		jw_arr(w);
	} else {
		jw_key(w, "sequences");
		jw_arr(w);
		jw_obj(w);
		jw_kstr(w, "@id",
			d->single ? arena_printf(a, "%s/sequence/0", d->id)
				  : arena_printf(a, "%s/iiif-query/sequence/0", d->base));
		jw_kstr(w, "@type", "sc:Sequence");
		jw_kstr(w, "label", "Sequence 0");
		jw_key(w, "canvases");
		jw_arr(w);
	}
}

void manifest_write_tail(struct jw *w, const struct mf_doc *d)
{
	jw_arr_end(w);
	if (d->version == 2) {
		jw_obj_end(w);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

void manifest_write_canvas(struct jw *w, struct arena *a, const struct mf_doc *d,
			   const struct mf_asset *as, const char *n)
{
	struct mf_urls u;
	urls_make(a, d, as, n, &u);
	if (d->version == 3)
		canvas3(w, a, d, as, &u);
	else
		canvas2(w, a, as, &u);
}

void manifest_write(struct jw *w, struct arena *a, const struct mf_doc *d)
{
	const struct mf_asset *first = NULL;
	for (size_t i = 0; i < d->n && !first; i++)
		if (mf_asset_in_version(&d->assets[i], d->version))
			first = &d->assets[i];
	manifest_write_head(w, a, d, first);
	int n = 0;
	for (size_t i = 0; i < d->n; i++) {
		const struct mf_asset *as = &d->assets[i];
		if (!mf_asset_in_version(as, d->version))
			continue;
		char num[16];
		xsnprintf(num, sizeof num, "%d", ++n);
		manifest_write_canvas(w, a, d, as, num);
	}
	manifest_write_tail(w, d);
}
