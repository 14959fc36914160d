/* Audio and video without ffmpeg: the presets and the policy check
 * (asset/av_presets.h), av.json (asset/av_stored.h), ffprobe's JSON,
 * ffmpeg's progress report and stderr and an output's size
 * (ingest/av_probe.h), the child runner's time limit, stop and exit status
 * (ingest/child.h) and the host's transcode slots (ingest/av_slot.h). */
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

	/* a phone's portrait video: turned a quarter, its sides swap */
	const char *turned =
		"{\"streams\":[{\"codec_type\":\"video\",\"width\":1280,\"height\":720,"
		"\"sample_aspect_ratio\":\"1:1\",\"side_data_list\":[{\"rotation\":-90}]}],"
		"\"format\":{\"duration\":\"1.0\"}}";
	CHECK(av_probe_parse(A, turned, strlen(turned), &p) == 0);
	CHECK(p.width == 720 && p.height == 1280 && p.filter_height == 1280);
	const char *upside =
		"{\"streams\":[{\"codec_type\":\"video\",\"width\":1280,\"height\":720,"
		"\"side_data_list\":[{\"side_data_type\":\"x\"},{\"rotation\":180}]}]}";
	CHECK(av_probe_parse(A, upside, strlen(upside), &p) == 0);
	CHECK(p.width == 1280 && p.height == 720 && p.filter_height == 720);

	const char *err = "line one\r\n\x1b[31mred\x1b[0m\tand\x01 more\n\n";
	CHECK_STR(av_stderr_tail(A, err, strlen(err), 100), "line one [31mred [0m and more");
	CHECK_STR(av_stderr_tail(A, "", 0, 10), "");
	const char *tail = av_stderr_tail(A, "0123456789abcdef", 16, 6);
	CHECK_STR(tail, "...abcdef");
	/* never cut inside a UTF-8 sequence */
	tail = av_stderr_tail(A, "x\xc3\xa9\xc3\xa9", 5, 3);
	CHECK_STR(tail, "...\xc3\xa9");
}

static void test_progress(void)
{
	struct av_progress pg;
	const char *two = "frame=100\nout_time_us=4000000\nprogress=continue\n"
			  "frame=300\nfps=52.9\nout_time_us=10026667\nout_time_ms=10026667\n"
			  "total_size=1101870\nprogress=end\n";
	CHECK(av_progress_parse(two, strlen(two), &pg) == 0);
	CHECK(pg.end && pg.out_ms == 10027 && pg.frames == 300);
	/* the tail of a long report starts mid-line; audio has no frames */
	const char *audio = "00\nprogress=continue\nout_time_us=20010862\nprogress=end\n";
	CHECK(av_progress_parse(audio, strlen(audio), &pg) == 0);
	CHECK(pg.end && pg.out_ms == 20011 && pg.frames == 0);
	/* a block cut short is not the last block */
	const char *cut = "out_time_us=1000\nprogress=continue\nout_time_us=2000\nprogr";
	CHECK(av_progress_parse(cut, strlen(cut), &pg) == 0 && !pg.end && pg.out_ms == 1);
	/* nothing written, or not a report */
	const char *none = "frame=0\nout_time_us=N/A\nprogress=end\n";
	CHECK(av_progress_parse(none, strlen(none), &pg) == -1);
	CHECK(av_progress_parse("", 0, &pg) == -1);
	const char *huge = "out_time_us=99999999999999999999999999999999999\nprogress=end\n";
	CHECK(av_progress_parse(huge, strlen(huge), &pg) == -1);
	const char *neg = "out_time_us=-5\nprogress=end\n";
	CHECK(av_progress_parse(neg, strlen(neg), &pg) == -1);

	/* the output's size, as ffmpeg's scale filter makes it */
	struct av_probe in = {.video = true, .width = 1280, .height = 720, .filter_height = 720};
	int w, h;
	av_output_size(720, &in, &w, &h);
	CHECK(w == 1280 && h == 720);
	av_output_size(1080, &in, &w, &h); /* never upscaled */
	CHECK(w == 1280 && h == 720);
	in = (struct av_probe){.video = true, .width = 3840, .height = 2160, .filter_height = 2160};
	av_output_size(720, &in, &w, &h);
	CHECK(w == 1280 && h == 720);
	/* odd heights are made even; 720x576 with 16:15 pixels shows as 768 */
	in = (struct av_probe){.video = true, .width = 768, .height = 577, .filter_height = 577};
	av_output_size(720, &in, &w, &h);
	CHECK(w == 767 && h == 576);
	/* a portrait phone video (measured with ffmpeg 5.1: 406x720, SAR 405:406) */
	in = (struct av_probe){.video = true, .width = 720, .height = 1280, .filter_height = 1280};
	av_output_size(720, &in, &w, &h);
	CHECK(w == 405 && h == 720);
	in = (struct av_probe){.audio = true};
	av_output_size(720, &in, &w, &h);
	CHECK(w == 0 && h == 0);
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
	test_progress();
	test_child();
	arena_free(A);
	return check_done();
}
