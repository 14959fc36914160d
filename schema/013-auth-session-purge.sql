-- Sessions of the access flow are purged once expired (a revoked one too,
-- once its expiry passes): each new login deletes a bounded number of them
-- (handlers/asset/auth_session.c), which finds them by this index.
CREATE INDEX IF NOT EXISTS auth_sessions_expires ON auth_sessions (expires);
