//! The store on PostgreSQL, for several instances on one database (the README's "Several
//! instances on PostgreSQL").
//!
//! Every request is its own transaction on a pooled connection; PostgreSQL orders them. The
//! steps of each write are the storage's own (`storage/steps/`); what this engine brings
//! is their SQL and its strategy against races (`tx.rs`). A write of an object takes no lock
//! of its own: it reads the object and the rows its kind keeps beside it with the versions
//! of those rows (`xmin`), and writes the object, its history row and its kind's rows in one
//! statement, outside a transaction (it commits by itself), only while those rows are still
//! the versions it read. `_revision` is checked against the committed row that way, and of
//! concurrent creates one inserts and the others find the path taken. A write that finds a
//! row changed meanwhile starts over, then in a transaction holding the object's row, so
//! that it cannot lose again. A PUT without `_revision` (which creates, or is refused where
//! an object is stored) skips the read: it is written as a create where nothing is stored,
//! checked by the same statement, and read and written as above only when something is. A
//! create is one round trip, a replace two, a write contended by others a few more. What
//! else changes a path's state (a kind's own task, such as a retrace), and whole-store
//! operations, lock the objects' table against every write until they commit: each write
//! lands wholly before one, or reads after it. Every read asks the database: a GET serves
//! its kept copy of an object only while the row's version is the one it was read from
//! (concurrent GETs ask in one query, `versions.rs`), so no instance serves a state another
//! has replaced. What only SQLite has (the writer thread, the checkpointer, the file lock)
//! is in `storage/sqlite/`.
//!
//! The queries run on a runtime of the store's own (`engine.rs` is what they do). A
//! connection answers to the runtime it was made on: made on an HTTP worker's, it would wake
//! that worker for every answer, whichever worker asked, and fail when that worker stops
//! (the idle workers stop first at shutdown, while others still finish their requests).
//! Here every connection lives and is used on the store's runtime, which lasts until the
//! store is closed; each operation costs one hop there and back, but for a GET whose kept
//! copy is current, which only waits for its row's version.

mod engine;
pub(super) mod errors;
mod lanes;
mod migrations;
mod tx;
mod versions;

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use self::engine::{Engine, Kept};
use super::dialect::Dialect;
use super::side::{RowsQuery, SideAnswer, SideTask, StoreKinds};
use super::tx::Row;
use super::{
    ChildCount, HealthStore, InventoryStore, Keyed, ObjectStore, RealizationStore, SideStore,
    StateStore, StoreError, WriteError,
};
use crate::configuration::StorageSettings;
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

/// `$1`, and text in byte order whatever the database's collation (`COLLATE "C"`), ASCII
/// letters folded by the migrations' `store_fold`.
impl Dialect for sqlx::Postgres {
    fn param(n: u8) -> String {
        format!("${n}")
    }
    const BY_PATH: &'static str = "path COLLATE \"C\"";
    fn bytewise(expr: &str) -> String {
        format!("{expr} COLLATE \"C\"")
    }
    fn folded(expr: &str) -> String {
        format!("store_fold({expr}) COLLATE \"C\"")
    }
    fn unindexed(expr: &str) -> String {
        expr.to_owned()
    }
}

pub struct PostgresStore {
    engine: Arc<Engine>,
    /// Taken when the store is dropped, to be shut down without waiting.
    runtime: Option<tokio::runtime::Runtime>,
}

impl PostgresStore {
    /// Opens the store ([`Engine::open`]) on a runtime of its own.
    pub async fn open(
        url: &SecretString,
        settings: &StorageSettings,
        determinism: &DeterminismSettings,
        kinds: Arc<dyn StoreKinds>,
    ) -> anyhow::Result<Self> {
        let (url, settings, determinism) = (url.clone(), settings.clone(), determinism.clone());
        Self::on_new_runtime(
            async move { Engine::open(&url, &settings, &determinism, kinds).await },
        )
        .await
    }

    /// Opens the store for reading only ([`Engine::open_read_only`]) on a runtime of its own.
    pub async fn open_read_only(url: &SecretString) -> anyhow::Result<Self> {
        let url = url.clone();
        Self::on_new_runtime(async move { Engine::open_read_only(&url).await }).await
    }

