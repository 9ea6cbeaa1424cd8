-- policy_objects becomes an ordinary (rowid) table; `path` stays unique through its own index.
--
-- Why: in a WITHOUT ROWID table each ~1 KB row lives in the primary key's B-tree, at the place
-- its path sorts, and every secondary index entry carries the whole path. A create then
-- rewrites a leaf of that B-tree at a random place (splitting it every few inserts) plus a
-- leaf of each index. As a rowid table, new rows are appended at the end, the path index
-- holds small entries, and the parent_path index grows at its end too: a create writes about
-- a third fewer pages, and every commit writes that much less to the WAL. Nothing else changes:
-- same columns, constraints, indexes (by name), triggers and view.
--
-- SQLite cannot change a table's kind in place: this is its documented table rebuild
-- (create the new table, copy, drop the old, rename), inside the migration's transaction.

CREATE TABLE policy_objects_new (
    path               TEXT    NOT NULL UNIQUE,
    parent_path        TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    resource_type      TEXT    NOT NULL,
    unique_id          TEXT    NOT NULL,
    config             TEXT    NOT NULL CHECK (json_valid(config)),
    revision           INTEGER NOT NULL CHECK (revision >= 0),
    create_time        INTEGER NOT NULL,
    create_user        TEXT    NOT NULL,
    last_modified_time INTEGER NOT NULL CHECK (last_modified_time >= create_time),
    last_modified_user TEXT    NOT NULL,
    display_name       TEXT    GENERATED ALWAYS AS (json_extract(config, '$.display_name')) VIRTUAL,
    CHECK (substr(path, 1, length(parent_path) + 1) = parent_path || '/'),
    CHECK (substr(path, -length(id) - 1) = '/' || id)
);

INSERT INTO policy_objects_new (path, parent_path, id, resource_type, unique_id, config,
                                revision, create_time, create_user, last_modified_time,
                                last_modified_user)
SELECT path, parent_path, id, resource_type, unique_id, config,
       revision, create_time, create_user, last_modified_time, last_modified_user
FROM policy_objects
ORDER BY create_time, path;

-- The view and the counting triggers refer to the old table; they are made again below.
DROP VIEW antrea_traceflow_configs;
DROP TABLE policy_objects;
ALTER TABLE policy_objects_new RENAME TO policy_objects;

CREATE INDEX policy_objects_by_parent ON policy_objects (parent_path);

-- Keyset indexes for listing one resource type in each sort order; ties are broken by id.
-- The first also serves lookups by id (the views filter on resource_type).
CREATE INDEX policy_objects_by_id ON policy_objects (resource_type, id);
CREATE INDEX policy_objects_by_display_name ON policy_objects (resource_type, display_name, id);
CREATE INDEX policy_objects_by_create_time ON policy_objects (resource_type, create_time, id);
CREATE INDEX policy_objects_by_last_modified_time ON policy_objects (resource_type, last_modified_time, id);

-- policy_object_counts already holds the right counts: the copy above went to a table
-- without triggers.
CREATE TRIGGER policy_objects_counted_on_insert
AFTER INSERT ON policy_objects
BEGIN
    INSERT INTO policy_object_counts (resource_type, count) VALUES (NEW.resource_type, 1)
        ON CONFLICT (resource_type) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER policy_objects_counted_on_delete
AFTER DELETE ON policy_objects
BEGIN
    UPDATE policy_object_counts SET count = count - 1 WHERE resource_type = OLD.resource_type;
END;

CREATE VIEW antrea_traceflow_configs AS
SELECT
    id,
    display_name,
    json_extract(config, '$.description')                                  AS description,
    json_extract(config, '$.container_cluster_id')                         AS cluster,
    json_extract(config, '$.source_external_id')                           AS source,
    json_extract(config, '$.destination_external_id')                      AS destination,
    coalesce(json_extract(config, '$.packet.ipHeader.srcIp'),
             json_extract(config, '$.packet.ipv6Header.srcIp'))            AS src_ip,
    coalesce(json_extract(config, '$.packet.ipHeader.dstIp'),
             json_extract(config, '$.packet.ipv6Header.dstIp'))            AS dst_ip,
    coalesce(json_extract(config, '$.packet.ipHeader.protocol'),
             json_extract(config, '$.packet.ipv6Header.nextHeader'))       AS protocol,
    revision,
    strftime('%Y-%m-%dT%H:%M:%fZ', create_time / 1000.0, 'unixepoch')        AS created_at,
    create_user                                                            AS created_by,
    strftime('%Y-%m-%dT%H:%M:%fZ', last_modified_time / 1000.0, 'unixepoch') AS modified_at,
    last_modified_user                                                     AS modified_by,
    path,
    unique_id,
    config
FROM policy_objects
WHERE resource_type = 'AntreaTraceflowConfig';
