//! What a write does on PostgreSQL: objects with their history rows, runs and scripts, and
//! the whole-store operations. Each function runs on the connection it is given, in a
//! transaction the caller begins and commits; a write of an object may run outside one
//! ([`persist`] is then its own commit).

use std::sync::{Arc, LazyLock};

use rand_chacha::ChaCha8Rng;
use sqlx::{FromRow, PgConnection, Row};

use super::errors::Classified;
use crate::determinism::uuid_v4;
use crate::domain::exchange::{ImportLine, LineError};
use crate::domain::history::WholeOperation;
use crate::domain::kind::{Companion, Kinds};
use crate::domain::relations::{self, Check};
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::write::{self, Stamp};
use crate::domain::{
    Applied, Change, ObjectId, ObjectPath, Operation, PolicyObject, WriteRejection,
};
use crate::kinds::traceflow::config_of;
use crate::kinds::traceflow::results::Script;
use crate::kinds::traceflow::run::{ResultsPolicy, Run, RunStart};
use crate::storage::queries::{
    self, CLIENT_OBJECTS, PRUNE_WHOLE_EVENTS, SNAPSHOT_TABLES as TABLES,
};
use crate::storage::rows::{result_columns, script_from_row, ObjectRow, OBJECT_COLUMNS};
use crate::storage::{StoreError, WriteError};

/// Takes the lock of `path`'s object row until the transaction ends (when there is a row):
/// a write that may check its relations, or a retry of one that lost a race ([`persist`]),
/// so that no other write changes the row meanwhile. It also waits for a whole-store
/// operation in flight and holds off the next, as the row lock takes the table's lock in a
/// mode [`lock_store`]'s excludes. Where no row is stored, it holds nothing: another write
/// may still create the object first, which [`queue_for`] prevents.
pub(super) async fn hold_row(tx: &mut PgConnection, path: &ObjectPath) -> Result<(), StoreError> {
    sqlx::query("SELECT FROM policy_objects WHERE path = $1 FOR UPDATE")
        .bind(path.as_str())
        .execute(&mut *tx)
        .await
        .classified()
        .map(|_| ())
}

/// The class of the advisory locks that queue the writes of one path, the first of their
/// two keys (the second is the path's `hashtext`). The migrations' lock has one key: the
/// two never meet.
const QUEUE_CLASS: i32 = 0x4E53_5850;

/// Queues the transaction behind the other writes of `paths` that queued before it, in the
/// order given (every caller gives its paths sorted, so that two never wait for each other
/// in a circle), and holds each path's place until the transaction ends: a write that lost
/// a race queues before it tries again. No other write of those paths lands meanwhile,
/// whether or not the object is stored: every statement of [`persist`] writes only while it
/// can share the path's lock, and a write that cannot counts as raced and queues in turn.
/// So a write that queued loses no race to another write of its object.
///
/// The queued write also takes the shared lock its own statements ask for: PostgreSQL would
/// refuse them that while the next write waits in the queue, as a request that conflicts
/// with a waiting one is not granted, even to the holder of the exclusive lock; one already
/// held is.
pub(super) async fn queue_for(tx: &mut PgConnection, paths: &[&str]) -> Result<(), StoreError> {
    // `unnest` answers the array's elements in their order; each row's locks are taken as
    // it is answered, the exclusive one first.
    sqlx::query(
        "SELECT pg_advisory_xact_lock($1, hashtext(path)),
                pg_advisory_xact_lock_shared($1, hashtext(path))
         FROM unnest($2::text[]) AS path",
    )
    .bind(QUEUE_CLASS)
    .bind(paths)
    .execute(&mut *tx)
    .await
    .classified()
    .map(|_| ())
}

/// What a write of one path reads, in one query: the object, the number of its current
/// run, the script set for its id (only a traceflow's path has either: the queries below
/// match a script only where the path is `/infra/antrea/traceflows/<id>`), and the versions
/// of the rows they came from.
pub(super) struct Current {
    pub(super) object: Option<PolicyObject>,
    pub(super) run: Option<i64>,
    pub(super) script: Option<Script>,
    pub(super) versions: Versions,
}

