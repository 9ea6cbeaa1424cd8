//! Storage: one repository trait, and its implementations, one folder per engine: SQLite
//! (the embedded default) and PostgreSQL (several instances on one database).
//!
//! The contract's write rules are not here: the store runs [`crate::domain::write::apply`]
//! inside its transaction and persists what it returns, together with its history row.

mod cache;
mod dialect;
mod errors;
mod postgres;
mod queries;
mod reads;
mod rows;
mod search;
pub mod side;
mod sqlite;
pub mod steps;
pub mod tx;

use std::sync::Arc;

use async_trait::async_trait;

use crate::configuration::{Database, StorageSettings};
use crate::determinism::DeterminismSettings;

use crate::domain::exchange::ImportLine;
use crate::domain::hierarchy::TreeWrite;
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord, StoreEvent};
use crate::domain::inventory::VirtualMachine;
use crate::domain::list::{ListPosition, ListQuery};
use crate::domain::paging::{CursorKey, Offset, Page};
use crate::domain::realization::RealizationScript;
use crate::domain::search::Search;
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::{Applied, Change, ObjectPath, PolicyObject};

pub use errors::{StoreError, WriteError};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use side::{RowsQuery, SideAnswer, SideTask, StoreKinds};
use tx::Row;

/// Opens the store `settings.database` names, on its engine, for objects of `kinds`.
pub async fn open(
    settings: &StorageSettings,
    determinism: &DeterminismSettings,
    kinds: Arc<dyn StoreKinds>,
) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &settings.database {
        Database::Sqlite(path) => {
            Arc::new(SqliteStore::open(path, settings, determinism, kinds).await?)
        }
        Database::Postgres(url) => {
            Arc::new(PostgresStore::open(url, settings, determinism, kinds).await?)
        }
    })
}

/// Opens the store for reading only (the `history` command): no migrations, no writes.
pub async fn open_read_only(database: &Database) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match database {
        Database::Sqlite(path) => Arc::new(SqliteStore::open_read_only(path).await?),
        Database::Postgres(url) => Arc::new(PostgresStore::open_read_only(url).await?),
    })
}

/// Where policy objects are kept, of every type.
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// The object stored at `path`, if any.
    async fn get(&self, path: &ObjectPath) -> Result<Option<Arc<PolicyObject>>, StoreError>;

    /// Applies one change atomically: the object and its history row commit together, durably,
    /// or nothing changes. `Ok(None)`: nothing to change (DELETE of an absent object).
    async fn write(
        &self,
        path: ObjectPath,
        change: Change,
        user: &str,
    ) -> Result<Option<Applied>, WriteError>;

    /// Applies the writes of one hierarchical request in order, in one transaction: every
    /// one, each with its history row (and its run, its references, its companions), or
    /// none. Answers what they changed.
    async fn write_tree(
        &self,
        writes: Vec<TreeWrite>,
        user: &str,
    ) -> Result<Vec<Applied>, WriteError>;

    /// The object at `path` and every object below it, in path order, read from one
    /// snapshot: a hierarchical GET's tree.
    async fn subtree(&self, path: &str) -> Result<Vec<PolicyObject>, StoreError>;

    /// One page of the list, in the query's order; its `total` and its objects are read from
    /// one snapshot. Costs the same however many objects are stored.
    async fn list(&self, query: &ListQuery)
        -> Result<Page<PolicyObject, ListPosition>, StoreError>;

    /// One page (at `window`) of the stored objects `search` matches, in its order, and how
    /// many match, read from one snapshot through the indexes the writers keep for the
    /// search: a page of the forms clients send costs what their matches do, not what the
    /// store holds ([`crate::domain::search::Plan`]).
    async fn search(
        &self,
        search: &Search,
        window: Offset,
    ) -> Result<Page<PolicyObject, u64>, StoreError>;

    /// One page of the history of one path, newest first.
    async fn revisions(
        &self,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError>;

    /// At most `limit` events committed after `position` (a history row's sequence number, or
    /// a whole-store operation's, from the same sequence), in commit order: each only once
    /// every event before it is committed or gone, so that a reader that goes on from the
    /// last position it saw misses none.
    async fn changes(&self, position: i64, limit: u32) -> Result<Vec<StoreEvent>, StoreError>;

    /// How many objects hang from `parent` (or from its `Infra` container), by their
    /// `parent_path` and type, counting at most `cap` objects in all: a tree node's
    /// collections, at a bounded cost.
    async fn child_counts(&self, parent: &str, cap: u32) -> Result<Vec<ChildCount>, StoreError>;

    /// The position of the last committed event; 0 when there is none.
    async fn last_change(&self) -> Result<i64, StoreError>;

    /// The key that this store's list and history cursors are sealed with: kept with the
    /// store, so that a cursor stays valid across restarts.
    fn cursor_key(&self) -> &CursorKey;

    /// Commits the writes already queued, then stops taking writes (they fail with 503) and
    /// leaves the files clean for the next start.
    async fn close(&self);
}

/// Rows a kind keeps beside its objects (a traceflow's runs and scripts), read and changed
/// as the kind says ([`side`]). Every change is as durable as an object's write, and ordered
/// with them.
#[async_trait]
pub trait SideStore: Send + Sync + 'static {
    /// The rows `query` reads, from one snapshot.
    async fn side_rows(&self, query: RowsQuery) -> Result<Vec<Row>, StoreError>;

    /// Carries `task` out in a write transaction of its own, holding off every other write
    /// meanwhile; answers what the task answered.
    async fn side_task(&self, task: SideTask) -> Result<SideAnswer, StoreError>;
}

