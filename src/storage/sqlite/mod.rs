//! [`ObjectStore`] on one SQLite file in WAL mode.
//!
//! Writes go to a single writer thread that commits them in groups ([`writer`]), so writers
//! queue in the process instead of contending for SQLite's lock (no "database is locked"
//! between our own requests). Reads use their own pool of sqlx connections and are never
//! blocked by a write in WAL mode; GETs by id are served from a cache of committed objects
//! when they can be. Opening, checking and backing up the file is [`lifecycle`]'s; this
//! module holds the queries.

mod checkpointer;
mod counts;
pub(super) mod errors;
mod lifecycle;
pub(super) mod migrations;
mod tx;
mod writer;

use std::fs::File;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use sqlx::sqlite::SqlitePool;
use sqlx::Sqlite;

use self::checkpointer::Checkpointer;
use self::tx::{numbered, OBJECT_BY_PATH, SUBTREE};
use self::writer::Writer;
use super::cache::ObjectCache;
use super::dialect::Dialect;
use super::errors::Classified;
use super::queries;
use super::reads::Reads;
use super::rows::{EventRow, ObjectRow};
use super::side::{RowsQuery, SideAnswer, SideTask};
use super::tx::{Row, SqlType, SqlValue};
use super::{
    ChildCount, HealthStore, InventoryStore, Keyed, ObjectStore, RealizationStore, SideStore,
    StateStore, StoreError, WriteError,
};
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

/// `?1`, and paths in byte order (SQLite's default collation).
/// `?1`; text in byte order (SQLite's own), ASCII letters folded by `lower()`.
impl Dialect for Sqlite {
    fn param(n: u8) -> String {
        format!("?{n}")
    }
    const BY_PATH: &'static str = "path";
    fn bytewise(expr: &str) -> String {
        expr.to_owned()
    }
    fn folded(expr: &str) -> String {
        format!("lower({expr})")
    }
    fn unindexed(expr: &str) -> String {
        format!("+{expr}")
    }
}

pub struct SqliteStore {
    /// `None` for a store opened read-only.
    writer: Option<Writer>,
    checkpointer: Option<Checkpointer>,
    readers: SqlitePool,
    cache: ObjectCache,
    cursors: CursorKey,
    /// Held while the store is open: a second server on the same file refuses to start.
    _lock: Option<File>,
}

#[async_trait]
impl ObjectStore for SqliteStore {
    async fn get(&self, path: &ObjectPath) -> Result<Option<Arc<PolicyObject>>, StoreError> {
        if let Some(object) = self.cache.get(path.as_str()) {
            return Ok(Some(object));
        }
        let read_start = self.cache.read_start();
        let row: Option<ObjectRow> = sqlx::query_as(&OBJECT_BY_PATH)
            .bind(path.as_str())
            .fetch_optional(&self.readers)
            .await
            .classified()?;
        let object = row.map(|row| row.into_object().map(Arc::new)).transpose()?;
        if let Some(object) = &object {
            self.cache.offer(object, read_start);
        }
        Ok(object)
    }

    async fn write(
        &self,
        path: ObjectPath,
        change: Change,
        user: &str,
    ) -> Result<Option<Applied>, WriteError> {
        self.writer()?.write(path, change, user).await
    }

    async fn write_tree(
        &self,
        writes: Vec<TreeWrite>,
        user: &str,
    ) -> Result<Vec<Applied>, WriteError> {
        self.writer()?.write_tree(writes, user).await
    }

    async fn subtree(&self, path: &str) -> Result<Vec<PolicyObject>, StoreError> {
        let rows: Vec<ObjectRow> = sqlx::query_as(&SUBTREE)
            .bind(path)
            .fetch_all(&self.readers)
            .await
            .classified()?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }

