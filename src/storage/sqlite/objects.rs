//! The writer's side of objects: reading one by its path inside the task's transaction, and
//! writing its new state with its history row.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension};

use super::errors::Classified;
use crate::domain::relations::{self, Check};
use crate::domain::{Applied, ObjectPath, Operation, PolicyObject, WriteRejection};
use crate::storage::queries;
use crate::storage::rows::{ObjectRow, OBJECT_COLUMNS};
use crate::storage::{StoreError, WriteError};

/// One object by its path, as an [`ObjectRow`]: the writer's lookup and the readers' GET.
pub(super) static OBJECT_BY_PATH: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE path = ?1"));

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

/// Writes the new state of the object and appends its history row.
pub(super) fn persist(conn: &Connection, applied: &Applied) -> rusqlite::Result<()> {
    let object = &applied.object;
    let path = object.path.as_str();
    let meta = &object.meta;
    let unique_id = meta.unique_id.to_string();
    if applied.operation == Operation::Delete {
        conn.prepare_cached("DELETE FROM policy_objects WHERE path = ?1")?
            .execute([&path])?;
    } else {
        conn.prepare_cached(
            "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id, config,
                 revision, create_time, create_user, last_modified_time, last_modified_user)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (path) DO UPDATE SET
                 config = excluded.config,
                 revision = excluded.revision,
                 last_modified_time = excluded.last_modified_time,
                 last_modified_user = excluded.last_modified_user",
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
        object.to_json(),
        meta.last_modified_time,
        meta.last_modified_user,
    ])?;
    Ok(())
}

/// Refuses `applied` where what it needs of the objects around it ([`relations::check`]) is
/// not what is stored: a create's parent missing, a delete's children present.
pub(super) fn check_relations(conn: &Connection, applied: &Applied) -> Result<(), WriteError> {
    static FIRST_CHILD: LazyLock<String> =
        LazyLock::new(|| queries::first_child(|n| format!("?{n}")));
    match relations::check(applied) {
        Check::Nothing => Ok(()),
        Check::ParentExists(parent) => {
            let found = conn
                .prepare_cached("SELECT 1 FROM policy_objects WHERE path = ?1")
                .and_then(|mut lookup| lookup.exists([parent]))
                .classified()?;
            match found {
                true => Ok(()),
                false => Err(WriteRejection::ParentMissing {
                    parent: parent.to_owned(),
                }
                .into()),
            }
        }
        Check::Childless(path) => {
            let child: Option<String> = conn
                .prepare_cached(&FIRST_CHILD)
                .and_then(|mut lookup| lookup.query_row([path], |row| row.get(0)).optional())
                .classified()?;
            match child {
                None => Ok(()),
                Some(child) => Err(WriteRejection::HasChildren {
                    path: path.to_owned(),
                    child,
                }
                .into()),
            }
        }
    }
}

/// Writes every default that is not stored, each with its create revision; answers how
/// many it wrote.
pub(super) fn seed_defaults(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    let mut seeded = 0;
    for applied in relations::defaults(now) {
        let stored = conn
            .prepare_cached("SELECT 1 FROM policy_objects WHERE path = ?1")?
            .exists([applied.object.path.as_str()])?;
        if !stored {
            persist(conn, &applied)?;
            seeded += 1;
        }
    }
    Ok(seeded)
}
