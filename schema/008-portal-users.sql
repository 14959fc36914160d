-- Portal users (CONTRACT section 11; handlers/api/portal_users.c, and the
-- login check handlers/asset/portal_user.h): a customer's people, who log in
-- with an e-mail address and a password. password_hash is a yescrypt hash
-- ("$y$...", libxcrypt); the password itself is never stored. Addresses are
-- ASCII and unique per customer whatever their case (ascii_general_ci).
-- roles holds a JSON array of role URIs, as assets' roles do.

CREATE TABLE IF NOT EXISTS portal_users (
  id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  email VARCHAR(254) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  enabled TINYINT(1) NOT NULL DEFAULT 1,
  roles TEXT NOT NULL,
  created DATETIME(6) NOT NULL,
  UNIQUE KEY portal_users_email (customer_id, email),
  CONSTRAINT portal_users_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
