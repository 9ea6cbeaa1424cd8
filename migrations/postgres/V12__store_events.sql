-- The operations on the whole store that the events stream tells beside the history's rows
-- (a reset, a snapshot's restore, an import): a reader that shows the store's state reads
-- it anew on them. Each takes its position from the history's own sequence, so that the
-- stream tells both in commit order (and waits for both alike, as it waits for history
-- rows). The table is a log of the store, not its state: snapshots do not copy it, resets
-- do not empty it, and the writers keep its newest thousand rows. `detail` is what the
-- operation answered. (SQLite's V15 makes the same table.)
CREATE TABLE store_events (
    position    BIGINT NOT NULL PRIMARY KEY,
    operation   TEXT   NOT NULL CHECK (operation IN ('reset', 'restore', 'import')),
    change_user TEXT   NOT NULL,
    change_time BIGINT NOT NULL,
    detail      TEXT   NOT NULL CHECK (json_typeof(detail::json) = 'object')
);
