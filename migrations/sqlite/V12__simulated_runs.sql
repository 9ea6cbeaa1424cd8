-- A simulated run keeps the seed it was simulated with instead of its result: the result is
-- a pure function of the traceflow's config, the run's start and the seed, and the server
-- computes it when it is read (a run's config is its traceflow's current one, as every change
-- of the config starts a new run). A create then writes a row of some 150 bytes instead of
-- one of 1.5 KB, which spilled onto a page of its own. Scripted results, and the time-outs
-- of `results.mode = "none"`, are decided when the run starts and stay stored, as do the
-- earlier runs' results. Runs stored before this migration keep their results.
CREATE TABLE antrea_traceflow_runs_v12 (
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
    status       TEXT    CHECK (json_valid(status)),
    observations TEXT    CHECK (json_type(observations) = 'array'),
    CHECK ((seed IS NULL) = (status IS NOT NULL) AND (status IS NULL) = (observations IS NULL)),
    CHECK (substr(path, -length(id) - 1) = '/' || id)
) WITHOUT ROWID;

INSERT INTO antrea_traceflow_runs_v12
    (path, id, unique_id, run, started_at, ready_at, seed, status, observations)
SELECT path, id, unique_id, run, started_at, ready_at, NULL, status, observations
  FROM antrea_traceflow_runs;

DROP VIEW antrea_traceflow_observations;
DROP TABLE antrea_traceflow_runs;
ALTER TABLE antrea_traceflow_runs_v12 RENAME TO antrea_traceflow_runs;

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

CREATE TABLE store_snapshot_runs_v12 (
    snapshot     TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    unique_id    TEXT    NOT NULL,
    run          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    ready_at     INTEGER NOT NULL,
    seed         INTEGER,
    status       TEXT,
    observations TEXT,
    PRIMARY KEY (snapshot, path)
) WITHOUT ROWID;

INSERT INTO store_snapshot_runs_v12
    (snapshot, path, id, unique_id, run, started_at, ready_at, seed, status, observations)
SELECT snapshot, path, id, unique_id, run, started_at, ready_at, NULL, status, observations
  FROM store_snapshot_runs;

DROP TABLE store_snapshot_runs;
ALTER TABLE store_snapshot_runs_v12 RENAME TO store_snapshot_runs;
