//! What the store does on PostgreSQL: each operation of the store traits as transactions on
//! a sqlx pool, the writes' steps ([`steps`]) on [`PgTx`]. It runs on the store's own
//! runtime (`mod.rs`).

use std::num::NonZeroUsize;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use lru::LruCache;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};

use super::errors::Classified;
use super::migrations;
use super::tx::{self as pg, PgTx};
use super::versions::RowVersions;
use crate::configuration::{Durability, StorageSettings};
use crate::determinism::{uuid_v4, Clock, DeterminismSettings, Stream};
use crate::domain::change::Stamp;
use crate::domain::exchange::ImportLine;
use crate::domain::hierarchy::TreeWrite;
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord, StoreEvent};
use crate::domain::list::{ListPosition, ListQuery, SortValue};
use crate::domain::paging::{CursorKey, Page};
use crate::domain::realization::RealizationScript;
use crate::domain::relations;
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::{Applied, Change, ObjectPath, PolicyObject};
use crate::storage::queries;
use crate::storage::rows::{EventRow, ObjectRow, RevisionRow, OBJECT_COLUMNS};
use crate::storage::side::{RowsQuery, SideAnswer, SideTask, StoreKinds};
use crate::storage::steps::{self, Attempt, Request};
use crate::storage::tx::{Current, Moment, Row, Tx};
use crate::storage::{ChildCount, StoreError, WriteError};
use crate::telemetry::metrics;

/// How many transactions a write that lost its first race (or may check its relations)
/// takes at most: the first holds the object's row, which is enough where one is stored; the
/// next ones also queue behind the path's other writes ([`pg::queue_for`]), where none
/// of them can come between.
const LOCKED_ATTEMPTS: usize = 3;

/// One object by its path, with the version of its row.
static OBJECT_BY_PATH: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT xmin::text::bigint AS row_version, {OBJECT_COLUMNS} FROM policy_objects WHERE path = $1")
});

/// What a write decides beside the change itself: the time and the `unique_id`s it stamps
/// (this instance's source of time and chance), and what each type does.
struct WriteContext {
    clock: Mutex<Clock>,
    unique_ids: Mutex<ChaCha8Rng>,
    kinds: Arc<dyn StoreKinds>,
}

pub(super) struct Engine {
    pool: PgPool,
    /// Objects read, each with the version of the row it was read from. A GET asks the
    /// database for the row's version (PostgreSQL's `xmin`, the transaction that wrote it,
    /// which every insert and update changes: a reset and an import too, whatever the
    /// object's own fields say) and serves the object from here only when it is the same, so
    /// no instance serves a state another has replaced; what it saves is reading and parsing
    /// the object.
    objects: Mutex<LruCache<String, (i64, Arc<PolicyObject>)>>,
    versions: Arc<RowVersions>,
    cursors: CursorKey,
    /// `None`: opened for reading only.
    writes: Option<WriteContext>,
}

impl Engine {
    /// Connects, brings the schema up to date (under an advisory lock, so instances starting
    /// together do not race), and reads (or makes) the key the cursors are sealed with.
    pub(super) async fn open(
        url: &SecretString,
        settings: &StorageSettings,
        determinism: &DeterminismSettings,
        kinds: Arc<dyn StoreKinds>,
    ) -> anyhow::Result<Self> {
        migrations::migrate(url.expose_secret()).await?;
        let synchronous_commit = match settings.durability {
            Durability::Full => "on",
            Durability::Normal => "off",
        };
        let options = connect_options(url)?.options([("synchronous_commit", synchronous_commit)]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.postgres.max_connections.max(1))
            .acquire_timeout(Duration::from_millis(settings.postgres.connect_timeout_ms))
            // No ping before each use, a round trip as long as a GET's own query: a
            // connection PostgreSQL dropped (a restart) fails its request with 503 once and
            // is replaced.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .context("cannot connect to PostgreSQL")?;
        let cursors = cursor_key(&pool, determinism)
            .await
            .context("cannot read the store's keys")?;
        let engine = Self {
            versions: RowVersions::new(pool.clone(), settings.postgres.max_connections as usize),
            pool,
            objects: Mutex::new(LruCache::new(
                NonZeroUsize::new(settings.postgres.cache_objects).unwrap_or(NonZeroUsize::MIN),
            )),
            cursors,
            writes: Some(WriteContext {
                clock: Mutex::new(determinism.clock()),
                unique_ids: Mutex::new(determinism.rng(Stream::UniqueIds)),
                kinds,
            }),
        };
        engine
            .catch_up()
            .await
            .context("cannot do the work the migrations left for this start")?;
        Ok(engine)
    }

