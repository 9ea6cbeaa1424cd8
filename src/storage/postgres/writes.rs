//! What a write does inside its transaction on PostgreSQL: objects with their history rows,
//! runs and scripts, and the whole-store operations. Each function runs on the transaction's
//! connection; the caller begins and commits.

use std::sync::{Arc, LazyLock};

use rand_chacha::ChaCha8Rng;
use sqlx::PgConnection;

use super::errors::Classified;
use crate::determinism::uuid_v4;
use crate::domain::exchange::{ImportLine, LineError};
use crate::domain::object::{traceflow_path, PARENT_PATH, RESOURCE_TYPE};
use crate::domain::results::Script;
use crate::domain::run::{ResultsPolicy, Run, RunNumber, RunStart};
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::{Applied, FieldError, ObjectId, Operation, Traceflow, WriteRejection};
use crate::storage::queries::SNAPSHOT_TABLES as TABLES;
use crate::storage::rows::{script_from_row, ObjectRow, OBJECT_COLUMNS};
use crate::storage::{StoreError, WriteError};

/// One object by its path, locked for the rest of the transaction.
static OBJECT_FOR_UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE path = $1 FOR UPDATE")
});

/// Takes the lock of `id`'s path until the transaction ends, whether or not an object is
/// stored there: writes of one path, from any instance, follow one another, so that a
/// create checks for the object and inserts it as one step.
pub(super) async fn lock_path(tx: &mut PgConnection, id: &ObjectId) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(traceflow_path(id))
        .execute(&mut *tx)
        .await
        .classified()
        .map(|_| ())
}

/// The object at `id`, locked until the transaction ends: a concurrent write of it waits,
/// so its `_revision` is checked against the committed row.
pub(super) async fn fetch_for_update(
    tx: &mut PgConnection,
    id: &ObjectId,
) -> Result<Option<Traceflow>, StoreError> {
    let row: Option<ObjectRow> = sqlx::query_as(&OBJECT_FOR_UPDATE)
        .bind(traceflow_path(id))
        .fetch_optional(&mut *tx)
        .await
        .classified()?;
    row.map(ObjectRow::into_traceflow).transpose()
}

/// Whether `persist` wrote, or found that a concurrent transaction created the object first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Persisted {
    Written,
    CreatedMeanwhile,
}

/// Writes the new state of the object and appends its history row. A create inserts only
/// when the path is still free; when another instance created it meanwhile, nothing is
/// written and the caller starts over (its rules then see the object).
pub(super) async fn persist(
    tx: &mut PgConnection,
    applied: &Applied,
) -> Result<Persisted, StoreError> {
    let object = &applied.object;
    let path = object.path();
    let meta = &object.meta;
    let unique_id = meta.unique_id.to_string();
    match applied.operation {
        Operation::Delete => {
            sqlx::query("DELETE FROM policy_objects WHERE path = $1")
                .bind(&path)
                .execute(&mut *tx)
                .await
                .classified()?;
        }
        Operation::Create => {
            let inserted = sqlx::query(
                "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                     config, revision, create_time, create_user, last_modified_time,
                     last_modified_user)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (path) DO NOTHING",
            )
            .bind(&path)
            .bind(PARENT_PATH)
            .bind(object.id.as_str())
            .bind(RESOURCE_TYPE)
            .bind(&unique_id)
            .bind(object.config.to_json())
            .bind(meta.revision)
            .bind(meta.create_time)
            .bind(&meta.create_user)
            .bind(meta.last_modified_time)
            .bind(&meta.last_modified_user)
            .execute(&mut *tx)
            .await
            .classified()?;
            if inserted.rows_affected() == 0 {
                return Ok(Persisted::CreatedMeanwhile);
            }
        }
        Operation::Replace | Operation::Patch => {
            sqlx::query(
                "UPDATE policy_objects
                 SET config = $2, revision = $3, last_modified_time = $4, last_modified_user = $5
                 WHERE path = $1",
            )
            .bind(&path)
            .bind(object.config.to_json())
            .bind(meta.revision)
            .bind(meta.last_modified_time)
            .bind(&meta.last_modified_user)
            .execute(&mut *tx)
            .await
            .classified()?;
        }
    }
    sqlx::query(
        "INSERT INTO policy_object_revisions
             (path, unique_id, revision, operation, object, change_time, change_user)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&path)
    .bind(&unique_id)
    .bind(meta.revision)
    .bind(applied.operation.as_str())
    .bind(object.to_json())
    .bind(meta.last_modified_time)
    .bind(&meta.last_modified_user)
    .execute(&mut *tx)
    .await
    .classified()?;
    Ok(Persisted::Written)
}

