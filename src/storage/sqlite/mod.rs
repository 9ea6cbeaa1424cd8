//! [`TraceflowStore`] on one SQLite file in WAL mode.
//!
//! Writes go to a single writer thread that commits them in groups ([`writer`]), so writers
//! queue in the process instead of contending for SQLite's lock (no "database is locked"
//! between our own requests). Reads use their own pool of sqlx connections and are never
//! blocked by a write in WAL mode; GETs by id are served from a cache of committed objects
//! when they can be.

mod checkpointer;
mod rows;
mod wal_vfs;
mod writer;

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use self::checkpointer::Checkpointer;
use self::rows::{ObjectRow, RevisionRow, OBJECT_BY_PATH, OBJECT_COLUMNS};
use self::writer::Writer;
use super::cache::ObjectCache;
use super::{migrations, StoreError, TraceflowStore, WriteError};
use crate::configuration::{Durability, StorageSettings};
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord};
use crate::domain::list::{ListPosition, ListQuery, SortBy, SortValue};
use crate::domain::object::traceflow_path;
use crate::domain::paging::Page;
use crate::domain::traceflow::RESOURCE_TYPE;
use crate::domain::{Applied, Change, ObjectId, Traceflow};

/// Up to this size the database is checked at every start (`PRAGMA quick_check` reads the
/// whole file: milliseconds here, seconds with a million objects).
const ALWAYS_CHECKED_BYTES: u64 = 64 << 20;

pub struct SqliteStore {
    /// `None` for a store opened read-only.
    writer: Option<Writer>,
    checkpointer: Option<Checkpointer>,
    readers: SqlitePool,
    cache: ObjectCache,
    /// Held while the store is open: a second server on the same file refuses to start.
    _lock: Option<File>,
}

impl SqliteStore {
    /// Opens (creating when missing) the database, checks it, brings its schema up to date,
    /// and starts the writer.
    ///
    /// Refuses a database another server has open, and one written by a newer version. The
    /// whole file is checked before anything is served after an unclean shutdown (a WAL left
    /// with frames in it, from which SQLite recovers the committed writes), and at every start
    /// while the file is small enough for the check to take no time.
    pub async fn open(settings: &StorageSettings) -> anyhow::Result<Self> {
        let path = &settings.database;
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create folder {}", folder.display()))?;
        }
        let lock = lock(path)?;
        let unclean = wal_has_frames(path);
        migrations::migrate(path)?;
        if unclean {
            tracing::warn!(database = %path.display(), "the last shutdown was not clean: recovered the WAL, checking the database");
            check_integrity(path)?;
        } else if std::fs::metadata(path).is_ok_and(|file| file.len() <= ALWAYS_CHECKED_BYTES) {
            check_integrity(path)?;
        }

        let readers = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(path)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(match settings.durability {
                        Durability::Full => SqliteSynchronous::Full,
                        Durability::Normal => SqliteSynchronous::Normal,
                    })
                    .busy_timeout(Duration::from_millis(settings.busy_timeout_ms))
                    .pragma("query_only", "ON"),
            )
            .await
            .with_context(|| format!("cannot open database {}", path.display()))?;
        let cache = ObjectCache::new(settings.cache_objects);
        let open_error = || format!("cannot open database {}", path.display());
        let writer = Writer::start(settings, cache.clone()).with_context(open_error)?;
        let checkpointer = Checkpointer::start(path).with_context(open_error)?;
        Ok(Self {
            writer: Some(writer),
            checkpointer: Some(checkpointer),
            readers,
            cache,
            _lock: Some(lock),
        })
    }

    /// Opens an existing database for reading only: no migrations, nothing created, no
    /// writer, and connections that refuse writes. For inspecting a file, e.g. while a
    /// server runs.
    pub async fn open_read_only(path: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(path.is_file(), "no database at {}", path.display());
        let readers = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(path)
                    .pragma("query_only", "ON"),
            )
            .await
            .with_context(|| format!("cannot open database {}", path.display()))?;
        Ok(Self {
            writer: None,
            checkpointer: None,
            readers,
            cache: ObjectCache::new(0),
            _lock: None,
        })
    }

    /// Copies the database, consistently, into a new file `target` while servers keep
    /// writing to it (`VACUUM INTO`: one read transaction, no lock on writers). Returns how
    /// many objects the copy holds.
    pub fn backup(database: &Path, target: &Path) -> anyhow::Result<i64> {
        anyhow::ensure!(database.is_file(), "no database at {}", database.display());
        anyhow::ensure!(!target.exists(), "{} exists already", target.display());
        let conn = rusqlite::Connection::open_with_flags(
            database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
        )
        .with_context(|| format!("cannot open database {}", database.display()))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let target_text = target
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", target.display()))?;
        conn.execute("VACUUM INTO ?1", [target_text])
            .with_context(|| format!("cannot write the backup {}", target.display()))?;
        let copy = rusqlite::Connection::open(target)?;
        let objects = copy.query_row("SELECT count(*) FROM policy_objects", [], |r| r.get(0))?;
        Ok(objects)
    }
}

/// Takes the database's lock file (`<database>.lock`), holding this process's id.
fn lock(database: &Path) -> anyhow::Result<File> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let mut file = File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    if let Err(err) = file.try_lock() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        anyhow::bail!(
            "database {} is in use by another nsx-policy-store (pid {}); stop it first ({err})",
            database.display(),
            holder.trim()
        );
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

/// Whether a WAL with frames in it was left behind: the last shutdown was not clean (a clean
/// one checkpoints and empties it).
fn wal_has_frames(database: &Path) -> bool {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    std::fs::metadata(name).is_ok_and(|wal| wal.len() > 0)
}

/// `PRAGMA quick_check`: refuses to serve a damaged database.
fn check_integrity(database: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(database)?;
    let mut statement = conn.prepare("PRAGMA quick_check")?;
    let problems: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if problems != ["ok"] {
        anyhow::bail!(
            "database {} is damaged ({}); restore it from a backup",
            database.display(),
            problems.join("; ")
        );
    }
    tracing::info!(database = %database.display(), "integrity check passed");
    Ok(())
}

#[async_trait]
impl TraceflowStore for SqliteStore {
    async fn get(&self, id: &ObjectId) -> Result<Option<Arc<Traceflow>>, StoreError> {
        let path = traceflow_path(id);
        if let Some(object) = self.cache.get(&path) {
            return Ok(Some(object));
        }
        let read_start = self.cache.read_start();
        let row: Option<ObjectRow> = sqlx::query_as(&OBJECT_BY_PATH)
            .bind(&path)
            .fetch_optional(&self.readers)
            .await?;
        let object = row
            .map(|row| row.into_traceflow().map(Arc::new))
            .transpose()?;
        if let Some(object) = &object {
            self.cache.offer(object, read_start);
        }
        Ok(object)
    }

    async fn write(
        &self,
        id: ObjectId,
        change: Change,
        user: &str,
    ) -> Result<Option<Applied>, WriteError> {
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| StoreError::Internal("the store was opened read-only".into()))?;
        writer.write(id, change, user).await
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

        Page::from_fetched(
            rows,
            query.page_size,
            total,
            ObjectRow::into_traceflow,
            |last| ListPosition::after(last, query.sort_by, query.ascending),
        )
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

        Page::from_fetched(
            rows,
            query.page_size,
            total,
            RevisionRow::into_record,
            |last| RevisionPosition { seq: last.seq },
        )
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
