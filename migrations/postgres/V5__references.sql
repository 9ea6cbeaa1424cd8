-- The objects each object refers to by path (a segment's gateway, a rule's groups and
-- services: the README's "How objects hang together"), one row a reference, written with the
-- object that refers (in the same statement) and removed with it. A delete looks here for
-- referrers through the targets' index; a write replaces its own rows through the paths'
-- index. No key: a write removes its path's rows in the statement that adds the new ones.
CREATE TABLE policy_references (
    path   TEXT NOT NULL,
    target TEXT NOT NULL
);
CREATE INDEX policy_references_by_target ON policy_references (target);
CREATE INDEX policy_references_by_path ON policy_references (path);

CREATE TABLE store_snapshot_references (
    snapshot TEXT NOT NULL,
    path     TEXT NOT NULL,
    target   TEXT NOT NULL
);
CREATE INDEX store_snapshot_references_by_snapshot ON store_snapshot_references (snapshot);
