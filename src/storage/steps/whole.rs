//! The steps of what the store does as a whole, or beside its objects' writes: the defaults
//! and a start's catch-up, a reset, a snapshot's save and restore, a change of a kind's rows,
//! a realization script. Each is written once over an engine's primitives ([`Tx`]).

use crate::domain::history::WholeOperation;
use crate::domain::inventory;
use crate::domain::relations;
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};

use super::super::queries::{CLIENT_OBJECTS, PRUNE_WHOLE_EVENTS, SNAPSHOT_TABLES};
use super::super::rows::OBJECT_COLUMNS;
use super::super::side::{SideDone, SideTable, SideTask, StoreKinds};
use super::super::tx::{Current, Moment, Persisted, SqlType, SqlValue, Tx};
use super::super::Keyed;
use super::super::StoreError;

/// Writes every default that is not stored, each with its create revision; answers how
/// many it wrote.
pub async fn seed_defaults<T: Tx>(tx: &mut T, now: i64) -> Result<usize, StoreError> {
    let mut seeded = 0;
    for applied in relations::defaults(now) {
        if tx.exists(applied.object.path.as_str()).await? {
            continue;
        }
        let nothing = Current::nothing(Vec::new());
        if tx.persist(&applied, &[], &nothing).await? == Persisted::Written {
            seeded += 1;
        }
    }
    Ok(seeded)
}

/// A change of a kind's rows that writes no object, under the store's lock: what is stored
/// at the task's path is read, and the task says what to write.
pub async fn side_task<T: Tx>(
    tx: &mut T,
    task: SideTask,
    at: Moment,
) -> Result<SideDone, StoreError> {
    tx.lock_store().await?;
    let current = tx.current(&task.path, task.reads).await?;
    let done = (task.run)(&current, at)?;
    tx.write_side(&done.writes).await?;
    Ok(done)
}

/// Sets, or with `None` deletes, the row of `key` in `table`.
pub async fn set_keyed<T: Tx>(
    tx: &mut T,
    table: Keyed,
    key: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    let (name, key_column, value_column) = table.columns();
    let key = SqlValue::text(key);
    match value {
        Some(value) => {
            let set = format!(
                "INSERT INTO {name} ({key_column}, {value_column}) VALUES ($1, $2)
                 ON CONFLICT ({key_column}) DO UPDATE SET {value_column} = excluded.{value_column}"
            );
            tx.execute(&set, &[key, SqlValue::text(value)]).await?
        }
        None => {
            let delete = format!("DELETE FROM {name} WHERE {key_column} = $1");
            tx.execute(&delete, &[key]).await?
        }
    };
    Ok(())
}

/// Writes the shipped inventory (what the setting `nsx.inventory` names, else the store's
/// own lab); answers how many items it wrote.
async fn seed_inventory<T: Tx>(tx: &mut T) -> Result<usize, StoreError> {
    let items = inventory::shipped();
    for vm in items {
        set_keyed(tx, Keyed::Inventory, &vm.key(), Some(&vm.to_stored())).await?;
    }
    Ok(items.len())
}

/// Every table the whole state is kept in: the core's and the kinds'.
fn tables(kinds: &dyn StoreKinds) -> Vec<SideTable> {
    let core = SNAPSHOT_TABLES
        .iter()
        .map(|(live, saved, columns)| SideTable {
            live,
            saved,
            columns,
        });
    let side = kinds
        .side_states()
        .into_iter()
        .flat_map(|side| side.tables().iter().copied());
    core.chain(side).collect()
}

/// How many objects clients wrote: every stored object but the store's own defaults.
async fn client_objects<T: Tx>(tx: &mut T) -> Result<u64, StoreError> {
    let rows = tx.rows(&CLIENT_OBJECTS, &[], &[SqlType::Int]).await?;
    let count = rows.first().and_then(|row| row[0].as_int()).unwrap_or(0);
    Ok(count.max(0) as u64)
}

