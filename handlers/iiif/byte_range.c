/* The Range header as nginx's range filter reads it (its parser's rules,
 * not its code): "bytes=" then comma-separated "first-last", "first-" or
 * "-suffix", blanks allowed around the numbers; any other character, or a
 * number past the largest file offset, is a 416; a range that starts at or
 * past the end is skipped, and a list left empty is a 416. */
#include <limits.h>
#include <stdbool.h>
#include <strings.h>

#include "iiif/byte_range.h"
#include "banned.h"

static const char *blanks(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* Reads a decimal number at *p; false when there is none or it overflows. */
static bool number(const char **p, long long *out)
{
	const char *s = *p;
	long long v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		int d = *s - '0';
		if (v > (LLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

bool byte_range_satisfiable(const char *range, long long size)
{
	if (!range || strncasecmp(range, "bytes=", 6) != 0 || range[6] == '\0')
		return true; /* not a byte range: nginx ignores it */
	const char *p = range + 6;
	bool any = false;
	for (;;) {
		long long start = 0, end = 0;
		p = blanks(p);
		if (*p != '-') {
			if (!number(&p, &start))
				return false;
			p = blanks(p);
			if (*p++ != '-')
				return false;
			p = blanks(p);
			if (*p == ',' || *p == '\0') {
				end = size; /* "first-": to the end */
			} else {
				if (!number(&p, &end))
					return false;
				end = end >= size ? size : end + 1;
			}
		} else {
			p++;
			long long suffix;
			if (!number(&p, &suffix))
				return false;
			start = suffix < size ? size - suffix : 0;
			end = size;
		}
		p = blanks(p);
		if (*p != ',' && *p != '\0')
			return false;
		if (start < end)
			any = true;
		if (*p++ != ',')
			break;
	}
	return any;
}
