/* dlcs-image's URLs, one row each; every one is anonymous (access control
 * is the handlers' delivery_access). The router takes the first match, so
 * the /v2/ and /v3/ rows come first: a customer named "v2" or "v3" is
 * reached by its numeric id on these paths. HEAD follows GET. The arg of a
 * row is the IIIF version its handler answers in (delivery.h). */
#include "iiif/delivery.h"
#include "iiif/routes_image.h"
#include "banned.h"

#define ID    "/%s/%d/%s"
#define IMAGE ID "/%s/%s/%s/%s"

const struct route image_routes[] = {
	{M_GET, "/iiif-img/v2" ID, iiif_img_redirect, R_ANON, 2},
	{M_GET, "/iiif-img/v2" ID "/info.json", iiif_img_info, R_ANON, 2},
	{M_GET, "/iiif-img/v2" IMAGE, iiif_img_image, R_ANON, 2},
	{M_GET, "/iiif-img/v3" ID, iiif_img_redirect, R_ANON, 3},
	{M_GET, "/iiif-img/v3" ID "/info.json", iiif_img_info_v3, R_ANON, 3},
	{M_GET, "/iiif-img/v3" IMAGE, iiif_img_image, R_ANON, 3},
	{M_GET, "/iiif-img" ID, iiif_img_redirect, R_ANON, 3},
	{M_GET, "/iiif-img" ID "/info.json", iiif_img_info, R_ANON, 3},
	{M_GET, "/iiif-img" IMAGE, iiif_img_image, R_ANON, 3},

	{M_GET, "/thumbs/v2" ID, thumbs_redirect, R_ANON, 2},
	{M_GET, "/thumbs/v2" ID "/info.json", thumbs_info, R_ANON, 2},
	{M_GET, "/thumbs/v2" IMAGE, thumbs_image, R_ANON, 2},
	{M_GET, "/thumbs" ID, thumbs_redirect, R_ANON, 3},
	{M_GET, "/thumbs" ID "/info.json", thumbs_info, R_ANON, 3},
	{M_GET, "/thumbs" IMAGE, thumbs_image, R_ANON, 3},

	{M_GET, "/file" ID, file_get, R_ANON, 0},

	{M_GET, "/iiif-av" ID "/full/max/%s", av_audio_get, R_ANON, 0},
	{M_GET, "/iiif-av" ID "/full/full/max/max/0/%s", av_video_get, R_ANON, 0},
};

const size_t image_routes_count = sizeof image_routes / sizeof image_routes[0];