/// Removes every object, revision, kind's row and script, marked as a whole-store operation
/// (the only one the history's append-only trigger lets through).
async fn clear<T: Tx>(tx: &mut T, kinds: &dyn StoreKinds) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO store_whole_operations (name) VALUES ('clear')",
        &[],
    )
    .await?;
    for table in tables(kinds) {
        tx.execute(&format!("DELETE FROM {}", table.live), &[])
            .await?;
    }
    tx.execute("DELETE FROM store_whole_operations", &[])
        .await
        .map(|_| ())
}

/// Tells the events stream of an operation on the whole store, done by `user` at `time`,
/// with what it answered: a row of `store_events` at the next position of the history's
/// sequence.
async fn tell<T: Tx>(
    tx: &mut T,
    operation: WholeOperation,
    (user, time): (&str, i64),
    answer: &serde_json::Value,
) -> Result<(), StoreError> {
    let position = tx.next_position().await?;
    tx.execute(
        "INSERT INTO store_events (position, operation, change_user, change_time, detail)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            SqlValue::int(position),
            SqlValue::text(operation.as_str()),
            SqlValue::text(user),
            SqlValue::int(time),
            SqlValue::text(answer.to_string()),
        ],
    )
    .await?;
    tx.execute(PRUNE_WHOLE_EVENTS, &[]).await.map(|_| ())
}

/// Empties the store's objects, revisions, kinds' rows and scripts, tells the events stream
/// that `user` did, and writes the defaults anew; answers how many objects clients had
/// written. Snapshots and the store's keys stay.
pub async fn reset<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    (user, now): (&str, i64),
) -> Result<u64, StoreError> {
    tx.lock_store().await?;
    let removed = client_objects(tx).await?;
    clear(tx, kinds).await?;
    let answer = serde_json::json!({ "objects_removed": removed });
    tell(tx, WholeOperation::Reset, (user, now), &answer).await?;
    seed_defaults(tx, now).await?;
    seed_inventory(tx).await?;
    tx.recount().await?;
    Ok(removed)
}

/// Tells the events stream of an import of `imported` objects by `user`.
pub async fn tell_import<T: Tx>(
    tx: &mut T,
    imported: u64,
    (user, now): (&str, i64),
) -> Result<(), StoreError> {
    tx.recount().await?;
    let answer = serde_json::json!({ "imported": imported });
    tell(tx, WholeOperation::Import, (user, now), &answer).await
}

/// Saves the whole state as `name`, replacing a snapshot of that name.
pub async fn save_snapshot<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    name: &SnapshotName,
    created: i64,
) -> Result<SnapshotInfo, StoreError> {
    tx.lock_store().await?;
    delete_snapshot(tx, kinds, name).await?;
    let snapshot = SqlValue::text(name.as_str());
    for table in tables(kinds) {
        let (live, saved, columns) = (table.live, table.saved, table.columns);
        let copy =
            format!("INSERT INTO {saved} (snapshot, {columns}) SELECT $1, {columns} FROM {live}");
        tx.execute(&copy, std::slice::from_ref(&snapshot)).await?;
    }
    let objects = client_objects(tx).await?;
    tx.execute(
        "INSERT INTO store_snapshots (name, created, objects) VALUES ($1, $2, $3)",
        &[
            snapshot,
            SqlValue::int(created),
            SqlValue::int(objects as i64),
        ],
    )
    .await?;
    Ok(SnapshotInfo {
        name: name.as_str().to_owned(),
        created,
        objects,
    })
}

/// Makes the state the snapshot's, and tells the events stream that `user` did; `None` when
/// there is no such snapshot.
pub async fn restore_snapshot<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    name: &SnapshotName,
    (user, now): (&str, i64),
) -> Result<Option<SnapshotInfo>, StoreError> {
    tx.lock_store().await?;
    let Some(info) = snapshot_info(tx, name).await? else {
        return Ok(None);
    };
    clear(tx, kinds).await?;
    for table in tables(kinds) {
        let (live, saved, columns) = (table.live, table.saved, table.columns);
        let copy = format!(
            "INSERT INTO {live} ({columns}) SELECT {columns} FROM {saved} WHERE snapshot = $1"
        );
        tx.execute(&copy, &[SqlValue::text(name.as_str())]).await?;
    }
    tx.recount().await?;
    let answer = serde_json::to_value(&info).expect("a snapshot's answer serializes");
    tell(tx, WholeOperation::Restore, (user, now), &answer).await?;
    Ok(Some(info))
}

