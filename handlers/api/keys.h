/* API keys: key (a UUID) and secret (256 random bits shown once). Only a
 * salted SHA-256 of the secret is stored. */
#ifndef DLCS_KEYS_H
#define DLCS_KEYS_H

struct db;
struct config;
struct req;

/* The core's authenticate hook (app.h: auth_fn). */
int keys_authenticate(struct req *rq, const char *key, const char *secret);

/* Creates a key for customer c; key[37] and secret[65] receive the pair.
 * Returns DB_OK or the db error. */
int keys_issue(struct db *db, const struct config *cfg, int c, char key[37], char secret[65]);

#endif
