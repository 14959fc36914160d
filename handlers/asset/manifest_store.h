/* Stored manifests of named queries: a manifest the API built is kept as a
 * file, and nginx sends it (X-Accel-Redirect to nginx/dlcs.conf's internal
 * /dlcs-manifests/ location) for every later request that the API has
 * checked against the database. It is never sent unchecked: each request
 * asks the query for the row versions of the assets it selects now
 * (nq_state, asset/named_query.h; a version changes with every UPDATE of a
 * row and is never given twice, and a new or deleted asset changes the
 * list), and the file's name is the hash of that list, so a stored file
 * answers exactly the requests whose query selects now what it was built
 * from. The rest of what a manifest is made
 * of is in the other half of its name: the request (Presentation version,
 * base URL, path), the named query (owner, name, template) and the program
 * that built it. What a row's version does not cover: the files of an
 * asset (the stored sizes in s.json, av.json), which only an ingest
 * writes, and an ingest changes the row after them; and the auth services
 * of restricted assets, so a manifest with a restricted asset is never
 * stored.
 *
 * Layout: {storage_root}/manifests/{c}/{request hash}/{rows hash}.json, each
 * file written under a temporary name and renamed into place. A file in use
 * has its time set at most once a minute; the runners delete those unused
 * for MSTORE_IDLE_SECONDS, and the least recently used beyond the store's
 * size (manifest_store_max_bytes; mstore_sweep), and the API sends a file
 * only when it was used within MSTORE_SEND_SECONDS, so that a sweep never
 * deletes a file nginx is about to open. A manifest is not stored when its
 * file system has less than a twentieth free: requests that vary the
 * path or Host to make many manifests cannot fill the disk that ingests
 * need. */
#ifndef DLCS_ASSET_MANIFEST_STORE_H
#define DLCS_ASSET_MANIFEST_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

#define MSTORE_DIR           "manifests"
#define MSTORE_IDLE_SECONDS  600
#define MSTORE_SEND_SECONDS  540
#define MSTORE_TOUCH_SECONDS 60
/* A file sent was used at most MSTORE_TOUCH_SECONDS before (it is marked
 * when older), so one unused for twice that is not about to be opened. */
#define MSTORE_EVICT_SECONDS (2 * MSTORE_TOUCH_SECONDS)
#define MSTORE_SWEEP_SECONDS 60
/* nginx/dlcs.conf's internal location of the stored manifests. */
#define MSTORE_NGINX_LOCATION "/dlcs-manifests"

/* Which stored manifest: customer, request hash, rows hash (hex). */
struct mstore_key {
	int c;
	char request[65];
	char rows[65];
};

/* The request half of k: the SHA-256 of the n parts (each with its
 * length), of the program that runs (its file's device, inode, size and
 * time: a new build or install is another program) and of c. */
void mstore_key_request(struct arena *a, struct mstore_key *k, int c, const char *const *parts,
			size_t n);

/* The rows half of k: the SHA-256 of the query's state (nq_state's
 * versions, asset/named_query.h). */
void mstore_key_state(struct mstore_key *k, const char *versions);

/* The manifest's ETag (quoted): a hash of both halves. */
const char *mstore_etag(struct arena *a, const struct mstore_key *k);

/* The path of k's file under storage_root (and under MSTORE_NGINX_LOCATION). */
const char *mstore_rel(struct arena *a, const struct mstore_key *k);

/* True when k's file is in place and was used within MSTORE_SEND_SECONDS:
 * it may be sent. Marks it used (its time set to now) when it was last
 * marked over MSTORE_TOUCH_SECONDS ago; false if that fails. */
bool mstore_ready(struct arena *a, const char *root, const struct mstore_key *k);

/* Stores body as k's file (mode 0644, in one rename). 0, or -1 (logged):
 * the caller sends the body itself. */
int mstore_put(struct arena *a, const char *root, const struct mstore_key *k, const char *body,
	       size_t len);

/* Deletes the stored manifests (and temporary files) unused for
 * MSTORE_IDLE_SECONDS, then, while they take more than max_bytes, the least
 * recently used of those unused for MSTORE_EVICT_SECONDS; and the
 * directories left empty. Nothing (0) while another process of the host
 * sweeps (an flock of {storage_root}/manifests/.sweep.lock). Returns how
 * many files went. */
int mstore_sweep(struct arena *a, const char *root, long long max_bytes);

#endif
