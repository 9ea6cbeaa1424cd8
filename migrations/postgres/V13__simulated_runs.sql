-- A simulated run keeps the seed it was simulated with instead of its result, as on SQLite
-- since its V12: the result is a pure function of the traceflow's config, the run's start
-- and the seed, and the server computes it when it is read. Both engines now write runs
-- through the same steps, so PostgreSQL's run rows (and snapshots of them) take the same
-- shape: a seed, or a status with its observations. Runs stored before keep their results
-- (and lose the seed stored beside them, which nothing reads once the result is there).
UPDATE antrea_traceflow_runs SET seed = NULL WHERE status IS NOT NULL;
UPDATE store_snapshot_runs SET seed = NULL WHERE status IS NOT NULL;

ALTER TABLE antrea_traceflow_runs
    ALTER COLUMN status DROP NOT NULL,
    ALTER COLUMN observations DROP NOT NULL,
    DROP CONSTRAINT antrea_traceflow_runs_status_check,
    ADD CONSTRAINT antrea_traceflow_runs_status_check
        CHECK (status IS NULL OR status::json IS NOT NULL),
    ADD CONSTRAINT antrea_traceflow_runs_seed_or_result
        CHECK ((seed IS NULL) = (status IS NOT NULL)
               AND (status IS NULL) = (observations IS NULL));

ALTER TABLE store_snapshot_runs
    ALTER COLUMN status DROP NOT NULL,
    ALTER COLUMN observations DROP NOT NULL;
