-- Traceflow results (the README's "Traceflow results").
--
-- The current run of each traceflow: a create, a replace, a patch and a retrace each start a
-- run whose result replaces the previous one's, so one row per traceflow. The result is
-- stored when the run starts; it is served once `ready_at` has passed. A run is not a
-- revision: it changes neither `_revision` nor the history. Deleting the traceflow deletes
-- its run.
CREATE TABLE antrea_traceflow_runs (
    path         TEXT    NOT NULL PRIMARY KEY,
    id           TEXT    NOT NULL,
    unique_id    TEXT    NOT NULL,
    run          INTEGER NOT NULL CHECK (run >= 1),
    -- epoch ms on the store's clock: what the observations' timestamps count from
    started_at   INTEGER NOT NULL,
    -- epoch ms, real time: when the result appears
    ready_at     INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (json_valid(status)),
    observations TEXT    NOT NULL CHECK (json_type(observations) = 'array'),
    CHECK (substr(path, -length(id) - 1) = '/' || id)
) WITHOUT ROWID;

-- Scripted results, by traceflow id. A script shapes every run of that id until it is
-- deleted; it may be set before the traceflow exists, and outlives it.
CREATE TABLE antrea_traceflow_scripts (
    id     TEXT NOT NULL PRIMARY KEY,
    script TEXT NOT NULL CHECK (json_valid(script))
) WITHOUT ROWID;

-- For people: one row per observation of each traceflow's current run, once its result has
-- appeared (as the API serves it), times ISO-8601 UTC.
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

-- One-off work the store owes at its next start. `start_runs`: the traceflows stored before
-- this migration have no run; the store starts one for each, then removes the mark, so that
-- no later start looks for them again.
CREATE TABLE store_pending (
    name TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

INSERT INTO store_pending (name) SELECT 'start_runs' WHERE EXISTS (SELECT 1 FROM policy_objects);
