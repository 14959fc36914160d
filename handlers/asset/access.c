/* The open/restricted rule of assets (asset/access.h). */
#include <stdbool.h>
#include <string.h>

#include "json.h"
#include "asset/access.h"
#include "banned.h"

bool asset_roles_empty(struct arena *a, const char *roles_json)
{
	if (!roles_json || !*roles_json)
		return true;
	yajl_val v = json_parse(a, roles_json, strlen(roles_json), NULL);
	return v && YAJL_IS_ARRAY(v) && v->u.array.len == 0;
}

bool asset_is_open(struct arena *a, const char *roles_json, int max_unauthorised)
{
	return max_unauthorised < 0 && asset_roles_empty(a, roles_json);
}

bool asset_size_is_open(bool open, int max_unauthorised, int w, int h)
{
	if (open)
		return true;
	if (w <= 0 || h <= 0)
		return false;
	return max_unauthorised > 0 && (w > h ? w : h) <= max_unauthorised;
}
