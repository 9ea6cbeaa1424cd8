//! The writer's side of objects: reading one by its path inside the task's transaction, and
//! writing its new state with its history row.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension};

use super::errors::Classified;
use crate::domain::kind::{Companion, Kinds};
use crate::domain::relations::{self, Check};
use crate::domain::write::{self, Stamp};
use crate::domain::{Applied, Change, ObjectPath, Operation, PolicyObject, WriteRejection};
use crate::storage::queries;
use crate::storage::rows::{ObjectRow, OBJECT_COLUMNS};
use crate::storage::{StoreError, WriteError};

/// One object by its path, as an [`ObjectRow`]: the writer's lookup and the readers' GET.
pub(super) static OBJECT_BY_PATH: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE path = ?1"));

/// The rows of the object at `?1` and of every object below it: a range of the paths' unique
/// index, as `/` sorts just before `0` in SQLite's binary order (the paths below `p` run from
/// `p/` up to `p0`, and `p-2`, which also sorts there, is left out).
const SUBTREE_ROWS: &str = "path >= ?1 AND path < ?1 || '0' AND (path = ?1 OR path > ?1 || '/')";

/// Every object at `?1` or below it, in path order: a hierarchical GET's tree.
pub(super) static SUBTREE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE {SUBTREE_ROWS} ORDER BY path")
});

/// The paths of the object at `?1` and of every object below it, deepest first (a path
/// sorts after every path above it): what a hierarchical delete removes, in order.
const SUBTREE_PATHS_DEEPEST_FIRST: &str = concat!(
    "SELECT path FROM policy_objects WHERE ",
    "path >= ?1 AND path < ?1 || '0' AND (path = ?1 OR path > ?1 || '/')",
    " ORDER BY path DESC"
);

/// Whether an object is stored at a path: a create's parent, a default already written.
const EXISTS_AT_PATH: &str = "SELECT 1 FROM policy_objects WHERE path = ?1";

/// The row of a rusqlite query selecting [`OBJECT_COLUMNS`].
pub(super) fn object_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        path: row.get(0)?,
        resource_type: row.get(1)?,
        config: row.get(2)?,
        unique_id: row.get(3)?,
        revision: row.get(4)?,
        create_time: row.get(5)?,
        create_user: row.get(6)?,
        last_modified_time: row.get(7)?,
        last_modified_user: row.get(8)?,
    })
}

pub(super) fn fetch(
    conn: &Connection,
    path: &ObjectPath,
) -> Result<Option<PolicyObject>, StoreError> {
    let row = conn
        .prepare_cached(&OBJECT_BY_PATH)
        .and_then(|mut lookup| lookup.query_row([path.as_str()], object_row).optional())
        .classified()?;
    row.map(ObjectRow::into_object).transpose()
}

/// Writes the new state of the object, the objects it refers to, and its history row.
pub(super) fn persist(conn: &Connection, applied: &Applied) -> rusqlite::Result<()> {
    let object = &applied.object;
    let path = object.path.as_str();
    let meta = &object.meta;
    let unique_id = meta.unique_id.to_string();
    // One statement of the three for each operation: a plain INSERT changes one row of the
    // table (and its indexes) only, so SQLite keeps no statement journal of it.
    match applied.operation {
        Operation::Delete => {
            conn.prepare_cached("DELETE FROM policy_objects WHERE path = ?1")?
                .execute([&path])?;
        }
        Operation::Create => {
            conn.prepare_cached(
                "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                     config, revision, create_time, create_user, last_modified_time,
                     last_modified_user)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                path,
                object.path.parent().unwrap_or(""),
                object.id().as_str(),
                object.resource_type(),
                unique_id,
                object.config.to_json(),
                meta.revision,
                meta.create_time,
                meta.create_user,
                meta.last_modified_time,
                meta.last_modified_user,
            ])?;
        }
        Operation::Replace | Operation::Patch => {
            conn.prepare_cached(
                "UPDATE policy_objects SET config = ?2, revision = ?3, last_modified_time = ?4,
                     last_modified_user = ?5
                 WHERE path = ?1",
            )?
            .execute(params![
                path,
                object.config.to_json(),
                meta.revision,
                meta.last_modified_time,
                meta.last_modified_user,
            ])?;
        }
    }
    // A create's path has no references yet; every other write replaces them.
    if applied.operation != Operation::Create {
        conn.prepare_cached("DELETE FROM policy_references WHERE path = ?1")?
            .execute([&path])?;
    }
    if applied.operation != Operation::Delete {
        for target in relations::references(object) {
            conn.prepare_cached("INSERT INTO policy_references (path, target) VALUES (?1, ?2)")?
                .execute([path, target])?;
        }
    }
    conn.prepare_cached(
        "INSERT INTO policy_object_revisions
             (path, unique_id, revision, operation, object, change_time, change_user)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        path,
        unique_id,
        meta.revision,
        applied.operation.as_str(),
        object.json(),
        meta.last_modified_time,
        meta.last_modified_user,
    ])?;
    Ok(())
}

