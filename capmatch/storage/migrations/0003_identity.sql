-- A tool's identity vector: the embedding of "<name>: <summary>", the page's own sentence saying
-- what the tool is. Similar-tool scores combine it with capability matches.
ALTER TABLE tools ADD COLUMN identity BLOB;
