/* Grants: the restricted assets a session of the access flow may see, as
 * links that nginx follows to send their tiles itself (nginx/dlcs.conf,
 * "Restricted tiles"), with no question to dlcs-image:
 *   auth-grants/{c}/{cookie}/{bucket}/{s}/{id} -> ../../../../../{c}/{s}/{id}
 * {cookie} is the session's whole cookie value, {sid}{secret}
 * (asset/auth_session.h): only the cookie's holder can name the directory,
 * and auth-grants/ and auth-grants/{c}/ are mode 0711, so that no local
 * user lists them either. {bucket} is the time in seconds divided by
 * GRANT_BUCKET_SECONDS, which nginx takes from its $msec: a grant serves
 * only during its bucket, and is made only for a session that lives past
 * the bucket's end, so nginx never sends a tile after a session's expiry;
 * dlcs-image sees each asset's first tile of each bucket, which moves a
 * session that is in use on (its expiry slides).
 *
 * dlcs-image makes a grant after it has sent one of the asset's tiles to
 * the session (grant_make). Grants go: a session's at its logout
 * (grant_revoke_session), all of a customer's sessions' when one of its
 * roles is deleted (grant_revoke_customer), an asset's from every session
 * when its access changes, it is deleted or ingested again
 * (grant_asset_changed, through store_publish). A decision such a change
 * overtook is never left as a grant: its maker looks for the change's
 * marks after making the link (the asset's changed mark, the session's
 * revocation marker) and undoes it. */
#ifndef DLCS_ASSET_GRANT_H
#define DLCS_ASSET_GRANT_H

#include <time.h>

struct arena;

#define GRANT_DIR "auth-grants"
/* nginx: the digits of $msec before its last two whole-second digits */
#define GRANT_BUCKET_SECONDS 100

/* The grant of asset c/s/id to the session whose cookie value is cookie,
 * which expires at expires_at (seconds since the epoch), decided from
 * what the database said at `decided` or later: 1 made (or there), 0 not
 * made (the session ends within the current bucket, is revoked, the
 * asset's access changed since `decided`, or cookie is not of the current
 * form), -1 on an error (errno set). Older buckets of the session go on
 * the way. */
int grant_make(struct arena *a, const char *root, int c, const char *cookie, long long expires_at,
	       int s, const char *id, const struct timespec *decided);
/* Asset c/s/id's access changed (or it was deleted, or ingested again):
 * its changed mark, restricted/changed/{c}/{s}/{id}, is written, then its
 * grants are removed from every session. 0 or -1. */
int grant_asset_changed(struct arena *a, const char *root, int c, int s, const char *id);
/* Asset c/s/id is open (nginx's public link answers for it): its changed
 * mark goes. 0 or -1. */
int grant_asset_open(struct arena *a, const char *root, int c, int s, const char *id);
/* Removes every grant of the session whose cookie value is cookie. 0 or -1. */
int grant_revoke_session(struct arena *a, const char *root, int c, const char *cookie);
/* Removes every grant of every session of customer c. 0 or -1. */
int grant_revoke_customer(struct arena *a, const char *root, int c);
/* Deletes the buckets that can no longer serve (older than the previous
 * one) and emptied session directories, at most `max` of them: a few at
 * each login, GRANT_SWEEP_MAX by each runner every GRANT_SWEEP_SECONDS. */
void grant_sweep(struct arena *a, const char *root, int max);
#define GRANT_SWEEP_MAX     1000
#define GRANT_SWEEP_SECONDS 60

#endif
