-- Core tables: customers, keys, spaces, assets and the delivery-channel
-- configuration they depend on. Times are UTC (the connection sets time_zone
-- to +00:00). Text identifiers that are case-sensitive use a binary collation.

CREATE TABLE IF NOT EXISTS customers (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(60) NOT NULL,
  display_name VARCHAR(255) NOT NULL,
  created DATETIME(6) NOT NULL,
  is_admin TINYINT(1) NOT NULL DEFAULT 0,
  storage_policy VARCHAR(100) NOT NULL DEFAULT 'default',
  UNIQUE KEY customers_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Secrets are never stored: secret_hash is SHA-256 over salt, key and secret.
CREATE TABLE IF NOT EXISTS api_keys (
  api_key CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  secret_hash CHAR(64) CHARACTER SET ascii NOT NULL,
  created DATETIME(6) NOT NULL,
  KEY api_keys_customer (customer_id),
  CONSTRAINT api_keys_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Minted ids: (scope, customer_id) -> next value. Scopes: 'customer' (customer_id 0), 'space'.
CREATE TABLE IF NOT EXISTS entity_counters (
  scope VARCHAR(32) CHARACTER SET ascii NOT NULL,
  customer_id INT NOT NULL,
  next BIGINT NOT NULL,
  PRIMARY KEY (scope, customer_id)
) ENGINE=InnoDB;

-- default_tags / default_roles hold JSON arrays of strings.
CREATE TABLE IF NOT EXISTS spaces (
  customer_id INT NOT NULL,
  id INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  created DATETIME(6) NOT NULL,
  default_tags TEXT NOT NULL,
  default_roles TEXT NOT NULL,
  max_unauthorised INT NOT NULL DEFAULT -1,
  image_count BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (customer_id, id),
  UNIQUE KEY spaces_name (customer_id, name),
  CONSTRAINT spaces_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Values are data: the list tables compare with utf8mb4_nopad_bin, where
-- "x" and "x " differ (utf8mb4_bin pads, so they would be equal).
-- Assets. tags, roles, manifests and delivery_channels are JSON arrays kept
-- for serialisation; the asset_tags / asset_roles / asset_manifests rows are
-- the indexed copies that queries use. Both are written in one transaction.
-- width/height/duration are NULL until an ingest measures them.
CREATE TABLE IF NOT EXISTS assets (
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created DATETIME(6) NOT NULL,
  origin TEXT NOT NULL,
  tags TEXT NOT NULL,
  roles TEXT NOT NULL,
  manifests TEXT NOT NULL,
  string1 VARCHAR(255) NOT NULL DEFAULT '',
  string2 VARCHAR(255) NOT NULL DEFAULT '',
  string3 VARCHAR(255) NOT NULL DEFAULT '',
  number1 BIGINT NOT NULL DEFAULT 0,
  number2 BIGINT NOT NULL DEFAULT 0,
  number3 BIGINT NOT NULL DEFAULT 0,
  max_unauthorised INT NOT NULL DEFAULT -1,
  media_type VARCHAR(255) NOT NULL,
  family CHAR(1) CHARACTER SET ascii NOT NULL,
  delivery_channels TEXT NOT NULL,
  width INT NULL,
  height INT NULL,
  duration BIGINT NULL,
  ingesting TINYINT(1) NOT NULL DEFAULT 0,
  finished DATETIME(6) NULL,
  error TEXT NULL,
  batch_id BIGINT NULL,
  PRIMARY KEY (customer_id, space_id, id),
  KEY assets_space_created (customer_id, space_id, created),
  KEY assets_customer_created (customer_id, created),
  KEY assets_id (customer_id, id),
  KEY assets_string1 (customer_id, string1, space_id),
  KEY assets_string2 (customer_id, string2, space_id),
  KEY assets_string3 (customer_id, string3, space_id),
  KEY assets_number1 (customer_id, number1, space_id),
  KEY assets_number2 (customer_id, number2, space_id),
  KEY assets_number3 (customer_id, number3, space_id),
  KEY assets_batch (batch_id),
  CONSTRAINT assets_space_fk FOREIGN KEY (customer_id, space_id) REFERENCES spaces (customer_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS asset_tags (
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  asset_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  tag VARCHAR(255) COLLATE utf8mb4_nopad_bin NOT NULL,
  PRIMARY KEY (customer_id, space_id, asset_id, tag),
  KEY asset_tags_tag (customer_id, tag, space_id),
  CONSTRAINT asset_tags_asset_fk FOREIGN KEY (customer_id, space_id, asset_id)
    REFERENCES assets (customer_id, space_id, id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS asset_roles (
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  asset_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  role VARCHAR(500) COLLATE utf8mb4_nopad_bin NOT NULL,
  PRIMARY KEY (customer_id, space_id, asset_id, role),
  KEY asset_roles_role (customer_id, role, space_id),
  CONSTRAINT asset_roles_asset_fk FOREIGN KEY (customer_id, space_id, asset_id)
    REFERENCES assets (customer_id, space_id, id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS asset_manifests (
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  asset_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  manifest VARCHAR(500) COLLATE utf8mb4_nopad_bin NOT NULL,
  PRIMARY KEY (customer_id, space_id, asset_id, manifest),
  KEY asset_manifests_manifest (customer_id, manifest, space_id),
  CONSTRAINT asset_manifests_asset_fk FOREIGN KEY (customer_id, space_id, asset_id)
    REFERENCES assets (customer_id, space_id, id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Delivery channel policies. customer_id 0 holds the system policies
-- (iiif-img/default, iiif-img/use-original, file/none, none/none); each
-- customer gets its own copy of the non-system ones (thumbs/default, iiif-av/*).
-- policy_data is a JSON array held as text, as the API shows it.
CREATE TABLE IF NOT EXISTS delivery_channel_policies (
  customer_id INT NOT NULL,
  channel VARCHAR(20) CHARACTER SET ascii NOT NULL,
  name VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  display_name VARCHAR(255) NOT NULL DEFAULT '',
  policy_data TEXT NULL,
  created DATETIME(6) NOT NULL,
  modified DATETIME(6) NOT NULL,
  PRIMARY KEY (customer_id, channel, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Defaults by mediaType glob; space_id 0 is the customer level.
CREATE TABLE IF NOT EXISTS default_delivery_channels (
  id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  space_id INT NOT NULL DEFAULT 0,
  media_type VARCHAR(255) NOT NULL,
  channel VARCHAR(20) CHARACTER SET ascii NOT NULL,
  policy VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  UNIQUE KEY ddc_unique (customer_id, space_id, media_type, channel),
  CONSTRAINT ddc_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS storage_policies (
  id VARCHAR(100) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  max_images BIGINT NOT NULL,
  max_bytes BIGINT NOT NULL
) ENGINE=InnoDB;

INSERT IGNORE INTO storage_policies (id, max_images, max_bytes)
  VALUES ('default', 1000000000, 1125899906842624);

INSERT IGNORE INTO delivery_channel_policies (customer_id, channel, name, display_name, policy_data, created, modified) VALUES
  (0, 'iiif-img', 'default', 'Default IIIF image service', NULL, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  (0, 'iiif-img', 'use-original', 'Serve tiles from the original', NULL, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  (0, 'file', 'none', 'No transformation', NULL, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  (0, 'none', 'none', 'No delivery', NULL, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));

-- Per-asset storage accounting; customer and space totals are summed from it
-- (space totals through the indexed (customer_id, space_id) prefix).
CREATE TABLE IF NOT EXISTS asset_storage (
  customer_id INT NOT NULL,
  space_id INT NOT NULL,
  asset_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  size BIGINT NOT NULL DEFAULT 0,
  thumbnail_size BIGINT NOT NULL DEFAULT 0,
  last_checked DATETIME(6) NOT NULL,
  PRIMARY KEY (customer_id, space_id, asset_id),
  CONSTRAINT asset_storage_asset_fk FOREIGN KEY (customer_id, space_id, asset_id)
    REFERENCES assets (customer_id, space_id, id) ON DELETE CASCADE
) ENGINE=InnoDB;
