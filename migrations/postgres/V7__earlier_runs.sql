-- A traceflow's earlier runs (the README's "Traceflow results"): when a run replaces the
-- current one (a replace, a PATCH, a retrace), the one it replaces is kept here, as it was.
-- A create starts a traceflow's first run and keeps nothing; a delete removes them all, as it
-- removes the current run.
CREATE TABLE antrea_traceflow_run_history (
    path         TEXT   NOT NULL,
    run          BIGINT NOT NULL,
    unique_id    TEXT   NOT NULL,
    started_at   BIGINT NOT NULL,
    ready_at     BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    observations TEXT   NOT NULL,
    PRIMARY KEY (path, run)
);

CREATE TABLE store_snapshot_run_history (
    snapshot     TEXT   NOT NULL,
    path         TEXT   NOT NULL,
    run          BIGINT NOT NULL,
    unique_id    TEXT   NOT NULL,
    started_at   BIGINT NOT NULL,
    ready_at     BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    observations TEXT   NOT NULL,
    PRIMARY KEY (snapshot, path, run)
);
