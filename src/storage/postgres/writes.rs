//! What a write does inside its transaction on PostgreSQL: objects with their history rows,
//! runs and scripts, and the whole-store operations. Each function runs on the transaction's
//! connection; the caller begins and commits.

use std::sync::{Arc, LazyLock};

use rand_chacha::ChaCha8Rng;
use sqlx::{FromRow, PgConnection, Row};

use super::errors::Classified;
use crate::determinism::uuid_v4;
use crate::domain::exchange::{ImportLine, LineError};
use crate::domain::object::{traceflow_path, PARENT_PATH, RESOURCE_TYPE};
use crate::domain::results::Script;
use crate::domain::run::{ResultsPolicy, Run, RunStart};
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::{Applied, FieldError, ObjectId, Operation, Traceflow, WriteRejection};
use crate::storage::queries::SNAPSHOT_TABLES as TABLES;
use crate::storage::rows::{script_from_row, ObjectRow, OBJECT_COLUMNS};
use crate::storage::{StoreError, WriteError};

/// The key of the store's own advisory lock (the two-key form, apart from the paths'
/// one-key locks): every write of one path holds it shared, a whole-store operation
/// exclusively.
const STORE_LOCK: (i32, i32) = (0x6e73_7870, 1);

/// Takes, until the transaction ends, the store's lock (shared) and the lock of `id`'s path,
/// whether or not an object is stored there. Writes of one path, from any instance, follow
/// one another, and a whole-store operation waits for them and they for it: what the
/// transaction reads after this is the committed state no other write changes before it
/// commits.
pub(super) async fn lock_path(tx: &mut PgConnection, id: &ObjectId) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock_shared($1, $2), pg_advisory_xact_lock(hashtextextended($3, 0))",
    )
    .bind(STORE_LOCK.0)
    .bind(STORE_LOCK.1)
    .bind(traceflow_path(id))
    .execute(&mut *tx)
    .await
    .classified()
    .map(|_| ())
}

/// What a write of one path reads under its locks, in one query: the object, the number of
/// its current run, and the script set for its id.
pub(super) struct Current {
    pub(super) object: Option<Traceflow>,
    pub(super) run: Option<i64>,
    pub(super) script: Option<Script>,
}

static CURRENT: LazyLock<String> = LazyLock::new(|| {
    let object_columns = OBJECT_COLUMNS
        .split(',')
        .map(|column| format!("o.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT o.path IS NOT NULL AS found, {object_columns}, r.run AS current_run, s.script
         FROM (SELECT $1::text AS path, $2::text AS id) AS wanted
         LEFT JOIN policy_objects AS o ON o.path = wanted.path
         LEFT JOIN antrea_traceflow_runs AS r
                ON r.path = wanted.path AND r.unique_id = o.unique_id
         LEFT JOIN antrea_traceflow_scripts AS s ON s.id = wanted.id"
    )
});

/// The object at `id`, its run and its script; taken after [`lock_path`], so that no write
/// changes them before the transaction ends.
pub(super) async fn current(tx: &mut PgConnection, id: &ObjectId) -> Result<Current, StoreError> {
    let row = sqlx::query(&CURRENT)
        .bind(traceflow_path(id))
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await
        .classified()?;
    let decoded = |err: sqlx::Error| StoreError::Internal(format!("stored object {id}: {err}"));
    let found: bool = row.try_get("found").map_err(decoded)?;
    let object = if found {
        Some(
            ObjectRow::from_row(&row)
                .map_err(decoded)?
                .into_traceflow()?,
        )
    } else {
        None
    };
    let script: Option<String> = row.try_get("script").map_err(decoded)?;
    Ok(Current {
        object,
        run: row.try_get("current_run").map_err(decoded)?,
        script: script
            .map(|json| script_from_row(id.as_str(), &json))
            .transpose()?,
    })
}

/// Whether `persist` wrote, or found that a concurrent transaction created the object first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Persisted {
    Written,
    CreatedMeanwhile,
}

/// Where a run is written, and how it replaces the object's current one.
const RUN_INTO: &str = "INSERT INTO antrea_traceflow_runs
         (path, id, unique_id, run, started_at, ready_at, status, observations)";
const RUN_REPLACES: &str = "ON CONFLICT (path) DO UPDATE SET
         unique_id = excluded.unique_id,
         run = excluded.run,
         started_at = excluded.started_at,
         ready_at = excluded.ready_at,
         status = excluded.status,
         observations = excluded.observations";

/// A run's status and observations, as stored.
fn run_json(run: &Run) -> (String, String) {
    let status = serde_json::to_string(&run.result.status).expect("a status serializes");
    let observations =
        serde_json::to_string(&run.result.observations).expect("observations serialize");
    (status, observations)
}

// The statements of `persist`. Each changes the object's row (`changed` answers its path)
// and, from it, appends the revision ($1 the path, $2 the unique id, $3 the revision, $4 the
// operation, $5 the whole object, $6 the time, $7 the user) and writes the run ($8 its
// number, $9 its start, $10 when it is ready, $11 its status, $12 its observations, $13 the
// object's id); the change itself binds the rest ($14 the config; a create's $15 to $18).

const REVISION: &str = "revision AS (
     INSERT INTO policy_object_revisions
         (path, unique_id, revision, operation, object, change_time, change_user)
     SELECT path, $2, $3, $4, $5, $6, $7 FROM changed)";

