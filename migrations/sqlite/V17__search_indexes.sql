-- What the search reads through rather than every object (the README's "Search"): the
-- forms clients send (a type, a display name or a path and their prefixes, a tag's scope
-- and tag) are ranges of these indexes, and a page of a type's objects is read in order.
-- Text is compared with its ASCII letters folded (lower() folds nothing else), as the
-- search's case-insensitive terms need.
CREATE INDEX policy_objects_for_search_by_type
    ON policy_objects (resource_type, lower(path), path);
CREATE INDEX policy_objects_for_search_by_name ON policy_objects (lower(display_name));

-- Each object's tags, their ASCII letters folded ('' where a tag has no scope or no tag):
-- written by the store with the object (a tagged create, every replace and delete), copied
-- by snapshots, cleared by a reset.
CREATE TABLE policy_object_tags (
    path  TEXT NOT NULL,
    scope TEXT NOT NULL,
    tag   TEXT NOT NULL
);
-- Each index holds the whole row: a search reads the tags through an index alone.
CREATE INDEX policy_object_tags_by_scope ON policy_object_tags (scope, tag, path);
CREATE INDEX policy_object_tags_by_tag ON policy_object_tags (tag, path);
CREATE INDEX policy_object_tags_by_path ON policy_object_tags (path, scope, tag);

CREATE TABLE store_snapshot_tags (
    snapshot TEXT NOT NULL,
    path     TEXT NOT NULL,
    scope    TEXT NOT NULL,
    tag      TEXT NOT NULL
);
CREATE INDEX store_snapshot_tags_by_snapshot ON store_snapshot_tags (snapshot);

-- The tags of what is stored already, and of what snapshots saved.
INSERT INTO policy_object_tags (path, scope, tag)
    SELECT o.path, lower(coalesce(json_extract(t.value, '$.scope'), '')),
           lower(coalesce(json_extract(t.value, '$.tag'), ''))
    FROM policy_objects AS o, json_each(o.config, '$.tags') AS t
    WHERE json_type(o.config, '$.tags') = 'array';
INSERT INTO store_snapshot_tags (snapshot, path, scope, tag)
    SELECT o.snapshot, o.path, lower(coalesce(json_extract(t.value, '$.scope'), '')),
           lower(coalesce(json_extract(t.value, '$.tag'), ''))
    FROM store_snapshot_objects AS o, json_each(o.config, '$.tags') AS t
    WHERE json_type(o.config, '$.tags') = 'array';
