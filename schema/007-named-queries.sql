-- Named queries (CONTRACT section 10): a customer's templates that select
-- and order assets for IIIF manifests (/iiif-resource), asset id lists
-- (/raw-resource) and the PDF and ZIP projections. The template is stored as
-- written and parsed into a typed query each time it is used
-- (handlers/asset/nq_template.h); the API refuses one that does not parse.
-- A global query (is_global) is visible to, and usable by, every customer;
-- a customer's own query of the same name wins over it. Names are compared
-- byte for byte, as they appear in URLs.
CREATE TABLE IF NOT EXISTS named_queries (
  id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  name VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  template TEXT NOT NULL,
  is_global TINYINT(1) NOT NULL DEFAULT 0,
  created DATETIME(6) NOT NULL,
  UNIQUE KEY named_queries_name (customer_id, name),
  KEY named_queries_global (is_global, name),
  CONSTRAINT named_queries_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The global queries of the admin customer (1) that the IIIF ecosystem
-- relies on: iiif-presentation asks /iiif-resource/v3/{c}/manifest-query/{m}
-- for the assets of its manifest m. On a fresh database customer 1 does not
-- exist yet: `dlcs-admin bootstrap` makes it with these
-- (handlers/asset/customer.c), and this insert covers databases whose admin
-- customer already exists.
INSERT IGNORE INTO named_queries (id, customer_id, name, template, is_global, created)
  SELECT UUID(), 1, 'manifest-query', 'manifest=p1&canvas=n1', 1, UTC_TIMESTAMP(6)
    FROM customers WHERE id = 1;
INSERT IGNORE INTO named_queries (id, customer_id, name, template, is_global, created)
  SELECT UUID(), 1, 'batch-query', 'batch=p1&canvas=n1', 1, UTC_TIMESTAMP(6)
    FROM customers WHERE id = 1;
