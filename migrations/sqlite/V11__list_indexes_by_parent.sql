-- The list's keyset indexes lead with the parent: a catalog collection is the objects of its
-- type hanging from one parent (`/infra/domains/d/groups`), and traceflows are those of
-- theirs hanging from /infra, so a page is a range of one index in every ordering, whatever
-- else the store holds (a page of a collection of a million segments read and sorted the
-- parent's rows before). The parent's own index, a prefix of these, goes: the number of
-- indexes a write keeps stays the same.
-- Databases made by the first versions keep their traceflows' parent as
-- '/infra/antrea/traceflows' (the API has always served '/infra', from the path): they take
-- the parent the lists now select by, in snapshots too, and the counts by parent are made
-- again from the rows.
UPDATE policy_objects SET parent_path = '/infra'
 WHERE resource_type = 'AntreaTraceflowConfig' AND parent_path <> '/infra';
UPDATE store_snapshot_objects SET parent_path = '/infra'
 WHERE resource_type = 'AntreaTraceflowConfig' AND parent_path <> '/infra';
DELETE FROM policy_object_counts_by_parent;
INSERT INTO policy_object_counts_by_parent (resource_type, parent_path, count)
    SELECT resource_type, parent_path, count(*) FROM policy_objects
    GROUP BY resource_type, parent_path;

DROP INDEX policy_objects_by_parent;
DROP INDEX policy_objects_by_id;
DROP INDEX policy_objects_by_display_name;
DROP INDEX policy_objects_by_create_time;
DROP INDEX policy_objects_by_last_modified_time;

CREATE INDEX policy_objects_by_id
    ON policy_objects (parent_path, resource_type, id);
CREATE INDEX policy_objects_by_display_name
    ON policy_objects (parent_path, resource_type, display_name, id);
CREATE INDEX policy_objects_by_create_time
    ON policy_objects (parent_path, resource_type, create_time, id);
CREATE INDEX policy_objects_by_last_modified_time
    ON policy_objects (parent_path, resource_type, last_modified_time, id);

-- The view says where traceflows hang too, so that a lookup by id through it is a range of
-- the first index above.
DROP VIEW antrea_traceflow_configs;
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
WHERE parent_path = '/infra' AND resource_type = 'AntreaTraceflowConfig';
