/* The grammar of what goes into HTTP header fields (RFC 9110, RFC 6838):
 * one place that decides whether a name, a value or a media type may be
 * written into a response. Input checks (mediaType, custom headers) and the
 * response writer (resp_head.h) both use these. */
#ifndef DLCS_HTTP_SYNTAX_H
#define DLCS_HTTP_SYNTAX_H

#include <stdbool.h>

/* A non-empty RFC 9110 token: a field name, a parameter name. */
bool http_token_valid(const char *s);
/* A field value: no control characters (C0, DEL) other than horizontal tab.
 * Bytes 0x80-0xFF (obs-text) pass; callers that need UTF-8 check it. */
bool http_field_value_valid(const char *s);
/* "type/subtype" as RFC 6838 restricts their names (up to 127 characters
 * each), optionally followed by "; name=value" parameters whose value is a
 * token or a quoted string; whitespace only around ';' and '='. At most 255
 * bytes. "image/jpeg", "text/plain; charset=utf-8". */
bool media_type_valid(const char *s);

#endif
