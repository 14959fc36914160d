#include <string.h>

#include "json.h"
#include "input.h"
#include "req.h"
#include "banned.h"

static bool listed(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

int jin_only_keys(struct req *rq, yajl_val obj, const char *const *allowed)
{
	if (!obj || obj->type != yajl_t_object)
		return req_fail(rq, 400, "expected a JSON object");
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (!listed(obj->u.object.keys[i], allowed))
			return req_fail(rq, 400, "unknown field '%s'", obj->u.object.keys[i]);
	return 0;
}

int jin_forbid_keys(struct req *rq, yajl_val obj, const char *const *forbidden, const char *why)
{
	for (; *forbidden; forbidden++)
		if (json_get(obj, *forbidden))
			return req_fail(rq, 400, "'%s' %s", *forbidden, why);
	return 0;
}

/* Present and not JSON null. */
static yajl_val member(yajl_val obj, const char *key, bool *present)
{
	yajl_val v = json_get(obj, key);
	if (v && v->type == yajl_t_null)
		v = NULL;
	if (present)
		*present = v != NULL;
	return v;
}

int jin_str(struct req *rq, yajl_val obj, const char *key, const char **out, bool *present)
{
	yajl_val v = member(obj, key, present);
	if (!v)
		return 0;
	if (v->type != yajl_t_string)
		return req_fail(rq, 400, "'%s' must be a string", key);
	*out = v->u.string;
	return 0;
}

int jin_str_req(struct req *rq, yajl_val obj, const char *key, const char **out)
{
	bool present;
	int st = jin_str(rq, obj, key, out, &present);
	if (st)
		return st;
	if (!present)
		return req_fail(rq, 400, "'%s' is required", key);
	return 0;
}

int jin_int(struct req *rq, yajl_val obj, const char *key, long long min, long long max,
	    long long *out, bool *present)
{
	yajl_val v = member(obj, key, present);
	if (!v)
		return 0;
	if (!json_is_int(v))
		return req_fail(rq, 400, "'%s' must be an integer", key);
	if (v->u.number.i < min || v->u.number.i > max)
		return req_fail(rq, 400, "'%s' must be between %lld and %lld", key, min, max);
	*out = v->u.number.i;
	return 0;
}

int jin_bool(struct req *rq, yajl_val obj, const char *key, bool *out, bool *present)
{
	yajl_val v = member(obj, key, present);
	if (!v)
		return 0;
	if (v->type != yajl_t_true && v->type != yajl_t_false)
		return req_fail(rq, 400, "'%s' must be true or false", key);
	*out = v->type == yajl_t_true;
	return 0;
}

int jin_str_array(struct req *rq, yajl_val obj, const char *key, yajl_val *out, bool *present)
{
	yajl_val v = member(obj, key, present);
	if (!v)
		return 0;
	if (v->type != yajl_t_array)
		return req_fail(rq, 400, "'%s' must be an array of strings", key);
	for (size_t i = 0; i < v->u.array.len; i++)
		if (v->u.array.values[i]->type != yajl_t_string)
			return req_fail(rq, 400, "'%s' must be an array of strings", key);
	*out = v;
	return 0;
}