    async fn changes(&self, position: i64, limit: u32) -> Result<Vec<StoreEvent>, StoreError> {
        // The one writer numbers history rows as it commits them: their order is commit order,
        // and a reader sees a batch's rows all at once.
        static CHANGES: LazyLock<String> =
            LazyLock::new(|| queries::changes(|n| format!("?{n}"), false));
        let rows: Vec<EventRow> = sqlx::query_as(&CHANGES)
            .bind(position)
            .bind(i64::from(limit))
            .fetch_all(&self.readers)
            .await
            .classified()?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    async fn child_counts(&self, parent: &str, cap: u32) -> Result<Vec<ChildCount>, StoreError> {
        Reads::<Sqlite>::child_counts(&self.readers, parent, cap).await
    }

    async fn last_change(&self) -> Result<i64, StoreError> {
        Reads::<Sqlite>::last_change(&self.readers).await
    }

    fn cursor_key(&self) -> &CursorKey {
        &self.cursors
    }

    async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close();
        }
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close();
        }
        self.readers.close().await;
    }

    async fn list(
        &self,
        query: &ListQuery,
    ) -> Result<Page<PolicyObject, ListPosition>, StoreError> {
        Reads::<Sqlite>::list(self.readers.begin().await.classified()?, query).await
    }

    async fn search(
        &self,
        search: &Search,
        window: Offset,
    ) -> Result<Page<PolicyObject, u64>, StoreError> {
        Reads::<Sqlite>::search(self.readers.begin().await.classified()?, search, window).await
    }

    async fn revisions(
        &self,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        Reads::<Sqlite>::revisions(self.readers.begin().await.classified()?, query).await
    }
}

impl SqliteStore {
    fn writer(&self) -> Result<&Writer, StoreError> {
        self.writer
            .as_ref()
            .ok_or_else(|| StoreError::Internal("the store was opened read-only".into()))
    }
}

#[async_trait]
impl HealthStore for SqliteStore {
    async fn object_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(&queries::CLIENT_OBJECTS)
            .fetch_one(&self.readers)
            .await
            .classified()?;
        Ok(count.max(0) as u64)
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        self.writer()?.probe().await
    }
}

#[async_trait]
impl RealizationStore for SqliteStore {
    async fn realization_script(
        &self,
        path: &ObjectPath,
    ) -> Result<Option<RealizationScript>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT script FROM policy_realization_scripts WHERE path = ?1")
                .bind(path.as_str())
                .fetch_optional(&self.readers)
                .await
                .classified()?;
        json.map(|json| RealizationScript::from_stored(&json).map_err(StoreError::Internal))
            .transpose()
    }

    async fn realization_scripts(&self) -> Result<Vec<(String, RealizationScript)>, StoreError> {
        let rows = sqlx::query_as(queries::REALIZATION_SCRIPTS)
            .fetch_all(&self.readers)
            .await
            .classified()?;
        super::stored_scripts(rows)
    }

    async fn set_realization_script(
        &self,
        path: ObjectPath,
        script: RealizationScript,
    ) -> Result<(), StoreError> {
        let (key, value) = (path.to_string(), Some(script.to_json()));
        self.writer()?
            .set_keyed(Keyed::RealizationScripts, key, value)
            .await
    }

    async fn delete_realization_script(&self, path: ObjectPath) -> Result<(), StoreError> {
        let key = path.to_string();
        self.writer()?
            .set_keyed(Keyed::RealizationScripts, key, None)
            .await
    }
}

#[async_trait]
impl InventoryStore for SqliteStore {
    async fn virtual_machines(&self) -> Result<Vec<VirtualMachine>, StoreError> {
        let rows = sqlx::query_scalar(queries::INVENTORY)
            .fetch_all(&self.readers)
            .await
            .classified()?;
        super::stored_virtual_machines(rows)
    }

    async fn put_virtual_machine(&self, vm: VirtualMachine) -> Result<(), StoreError> {
        let (key, value) = (vm.key(), Some(vm.to_stored()));
        self.writer()?.set_keyed(Keyed::Inventory, key, value).await
    }

    async fn remove_virtual_machine(&self, external_id: &str) -> Result<(), StoreError> {
        let key = VirtualMachine::key_of(external_id);
        self.writer()?.set_keyed(Keyed::Inventory, key, None).await
    }
}

#[async_trait]
impl SideStore for SqliteStore {
    async fn side_rows(&self, query: RowsQuery) -> Result<Vec<Row>, StoreError> {
        let sql = numbered(query.sql);
        let rows = query
            .params
            .iter()
            .fold(sqlx::query(&sql), |statement, value| match value {
                SqlValue::Int(value) => statement.bind(*value),
                SqlValue::Text(value) => statement.bind(value.as_deref()),
            })
            .fetch_all(&self.readers)
            .await
            .classified()?;
        rows.iter().map(|row| read_row(row, query.types)).collect()
    }

    async fn side_task(&self, task: SideTask) -> Result<SideAnswer, StoreError> {
        self.writer()?.side_task(task).await
    }
}

