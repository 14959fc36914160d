/* The platform's settings: every key of the configuration file that the
 * framework does not read itself (those are fcgi/config.h's), one row each
 * in settings.c with its type, its one default and its documentation. The
 * programs hand dlcs_settings to supervise_program (or config_load), so
 * each of them checks the whole file at start, and read a value with
 * setting_str/setting_int(cfg, S_...). */
#ifndef DLCS_ASSET_SETTINGS_H
#define DLCS_ASSET_SETTINGS_H

#include "config.h"

enum {
	/* dlcs-api */
	S_API_KEY_SALT = S_CORE__MAX,
	S_AUTH_CACHE_SECONDS,
	S_AUTH_REVOCATION_FILE,
	S_SYNC_INGEST_TIMEOUT_SECONDS,
	S_QUEUE_MAX_BATCH,
	S_UPLOAD_MAX_BYTES,
	S_NAMED_QUERY_MAX_ASSETS,
	S_PROJECTION_RETRY_AFTER,
	S_PROJECTION_ERROR_RETRY_SECONDS,
	S_MANIFEST_STORE_MAX_BYTES,
	/* dlcs-runner */
	S_RUNNER_LEASE_SECONDS,
	S_RUNNER_MAX_ATTEMPTS,
	S_RUNNER_POLL_MS,
	S_RUNNER_THREADS,
	S_ORIGIN_CONNECT_TIMEOUT,
	S_ORIGIN_TIMEOUT,
	S_ORIGIN_LOW_SPEED_LIMIT,
	S_ORIGIN_LOW_SPEED_TIME,
	S_ORIGIN_MAX_REDIRECTS,
	S_ORIGIN_MAX_BYTES,
	S_ORIGIN_FILE_DIRS,
	S_ORIGIN_USER_AGENT,
	S_ORIGIN_ALLOW_NETWORKS,
	S_MAX_IMAGE_PIXELS,
	S_JPEG_QUALITY,
	/* audio and video (dlcs-runner) */
	S_AV_MAX_TRANSCODES,
	S_AV_TRANSCODE_TIMEOUT,
	S_AV_NICE,
	S_AV_FFMPEG,
	S_AV_FFPROBE,
	/* GraphicsMagick (dlcs-runner, dlcs-image) */
	S_IMAGE_MEMORY_LIMIT,
	/* delivery (dlcs-image), and the size aliases the runner and
	 * dlcs-admin publish-assets make for it */
	S_IMAGE_MAX_AREA,
	S_IMAGE_JPEG_QUALITY,
	S_IMAGE_CACHE_BYTES,
	S_NGINX_STORAGE_LOCATION,
	/* the custom-headers include of nginx */
	S_NGINX_CUSTOM_HEADERS,
	S_NGINX_PID_FILE,
	S_NGINX_TEST_COMMAND,
	S_NGINX_RELOAD_COMMAND,
	S__MAX
};

extern const struct settings_table dlcs_settings;

#endif