/// The scripts of [`queries::REALIZATION_SCRIPTS`]' rows (path, script), read back.
fn stored_scripts(
    rows: Vec<(String, String)>,
) -> Result<Vec<(String, RealizationScript)>, StoreError> {
    rows.into_iter()
        .map(|(path, json)| {
            let script = RealizationScript::from_stored(&json).map_err(StoreError::Internal)?;
            Ok((path, script))
        })
        .collect()
}

/// How objects are realized where a script says otherwise (the README's "Realized state").
/// Every change is as durable as an object's write, and ordered with them.
#[async_trait]
pub trait RealizationStore: Send + Sync + 'static {
    /// The script set for `path`, if any.
    async fn realization_script(
        &self,
        path: &ObjectPath,
    ) -> Result<Option<RealizationScript>, StoreError>;

    /// Every script set, by path (a search of realized entities reads them all at once).
    async fn realization_scripts(&self) -> Result<Vec<(String, RealizationScript)>, StoreError>;

    /// Sets the script of `path`, replacing any; the object need not exist.
    async fn set_realization_script(
        &self,
        path: ObjectPath,
        script: RealizationScript,
    ) -> Result<(), StoreError>;

    /// Deletes the script of `path`, if any: the object is realized once written again.
    async fn delete_realization_script(&self, path: ObjectPath) -> Result<(), StoreError>;
}

/// The inventory NSX discovers from its compute managers ([`crate::domain::inventory`]):
/// read whole, changed an item at a time. Every change is as durable as an object's write,
/// and ordered with them.
#[async_trait]
pub trait InventoryStore: Send + Sync + 'static {
    /// Every virtual machine, by external id.
    async fn virtual_machines(&self) -> Result<Vec<VirtualMachine>, StoreError>;

    /// Adds `vm`, or replaces the one of its external id.
    async fn put_virtual_machine(&self, vm: VirtualMachine) -> Result<(), StoreError>;

    /// Removes the virtual machine of `external_id`, if there is one.
    async fn remove_virtual_machine(&self, external_id: &str) -> Result<(), StoreError>;
}

/// The tables of rows the store keeps by a key beside its objects, set through its
/// extension (removed by a reset, copied by snapshots): realization scripts by intent path,
/// the inventory by its items' keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyed {
    RealizationScripts,
    Inventory,
}

impl Keyed {
    /// The table, its key column and its value column.
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Keyed::RealizationScripts => ("policy_realization_scripts", "path", "script"),
            Keyed::Inventory => ("store_inventory", "id", "item"),
        }
    }
}

/// The virtual machines of [`queries::INVENTORY`]'s rows, read back.
fn stored_virtual_machines(rows: Vec<String>) -> Result<Vec<VirtualMachine>, StoreError> {
    rows.iter()
        .map(|json| VirtualMachine::from_stored(json).map_err(StoreError::Internal))
        .collect()
}

/// Operations on the whole store (the README's "Using it in a test suite"): each atomic and
/// durable, ordered with every other write, so that a concurrent write lands wholly before
/// or after it.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Removes every object, revision, run and script; answers how many objects it held. The
    /// events stream tells it as done by `user`.
    async fn reset(&self, user: &str) -> Result<u64, StoreError>;

    /// Saves the whole state as `name`, replacing a snapshot of that name.
    async fn save_snapshot(&self, name: SnapshotName) -> Result<SnapshotInfo, StoreError>;

    async fn snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError>;

    async fn snapshot(&self, name: &SnapshotName) -> Result<Option<SnapshotInfo>, StoreError>;

    /// Makes the state the snapshot's; `None` when there is no such snapshot. The events
    /// stream tells it as done by `user`.
    async fn restore_snapshot(
        &self,
        name: SnapshotName,
        user: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError>;

    async fn delete_snapshot(&self, name: SnapshotName) -> Result<(), StoreError>;

    /// Every object, in path order, read from one snapshot of the store: all but the defaults
    /// no one has changed since the store wrote them (every store has those).
    async fn export(&self) -> Result<Vec<PolicyObject>, StoreError>;

    /// Creates every object of `lines` (made by `user` where a line does not say), or none.
    /// The events stream tells each object's create, then the import as done by `user`.
    async fn import(&self, lines: Vec<ImportLine>, user: &str) -> Result<u64, WriteError>;
}

/// What operators' probes and metrics ask of the store (the README's "Operability").
#[async_trait]
pub trait HealthStore: Send + Sync + 'static {
    /// How many objects are stored.
    async fn object_count(&self) -> Result<u64, StoreError>;

    /// Whether the store accepts writes now: a write transaction can be taken.
    async fn check_writable(&self) -> Result<(), StoreError>;
}

/// Everything the service asks of its storage: one implementation per engine.
pub trait Store:
    ObjectStore + SideStore + RealizationStore + InventoryStore + StateStore + HealthStore
{
}

impl<T> Store for T where
    T: ObjectStore + SideStore + RealizationStore + InventoryStore + StateStore + HealthStore
{
}

/// Objects of one type hanging from one parent ([`ObjectStore::child_counts`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChildCount {
    pub parent_path: String,
    pub resource_type: String,
    pub count: i64,
}
