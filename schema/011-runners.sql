-- The runners alive (issue 12, dlcs-admin status). Each runner writes its
-- row when it starts and every few seconds between items from then on, and
-- deletes it when it stops; a row whose heartbeat is old is a runner that
-- died without saying so (kill -9, a lost host), or one busy with a long
-- item (its lease in ingest_queue says which). Rows not heard of for a day
-- are removed by the next runner that starts.
CREATE TABLE IF NOT EXISTS runners (
  owner VARCHAR(128) NOT NULL PRIMARY KEY,
  host VARCHAR(120) NOT NULL,
  pid INT NOT NULL,
  started DATETIME(6) NOT NULL,
  heartbeat DATETIME(6) NOT NULL,
  KEY runners_heartbeat (heartbeat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
