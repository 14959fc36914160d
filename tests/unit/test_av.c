/* Audio and video without ffmpeg: the presets and the policy check
 * (asset/av_presets.h), av.json (asset/av_stored.h), ffprobe's JSON and
 * ffmpeg's stderr (ingest/av_probe.h), the child runner's time limit, stop
 * and exit status (ingest/child.h) and the host's transcode slots
 * (ingest/av_slot.h). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "json.h"
#include "asset/av_presets.h"
#include "asset/av_stored.h"
#include "ingest/av_probe.h"
#include "ingest/av_slot.h"
#include "ingest/child.h"
#include "check.h"

static struct arena *A;

static const char *policy(const char *json)
{
	yajl_val v = json_parse(A, json, strlen(json), NULL);
	CHECK(v != NULL);
	return v ? av_policy_check(v) : "unparsed";
}

static void test_presets(void)
{
	CHECK(av_presets_count == 6);
	const struct av_preset *p = av_preset_find("video-mp4-720p");
	CHECK(p && p->kind == AV_VIDEO && strcmp(p->media_type, "video/mp4") == 0);
	CHECK_STR(p ? p->path : NULL, "full/full/max/max/0/default.mp4");
	p = av_preset_find("audio-mp3-128");
	CHECK(p && p->kind == AV_AUDIO);
	CHECK_STR(p ? p->path : NULL, "full/max/default.mp3");
	CHECK(av_preset_find("Video-mp4-720p") == NULL && av_preset_find(NULL) == NULL);
	CHECK(av_preset_by_path("full/full/max/max/0/default.webm") ==
	      av_preset_find("video-webm-720p"));
	CHECK(av_preset_by_path("full/max/default.m4a") == av_preset_find("audio-aac-192"));
	CHECK(av_preset_by_path("full/max/../default.mp3") == NULL);
	CHECK(av_preset_by_path("av.json") == NULL);
	/* each name is in the message's list, and no two names or args alike */
	for (size_t i = 0; i < av_presets_count; i++) {
		CHECK(strstr(AV_PRESET_NAMES, av_presets[i].name) != NULL);
		CHECK(av_presets[i].args[0] != NULL);
	}

	CHECK(policy("[\"audio-mp3-128\"]") == NULL);
	CHECK(policy("[\"video-mp4-720p\", \"video-webm-720p\", \"audio-aac-192\"]") == NULL);
	CHECK(strstr(policy("[]"), "empty") != NULL);
	CHECK(strstr(policy("[\"video-mp4-480p\"]"), "unknown") != NULL);
	CHECK(strstr(policy("[\"audio-mp3-128\", \"audio-mp3-128\"]"), "twice") != NULL);
	CHECK(strstr(policy("[\"video-mp4-720p\", \"video-mp4-1080p\"]"), "same output") != NULL);
	CHECK(strstr(policy("[\"audio-mp3-128\", \"audio-mp3-192\"]"), "same output") != NULL);
	CHECK(strstr(policy("[5]"), "array of strings") != NULL);
	CHECK(strstr(policy("{\"a\": 1}"), "array of strings") != NULL);
	CHECK(strstr(policy("\"audio-mp3-128\""), "array of strings") != NULL);
}

