-- Delivery: the customers' custom headers (CONTRACT section 10), applied to
-- delivery responses by dlcs-image and rendered into an nginx include for
-- the files nginx serves itself (handlers/custom_headers.c).

-- One header a row. space_id NULL: every space of the customer; role NULL:
-- every asset (a role-specific header applies only to assets holding that
-- role, which are never served by nginx directly). The key is kept as the
-- client spelled it and compared case-insensitively; the value is stored as
-- given (validated: no control characters, no '$').
CREATE TABLE IF NOT EXISTS custom_headers (
  id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  space_id INT NULL,
  role VARCHAR(500) COLLATE utf8mb4_nopad_bin NULL,
  header_key VARCHAR(100) CHARACTER SET ascii NOT NULL,
  header_value TEXT COLLATE utf8mb4_bin NOT NULL,
  created DATETIME(6) NOT NULL,
  KEY custom_headers_customer (customer_id),
  CONSTRAINT custom_headers_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
