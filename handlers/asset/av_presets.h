/* The transcoding presets of the iiif-av channel (CONTRACT section 12): one
 * table, read by the API (an iiif-av policy's policyData may name only
 * these: asset/channel_rules.h), by the runner (what ffmpeg is told for
 * each: ingest/transcode.h) and by delivery (where each output lives and
 * what media type it is sent as).
 *
 * An output's path is its public path under /iiif-av/{c}/{s}/{id}/ and, the
 * same, its file under the asset's av/ directory, as Protagonist stores its
 * transcodes (dlcs-remaining.md 3.3): audio full/max/default.{ext}, video
 * full/full/max/max/0/default.{ext}. So one output per extension: a policy
 * naming two presets of one extension is refused (Protagonist's issue 970,
 * where the second overwrote the first). */
#ifndef DLCS_ASSET_AV_PRESETS_H
#define DLCS_ASSET_AV_PRESETS_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

enum av_kind { AV_AUDIO, AV_VIDEO };

struct av_preset {
	const char *name;       /* "video-mp4-720p": <kind>-<format>-<quality> */
	enum av_kind kind;      /* audio presets need an audio stream, video ones a video stream */
	const char *ext;        /* "mp4" */
	const char *media_type; /* "video/mp4", the Content-Type it is delivered with */
	const char *path;       /* "full/full/max/max/0/default.mp4" */
	int lines;              /* a video preset's most lines (its scale filter's); 0 audio */
	/* ffmpeg's output options, between the input and the output file
	 * (NULL-terminated); ingest/transcode.c adds the rest */
	const char *const *args;
};

extern const struct av_preset av_presets[];
extern const size_t av_presets_count;

/* The names, comma-separated, for messages ("audio-mp3-128, ..."). */
#define AV_PRESET_NAMES                                                                            \
	"audio-mp3-128, audio-mp3-192, audio-aac-192, video-mp4-720p, video-mp4-1080p, "           \
	"video-webm-720p"

/* The preset of that name, NULL when none (NULL too). */
const struct av_preset *av_preset_find(const char *name);
/* The preset whose output is at `path` (an output path as above), NULL
 * when none. */
const struct av_preset *av_preset_by_path(const char *path);

/* Checks an iiif-av policy's policyData (already parsed): NULL when it is a
 * non-empty array of distinct preset names of which no two share an
 * extension; else why not (static text, after "'policyData' "). */
const char *av_policy_check(yajl_val data);

#endif
