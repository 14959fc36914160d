/* The iiif-av channel's work on one item (ingest/transcode.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "files.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "str.h"
#include "asset/av_presets.h"
#include "asset/av_stored.h"
#include "asset/channel_rules.h"
#include "asset/settings.h"
#include "asset/store.h"
#include "asset/work.h"
#include "ingest/av_probe.h"
#include "ingest/child.h"
#include "ingest/derive.h"
#include "ingest/heartbeat.h"
#include "ingest/runner.h"
#include "ingest/transcode.h"
#include "banned.h"

/* The policy data of the customer's iiif-av policy of that name. */
static const char SQL_POLICY[] = "SELECT policy_data FROM delivery_channel_policies"
				 " WHERE customer_id = ? AND channel = 'iiif-av' AND name = ?";

/* ffprobe of the original: seconds at most. */
#define PROBE_TIMEOUT_MS 60000
/* How much of a program's stderr goes into the error. */
#define ERR_TAIL 300
/* Scratch files (probe output, stderr, the poster) under the work
 * directory, removed before it is installed. */
#define SCRATCH "scratch"

/* One item's transcode: what the watch over the children needs. */
struct tc {
	struct runner *rn;
	struct arena *a;
	const struct work_item *w;
	const char *work;
	const char *ffmpeg, *ffprobe;
	int timeout_ms, nice;
	struct arena *poll; /* the lease checks', reset each time */
	long long last_check_ms;
	enum transcode_end why; /* DONE while the children may go on */
	struct work_outcome *o;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* child_spec.keep_going: stop when the runner stops, the heartbeat found
 * the lease taken, or (asked every second) the item is gone: the asset was
 * deleted, or another runner holds it. */
static bool keep_going(void *ctx)
{
	struct tc *t = ctx;
	if (runner_stopping())
		t->why = TRANSCODE_RELEASE;
	else if (heartbeat_lost(t->rn->hb))
		t->why = TRANSCODE_DROP;
	else if (now_ms() - t->last_check_ms >= 1000) {
		t->last_check_ms = now_ms();
		arena_reset(t->poll);
		/* a database error is not a reason to stop: the heartbeat
		 * decides about the lease */
		if (work_held(t->rn->db, t->poll, t->w, t->rn->owner) == 0)
			t->why = TRANSCODE_DROP;
	}
	return t->why == TRANSCODE_DONE;
}

static enum transcode_end fail(struct tc *t, enum ingest_error kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum transcode_end fail(struct tc *t, enum ingest_error kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *detail = arena_vprintf(t->a, fmt, ap);
	va_end(ap);
	t->o->kind = kind;
	t->o->error = ingest_error_text(t->a, kind, arena_printf(t->a, "iiif-av: %s", detail));
	return TRANSCODE_FAILED;
}

/* A small file of the work directory (probe output, stderr) in the arena,
 * at most max bytes of its end; "" when absent. */
static const char *read_tail(struct arena *a, const char *path, size_t max, size_t *len)
{
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "";
	struct stat st;
	off_t from = fstat(fd, &st) == 0 && st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
	char *buf = arena_alloc(a, max + 1);
	ssize_t n;
	while ((n = pread(fd, buf + *len, max - *len, from + (off_t)*len)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			*len += (size_t)n;
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* Runs ffmpeg or ffprobe (argv[0]) in the work directory, stdout into
 * {scratch}/{name}.out, stderr into {scratch}/{name}.err. 0 when it ended
 * with status 0; else the item's end (FAILED with o's error naming `what`,
 * or the watch's RELEASE/DROP). */
static enum transcode_end run(struct tc *t, const char *what, const char *name, int timeout_ms,
			      const char *const *argv)
{
	struct child_spec s = {
		.path = strcmp(argv[0], "ffprobe") == 0 ? t->ffprobe : t->ffmpeg,
		.argv = argv,
		.cwd = t->work,
		.out_file = arena_printf(t->a, "%s/" SCRATCH "/%s.out", t->work, name),
		.err_file = arena_printf(t->a, "%s/" SCRATCH "/%s.err", t->work, name),
		.nice = t->nice,
		.timeout_ms = timeout_ms,
		.keep_going = keep_going,
		.ctx = t,
	};
	struct child_result r;
	child_run(&s, &r);
	log_info("item %lld: %s of %s: %lld ms, %lld ms of CPU", t->w->id, argv[0], what, r.ms,
		 r.cpu_ms);
	if (r.end == CHILD_STOPPED)
		return t->why;
	if (r.end == CHILD_NO_START)
		return fail(t, INGEST_ERROR_STORAGE, "%s: cannot run %s: %s", what, s.path,
			    strerror(r.status));
	if (r.end == CHILD_TIMEOUT)
		return fail(t, INGEST_ERROR_MEDIA, "%s: stopped after %d s (av_transcode_timeout)",
			    what, timeout_ms / 1000);
	if (r.status == 0)
		return TRANSCODE_DONE;
	size_t len;
	const char *err = read_tail(t->a, s.err_file, 4096, &len);
	const char *tail = av_stderr_tail(t->a, err, len, ERR_TAIL);
	if (r.status < 0)
		return fail(t, INGEST_ERROR_STORAGE, "%s: %s was killed by signal %d%s%s", what,
			    argv[0], -r.status, *tail ? ": " : "", tail);
	return fail(t, INGEST_ERROR_MEDIA, "%s: %s failed (exit %d)%s%s", what, argv[0], r.status,
		    *tail ? ": " : "", *tail ? tail : "");
}

/* The options before the input: quiet, and only local files through the
 * demuxers of AV_FORMATS. */
#define INPUT_OPTS "-protocol_whitelist", "file", "-format_whitelist", AV_FORMATS

/* ffprobe of `file` (relative to the work directory) into *p. */
static enum transcode_end probe(struct tc *t, const char *what, const char *name, const char *file,
				struct av_probe *p)
{
	const char *argv[] = {"ffprobe",
			      "-v",
			      "error",
			      INPUT_OPTS,
			      "-show_entries",
			      AV_PROBE_ENTRIES,
			      "-of",
			      "json",
			      arena_printf(t->a, "file:%s", file),
			      NULL};
	enum transcode_end e = run(t, what, name, PROBE_TIMEOUT_MS, argv);
	if (e != TRANSCODE_DONE)
		return e;
	size_t len;
	const char *out = read_tail(
		t->a, arena_printf(t->a, "%s/" SCRATCH "/%s.out", t->work, name), 1 << 20, &len);
	if (av_probe_parse(t->a, out, len, p) != 0)
		return fail(t, INGEST_ERROR_STORAGE, "%s: ffprobe's answer is not JSON", what);
	return TRANSCODE_DONE;
}

/* mkdir -p of the directories of `file` under the work directory. */
static int make_parents(struct tc *t, const char *file)
{
	char *p = arena_printf(t->a, "%s/%s", t->work, file);
	for (char *q = p + strlen(t->work) + 1; (q = strchr(q, '/')); q++) {
		*q = '\0';
		int rc = mkdir(p, 0755);
		*q = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* The poster frame's filters: square pixels, as it is displayed. */
#define POSTER_SCALE "scale='trunc(iw*sar/2)*2':ih,setsar=1"
#define POSTER_FILE  SCRATCH "/poster.png"

/* When the poster frame is taken: at a tenth of the length, 1 s when it is
 * unknown; "s.mmm". */
static const char *poster_at(struct tc *t, const struct av_probe *in)
{
	long long at = in->duration > 0 ? in->duration / 10 : 1000;
	return arena_printf(t->a, "%lld.%03lld", at / 1000, at % 1000);
}

/* One preset's output at av/{path}, measured from ffmpeg's progress report
 * and the input (no second ffprobe: each run of it costs about 0.2 s of
 * loading ffmpeg's libraries). with_poster: the same run also writes the
 * poster frame (POSTER_FILE) as a second output, from the frames it decodes
 * anyway. */
static enum transcode_end transcode_one(struct tc *t, const struct av_preset *pr,
					const struct av_probe *in, bool with_poster,
					struct av_output *out)
{
	if (pr->kind == AV_VIDEO && !in->video)
		return fail(t, INGEST_ERROR_MEDIA,
			    "%s: the preset needs a video stream, and the file has none", pr->name);
	if (pr->kind == AV_AUDIO && !in->audio)
		return fail(t, INGEST_ERROR_MEDIA,
			    "%s: the preset needs an audio stream, and the file has none",
			    pr->name);
	const char *file = arena_printf(t->a, AV_STORED_DIR "/%s", pr->path);
	if (make_parents(t, file) != 0)
		return fail(t, INGEST_ERROR_STORAGE, "%s: cannot create %s: %s", pr->name, file,
			    strerror(errno));
	const char *progress = arena_printf(t->a, SCRATCH "/%s.progress", pr->ext);
	size_t nargs = 0;
	while (pr->args[nargs])
		nargs++;
	const char **argv = arena_alloc(t->a, (nargs + 64) * sizeof *argv);
	size_t k = 0;
	/* the progress report's last block says how much was written; one
	 * block every 30 s is enough for that */
	const char *const head[] = {"ffmpeg",
				    "-nostdin",
				    "-hide_banner",
				    "-nostats",
				    "-loglevel",
				    "error",
				    "-y",
				    "-progress",
				    arena_printf(t->a, "file:%s", progress),
				    "-stats_period",
				    "30",
				    INPUT_OPTS,
				    "-i",
				    "file:original"};
	for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
		argv[k++] = head[i];
	for (size_t i = 0; i < nargs; i++)
		argv[k++] = pr->args[i];
	/* the delivered copy carries no metadata of the original's (a
	 * camera's position, an editor's notes) */
	static const char *const tail[] = {"-map_metadata", "-1", "-map_chapters", "-1"};
	for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
		argv[k++] = tail[i];
	argv[k++] = arena_printf(t->a, "file:%s", file);
	if (with_poster) {
		/* the first frame from poster_at on: the first trim drops the
		 * earlier ones before they are scaled, the second ends this
		 * output's filters after one (ffmpeg would otherwise go on
		 * converting every later frame for the PNG encoder, and drop it
		 * only then: seconds of CPU for a long video) */
		const char *const second[] = {
			"-map",
			"0:v:0",
			"-vf",
			arena_printf(t->a, "trim=start=%s,trim=end_frame=1," POSTER_SCALE,
				     poster_at(t, in)),
			"-frames:v",
			"1",
			"-c:v",
			"png",
			"-f",
			"image2",
			"-update",
			"1",
			"-map_metadata",
			"-1",
			"file:" POSTER_FILE};
		for (size_t i = 0; i < sizeof second / sizeof second[0]; i++)
			argv[k++] = second[i];
	}
	argv[k] = NULL;
	enum transcode_end e = run(t, pr->name, "transcode", t->timeout_ms, argv);
	if (e != TRANSCODE_DONE)
		return e;
	size_t len;
	const char *report =
		read_tail(t->a, arena_printf(t->a, "%s/%s", t->work, progress), 4096, &len);
	struct av_progress pg;
	if (av_progress_parse(report, len, &pg) != 0 || !pg.end || pg.out_ms <= 0)
		return fail(t, INGEST_ERROR_MEDIA, "%s: ffmpeg wrote nothing", pr->name);
	if (pr->kind == AV_VIDEO && pg.frames <= 0)
		return fail(t, INGEST_ERROR_MEDIA, "%s: ffmpeg wrote no video", pr->name);
	*out = (struct av_output){.preset = pr, .duration = pg.out_ms};
	if (pr->kind == AV_VIDEO)
		av_output_size(pr->lines, in, &out->width, &out->height);
	return TRANSCODE_DONE;
}

/* The poster frame's thumbnails, made as an image's. The frame is written
 * by the first video preset's run (tried: it ran); without one, or when
 * that found none (the video ends before poster_at), by runs of its own:
 * at poster_at unless tried, then the first frame. */
static enum transcode_end poster(struct tc *t, const struct av_probe *in, bool tried,
				 const struct derive_opts *opts)
{
	for (int attempt = tried; attempt < 2 && !store_file_exists(t->a, t->work, POSTER_FILE);
	     attempt++) {
		const char *argv[] = {"ffmpeg",
				      "-nostdin",
				      "-hide_banner",
				      "-nostats",
				      "-loglevel",
				      "error",
				      "-y",
				      "-ss",
				      attempt == 0 ? poster_at(t, in) : "0",
				      INPUT_OPTS,
				      "-i",
				      "file:original",
				      "-map",
				      "0:v:0",
				      "-frames:v",
				      "1",
				      "-vf",
				      POSTER_SCALE,
				      "-c:v",
				      "png",
				      "-f",
				      "image2",
				      "-update",
				      "1",
				      "file:" POSTER_FILE,
				      NULL};
		enum transcode_end e = run(t, "poster", "poster", t->timeout_ms, argv);
		if (e != TRANSCODE_DONE)
			return e;
	}
	if (!store_file_exists(t->a, t->work, POSTER_FILE))
		return fail(t, INGEST_ERROR_MEDIA, "poster: ffmpeg found no frame");
	struct derive_result dr;
	memset(&dr, 0, sizeof dr);
	if (derive_image(arena_printf(t->a, "%s/" POSTER_FILE, t->work), t->work, opts, &dr) != 0)
		return fail(t, dr.bad_input ? INGEST_ERROR_MEDIA : INGEST_ERROR_STORAGE,
			    "poster: %s", dr.error[0] ? dr.error : "cannot make its thumbnails");
	t->o->thumbnail_size = dr.thumbs_bytes;
	return TRANSCODE_DONE;
}

/* The preset names of the asset's iiif-av policy (its stored channels name
 * it) into names[0..*n). */
static enum transcode_end policy_presets(struct tc *t, const char *channels,
					 const struct av_preset **presets, size_t *n)
{
	*n = 0;
	const char *name = NULL;
	yajl_val v = json_parse(t->a, channels, strlen(channels), NULL);
	for (size_t i = 0; v && YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
		const char *ch = YAJL_GET_STRING(json_get(v->u.array.values[i], "channel"));
		if (ch && strcmp(ch, "iiif-av") == 0)
			name = YAJL_GET_STRING(json_get(v->u.array.values[i], "policy"));
	}
	if (!name)
		return fail(t, INGEST_ERROR_OTHER, "the asset names no iiif-av policy");
	struct db_rows *r = db_query(t->rn->db, t->a, SQL_POLICY, "is", t->w->customer, name);
	if (!r)
		return fail(t, INGEST_ERROR_STORAGE, "database unavailable reading policy '%s'",
			    name);
	const char *data = r->n ? db_str(r, 0, 0) : NULL;
	yajl_val list = data ? json_parse(t->a, data, strlen(data), NULL) : NULL;
	if (!list || av_policy_check(list))
		return fail(t, INGEST_ERROR_OTHER, "policy '%s' %s", name,
			    list ? "holds no usable list of presets" : "not found");
	for (size_t i = 0; i < list->u.array.len && *n < AV_MAX_OUTPUTS; i++)
		presets[(*n)++] = av_preset_find(list->u.array.values[i]->u.string);
	return TRANSCODE_DONE;
}

/* av.json, and the scratch files and (without the file channel) the
 * original gone. */
static enum transcode_end finish(struct tc *t, const struct av_stored *st, bool keep_original)
{
	const char *text = av_stored_text(t->a, st);
	const char *path = arena_printf(t->a, "%s/" AV_STORED_FILE, t->work);
	int fd = text ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
	size_t len = text ? strlen(text) : 0;
	bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (!ok)
		return fail(t, INGEST_ERROR_STORAGE, "cannot write %s: %s", AV_STORED_FILE,
			    strerror(errno));
	files_rm_rf(arena_printf(t->a, "%s/" SCRATCH, t->work));
	if (!keep_original)
		unlink(arena_printf(t->a, "%s/original", t->work));
	return TRANSCODE_DONE;
}

enum transcode_end transcode_asset(struct runner *rn, struct arena *a, const struct work_item *w,
				   const char *channels, const char *work,
				   const struct derive_opts *poster_opts, struct work_outcome *o)
{
	struct config *cfg = rn->cfg;
	struct tc t = {
		.rn = rn,
		.a = a,
		.w = w,
		.work = work,
		.ffmpeg = child_find(a, setting_str(cfg, S_AV_FFMPEG)),
		.ffprobe = child_find(a, setting_str(cfg, S_AV_FFPROBE)),
		.timeout_ms = (int)setting_int(cfg, S_AV_TRANSCODE_TIMEOUT) * 1000,
		.nice = (int)setting_int(cfg, S_AV_NICE),
		.last_check_ms = now_ms(),
		.why = TRANSCODE_DONE,
		.o = o,
	};
	if (!t.ffmpeg || !t.ffprobe)
		return fail(&t, INGEST_ERROR_STORAGE, "%s not found (av_ffmpeg, av_ffprobe)",
			    t.ffmpeg ? setting_str(cfg, S_AV_FFPROBE)
				     : setting_str(cfg, S_AV_FFMPEG));
	const struct av_preset *presets[AV_MAX_OUTPUTS];
	size_t n;
	enum transcode_end e = policy_presets(&t, channels, presets, &n);
	if (e != TRANSCODE_DONE)
		return e;
	if (mkdir(arena_printf(a, "%s/" SCRATCH, work), 0755) != 0)
		return fail(&t, INGEST_ERROR_STORAGE, "cannot create a scratch directory: %s",
			    strerror(errno));
	t.poll = arena_new(4096);
	struct av_probe in;
	struct av_stored st = {0};
	if ((e = probe(&t, "the original", "probe", "original", &in)) != TRANSCODE_DONE)
		goto out;
	if (!in.audio && !in.video) {
		e = fail(&t, INGEST_ERROR_MEDIA, "the file has no audio or video stream");
		goto out;
	}
	st = (struct av_stored){.duration = in.duration, .width = in.width, .height = in.height};
	bool want_poster = in.video && poster_opts, poster_tried = false;
	for (size_t i = 0; i < n; i++) {
		bool with_poster = want_poster && !poster_tried && presets[i]->kind == AV_VIDEO;
		poster_tried |= with_poster;
		e = transcode_one(&t, presets[i], &in, with_poster, &st.out[st.n++]);
		if (e != TRANSCODE_DONE)
			goto out;
	}
	for (size_t i = 0; !st.duration && i < st.n; i++)
		st.duration = st.out[i].duration > st.duration ? st.out[i].duration : st.duration;
	if (want_poster && (e = poster(&t, &in, poster_tried, poster_opts)) != TRANSCODE_DONE)
		goto out;
	if ((e = finish(&t, &st, channels_has(channels, "file"))) != TRANSCODE_DONE)
		goto out;
	o->width = in.video ? in.width : 0;
	o->height = in.video ? in.height : 0;
	o->duration = st.duration;
	log_info("item %lld: %zu output(s) of %lld ms (%s, %s%s%s)", w->id, st.n, st.duration,
		 in.format, in.video ? in.video_codec : "", in.video && in.audio ? "+" : "",
		 in.audio ? in.audio_codec : "");
out:
	arena_free(t.poll);
	return e;
}