/// Starts a run of `object`, replacing its current one: its result is the script's for the
/// object's id when one is set, else the policy's.
pub(super) async fn start_run(
    tx: &mut PgConnection,
    object: &Traceflow,
    results: &ResultsPolicy,
    at: RunStart,
    number: RunNumber,
) -> Result<(), StoreError> {
    let path = object.path();
    let unique_id = object.meta.unique_id.to_string();
    let current: Option<i64> = sqlx::query_scalar(
        "SELECT run FROM antrea_traceflow_runs WHERE path = $1 AND unique_id = $2",
    )
    .bind(&path)
    .bind(&unique_id)
    .fetch_optional(&mut *tx)
    .await
    .classified()?;
    let number = number.after(current);
    let script = script(&mut *tx, &object.id).await?;
    let run = Run::start(number, object, script.as_ref(), results, at);
    let status = serde_json::to_string(&run.result.status).expect("a status serializes");
    let observations =
        serde_json::to_string(&run.result.observations).expect("observations serialize");
    sqlx::query(
        "INSERT INTO antrea_traceflow_runs
             (path, id, unique_id, run, started_at, ready_at, status, observations)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (path) DO UPDATE SET
             unique_id = excluded.unique_id,
             run = excluded.run,
             started_at = excluded.started_at,
             ready_at = excluded.ready_at,
             status = excluded.status,
             observations = excluded.observations",
    )
    .bind(&path)
    .bind(object.id.as_str())
    .bind(&unique_id)
    .bind(run.number)
    .bind(run.started)
    .bind(run.ready_at)
    .bind(status)
    .bind(observations)
    .execute(&mut *tx)
    .await
    .classified()?;
    Ok(())
}

/// Removes the runs of a deleted object.
pub(super) async fn remove_runs(
    tx: &mut PgConnection,
    object: &Traceflow,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM antrea_traceflow_runs WHERE path = $1")
        .bind(object.path())
        .execute(&mut *tx)
        .await
        .classified()
        .map(|_| ())
}

pub(super) async fn script(
    conn: &mut PgConnection,
    id: &ObjectId,
) -> Result<Option<Script>, StoreError> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT script FROM antrea_traceflow_scripts WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .classified()?;
    stored
        .map(|json| script_from_row(id.as_str(), &json))
        .transpose()
}

pub(super) async fn set_script(
    tx: &mut PgConnection,
    id: &ObjectId,
    script: &Script,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO antrea_traceflow_scripts (id, script) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET script = excluded.script",
    )
    .bind(id.as_str())
    .bind(script.to_json())
    .execute(&mut *tx)
    .await
    .classified()
    .map(|_| ())
}

pub(super) async fn delete_script(tx: &mut PgConnection, id: &ObjectId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM antrea_traceflow_scripts WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .classified()
        .map(|_| ())
}

/// Waits for every write in flight and holds off new ones until the transaction ends
/// (`exclusive`: for a whole-store change), or only holds off writes (for a snapshot's
/// copy, which reads): either way a concurrent write lands wholly before or after.
pub(super) async fn lock_store(tx: &mut PgConnection, exclusive: bool) -> Result<(), StoreError> {
    let mode = if exclusive { "EXCLUSIVE" } else { "SHARE" };
    sqlx::query(&format!(
        "LOCK TABLE policy_objects, policy_object_revisions, antrea_traceflow_runs,
              antrea_traceflow_scripts IN {mode} MODE"
    ))
    .execute(&mut *tx)
    .await
    .classified()
    .map(|_| ())
}

/// Empties the store's objects, revisions, runs and scripts; answers how many objects were
/// removed. Snapshots and the store's keys stay.
pub(super) async fn reset(tx: &mut PgConnection) -> Result<u64, StoreError> {
    lock_store(tx, true).await?;
    let removed = count_objects(tx).await?;
    clear(tx).await?;
    Ok(removed)
}