    /// Does the work a migration marked owed ([`steps::catch_up`]), once whichever instance
    /// starts first.
    async fn catch_up(&self) -> Result<(), StoreError> {
        let (context, at, mut tx) = self.begin_write().await?;
        let done = steps::catch_up(&mut PgTx { conn: &mut tx }, &*context.kinds, at).await?;
        // Not a client's change: the first client's write is at the clock's start too.
        self.commit(tx, false).await?;
        if done.defaults > 0 {
            tracing::info!(objects = done.defaults, "wrote NSX's default objects");
        }
        if done.objects > 0 {
            tracing::info!(
                objects = done.objects,
                "did what the kinds owed their objects"
            );
        }
        Ok(())
    }

    /// Connects for reading only: no migrations, and every write refused.
    pub(super) async fn open_read_only(url: &SecretString) -> anyhow::Result<Self> {
        let options = connect_options(url)?.options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .context("cannot connect to PostgreSQL")?;
        let mut key = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut key);
        Ok(Self {
            versions: RowVersions::new(pool.clone(), 1),
            pool,
            objects: Mutex::new(LruCache::new(NonZeroUsize::MIN)),
            // Nothing it answers is paged: a key of its own will do.
            cursors: CursorKey::new(key),
            writes: None,
        })
    }

    fn writes(&self) -> Result<&WriteContext, StoreError> {
        self.writes
            .as_ref()
            .ok_or_else(|| StoreError::Internal("the store was opened read-only".into()))
    }

    async fn begin(&self) -> Result<Transaction<'_, Postgres>, StoreError> {
        self.pool.begin().await.classified()
    }

    /// A read-only transaction on one snapshot: a page and its count agree.
    async fn begin_snapshot(&self) -> Result<Transaction<'_, Postgres>, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .classified()?;
        Ok(tx)
    }

    /// Now, for a write: the time it is stamped with (`stamp`), and the real time delays
    /// count from.
    fn now(&self, context: &WriteContext) -> Moment {
        Moment {
            stamp: context.clock.lock().expect("clock lock").now(),
            real: chrono::Utc::now().timestamp_millis(),
        }
    }

    /// A write transaction begun now: the write context, the moment it writes at, and the
    /// transaction.
    async fn begin_write(&self) -> Result<(&WriteContext, Moment, WriteTx<'_>), StoreError> {
        let context = self.writes()?;
        let at = self.now(context);
        let tx = WriteTx {
            began: Instant::now(),
            tx: self.begin().await?,
        };
        Ok((context, at, tx))
    }

    /// Commits a write transaction; the virtual clock moves on when it `changed` something.
    async fn commit(&self, tx: WriteTx<'_>, changed: bool) -> Result<(), StoreError> {
        tx.tx.commit().await.classified()?;
        metrics::batch_committed(1, tx.began.elapsed());
        if changed {
            self.advance_clock()?;
        }
        Ok(())
    }

    /// The virtual clock moves on after each committed change.
    fn advance_clock(&self) -> Result<(), StoreError> {
        self.writes()?.clock.lock().expect("clock lock").advance();
        Ok(())
    }
}

