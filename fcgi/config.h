/* Configuration: a file of "key = value" lines ('#' starts a comment), read
 * once at start. The path comes from -c or $DLCS_CONFIG. Keys in use:
 *   db_socket, db_name, db_user, db_password   MariaDB connection (unix socket)
 *   base_url          public base URL for @id links (default: from the request)
 *   max_body_bytes    request body cap, 413 above it (default 16 MiB)
 *   schema_dir        where the NNN-*.sql migrations live
 *   storage_root      where originals and derivatives are stored
 *   api_key_salt      mixed into stored key hashes
 *   nginx_custom_headers, nginx_pid_file, nginx_test_command   the rendered
 *                     custom-headers include, the nginx to reload after it
 *                     changes, and the command that tests it first
 * (the runner's and the image server's keys are listed in README.md) */
#ifndef DLCS_CONFIG_H
#define DLCS_CONFIG_H

#include <stddef.h>

struct config;

/* NULL with a message in err when the file cannot be read or a line is malformed. */
struct config *config_load(const char *path, char *err, size_t errlen);
/* An empty configuration (every lookup falls back to its default). */
struct config *config_empty(void);
void config_free(struct config *c);
/* Sets or replaces a key (used by tests and command-line overrides). */
void config_set(struct config *c, const char *key, const char *value);
const char *config_str(const struct config *c, const char *key, const char *def);
long long config_int(const struct config *c, const char *key, long long def);

#endif