impl Current {
    /// Nothing stored for the path: no object, no run, no script.
    pub(super) fn nothing() -> Self {
        Current {
            object: None,
            run: None,
            script: None,
            versions: Versions {
                object: None,
                run: None,
                script: None,
            },
        }
    }
}

/// The versions (PostgreSQL's `xmin`, which every insert and update changes) of the rows a
/// write read its state from, `None` for a row that was not there: the object's, its run's
/// and its script's. [`persist`] writes only while they are still the same.
#[derive(Debug, Clone, Copy)]
pub(super) struct Versions {
    object: Option<i64>,
    run: Option<i64>,
    script: Option<i64>,
}

static CURRENT: LazyLock<String> = LazyLock::new(|| {
    let object_columns = OBJECT_COLUMNS
        .split(',')
        .map(|column| format!("o.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT o.path IS NOT NULL AS found, {object_columns},
                CASE WHEN r.unique_id = o.unique_id THEN r.run END AS current_run, s.script,
                o.xmin::text::bigint AS object_version, r.xmin::text::bigint AS run_version,
                s.xmin::text::bigint AS script_version
         FROM (SELECT $1::text AS path, $2::text AS id) AS wanted
         LEFT JOIN policy_objects AS o ON o.path = wanted.path
         LEFT JOIN antrea_traceflow_runs AS r ON r.path = wanted.path
         LEFT JOIN antrea_traceflow_scripts AS s
             ON s.id = wanted.id AND wanted.path = '/infra/antrea/traceflows/' || wanted.id"
    )
});

/// The object at `path`, its run and its script (a traceflow's), as committed when the query
/// began.
pub(super) async fn current(
    tx: &mut PgConnection,
    path: &ObjectPath,
) -> Result<Current, StoreError> {
    let id = path.id();
    let row = sqlx::query(&CURRENT)
        .bind(path.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await
        .classified()?;
    let decoded = |err: sqlx::Error| StoreError::Internal(format!("stored object {id}: {err}"));
    let found: bool = row.try_get("found").map_err(decoded)?;
    let object = if found {
        Some(ObjectRow::from_row(&row).map_err(decoded)?.into_object()?)
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
        versions: Versions {
            object: row.try_get("object_version").map_err(decoded)?,
            run: row.try_get("run_version").map_err(decoded)?,
            script: row.try_get("script_version").map_err(decoded)?,
        },
    })
}

/// Whether `persist` wrote, or found a row it read changed meanwhile and wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Persisted {
    Written,
    Raced,
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

// The statements of `persist`. Each changes the object's row only while the rows the write
// read are unchanged (`unchanged`: $8 to $10 their versions, $11 the object's id); from the
// changed row (`changed` answers its path) it appends the revision ($1 the path, $2 the
// unique id, $3 the revision, $4 the operation, $5 the whole object, $6 the time, $7 the
// user) and writes the run ($12 its number, $13 its start, $14 when it is ready, $15 its
// status, $16 its observations); the change itself binds the rest ($17 the config; a
// create's $18 to $21) and, last, the paths the object refers to (a replace's $18, a
// create's $22), which replace the path's rows of `policy_references`. Each statement binds
// the first of these parameters, a delete's up to $11.
//
// `unchanged` reads with the statement's snapshot, taken once the statement holds its lock
// on `policy_objects`: a whole-store operation, a retrace or a script (`lock_store`) has
// committed before it, or waits for it. A concurrent write of the same object is caught by
// the object's own row: an update or a delete that waited for another's lock checks the
// version again on the row that other left, and of two creates one finds the path taken.
// While a write that lost a race holds its path's place in the queue ([`queue_for`]),
// `unchanged` is empty for every other write of the path: it counts as raced, and queues.

static UNCHANGED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "unchanged AS (
             SELECT WHERE
                 (SELECT xmin::text::bigint FROM policy_objects WHERE path = $1)
                     IS NOT DISTINCT FROM $8
             AND (SELECT xmin::text::bigint FROM antrea_traceflow_runs WHERE path = $1)
                     IS NOT DISTINCT FROM $9
             AND (SELECT xmin::text::bigint FROM antrea_traceflow_scripts
                  WHERE id = $11 AND $1 = '/infra/antrea/traceflows/' || $11)
                     IS NOT DISTINCT FROM $10
             AND pg_try_advisory_xact_lock_shared({QUEUE_CLASS}, hashtext($1)))"
    )
});

