-- Scripted realized states (the README's "Realized state"), one per intent path: the
-- object need not exist. Removed by a reset; copied by snapshots.
CREATE TABLE policy_realization_scripts (
    path   TEXT NOT NULL PRIMARY KEY,
    script TEXT NOT NULL
);

CREATE TABLE store_snapshot_realization_scripts (
    snapshot TEXT NOT NULL,
    path     TEXT NOT NULL,
    script   TEXT NOT NULL,
    PRIMARY KEY (snapshot, path)
);
