/* Colour management at ingest, with Little CMS (lcms2): every derivative is
 * sRGB. Tiles and thumbnails are JPEGs without a profile, which browsers and
 * IIIF viewers show as sRGB; an original whose pixels are in another space
 * (Adobe RGB (1998), ProPhoto, a camera or scanner profile, a grey gamma, a
 * CMYK press profile) would be shown with the wrong colours unless its
 * pixels are converted. The original itself is never touched (the file
 * channel serves it as it came).
 *
 * Rules:
 *  - an image with an embedded ICC profile is converted from it to sRGB
 *    (Little CMS's built-in sRGB, the one cmsCreate_sRGBProfile makes) with
 *    the perceptual rendering intent, without black point compensation
 *    (matrix-shaper profiles such as Adobe RGB have no perceptual table, so
 *    Little CMS applies relative colorimetric to them; CMYK and other
 *    table-based profiles use their perceptual tables);
 *  - RGB, greyscale and CMYK profiles are used; a profile whose colour space
 *    does not match the pixels (a CMYK profile on RGB pixels...), that
 *    Little CMS cannot read, or that cannot be an input profile (device
 *    link, abstract, named colour) is ignored, as browsers ignore it: the
 *    pixels are then taken as sRGB;
 *  - an image without a profile is taken as sRGB;
 *  - a profile that maps every colour to itself within half an 8-bit step
 *    (sRGB IEC61966-2.1 as cameras embed it) converts nothing.
 * After a conversion the image is RGB, its profile removed. */
#ifndef DLCS_COLOUR_H
#define DLCS_COLOUR_H

#include <stddef.h>

#include <magick/api.h>

enum colour_outcome {
	COLOUR_NONE,      /* no embedded profile: taken as sRGB */
	COLOUR_SRGB,      /* a profile equivalent to sRGB: nothing to convert */
	COLOUR_CONVERTED, /* the pixels are now sRGB */
	COLOUR_IGNORED,   /* an unusable profile, dropped (note says why) */
};

/* Converts img (as decoded by GraphicsMagick or jp2.h: RGB, grey or CMYK
 * pixels, Q16) from its embedded ICC profile to sRGB in place, on up to
 * `threads` threads (large images only). The profile is removed whenever one
 * was there. Returns the outcome, or -1 when the pixels cannot be reached
 * (out of memory): then err holds the cause. note (may be NULL) receives a
 * short description of the profile and what was done, for traces. Only the
 * caller's thread calls GraphicsMagick; safe to call from several threads on
 * different images. */
int colour_to_srgb(Image *img, int threads, char *err, size_t errlen, char *note, size_t notelen);

#endif