/// What a GET finds before it reads a row ([`Engine::kept`]).
pub(super) enum Kept {
    /// No object at the path.
    Absent,
    /// The kept copy: the row is still the one it was read from.
    Current(Arc<PolicyObject>),
    /// A row the copy (if any) is not from: to be read.
    Changed,
}

/// An object's row with the version of the row.
#[derive(sqlx::FromRow)]
struct VersionedRow {
    row_version: i64,
    #[sqlx(flatten)]
    object: ObjectRow,
}

/// A write's transaction, and when it began (what the commit-duration metric measures from).
struct WriteTx<'c> {
    tx: Transaction<'c, Postgres>,
    began: Instant,
}

impl Deref for WriteTx<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

fn connect_options(url: &SecretString) -> anyhow::Result<PgConnectOptions> {
    PgConnectOptions::from_str(url.expose_secret()).map_err(|err| {
        anyhow::anyhow!("storage.database is not a PostgreSQL URL sqlx can use: {err}")
    })
}

async fn cursor_key(
    pool: &PgPool,
    determinism: &DeterminismSettings,
) -> Result<CursorKey, sqlx::Error> {
    let mut fresh = [0u8; 32];
    determinism.rng(Stream::CursorKey).fill_bytes(&mut fresh);
    sqlx::query(
        "INSERT INTO store_keys (name, value) VALUES ('cursor', $1) ON CONFLICT DO NOTHING",
    )
    .bind(&fresh[..])
    .execute(pool)
    .await?;
    let key: Vec<u8> = sqlx::query_scalar("SELECT value FROM store_keys WHERE name = 'cursor'")
        .fetch_one(pool)
        .await?;
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| sqlx::Error::Protocol("the cursor key is not 32 bytes".into()))?;
    Ok(CursorKey::new(key))
}

/// What [`ObjectStore`](crate::storage::ObjectStore) asks, on the store's runtime.
impl Engine {
    /// What a GET of `path` finds before it reads the row: the row's version is asked for
    /// (with the GETs arriving meanwhile, `versions.rs`) and compared with the kept copy's.
    pub(super) async fn kept(&self, path: &str) -> Result<Kept, StoreError> {
        let Some(version) = self.versions.of(path).await? else {
            self.objects.lock().expect("object cache lock").pop(path);
            return Ok(Kept::Absent);
        };
        let cached = self
            .objects
            .lock()
            .expect("object cache lock")
            .get(path)
            .cloned();
        Ok(match cached {
            Some((cached_version, object)) if cached_version == version => Kept::Current(object),
            _ => Kept::Changed,
        })
    }

    /// Reads the object at `path` and keeps it, with the version of its row.
    pub(super) async fn read(&self, path: String) -> Result<Option<Arc<PolicyObject>>, StoreError> {
        let row: Option<VersionedRow> = sqlx::query_as(&OBJECT_BY_PATH)
            .bind(&path)
            .fetch_optional(&self.pool)
            .await
            .classified()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let object = Arc::new(row.object.into_object()?);
        self.objects
            .lock()
            .expect("object cache lock")
            .put(path, (row.row_version, Arc::clone(&object)));
        Ok(Some(object))
    }