static void test_stored(void)
{
	struct av_stored st = {.duration = 10000, .width = 1280, .height = 720, .n = 2};
	st.out[0] = (struct av_output){av_preset_find("video-mp4-720p"), 1280, 720, 10010};
	st.out[1] = (struct av_output){av_preset_find("video-webm-720p"), 1280, 720, 10000};
	const char *text = av_stored_text(A, &st);
	CHECK(text != NULL);
	struct av_stored got;
	CHECK(av_stored_parse(A, text, strlen(text), &got) == 0);
	CHECK(got.duration == 10000 && got.width == 1280 && got.height == 720 && got.n == 2);
	CHECK(got.out[0].preset == st.out[0].preset && got.out[0].duration == 10010);
	CHECK(got.out[1].preset == st.out[1].preset);
	/* an unknown preset is left out; a malformed file has no outputs */
	const char *other = "{\"d\":5,\"w\":0,\"h\":0,\"o\":[{\"n\":\"audio-flac\",\"w\":0,\"h\":0,"
			    "\"d\":5},{\"n\":\"audio-mp3-128\",\"w\":0,\"h\":0,\"d\":5}]}";
	CHECK(av_stored_parse(A, other, strlen(other), &got) == 0 && got.n == 1);
	static const char *const bad[] = {
		"",
		"[]",
		"{\"d\":-1,\"w\":0,\"h\":0,\"o\":[]}",
		"{\"d\":1,\"w\":0,\"h\":0}",
		"{\"d\":1,\"w\":0,\"h\":0,\"o\":[{\"n\":\"audio-mp3-128\"}]}",
		"{\"d\":1.5,\"w\":0,\"h\":0,\"o\":[]}",
		"{\"d\":1,\"w\":99999999,\"h\":0,\"o\":[]}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(av_stored_parse(A, bad[i], strlen(bad[i]), &got) == -1);
		CHECK(got.n == 0);
	}
	CHECK(av_stored_load(A, "/nonexistent", &got) == -1);
}

static void test_probe(void)
{
	const char *clip =
		"{\"programs\":[],\"streams\":[{\"index\":0,\"codec_name\":\"h264\",\"codec_type\":"
		"\"video\",\"width\":720,\"height\":576,\"sample_aspect_ratio\":\"16:15\","
		"\"duration\":\"10.000000\",\"disposition\":{\"attached_pic\":0}},{\"index\":1,"
		"\"codec_name\":\"aac\",\"codec_type\":\"audio\",\"duration\":\"10.023220\","
		"\"disposition\":{\"attached_pic\":0}}],\"format\":{\"format_name\":\"mov,mp4,m4a,"
		"3gp,"
		"3g2,mj2\",\"duration\":\"10.023220\"}}";
	struct av_probe p;
	CHECK(av_probe_parse(A, clip, strlen(clip), &p) == 0);
	CHECK(p.video && p.audio && p.width == 768 && p.height == 576 && p.duration == 10023);
	CHECK_STR(p.video_codec, "h264");
	CHECK_STR(p.audio_codec, "aac");
	/* an mp3 with cover art: the picture is no video */
	const char *song = "{\"streams\":[{\"codec_type\":\"audio\",\"codec_name\":\"mp3\"},"
			   "{\"codec_type\":\"video\",\"codec_name\":\"mjpeg\",\"width\":500,"
			   "\"height\":500,\"disposition\":{\"attached_pic\":1}}],"
			   "\"format\":{\"duration\":\"N/A\"}}";
	CHECK(av_probe_parse(A, song, strlen(song), &p) == 0);
	CHECK(p.audio && !p.video && p.width == 0 && p.duration == 0);
	/* a text file: nothing */
	const char *none = "{}";
	CHECK(av_probe_parse(A, none, strlen(none), &p) == 0 && !p.audio && !p.video);
	CHECK(av_probe_parse(A, "not json", 8, &p) == -1);
	CHECK(av_probe_parse(A, "{\"streams\":5}", 13, &p) == -1);
	/* nonsense numbers are unknown, not trusted */
	const char *odd = "{\"streams\":[{\"codec_type\":\"video\",\"width\":-5,\"height\":10}],"
			  "\"format\":{\"duration\":\"inf\"}}";
	CHECK(av_probe_parse(A, odd, strlen(odd), &p) == 0 && !p.video && p.duration == 0);

	const char *err = "line one\r\n\x1b[31mred\x1b[0m\tand\x01 more\n\n";
	CHECK_STR(av_stderr_tail(A, err, strlen(err), 100), "line one [31mred [0m and more");
	CHECK_STR(av_stderr_tail(A, "", 0, 10), "");
	const char *tail = av_stderr_tail(A, "0123456789abcdef", 16, 6);
	CHECK_STR(tail, "...abcdef");
	/* never cut inside a UTF-8 sequence */
	tail = av_stderr_tail(A, "x\xc3\xa9\xc3\xa9", 5, 3);
	CHECK_STR(tail, "...\xc3\xa9");
}

