-- Every create and delete changed the one row of its resource type in policy_object_counts
-- and held it until its commit was flushed, so the creates of all connections of all
-- instances waited for one another there, one commit at a time. The counts are now kept in
-- shards, each connection changing the shard of its backend process, and
-- policy_object_counts is a view of their sums, with the same name and columns as before
-- (and as on SQLite). A shard alone may count below zero (an object created through one
-- connection and deleted through another); the sum never does.

CREATE TABLE policy_object_count_shards (
    resource_type TEXT    NOT NULL,
    shard         INTEGER NOT NULL,
    count         BIGINT  NOT NULL,
    PRIMARY KEY (resource_type, shard)
);

INSERT INTO policy_object_count_shards (resource_type, shard, count)
    SELECT resource_type, 0, count FROM policy_object_counts;

DROP TABLE policy_object_counts;

CREATE VIEW policy_object_counts AS
SELECT resource_type, sum(count)::bigint AS count
  FROM policy_object_count_shards
 GROUP BY resource_type;

CREATE OR REPLACE FUNCTION policy_objects_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counted TEXT   := CASE WHEN TG_OP = 'INSERT' THEN NEW.resource_type ELSE OLD.resource_type END;
    delta   BIGINT := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    INSERT INTO policy_object_count_shards (resource_type, shard, count)
        VALUES (counted, pg_backend_pid() % 64, delta)
        ON CONFLICT (resource_type, shard)
        DO UPDATE SET count = policy_object_count_shards.count + delta;
    RETURN NULL;
END $$;
