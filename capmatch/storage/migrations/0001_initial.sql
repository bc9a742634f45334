-- Catalog schema. Capability ids are the FAISS ids: AUTOINCREMENT so a deleted id is never reused.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', '0');

CREATE TABLE tools (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    type TEXT NOT NULL,
    type_basis TEXT,
    pricing TEXT NOT NULL,
    pricing_basis TEXT,
    starting_price TEXT,
    license TEXT,
    summary TEXT NOT NULL,
    category TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL,
    source_format TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    extractor TEXT NOT NULL,
    extractor_version TEXT NOT NULL,
    times_matched INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tools_content_hash ON tools (content_hash);
CREATE INDEX tools_url ON tools (url);

-- The cleaned source snapshot: the evidence base that quote offsets point into.
CREATE TABLE sources (
    tool_id TEXT PRIMARY KEY REFERENCES tools (id) ON DELETE CASCADE,
    text TEXT NOT NULL
);

CREATE TABLE capabilities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tool_id TEXT NOT NULL REFERENCES tools (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    unique_text TEXT NOT NULL DEFAULT '',
    vs_alternatives TEXT NOT NULL DEFAULT '',
    grounded INTEGER NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX capabilities_tool ON capabilities (tool_id);

CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    capability_id INTEGER NOT NULL REFERENCES capabilities (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    quote TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL
);
CREATE INDEX evidence_capability ON evidence (capability_id);

-- Nearest capabilities of other tools; cascades keep it from naming a deleted tool.
CREATE TABLE alternatives (
    capability_id INTEGER NOT NULL REFERENCES capabilities (id) ON DELETE CASCADE,
    alt_capability_id INTEGER NOT NULL REFERENCES capabilities (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    similarity REAL NOT NULL,
    PRIMARY KEY (capability_id, alt_capability_id)
);
CREATE INDEX alternatives_alt ON alternatives (alt_capability_id);

-- The match graph: tool pairs whose capabilities match, stored once per unordered pair.
CREATE TABLE matches (
    tool_a TEXT NOT NULL REFERENCES tools (id) ON DELETE CASCADE,
    tool_b TEXT NOT NULL REFERENCES tools (id) ON DELETE CASCADE,
    score REAL NOT NULL,
    pairs INTEGER NOT NULL,
    PRIMARY KEY (tool_a, tool_b),
    CHECK (tool_a < tool_b)
);
CREATE INDEX matches_b ON matches (tool_b);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    name TEXT,
    extractor TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    tool_id TEXT,
    error TEXT,
    error_code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX jobs_status ON jobs (status, created_at);
CREATE INDEX jobs_source ON jobs (source, status);
