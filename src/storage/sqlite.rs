//! [`TraceflowStore`] on one SQLite file in WAL mode.
//!
//! All writes go through a single connection, so writers queue in the process instead of
//! contending for SQLite's lock (no "database is locked" between our own requests); reads use
//! their own pool and are never blocked by a write in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use serde_json::value::RawValue;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use super::{migrations, StoreError, TraceflowStore, WriteError};
use crate::configuration::{Durability, StorageSettings};
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord};
use crate::domain::list::{ListPosition, ListQuery, SortBy, SortValue};
use crate::domain::object::{traceflow_path, PARENT_PATH};
use crate::domain::paging::Page;
use crate::domain::traceflow::RESOURCE_TYPE;
use crate::domain::write::{self, Stamp};
use crate::domain::{Applied, Change, Metadata, ObjectId, Operation, Traceflow, TraceflowConfig};

pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database and brings its schema up to date.
    pub async fn open(settings: &StorageSettings) -> anyhow::Result<Self> {
        let path = &settings.database;
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create folder {}", folder.display()))?;
        }
        migrations::migrate(path)?;

        let options = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match settings.durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(Duration::from_millis(settings.busy_timeout_ms));
        let open_error = || format!("cannot open database {}", path.display());
        let writer = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(open_error)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .with_context(open_error)?;
        Ok(Self { writer, readers })
    }

    /// Opens an existing database for reading only: no migrations, nothing created, and
    /// every connection refuses writes. For inspecting a file, e.g. while a server runs.
    pub async fn open_read_only(path: &std::path::Path) -> anyhow::Result<Self> {
        anyhow::ensure!(path.is_file(), "no database at {}", path.display());
        let options = SqliteConnectOptions::new()
            .filename(path)
            .pragma("query_only", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open database {}", path.display()))?;
        Ok(Self {
            writer: pool.clone(),
            readers: pool,
        })
    }
}

#[async_trait]
impl TraceflowStore for SqliteStore {
    async fn get(&self, id: &ObjectId) -> Result<Option<Traceflow>, StoreError> {
        let mut conn = self.readers.acquire().await?;
        fetch(&mut conn, id).await
    }

    async fn write(
        &self,
        id: ObjectId,
        change: Change,
        user: &str,
    ) -> Result<Option<Applied>, WriteError> {
        // IMMEDIATE takes the write lock before the read, so the object we decide on is the
        // one we overwrite. A transaction dropped on an error path rolls back.
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from)?;
        let current = fetch(&mut tx, &id).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let applied = write::apply(current, id, change, Stamp { user, now })?;
        if let Some(applied) = &applied {
            persist(&mut tx, applied).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(applied)
    }

    async fn list(&self, query: &ListQuery) -> Result<Page<Traceflow, ListPosition>, StoreError> {
        let mut tx = self.readers.begin().await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT coalesce((SELECT count FROM policy_object_counts WHERE resource_type = ?), 0)",
        )
        .bind(RESOURCE_TYPE)
        .fetch_one(&mut *tx)
        .await?;

        let sql = list_sql(query.sort_by, query.ascending, query.after.is_some());
        let mut page = sqlx::query_as::<_, ObjectRow>(&sql).bind(RESOURCE_TYPE);
        if let Some(after) = &query.after {
            page = match (&after.key, query.sort_by) {
                (_, SortBy::Id) => page.bind(&after.id),
                (SortValue::Text(key), _) => page.bind(key).bind(&after.id),
                (SortValue::Time(key), _) => page.bind(key).bind(&after.id),
            };
        }
        // One more than the page holds tells whether another page follows.
        let rows = page
            .bind(i64::from(query.page_size) + 1)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;

        let has_more = rows.len() > query.page_size as usize;
        let items = rows
            .into_iter()
            .take(query.page_size as usize)
            .map(ObjectRow::into_traceflow)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match items.last() {
            Some(last) if has_more => {
                Some(ListPosition::after(last, query.sort_by, query.ascending))
            }
            _ => None,
        };
        Ok(Page {
            items,
            total: total.max(0) as u64,
            next,
        })
    }

    async fn revisions(
        &self,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        let mut tx = self.readers.begin().await?;
        let total: i64 =
            sqlx::query_scalar("SELECT count(*) FROM policy_object_revisions WHERE path = ?")
                .bind(&query.path)
                .fetch_one(&mut *tx)
                .await?;
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
        .await?;
        tx.commit().await?;

        let has_more = rows.len() as u64 > u64::from(query.page_size);
        let items = rows
            .into_iter()
            .take(query.page_size as usize)
            .map(RevisionRow::into_record)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match items.last() {
            Some(last) if has_more => Some(RevisionPosition { seq: last.seq }),
            _ => None,
        };
        Ok(Page {
            items,
            total: total.max(0) as u64,
            next,
        })
    }
}

