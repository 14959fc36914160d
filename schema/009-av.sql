-- Audio and video: the iiif-av channel (issue 13, CONTRACT section 12).

-- Whether a queued item transcodes (its asset has the iiif-av channel),
-- written when it is queued (asset/work.c): a runner whose host already
-- runs av_max_transcodes transcodes claims only items that do not, so that
-- long transcodes never hold every runner while images wait.
ALTER TABLE ingest_queue ADD COLUMN IF NOT EXISTS av TINYINT(1) NOT NULL DEFAULT 0;

UPDATE ingest_queue q
  JOIN assets a ON a.customer_id = q.customer_id AND a.space_id = q.space_id AND a.id = q.asset_id
   SET q.av = 1
 WHERE a.delivery_channels LIKE '%"channel":"iiif-av"%';

-- A video's poster frame gives it thumbnails (the thumbs channel), so the
-- seeded defaults of video/* are iiif-av/default-video and thumbs/default
-- (CONTRACT section 5). Customers made before get the second where they
-- still have the first as seeded and their own thumbs/default policy; a
-- customer who set a thumbs default for video/* keeps it (the unique key).
INSERT IGNORE INTO default_delivery_channels (id, customer_id, space_id, media_type, channel, policy)
SELECT UUID(), d.customer_id, 0, 'video/*', 'thumbs', 'default'
  FROM default_delivery_channels d
 WHERE d.space_id = 0 AND d.media_type = 'video/*' AND d.channel = 'iiif-av'
   AND d.policy = 'default-video'
   AND EXISTS (SELECT 1 FROM delivery_channel_policies p
                WHERE p.customer_id = d.customer_id AND p.channel = 'thumbs'
                  AND p.name = 'default');

-- The kind of error of an original that is not usable audio or video
-- (asset/ingest_error.h: "media", its own fault like "image").
ALTER TABLE assets MODIFY COLUMN
  error_kind ENUM('origin', 'image', 'storage', 'other', 'media') CHARACTER SET ascii NULL;
