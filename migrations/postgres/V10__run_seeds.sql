-- The seed column of a simulated run, as on SQLite, where a simulated run keeps its seed
-- instead of its result. PostgreSQL stores every run's result, so it stays NULL here; the
-- column keeps both engines' run rows (and snapshots of them) alike.
ALTER TABLE antrea_traceflow_runs ADD COLUMN seed BIGINT;
ALTER TABLE store_snapshot_runs ADD COLUMN seed BIGINT;
