-- Every policy object the store holds: one row per object.
--
-- `config` holds the fields a client sets, as JSON (display_name included: the server
-- fills in its default). Everything the server sets lives in its own column, once.
-- `path`, `parent_path` and `id` are kept as separate indexed columns for queries;
-- the CHECK makes it impossible for them to disagree.
CREATE TABLE policy_objects (
    path               TEXT    NOT NULL PRIMARY KEY,
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
) WITHOUT ROWID;

CREATE INDEX policy_objects_by_parent ON policy_objects (parent_path);

-- Keyset indexes for listing one resource type in each sort order; ties are broken by id.
-- The first also serves lookups by id (the views filter on resource_type).
CREATE INDEX policy_objects_by_id ON policy_objects (resource_type, id);
CREATE INDEX policy_objects_by_display_name ON policy_objects (resource_type, display_name, id);
CREATE INDEX policy_objects_by_create_time ON policy_objects (resource_type, create_time, id);
CREATE INDEX policy_objects_by_last_modified_time ON policy_objects (resource_type, last_modified_time, id);

-- How many objects of each type exist, kept by triggers so that a list's result_count costs
-- the same however many objects are stored.
CREATE TABLE policy_object_counts (
    resource_type TEXT    NOT NULL PRIMARY KEY,
    count         INTEGER NOT NULL CHECK (count >= 0)
) WITHOUT ROWID;

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

-- Every committed revision of every object, appended in the same transaction as the change.
-- `object` is the whole object as the API served it at that revision; a delete appends the
-- final state with marked_for_delete = true and the revision after the last one.
CREATE TABLE policy_object_revisions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT    NOT NULL,
    unique_id   TEXT    NOT NULL,
    revision    INTEGER NOT NULL CHECK (revision >= 0),
    operation   TEXT    NOT NULL CHECK (operation IN ('create', 'replace', 'patch', 'delete')),
    object      TEXT    NOT NULL CHECK (json_valid(object)),
    change_time INTEGER NOT NULL,
    change_user TEXT    NOT NULL
);

CREATE INDEX policy_object_revisions_by_path ON policy_object_revisions (path, seq);
CREATE INDEX policy_object_revisions_by_time ON policy_object_revisions (change_time);

CREATE TRIGGER policy_object_revisions_no_update
BEFORE UPDATE ON policy_object_revisions
BEGIN
    SELECT RAISE(ABORT, 'policy_object_revisions is append-only');
END;

CREATE TRIGGER policy_object_revisions_no_delete
BEFORE DELETE ON policy_object_revisions
BEGIN
    SELECT RAISE(ABORT, 'policy_object_revisions is append-only');
END;

-- Readable columns for people inspecting the store with SQL. Times are ISO-8601 UTC.
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

-- The history, readable: one row per committed revision, times ISO-8601 UTC.
CREATE VIEW policy_object_history AS
SELECT
    seq,
    path,
    json_extract(object, '$.id')                                      AS id,
    revision,
    operation,
    strftime('%Y-%m-%dT%H:%M:%fZ', change_time / 1000.0, 'unixepoch') AS changed_at,
    change_user                                                       AS changed_by,
    object
FROM policy_object_revisions;
