//! SQL that every engine speaks alike, but for how its parameters are numbered.

use std::sync::LazyLock;

use super::rows::OBJECT_COLUMNS;
use crate::domain::list::{Collection, SortBy};
use crate::domain::relations;

/// Which rows a list's collection holds, as a condition on `policy_objects`, with the values
/// it binds: parameters 1 and 5. A collection whose one type is its own under its parent is
/// a parent and a type: a range of each ordering's index (parent, type, key, id). Another
/// collection is told by its path.
fn members(collection: &Collection, param: &impl Fn(u8) -> String) -> String {
    if collection.counted_types.len() == 1 {
        format!(
            "parent_path = {} AND resource_type = {}",
            param(1),
            param(5)
        )
    } else {
        format!(
            "parent_path = {} AND path = {} || '/' || id",
            param(1),
            param(5)
        )
    }
}

/// The values [`members`] binds: parameters 1 and 5.
pub(in crate::storage) fn member_values(collection: &Collection) -> (&str, &str) {
    match collection.counted_types.as_slice() {
        [only] => (&collection.parent, only),
        _ => (&collection.parent, &collection.path),
    }
}

/// How many objects a list's collection holds, and the values the query binds, in order. A
/// collection whose types are its own under its parent is counted from the counts the
/// writers keep (by type and parent): the same cost however many objects are stored.
/// Another collection's members are counted through the parent's index.
pub(in crate::storage) fn list_total(
    collection: &Collection,
    param: impl Fn(u8) -> String,
) -> (String, Vec<&str>) {
    let Collection {
        parent,
        path,
        counted_types,
    } = collection;
    if counted_types.is_empty() {
        return (
            format!(
                "SELECT count(*) FROM policy_objects WHERE parent_path = {} AND path = {} || '/' || id",
                param(1),
                param(2)
            ),
            vec![parent.as_str(), path.as_str()],
        );
    }
    let types: Vec<String> = (0..counted_types.len())
        .map(|n| param(n as u8 + 2))
        .collect();
    let sql = format!(
        "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM policy_object_counts_by_parent
         WHERE parent_path = {} AND resource_type IN ({})",
        param(1),
        types.join(", ")
    );
    let mut binds = vec![parent.as_str()];
    binds.extend(counted_types.iter().map(String::as_str));
    (sql, binds)
}

/// The page query for one ordering: a keyset range over the ordering's index, never OFFSET.
/// Binds: 1 (and 5) the collection's [`member_values`], 2 and 3 the cursor's sort key and id
/// (unused on a first page), 4 the limit. `param(n)` writes parameter `n` as the engine
/// numbers it (`?1` for SQLite, `$1` for PostgreSQL).
pub(in crate::storage) fn list_page(
    collection: &Collection,
    sort_by: SortBy,
    ascending: bool,
    after_cursor: bool,
    param: impl Fn(u8) -> String,
) -> String {
    let column = match sort_by {
        SortBy::DisplayName => "display_name",
        SortBy::Id => "id",
        SortBy::CreateTime => "create_time",
        SortBy::LastModifiedTime => "last_modified_time",
    };
    let (after, direction) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let (key, id) = (param(2), param(3));
    let range = match (after_cursor, sort_by) {
        (false, _) => String::new(),
        // The id is the sort key: parameters 2 and 3 are the same.
        (true, SortBy::Id) => format!("AND id {after} {id}"),
        (true, _) => format!("AND ({column}, id) {after} ({key}, {id})"),
    };
    let order = match sort_by {
        SortBy::Id => format!("id {direction}"),
        _ => format!("{column} {direction}, id {direction}"),
    };
    format!(
        "SELECT {OBJECT_COLUMNS} FROM policy_objects
         WHERE {} {range}
         ORDER BY {order}
         LIMIT {}",
        members(collection, &param),
        param(4),
    )
}

/// The core's tables a snapshot copies (a kind's own rows are its [`super::side::SideTable`]s),
/// each with the table its copy goes to and its columns, in one order for the copy and the
/// restore. Every engine has them, with these names and columns.
pub(in crate::storage) const SNAPSHOT_TABLES: [(&str, &str, &str); 6] = [
    (
        "policy_objects",
        "store_snapshot_objects",
        "path, parent_path, id, resource_type, unique_id, config, revision, create_time,
         create_user, last_modified_time, last_modified_user",
    ),
    (
        "policy_object_revisions",
        "store_snapshot_revisions",
        "seq, path, unique_id, revision, operation, object, change_time, change_user",
    ),
    (
        "policy_references",
        "store_snapshot_references",
        "path, target",
    ),
    (
        "policy_object_tags",
        "store_snapshot_tags",
        "path, scope, tag",
    ),
    (
        "policy_realization_scripts",
        "store_snapshot_realization_scripts",
        "path, script",
    ),
    ("store_inventory", "store_snapshot_inventory", "id, item"),
];

/// The defaults a reset or the first start wrote that are still stored as the store's own:
/// what counts of the objects clients wrote leave out.
fn stored_defaults() -> String {
    let paths: Vec<String> = relations::default_paths()
        .into_iter()
        .map(|path| format!("'{path}'"))
        .collect();
    format!(
        "SELECT count(*) FROM policy_objects WHERE path IN ({}) AND create_user = '{}'",
        paths.join(", "),
        crate::domain::fields::SYSTEM_USER
    )
}