    async fn on_new_runtime(
        open: impl Future<Output = anyhow::Result<Engine>> + Send + 'static,
    ) -> anyhow::Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("postgres")
            .enable_all()
            .build()?;
        let opened = runtime
            .spawn(open)
            .await
            .map_err(anyhow::Error::from)
            .and_then(|opened| opened);
        match opened {
            Ok(engine) => Ok(Self {
                engine: Arc::new(engine),
                runtime: Some(runtime),
            }),
            Err(err) => {
                // Not dropped here, inside the caller's runtime, where it may not block.
                runtime.shutdown_background();
                Err(err)
            }
        }
    }

    /// Runs one operation on the store's runtime and answers its result. It runs to the end
    /// even when its request is dropped meanwhile (a client gone): a write is committed or
    /// not, never cut off halfway by the HTTP side.
    async fn run<T, E, F>(&self, operation: impl FnOnce(Arc<Engine>) -> F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the store");
        match runtime.spawn(operation(Arc::clone(&self.engine))).await {
            Ok(done) => done,
            Err(failed) => Err(StoreError::Internal(format!(
                "a PostgreSQL operation did not finish: {failed}"
            ))
            .into()),
        }
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Dropped where no thread may block (inside the HTTP server's runtime): let the
        // runtime's threads end by themselves.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[async_trait]
impl ObjectStore for PostgresStore {
    async fn get(&self, path: &ObjectPath) -> Result<Option<Arc<PolicyObject>>, StoreError> {
        let path = path.to_string();
        // Asked from here, the request's runtime (the query for the row's version runs on
        // the store's): a kept copy still current needs no hop.
        match self.engine.kept(&path).await? {
            Kept::Absent => Ok(None),
            Kept::Current(object) => Ok(Some(object)),
            Kept::Changed => {
                self.run(|engine| async move { engine.read(path).await })
                    .await
            }
        }
    }

    async fn write(
        &self,
        path: ObjectPath,
        change: Change,
        user: &str,
    ) -> Result<Option<Applied>, WriteError> {
        let user = user.to_owned();
        self.run(|engine| async move { engine.write(path, change, &user).await })
            .await
    }

    async fn write_tree(
        &self,
        writes: Vec<TreeWrite>,
        user: &str,
    ) -> Result<Vec<Applied>, WriteError> {
        let user = user.to_owned();
        self.run(|engine| async move { engine.write_tree(&writes, &user).await })
            .await
    }

    async fn subtree(&self, path: &str) -> Result<Vec<PolicyObject>, StoreError> {
        let path = path.to_owned();
        self.run(|engine| async move { engine.subtree(&path).await })
            .await
    }

    async fn changes(&self, position: i64, limit: u32) -> Result<Vec<StoreEvent>, StoreError> {
        self.run(|engine| async move { engine.changes(position, limit).await })
            .await
    }

    async fn child_counts(&self, parent: &str, cap: u32) -> Result<Vec<ChildCount>, StoreError> {
        let parent = parent.to_owned();
        self.run(|engine| async move { engine.child_counts(&parent, cap).await })
            .await
    }

    async fn last_change(&self) -> Result<i64, StoreError> {
        self.run(|engine| async move { engine.last_change().await })
            .await
    }

    async fn list(
        &self,
        query: &ListQuery,
    ) -> Result<Page<PolicyObject, ListPosition>, StoreError> {
        let query = query.clone();
        self.run(|engine| async move { engine.list(&query).await })
            .await
    }

    async fn search(
        &self,
        search: &Search,
        window: Offset,
    ) -> Result<Page<PolicyObject, u64>, StoreError> {
        let search = search.clone();
        self.run(|engine| async move { engine.search(&search, window).await })
            .await
    }

    async fn revisions(
        &self,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        let query = query.clone();
        self.run(|engine| async move { engine.revisions(&query).await })
            .await
    }

    fn cursor_key(&self) -> &CursorKey {
        self.engine.cursor_key()
    }

    async fn close(&self) {
        let _: Result<(), StoreError> = self
            .run(|engine| async move {
                engine.close().await;
                Ok(())
            })
            .await;
    }
}

#[async_trait]
impl SideStore for PostgresStore {
    async fn side_rows(&self, query: RowsQuery) -> Result<Vec<Row>, StoreError> {
        self.run(|engine| async move { engine.side_rows(query).await })
            .await
    }

    async fn side_task(&self, task: SideTask) -> Result<SideAnswer, StoreError> {
        self.run(|engine| async move { engine.side_task(task).await })
            .await
    }
}

#[async_trait]
impl RealizationStore for PostgresStore {
    async fn realization_script(
        &self,
        path: &ObjectPath,
    ) -> Result<Option<RealizationScript>, StoreError> {
        let path = path.to_string();
        self.run(|engine| async move { engine.realization_script(&path).await })
            .await
    }

    async fn realization_scripts(&self) -> Result<Vec<(String, RealizationScript)>, StoreError> {
        self.run(|engine| async move { engine.realization_scripts().await })
            .await
    }

    async fn set_realization_script(
        &self,
        path: ObjectPath,
        script: RealizationScript,
    ) -> Result<(), StoreError> {
        let (key, value) = (path.to_string(), script.to_json());
        self.run(|engine| async move {
            engine
                .set_keyed(Keyed::RealizationScripts, &key, Some(&value))
                .await
        })
        .await
    }

    async fn delete_realization_script(&self, path: ObjectPath) -> Result<(), StoreError> {
        let key = path.to_string();
        self.run(|engine| async move {
            engine
                .set_keyed(Keyed::RealizationScripts, &key, None)
                .await
        })
        .await
    }
}

#[async_trait]
impl InventoryStore for PostgresStore {
    async fn virtual_machines(&self) -> Result<Vec<VirtualMachine>, StoreError> {
        self.run(|engine| async move { engine.virtual_machines().await })
            .await
    }

    async fn put_virtual_machine(&self, vm: VirtualMachine) -> Result<(), StoreError> {
        let (key, value) = (vm.key(), vm.to_stored());
        self.run(
            |engine| async move { engine.set_keyed(Keyed::Inventory, &key, Some(&value)).await },
        )
        .await
    }

    async fn remove_virtual_machine(&self, external_id: &str) -> Result<(), StoreError> {
        let key = VirtualMachine::key_of(external_id);
        self.run(|engine| async move { engine.set_keyed(Keyed::Inventory, &key, None).await })
            .await
    }
}

#[async_trait]
impl StateStore for PostgresStore {
    async fn reset(&self, user: &str) -> Result<u64, StoreError> {
        let user = user.to_owned();
        self.run(|engine| async move { engine.reset(&user).await })
            .await
    }

    async fn save_snapshot(&self, name: SnapshotName) -> Result<SnapshotInfo, StoreError> {
        self.run(|engine| async move { engine.save_snapshot(name).await })
            .await
    }

    async fn snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.run(|engine| async move { engine.snapshots().await })
            .await
    }

    async fn snapshot(&self, name: &SnapshotName) -> Result<Option<SnapshotInfo>, StoreError> {
        let name = name.clone();
        self.run(|engine| async move { engine.snapshot(&name).await })
            .await
    }

    async fn restore_snapshot(
        &self,
        name: SnapshotName,
        user: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let user = user.to_owned();
        self.run(|engine| async move { engine.restore_snapshot(name, &user).await })
            .await
    }

    async fn delete_snapshot(&self, name: SnapshotName) -> Result<(), StoreError> {
        self.run(|engine| async move { engine.delete_snapshot(name).await })
            .await
    }

    async fn export(&self) -> Result<Vec<PolicyObject>, StoreError> {
        self.run(|engine| async move { engine.export().await })
            .await
    }

    async fn import(&self, lines: Vec<ImportLine>, user: &str) -> Result<u64, WriteError> {
        let user = user.to_owned();
        self.run(|engine| async move { engine.import(lines, &user).await })
            .await
    }
}

#[async_trait]
impl HealthStore for PostgresStore {
    async fn object_count(&self) -> Result<u64, StoreError> {
        self.run(|engine| async move { engine.object_count().await })
            .await
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        self.run(|engine| async move { engine.check_writable().await })
            .await
    }
}
