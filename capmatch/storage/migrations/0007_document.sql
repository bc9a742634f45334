-- A tool's document vector: the embedding of the opening of its cleaned page (what MiniLM reads of
-- it, 256 word pieces). One of the signals similar-tool scores fuse (capmatch.matching.fusion);
-- on mid-length descriptions it is the strongest single signal.
ALTER TABLE tools ADD COLUMN document BLOB;
