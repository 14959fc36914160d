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

/* Writes the probe service object of asset (c, s, id) with roles (JSON
 * array of role URIs) to w. base: scheme://host[:port]; cpart: the customer
 * as the request's path named it. 0, or negative on a database error. */
int auth_doc_probe_service(struct jw *w, struct db *db, struct arena *a, const char *base,
			   const char *cpart, int c, int s, const char *id, const char *roles);

#endif