/// How many objects clients wrote (every stored object but the defaults the store ships):
/// the objects gauge, a reset's `objects_removed` and a snapshot's `objects`. From the
/// counts the triggers keep, so it costs the same however many objects are stored.
pub(in crate::storage) static CLIENT_OBJECTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT CAST(coalesce((SELECT sum(count) FROM policy_object_counts), 0) - ({}) AS BIGINT)",
        stored_defaults()
    )
});

/// The path of one object stored below `path` (parameter 1), if any: what a delete that
/// must leave no children looks for. The first by type and id below each of the two
/// parents a child hangs from (the object, and a project's `/infra` container), each one
/// step into the lists' index by id (parent, type, id): the same cost however many
/// children there are.
pub(in crate::storage) fn first_child(param: impl Fn(u8) -> String) -> String {
    let first_below = |parent: &str| {
        format!(
            "SELECT * FROM (SELECT path, resource_type, id FROM policy_objects
                            WHERE parent_path = {parent} ORDER BY resource_type, id LIMIT 1)"
        )
    };
    let p1 = param(1);
    format!(
        "SELECT path FROM ({} AS direct UNION ALL {} AS contained) AS children
         ORDER BY resource_type, id LIMIT 1",
        first_below(&p1),
        first_below(&format!("{p1} || '/infra'")),
    )
}

/// The paths of the objects of `types` right below the object at `$1` (or below its `Infra`
/// container): through the lists' index (parent, type, id), however many other children it
/// has.
pub(in crate::storage) fn children_of_types(types: &[&str]) -> String {
    let types: Vec<String> = types
        .iter()
        .map(|name| format!("'{}'", name.replace('\'', "''")))
        .collect();
    format!(
        "SELECT path FROM policy_objects
         WHERE parent_path IN ($1, $1 || '/infra') AND resource_type IN ({})",
        types.join(", ")
    )
}

/// The path of one object that refers to the object at `path` (parameter 1), if any: what a
/// delete that must leave no object naming it looks for, through the targets' index. An
/// object that names itself does not keep itself.
pub(in crate::storage) fn first_referrer(param: impl Fn(u8) -> String) -> String {
    format!(
        "SELECT path FROM policy_references WHERE target = {p1} AND path <> {p1} \
         ORDER BY path LIMIT 1",
        p1 = param(1)
    )
}

/// The events after parameter 1 in position order, at most parameter 2 of them (and, with
/// `bounded`, none after parameter 3): the events stream's rows ([`super::rows::EventRow`]),
/// the history's and the whole-store operations', each through its primary key.
pub(in crate::storage) fn changes(param: impl Fn(u8) -> String, bounded: bool) -> String {
    let bound = |column: &str| match bounded {
        true => format!("AND {column} <= {}", param(3)),
        false => String::new(),
    };
    format!(
        "SELECT seq AS position, path, operation, revision, change_user, change_time,
                NULL AS detail
         FROM policy_object_revisions WHERE seq > {after} {revisions_bound}
         UNION ALL
         SELECT position, NULL, operation, NULL, change_user, change_time, detail
         FROM store_events WHERE position > {after} {events_bound}
         ORDER BY position LIMIT {limit}",
        after = param(1),
        limit = param(2),
        revisions_bound = bound("seq"),
        events_bound = bound("position"),
    )
}

/// The position of the last event (0 when there is none): where a stream that starts from
/// now goes on from.
/// Every realization script, by path.
pub(in crate::storage) const REALIZATION_SCRIPTS: &str =
    "SELECT path, script FROM policy_realization_scripts ORDER BY path";

/// Every inventory item, by id.
pub(in crate::storage) const INVENTORY: &str = "SELECT item FROM store_inventory ORDER BY id";

pub(in crate::storage) const LAST_EVENT: &str = "SELECT coalesce(max(position), 0) FROM (
         SELECT max(seq) AS position FROM policy_object_revisions
         UNION ALL SELECT max(position) FROM store_events) AS positions";

/// Keeps the newest thousand rows of `store_events`: enough for any reader that goes on
/// from a position (what is older went with the history that a reset removed).
pub(in crate::storage) const PRUNE_WHOLE_EVENTS: &str =
    "DELETE FROM store_events WHERE position < (
         SELECT position FROM store_events ORDER BY position DESC LIMIT 1 OFFSET 999)";

/// How many objects hang from parameter 1 (or from its `Infra` container, a project's
/// `/infra`), by where and of which type, counting at most parameter 2 of them: a tree
/// node's collections, at a bounded cost however many objects a node holds.
pub(in crate::storage) fn child_counts(param: impl Fn(u8) -> String) -> String {
    format!(
        "SELECT parent_path, resource_type, count(*) AS count FROM (
             SELECT parent_path, resource_type FROM policy_objects
             WHERE parent_path IN ({p1}, {p1} || '/infra') LIMIT {p2}
         ) AS children
         GROUP BY parent_path, resource_type ORDER BY resource_type, parent_path",
        p1 = param(1),
        p2 = param(2)
    )
}
