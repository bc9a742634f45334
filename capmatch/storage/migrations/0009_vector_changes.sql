-- Vectors shared by snapshot + delta (issue 15). Every add or delete of a vector is one row of
-- vector_changes, written in the catalog write that makes it: readers apply the rows after the
-- snapshot they loaded instead of reloading a whole index after each write. Rows are appended
-- under the catalog's write lock, so seq order is commit order. AUTOINCREMENT: a pruned seq is
-- never handed out again.
--   kind: 'capability' (item: the capability id) or 'identity' (item: the tool id)
--   op:   'add' (vector set), 'delete', or 'reset' (everything before is replaced: import, reindex)
CREATE TABLE vector_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    op TEXT NOT NULL,
    vector BLOB
);

-- Immutable FAISS snapshots in CAPMATCH_INDEX_DIR: the file holds every change up to and including
-- seq. A row is written only after its file is complete and renamed: the row is the commit point.
CREATE TABLE index_snapshots (
    seq INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    model TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    created TEXT NOT NULL
);
