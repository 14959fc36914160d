/* API keys: key (a UUID) and secret (256 random bits shown once). Only a
 * salted SHA-256 of the secret is stored. dlcs-api checks and issues keys,
 * dlcs-admin issues the first ones (bootstrap, create-key). */
#ifndef DLCS_ASSET_API_KEY_H
#define DLCS_ASSET_API_KEY_H

struct config;
struct db;

/* The stored hash of a secret: hex SHA-256 of "{salt}:{key}:{secret}", the
 * salt being the configuration's api_key_salt. */
void key_secret_hash(const struct config *cfg, const char *key, const char *secret, char out[65]);

/* Creates a key for customer c; key[37] and secret[65] receive the pair.
 * Returns DB_OK or the db error. */
int keys_issue(struct db *db, const struct config *cfg, int c, char key[37], char secret[65]);

#endif