    /// A write of one object: first without a transaction, one read and one statement that
    /// writes only while what was read is unchanged (two round trips, no lock but the rows'
    /// own); when another change came between, again in a transaction holding the object's
    /// row, so that a write always ends after at most a few concurrent ones. A change that
    /// only creates is first written as a create of a path where nothing is stored, without
    /// the read: one round trip where that is so, and nothing written where it is not.
    pub(super) async fn write(
        &self,
        path: ObjectPath,
        change: Change,
        user: &str,
    ) -> Result<Option<Applied>, WriteError> {
        let context = self.writes()?;
        let kinds = &*context.kinds;
        let began = Instant::now();
        let at = self.now(context);
        let request = Request {
            path: &path,
            change: &change,
            stamp: Stamp {
                user,
                now: at.stamp,
                unique_id: uuid_v4(&mut context.unique_ids.lock().expect("unique id lock")),
            },
            at,
        };
        // A write that may need its parent or its lack of children checks them under the
        // locks of a transaction: straight to the locked attempts below.
        if relations::may_check(&path, &change, kinds) {
            return self.write_locked(kinds, request).await;
        }
        let mut conn = self.pool.acquire().await.classified()?;
        let mut tx = PgTx { conn: &mut conn };
        if change.only_creates() {
            let nothing = Current::nothing(steps::side_reads(kinds, &path));
            match steps::attempt(&mut tx, kinds, request, nothing).await {
                Ok(Attempt::Ended(Some(applied), _)) => return self.written(Some(applied), began),
                // Something is stored there, or the change is refused where nothing is:
                // what is stored decides, read below.
                Ok(_) | Err(WriteError::Rejected(_)) => {}
                Err(error) => return Err(error),
            }
        }
        if let Attempt::Ended(applied, _) = steps::write_one(&mut tx, kinds, request).await? {
            return self.written(applied, began);
        }
        drop(conn);
        self.write_locked(kinds, request).await
    }

    /// The write in a transaction that holds the object's row (and, through the relations'
    /// checks, its parent's) until it commits. Where no row is stored, another write may
    /// create the object first: the write then tries again queued behind the path's other
    /// writes ([`pg::queue_for`]), where none of them lands before it.
    async fn write_locked(
        &self,
        kinds: &dyn StoreKinds,
        request: Request<'_>,
    ) -> Result<Option<Applied>, WriteError> {
        for attempt in 0..LOCKED_ATTEMPTS {
            let (_, _, mut tx) = self.begin_write().await?;
            let mut conn = PgTx { conn: &mut tx };
            if attempt > 0 {
                pg::queue_for(conn.conn, &[request.path.as_str()]).await?;
            }
            conn.hold(request.path).await?;
            match steps::write_one(&mut conn, kinds, request).await? {
                Attempt::Ended(applied, _) => {
                    tx.tx.commit().await.classified()?;
                    return self.written(applied, tx.began);
                }
                Attempt::Raced => tx.tx.rollback().await.classified()?,
            }
        }
        Err(
            StoreError::Unavailable("other writes kept creating this object first; retry".into())
                .into(),
        )
    }

    /// The writes of one hierarchical request in one transaction ([`steps::write_tree`]):
    /// the rows of the objects it patches are held first, in path order, so that two trees
    /// never wait for each other in a circle on them. Retried, as a whole, when another
    /// write created one of its objects first, then queued behind the other writes of the
    /// paths it patches, in the same order.
    pub(super) async fn write_tree(
        &self,
        writes: &[TreeWrite],
        user: &str,
    ) -> Result<Vec<Applied>, WriteError> {
        let mut patched: Vec<&str> = writes
            .iter()
            .filter_map(|write| match write {
                TreeWrite::Patch { path, .. } => Some(path.as_str()),
                TreeWrite::DeleteTree(_) => None,
            })
            .collect();
        patched.sort_unstable();
        for attempt in 0..LOCKED_ATTEMPTS {
            let (context, at, mut tx) = self.begin_write().await?;
            if attempt > 0 {
                pg::queue_for(&mut tx, &patched).await?;
            }
            pg::hold_all(&mut tx, &patched).await?;
            let mut unique_id = || uuid_v4(&mut context.unique_ids.lock().expect("unique id lock"));
            let written = steps::write_tree(
                &mut PgTx { conn: &mut tx },
                &*context.kinds,
                writes,
                (user, at.stamp, at),
                &mut unique_id,
            )
            .await?;
            let Some(written) = written else {
                tx.tx.rollback().await.classified()?;
                continue;
            };
            self.commit(tx, !written.is_empty()).await?;
            return Ok(written);
        }
        Err(
            StoreError::Unavailable("other writes kept creating these objects first; retry".into())
                .into(),
        )
    }

