#include <stdio.h>

#include "http_syntax.h"
#include "req.h"
#include "resp_head.h"
#include "str.h"
#include "banned.h"

/* Written by the framework from struct resp_head; a second copy from a
 * handler's list would contradict it (or, for Status, replace it). */
static bool reserved_name(const char *name)
{
	return str_ieq(name, "Status") || str_ieq(name, "Content-Type") ||
	       str_ieq(name, "Content-Length");
}

const char *resp_head_write(struct sbuf *out, const struct resp_head *h)
{
	const char *type = h->content_type ? h->content_type : "application/ld+json";
	if (h->has_body && !http_field_value_valid(type))
		return "Content-Type";
	bool have_cors = false;
	for (size_t i = 0; i < h->nheaders; i++) {
		const struct kv *kv = &h->headers[i];
		if (!http_token_valid(kv->key) || reserved_name(kv->key))
			return kv->key ? kv->key : "(null)";
		if (!http_field_value_valid(kv->value))
			return kv->key;
		if (str_ieq(kv->key, "Access-Control-Allow-Origin"))
			have_cors = true;
	}

	sbuf_printf(out, "Status: %d %s\r\n", h->status, http_reason(h->status));
	if (h->has_body)
		sbuf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n", type,
			    h->content_length);
	for (size_t i = 0; i < h->nheaders; i++)
		sbuf_printf(out, "%s: %s\r\n", h->headers[i].key, h->headers[i].value);
	if (!have_cors)
		sbuf_adds(out, "Access-Control-Allow-Origin: *\r\n");
	sbuf_adds(out, "\r\n");
	return NULL;
}
