-- What a finished job did to the catalog: created a tool, replaced its earlier version, or found its
-- content already there and changed nothing. NULL for jobs finished before this migration.
ALTER TABLE jobs ADD COLUMN outcome TEXT;
