/* The PDF and ZIP projections of named queries as stored
 * (schema/012-projections.sql), shared by the API, which asks for them and
 * answers with the stored file (api/projections.c), and the runners, which
 * make them (ingest/projection_make.c). A projection is keyed by customer,
 * kind, query name and arguments; it is current when the file was made from
 * the result the query gives now, which proj_result_hash condenses (the
 * assets in order, with what changes their pages: a new ingest, their size,
 * channels, access). */
#ifndef DLCS_ASSET_PROJECTION_H
#define DLCS_ASSET_PROJECTION_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct db;
struct db_rows;
struct nq_result;

enum proj_kind { PROJ_PDF, PROJ_ZIP };

/* "pdf" or "zip". */
const char *proj_kind_name(enum proj_kind k);
/* The kind named so; false when none. */
bool proj_kind_parse(const char *name, enum proj_kind *out);

/* The thumbnail edge the pages are made from (the stored size nearest). */
#define PROJ_EDGE 1000

/* The key of a projection's arguments: the SHA-256 (hex, 64 + NUL) of the
 * query name and the arguments, each NUL-terminated. */
void proj_args_key(const char *name, const char *const *args, size_t nargs, char hex[65]);
/* The arguments as a JSON array of strings (arena text), and back (NULL
 * when the text is not such an array; *n set). */
const char *proj_args_json(struct arena *a, const char *const *args, size_t nargs);
const char **proj_args_parse(struct arena *a, const char *json, size_t *n);

/* The hash (hex) of what a projection of res shows: every row's space, id,
 * finished time, size, channels, roles, maxUnauthorised and error, in
 * order, and the query's objectname, redactedmessage and coverpage (when given). */
void proj_result_hash(enum proj_kind k, const struct nq_result *res, char hex[65]);

enum proj_state { PROJ_QUEUED, PROJ_MAKING, PROJ_DONE, PROJ_ERROR };

struct projection {
	long long id;
	int customer;
	enum proj_kind kind;
	const char *name, *args_json;
	const char *want_hash, *made_hash; /* made_hash NULL before the first */
	enum proj_state state;
	const char *file;    /* relative to storage_root; NULL before the first */
	const char *created; /* ISO 8601 UTC, NULL before the first */
	long long item_count, size_bytes;
	const char *roles;       /* JSON array text, NULL before the first */
	const char *error;       /* NULL unless state is PROJ_ERROR */
	long long requested_age; /* seconds since it was last queued */
};

/* The projection of (c, k, name, key). 1 with *out, 0 when there is none,
 * < 0 a db error. */
int proj_get(struct db *db, struct arena *a, int c, enum proj_kind k, const char *name,
	     const char *key, struct projection *out);
/* Asks the runners for the projection of result want_hash: inserts it, or
 * queues it again with that hash (a runner making an older one loses its
 * lease and its file is dropped). DB_OK or the db error. */
int proj_request(struct db *db, int c, enum proj_kind k, const char *name, const char *key,
		 const char *args_json, const char *want_hash);

/* A runner's claim of the oldest queued projection (or one whose maker's
 * lease ran out) for lease_seconds. 1 with *out, 0 when none, < 0 a db
 * error. */
int proj_claim(struct db *db, struct arena *a, const char *owner, int lease_seconds,
	       struct projection *out);
/* Extends the lease: 1 still ours, 0 lost, < 0 a db error. */
int proj_renew(struct db *db, long long id, const char *owner, int lease_seconds);
/* Records the file made from result made_hash (done, or queued again when
 * the wanted result has changed meanwhile). 1 recorded, 0 the lease was
 * lost (the caller removes its file), < 0 a db error. */
int proj_complete(struct db *db, long long id, const char *owner, const char *made_hash,
		  const char *file, long long item_count, long long size_bytes, const char *roles);
/* Records why it could not be made. 1, 0 lease lost, < 0 a db error. */
int proj_fail(struct db *db, long long id, const char *owner, const char *error);

/* The stored file's path relative to storage_root:
 * projections/{c}/{kind}/{key}-{first 16 of hash}.{kind}. */
const char *proj_file_rel(struct arena *a, int c, enum proj_kind k, const char *key,
			  const char *hash);

#endif
