-- The PDF and ZIP projections of named queries (CONTRACT section 10): one
-- row per customer, kind, query name and arguments. The API (a GET of
-- /pdf/... or /zip/...) runs the query, hashes its result (the assets, their
-- versions and access, handlers/asset/projection.h) into want_hash and,
-- unless the stored file was made from that very result (made_hash), queues
-- the row for the runners; a runner claims it with a lease, writes the file
-- under storage_root (file, relative to it) and records what it made. nginx
-- sends the file. A result that changes queues the row again: remade.
CREATE TABLE IF NOT EXISTS projections (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  kind CHAR(3) CHARACTER SET ascii NOT NULL,
  query_name VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  args_key CHAR(64) CHARACTER SET ascii NOT NULL,
  args TEXT NOT NULL,
  want_hash CHAR(64) CHARACTER SET ascii NOT NULL,
  state ENUM('queued', 'making', 'done', 'error') NOT NULL,
  requested DATETIME(6) NOT NULL,
  lease_owner VARCHAR(200) NULL,
  lease_until DATETIME(6) NULL,
  made_hash CHAR(64) CHARACTER SET ascii NULL,
  file VARCHAR(255) CHARACTER SET ascii NULL,
  created DATETIME(6) NULL,
  item_count INT NOT NULL DEFAULT 0,
  size_bytes BIGINT NOT NULL DEFAULT 0,
  roles TEXT NULL,
  error TEXT NULL,
  UNIQUE KEY projections_key (customer_id, kind, query_name, args_key),
  KEY projections_queue (state, requested),
  CONSTRAINT projections_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
