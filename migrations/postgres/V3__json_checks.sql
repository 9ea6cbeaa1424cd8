-- The CHECKs that a column holds JSON cast it to json, which only validates the text,
-- instead of jsonb, which also builds a binary copy with its keys sorted, only to throw it
-- away: on every write of an object, a revision and a run (its observations are the largest
-- text the store writes), they were a tenth of PostgreSQL's work. What passes is the same
-- for every text the store writes: jsonb refuses only a few valid JSON texts beyond json
-- (a U+0000 escape, a lone surrogate, a number out of numeric's range), all of which the
-- store refuses in a request before they reach the database. SQLite's CHECKs are
-- json_valid, the same test.

ALTER TABLE policy_objects
    DROP CONSTRAINT policy_objects_config_check,
    ADD CONSTRAINT policy_objects_config_check CHECK (config::json IS NOT NULL);

ALTER TABLE policy_object_revisions
    DROP CONSTRAINT policy_object_revisions_object_check,
    ADD CONSTRAINT policy_object_revisions_object_check CHECK (object::json IS NOT NULL);

ALTER TABLE antrea_traceflow_runs
    DROP CONSTRAINT antrea_traceflow_runs_status_check,
    ADD CONSTRAINT antrea_traceflow_runs_status_check CHECK (status::json IS NOT NULL),
    DROP CONSTRAINT antrea_traceflow_runs_observations_check,
    ADD CONSTRAINT antrea_traceflow_runs_observations_check
        CHECK (json_typeof(observations::json) = 'array');

ALTER TABLE antrea_traceflow_scripts
    DROP CONSTRAINT antrea_traceflow_scripts_script_check,
    ADD CONSTRAINT antrea_traceflow_scripts_script_check CHECK (script::json IS NOT NULL);
