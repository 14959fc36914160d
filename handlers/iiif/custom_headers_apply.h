/* The customer's custom headers on delivery responses (CONTRACT section 10):
 * the hook every dlcs-image response goes through once the customer is
 * known. */
#ifndef DLCS_CUSTOM_HEADERS_APPLY_H
#define DLCS_CUSTOM_HEADERS_APPLY_H

struct req;

/* Adds customer c's custom headers for space s and an asset holding the
 * roles roles_json (stored JSON array text; NULL for a response that names
 * no asset) to rq's response, in the precedence custom_headers_for()
 * (asset/custom_header_rules.h) gives them. They are set before the
 * response's own Cache-Control, which gives way to a customer's. When the
 * file is then sent by nginx (X-Accel-Redirect), nginx's internal location
 * adds them back from this response (the generated custom-headers include).
 * Returns how many headers were added; on a database error none (the
 * response goes on without them). */
int custom_headers_apply(struct req *rq, int c, int s, const char *roles_json);

#endif
