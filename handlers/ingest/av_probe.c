/* ffprobe's JSON, ffmpeg's progress report and stderr (ingest/av_probe.h). */
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

/* Whether the stream's display matrix turns it a quarter (ffprobe's
 * side_data_list: {"rotation": -90}): ffmpeg then turns the picture
 * upright before its filters, so its sides swap. */
static bool quarter_turn(yajl_val stream)
{
	yajl_val list = json_get(stream, "side_data_list");
	for (size_t i = 0; list && YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
		yajl_val r = json_get(list->u.array.values[i], "rotation");
		if (!r || !YAJL_IS_NUMBER(r) || !isfinite(YAJL_GET_DOUBLE(r)) ||
		    fabs(YAJL_GET_DOUBLE(r)) > 1e6)
			continue;
		long long deg = ((llround(YAJL_GET_DOUBLE(r)) % 360) + 360) % 360;
		return deg == 90 || deg == 270;
	}
	return false;
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
				int dw = display_width(a, w, json_get(st, "sample_aspect_ratio"));
				bool turned = quarter_turn(st);
				p->width = turned ? h : dw;
				p->height = turned ? dw : h;
				p->filter_height = turned ? w : h;
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

/* The value of `key=` on the line at line[0..len) into buf (a bounded
 * number or word: longer values are not ffmpeg's); false when the line
 * has another key. */
static bool line_value(const char *line, size_t len, const char *key, char buf[32])
{
	size_t k = strlen(key);
	if (len <= k || memcmp(line, key, k) != 0 || line[k] != '=')
		return false;
	size_t n = len - k - 1;
	if (n >= 32)
		n = 0;
	memcpy(buf, line + k + 1, n);
	buf[n] = '\0';
	return true;
}

int av_progress_parse(const char *text, size_t len, struct av_progress *p)
{
	*p = (struct av_progress){.out_ms = -1};
	/* each block ends with its progress= line; keep the last block's */
	long long out_us = -1, frames = 0, x;
	bool have_block = false;
	char v[32];
	for (size_t i = 0; i < len;) {
		const char *line = text + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i;
		if (line_value(line, n, "out_time_us", v))
			out_us = str_to_ll(v, 0, 1000000LL * 86400 * 366, &x) ? x : -1;
		else if (line_value(line, n, "frame", v))
			frames = str_to_ll(v, 0, 1LL << 40, &x) ? x : 0;
		else if (nl && line_value(line, n, "progress", v)) {
			p->end = strcmp(v, "end") == 0;
			p->out_ms = out_us >= 0 ? (out_us + 500) / 1000 : -1;
			p->frames = frames;
			have_block = true;
			out_us = -1;
			frames = 0;
		}
		i += n + 1;
	}
	return have_block && p->out_ms >= 0 ? 0 : -1;
}

void av_output_size(int lines, const struct av_probe *in, int *w, int *h)
{
	*w = *h = 0;
	if (!in->video || in->width <= 0 || in->height <= 0 || in->filter_height <= 0)
		return;
	int fh = in->filter_height / 2 * 2;
	*h = fh < lines ? fh : lines;
	*w = (int)(((long long)*h * in->width + in->height / 2) / in->height);
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
