-- Every CHECK holds on any SQLite from 3.37 on, not only on the library the binary bundles.
-- `json_valid(NULL)` is NULL from SQLite 3.45 on (a CHECK passes) and 0 before it (a CHECK
-- fails): a simulated run's NULL `status` (V12) passed the bundled library's check and made
-- Debian 12's `sqlite3` (3.40) and Python's `sqlite3` answer `PRAGMA integrity_check` with
-- "CHECK constraint failed in antrea_traceflow_runs". The nullable JSON columns now say what
-- they mean: NULL, or JSON of the right kind. The table is made again, as SQLite cannot
-- change a CHECK in place.
CREATE TABLE antrea_traceflow_runs_v14 (
    path         TEXT    NOT NULL PRIMARY KEY,
    id           TEXT    NOT NULL,
    unique_id    TEXT    NOT NULL,
    run          INTEGER NOT NULL CHECK (run >= 1),
    -- epoch ms on the store's clock: what the observations' timestamps count from
    started_at   INTEGER NOT NULL,
    -- epoch ms, real time: when the result appears
    ready_at     INTEGER NOT NULL,
    -- a simulated run's seed (its 64 bits); NULL where the result is stored
    seed         INTEGER,
    status       TEXT    CHECK (status IS NULL OR json_valid(status)),
    observations TEXT    CHECK (observations IS NULL OR json_type(observations) = 'array'),
    CHECK ((seed IS NULL) = (status IS NOT NULL) AND (status IS NULL) = (observations IS NULL)),
    CHECK (substr(path, -length(id) - 1) = '/' || id)
) WITHOUT ROWID;

INSERT INTO antrea_traceflow_runs_v14
    (path, id, unique_id, run, started_at, ready_at, seed, status, observations)
SELECT path, id, unique_id, run, started_at, ready_at, seed, status, observations
  FROM antrea_traceflow_runs;

DROP VIEW antrea_traceflow_observations;
DROP TABLE antrea_traceflow_runs;
ALTER TABLE antrea_traceflow_runs_v14 RENAME TO antrea_traceflow_runs;

-- For people: one row per observation of each traceflow's current run whose result is stored
-- (scripted, or timed out), once it has appeared, times ISO-8601 UTC. A simulated run's
-- observations are computed by the server: GET .../traceflows/{id}/observations.
CREATE VIEW antrea_traceflow_observations AS
SELECT r.id,
       r.run,
       json_extract(o.value, '$.component_type')    AS component_type,
       json_extract(o.value, '$.container_node_id') AS container_node_id,
       json_extract(o.value, '$.observation_type')  AS observation_type,
       strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(o.value, '$.timestamp') / 1000.0,
                'unixepoch')                        AS observed_at
  FROM antrea_traceflow_runs AS r, json_each(r.observations) AS o
 WHERE r.ready_at <= CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);

-- The first query a person writes, `SELECT ... FROM policy_objects WHERE id = 't14'`, is a
-- lookup of this index instead of a scan of the table: the list's indexes (V11) lead with
-- the parent, so none of them starts with the id.
CREATE INDEX policy_objects_by_id_alone ON policy_objects (id);
