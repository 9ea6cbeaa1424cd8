//! The writer's side of whole-store operations: reset, snapshots and import, each one task
//! in one transaction, so that a concurrent write lands wholly before or after it.

use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};

use rand_chacha::ChaCha8Rng;

use super::errors::Classified;
use super::objects::{check_relations, create_companions, fetch, persist, seed_defaults};
use super::runs;
use crate::determinism::uuid_v4;
use crate::domain::exchange::{ImportLine, LineError};
use crate::domain::history::WholeOperation;
use crate::domain::kind::Kinds;
use crate::domain::relations;
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::{Applied, Operation, WriteRejection};
use crate::kinds::traceflow::run::{ResultsPolicy, RunNumber, RunStart};
use crate::storage::queries::{CLIENT_OBJECTS, PRUNE_WHOLE_EVENTS, SNAPSHOT_TABLES as TABLES};
use crate::storage::WriteError;

/// Empties the store's objects, revisions, runs and scripts, tells the events stream that
/// `user` did, and writes the defaults anew; answers how many objects clients had written.
/// Snapshots and the store's keys stay.
pub(super) fn reset(conn: &Connection, now: i64, user: &str) -> rusqlite::Result<u64> {
    let removed = count_objects(conn)?;
    clear(conn)?;
    let answer = serde_json::json!({ "objects_removed": removed });
    tell(conn, WholeOperation::Reset, user, now, &answer)?;
    seed_defaults(conn, now)?;
    Ok(removed)
}

/// Tells the events stream of an operation on the whole store, done by `user` at `time`,
/// with what it answered: a row of `store_events` at the next position of the history's
/// sequence, which the history's next row then follows (AUTOINCREMENT numbers a row after
/// the larger of `sqlite_sequence`'s number and the table's largest).
pub(super) fn tell(
    conn: &Connection,
    operation: WholeOperation,
    user: &str,
    time: i64,
    answer: &serde_json::Value,
) -> rusqlite::Result<()> {
    let position: i64 = conn.query_row(
        "SELECT 1 + max(
             coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'policy_object_revisions'), 0),
             coalesce((SELECT max(position) FROM store_events), 0))",
        [],
        |row| row.get(0),
    )?;
    conn.execute(
        "INSERT INTO store_events (position, operation, change_user, change_time, detail)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![position, operation.as_str(), user, time, answer.to_string()],
    )?;
    let moved = conn.execute(
        "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'policy_object_revisions'",
        [position],
    )?;
    if moved == 0 {
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('policy_object_revisions', ?1)",
            [position],
        )?;
    }
    conn.execute(PRUNE_WHOLE_EVENTS, []).map(|_| ())
}

/// Whether the mark `name` of one-off work owed at the next start is in `store_pending`.
pub(super) fn pending(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM store_pending WHERE name = ?1)",
        [name],
        |row| row.get(0),
    )
}

/// The work of the mark `name` is done: no later start does it again.
pub(super) fn done(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM store_pending WHERE name = ?1", [name])
        .map(|_| ())
}

/// Saves the whole state as `name`, replacing a snapshot of that name.
pub(super) fn save(
    conn: &Connection,
    name: &SnapshotName,
    created: i64,
) -> rusqlite::Result<SnapshotInfo> {
    delete(conn, name)?;
    for (live, saved, columns) in TABLES {
        conn.execute(
            &format!("INSERT INTO {saved} (snapshot, {columns}) SELECT ?1, {columns} FROM {live}"),
            [name.as_str()],
        )?;
    }
    let objects = count_objects(conn)?;
    conn.execute(
        "INSERT INTO store_snapshots (name, created, objects) VALUES (?1, ?2, ?3)",
        params![name.as_str(), created, objects],
    )?;
    Ok(SnapshotInfo {
        name: name.as_str().to_owned(),
        created,
        objects,
    })
}

/// Makes the state the snapshot's; `None` when there is no such snapshot.
pub(super) fn restore(
    conn: &Connection,
    name: &SnapshotName,
) -> rusqlite::Result<Option<SnapshotInfo>> {
    let Some(info) = info(conn, name)? else {
        return Ok(None);
    };
    clear(conn)?;
    for (live, saved, columns) in TABLES {
        conn.execute(
            &format!(
                "INSERT INTO {live} ({columns}) SELECT {columns} FROM {saved} WHERE snapshot = ?1"
            ),
            [name.as_str()],
        )?;
    }
    Ok(Some(info))
}

pub(super) fn delete(conn: &Connection, name: &SnapshotName) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM store_snapshots WHERE name = ?1",
        [name.as_str()],
    )?;
    for (_, saved, _) in TABLES {
        conn.execute(
            &format!("DELETE FROM {saved} WHERE snapshot = ?1"),
            [name.as_str()],
        )?;
    }
    Ok(())
}

fn info(conn: &Connection, name: &SnapshotName) -> rusqlite::Result<Option<SnapshotInfo>> {
    conn.query_row(
        "SELECT name, created, objects FROM store_snapshots WHERE name = ?1",
        [name.as_str()],
        |row| {
            Ok(SnapshotInfo {
                name: row.get(0)?,
                created: row.get(1)?,
                objects: row.get(2)?,
            })
        },
    )
    .optional()
}

/// Creates every object of an import, each with a create revision and a run; refuses the
/// whole import when a line names an id that exists already.
pub(super) fn import(
    conn: &Connection,
    lines: Vec<ImportLine>,
    user: &str,
    (results, unique_ids): (&ResultsPolicy, &mut ChaCha8Rng),
    at: RunStart,
    kinds: &dyn Kinds,
) -> Result<u64, WriteError> {
    let mut written = Vec::with_capacity(lines.len());
    for line in lines {
        match fetch(conn, &line.path)? {
            // What the system wrote (a default, a project's domain) gives way to the line's
            // version of it.
            Some(stored) if relations::is_system_owned(&stored) => {
                conn.execute(
                    "DELETE FROM policy_objects WHERE path = ?1",
                    [stored.path.as_str()],
                )
                .classified()?;
            }
            Some(_) => {
                let error = LineError::exists(&line).into_field_error();
                return Err(WriteRejection::Invalid(error).into());
            }
            None => {}
        }
        let unique_id = uuid_v4(unique_ids);
        let applied = Applied {
            operation: Operation::Create,
            object: Arc::new(line.into_object(at.stamp, user, unique_id)),
        };
        persist(conn, &applied).classified()?;
        runs::start(conn, &applied.object, None, results, at, RunNumber::First)?;
        create_companions(conn, kinds.at(&applied.object.path).companions(&applied))?;
        written.push(applied);
    }
    // Checked once every line is written: a line's parent or the objects it refers to may
    // be any other line's.
    for applied in &written {
        check_relations(conn, applied, kinds)?;
    }
    Ok(written.len() as u64)
}

/// The objects clients wrote: every stored object but the store's own defaults.
fn count_objects(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(&CLIENT_OBJECTS, [], |row| row.get(0))
}

/// Removes every object, revision, run and script, marked as a whole-store operation (the
/// only one the history's append-only trigger lets through).
fn clear(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO store_whole_operations (name) VALUES ('clear')",
        [],
    )?;
    for (live, _, _) in TABLES {
        conn.execute(&format!("DELETE FROM {live}"), [])?;
    }
    conn.execute("DELETE FROM store_whole_operations", [])?;
    Ok(())
}
