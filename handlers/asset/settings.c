/* The platform's settings (asset/settings.h). Where two programs used to
 * read one key with two defaults, the one kept is said at its row. */
#include "asset/settings.h"
#include "banned.h"

#define ROW(i)  [(i)-S_CORE__MAX]
#define MiB     (1LL << 20)
#define GiB     (1LL << 30)
#define TiB     (1LL << 40)
#define SECONDS 86400 /* a day: the most any timeout here may be */

static const struct setting rows[S__MAX - S_CORE__MAX] = {
	ROW(S_API_KEY_SALT) = {"api_key_salt", SETTING_STRING, "dlcs", 0, 0, SETTING_SECRET,
			       "mixed into stored key hashes; changing it invalidates every key "
			       "(.stack/up writes a random one)"},
	ROW(S_AUTH_CACHE_SECONDS) = {"auth_cache_seconds", SETTING_INT, "60", 0, SECONDS, 0,
				     "how long a worker trusts a verified key (0: not at all)"},
	ROW(S_AUTH_REVOCATION_FILE) = {"auth_revocation_file", SETTING_PATH,
				       "{storage_root}/.auth-revocations", 0, 0, 0,
				       "deleting a key touches it, which empties every worker's "
				       "key cache"},
	ROW(S_SYNC_INGEST_TIMEOUT_SECONDS) = {"sync_ingest_timeout_seconds", SETTING_INT, "120", 0,
					      SECONDS, 0,
					      "how long a PUT waits for its ingest (then 202, "
					      "still ingesting)"},
	ROW(S_QUEUE_MAX_BATCH) = {"queue_max_batch", SETTING_INT, "1000", 1, 1000000, 0,
				  "most assets in one batch"},
	ROW(S_UPLOAD_MAX_BYTES) = {"upload_max_bytes", SETTING_BYTES, "10MiB", 1, GiB, 0,
				   "largest direct upload (an asset's \"file\" bytes, decoded); "
				   "max_body_bytes and nginx's client_max_body_size must allow "
				   "its base64 (4/3 of it)"},
	ROW(S_NAMED_QUERY_MAX_ASSETS) = {"named_query_max_assets", SETTING_INT, "10000", 1, 1000000,
					 0,
					 "most assets one manifest, raw-resource or projection "
					 "of a named query lists"},
	ROW(S_PROJECTION_RETRY_AFTER) = {"projection_retry_after", SETTING_INT, "5", 1, 3600, 0,
					 "the Retry-After of a PDF or ZIP projection being made, "
					 "in seconds"},
	ROW(S_PROJECTION_ERROR_RETRY_SECONDS) =
		{"projection_error_retry_seconds", SETTING_INT, "300", 0, SECONDS, 0,
		 "a projection that could not be made answers its "
		 "error for this long after the request that queued "
		 "it; the next request queues it again"},
	ROW(S_MANIFEST_STORE_MAX_BYTES) = {"manifest_store_max_bytes", SETTING_BYTES, "1GiB", 0,
					   TiB, 0,
					   "the named-query manifests stored for nginx to send "
					   "(under storage_root/manifests) are kept within this "
					   "by the runners, least recently used out first "
					   "(0: none kept longer than two minutes)"},

	ROW(S_RUNNER_LEASE_SECONDS) = {"runner_lease_seconds", SETTING_INT, "120", 3, SECONDS, 0,
				       "a runner's claim on an item, renewed every third of it; "
				       "a dead runner's item is claimed again after it"},
	ROW(S_RUNNER_MAX_ATTEMPTS) = {"runner_max_attempts", SETTING_INT, "3", 1, 1000, 0,
				      "claims of an item before it is given up"},
	ROW(S_RUNNER_POLL_MS) = {"runner_poll_ms", SETTING_INT, "200", 10, 60000, 0,
				 "how often an idle runner looks for work, in ms"},
	ROW(S_RUNNER_THREADS) = {"runner_threads", SETTING_INT, "2", 1, 256, 0,
				 "threads making one item's derivatives"},
	ROW(S_ORIGIN_CONNECT_TIMEOUT) = {"origin_connect_timeout", SETTING_INT, "10", 1, 3600, 0,
					 "seconds to connect to an origin"},
	ROW(S_ORIGIN_TIMEOUT) = {"origin_timeout", SETTING_INT, "120", 1, SECONDS, 0,
				 "seconds for a whole origin fetch"},
	ROW(S_ORIGIN_LOW_SPEED_LIMIT) = {"origin_low_speed_limit", SETTING_INT, "1024", 0, GiB, 0,
					 "bytes per second under which a fetch is slow (0: no "
					 "such limit)"},
	ROW(S_ORIGIN_LOW_SPEED_TIME) = {"origin_low_speed_time", SETTING_INT, "30", 1, SECONDS, 0,
					"seconds a fetch may stay slow before it is dropped"},
	ROW(S_ORIGIN_MAX_REDIRECTS) = {"origin_max_redirects", SETTING_INT, "5", 0, 50, 0,
				       "redirects an origin fetch follows"},
	ROW(S_ORIGIN_MAX_BYTES) = {"origin_max_bytes", SETTING_BYTES, "1GiB", 1, TiB, 0,
				   "largest origin fetched"},
	ROW(S_ORIGIN_FILE_DIRS) = {"origin_file_dirs", SETTING_PATH, NULL, 0, 0, 0,
				   "colon-separated directories that file:// origins may read "
				   "(unset: file:// refused)"},
	ROW(S_ORIGIN_USER_AGENT) = {"origin_user_agent", SETTING_STRING, "DLCS/0.1", 0, 0, 0,
				    "User-Agent of origin fetches"},
	ROW(S_ORIGIN_ALLOW_NETWORKS) = {"origin_allow_networks", SETTING_NETWORKS, NULL, 0, 0, 0,
					"networks inside that origins may reach although they "
					"are not public (see Ingest; unset: none)"},
	ROW(S_MAX_IMAGE_PIXELS) = {"max_image_pixels", SETTING_INT, "200000000", 0, TiB, 0,
				   "larger origin images end in an error (0: no limit)"},
	ROW(S_JPEG_QUALITY) = {"jpeg_quality", SETTING_INT, "85", 1, 100, 0,
			       "JPEG quality of the stored tiles and thumbnails"},

	ROW(S_AV_MAX_TRANSCODES) = {"av_max_transcodes", SETTING_INT, "1", 0, 256, 0,
				    "audio and video transcodes running at once on this host, "
				    "across its runners (0: they take none)"},
	ROW(S_AV_TRANSCODE_TIMEOUT) = {"av_transcode_timeout", SETTING_INT, "7200", 1, SECONDS, 0,
				       "seconds one run of ffmpeg may take before the item ends "
				       "in an error"},
	ROW(S_AV_NICE) = {"av_nice", SETTING_INT, "10", 0, 19, 0,
			  "the niceness ffmpeg runs at, so that the host's image ingest goes "
			  "first"},
	ROW(S_AV_FFMPEG) = {"av_ffmpeg", SETTING_PATH, "ffmpeg", 0, 0, 0,
			    "the ffmpeg program (a bare name is looked up in PATH)"},
	ROW(S_AV_FFPROBE) = {"av_ffprobe", SETTING_PATH, "ffprobe", 0, 0, 0,
			     "the ffprobe program (a bare name is looked up in PATH)"},

	/* 4 GiB, the README's and the runner's: the runner decodes whole
	 * origins (up to max_image_pixels), dlcs-image (which took 2 GiB)
	 * only pyramid levels cut to image_max_area, far below either. */
	ROW(S_IMAGE_MEMORY_LIMIT) = {"image_memory_limit", SETTING_BYTES, "4GiB", 0, TiB, 0,
				     "GraphicsMagick's pixel cache per runner and dlcs-image "
				     "worker (0: its own default); an image past it fails"},

	/* 16777216, dlcs-image's and dlcs-admin's; 0 is no limit everywhere
	 * (the runner read an unset key as 0 and 0 as the default). */
	ROW(S_IMAGE_MAX_AREA) = {"image_max_area", SETTING_INT, "16777216", 0, TiB, 0,
				 "largest computed image in pixels (info.json maxArea; 0: no "
				 "limit); no size alias is made above it"},
	ROW(S_IMAGE_JPEG_QUALITY) = {"image_jpeg_quality", SETTING_INT, "{jpeg_quality}", 1, 100, 0,
				     "JPEG quality of the images dlcs-image computes"},
	ROW(S_IMAGE_CACHE_BYTES) = {"image_cache_bytes", SETTING_BYTES, "1GiB", 0, TiB, 0,
				    "dlcs-image's cache of computed images under storage_root "
				    "(0: none)"},
	ROW(S_NGINX_STORAGE_LOCATION) = {"nginx_storage_location", SETTING_URI_PATH,
					 "/dlcs-storage", 0, 0, 0,
					 "nginx's internal location of storage_root "
					 "(X-Accel-Redirect)"},

	ROW(S_NGINX_CUSTOM_HEADERS) = {"nginx_custom_headers", SETTING_PATH, NULL, 0, 0, 0,
				       "where the custom-headers include of nginx is rendered "
				       "(unset: not rendered)"},
	ROW(S_NGINX_PID_FILE) = {"nginx_pid_file", SETTING_PATH, NULL, 0, 0, 0,
				 "the nginx master the runner reloads after the include changed "
				 "(unset: none)"},
	ROW(S_NGINX_TEST_COMMAND) =
		{"nginx_test_command", SETTING_STRING, "nginx -t -q", 0, 0, 0,
		 "the shell command that tests nginx's configuration with a new "
		 "include before the reload (empty: no test)"},
	/* A runner that is not root cannot signal a master that is (README,
	 * "Deploying behind an existing nginx"). */
	ROW(S_NGINX_RELOAD_COMMAND) = {"nginx_reload_command", SETTING_STRING, NULL, 0, 0, 0,
				       "the shell command that reloads nginx after the include "
				       "passed the test, e.g. sudo -n /usr/sbin/nginx -s reload "
				       "(unset: SIGHUP to nginx_pid_file)"},
};

const struct settings_table dlcs_settings = {rows, sizeof rows / sizeof rows[0]};
