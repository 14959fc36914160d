-- Repairs of stored values that today's input checks refuse (issue 8).
--
-- mediaType is checked on input as an RFC 6838 media type with optional
-- parameters (fcgi/http_syntax.c, media_type_valid); before that check any
-- string of up to 255 characters was stored, CR/LF included, and /file sent
-- it as the Content-Type. Every stored value the check would refuse is
-- repaired to its leading type/subtype when it has one ("image/jpeg\r\nX-..."
-- becomes "image/jpeg"), else to application/octet-stream; each repair is
-- recorded in asset_repairs first, so an admin can see what was changed.
-- The expression below is media_type_valid written as a regular expression
-- (MariaDB's PCRE): type/subtype, then "; name=token" or "; name=quoted".

CREATE TABLE IF NOT EXISTS asset_repairs (
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  asset_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  field VARCHAR(64) CHARACTER SET ascii NOT NULL,
  old_value TEXT COLLATE utf8mb4_bin NOT NULL,
  new_value TEXT COLLATE utf8mb4_bin NOT NULL,
  repaired DATETIME(6) NOT NULL,
  KEY asset_repairs_asset (customer_id, space_id, asset_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO asset_repairs (customer_id, space_id, asset_id, field, old_value, new_value, repaired)
SELECT customer_id, space_id, id, 'mediaType', media_type,
       COALESCE(NULLIF(REGEXP_SUBSTR(media_type COLLATE utf8mb4_bin,
         '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}'), ''),
         'application/octet-stream'),
       UTC_TIMESTAMP(6)
  FROM assets
 WHERE media_type COLLATE utf8mb4_bin NOT REGEXP
   '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}([ \t]*;[ \t]*[-!#$%&''*+.^_`|~0-9A-Za-z]+=([-!#$%&''*+.^_`|~0-9A-Za-z]+|"([\t !#-\\[\\]-~]|\\\\[\t -~])*"))*[ \t]*$';

UPDATE assets a
  JOIN asset_repairs r ON r.customer_id = a.customer_id AND r.space_id = a.space_id
                      AND r.asset_id = a.id AND r.field = 'mediaType'
   SET a.media_type = r.new_value
 WHERE a.media_type COLLATE utf8mb4_bin = r.old_value;

-- Space ids start at 1: space 0 is where default_delivery_channels keeps the
-- customer-level defaults, and a space numbered 0 (PUT .../spaces/0 was
-- accepted) aliased them. The API now answers 400 for space 0; an empty
-- space 0 is removed (its row only: the customer-level defaults stay). A
-- space 0 that holds assets is left for the admin to move.
DELETE FROM spaces
 WHERE id = 0
   AND NOT EXISTS (SELECT 1 FROM assets WHERE assets.customer_id = spaces.customer_id
                                           AND assets.space_id = 0);
