-- The public part of a session's cookie (handlers/asset/auth_session.h): the
-- cookie is {sid}{secret}, and nginx, which sends restricted tiles itself
-- after a cached access decision, names a revocation marker after the sid
-- ({storage_root}/auth-revoked/{sid}, written on logout and on a role's
-- deletion) to stop trusting that decision at once. Sessions made before
-- have none (NULL): their cookies always go to dlcs-image.
ALTER TABLE auth_sessions ADD COLUMN IF NOT EXISTS
  sid CHAR(32) CHARACTER SET ascii NULL AFTER token_hash;