static bool never(void *ctx)
{
	int *n = ctx;
	return ++*n < 3;
}

static void test_child(void)
{
	char dir[] = "/tmp/test_av.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	const char *out = arena_printf(A, "%s/out", dir), *err = arena_printf(A, "%s/err", dir);
	const char *sh = child_find(A, "sh");
	CHECK(sh != NULL && sh[0] == '/');
	CHECK(child_find(A, "no-such-program-here") == NULL);
	CHECK(child_find(A, "/nonexistent/ffmpeg") == NULL);

	struct child_result r;
	const char *const ok[] = {"sh", "-c", "pwd; echo oops >&2; exit 3", NULL};
	struct child_spec s = {.path = sh,
			       .argv = ok,
			       .cwd = dir,
			       .out_file = out,
			       .err_file = err,
			       .nice = 5,
			       .timeout_ms = 10000};
	child_run(&s, &r);
	CHECK(r.end == CHILD_EXITED && r.status == 3);
	char buf[256] = {0};
	int fd = open(out, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0);
	close(fd);
	CHECK(strncmp(buf, dir, strlen(dir)) == 0);
	fd = open(err, O_RDONLY);
	memset(buf, 0, sizeof buf);
	CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) == 5 && strcmp(buf, "oops\n") == 0);
	close(fd);

	/* its CPU time is measured */
	const char *const busy[] = {"sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done",
				    NULL};
	s.argv = busy;
	child_run(&s, &r);
	CHECK(r.end == CHILD_EXITED && r.status == 0 && r.cpu_ms > 0 && r.cpu_ms <= r.ms + 50);

	/* the time limit, and a stop asked for: killed, reaped, in time */
	const char *const slow[] = {"sh", "-c", "sleep 30", NULL};
	s.argv = slow;
	s.timeout_ms = 300;
	child_run(&s, &r);
	CHECK(r.end == CHILD_TIMEOUT && r.status == -SIGKILL && r.ms < 5000);
	int asked = 0;
	s.timeout_ms = 30000;
	s.keep_going = never;
	s.ctx = &asked;
	child_run(&s, &r);
	CHECK(r.end == CHILD_STOPPED && asked == 3 && r.ms < 5000);

	/* a program that cannot run */
	s.path = "/nonexistent";
	s.keep_going = NULL;
	child_run(&s, &r);
	CHECK(r.end == CHILD_NO_START && r.status != 0);

	/* no descriptor of ours beyond 0-2 reaches the child */
	int mine = open("/dev/null", O_RDONLY);
	const char *const fds[] = {"sh", "-c", "ls /proc/self/fd | wc -l", NULL};
	s.path = sh;
	s.argv = fds;
	child_run(&s, &r);
	fd = open(out, O_RDONLY);
	memset(buf, 0, sizeof buf);
	CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0);
	close(fd);
	CHECK(atoi(buf) == 4); /* 0, 1, 2 and ls's own directory */
	close(mine);

	/* slots: n of them per host, given back on close */
	int a = av_slot_take(A, dir, "host/one", 2), b = av_slot_take(A, dir, "host/one", 2);
	CHECK(a >= 0 && b >= 0 && av_slot_take(A, dir, "host/one", 2) == -1);
	int other = av_slot_take(A, dir, "host-two", 1);
	CHECK(other >= 0);
	av_slot_give(a);
	a = av_slot_take(A, dir, "host/one", 2);
	CHECK(a >= 0);
	CHECK(av_slot_take(A, dir, "host/one", 0) == -1);
	av_slot_give(a);
	av_slot_give(b);
	av_slot_give(other);
	av_slot_give(-1);

	CHECK(system(arena_printf(A, "rm -rf '%s'", dir)) == 0);
}

int main(void)
{
	A = arena_new(1 << 16);
	test_presets();
	test_stored();
	test_probe();
	test_child();
	arena_free(A);
	return check_done();
}
