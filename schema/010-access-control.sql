-- Access control (CONTRACT section 9; handlers/api/access_resources.c and
-- the IIIF Authorization Flow 2.0 of handlers/asset/auth_*.c).
--
-- A role is named per customer; its URI, which assets', spaces' and portal
-- users' roles hold, is {api base}/customers/{c}/roles/{name}: the name is
-- what identifies it (the base differs by host). auth_services.roles and
-- role_providers' answers hold role URIs too. Texts are plain strings here
-- and become language maps in IIIF output.

CREATE TABLE IF NOT EXISTS role_providers (
  id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  type VARCHAR(16) CHARACTER SET ascii NOT NULL,
  configuration TEXT NOT NULL,
  credentials TEXT NULL,
  created DATETIME(6) NOT NULL,
  KEY role_providers_customer (customer_id),
  CONSTRAINT role_providers_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS auth_services (
  customer_id INT NOT NULL,
  name VARCHAR(60) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  profile VARCHAR(16) CHARACTER SET ascii NOT NULL,
  label TEXT NOT NULL,
  heading TEXT NOT NULL,
  note TEXT NOT NULL,
  confirm_label TEXT NOT NULL,
  logout_label TEXT NOT NULL,
  token_error_heading TEXT NOT NULL,
  token_error_note TEXT NOT NULL,
  ttl INT NOT NULL DEFAULT 600,
  role_provider CHAR(36) CHARACTER SET ascii NULL,
  roles TEXT NOT NULL,
  created DATETIME(6) NOT NULL,
  PRIMARY KEY (customer_id, name),
  CONSTRAINT auth_services_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
  CONSTRAINT auth_services_provider_fk FOREIGN KEY (role_provider) REFERENCES role_providers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS roles (
  customer_id INT NOT NULL,
  name VARCHAR(60) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  label TEXT NOT NULL,
  aliases TEXT NOT NULL,
  auth_service VARCHAR(60) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created DATETIME(6) NOT NULL,
  PRIMARY KEY (customer_id, name),
  CONSTRAINT roles_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
  CONSTRAINT roles_service_fk FOREIGN KEY (customer_id, auth_service)
    REFERENCES auth_services (customer_id, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A session of the access flow: the cookie's value and the bearer token are
-- random (256 bits each) and only their SHA-256 is stored. roles: the role
-- names it holds (JSON array). expires slides by ttl on use; a logout or a
-- role's deletion ends it at once (revoked).
CREATE TABLE IF NOT EXISTS auth_sessions (
  cookie_hash CHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  token_hash CHAR(64) CHARACTER SET ascii NOT NULL,
  customer_id INT NOT NULL,
  roles TEXT NOT NULL,
  origin VARCHAR(500) CHARACTER SET ascii NOT NULL,
  ttl INT NOT NULL,
  expires DATETIME(6) NOT NULL,
  revoked TINYINT(1) NOT NULL DEFAULT 0,
  created DATETIME(6) NOT NULL,
  UNIQUE KEY auth_sessions_token (token_hash),
  KEY auth_sessions_customer (customer_id, expires),
  CONSTRAINT auth_sessions_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What every customer gets (asset/customer.c seeds new ones): the
-- clickthrough role provider, auth service and role.
INSERT IGNORE INTO role_providers (id, customer_id, type, configuration, created)
  SELECT CONCAT('00000000-0000-4000-8000-', LPAD(HEX(c.id), 12, '0')), c.id, 'clickthrough', '{}',
         UTC_TIMESTAMP(6)
  FROM customers c;
INSERT IGNORE INTO auth_services (customer_id, name, profile, label, heading, note, confirm_label,
                                  logout_label, token_error_heading, token_error_note, ttl,
                                  role_provider, roles, created)
  SELECT c.id, 'clickthrough', 'active', 'Terms of use', 'Please read and accept the terms of use',
         'This material is available once you confirm that you accept its terms of use.', 'Accept',
         'Log out of clickthrough', 'Access unavailable',
         'Your access to this material has ended: please accept the terms again.', 600,
         CONCAT('00000000-0000-4000-8000-', LPAD(HEX(c.id), 12, '0')), '["clickthrough"]', UTC_TIMESTAMP(6)
  FROM customers c;
INSERT IGNORE INTO roles (customer_id, name, label, aliases, auth_service, created)
  SELECT c.id, 'clickthrough', 'Clickthrough', '[]', 'clickthrough', UTC_TIMESTAMP(6) FROM customers c;
