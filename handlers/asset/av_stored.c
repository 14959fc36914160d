/* av.json, what an asset's transcodes are (asset/av_stored.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "json.h"
#include "asset/av_presets.h"
#include "asset/av_stored.h"
#include "banned.h"

/* Far above what the runner writes (a few hundred bytes). */
#define AV_STORED_MAX 16384

const char *av_stored_text(struct arena *a, const struct av_stored *st)
{
	struct jw *w = jw_new(a);
	jw_obj(w);
	jw_kint(w, "d", st->duration);
	jw_kint(w, "w", st->width);
	jw_kint(w, "h", st->height);
	jw_key(w, "o");
	jw_arr(w);
	for (size_t i = 0; i < st->n; i++) {
		jw_obj(w);
		jw_kstr(w, "n", st->out[i].preset->name);
		jw_kint(w, "w", st->out[i].width);
		jw_kint(w, "h", st->out[i].height);
		jw_kint(w, "d", st->out[i].duration);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	size_t len;
	return jw_text(w, &len);
}

/* A member that must be a whole number 0..max; false when it is not. */
static bool get_num(yajl_val obj, const char *key, long long max, long long *out)
{
	yajl_val v = json_get(obj, key);
	if (!v || !json_is_int(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > max)
		return false;
	*out = YAJL_GET_INTEGER(v);
	return true;
}

#define MAX_SIDE (1 << 20)
#define MAX_MS   (1LL << 50)

int av_stored_parse(struct arena *a, const char *text, size_t len, struct av_stored *st)
{
	memset(st, 0, sizeof *st);
	yajl_val v = json_parse(a, text, len, NULL), o = v ? json_get(v, "o") : NULL;
	long long d, w, h;
	if (!v || !YAJL_IS_OBJECT(v) || !o || !YAJL_IS_ARRAY(o) || !get_num(v, "d", MAX_MS, &d) ||
	    !get_num(v, "w", MAX_SIDE, &w) || !get_num(v, "h", MAX_SIDE, &h))
		return -1;
	struct av_stored got = {.duration = d, .width = (int)w, .height = (int)h};
	for (size_t i = 0; i < o->u.array.len; i++) {
		yajl_val e = o->u.array.values[i];
		const struct av_preset *p = av_preset_find(YAJL_GET_STRING(json_get(e, "n")));
		if (!get_num(e, "w", MAX_SIDE, &w) || !get_num(e, "h", MAX_SIDE, &h) ||
		    !get_num(e, "d", MAX_MS, &d))
			return -1;
		if (!p || got.n == AV_MAX_OUTPUTS)
			continue;
		got.out[got.n++] = (struct av_output){p, (int)w, (int)h, d};
	}
	*st = got;
	return 0;
}

int av_stored_load(struct arena *a, const char *dir, struct av_stored *st)
{
	memset(st, 0, sizeof *st);
	int fd = open(arena_printf(a, "%s/" AV_STORED_FILE, dir), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char *buf = arena_alloc(a, AV_STORED_MAX + 1);
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, AV_STORED_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == AV_STORED_MAX)
			break;
	}
	close(fd);
	if (got == AV_STORED_MAX)
		return -1;
	buf[got] = '\0';
	return av_stored_parse(a, buf, got, st);
}
