/* Typed reads of JSON request bodies. Each returns 0 when the member is
 * absent (outputs untouched, *present false) or valid, else the 400 it
 * answered through req_fail, naming the field: handlers chain them with
 * `if ((st = jin_str(...))) return st;`. */
#ifndef DLCS_INPUT_H
#define DLCS_INPUT_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

struct req;

/* 400 for any key of obj not in the NULL-terminated list `allowed`. */
int jin_only_keys(struct req *rq, yajl_val obj, const char *const *allowed);
/* 400 if any of the NULL-terminated keys is present ("'width' is read-only"). */
int jin_forbid_keys(struct req *rq, yajl_val obj, const char *const *forbidden, const char *why);
/* A string member (JSON null counts as absent). */
int jin_str(struct req *rq, yajl_val obj, const char *key, const char **out, bool *present);
/* An integer member within [min,max]. */
int jin_int(struct req *rq, yajl_val obj, const char *key, long long min, long long max,
	    long long *out, bool *present);
int jin_bool(struct req *rq, yajl_val obj, const char *key, bool *out, bool *present);
/* An array of strings; *out is the array node. */
int jin_str_array(struct req *rq, yajl_val obj, const char *key, yajl_val *out, bool *present);
/* Required variants: absent is a 400 "'name' is required". */
int jin_str_req(struct req *rq, yajl_val obj, const char *key, const char **out);

#endif
