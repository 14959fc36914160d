/* What ffprobe says of a file (ingest/transcode.h runs it with
 * `-show_entries` of the fields below and `-of json`), and the readable
 * end of what ffmpeg wrote to its stderr. Pure: tests/unit/test_av.c. */
#ifndef DLCS_INGEST_AV_PROBE_H
#define DLCS_INGEST_AV_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* The -show_entries ffprobe is run with: what av_probe_parse reads. */
#define AV_PROBE_ENTRIES                                                                           \
	"stream=index,codec_type,codec_name,width,height,sample_aspect_ratio,duration:"            \
	"stream_disposition=attached_pic:format=format_name,duration"

struct av_probe {
	bool audio;         /* an audio stream */
	bool video;         /* a video stream that is not a still (cover art) */
	int width, height;  /* the first video stream's, as displayed (its sample
			     * aspect ratio applied to the width) */
	long long duration; /* ms: the container's, else the longest stream's; 0 unknown */
	const char *format, *video_codec, *audio_codec; /* "" when absent */
};

/* Parses ffprobe's JSON. 0, or -1 when it is not what ffprobe writes. */
int av_probe_parse(struct arena *a, const char *json, size_t len, struct av_probe *p);

/* The last lines of a program's stderr (text[0..len)) as one line of at
 * most `max` bytes: control characters become spaces, runs of blanks one,
 * and what does not fit is cut from the front. "" when there is none. */
const char *av_stderr_tail(struct arena *a, const char *text, size_t len, size_t max);

#endif
