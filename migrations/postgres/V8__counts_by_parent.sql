-- The counts the triggers keep are kept by parent too: a catalog collection is the objects
-- of its types hanging from one parent, so its list's result_count is a sum of a few rows
-- however many objects it holds (it was a count of the parent's rows). Each create and
-- delete still changes one row of its connection's shard. policy_object_counts stays, a
-- view with the same name and columns; policy_object_counts_by_parent is the same view by
-- parent, as on SQLite.
CREATE TABLE policy_object_count_shards_by_parent (
    resource_type TEXT    NOT NULL,
    parent_path   TEXT    NOT NULL,
    shard         INTEGER NOT NULL,
    count         BIGINT  NOT NULL,
    PRIMARY KEY (resource_type, parent_path, shard)
);

INSERT INTO policy_object_count_shards_by_parent (resource_type, parent_path, shard, count)
    SELECT resource_type, parent_path, 0, count(*) FROM policy_objects
    GROUP BY resource_type, parent_path;

DROP VIEW policy_object_counts;
DROP TABLE policy_object_count_shards;
ALTER TABLE policy_object_count_shards_by_parent RENAME TO policy_object_count_shards;

CREATE VIEW policy_object_counts AS
SELECT resource_type, sum(count)::bigint AS count
  FROM policy_object_count_shards
 GROUP BY resource_type;

CREATE VIEW policy_object_counts_by_parent AS
SELECT resource_type, parent_path, sum(count)::bigint AS count
  FROM policy_object_count_shards
 GROUP BY resource_type, parent_path;

CREATE OR REPLACE FUNCTION policy_objects_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counted TEXT   := CASE WHEN TG_OP = 'INSERT' THEN NEW.resource_type ELSE OLD.resource_type END;
    parent  TEXT   := CASE WHEN TG_OP = 'INSERT' THEN NEW.parent_path ELSE OLD.parent_path END;
    delta   BIGINT := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    INSERT INTO policy_object_count_shards (resource_type, parent_path, shard, count)
        VALUES (counted, parent, pg_backend_pid() % 64, delta)
        ON CONFLICT (resource_type, parent_path, shard)
        DO UPDATE SET count = policy_object_count_shards.count + delta;
    RETURN NULL;
END $$;