const REVISION: &str = "revision AS (
     INSERT INTO policy_object_revisions
         (path, unique_id, revision, operation, object, change_time, change_user)
     SELECT path, $2, $3, $4, $5, $6, $7 FROM changed)";

static RUN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "run AS ({RUN_INTO} SELECT path, $11, $2, $12, $13, $14, $15, $16 FROM changed
         WHERE $12::bigint IS NOT NULL {RUN_REPLACES})"
    )
});

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {unchanged},
              changed AS (
                  DELETE FROM policy_objects
                  WHERE path = $1 AND xmin::text::bigint = $8 AND EXISTS (SELECT FROM unchanged)
                  RETURNING path),
              runs AS (DELETE FROM antrea_traceflow_runs WHERE path IN (SELECT path FROM changed)),
              earlier AS (
                  DELETE FROM antrea_traceflow_run_history
                  WHERE path IN (SELECT path FROM changed)),
              unreferenced AS (
                  DELETE FROM policy_references WHERE path IN (SELECT path FROM changed)),
              {REVISION}
         SELECT count(*) FROM changed",
        unchanged = *UNCHANGED
    )
});

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {unchanged},
              changed AS (
                  INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                      config, revision, create_time, create_user, last_modified_time,
                      last_modified_user)
                  SELECT $1, $18, $11, $19, $2, $17, $3, $20, $21, $6, $7
                  WHERE EXISTS (SELECT FROM unchanged)
                  ON CONFLICT (path) DO NOTHING
                  RETURNING path),
              referenced AS (
                  INSERT INTO policy_references (path, target)
                  SELECT path, unnest($22::text[]) FROM changed),
              {REVISION},
              {run}
         SELECT count(*) FROM changed",
        unchanged = *UNCHANGED,
        run = *RUN
    )
});

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {unchanged},
              changed AS (
                  UPDATE policy_objects
                  SET config = $17, revision = $3, last_modified_time = $6,
                      last_modified_user = $7
                  WHERE path = $1 AND xmin::text::bigint = $8 AND EXISTS (SELECT FROM unchanged)
                  RETURNING path),
              unreferenced AS (
                  DELETE FROM policy_references WHERE path IN (SELECT path FROM changed)),
              referenced AS (
                  INSERT INTO policy_references (path, target)
                  SELECT path, unnest($18::text[]) FROM changed),
              earlier AS (
                  INSERT INTO antrea_traceflow_run_history
                      (path, run, unique_id, started_at, ready_at, status, observations)
                  SELECT r.path, r.run, r.unique_id, r.started_at, r.ready_at, r.status,
                         r.observations
                  FROM antrea_traceflow_runs AS r
                  WHERE r.path IN (SELECT path FROM changed) AND r.unique_id = $2
                    AND r.run <> $12),
              {REVISION},
              {run}
         SELECT count(*) FROM changed",
        unchanged = *UNCHANGED,
        run = *RUN
    )
});

