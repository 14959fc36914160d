-- The kind of an ingest error, stored as such (issue 9). The runner used to
-- put it at the start of the message ("origin: ...", "image: ...",
-- "storage: ...") and the API read it back from there to choose a
-- synchronous PUT's status (502, 422, 500). The message stays as clients see
-- it (assets.error); the kind (handlers/asset/ingest_error.h) has its own
-- column, filled here from the messages already stored: an error without
-- one of those prefixes is 'other'. The prefixes were written in lower case,
-- so they are compared byte for byte.

ALTER TABLE assets ADD COLUMN IF NOT EXISTS
  error_kind ENUM('origin', 'image', 'storage', 'other') CHARACTER SET ascii NULL AFTER error;

UPDATE assets
   SET error_kind = CASE
         WHEN error COLLATE utf8mb4_bin LIKE 'origin:%' THEN 'origin'
         WHEN error COLLATE utf8mb4_bin LIKE 'image:%' THEN 'image'
         WHEN error COLLATE utf8mb4_bin LIKE 'storage:%' THEN 'storage'
         ELSE 'other'
       END
 WHERE error IS NOT NULL AND error <> '' AND error_kind IS NULL;
