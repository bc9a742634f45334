-- The web pages list recent tools, order pickers by name and list recent jobs: without these each
-- view scans and sorts a whole table.
CREATE INDEX tools_created ON tools (created_at);
CREATE INDEX tools_name ON tools (name COLLATE NOCASE);
CREATE INDEX jobs_created ON jobs (created_at);
