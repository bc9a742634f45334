-- LLM backend: what ran, what it cost, and a cache keyed by content, prompt version and model.
ALTER TABLE jobs ADD COLUMN backend TEXT;
ALTER TABLE jobs ADD COLUMN model TEXT;
ALTER TABLE jobs ADD COLUMN prompt_version TEXT;
ALTER TABLE jobs ADD COLUMN notice TEXT;
ALTER TABLE jobs ADD COLUMN usage TEXT;

ALTER TABLE tools ADD COLUMN usage TEXT;

ALTER TABLE capabilities ADD COLUMN prompt_version TEXT;
-- 'rules' (computed from the catalog) or 'llm:<prompt version>:<model>'.
ALTER TABLE capabilities ADD COLUMN contrast_by TEXT NOT NULL DEFAULT 'rules';
-- Catalog tools the LLM-written lines name; lines are rewritten by rules if one of them is deleted.
ALTER TABLE capabilities ADD COLUMN contrast_names TEXT NOT NULL DEFAULT '[]';

CREATE TABLE llm_cache (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    payload TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- Every request sent to the LLM endpoint, retries and re-asks included.
CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY,
    job_id TEXT,
    content_hash TEXT,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    status INTEGER,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    duration_ms REAL NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX llm_calls_job ON llm_calls (job_id);
CREATE INDEX llm_calls_content ON llm_calls (content_hash);