pub(super) async fn save_snapshot(
    tx: &mut PgConnection,
    name: &SnapshotName,
    created: i64,
) -> Result<SnapshotInfo, StoreError> {
    lock_store(tx, false).await?;
    delete_snapshot(tx, name).await?;
    for (live, saved, columns) in TABLES {
        sqlx::query(&format!(
            "INSERT INTO {saved} (snapshot, {columns}) SELECT $1, {columns} FROM {live}"
        ))
        .bind(name.as_str())
        .execute(&mut *tx)
        .await
        .classified()?;
    }
    let objects = count_objects(tx).await?;
    sqlx::query("INSERT INTO store_snapshots (name, created, objects) VALUES ($1, $2, $3)")
        .bind(name.as_str())
        .bind(created)
        .bind(objects as i64)
        .execute(&mut *tx)
        .await
        .classified()?;
    Ok(SnapshotInfo {
        name: name.as_str().to_owned(),
        created,
        objects,
    })
}

pub(super) async fn restore_snapshot(
    tx: &mut PgConnection,
    name: &SnapshotName,
) -> Result<Option<SnapshotInfo>, StoreError> {
    lock_store(tx, true).await?;
    let Some(info) = snapshot_info(tx, name).await? else {
        return Ok(None);
    };
    clear(tx).await?;
    for (live, saved, columns) in TABLES {
        sqlx::query(&format!(
            "INSERT INTO {live} ({columns}) SELECT {columns} FROM {saved} WHERE snapshot = $1"
        ))
        .bind(name.as_str())
        .execute(&mut *tx)
        .await
        .classified()?;
    }
    Ok(Some(info))
}

pub(super) async fn delete_snapshot(
    tx: &mut PgConnection,
    name: &SnapshotName,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM store_snapshots WHERE name = $1")
        .bind(name.as_str())
        .execute(&mut *tx)
        .await
        .classified()?;
    for (_, saved, _) in TABLES {
        sqlx::query(&format!("DELETE FROM {saved} WHERE snapshot = $1"))
            .bind(name.as_str())
            .execute(&mut *tx)
            .await
            .classified()?;
    }
    Ok(())
}

pub(super) async fn snapshot_info(
    conn: &mut PgConnection,
    name: &SnapshotName,
) -> Result<Option<SnapshotInfo>, StoreError> {
    let row: Option<(String, i64, i64)> =
        sqlx::query_as("SELECT name, created, objects FROM store_snapshots WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await
            .classified()?;
    Ok(row.map(|(name, created, objects)| SnapshotInfo {
        name,
        created,
        objects: objects.max(0) as u64,
    }))
}

/// Creates every object of an import, each with a create revision and a run; refuses the
/// whole import when a line names an id that exists already.
pub(super) async fn import(
    tx: &mut PgConnection,
    lines: Vec<ImportLine>,
    user: &str,
    (results, unique_ids): (&ResultsPolicy, &std::sync::Mutex<ChaCha8Rng>),
    at: RunStart,
) -> Result<u64, WriteError> {
    lock_store(tx, true).await?;
    let mut imported = 0;
    for line in lines {
        let number = line.number;
        let unique_id = uuid_v4(&mut unique_ids.lock().expect("unique id lock"));
        let applied = Applied {
            operation: Operation::Create,
            object: Arc::new(line.into_object(at.stamp, user, unique_id)),
        };
        if persist(tx, &applied).await? == Persisted::CreatedMeanwhile {
            let error = LineError {
                line: number,
                error: FieldError::new("id", "an object with this id exists already"),
            };
            return Err(WriteRejection::Invalid(error.into_field_error()).into());
        }
        start_run(tx, &applied.object, results, at, RunNumber::Next).await?;
        imported += 1;
    }
    Ok(imported)
}

async fn count_objects(tx: &mut PgConnection) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM policy_objects")
        .fetch_one(&mut *tx)
        .await
        .classified()?;
    Ok(count.max(0) as u64)
}

/// Removes every object, revision, run and script, marked as a whole-store operation (the
/// only one the history's append-only trigger lets through).
async fn clear(tx: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO store_whole_operations (name) VALUES ('clear')")
        .execute(&mut *tx)
        .await
        .classified()?;
    for (live, _, _) in TABLES {
        sqlx::query(&format!("DELETE FROM {live}"))
            .execute(&mut *tx)
            .await
            .classified()?;
    }
    sqlx::query("DELETE FROM store_whole_operations")
        .execute(&mut *tx)
        .await
        .classified()?;
    Ok(())
}
