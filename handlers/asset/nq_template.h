/* A named query's template (CONTRACT section 10), parsed once into a typed
 * template, then bound to a request's arguments to give a typed asset query
 * (asset/query.h) that runs as one SQL statement. Pure: no database, no
 * request; the API checks templates with it when they are stored, delivery
 * and the runners bind them.
 *
 * The syntax: key=value pairs joined by '&'. Filter keys: space (an id),
 * spacename, s1..s3, n1..n3 (non-negative integers), batch and manifest
 * (comma lists: any of them); order: assetOrder (alias canvas), keys among
 * s1..s3 and n1..n3 separated by ';', each optionally followed by ' asc' or
 * ' desc' (or '+asc', '+desc'); '#' (repeatable): a value appended after the
 * URL's arguments; objectname, coverpage, redactedmessage: kept for the PDF
 * and ZIP projections. A value "pN" (p and a number from 1, no leading zero)
 * is the N-th argument; any other value is a literal, "pottery" included.
 * sequence, a legacy key of the DLCS documentation's own example, is
 * accepted and ignored. Anything else (an unknown or repeated key, a pair
 * without '=', an empty value, a literal that is not a number where one is
 * needed, a control character) is refused. */
#ifndef DLCS_NQ_TEMPLATE_H
#define DLCS_NQ_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "asset/query.h"

struct arena;

#define NQ_TEMPLATE_MAX 2000 /* bytes of a template */
#define NQ_MAX_HASH     16   /* '#' values */
#define NQ_MAX_ARG      99   /* the largest N of pN */

/* The filters, in the order they are written back (nq_template_text). */
enum nq_filter {
	NQF_SPACE,
	NQF_SPACENAME,
	NQF_S1,
	NQF_S2,
	NQF_S3,
	NQF_N1,
	NQF_N2,
	NQF_N3,
	NQF_BATCH,
	NQF_MANIFEST,
	NQF__MAX
};

/* The texts of the projections. */
enum nq_text { NQT_OBJECTNAME, NQT_COVERPAGE, NQT_REDACTEDMESSAGE, NQT__MAX };

/* A value as written: the arg-th argument, or a literal. */
struct nq_value {
	bool present;
	int arg;          /* 1..NQ_MAX_ARG for pN; 0: literal */
	const char *text; /* the literal (arg == 0) */
};

struct nq_template {
	struct nq_value filter[NQF__MAX];
	struct nq_value text[NQT__MAX];
	struct aq_order order[AQ_MAX_ORDER]; /* assetOrder, whitelisted columns */
	size_t norder;
	const char *hash[NQ_MAX_HASH]; /* '#' values, in order */
	size_t nhash;
	int max_arg; /* the largest N of any pN; 0 when none */
};

/* Parses text (NUL-terminated, UTF-8) into *t (strings in the arena). NULL,
 * or why not (arena text naming the key, with any quoted value cut short:
 * "'n1': 'x' is not a non-negative integer"). */
const char *nq_template_parse(struct arena *a, const char *text, struct nq_template *t);

/* The template key of a filter ("space", "s1", ...). */
const char *nq_filter_key(enum nq_filter f);

/* Binds t to the request's arguments (decoded path segments, '#' values
 * appended after them) into *q: a filter whose pN is beyond the arguments is
 * dropped; spacename is dropped when space is given. NULL, or why not:
 * the template takes arguments and none were given, or an argument is not a
 * number where one is needed. The texts of the projections, resolved the
 * same way (NULL when absent or beyond the arguments), each {s1} {s2} {s3}
 * {n1} {n2} {n3} in them replaced by that filter's bound value ("" when
 * none; percent-encoded but for RFC 3986's unreserved characters in the
 * coverpage URL), go to texts when it is not NULL. */
const char *nq_bind(struct arena *a, const struct nq_template *t, const char *const *args,
		    size_t nargs, struct asset_query *q, const char **texts);

#endif
