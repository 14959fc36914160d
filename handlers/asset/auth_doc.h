/* The IIIF Authorization Flow 2.0 services of a restricted asset, as its
 * info.json (iiif/delivery.c) and manifests carry them (CONTRACT section
 * 9): the AuthProbeService2 of the asset, holding an AuthAccessService2 for
 * each auth service its roles name (the customer's clickthrough when none
 * does), each holding the customer's AuthAccessTokenService2 and its own
 * AuthLogoutService2. Texts become language maps {"en": [...]}. */
#ifndef DLCS_ASSET_AUTH_DOC_H
#define DLCS_ASSET_AUTH_DOC_H

struct arena;
struct db;
struct jw;

#define AUTH2_CONTEXT "http://iiif.io/api/auth/2/context.json"

struct db_rows;

/* A customer's roles and auth services, read once (two queries) so that a
 * manifest of many restricted canvases writes each probe service without
 * a query per canvas. */
struct auth_doc {
	int c;
	struct db_rows *roles;    /* name, auth_service */
	struct db_rows *services; /* name, profile, the texts */
};

/* Reads customer c's roles and services into d. 0, or negative on a
 * database error. */
int auth_doc_load(struct auth_doc *d, struct db *db, struct arena *a, int c);

/* Writes the probe service object of asset (d->c, s, id) with roles (JSON
 * array of role URIs) to w: one access service per auth service its roles
 * name (the customer's clickthrough when none does). base:
 * scheme://host[:port]; cpart: the customer as the request's path named it. */
void auth_doc_write_probe(struct jw *w, const struct auth_doc *d, struct arena *a, const char *base,
			  const char *cpart, int s, const char *id, const char *roles);

/* auth_doc_load and auth_doc_write_probe for one asset of customer c.
 * 0, or negative on a database error. */
int auth_doc_probe_service(struct jw *w, struct db *db, struct arena *a, const char *base,
			   const char *cpart, int c, int s, const char *id, const char *roles);

#endif
