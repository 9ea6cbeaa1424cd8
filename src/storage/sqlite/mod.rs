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
mod errors;
mod lifecycle;
pub(super) mod migrations;
mod objects;
mod runs;
mod whole;
mod writer;

use std::fs::File;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use sqlx::sqlite::SqlitePool;

use self::checkpointer::Checkpointer;
use self::errors::Classified;
use self::objects::OBJECT_BY_PATH;
use self::writer::Writer;
use super::cache::ObjectCache;
use super::queries;
use super::rows::{script_from_row, EventRow, ObjectRow, RevisionRow, RunRow, OBJECT_COLUMNS};
use super::{
    ChildCount, HealthStore, ObjectStore, RealizationStore, RunStore, StateStore, StoreError,
    WriteError,
};
use crate::domain::exchange::ImportLine;
use crate::domain::hierarchy::TreeWrite;
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord, StoreEvent};
use crate::domain::list::{Collection, ListPosition, ListQuery, SortBy, SortValue};
use crate::domain::paging::{CursorKey, Page};
use crate::domain::realization::RealizationScript;
use crate::domain::relations;
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::{Applied, Change, ObjectId, ObjectPath, PolicyObject};
use crate::kinds::traceflow::path_of as traceflow_path;
use crate::kinds::traceflow::results::Script;
use crate::kinds::traceflow::run::Run;

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
        let rows: Vec<ObjectRow> = sqlx::query_as(&objects::SUBTREE)
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
        static COUNTS: LazyLock<String> =
            LazyLock::new(|| queries::child_counts(|n| format!("?{n}")));
        sqlx::query_as(&COUNTS)
            .bind(parent)
            .bind(i64::from(cap))
            .fetch_all(&self.readers)
            .await
            .classified()
    }

    async fn last_change(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar(queries::LAST_EVENT)
            .fetch_one(&self.readers)
            .await
            .classified()
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
        let mut tx = self.readers.begin().await.classified()?;
        let (members, collection_path) = queries::member_values(&query.collection);
        let (total_sql, total_binds) = queries::list_total(&query.collection, |n| format!("?{n}"));
        let total: i64 = total_binds
            .into_iter()
            .fold(sqlx::query_scalar(&total_sql), |total, value| {
                total.bind(value)
            })
            .fetch_one(&mut *tx)
            .await
            .classified()?;

        let sql = list_sql(
            &query.collection,
            query.sort_by,
            query.ascending,
            query.after.is_some(),
        );
        let (key, id) = match &query.after {
            None => (None, None),
            Some(after) => (Some(&after.key), Some(after.id.as_str())),
        };
        let page = sqlx::query_as::<_, ObjectRow>(&sql).bind(members);
        let page = match key {
            Some(SortValue::Time(time)) => page.bind(Some(*time)),
            Some(SortValue::Text(text)) => page.bind(Some(text.as_str())),
            None => page.bind(None::<&str>),
        };
        // One more than the page holds tells whether another page follows.
        let page = page.bind(id).bind(i64::from(query.page_size) + 1);
        let page = page.bind(collection_path);
        let rows = page.fetch_all(&mut *tx).await.classified()?;
        tx.commit().await.classified()?;

        Page::from_fetched(
            rows,
            query.page_size,
            total,
            ObjectRow::into_object,
            |last| ListPosition::after(last, query.sort_by),
        )
    }

    async fn revisions(
        &self,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        let mut tx = self.readers.begin().await.classified()?;
        let total: i64 =
            sqlx::query_scalar("SELECT count(*) FROM policy_object_revisions WHERE path = ?")
                .bind(&query.path)
                .fetch_one(&mut *tx)
                .await
                .classified()?;
        let rows: Vec<RevisionRow> = sqlx::query_as(
            "SELECT seq, path, revision, operation, object, change_time, change_user
             FROM policy_object_revisions
             WHERE path = ?1 AND seq < ?2
             ORDER BY seq DESC
             LIMIT ?3",
        )
        .bind(&query.path)
        .bind(query.after.map_or(i64::MAX, |after| after.seq))
        .bind(i64::from(query.page_size).saturating_add(1))
        .fetch_all(&mut *tx)
        .await
        .classified()?;
        tx.commit().await.classified()?;

        Page::from_fetched(
            rows,
            query.page_size,
            total,
            RevisionRow::into_record,
            |last| RevisionPosition { seq: last.seq },
        )
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

    async fn set_realization_script(
        &self,
        path: ObjectPath,
        script: RealizationScript,
    ) -> Result<(), StoreError> {
        self.writer()?.set_realization(path, Some(script)).await
    }

    async fn delete_realization_script(&self, path: ObjectPath) -> Result<(), StoreError> {
        self.writer()?.set_realization(path, None).await
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn retrace(&self, id: ObjectId) -> Result<Option<Arc<PolicyObject>>, StoreError> {
        self.writer()?.retrace(id).await
    }

    async fn current_run(&self, id: &ObjectId) -> Result<Option<Run>, StoreError> {
        // A simulated run's result is computed from its traceflow's config, read beside it.
        let row: Option<RunRow> = sqlx::query_as(
            "SELECT r.path, r.run, r.started_at, r.ready_at, r.seed, r.status, r.observations,
                    o.config
             FROM antrea_traceflow_runs AS r LEFT JOIN policy_objects AS o ON o.path = r.path
             WHERE r.path = ?1",
        )
        .bind(traceflow_path(id).to_string())
        .fetch_optional(&self.readers)
        .await
        .classified()?;
        row.map(RunRow::into_run).transpose()
    }

    async fn earlier_runs(&self, id: &ObjectId) -> Result<Vec<Run>, StoreError> {
        static EARLIER: LazyLock<String> =
            LazyLock::new(|| queries::earlier_runs(|n| format!("?{n}")));
        let rows: Vec<RunRow> = sqlx::query_as(&EARLIER)
            .bind(traceflow_path(id).to_string())
            .fetch_all(&self.readers)
            .await
            .classified()?;
        rows.into_iter().map(RunRow::into_run).collect()
    }

    async fn script(&self, id: &ObjectId) -> Result<Option<Script>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT script FROM antrea_traceflow_scripts WHERE id = ?1")
                .bind(id.as_str())
                .fetch_optional(&self.readers)
                .await
                .classified()?;
        json.map(|json| script_from_row(id.as_str(), &json))
            .transpose()
    }

    async fn set_script(&self, id: ObjectId, script: Script) -> Result<(), StoreError> {
        self.writer()?.set_script(id, script).await
    }

    async fn delete_script(&self, id: ObjectId) -> Result<(), StoreError> {
        self.writer()?.delete_script(id).await
    }
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
        let rows: Vec<ObjectRow> = sqlx::query_as(&format!(
            "SELECT {OBJECT_COLUMNS} FROM policy_objects ORDER BY path"
        ))
        .fetch_all(&self.readers)
        .await
        .classified()?;
        let objects: Vec<PolicyObject> = rows
            .into_iter()
            .map(ObjectRow::into_object)
            .collect::<Result<_, _>>()?;
        // Every store has the defaults as shipped: an export carries only what changed.
        Ok(objects
            .into_iter()
            .filter(|object| !relations::is_as_shipped(object))
            .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

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
