-- What the search reads through rather than every object (the README's "Search"): the
-- forms clients send (a type, a display name or a path and their prefixes, a tag's scope
-- and tag) are ranges of these indexes, and a page of a type's objects is read in order.
-- Text is compared with its ASCII letters folded (store_fold, as SQLite's lower() folds
-- them), as the search's case-insensitive terms need, and in byte order whatever the
-- database's collation.
CREATE FUNCTION store_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');

CREATE INDEX policy_objects_for_search_by_type
    ON policy_objects (resource_type, store_fold(path) COLLATE "C", path COLLATE "C");
CREATE INDEX policy_objects_for_search_by_name
    ON policy_objects (store_fold(display_name) COLLATE "C");

-- Each object's tags, their ASCII letters folded ('' where a tag has no scope or no tag):
-- written by the store with the object (a tagged create, every replace and delete), copied
-- by snapshots, cleared by a reset.
CREATE TABLE policy_object_tags (
    path  TEXT NOT NULL,
    scope TEXT NOT NULL,
    tag   TEXT NOT NULL
);
-- Each index holds the whole row: a search reads the tags through an index alone.
CREATE INDEX policy_object_tags_by_scope
    ON policy_object_tags (scope COLLATE "C", tag COLLATE "C", path);
CREATE INDEX policy_object_tags_by_tag ON policy_object_tags (tag COLLATE "C", path);
CREATE INDEX policy_object_tags_by_path ON policy_object_tags (path, scope, tag);

CREATE TABLE store_snapshot_tags (
    snapshot TEXT NOT NULL,
    path     TEXT NOT NULL,
    scope    TEXT NOT NULL,
    tag      TEXT NOT NULL
);
CREATE INDEX store_snapshot_tags_by_snapshot ON store_snapshot_tags (snapshot);

-- The tags of what is stored already, and of what snapshots saved.
CREATE FUNCTION store_tags(text) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT
    RETURN CASE jsonb_typeof($1::jsonb -> 'tags') WHEN 'array' THEN $1::jsonb -> 'tags'
                ELSE '[]'::jsonb END;
INSERT INTO policy_object_tags (path, scope, tag)
    SELECT o.path, store_fold(coalesce(t ->> 'scope', '')), store_fold(coalesce(t ->> 'tag', ''))
    FROM policy_objects AS o, jsonb_array_elements(store_tags(o.config)) AS t;
INSERT INTO store_snapshot_tags (snapshot, path, scope, tag)
    SELECT o.snapshot, o.path, store_fold(coalesce(t ->> 'scope', '')),
           store_fold(coalesce(t ->> 'tag', ''))
    FROM store_snapshot_objects AS o, jsonb_array_elements(store_tags(o.config)) AS t;
DROP FUNCTION store_tags(text);