/// The page query for one ordering: a keyset range over the ordering's index, never OFFSET.
/// Binds: resource type, then (after a cursor) the last key and id, then the limit.
fn list_sql(sort_by: SortBy, ascending: bool, after_cursor: bool) -> String {
    let column = match sort_by {
        SortBy::DisplayName => "display_name",
        SortBy::Id => "id",
        SortBy::CreateTime => "create_time",
        SortBy::LastModifiedTime => "last_modified_time",
    };
    let (after, direction) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let range = match (after_cursor, sort_by) {
        (false, _) => String::new(),
        (true, SortBy::Id) => format!("AND id {after} ?"),
        (true, _) => format!("AND ({column}, id) {after} (?, ?)"),
    };
    let order = match sort_by {
        SortBy::Id => format!("id {direction}"),
        _ => format!("{column} {direction}, id {direction}"),
    };
    format!(
        "SELECT {OBJECT_COLUMNS} FROM policy_objects
         WHERE resource_type = ? {range}
         ORDER BY {order}
         LIMIT ?"
    )
}

/// The columns of `policy_objects` an object is read from ([`ObjectRow`]).
const OBJECT_COLUMNS: &str = "id, config, unique_id, revision, create_time, create_user,
     last_modified_time, last_modified_user";

#[derive(FromRow)]
struct ObjectRow {
    id: String,
    config: String,
    unique_id: String,
    revision: i64,
    create_time: i64,
    create_user: String,
    last_modified_time: i64,
    last_modified_user: String,
}

impl ObjectRow {
    fn into_traceflow(self) -> Result<Traceflow, StoreError> {
        let corrupt =
            |what: String| StoreError::Internal(format!("stored object {:?}: {what}", self.id));
        let id = ObjectId::parse(&self.id).map_err(|err| corrupt(err.to_string()))?;
        let config = TraceflowConfig::from_stored_json(&self.config, &id)
            .map_err(|err| corrupt(err.to_string()))?;
        let unique_id = Uuid::from_str(&self.unique_id).map_err(|err| corrupt(err.to_string()))?;
        Ok(Traceflow {
            id,
            config,
            meta: Metadata {
                unique_id,
                revision: self.revision,
                create_time: self.create_time,
                create_user: self.create_user,
                last_modified_time: self.last_modified_time,
                last_modified_user: self.last_modified_user,
                marked_for_delete: false,
            },
        })
    }
}

async fn fetch(
    conn: &mut SqliteConnection,
    id: &ObjectId,
) -> Result<Option<Traceflow>, StoreError> {
    let sql = format!("SELECT {OBJECT_COLUMNS} FROM policy_objects WHERE path = ?");
    let row: Option<ObjectRow> = sqlx::query_as(&sql)
        .bind(traceflow_path(id))
        .fetch_optional(&mut *conn)
        .await?;
    row.map(ObjectRow::into_traceflow).transpose()
}

#[derive(FromRow)]
struct RevisionRow {
    seq: i64,
    path: String,
    revision: i64,
    operation: String,
    object: String,
    change_time: i64,
    change_user: String,
}

impl RevisionRow {
    fn into_record(self) -> Result<RevisionRecord, StoreError> {
        let seq = self.seq;
        let corrupt = |what: &str| StoreError::Internal(format!("history row {seq}: {what}"));
        let operation =
            Operation::parse(&self.operation).ok_or_else(|| corrupt("unknown operation"))?;
        let object = RawValue::from_string(self.object).map_err(|_| corrupt("invalid JSON"))?;
        Ok(RevisionRecord {
            path: self.path,
            revision: self.revision,
            operation,
            change_user: self.change_user,
            change_time: self.change_time,
            object,
            seq,
        })
    }
}

/// Writes the new state of the object and appends its history row.
async fn persist(conn: &mut SqliteConnection, applied: &Applied) -> Result<(), StoreError> {
    let object = &applied.object;
    let path = object.path();
    let meta = &object.meta;
    if applied.operation == Operation::Delete {
        sqlx::query("DELETE FROM policy_objects WHERE path = ?")
            .bind(&path)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id, config,
                 revision, create_time, create_user, last_modified_time, last_modified_user)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (path) DO UPDATE SET
                 config = excluded.config,
                 revision = excluded.revision,
                 last_modified_time = excluded.last_modified_time,
                 last_modified_user = excluded.last_modified_user",
        )
        .bind(&path)
        .bind(PARENT_PATH)
        .bind(object.id.as_str())
        .bind(RESOURCE_TYPE)
        .bind(meta.unique_id.to_string())
        .bind(object.config.to_json())
        .bind(meta.revision)
        .bind(meta.create_time)
        .bind(&meta.create_user)
        .bind(meta.last_modified_time)
        .bind(&meta.last_modified_user)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO policy_object_revisions
             (path, unique_id, revision, operation, object, change_time, change_user)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&path)
    .bind(meta.unique_id.to_string())
    .bind(meta.revision)
    .bind(applied.operation.as_str())
    .bind(object.to_json())
    .bind(meta.last_modified_time)
    .bind(&meta.last_modified_user)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// SQLite's primary result codes that mean "cannot write now, may later".
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        let transient = match &err {
            sqlx::Error::Database(db) => db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .is_some_and(|code| {
                    matches!(
                        code & 0xff,
                        SQLITE_BUSY
                            | SQLITE_LOCKED
                            | SQLITE_READONLY
                            | SQLITE_IOERR
                            | SQLITE_FULL
                            | SQLITE_CANTOPEN
                    )
                }),
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
            _ => false,
        };
        if transient {
            StoreError::Unavailable(err.to_string())
        } else {
            StoreError::Internal(err.to_string())
        }
    }
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
                    let sql = list_sql(sort_by, ascending, after_cursor);
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
}
