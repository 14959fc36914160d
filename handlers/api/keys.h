/* API keys as the API serves them: the core's authentication hook and the
 * keys resource (handlers.h). How a key is made and stored is
 * asset/api_key.h's. */
#ifndef DLCS_KEYS_H
#define DLCS_KEYS_H

struct req;

/* The core's authenticate hook (app.h: auth_fn). */
int keys_authenticate(struct req *rq, const char *key, const char *secret);

#endif