/// A row the readers read, its columns as `types`.
fn read_row(row: &sqlx::sqlite::SqliteRow, types: &[SqlType]) -> Result<Row, StoreError> {
    use sqlx::Row as _;
    types
        .iter()
        .enumerate()
        .map(|(at, ty)| match ty {
            SqlType::Int => row.try_get(at).map(SqlValue::Int),
            SqlType::Text => row.try_get(at).map(SqlValue::Text),
        })
        .collect::<Result<Row, sqlx::Error>>()
        .classified()
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn reset(&self, user: &str) -> Result<u64, StoreError> {
        self.writer()?.reset(user).await
    }

    async fn save_snapshot(&self, name: SnapshotName) -> Result<SnapshotInfo, StoreError> {
        self.writer()?.save_snapshot(name).await
    }

    async fn snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, created, objects FROM store_snapshots ORDER BY name")
                .fetch_all(&self.readers)
                .await
                .classified()?;
        Ok(rows.into_iter().map(snapshot_info).collect())
    }

    async fn snapshot(&self, name: &SnapshotName) -> Result<Option<SnapshotInfo>, StoreError> {
        let row: Option<(String, i64, i64)> =
            sqlx::query_as("SELECT name, created, objects FROM store_snapshots WHERE name = ?1")
                .bind(name.as_str())
                .fetch_optional(&self.readers)
                .await
                .classified()?;
        Ok(row.map(snapshot_info))
    }

    async fn restore_snapshot(
        &self,
        name: SnapshotName,
        user: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        self.writer()?.restore_snapshot(name, user).await
    }

    async fn delete_snapshot(&self, name: SnapshotName) -> Result<(), StoreError> {
        self.writer()?.delete_snapshot(name).await
    }

    async fn export(&self) -> Result<Vec<PolicyObject>, StoreError> {
        Reads::<Sqlite>::export(&self.readers).await
    }

    async fn import(&self, lines: Vec<ImportLine>, user: &str) -> Result<u64, WriteError> {
        self.writer()?.import(lines, user).await
    }
}

fn snapshot_info((name, created, objects): (String, i64, i64)) -> SnapshotInfo {
    SnapshotInfo {
        name,
        created,
        objects: objects.max(0) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::list::{Collection, SortBy};

    /// The page query for one ordering, with SQLite's numbered parameters.
    fn list_sql(
        collection: &Collection,
        sort_by: SortBy,
        ascending: bool,
        after_cursor: bool,
    ) -> String {
        queries::list_page(collection, sort_by, ascending, after_cursor, |n| {
            format!("?{n}")
        })
    }

    /// Every page query walks an index in order: no scan of the table, no sort in memory.
    #[test]
    fn every_list_ordering_is_a_keyset_range_over_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.db");
        migrations::migrate(&path).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        let sorts = [
            SortBy::DisplayName,
            SortBy::Id,
            SortBy::CreateTime,
            SortBy::LastModifiedTime,
        ];
        for sort_by in sorts {
            for ascending in [true, false] {
                for after_cursor in [false, true] {
                    let segments = Collection {
                        parent: "/infra".into(),
                        path: "/infra/segments".into(),
                        counted_types: vec!["Segment".into()],
                    };
                    let sql = list_sql(&segments, sort_by, ascending, after_cursor);
                    let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                    let unbound = vec![rusqlite::types::Value::Null; statement.parameter_count()];
                    let plan: Vec<String> = statement
                        .query_map(rusqlite::params_from_iter(unbound), |row| row.get(3))
                        .unwrap()
                        .map(Result::unwrap)
                        .collect();
                    let plan = plan.join("; ");
                    let case = format!("{sort_by:?} ascending={ascending} cursor={after_cursor}");
                    assert!(
                        plan.starts_with("SEARCH policy_objects USING INDEX"),
                        "{case}: {plan}"
                    );
                    assert!(!plan.contains("TEMP B-TREE"), "{case}: {plan}");
                    // With a cursor, the index search itself starts after the last key.
                    assert_eq!(
                        plan.contains("resource_type=? AND "),
                        after_cursor,
                        "{case}: {plan}"
                    );
                }
            }
        }
    }

    /// The bundled SQLite is compiled as `.cargo/config.toml` says: without memory statistics
    /// and without the global page-cache group of memory management, both of which put a
    /// process-wide mutex on the writer's path.
    #[test]
    fn sqlite_is_built_without_global_allocation_locks() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut statement = conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }
}
