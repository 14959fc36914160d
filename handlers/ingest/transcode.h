/* The iiif-av channel's work on one item (CONTRACT section 12): from the
 * fetched original in the work directory, one output per preset of the
 * asset's iiif-av policy with Debian's ffmpeg (asset/av_presets.h), under
 * av/ at the preset's path; av.json saying what they are
 * (asset/av_stored.h); for a video with the thumbs channel, the
 * thumbnails of its poster frame (a frame at a tenth of its length) as an
 * image's are made (thumbs/, s.json). One ffprobe of the original; one
 * ffmpeg run per preset, the first video preset's also writing the poster
 * frame; each output's duration from that run's progress report, its size
 * from the original's and the preset's. The original stays only when the
 * asset also has the file channel. All of it in the work directory, which
 * the pipeline installs in one step like an image's derivatives.
 *
 * ffmpeg and ffprobe run as children (ingest/child.h): niced (av_nice),
 * each run limited to av_transcode_timeout, reading only the original
 * (only local files, only the demuxers of AV_FORMATS: no playlist or
 * concatenation that could reach other files or hosts) and writing only
 * into the work directory. While they run the item is watched: the runner
 * asked to stop (the item is released), the lease lost or the asset
 * deleted (checked every second: the transcode is cancelled). The lease
 * itself is kept alive by the heartbeat (ingest/heartbeat.h). */
#ifndef DLCS_INGEST_TRANSCODE_H
#define DLCS_INGEST_TRANSCODE_H

struct arena;
struct derive_opts;
struct runner;
struct work_item;
struct work_outcome;

/* The demuxers ffmpeg may read originals with (its -format_whitelist). */
#define AV_FORMATS                                                                                 \
	"mov,mp4,matroska,webm,avi,mpegts,mpeg,flv,asf,mxf,dv,ogg,mp3,wav,w64,flac,aac,ac3,eac3,"  \
	"aiff,caf,amr"

enum transcode_end {
	TRANSCODE_DONE,    /* the outputs are in the work directory, o filled */
	TRANSCODE_FAILED,  /* o->error and o->kind say why */
	TRANSCODE_RELEASE, /* the runner is stopping: give the item back */
	TRANSCODE_DROP,    /* the lease is lost or the asset deleted: record nothing */
};

/* Transcodes {work}/original for the asset c/s/id of item w, whose stored
 * channels are `channels`. poster: the thumbnail options of the thumbs
 * channel (NULL: no thumbs channel). Fills o->width, height (a video's, as
 * displayed), duration (ms) and thumbnail_size. */
enum transcode_end transcode_asset(struct runner *rn, struct arena *a, const struct work_item *w,
				   const char *channels, const char *work,
				   const struct derive_opts *poster, struct work_outcome *o);

#endif
