-- An asset row's version (asset/row.h ASSET_ROW_VERSION_NEXT): a number
-- from one sequence, taken by the row when it is inserted and again by every
-- UPDATE of it, so that it changes with any change of the row and is never
-- given twice (to another asset, or across a delete and a new asset of the
-- same id). The stored manifests of named
-- queries (asset/manifest_store.h) are checked against the versions of the
-- rows the query selects now: one narrow query instead of the whole rows.
CREATE SEQUENCE IF NOT EXISTS asset_row_versions;

-- The existing rows take one each from the default; then the default goes:
-- MariaDB 10.11 crashes evaluating a NEXTVAL default in an INSERT of a
-- prepared statement, so every INSERT names the column (a missing one is
-- an error in strict mode).
ALTER TABLE assets
  ADD COLUMN IF NOT EXISTS row_version BIGINT UNSIGNED NOT NULL
  DEFAULT NEXTVAL(asset_row_versions);

ALTER TABLE assets ALTER COLUMN row_version DROP DEFAULT;