/// Writes the new state of the object and the paths it refers to, appends its history row
/// and starts its `run` (a deleted object's runs and references go with it), all in one
/// statement, which commits by itself outside
/// a transaction. It writes only while the rows the write `read` are as it read them; when
/// one has changed meanwhile (another write of the object, a retrace, a script, a
/// whole-store operation), nothing is written, and the caller starts over: its rules then
/// see the new state.
pub(super) async fn persist(
    tx: &mut PgConnection,
    applied: &Applied,
    run: Option<&Run>,
    read: &Versions,
) -> Result<Persisted, StoreError> {
    let object = &applied.object;
    let meta = &object.meta;
    let change: &str = match applied.operation {
        Operation::Delete => &DELETE,
        Operation::Create => &CREATE,
        Operation::Replace | Operation::Patch => &UPDATE,
    };
    let statement = sqlx::query_scalar::<_, i64>(change)
        .bind(object.path.as_str())
        .bind(meta.unique_id.to_string())
        .bind(meta.revision)
        .bind(applied.operation.as_str())
        .bind(object.to_json())
        .bind(meta.last_modified_time)
        .bind(&meta.last_modified_user)
        .bind(read.object)
        .bind(read.run)
        .bind(read.script)
        .bind(object.id().as_str());
    let statement = match applied.operation {
        Operation::Delete => statement,
        operation => {
            // Only traceflows have runs; the run's parameters are NULL for other objects.
            if run.is_none() && object.resource_type() == crate::kinds::traceflow::RESOURCE_TYPE {
                return Err(StoreError::Internal(format!(
                    "a {} without its run",
                    operation.as_str()
                )));
            }
            let (status, observations) = run.map(|run| result_columns(&run.result)).unzip();
            let statement = statement
                .bind(run.map(|run| run.number))
                .bind(run.map(|run| run.started))
                .bind(run.map(|run| run.ready_at))
                .bind(status)
                .bind(observations)
                .bind(object.config.to_json());
            let statement = if operation == Operation::Create {
                statement
                    .bind(object.path.parent().unwrap_or(""))
                    .bind(object.resource_type())
                    .bind(meta.create_time)
                    .bind(&meta.create_user)
            } else {
                statement
            };
            statement.bind(relations::references(object))
        }
    };
    let changed = statement.fetch_one(&mut *tx).await.classified()?;
    Ok(if changed == 0 {
        Persisted::Raced
    } else {
        Persisted::Written
    })
}

