-- Ingest: batches, the work queue shared by every runner, origin strategies
-- and storage accounting.

-- A batch of assets submitted to a customer's queue. completed/errors are
-- recomputed from batch_assets when an item finishes; finished is set once,
-- when completed + errors = count.
CREATE TABLE IF NOT EXISTS batches (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  submitted DATETIME(6) NOT NULL,
  count INT NOT NULL,
  completed INT NOT NULL DEFAULT 0,
  errors INT NOT NULL DEFAULT 0,
  finished DATETIME(6) NULL,
  superseded TINYINT(1) NOT NULL DEFAULT 0,
  priority TINYINT(1) NOT NULL DEFAULT 0,
  KEY batches_customer (customer_id, id),
  KEY batches_customer_finished (customer_id, finished),
  CONSTRAINT batches_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Membership and outcome of each asset in each batch (the history; an
-- asset's current batch is assets.batch_id). status: 1 waiting, 2 error, 3 completed.
CREATE TABLE IF NOT EXISTS batch_assets (
  batch_id BIGINT NOT NULL,
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  asset_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status TINYINT NOT NULL DEFAULT 1,
  finished DATETIME(6) NULL,
  PRIMARY KEY (batch_id, space_id, asset_id),
  KEY batch_assets_status (batch_id, status),
  CONSTRAINT batch_assets_batch_fk FOREIGN KEY (batch_id) REFERENCES batches (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The work queue. A runner claims the first unleased item (sync work, then
-- priority, then oldest) with SELECT ... FOR UPDATE SKIP LOCKED and sets a
-- lease; the item is deleted, in the same transaction that records the
-- outcome, only by the runner still holding the lease. An item whose runner
-- died is claimed again once lease_until has passed.
-- priority: 2 synchronous PUT/PATCH, 1 priority queue, 0 main queue.
CREATE TABLE IF NOT EXISTS ingest_queue (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  asset_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  batch_id BIGINT NULL,
  priority TINYINT NOT NULL DEFAULT 0,
  enqueued DATETIME(6) NOT NULL,
  lease_owner VARCHAR(128) NULL,
  lease_until DATETIME(6) NULL,
  attempts INT NOT NULL DEFAULT 0,
  KEY ingest_queue_claim (priority DESC, id),
  KEY ingest_queue_asset (customer_id, space_id, asset_id),
  KEY ingest_queue_batch (batch_id)
) ENGINE=InnoDB;

-- Origin strategies: the first whose regex matches an origin, in sort_order,
-- chooses how it is fetched. credentials holds {"user","password"} for
-- basic-http-authentication and is never returned by the API.
CREATE TABLE IF NOT EXISTS origin_strategies (
  id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  regex VARCHAR(1000) NOT NULL,
  strategy VARCHAR(64) CHARACTER SET ascii NOT NULL,
  credentials TEXT NULL,
  optimised TINYINT(1) NOT NULL DEFAULT 0,
  sort_order INT NOT NULL DEFAULT 0,
  created DATETIME(6) NOT NULL,
  KEY origin_strategies_customer (customer_id, sort_order),
  CONSTRAINT origin_strategies_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Storage totals per customer (space_id 0) and per space, maintained in the
-- same transaction as asset_storage so reading them never scans assets.
CREATE TABLE IF NOT EXISTS customer_storage (
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  images BIGINT NOT NULL DEFAULT 0,
  bytes BIGINT NOT NULL DEFAULT 0,
  thumbnail_bytes BIGINT NOT NULL DEFAULT 0,
  last_calculated DATETIME(6) NOT NULL,
  PRIMARY KEY (customer_id, space_id)
) ENGINE=InnoDB;
