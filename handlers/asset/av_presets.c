/* The iiif-av presets (asset/av_presets.h). The ffmpeg options follow the
 * reference's presets (dlcs-remaining.md 3.5): Protagonist's MediaConvert
 * "Generic_Hd_Mp4_H264_Aac_1280x720p_29Hz_CBR_2400kbs" and its kin, with
 * Debian 12's ffmpeg 5.1 (libx264, libmp3lame, libvpx, libopus, native AAC). */
#include <string.h>

#include "asset/av_presets.h"
#include "banned.h"

/* Video: at most `lines` lines (never upscaled, kept even for 4:2:0), the
 * width following the aspect ratio and even too. The table's `lines` says
 * the same (ingest/av_probe.h computes the output's size from it). The quotes belong to
 * ffmpeg's filter syntax (no shell is involved). */
#define SCALE(lines) "scale=-2:'min(" #lines ",trunc(ih/2)*2)'"

/* H.264 High + AAC in MP4, CBR-like at `rate`, 29.97 frames a second as the
 * reference's preset names say; the first video stream and the first audio
 * stream when there is one ("?": a silent video is fine). faststart puts
 * the index first, so that playback starts before the download ends. */
#define MP4_VIDEO(lines, rate, buf)                                                                \
	"-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-profile:v", "high", "-pix_fmt",    \
		"yuv420p", "-vf", SCALE(lines), "-r", "30000/1001", "-b:v", rate, "-maxrate",      \
		rate, "-bufsize", buf, "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000",  \
		"-movflags", "+faststart", "-f", "mp4", NULL

static const char *const video_mp4_720p[] = {MP4_VIDEO(720, "2400k", "4800k")};
static const char *const video_mp4_1080p[] = {MP4_VIDEO(1080, "5400k", "10800k")};
/* VP9 + Opus in WebM at the rates Google recommends for 720p. */
static const char *const video_webm_720p[] = {
	"-map",     "0:v:0", "-map",      "0:a:0?", "-c:v",      "libvpx-vp9", "-pix_fmt",
	"yuv420p",  "-vf",   SCALE(720),  "-b:v",   "1800k",     "-minrate",   "900k",
	"-maxrate", "2610k", "-deadline", "good",   "-cpu-used", "4",          "-row-mt",
	"1",        "-c:a",  "libopus",   "-b:a",   "128k",      "-ac",        "2",
	"-ar",      "48000", "-f",        "webm",   NULL,
};
/* MP3, CBR, 44.1 kHz stereo; the first audio stream, no cover art. */
#define MP3(rate)                                                                                  \
	"-map", "0:a:0", "-vn", "-c:a", "libmp3lame", "-b:a", rate, "-ar", "44100", "-ac", "2",    \
		"-f", "mp3", NULL
static const char *const audio_mp3_128[] = {MP3("128k")};
static const char *const audio_mp3_192[] = {MP3("192k")};
/* AAC in MP4 (.m4a): the preset Protagonist documents without configuring it. */
static const char *const audio_aac_192[] = {
	"-map",  "0:a:0", "-vn", "-c:a",      "aac",        "-b:a", "192k", "-ar",
	"48000", "-ac",   "2",   "-movflags", "+faststart", "-f",   "mp4",  NULL,
};

#define AUDIO_PATH(ext) "full/max/default." ext
#define VIDEO_PATH(ext) "full/full/max/max/0/default." ext

const struct av_preset av_presets[] = {
	{"audio-mp3-128", AV_AUDIO, "mp3", "audio/mpeg", AUDIO_PATH("mp3"), 0, audio_mp3_128},
	{"audio-mp3-192", AV_AUDIO, "mp3", "audio/mpeg", AUDIO_PATH("mp3"), 0, audio_mp3_192},
	{"audio-aac-192", AV_AUDIO, "m4a", "audio/mp4", AUDIO_PATH("m4a"), 0, audio_aac_192},
	{"video-mp4-720p", AV_VIDEO, "mp4", "video/mp4", VIDEO_PATH("mp4"), 720, video_mp4_720p},
	{"video-mp4-1080p", AV_VIDEO, "mp4", "video/mp4", VIDEO_PATH("mp4"), 1080, video_mp4_1080p},
	{"video-webm-720p", AV_VIDEO, "webm", "video/webm", VIDEO_PATH("webm"), 720,
	 video_webm_720p},
};
const size_t av_presets_count = sizeof av_presets / sizeof av_presets[0];

const struct av_preset *av_preset_find(const char *name)
{
	for (size_t i = 0; name && i < av_presets_count; i++)
		if (strcmp(name, av_presets[i].name) == 0)
			return &av_presets[i];
	return NULL;
}

const struct av_preset *av_preset_by_path(const char *path)
{
	for (size_t i = 0; path && i < av_presets_count; i++)
		if (strcmp(path, av_presets[i].path) == 0)
			return &av_presets[i];
	return NULL;
}

const char *av_policy_check(yajl_val data)
{
	if (!YAJL_IS_ARRAY(data))
		return "must be a JSON array of strings";
	size_t n = data->u.array.len;
	if (n == 0)
		return "must not be an empty array";
	for (size_t i = 0; i < n; i++) {
		const char *s = YAJL_GET_STRING(data->u.array.values[i]);
		if (!s)
			return "must be a JSON array of strings";
		const struct av_preset *p = av_preset_find(s);
		if (!p)
			return "holds an unknown iiif-av preset (known: " AV_PRESET_NAMES ")";
		for (size_t j = 0; j < i; j++) {
			/* checked in an earlier round: a known preset's name */
			const struct av_preset *q =
				av_preset_find(data->u.array.values[j]->u.string);
			if (q == p)
				return "holds a preset twice";
			if (strcmp(q->path, p->path) == 0)
				return "holds two presets with the same output file (one output "
				       "per extension: /full/.../default.mp3, .m4a, .mp4 or .webm)";
		}
	}
	return NULL;
}
