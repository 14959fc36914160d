/* ffprobe's JSON and ffmpeg's stderr (ingest/av_probe.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "ingest/av_probe.h"
#include "banned.h"

/* A duration as ffprobe writes it ("10.000000"; "N/A" when unknown) in ms;
 * 0 when absent or not a sane number. */
static long long duration_ms(yajl_val v)
{
	const char *s = YAJL_GET_STRING(v);
	if (!s || !*s)
		return 0;
	char *end;
	double d = strtod(s, &end);
	if (*end || !isfinite(d) || d <= 0 || d > 1e12)
		return 0;
	return llround(d * 1000.0);
}

static int side(yajl_val v)
{
	return v && json_is_int(v) && YAJL_GET_INTEGER(v) > 0 && YAJL_GET_INTEGER(v) <= 65536
		       ? (int)YAJL_GET_INTEGER(v)
		       : 0;
}

/* w as displayed: times the sample aspect ratio "n:d" when it is one. */
static int display_width(struct arena *a, int w, yajl_val sar)
{
	const char *s = YAJL_GET_STRING(sar);
	long long n, d;
	const char *colon = s ? strchr(s, ':') : NULL;
	if (!colon || !str_to_ll(arena_strndup(a, s, (size_t)(colon - s)), 1, 1000000, &n))
		return w;
	if (!str_to_ll(colon + 1, 1, 1000000, &d))
		return w;
	long long dw = ((long long)w * n + d / 2) / d;
	return dw > 0 && dw <= 65536 ? (int)dw : w;
}

static const char *str_or_empty(yajl_val v)
{
	const char *s = YAJL_GET_STRING(v);
	return s ? s : "";
}

int av_probe_parse(struct arena *a, const char *json, size_t len, struct av_probe *p)
{
	memset(p, 0, sizeof *p);
	p->format = p->video_codec = p->audio_codec = "";
	yajl_val root = json_parse(a, json, len, NULL);
	if (!root || !YAJL_IS_OBJECT(root))
		return -1;
	yajl_val streams = json_get(root, "streams"), format = json_get(root, "format");
	if (streams && !YAJL_IS_ARRAY(streams))
		return -1;
	long long longest = 0;
	for (size_t i = 0; streams && i < streams->u.array.len; i++) {
		yajl_val st = streams->u.array.values[i];
		const char *type = YAJL_GET_STRING(json_get(st, "codec_type"));
		yajl_val disp = json_get(st, "disposition");
		yajl_val still = disp ? json_get(disp, "attached_pic") : NULL;
		long long d = duration_ms(json_get(st, "duration"));
		if (type && strcmp(type, "audio") == 0) {
			if (!p->audio)
				p->audio_codec = str_or_empty(json_get(st, "codec_name"));
			p->audio = true;
		} else if (type && strcmp(type, "video") == 0 &&
			   !(still && json_is_int(still) && YAJL_GET_INTEGER(still) != 0)) {
			int w = side(json_get(st, "width")), h = side(json_get(st, "height"));
			if (!p->video && w && h) {
				p->video = true;
				p->video_codec = str_or_empty(json_get(st, "codec_name"));
				p->width = display_width(a, w, json_get(st, "sample_aspect_ratio"));
				p->height = h;
			}
		} else {
			continue;
		}
		if (d > longest)
			longest = d;
	}
	if (format && YAJL_IS_OBJECT(format)) {
		p->format = str_or_empty(json_get(format, "format_name"));
		p->duration = duration_ms(json_get(format, "duration"));
	}
	if (!p->duration)
		p->duration = longest;
	return 0;
}

const char *av_stderr_tail(struct arena *a, const char *text, size_t len, size_t max)
{
	char *out = arena_alloc(a, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = c;
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	if (n <= max)
		return out;
	/* keep the end, from a character boundary of UTF-8 */
	const char *p = out + n - max;
	while (*p && ((unsigned char)*p & 0xc0) == 0x80)
		p++;
	return arena_printf(a, "...%s", p);
}
