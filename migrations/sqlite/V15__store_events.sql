-- The operations on the whole store that the events stream tells beside the history's rows
-- (a reset, a snapshot's restore, an import): a reader that shows the store's state reads
-- it anew on them. Each takes its position from the history's sequence (the writer moves
-- `sqlite_sequence` on past it), so that the stream tells both in commit order. The table
-- is a log of the store, not its state: snapshots do not copy it, resets do not empty it,
-- and the writer keeps its newest thousand rows. `detail` is what the operation answered.
CREATE TABLE store_events (
    position    INTEGER NOT NULL PRIMARY KEY,
    operation   TEXT    NOT NULL CHECK (operation IN ('reset', 'restore', 'import')),
    change_user TEXT    NOT NULL,
    change_time INTEGER NOT NULL,
    detail      TEXT    NOT NULL CHECK (json_type(detail) = 'object')
);
