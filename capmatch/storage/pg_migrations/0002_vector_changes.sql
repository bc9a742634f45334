-- Vectors shared by snapshot + delta: see SQLite's 0009_vector_changes.sql. Rows are appended under
-- the catalog's write lock (an advisory lock taken before anything else), so seq order is commit
-- order and a reader polling "seq > my cursor" never skips a change committed late.
CREATE TABLE vector_changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    op TEXT NOT NULL,
    vector BYTEA
);

CREATE TABLE index_snapshots (
    seq BIGINT PRIMARY KEY,
    file TEXT NOT NULL,
    kind TEXT NOT NULL,
    count BIGINT NOT NULL,
    model TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    created TEXT NOT NULL
);
