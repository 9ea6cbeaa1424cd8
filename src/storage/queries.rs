//! SQL that every engine speaks alike, but for how its parameters are numbered.

use super::rows::OBJECT_COLUMNS;
use crate::domain::list::SortBy;

/// The page query for one ordering: a keyset range over the ordering's index, never OFFSET.
/// Binds, always the same four: 1 the resource type, 2 and 3 the cursor's sort key and id
/// (unused on a first page), 4 the limit. `param(n)` writes parameter `n` as the engine
/// numbers it (`?1` for SQLite, `$1` for PostgreSQL).
pub(in crate::storage) fn list_page(
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
         WHERE resource_type = {} {range}
         ORDER BY {order}
         LIMIT {}",
        param(1),
        param(4),
    )
}

/// The tables a snapshot copies, each with the table its copy goes to and its columns, in one
/// order for the copy and the restore. Every engine has them, with these names and columns.
pub(in crate::storage) const SNAPSHOT_TABLES: [(&str, &str, &str); 4] = [
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
        "antrea_traceflow_runs",
        "store_snapshot_runs",
        "path, id, unique_id, run, started_at, ready_at, status, observations",
    ),
    (
        "antrea_traceflow_scripts",
        "store_snapshot_scripts",
        "id, script",
    ),
];