/// Starts `run` of `object`, replacing its current one.
pub(super) async fn start_run(
    tx: &mut PgConnection,
    object: &PolicyObject,
    run: &Run,
    current: Option<i64>,
) -> Result<(), StoreError> {
    // A new run replaces the current one, which joins the earlier runs; the same run
    // restarted (a script set meanwhile) replaces nothing.
    if current.is_some_and(|current| current != run.number) {
        // The current run joins the earlier runs where its `unique_id` is the object's (not
        // an earlier object's of the same path).
        const KEEP: &str = "INSERT INTO antrea_traceflow_run_history
                 (path, run, unique_id, started_at, ready_at, status, observations)
             SELECT path, run, unique_id, started_at, ready_at, status, observations
             FROM antrea_traceflow_runs WHERE path = $1 AND unique_id = $2";
        sqlx::query(KEEP)
            .bind(object.path.as_str())
            .bind(object.meta.unique_id.to_string())
            .execute(&mut *tx)
            .await
            .classified()?;
    }
    let (status, observations) = result_columns(&run.result);
    sqlx::query(&format!(
        "{RUN_INTO} VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {RUN_REPLACES}"
    ))
    .bind(object.path.as_str())
    .bind(object.id().as_str())
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
/// whole-store operation (a reset, a snapshot saved or restored, an import), a retrace or a
/// script sees no write half done and changes nothing a write in flight has read (such a
/// write lands wholly before it, or finds what it read changed and starts over). Reads go
/// on. The lock is the `policy_objects` table's, in the mode that excludes every change of
/// it and [`hold_row`]'s row locks.
pub(super) async fn lock_store(tx: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("LOCK TABLE policy_objects IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .classified()
        .map(|_| ())
}

/// Empties the store's objects, revisions, runs and scripts, tells the events stream that
/// `user` did, and writes the defaults anew; answers how many objects clients had written.
/// Snapshots and the store's keys stay.
pub(super) async fn reset(tx: &mut PgConnection, now: i64, user: &str) -> Result<u64, StoreError> {
    lock_store(tx).await?;
    let removed = count_objects(tx).await?;
    clear(tx).await?;
    let answer = serde_json::json!({ "objects_removed": removed });
    tell(tx, WholeOperation::Reset, user, now, &answer).await?;
    seed_defaults(tx, now).await?;
    Ok(removed)
}

/// Refuses `applied` where what it needs of the objects around it ([`relations::checks`])
/// is not what is stored. In a transaction, the rows of the parent and of the objects it
/// refers to stay share-locked until the write commits, so that a delete of one of them
/// (which locks its row for update, then looks for children and referrers) orders wholly
/// before or after it.
pub(super) async fn check_relations(
    conn: &mut PgConnection,
    applied: &Applied,
    kinds: &dyn Kinds,
) -> Result<(), WriteError> {
    static FIRST_CHILD: LazyLock<String> =
        LazyLock::new(|| queries::first_child(|n| format!("${n}")));
    static FIRST_REFERRER: LazyLock<String> =
        LazyLock::new(|| queries::first_referrer(|n| format!("${n}")));
    for check in relations::checks(applied, kinds) {
        let (query, path) = match check {
            Check::ParentExists(path) | Check::ReferenceExists(path) => {
                let found = sqlx::query("SELECT FROM policy_objects WHERE path = $1 FOR SHARE")
                    .bind(path)
                    .fetch_optional(&mut *conn)
                    .await
                    .classified()?;
                if found.is_none() {
                    let path = path.to_owned();
                    return Err(WriteRejection::Missing { path }.into());
                }
                continue;
            }
            Check::Childless(path) => (&*FIRST_CHILD, path),
            Check::Unreferenced(path) => (&*FIRST_REFERRER, path),
        };
        let by: Option<String> = sqlx::query_scalar(query)
            .bind(path)
            .fetch_optional(&mut *conn)
            .await
            .classified()?;
        if let Some(by) = by {
            let path = path.to_owned();
            return Err(WriteRejection::InUse { path, by }.into());
        }
    }
    Ok(())
}

/// Deletes what a delete takes with it ([`relations::companions`]), before the delete's own
/// checks; in the write's transaction, holding each companion's row.
pub(super) async fn delete_companions(
    tx: &mut PgConnection,
    applied: &Applied,
    companions: &[Companion],
    stamp: Stamp<'_>,
    kinds: &dyn Kinds,
) -> Result<(), WriteError> {
    for companion in companions {
        let Companion::Delete(path) = companion else {
            continue;
        };
        hold_row(tx, path).await?;
        let current = current(tx, path).await?;
        let stored = current.object.filter(relations::is_system_owned);
        if let Some(deleted) = write::apply(stored, path.clone(), Change::Delete, stamp)? {
            check_relations(tx, &deleted, kinds)
                .await
                .map_err(|refused| refused.of_owner(&applied.object.path))?;
            if persist(tx, &deleted, None, &current.versions).await? == Persisted::Raced {
                return Err(
                    StoreError::Unavailable(format!("{path} changed meanwhile; retry")).into(),
                );
            }
        }
    }
    Ok(())
}

/// The paths of the object at `$1` and of every object below it (`below`), found through
/// the parents' index, one level at a time: a range of paths would depend on the
/// database's collation (`/` sorts before `0` only in a bytewise one). An object below a
/// project's `/infra` hangs from that container, which is no row: a level takes both.
pub(super) const BELOW: &str = "WITH RECURSIVE below (path) AS (
         SELECT path FROM policy_objects
         WHERE path = $1 OR parent_path IN ($1, $1 || '/infra')
     UNION
         SELECT o.path FROM policy_objects AS o, below AS b
         WHERE o.parent_path IN (b.path, b.path || '/infra')
     )";

/// Deletes the object at `path` and every object below it, deepest first (their rows locked
/// first), each with its history row, runs and references; then checks that nothing left
/// names what went. Answers what it deleted, or `None` when a row changed meanwhile.
pub(super) async fn delete_tree(
    tx: &mut PgConnection,
    path: &ObjectPath,
    stamp: Stamp<'_>,
    kinds: &dyn Kinds,
) -> Result<Option<Vec<Applied>>, WriteError> {
    static SUBTREE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{BELOW} SELECT path FROM policy_objects WHERE path IN (SELECT path FROM below)
             ORDER BY path COLLATE \"C\" DESC FOR UPDATE"
        )
    });
    let paths: Vec<String> = sqlx::query_scalar(&SUBTREE)
        .bind(path.as_str())
        .fetch_all(&mut *tx)
        .await
        .classified()?;
    let mut deleted = Vec::with_capacity(paths.len());
    for stored in paths {
        let path = ObjectPath::from_stored(&stored)
            .map_err(|error| StoreError::Internal(format!("stored path {stored}: {error}")))?;
        let current = current(tx, &path).await?;
        if let Some(applied) = write::apply(current.object, path, Change::Delete, stamp)? {
            if persist(tx, &applied, None, &current.versions).await? == Persisted::Raced {
                return Ok(None);
            }
            deleted.push(applied);
        }
    }
    for applied in &deleted {
        check_relations(tx, applied, kinds).await?;
    }
    Ok(Some(deleted))
}