    /// The changes after `position` that have settled: on PostgreSQL a history row's number
    /// is taken when its transaction inserts it, not when it commits, so a row numbered
    /// below one already committed may still be in flight. Read the last number handed out
    /// (`S`), then take a transaction id of one's own (`X`, in a statement that commits at
    /// once): every transaction that holds a number up to `S` had its id before `S` was read
    /// (a write's first change takes the id, its history row the number), so below `X`.
    /// Once no transaction with an id up to `X` is running (the oldest running one is above
    /// it), the rows up to `S` are all committed or gone. Only those are answered.
    ///
    /// A snapshot's `xmax` cannot stand in for `X`: it is one past the newest *completed*
    /// transaction, so a running transaction newer than every completed one is neither
    /// below it nor in the snapshot's list of running ones.
    pub(super) async fn changes(
        &self,
        position: i64,
        limit: u32,
    ) -> Result<Vec<StoreEvent>, StoreError> {
        static CHANGES: LazyLock<String> =
            LazyLock::new(|| queries::changes(|n| format!("${n}"), true));
        const SETTLED_BY: Duration = Duration::from_secs(5);
        let mut conn = self.pool.acquire().await.classified()?;
        let handed_out: Option<i64> = sqlx::query_scalar(
            "SELECT pg_sequence_last_value(
                 pg_get_serial_sequence('policy_object_revisions', 'seq')::regclass)",
        )
        .fetch_one(&mut *conn)
        .await
        .classified()?;
        let Some(horizon) = handed_out.filter(|horizon| *horizon > position) else {
            return Ok(Vec::new());
        };
        let own: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
            .fetch_one(&mut *conn)
            .await
            .classified()?;
        let began = Instant::now();
        loop {
            let oldest_running: String =
                sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                    .fetch_one(&mut *conn)
                    .await
                    .classified()?;
            let number = |text: &str| text.parse::<u64>().unwrap_or(u64::MAX);
            if number(&oldest_running) > number(&own) {
                break;
            }
            if began.elapsed() > SETTLED_BY {
                // A long transaction is still running: nothing new is answered yet; the
                // next read tries again.
                return Ok(Vec::new());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let rows: Vec<EventRow> = sqlx::query_as(&CHANGES)
            .bind(position)
            .bind(i64::from(limit))
            .bind(horizon)
            .fetch_all(&mut *conn)
            .await
            .classified()?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    pub(super) async fn child_counts(
        &self,
        parent: &str,
        cap: u32,
    ) -> Result<Vec<ChildCount>, StoreError> {
        static COUNTS: LazyLock<String> =
            LazyLock::new(|| queries::child_counts(|n| format!("${n}")));
        sqlx::query_as(&COUNTS)
            .bind(parent)
            .bind(i64::from(cap))
            .fetch_all(&self.pool)
            .await
            .classified()
    }

    /// The position of the last committed change.
    pub(super) async fn last_change(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar(queries::LAST_EVENT)
            .fetch_one(&self.pool)
            .await
            .classified()
    }

    /// The object at `path` and every object below it, in path order, from one snapshot.
    pub(super) async fn subtree(&self, path: &str) -> Result<Vec<PolicyObject>, StoreError> {
        static SUBTREE: LazyLock<String> = LazyLock::new(|| {
            format!(
                "{} SELECT {OBJECT_COLUMNS} FROM policy_objects
                 WHERE $1 = '' OR path IN (SELECT path FROM below)
                 ORDER BY path COLLATE \"C\"",
                pg::BELOW
            )
        });
        let mut tx = self.begin_snapshot().await?;
        let rows: Vec<ObjectRow> = sqlx::query_as(&SUBTREE)
            .bind(path)
            .fetch_all(&mut *tx)
            .await
            .classified()?;
        tx.commit().await.classified()?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }

    /// What a write answers once it has ended (committed, when it changed something).
    fn written(
        &self,
        applied: Option<Applied>,
        began: Instant,
    ) -> Result<Option<Applied>, WriteError> {
        if applied.is_some() {
            metrics::batch_committed(1, began.elapsed());
            self.advance_clock()?;
        }
        Ok(applied)
    }

    pub(super) async fn list(
        &self,
        query: &ListQuery,
    ) -> Result<Page<PolicyObject, ListPosition>, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let (members, collection_path) = queries::member_values(&query.collection);
        let (total_sql, total_binds) = queries::list_total(&query.collection, |n| format!("${n}"));
        let total: i64 = total_binds
            .into_iter()
            .fold(sqlx::query_scalar(&total_sql), |total, value| {
                total.bind(value)
            })
            .fetch_one(&mut *tx)
            .await
            .classified()?;
        let sql = queries::list_page(
            &query.collection,
            query.sort_by,
            query.ascending,
            query.after.is_some(),
            |n| format!("${n}"),
        );
        let (key, id) = match &query.after {
            None => (None, None),
            Some(after) => (Some(&after.key), Some(after.id.as_str())),
        };
        let page = sqlx::query_as::<_, ObjectRow>(&sql).bind(members);
        // The key's parameter is typed by its column: a time, or text.
        let page = match key {
            Some(SortValue::Time(time)) => page.bind(Some(*time)),
            Some(SortValue::Text(text)) => page.bind(Some(text.as_str())),
            None => page.bind(None::<&str>),
        };
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

    pub(super) async fn revisions(
        &self,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        let mut tx = self.begin_snapshot().await?;
        let total: i64 =
            sqlx::query_scalar("SELECT count(*) FROM policy_object_revisions WHERE path = $1")
                .bind(&query.path)
                .fetch_one(&mut *tx)
                .await
                .classified()?;
        let rows: Vec<RevisionRow> = sqlx::query_as(
            "SELECT seq, path, revision, operation, object, change_time, change_user
             FROM policy_object_revisions
             WHERE path = $1 AND seq < $2
             ORDER BY seq DESC
             LIMIT $3",
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

    pub(super) fn cursor_key(&self) -> &CursorKey {
        &self.cursors
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

/// What [`SideStore`](crate::storage::SideStore) asks, on the store's runtime.
impl Engine {
    pub(super) async fn side_rows(&self, query: RowsQuery) -> Result<Vec<Row>, StoreError> {
        let mut conn = self.pool.acquire().await.classified()?;
        PgTx { conn: &mut conn }
            .rows(query.sql, &query.params, query.types)
            .await
    }

    /// Carries `task` out under the store's lock ([`steps::side_task`]); the virtual clock
    /// moves on where it changed something.
    pub(super) async fn side_task(&self, task: SideTask) -> Result<SideAnswer, StoreError> {
        let (_, at, mut tx) = self.begin_write().await?;
        let done = steps::side_task(&mut PgTx { conn: &mut tx }, task, at).await?;
        self.commit(tx, done.changed).await?;
        Ok(done.answer)
    }
}

/// What [`RealizationStore`](crate::storage::RealizationStore) asks, on the store's runtime.
impl Engine {
    pub(super) async fn realization_script(
        &self,
        path: &str,
    ) -> Result<Option<RealizationScript>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT script FROM policy_realization_scripts WHERE path = $1")
                .bind(path)
                .fetch_optional(&self.pool)
                .await
                .classified()?;
        json.map(|json| RealizationScript::from_stored(&json).map_err(StoreError::Internal))
            .transpose()
    }

    /// Sets, or with `None` deletes, the realization script of `path`: under the store's
    /// lock, so that a reset or a restore lands wholly before or after it.
    pub(super) async fn set_realization(
        &self,
        path: &ObjectPath,
        script: Option<RealizationScript>,
    ) -> Result<(), StoreError> {
        let (_, _, mut tx) = self.begin_write().await?;
        let mut conn = PgTx { conn: &mut tx };
        conn.lock_store().await?;
        steps::set_realization(&mut conn, path, script.as_ref()).await?;
        self.commit(tx, false).await
    }
}

/// What [`StateStore`](crate::storage::StateStore) asks, on the store's runtime: each
/// operation's steps ([`steps`]) in a transaction of its own.
impl Engine {
    pub(super) async fn reset(&self, user: &str) -> Result<u64, StoreError> {
        let (context, at, mut tx) = self.begin_write().await?;
        let conn = &mut PgTx { conn: &mut tx };
        let removed = steps::reset(conn, &*context.kinds, (user, at.stamp)).await?;
        self.commit(tx, true).await?;
        Ok(removed)
    }

    pub(super) async fn save_snapshot(
        &self,
        name: SnapshotName,
    ) -> Result<SnapshotInfo, StoreError> {
        let (context, at, mut tx) = self.begin_write().await?;
        let conn = &mut PgTx { conn: &mut tx };
        let saved = steps::save_snapshot(conn, &*context.kinds, &name, at.stamp).await?;
        self.commit(tx, true).await?;
        Ok(saved)
    }

    pub(super) async fn snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, created, objects FROM store_snapshots ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .classified()?;
        Ok(rows
            .into_iter()
            .map(|(name, created, objects)| SnapshotInfo {
                name,
                created,
                objects: objects.max(0) as u64,
            })
            .collect())
    }

    pub(super) async fn snapshot(
        &self,
        name: &SnapshotName,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let mut conn = self.pool.acquire().await.classified()?;
        steps::snapshot_info(&mut PgTx { conn: &mut conn }, name).await
    }

    pub(super) async fn restore_snapshot(
        &self,
        name: SnapshotName,
        user: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let (context, at, mut tx) = self.begin_write().await?;
        let conn = &mut PgTx { conn: &mut tx };
        let restored =
            steps::restore_snapshot(conn, &*context.kinds, &name, (user, at.stamp)).await?;
        self.commit(tx, restored.is_some()).await?;
        Ok(restored)
    }

    pub(super) async fn delete_snapshot(&self, name: SnapshotName) -> Result<(), StoreError> {
        let (context, _, mut tx) = self.begin_write().await?;
        steps::delete_snapshot(&mut PgTx { conn: &mut tx }, &*context.kinds, &name).await?;
        self.commit(tx, true).await
    }

    pub(super) async fn export(&self) -> Result<Vec<PolicyObject>, StoreError> {
        let rows: Vec<ObjectRow> = sqlx::query_as(&format!(
            "SELECT {OBJECT_COLUMNS} FROM policy_objects ORDER BY path COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
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

    pub(super) async fn import(
        &self,
        lines: Vec<ImportLine>,
        user: &str,
    ) -> Result<u64, WriteError> {
        let (context, at, mut tx) = self.begin_write().await?;
        let conn = &mut PgTx { conn: &mut tx };
        let mut unique_id = || uuid_v4(&mut context.unique_ids.lock().expect("unique id lock"));
        let imported =
            steps::import(conn, &*context.kinds, lines, (user, at), &mut unique_id).await?;
        steps::tell_import(conn, imported, (user, at.stamp)).await?;
        self.commit(tx, imported > 0).await?;
        Ok(imported)
    }
}

/// What [`HealthStore`](crate::storage::HealthStore) asks, on the store's runtime.
impl Engine {
    pub(super) async fn object_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(&queries::CLIENT_OBJECTS)
            .fetch_one(&self.pool)
            .await
            .classified()?;
        Ok(count.max(0) as u64)
    }

    /// A write transaction can be begun: PostgreSQL answers and is not read-only.
    pub(super) async fn check_writable(&self) -> Result<(), StoreError> {
        self.writes()?;
        let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
            .fetch_one(&self.pool)
            .await
            .classified()?;
        if read_only == "on" {
            return Err(StoreError::Unavailable(
                "PostgreSQL is read-only (a standby?)".into(),
            ));
        }
        Ok(())
    }
}
