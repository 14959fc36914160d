/* A new customer (asset/customer.h): its row, the delivery channel
 * policies and defaults it starts with, and the clickthrough role, auth
 * service and role provider of access control (CONTRACT section 9; the
 * same as schema/010-access-control.sql gives the customers before it). */
#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "ids.h"
#include "asset/customer.h"
#include "asset/named_query.h"
#include "banned.h"

enum {
	SQL_NEXT_ID,
	SQL_INSERT,
	SQL_POLICY_INSERT,
	SQL_DDC_INSERT,
	SQL_PROVIDER_INSERT,
	SQL_SERVICE_INSERT,
	SQL_ROLE_INSERT,
	SQL__MAX
};

static const char *const SQL[SQL__MAX] = {
	/* Customers are created rarely; locking the index end keeps ids unique
	 * under concurrent creation. */
	[SQL_NEXT_ID] = "SELECT COALESCE(MAX(id), 0) + 1 FROM customers FOR UPDATE",
	[SQL_INSERT] = "INSERT INTO customers (id, name, display_name, created, is_admin)"
		       " VALUES (?, ?, ?, UTC_TIMESTAMP(6), ?)",
	/* (customer, channel, name, display_name, policy_data) */
	[SQL_POLICY_INSERT] =
		"INSERT INTO delivery_channel_policies"
		" (customer_id, channel, name, display_name, policy_data, created, modified)"
		" VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
	/* (id, customer, space, media_type, channel, policy) */
	[SQL_DDC_INSERT] = "INSERT INTO default_delivery_channels"
			   " (id, customer_id, space_id, media_type, channel, policy)"
			   " VALUES (?, ?, ?, ?, ?, ?)",
	/* (id, customer) */
	[SQL_PROVIDER_INSERT] = "INSERT INTO role_providers (id, customer_id, type, configuration,"
				" created) VALUES (?, ?, 'clickthrough', '{}', UTC_TIMESTAMP(6))",
	/* (customer, provider) */
	[SQL_SERVICE_INSERT] =
		"INSERT INTO auth_services (customer_id, name, profile, label, heading, note,"
		" confirm_label, logout_label, token_error_heading, token_error_note, ttl,"
		" role_provider, roles, created) VALUES (?, 'clickthrough', 'active', 'Terms of "
		"use',"
		" 'Please read and accept the terms of use',"
		" 'This material is available once you confirm that you accept its terms of use.',"
		" 'Accept', 'Log out of clickthrough', 'Access unavailable',"
		" 'Your access to this material has ended: please accept the terms again.', 600, ?,"
		" '[\"clickthrough\"]', UTC_TIMESTAMP(6))",
	/* (customer) */
	[SQL_ROLE_INSERT] = "INSERT INTO roles (customer_id, name, label, aliases, auth_service,"
			    " created) VALUES (?, 'clickthrough', 'Clickthrough', '[]',"
			    " 'clickthrough', UTC_TIMESTAMP(6))",
};

/* What a new customer gets (Protagonist copies the same from its admin customer). */
static const struct {
	const char *channel, *name, *display_name, *data;
} seed_policies[] = {
	{"thumbs", "default", "Default thumbnail sizes",
	 "[\"!1024,1024\",\"!400,400\",\"!200,200\",\"!100,100\"]"},
	{"iiif-av", "default-audio", "Default audio transcode", "[\"audio-mp3-128\"]"},
	{"iiif-av", "default-video", "Default video transcode", "[\"video-mp4-720p\"]"},
};

static const struct {
	const char *media_type, *channel, *policy;
} seed_defaults[] = {
	{"image/*", "iiif-img", "default"},
	{"image/*", "thumbs", "default"},
	{"audio/*", "iiif-av", "default-audio"},
	{"video/*", "iiif-av", "default-video"},
	/* a video's poster frame, as thumbnails */
	{"video/*", "thumbs", "default"},
	{"application/*", "file", "none"},
};

/* The customer's own copies of the non-system policies and the seeded
 * defaults, inside the caller's transaction. DB_OK or the db error. */
static int seed_channels(struct db *db, int customer)
{
	char id[37];
	long long r;

	for (size_t i = 0; i < sizeof seed_policies / sizeof seed_policies[0]; i++) {
		r = db_exec(db, SQL[SQL_POLICY_INSERT], "issss", customer, seed_policies[i].channel,
			    seed_policies[i].name, seed_policies[i].display_name,
			    seed_policies[i].data);
		if (r < 0)
			return (int)r;
	}
	for (size_t i = 0; i < sizeof seed_defaults / sizeof seed_defaults[0]; i++) {
		uuid_make(id);
		r = db_exec(db, SQL[SQL_DDC_INSERT], "siisss", id, customer, 0,
			    seed_defaults[i].media_type, seed_defaults[i].channel,
			    seed_defaults[i].policy);
		if (r < 0)
			return (int)r;
	}
	return DB_OK;
}

/* The clickthrough role provider, auth service and role. */
static int seed_access(struct db *db, int customer)
{
	char id[37];
	uuid_make(id);
	if (db_exec(db, SQL[SQL_PROVIDER_INSERT], "si", id, customer) < 0 ||
	    db_exec(db, SQL[SQL_SERVICE_INSERT], "is", customer, id) < 0 ||
	    db_exec(db, SQL[SQL_ROLE_INSERT], "i", customer) < 0)
		return db_last_err(db);
	return DB_OK;
}

int customer_insert(struct db *db, struct arena *a, int id, const char *name,
		    const char *display_name, bool admin, int *out_id)
{
	if (id == 0) {
		struct db_rows *r = db_query(db, a, SQL[SQL_NEXT_ID], "");
		if (!r)
			return db_last_err(db);
		id = (int)db_int(r, 0, 0);
	}
	if (db_exec(db, SQL[SQL_INSERT], "issi", id, name, display_name, admin ? 1 : 0) < 0)
		return db_last_err(db);
	int rc = seed_channels(db, id);
	if (rc == DB_OK)
		rc = nq_seed(db, id, admin);
	if (rc == DB_OK)
		rc = seed_access(db, id);
	if (rc != DB_OK)
		return rc;
	*out_id = id;
	return DB_OK;
}
