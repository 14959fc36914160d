/* Fetching an asset's origin to a local file with libcurl: http(s) with
 * redirects, connect and total timeouts, a low-speed abort and a size cap;
 * file:// only below configured directories; credentials chosen by the
 * customer's origin strategies (the first whose regex matches, in `order`).
 *
 * The program calls curl_global_init(CURL_GLOBAL_DEFAULT) once at start,
 * before any thread exists, and curl_global_cleanup() at exit; nothing here
 * does. Each call makes and frees its own curl handle, so calls on different
 * threads share nothing. */
#ifndef DLCS_ORIGIN_H
#define DLCS_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

struct config;
struct db;
struct arena;

enum origin_status {
	ORIGIN_OK = 0,
	ORIGIN_BAD_URL,     /* unsupported scheme (also after a redirect), file:// outside the
			     * allowed dirs or not a regular file, malformed; an address
			     * the guard refuses (origin_guard.h), at any hop */
	ORIGIN_UNREACHABLE, /* DNS, connect, TLS, timeout, too slow, too many redirects */
	ORIGIN_HTTP_ERROR,  /* the origin answered other than 2xx (http_status says which) */
	ORIGIN_TOO_LARGE,   /* over origin_max_bytes */
	ORIGIN_EMPTY,       /* zero bytes */
	ORIGIN_LOCAL_ERROR, /* could not write the local copy, read the strategies, or start curl */
};

struct origin_fetch {
	long http_status;       /* last HTTP status, 0 when none (file://, no answer) */
	long long bytes;        /* bytes written */
	char content_type[128]; /* as the origin sent it ("" when none or too long) */
	char error[256];        /* readable cause, for the asset's error field; never holds
				 * credentials; cut with "..." when longer */
};

/* Longest origin URL accepted (longer: ORIGIN_BAD_URL). */
#define ORIGIN_URL_MAX 8192

/* Configuration keys used (defaults in brackets):
 *   origin_connect_timeout [10] seconds, origin_timeout [120] seconds,
 *   origin_low_speed_limit [1024] bytes/s and origin_low_speed_time [30] s:
 *     abort a transfer slower than the limit for that long (limit 0: never),
 *   origin_max_bytes [1 GiB], origin_max_redirects [5],
 *   origin_file_dirs ["" = file:// refused]: colon-separated absolute dirs;
 *     a file:// origin must resolve (realpath, so symlinks and ".." count)
 *     below one of them (also resolved),
 *   origin_user_agent ["DLCS/0.1"],
 *   origin_allow_networks [none]: CIDRs that open addresses the guard
 *     refuses by default (origin_guard.h); while the value is invalid every
 *     http(s) fetch fails (ORIGIN_LOCAL_ERROR) rather than run unguarded.
 * No proxy is used, whatever the environment says: the guard judges the
 * addresses connected to.
 * cfg may be NULL (every default). */

/* Fetches `url` for customer c into dest_path (created or truncated, 0600,
 * once the URL has been accepted; removed again when the fetch then fails).
 * For http(s), the customer's origin strategies (origin_strategies table, by
 * sort_order then created) choose credentials: the first whose regex matches
 * the URL wins; basic-http-authentication sends its user/password with HTTP
 * Basic (never to a host a redirect leads to), anything else fetches
 * without. db NULL (or c <= 0) means no strategies. a is scratch memory for
 * the call (NULL: a private arena). Returns an origin_status and fills f
 * (f->error on failure). Never crashes on any input, NULLs included. Safe to
 * call from any thread that owns its own db handle and arena. */
enum origin_status origin_fetch(struct db *db, struct arena *a, const struct config *cfg, int c,
				const char *url, const char *dest_path, struct origin_fetch *f);

/* Copies the direct upload at upload_path (a file under upload_root, the
 * only directory it may be read from) into dest_path, within
 * origin_max_bytes, as origin_fetch does for file:// origins. */
enum origin_status origin_copy_upload(struct arena *a, const struct config *cfg,
				      const char *upload_root, const char *upload_path,
				      const char *dest_path, struct origin_fetch *f);

#endif