/// Refuses `applied` where what it needs of the objects around it ([`relations::checks`])
/// is not what is stored: a create's parent or a reference missing, a delete's children or
/// referrers present.
pub(super) fn check_relations(
    conn: &Connection,
    applied: &Applied,
    kinds: &dyn Kinds,
) -> Result<(), WriteError> {
    static FIRST_CHILD: LazyLock<String> =
        LazyLock::new(|| queries::first_child(|n| format!("?{n}")));
    static FIRST_REFERRER: LazyLock<String> =
        LazyLock::new(|| queries::first_referrer(|n| format!("?{n}")));
    let first = |query: &str, path: &str| -> Result<Option<String>, StoreError> {
        conn.prepare_cached(query)
            .and_then(|mut lookup| lookup.query_row([path], |row| row.get(0)).optional())
            .classified()
    };
    for check in relations::checks(applied, kinds) {
        let rejection = match check {
            Check::ParentExists(path) | Check::ReferenceExists(path) => (!exists(conn, path)?)
                .then(|| WriteRejection::Missing {
                    path: path.to_owned(),
                }),
            Check::Childless(path) => first(&FIRST_CHILD, path)?.map(|by| WriteRejection::InUse {
                path: path.to_owned(),
                by,
            }),
            Check::Unreferenced(path) => {
                first(&FIRST_REFERRER, path)?.map(|by| WriteRejection::InUse {
                    path: path.to_owned(),
                    by,
                })
            }
        };
        if let Some(rejection) = rejection {
            return Err(rejection.into());
        }
    }
    Ok(())
}

/// Checks and writes `applied` with what its kind brings with it: answers the companions
/// written, for the cache.
pub(super) fn write_checked(
    conn: &Connection,
    applied: &Applied,
    stamp: Stamp<'_>,
    kinds: &dyn Kinds,
) -> Result<Vec<Applied>, WriteError> {
    let mut written = Vec::new();
    let companions = kinds.at(&applied.object.path).companions(applied);
    for companion in &companions {
        if let Companion::Delete(path) = companion {
            let stored = fetch(conn, path)?.filter(relations::is_system_owned);
            if let Some(deleted) = write::apply(stored, path.clone(), Change::Delete, stamp)? {
                check_relations(conn, &deleted, kinds)
                    .map_err(|refused| refused.of_owner(&applied.object.path))?;
                persist(conn, &deleted).classified()?;
                written.push(deleted);
            }
        }
    }
    check_relations(conn, applied, kinds)?;
    persist(conn, applied).classified()?;
    written.extend(create_companions(conn, companions)?);
    Ok(written)
}

/// Writes the companions a create brings where nothing is stored yet (an import's line may
/// have written one first); answers those it wrote.
pub(super) fn create_companions(
    conn: &Connection,
    companions: Vec<Companion>,
) -> Result<Vec<Applied>, StoreError> {
    let mut written = Vec::new();
    for companion in companions {
        if let Companion::Create(created) = companion {
            if !exists(conn, created.object.path.as_str())? {
                persist(conn, &created).classified()?;
                written.push(created);
            }
        }
    }
    Ok(written)
}

fn exists(conn: &Connection, path: &str) -> Result<bool, StoreError> {
    conn.prepare_cached(EXISTS_AT_PATH)
        .and_then(|mut lookup| lookup.exists([path]))
        .classified()
}

/// Deletes the object at `path` and every object below it, deepest first, each with its
/// history row, runs and references; then checks that nothing left names what went (a
/// delete below it may be named by another below it, so the checks wait for all of them).
/// Answers what it deleted.
pub(super) fn delete_tree(
    conn: &Connection,
    path: &ObjectPath,
    stamp: Stamp<'_>,
    kinds: &dyn Kinds,
) -> Result<Vec<Applied>, WriteError> {
    let paths: Vec<String> = conn
        .prepare_cached(SUBTREE_PATHS_DEEPEST_FIRST)
        .and_then(|mut query| {
            query
                .query_map([path.as_str()], |row| row.get(0))?
                .collect()
        })
        .classified()?;
    let mut deleted = Vec::with_capacity(paths.len());
    for stored in paths {
        let path = ObjectPath::from_stored(&stored)
            .map_err(|error| StoreError::Internal(format!("stored path {stored}: {error}")))?;
        let current = fetch(conn, &path)?;
        if let Some(applied) = write::apply(current, path, Change::Delete, stamp)? {
            persist(conn, &applied).classified()?;
            super::runs::remove(conn, &applied.object).classified()?;
            deleted.push(applied);
        }
    }
    for applied in &deleted {
        check_relations(conn, applied, kinds)?;
    }
    Ok(deleted)
}

/// Writes every default that is not stored, each with its create revision; answers how
/// many it wrote.
pub(super) fn seed_defaults(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    let mut seeded = 0;
    for applied in relations::defaults(now) {
        let stored = conn
            .prepare_cached(EXISTS_AT_PATH)?
            .exists([applied.object.path.as_str()])?;
        if !stored {
            persist(conn, &applied)?;
            seeded += 1;
        }
    }
    Ok(seeded)
}
