/* What the transcodes of an audio or video asset are, as the runner wrote
 * them beside its outputs (ingest/transcode.h): {asset dir}/av.json
 *
 *   {"d":10000,"w":1280,"h":720,
 *    "o":[{"n":"video-mp4-720p","w":1280,"h":720,"d":10010}, ...]}
 *
 * d: milliseconds; w, h: pixels (0 for audio); "o": one entry per output,
 * in the policy's order, its file at av/{preset's path}
 * (asset/av_presets.h). The asset's own d, w and h are the original's (the
 * database's duration, width and height); each output's are its own:
 * its duration the end of what ffmpeg wrote as its progress report says
 * (for a silent video, the start of its last frame), its size what the
 * preset's scaling makes of the original's (ingest/av_probe.h). The public link of the iiif-av
 * channel (asset/publish.h) is made only once av.json is installed; the manifests read it for their
 * Sound and Video bodies. */
#ifndef DLCS_ASSET_AV_STORED_H
#define DLCS_ASSET_AV_STORED_H

#include <stddef.h>

struct arena;
struct av_preset;

#define AV_STORED_FILE "av.json"
#define AV_STORED_DIR  "av" /* the outputs, under the asset's directory */
#define AV_MAX_OUTPUTS 8

struct av_output {
	const struct av_preset *preset;
	int width, height;  /* 0 for audio */
	long long duration; /* ms */
};

struct av_stored {
	long long duration; /* ms, of the original */
	int width, height;  /* of the original's video, 0 for audio */
	struct av_output out[AV_MAX_OUTPUTS];
	size_t n;
};

/* av.json's text for st (arena memory), NULL when it cannot be written. */
const char *av_stored_text(struct arena *a, const struct av_stored *st);
/* Parses av.json's text into *st. Outputs of presets this version does not
 * know are left out. 0, or -1 when malformed (st then has no outputs). */
int av_stored_parse(struct arena *a, const char *text, size_t len, struct av_stored *st);
/* Reads {dir}/av.json: 0, or -1 when it is absent or malformed. */
int av_stored_load(struct arena *a, const char *dir, struct av_stored *st);

#endif
