//! The writer's side of runs and scripts: what a task writes to `antrea_traceflow_runs` and
//! `antrea_traceflow_scripts`, inside the task's transaction.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension};

use super::errors::Classified;
use super::objects::object_row;
use crate::domain::{ObjectId, PolicyObject};
use crate::kinds::traceflow::results::Script;
use crate::kinds::traceflow::run::{Outcome, ResultsPolicy, Run, RunNumber, RunStart, StartedRun};
use crate::kinds::traceflow::RESOURCE_TYPE;
use crate::kinds::traceflow::{config_of, TraceflowConfig};
use crate::storage::rows::{
    result_columns, script_from_row, ObjectRow, RunRow, OBJECT_COLUMNS, RUN_COLUMNS,
};
use crate::storage::StoreError;

/// Starts a run of `object`, replacing its current one: its result is the script's for the
/// object's id when one is set, else the policy's. A simulated result is not written: the row
/// keeps its seed, and a read computes it ([`Outcome::Simulated`]). A current run replaced
/// joins the earlier runs with its result computed from `ran_with`, the config it ran with
/// (the object's before this write). Only traceflows have runs: for an object of another type
/// this does nothing.
pub(super) fn start(
    conn: &Connection,
    object: &PolicyObject,
    ran_with: Option<&TraceflowConfig>,
    results: &ResultsPolicy,
    at: RunStart,
    number: RunNumber,
) -> Result<(), StoreError> {
    let Some(config) = config_of(object).map_err(|err| StoreError::Internal(err.to_string()))?
    else {
        return Ok(());
    };
    let config = &config;
    let path = object.path.as_str();
    let unique_id = object.meta.unique_id.to_string();
    let first = number == RunNumber::First;
    let current = match number {
        RunNumber::First => None,
        RunNumber::Next | RunNumber::Same => current(conn, path, &unique_id)?,
    };
    let number = number.after(current.as_ref().map(|run| run.number));
    // A new run replaces the current one, which joins the earlier runs; the same run
    // restarted (a script set meanwhile) replaces nothing.
    if let Some(replaced) = current.filter(|current| current.number != number) {
        keep(
            conn,
            path,
            &unique_id,
            replaced.resolve(ran_with.unwrap_or(config)),
        )?;
    }
    let script = script(conn, object.id())?;
    let run = StartedRun::start(number, config, script.as_ref(), results, at);
    let (seed, status, observations) = match &run.outcome {
        // Stored as SQLite stores integers: the seed's 64 bits, read back as they were.
        Outcome::Simulated { seed } => (Some(*seed as i64), None, None),
        Outcome::Decided(result) => {
            let (status, observations) = result_columns(result);
            (None, Some(status), Some(observations))
        }
    };
    // A new object's first run is a plain INSERT (no statement journal); any other replaces
    // the current run's row, or writes the first of a traceflow stored before runs existed.
    const INSERT: &str = "INSERT INTO antrea_traceflow_runs
             (path, id, unique_id, run, started_at, ready_at, seed, status, observations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    static UPSERT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{INSERT}
             ON CONFLICT (path) DO UPDATE SET
                 unique_id = excluded.unique_id,
                 run = excluded.run,
                 started_at = excluded.started_at,
                 ready_at = excluded.ready_at,
                 seed = excluded.seed,
                 status = excluded.status,
                 observations = excluded.observations"
        )
    });
    conn.prepare_cached(if first { INSERT } else { &UPSERT })
        .and_then(|mut insert| {
            insert.execute(params![
                path,
                object.id().as_str(),
                unique_id,
                run.number,
                run.started,
                run.ready_at,
                seed,
                status,
                observations,
            ])
        })
        .classified()?;
    Ok(())
}

/// The current run of the object at `path` whose `unique_id` is given (not an earlier
/// object's of the same path), as stored.
fn current(
    conn: &Connection,
    path: &str,
    unique_id: &str,
) -> Result<Option<StartedRun>, StoreError> {
    static CURRENT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {RUN_COLUMNS} FROM antrea_traceflow_runs WHERE path = ?1 AND unique_id = ?2"
        )
    });
    let row = conn
        .prepare_cached(&CURRENT)
        .and_then(|mut query| {
            query
                .query_row([path, unique_id], |row| {
                    Ok(RunRow {
                        path: row.get(0)?,
                        run: row.get(1)?,
                        started_at: row.get(2)?,
                        ready_at: row.get(3)?,
                        seed: row.get(4)?,
                        status: row.get(5)?,
                        observations: row.get(6)?,
                        config: None,
                    })
                })
                .optional()
        })
        .classified()?;
    row.map(|row| row.into_started_run().map(|(run, _)| run))
        .transpose()
}

/// Keeps `run`, the current run of `path` that a new one replaces, among its earlier runs.
fn keep(conn: &Connection, path: &str, unique_id: &str, run: Run) -> Result<(), StoreError> {
    let (status, observations) = result_columns(&run.result);
    conn.prepare_cached(
        "INSERT INTO antrea_traceflow_run_history
             (path, run, unique_id, started_at, ready_at, status, observations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            path,
            run.number,
            unique_id,
            run.started,
            run.ready_at,
            status,
            observations
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
