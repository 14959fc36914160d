/* libFuzzer driver: the IIIF request parser. The input is
 * "{version byte}{W byte}{H byte}{region}/{size}/{rotation}/{quality.format}"
 * (an odd first byte is Image API 3.0; W and H give the image size), as in
 * the corpus tests/data/fuzz/iiif_parse/ ("3ddfull/max/0/default.jpg"). Every
 * accepted request is resolved and canonicalised, and the canonical form
 * must parse and resolve again to the same box and size (the invariant the
 * response cache relies on). make check runs it over the corpus;
 * tests/fuzz/run iiif_parse fuzzes it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asset/iiif_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3 || size > 512)
		return 0;
	int version = (data[0] & 1) ? 3 : 2;
	int W = 1 + data[1] * 37, H = 1 + data[2] * 23;
	data += 3;
	size -= 3;

	char buf[520];
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (strlen(buf) != size)
		return 0; /* the router never hands over a NUL */
	char *part[4];
	char *s = buf;
	for (int i = 0; i < 4; i++) {
		part[i] = s;
		char *slash = strchr(s, '/');
		if (i < 3) {
			if (!slash)
				return 0;
			*slash = '\0';
			s = slash + 1;
		} else if (slash) {
			return 0;
		}
	}
	struct iiif_params p;
	const char *why = NULL;
	int st = iiif_parse(version, part[0], part[1], part[2], part[3], &p, &why);
	if (st != 0) {
		if ((st != 400 && st != 501) || !why)
			abort();
		return 0;
	}
	struct iiif_limits lim = {.max_area = (data[0] & 2) ? 0 : 4000000};
	struct iiif_resolved r;
	st = iiif_resolve(&p, W, H, &lim, &r, &why);
	if (st != 0) {
		if (st != 400 || !why)
			abort();
		return 0;
	}
	if (r.region.x < 0 || r.region.y < 0 || r.region.w < 1 || r.region.h < 1 ||
	    r.region.x + r.region.w > W || r.region.y + r.region.h > H || r.w < 1 || r.h < 1)
		abort();
	if (lim.max_area && (long long)r.w * r.h > lim.max_area)
		abort();

	char canon[IIIF_CANONICAL_MAX];
	iiif_canonical(&p, &r, W, H, canon, sizeof canon);
	char *cp[4];
	s = canon;
	for (int i = 0; i < 4; i++) {
		cp[i] = s;
		char *slash = strchr(s, '/');
		if (i < 3) {
			if (!slash)
				abort();
			*slash = '\0';
			s = slash + 1;
		}
	}
	struct iiif_params p2;
	struct iiif_resolved r2;
	if (iiif_parse(version, cp[0], cp[1], cp[2], cp[3], &p2, &why) != 0 ||
	    iiif_resolve(&p2, W, H, &lim, &r2, &why) != 0)
		abort();
	if (memcmp(&r.region, &r2.region, sizeof r.region) != 0 || r.w != r2.w || r.h != r2.h ||
	    p.mirror != p2.mirror || p.rotation != p2.rotation || p.format != p2.format)
		abort();
	return 0;
}
