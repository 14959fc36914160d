/* The delivery handlers of dlcs-image (CONTRACT section 8): IIIF Image API
 * 3.0 and 2.1 on the iiif-img channel, the level-0 thumbnail service on the
 * thumbs channel, originals on the file channel, and the transcodes of the
 * iiif-av channel.
 *
 * Captures (routes_image.c): strs[0] the customer, as its id or its name;
 * ints[0] the space; strs[1] the asset id; strs[2..5] region, size,
 * rotation and quality.format of image requests.
 *
 * Statuses: 303/302 redirects; 200; 304 (If-None-Match, for what the
 * application sends itself); 400 malformed request; 401 restricted asset
 * (see delivery_access); 404 unknown customer or asset, the asset not on the
 * channel, failed to ingest, or never ingested; 501 unsupported; 503 the
 * database is down, or the asset is being ingested and has no files yet
 * (with Retry-After); 500 a stored file is missing or unreadable.
 *
 * Stored files (tiles, thumbnails, originals, cached renders) are sent by
 * nginx: the response carries X-Accel-Redirect to the internal location
 * (config nginx_storage_location, default /dlcs-storage, an alias of
 * storage_root; nginx/dlcs.conf) and an empty body. nginx keeps
 * Content-Type and Cache-Control of such a response and adds
 * Access-Control-Allow-Origin and the custom headers back (the generated
 * custom-headers include).
 *
 * Configuration: storage_root, nginx_storage_location, image_max_area
 * (maxArea, default 16777216), image_cache_bytes (the render cache under
 * {storage_root}/.cache/, default 1 GiB, 0 disables it), image_jpeg_quality
 * (default jpeg_quality, else 85). */
#ifndef DLCS_DELIVERY_H
#define DLCS_DELIVERY_H

struct req;

/* The IIIF version of a request is its route row's arg (routes_image.c): 2
 * for the /v2/ paths, else 3.
 * /iiif-img/[v2/|v3/]{c}/{s}/{id}: 303 to its info.json (the /v2/ one for 2). */
int iiif_img_redirect(struct req *rq);
/* /iiif-img/{c}/{s}/{id}/info.json: 3.0; /iiif-img/v2/...: 2.1. */
int iiif_img_info(struct req *rq);
/* /iiif-img/v3/.../info.json: 302 to the canonical 3.0 path. */
int iiif_img_info_v3(struct req *rq);
/* /iiif-img/[v2/|v3/]{c}/{s}/{id}/{region}/{size}/{rotation}/{quality}.{format}
 * (2.1 on /v2/, else 3.0): a stored tile or thumbnail when the request is
 * exactly one, else a cached or new render. */
int iiif_img_image(struct req *rq);
/* /thumbs/[v2/]{c}/{s}/{id}: 303 to info.json; /thumbs/[v2/]{c}/{s}/{id}/info.json:
 * level 0 with the open sizes; /thumbs/[v2/]...{region}/{size}/0/default.jpg:
 * only a stored open size (404 otherwise; 400 for another region, rotation,
 * quality or format). */
int thumbs_redirect(struct req *rq);
int thumbs_info(struct req *rq);
int thumbs_image(struct req *rq);
/* /file/{c}/{s}/{id}: the original with the asset's mediaType (file channel). */
int file_get(struct req *rq);
/* /iiif-av/{c}/{s}/{id}/full/max/default.{ext} (audio) and
 * .../full/full/max/max/0/default.{ext} (video): a transcode of the
 * asset's iiif-av policy (CONTRACT section 12), with its preset's media
 * type; 404 for a path no transcode of the asset has. */
int av_audio_get(struct req *rq);
int av_video_get(struct req *rq);

/* The access check every delivery goes through. An asset is restricted when
 * it has roles or maxUnauthorised >= 0; then only whole images whose longest
 * side is at most maxUnauthorised are open (w x h; a part of the image, an
 * original or an AV file is asked for as w = h = 0), and everything else
 * needs a session of the IIIF Authorization Flow that holds one of the
 * asset's roles: 401 without one, 403 with one that lacks them. Returns 0,
 * or the error status. */
struct delivery_asset;
int delivery_access(struct req *rq, const struct delivery_asset *as, int w, int h);

#endif
