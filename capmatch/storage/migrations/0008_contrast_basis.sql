-- What each rules-written Unique / vs alternatives claim rests on: the attribute, and the evidence
-- quotes (index and text) of this capability and of the alternative it is contrasted with. JSON:
-- {"unique": [claim, ...], "vs_alternatives": [{"alternative": id, "tool": id, "this": [...], "other": [...]}]}
ALTER TABLE capabilities ADD COLUMN contrast_basis TEXT NOT NULL DEFAULT '{}';
