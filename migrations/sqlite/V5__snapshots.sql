-- Reset, snapshots and import (the README's "Using it in a test suite").
--
-- Whole-store operations (a reset, restoring a snapshot) are the only way revisions leave
-- the history: the writer marks its transaction with a row in store_whole_operations, and
-- the trigger that keeps the history append-only lets a delete through only then.
CREATE TABLE store_whole_operations (
    name TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

DROP TRIGGER policy_object_revisions_no_delete;

CREATE TRIGGER policy_object_revisions_no_delete
BEFORE DELETE ON policy_object_revisions
WHEN NOT EXISTS (SELECT 1 FROM store_whole_operations)
BEGIN
    SELECT RAISE(ABORT, 'policy_object_revisions is append-only');
END;

-- Saved states of the whole store: objects, revisions (with their sequence numbers, so that
-- history pages and cursors are those of the moment of the save), runs and scripts.
CREATE TABLE store_snapshots (
    name    TEXT    NOT NULL PRIMARY KEY,
    created INTEGER NOT NULL,
    objects INTEGER NOT NULL CHECK (objects >= 0)
) WITHOUT ROWID;

CREATE TABLE store_snapshot_objects (
    snapshot           TEXT    NOT NULL,
    path               TEXT    NOT NULL,
    parent_path        TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    resource_type      TEXT    NOT NULL,
    unique_id          TEXT    NOT NULL,
    config             TEXT    NOT NULL,
    revision           INTEGER NOT NULL,
    create_time        INTEGER NOT NULL,
    create_user        TEXT    NOT NULL,
    last_modified_time INTEGER NOT NULL,
    last_modified_user TEXT    NOT NULL,
    PRIMARY KEY (snapshot, path)
) WITHOUT ROWID;

CREATE TABLE store_snapshot_revisions (
    snapshot    TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    path        TEXT    NOT NULL,
    unique_id   TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    operation   TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    change_time INTEGER NOT NULL,
    change_user TEXT    NOT NULL,
    PRIMARY KEY (snapshot, seq)
) WITHOUT ROWID;

CREATE TABLE store_snapshot_runs (
    snapshot     TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    unique_id    TEXT    NOT NULL,
    run          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    ready_at     INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    observations TEXT    NOT NULL,
    PRIMARY KEY (snapshot, path)
) WITHOUT ROWID;

CREATE TABLE store_snapshot_scripts (
    snapshot TEXT NOT NULL,
    id       TEXT NOT NULL,
    script   TEXT NOT NULL,
    PRIMARY KEY (snapshot, id)
) WITHOUT ROWID;