pub async fn delete_snapshot<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    name: &SnapshotName,
) -> Result<(), StoreError> {
    let snapshot = [SqlValue::text(name.as_str())];
    tx.execute("DELETE FROM store_snapshots WHERE name = $1", &snapshot)
        .await?;
    for table in tables(kinds) {
        let delete = format!("DELETE FROM {} WHERE snapshot = $1", table.saved);
        tx.execute(&delete, &snapshot).await?;
    }
    Ok(())
}

/// The snapshot named `name`, if there is one.
pub async fn snapshot_info<T: Tx>(
    tx: &mut T,
    name: &SnapshotName,
) -> Result<Option<SnapshotInfo>, StoreError> {
    let rows = tx
        .rows(
            "SELECT name, created, objects FROM store_snapshots WHERE name = $1",
            &[SqlValue::text(name.as_str())],
            &[SqlType::Text, SqlType::Int, SqlType::Int],
        )
        .await?;
    Ok(rows.into_iter().next().map(|row| SnapshotInfo {
        name: row[0].as_text().unwrap_or_default().to_owned(),
        created: row[1].as_int().unwrap_or_default(),
        objects: row[2].as_int().unwrap_or_default().max(0) as u64,
    }))
}

/// The mark of the defaults a new store owes (`store_pending`).
const PENDING_DEFAULTS: &str = "seed_defaults";

/// The mark of the inventory a new store, or one made before the inventory, owes.
const PENDING_INVENTORY: &str = "seed_inventory";

/// What a start's catch-up did: how many defaults and inventory items it wrote, and for how
/// many objects a kind did what it owed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CaughtUp {
    pub defaults: usize,
    pub inventory: usize,
    pub objects: usize,
}

impl CaughtUp {
    /// Logs what was done, if anything.
    pub fn log(self) {
        if self.defaults > 0 {
            tracing::info!(objects = self.defaults, "wrote NSX's default objects");
        }
        if self.inventory > 0 {
            tracing::info!(items = self.inventory, "wrote the shipped inventory");
        }
        if self.objects > 0 {
            tracing::info!(
                objects = self.objects,
                "did for stored objects what their kinds owed them"
            );
        }
    }
}

/// Does the one-off work the migrations left for this start (`store_pending`): the defaults
/// and the inventory of a new store (the inventory of a store made before it too), and what
/// each kind owes (a run for every traceflow stored before runs existed). Of several
/// instances starting together, the one that takes a mark does its work; the others find
/// the mark gone.
pub async fn catch_up<T: Tx>(
    tx: &mut T,
    kinds: &dyn StoreKinds,
    at: Moment,
) -> Result<CaughtUp, StoreError> {
    let mut done = CaughtUp::default();
    if take_mark(tx, PENDING_DEFAULTS).await? {
        done.defaults = seed_defaults(tx, at.stamp).await?;
        tx.recount().await?;
    }
    if take_mark(tx, PENDING_INVENTORY).await? {
        done.inventory = seed_inventory(tx).await?;
    }
    for side in kinds.side_states() {
        let Some(owed) = side.catch_up() else {
            continue;
        };
        if take_mark(tx, owed.mark).await? {
            // Once, after the migration that owed it: a scan of the objects it names.
            let owing = format!(
                "SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE {}",
                owed.condition
            );
            for object in tx.objects(&owing).await? {
                tx.write_side(&side.caught_up(&object, at)?).await?;
                done.objects += 1;
            }
        }
    }
    Ok(done)
}

/// Takes the mark `name` of one-off work from `store_pending`: whether it was there.
async fn take_mark<T: Tx>(tx: &mut T, name: &str) -> Result<bool, StoreError> {
    let taken = tx
        .execute(
            "DELETE FROM store_pending WHERE name = $1",
            &[SqlValue::text(name)],
        )
        .await?;
    Ok(taken > 0)
}