/// Writes what a create brings with it where nothing is stored yet (an import's line may
/// have written it first).
pub(super) async fn create_companions(
    tx: &mut PgConnection,
    companions: Vec<Companion>,
) -> Result<(), StoreError> {
    for companion in companions {
        if let Companion::Create(created) = companion {
            persist(tx, &created, None, &Current::nothing().versions).await?;
        }
    }
    Ok(())
}

/// Writes every default that is not stored, each with its create revision; answers how
/// many it wrote.
pub(super) async fn seed_defaults(tx: &mut PgConnection, now: i64) -> Result<usize, StoreError> {
    let mut seeded = 0;
    for applied in relations::defaults(now) {
        let absent = Current::nothing();
        if persist(tx, &applied, None, &absent.versions).await? == Persisted::Written {
            seeded += 1;
        }
    }
    Ok(seeded)
}

/// Writes the defaults once, at the first start after the migration that marked them owed
/// (`store_pending`): the instance that takes the mark writes them, the others wait for its
/// commit and find the mark gone. Answers how many it wrote.
pub(super) async fn catch_up_defaults(
    tx: &mut PgConnection,
    now: i64,
) -> Result<usize, StoreError> {
    let owed = sqlx::query("DELETE FROM store_pending WHERE name = 'seed_defaults' RETURNING name")
        .fetch_optional(&mut *tx)
        .await
        .classified()?;
    match owed {
        Some(_) => seed_defaults(tx, now).await,
        None => Ok(0),
    }
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
    kinds: &dyn Kinds,
) -> Result<u64, WriteError> {
    lock_store(tx).await?;
    let mut written = Vec::with_capacity(lines.len());
    for line in lines {
        let refused = LineError::exists(&line);
        let unique_id = uuid_v4(&mut unique_ids.lock().expect("unique id lock"));
        let applied = Applied {
            operation: Operation::Create,
            object: Arc::new(line.into_object(at.stamp, user, unique_id)),
        };
        let path = &applied.object.path;
        let mut current = current(tx, path).await?;
        // What the system wrote (a default, a project's domain) gives way to the line's
        // version of it.
        if current
            .object
            .as_ref()
            .is_some_and(relations::is_system_owned)
        {
            sqlx::query("DELETE FROM policy_objects WHERE path = $1")
                .bind(path.as_str())
                .execute(&mut *tx)
                .await
                .classified()?;
            current = Current::nothing();
        }
        // A new object has no run yet.
        let config =
            config_of(&applied.object).map_err(|err| StoreError::Internal(err.to_string()))?;
        let run = config
            .as_ref()
            .map(|config| Run::start(1, config, current.script.as_ref(), results, at));
        if current.object.is_some()
            || persist(tx, &applied, run.as_ref(), &current.versions).await? == Persisted::Raced
        {
            return Err(WriteRejection::Invalid(refused.into_field_error()).into());
        }
        create_companions(tx, kinds.at(path).companions(&applied)).await?;
        written.push(applied);
    }
    // Checked once every line is written: a line's parent or the objects it refers to may
    // be any other line's.
    for applied in &written {
        check_relations(tx, applied, kinds).await?;
    }
    Ok(written.len() as u64)
}

/// Tells the events stream of an operation on the whole store, done by `user` at `time`,
/// with what it answered: a row of `store_events` at the next number of the history's own
/// sequence.
pub(super) async fn tell(
    tx: &mut PgConnection,
    operation: WholeOperation,
    user: &str,
    time: i64,
    answer: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO store_events (position, operation, change_user, change_time, detail)
         VALUES (nextval(pg_get_serial_sequence('policy_object_revisions', 'seq')),
                 $1, $2, $3, $4)",
    )
    .bind(operation.as_str())
    .bind(user)
    .bind(time)
    .bind(answer.to_string())
    .execute(&mut *tx)
    .await
    .classified()?;
    sqlx::query(PRUNE_WHOLE_EVENTS)
        .execute(&mut *tx)
        .await
        .classified()?;
    Ok(())
}

/// The objects clients wrote: every stored object but the store's own defaults.
async fn count_objects(tx: &mut PgConnection) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(&CLIENT_OBJECTS)
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
