-- Bulk data for tests/bench/api-bench: @n assets in space @space of customer
-- @customer, written straight into the tables (the API would take hours for a
-- million PUTs). Run with the three variables set first, e.g.
--
--   ( echo 'SET @customer=2, @space=1, @n=1000000;'; cat make-assets.sql ) |
--     mariadb --no-defaults -S $DLCS_VAR/run/mysqld.sock -uroot dlcs
--
-- The customer and the space must exist (api-bench creates both through the
-- API, so the customer has its own delivery-channel policies and defaults) and
-- the space must hold no assets. Rows are what an ingested image's row looks
-- like after PUT + ingest: every NOT NULL column filled, width/height set,
-- ingesting 0, finished set. Asset N (1 <= N <= @n) has
--   id        'a' || N zero-padded to 7 digits      (a0000001 .. a1000000)
--   string1   'v' || (N mod 10000)                  v42 matches @n/10000 assets
--   string2   's' || (N mod 100)
--   number1   (N * 7919) mod 1000003                a scrambled order
--   number2   N, number3 N mod 1000
--   tags      ["tenth"] when N mod 10 = 0 (with its asset_tags row), else []
-- and spaces.image_count is set to @n, as the API keeps it.
--
-- MariaDB's sequence engine supplies the numbers (seq_1_to_N tables exist
-- implicitly). Into empty tables, with unique and foreign key checks off,
-- InnoDB builds the indexes by sorting instead of row by row (MariaDB 10.6+):
-- a million rows take about a minute on the 2-core development machines.

SET SESSION unique_checks = 0;
SET SESSION foreign_key_checks = 0;
SET SESSION time_zone = '+00:00';

START TRANSACTION;
INSERT INTO assets (customer_id, space_id, id, created, origin, tags, roles, manifests,
                    string1, string2, string3, number1, number2, number3, max_unauthorised,
                    media_type, family, delivery_channels, width, height, duration,
                    ingesting, finished, error, batch_id, row_version)
SELECT @customer, @space,
       CONCAT('a', LPAD(seq, 7, '0')),
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq SECOND,
       CONCAT('https://example.org/bench/a', LPAD(seq, 7, '0'), '.jpg'),
       IF(seq % 10 = 0, '["tenth"]', '[]'),
       '[]', '[]',
       CONCAT('v', seq % 10000), CONCAT('s', seq % 100), '',
       (seq * 7919) % 1000003, seq, seq % 1000,
       -1, 'image/jpeg', 'I',
       '[{"channel":"iiif-img","policy":"default"},{"channel":"thumbs","policy":"default"}]',
       4000 + seq % 1000, 3000 + seq % 700, NULL,
       0, TIMESTAMP('2024-01-01 00:00:30') + INTERVAL seq SECOND, NULL, NULL,
       NEXTVAL(asset_row_versions)
FROM seq_1_to_100000000
WHERE seq BETWEEN 1 AND @n;
COMMIT;

START TRANSACTION;
INSERT INTO asset_tags (customer_id, space_id, asset_id, tag)
SELECT @customer, @space, CONCAT('a', LPAD(seq, 7, '0')), 'tenth'
FROM seq_1_to_100000000
WHERE seq BETWEEN 1 AND @n AND seq % 10 = 0;
COMMIT;

UPDATE spaces SET image_count = (SELECT COUNT(*) FROM assets
                                 WHERE customer_id = @customer AND space_id = @space)
WHERE customer_id = @customer AND id = @space;

SET SESSION unique_checks = 1;
SET SESSION foreign_key_checks = 1;
