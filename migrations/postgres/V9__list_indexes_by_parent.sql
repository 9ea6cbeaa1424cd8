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
DELETE FROM policy_object_count_shards;
INSERT INTO policy_object_count_shards (resource_type, parent_path, shard, count)
    SELECT resource_type, parent_path, 0, count(*) FROM policy_objects
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
CREATE OR REPLACE VIEW antrea_traceflow_configs AS
SELECT
    id,
    display_name,
    config::jsonb ->> 'description'                                           AS description,
    config::jsonb ->> 'container_cluster_id'                                  AS cluster,
    config::jsonb ->> 'source_external_id'                                    AS source,
    config::jsonb ->> 'destination_external_id'                               AS destination,
    coalesce(config::jsonb #>> '{packet,ipHeader,srcIp}',
             config::jsonb #>> '{packet,ipv6Header,srcIp}')                   AS src_ip,
    coalesce(config::jsonb #>> '{packet,ipHeader,dstIp}',
             config::jsonb #>> '{packet,ipv6Header,dstIp}')                   AS dst_ip,
    coalesce(config::jsonb #>> '{packet,ipHeader,protocol}',
             config::jsonb #>> '{packet,ipv6Header,nextHeader}')::bigint      AS protocol,
    revision,
    store_utc_text(create_time)                                               AS created_at,
    create_user                                                               AS created_by,
    store_utc_text(last_modified_time)                                        AS modified_at,
    last_modified_user                                                        AS modified_by,
    path,
    unique_id,
    config
FROM policy_objects
WHERE parent_path = '/infra' AND resource_type = 'AntreaTraceflowConfig';
