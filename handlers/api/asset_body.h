/* Reading asset bodies, shared by the asset handlers (assets.c) and the
 * plans of whole assets (asset_body.c). Internal to handlers/api/. */
#ifndef DLCS_API_ASSET_BODY_H
#define DLCS_API_ASSET_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "asset/row.h"

struct arena;
struct db_param;
struct req;

/* The key of an asset row, and the columns a PUT or PATCH sets. */
#define KEY_WHERE " WHERE customer_id=? AND space_id=? AND id=?"
#define MUTABLE_SET                                                                                \
	"origin=?, tags=?, roles=?, manifests=?, string1=?, string2=?, string3=?, number1=?, "     \
	"number2=?, number3=?, max_unauthorised=?, media_type=?, family=?, delivery_channels=?"
/* Parameters of MUTABLE_SET followed by KEY_WHERE, as bind_mutable fills
 * them: origin, tags, roles, manifests, string1..3 ('S'), number1..3 ('l'),
 * max_unauthorised ('i'), media_type, family, delivery_channels ('S'), then
 * customer, space ('i') and id ('S'). */
#define MUTABLE_NPARAMS 17

enum body_mode { BODY_PUT, BODY_PATCH, BODY_BULK };

struct asset_in {
	const char *origin;
	bool has_origin;
	const char *str[3];
	bool has_str[3];
	long long num[3];
	bool has_num[3];
	long long max_unauth;
	bool has_max_unauth;
	const char *media_type;
	bool has_media_type;
	char family; /* 0 when absent */
	const char **list[ALIST__MAX];
	size_t nlist[ALIST__MAX];
	const char *list_json[ALIST__MAX]; /* NULL when absent */
	yajl_val channels;                 /* NULL when absent */
};

/* Reads and validates an asset body (or a bulk member) for asset c/s/id;
 * returns 0 or the 400 it answered, naming the field. */
int asset_body_read(struct req *rq, yajl_val body, int c, int s, const char *id,
		    enum body_mode mode, struct asset_in *in);
/* The path's asset id; 0 or the 400 it answered. */
int asset_path_id_check(struct req *rq, const char *id);
/* The body of a bulk PATCH of space c/s, read whole before the database is
 * asked: *count members, their ids and their fields (arena memory). 0 or
 * the 400 it answered. */
int asset_bulk_read(struct req *rq, yajl_val body, int c, int s, size_t *count,
		    const char ***ids_out, struct asset_in **in_out);
/* Fills p[0..MUTABLE_NPARAMS) for MUTABLE_SET followed by KEY_WHERE. */
void asset_bind_mutable(struct db_param *p, const struct asset_in *in,
			const char *const list_json[3], const char *channels, char family, int c,
			int s, const char *id);

#endif