static RUN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "run AS ({RUN_INTO} SELECT path, $13, $2, $8, $9, $10, $11, $12 FROM changed
         {RUN_REPLACES})"
    )
});

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH changed AS (DELETE FROM policy_objects WHERE path = $1 RETURNING path),
              runs AS (DELETE FROM antrea_traceflow_runs WHERE path = $1),
              {REVISION}
         SELECT count(*) FROM changed"
    )
});

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH changed AS (
             INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                 config, revision, create_time, create_user, last_modified_time,
                 last_modified_user)
             VALUES ($1, $15, $13, $16, $2, $14, $3, $17, $18, $6, $7)
             ON CONFLICT (path) DO NOTHING
             RETURNING path),
              {REVISION},
              {run}
         SELECT count(*) FROM changed",
        run = *RUN
    )
});

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH changed AS (
             UPDATE policy_objects
             SET config = $14, revision = $3, last_modified_time = $6, last_modified_user = $7
             WHERE path = $1
             RETURNING path),
              {REVISION},
              {run}
         SELECT count(*) FROM changed",
        run = *RUN
    )
});

/// Writes the new state of the object, appends its history row and starts its `run` (a
/// deleted object's runs go with it), all in one statement. A create inserts only when the
/// path is still free; when it is not (a row written past the store's locks), nothing is
/// written and the caller starts over (its rules then see the object).
pub(super) async fn persist(
    tx: &mut PgConnection,
    applied: &Applied,
    run: Option<&Run>,
) -> Result<Persisted, StoreError> {
    let object = &applied.object;
    let meta = &object.meta;
    let change: &str = match applied.operation {
        Operation::Delete => &DELETE,
        Operation::Create => &CREATE,
        Operation::Replace | Operation::Patch => &UPDATE,
    };
    let statement = sqlx::query_scalar::<_, i64>(change)
        .bind(object.path())
        .bind(meta.unique_id.to_string())
        .bind(meta.revision)
        .bind(applied.operation.as_str())
        .bind(object.to_json())
        .bind(meta.last_modified_time)
        .bind(&meta.last_modified_user);
    let statement = match (applied.operation, run) {
        (Operation::Delete, _) => statement,
        (_, None) => {
            return Err(StoreError::Internal(format!(
                "a {} without its run",
                applied.operation.as_str()
            )))
        }
        (operation, Some(run)) => {
            let (status, observations) = run_json(run);
            let statement = statement
                .bind(run.number)
                .bind(run.started)
                .bind(run.ready_at)
                .bind(status)
                .bind(observations)
                .bind(object.id.as_str())
                .bind(object.config.to_json());
            if operation == Operation::Create {
                statement
                    .bind(PARENT_PATH)
                    .bind(RESOURCE_TYPE)
                    .bind(meta.create_time)
                    .bind(&meta.create_user)
            } else {
                statement
            }
        }
    };
    let changed = statement.fetch_one(&mut *tx).await.classified()?;
    if applied.operation == Operation::Create && changed == 0 {
        return Ok(Persisted::CreatedMeanwhile);
    }
    Ok(Persisted::Written)
}

/// Starts `run` of `object`, replacing its current one.
pub(super) async fn start_run(
    tx: &mut PgConnection,
    object: &Traceflow,
    run: &Run,
) -> Result<(), StoreError> {
    let (status, observations) = run_json(run);
    sqlx::query(&format!(
        "{RUN_INTO} VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {RUN_REPLACES}"
    ))
    .bind(object.path())
    .bind(object.id.as_str())
    .bind(object.meta.unique_id.to_string())
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

/// Waits for every write in flight and holds off new ones until the transaction ends: a
/// whole-store operation (a reset, a snapshot saved or restored, an import) sees no write
/// half done, and a write lands wholly before or after it. Reads go on.
pub(super) async fn lock_store(tx: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(STORE_LOCK.0)
        .bind(STORE_LOCK.1)
        .execute(&mut *tx)
        .await
        .classified()
        .map(|_| ())
}

/// Empties the store's objects, revisions, runs and scripts; answers how many objects were
/// removed. Snapshots and the store's keys stay.
pub(super) async fn reset(tx: &mut PgConnection) -> Result<u64, StoreError> {
    lock_store(tx).await?;
    let removed = count_objects(tx).await?;
    clear(tx).await?;
    Ok(removed)
}

pub(super) async fn save_snapshot(
    tx: &mut PgConnection,
    name: &SnapshotName,
    created: i64,
) -> Result<SnapshotInfo, StoreError> {
    lock_store(tx).await?;
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
    lock_store(tx).await?;
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
    lock_store(tx).await?;
    let mut imported = 0;
    for line in lines {
        let number = line.number;
        let unique_id = uuid_v4(&mut unique_ids.lock().expect("unique id lock"));
        let applied = Applied {
            operation: Operation::Create,
            object: Arc::new(line.into_object(at.stamp, user, unique_id)),
        };
        // A new object has no run yet.
        let script = script(tx, &applied.object.id).await?;
        let run = Run::start(1, &applied.object, script.as_ref(), results, at);
        if persist(tx, &applied, Some(&run)).await? == Persisted::CreatedMeanwhile {
            let error = LineError {
                line: number,
                error: FieldError::new("id", "an object with this id exists already"),
            };
            return Err(WriteRejection::Invalid(error.into_field_error()).into());
        }
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
