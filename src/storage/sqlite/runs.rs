//! The writer's side of runs and scripts: what a task writes to `antrea_traceflow_runs` and
//! `antrea_traceflow_scripts`, inside the task's savepoint.

use rusqlite::{params, Connection, OptionalExtension};

use super::errors::Classified;
use super::objects::object_row;
use crate::domain::object::RESOURCE_TYPE;
use crate::domain::results::Script;
use crate::domain::run::{ResultsPolicy, Run, RunNumber, RunStart};
use crate::domain::{ObjectId, PolicyObject};
use crate::storage::queries;
use crate::storage::rows::{script_from_row, ObjectRow, OBJECT_COLUMNS};
use crate::storage::StoreError;

/// Starts a run of `object`, replacing its current one: its result is the script's for the
/// object's id when one is set, else the policy's. Only traceflows have runs: for an object of
/// another type this does nothing.
pub(super) fn start(
    conn: &Connection,
    object: &PolicyObject,
    results: &ResultsPolicy,
    at: RunStart,
    number: RunNumber,
) -> Result<(), StoreError> {
    let Some(config) = object.traceflow() else {
        return Ok(());
    };
    let path = object.path.as_str();
    let unique_id = object.meta.unique_id.to_string();
    let current: Option<i64> = conn
        .prepare_cached("SELECT run FROM antrea_traceflow_runs WHERE path = ?1 AND unique_id = ?2")
        .and_then(|mut query| query.query_row([path, &unique_id], |r| r.get(0)).optional())
        .classified()?;
    let number = number.after(current);
    // A new run replaces the current one, which joins the earlier runs; the same run
    // restarted (a script set meanwhile) replaces nothing.
    if current.is_some_and(|current| current != number) {
        static KEEP: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| queries::keep_current_run(|n| format!("?{n}")));
        conn.prepare_cached(&KEEP)
            .and_then(|mut keep| keep.execute([path, &unique_id]))
            .classified()?;
    }
    let script = script(conn, object.id())?;
    let run = Run::start(number, config, script.as_ref(), results, at);
    let status = serde_json::to_string(&run.result.status).expect("a status serializes");
    let observations =
        serde_json::to_string(&run.result.observations).expect("observations serialize");
    conn.prepare_cached(
        "INSERT INTO antrea_traceflow_runs
             (path, id, unique_id, run, started_at, ready_at, status, observations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (path) DO UPDATE SET
             unique_id = excluded.unique_id,
             run = excluded.run,
             started_at = excluded.started_at,
             ready_at = excluded.ready_at,
             status = excluded.status,
             observations = excluded.observations",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            path,
            object.id().as_str(),
            unique_id,
            run.number,
            run.started,
            run.ready_at,
            status,
            observations,
        ])
    })
    .classified()?;
    Ok(())
}

/// Removes the runs of a deleted object, its earlier runs too.
pub(super) fn remove(conn: &Connection, object: &PolicyObject) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM antrea_traceflow_runs WHERE path = ?1")?
        .execute([object.path.as_str()])?;
    conn.prepare_cached("DELETE FROM antrea_traceflow_run_history WHERE path = ?1")?
        .execute([object.path.as_str()])
        .map(|_| ())
}

fn script(conn: &Connection, id: &ObjectId) -> Result<Option<Script>, StoreError> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT script FROM antrea_traceflow_scripts WHERE id = ?1")
        .and_then(|mut query| query.query_row([id.as_str()], |r| r.get(0)).optional())
        .classified()?;
    stored
        .map(|json| script_from_row(id.as_str(), &json))
        .transpose()
}

pub(super) fn set_script(
    conn: &Connection,
    id: &ObjectId,
    script: &Script,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO antrea_traceflow_scripts (id, script) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET script = excluded.script",
    )?
    .execute([id.as_str(), &script.to_json()])
    .map(|_| ())
}

pub(super) fn delete_script(conn: &Connection, id: &ObjectId) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM antrea_traceflow_scripts WHERE id = ?1")?
        .execute([id.as_str()])
        .map(|_| ())
}

/// The stored traceflows that have no run: those stored before runs existed.
pub(super) fn objects_without_run(conn: &Connection) -> Result<Vec<PolicyObject>, StoreError> {
    let sql = format!(
        "SELECT {OBJECT_COLUMNS} FROM policy_objects
         WHERE resource_type = '{RESOURCE_TYPE}'
           AND path NOT IN (SELECT path FROM antrea_traceflow_runs)"
    );
    let rows: Vec<ObjectRow> = conn
        .prepare(&sql)
        .and_then(|mut query| {
            query
                .query_map([], object_row)?
                .collect::<rusqlite::Result<_>>()
        })
        .classified()?;
    rows.into_iter().map(ObjectRow::into_object).collect()
}
