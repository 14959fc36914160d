/* Canvas fragments (api/manifest_fragment.h). */
#include <stdbool.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "str.h"
#include "api/manifest_fragment.h"
#include "banned.h"

/* A marker is 0x7f and a letter. The writer escapes only '"', '\' and
 * bytes below 0x20, so 0x7f passes into the text as it is, and an asset
 * whose own text holds one gets no fragment: every 0x7f in a fragment is
 * then a marker. */
#define MARK '\x7f'
#define MARK_BASE                                                                                  \
	"\x7f"                                                                                     \
	"B"
#define MARK_CUST                                                                                  \
	"\x7f"                                                                                     \
	"C"
#define MARK_NUM                                                                                   \
	"\x7f"                                                                                     \
	"N"

static bool has_mark(const char *s)
{
	return s && strchr(s, MARK) != NULL;
}

/* The same for stored JSON text (tags, roles): the marker byte raw or as
 * its escape, which the writer turns back into the byte. */
static bool json_has_mark(const char *s)
{
	if (!s)
		return false;
	for (const char *p = s; (p = strstr(p, "\\u007")); p += 5)
		if (p[5] == 'f' || p[5] == 'F')
			return true;
	return has_mark(s);
}

const char *mf_fragment_make(struct arena *a, int version, const struct mf_asset *as, size_t *len)
{
	/* a probe service is written for each request (asset/auth_doc.h) */
	if (as->probe_json || has_mark(as->id) || has_mark(as->media_type) ||
	    json_has_mark(as->tags_json) || json_has_mark(as->roles_json))
		return NULL;
	for (int k = 0; k < 3; k++)
		if (has_mark(as->strings[k]))
			return NULL;
	struct mf_doc d = {
		.version = version,
		.base = MARK_BASE,
		.cpart = MARK_CUST,
	};
	struct jw *w = jw_new(a);
	manifest_write_canvas(w, a, &d, as, MARK_NUM);
	return jw_text(w, len);
}

void mf_fragment_fill(struct sbuf *b, const char *frag, size_t len, const char *base_json,
		      const char *cpart_json, int n)
{
	char num[16];
	xsnprintf(num, sizeof num, "%d", n);
	size_t numlen = strlen(num);
	size_t blen = strlen(base_json), clen = strlen(cpart_json);
	const char *p = frag, *end = frag + len;
	while (p < end) {
		const char *m = memchr(p, MARK, (size_t)(end - p));
		if (!m || m + 1 >= end) {
			sbuf_add(b, p, (size_t)(end - p));
			return;
		}
		sbuf_add(b, p, (size_t)(m - p));
		switch (m[1]) {
		case 'B':
			sbuf_add(b, base_json, blen);
			break;
		case 'C':
			sbuf_add(b, cpart_json, clen);
			break;
		case 'N':
			sbuf_add(b, num, numlen);
			break;
		default: /* cannot happen (has_mark); kept as it is */
			sbuf_add(b, m, 2);
		}
		p = m + 2;
	}
}

const char *mf_json_inner(struct arena *a, const char *s)
{
	struct jw *w = jw_new(a);
	jw_str(w, s);
	size_t len;
	const char *text = jw_text(w, &len);
	if (!text || len < 2)
		return NULL;
	return arena_strndup(a, text + 1, len - 2);
}
