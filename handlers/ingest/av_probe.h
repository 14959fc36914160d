/* What ffprobe says of a file (ingest/transcode.h runs it with
 * `-show_entries` of the fields below and `-of json`), what ffmpeg's
 * `-progress` report says of the output it wrote, the size of a video
 * preset's output, and the readable end of what ffmpeg wrote to its
 * stderr. Pure: tests/unit/test_av.c. */
#ifndef DLCS_INGEST_AV_PROBE_H
#define DLCS_INGEST_AV_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* The -show_entries ffprobe is run with: what av_probe_parse reads. */
#define AV_PROBE_ENTRIES                                                                           \
	"stream=index,codec_type,codec_name,width,height,sample_aspect_ratio,duration:"            \
	"stream_disposition=attached_pic:stream_side_data=rotation:format=format_name,duration"

struct av_probe {
	bool audio;         /* an audio stream */
	bool video;         /* a video stream that is not a still (cover art) */
	int width, height;  /* the first video stream's, as displayed (its sample
			     * aspect ratio applied to the width; a quarter turn
			     * of its display matrix swaps them) */
	int filter_height;  /* the height ffmpeg's filters see: the coded height,
			     * the coded width when turned a quarter */
	long long duration; /* ms: the container's, else the longest stream's; 0 unknown */
	const char *format, *video_codec, *audio_codec; /* "" when absent */
};

/* Parses ffprobe's JSON. 0, or -1 when it is not what ffprobe writes. */
int av_probe_parse(struct arena *a, const char *json, size_t len, struct av_probe *p);

/* The end of ffmpeg's `-progress` report: the last block's out_time_us and
 * frame (the first video output's frames; 0 without one), and whether it
 * is the last block (progress=end). */
struct av_progress {
	long long out_ms; /* the end of what was written, ms; -1 unknown */
	long long frames;
	bool end;
};

/* Parses the end of a progress report (text[0..len), which may begin in
 * the middle of a line). 0 when it holds a last block with a time; else
 * -1. */
int av_progress_parse(const char *text, size_t len, struct av_progress *p);

/* The size, as displayed, of a video preset's output (at most `lines`
 * lines: asset/av_presets.h) from the input's: what ffmpeg's scale filter
 * `-2:min(lines,trunc(ih/2)*2)` makes, the width following the input's
 * display aspect ratio. */
void av_output_size(int lines, const struct av_probe *in, int *w, int *h);

/* The last lines of a program's stderr (text[0..len)) as one line of at
 * most `max` bytes: control characters become spaces, runs of blanks one,
 * and what does not fit is cut from the front. "" when there is none. */
const char *av_stderr_tail(struct arena *a, const char *text, size_t len, size_t max);

#endif
