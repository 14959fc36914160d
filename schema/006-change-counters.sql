-- Change counters (handlers/asset/change_counter.h): a number per kind of
-- data that a writer moves on after each committed change, for a process
-- that follows the changes by polling one row. 'custom_headers' is moved on
-- by the API after each change of a customer's custom headers; the runner
-- that renders the nginx include (handlers/ingest/headers_renderer.c) polls
-- it and renders again when it moves, so that API workers never touch nginx.

CREATE TABLE IF NOT EXISTS change_counters (
  name VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  generation BIGINT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=ascii;

INSERT IGNORE INTO change_counters (name, generation) VALUES ('custom_headers', 0);
