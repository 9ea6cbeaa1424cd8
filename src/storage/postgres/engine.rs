//! What the store does on PostgreSQL: each operation of the store traits as transactions on
//! a sqlx pool, the writes' steps ([`steps`]) on [`PgTx`]. It runs on the store's own
//! runtime (`mod.rs`). The operations are by trait: the objects' (`engine/objects.rs`), and
//! the rest (`engine/state.rs`: a kind's rows, realization scripts, whole-store operations,
//! health).

mod objects;
mod state;

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

use super::migrations;
use super::tx::PgTx;
use super::versions::RowVersions;
use crate::configuration::{Durability, StorageSettings};
use crate::determinism::{Clock, DeterminismSettings, Stream};
use crate::domain::paging::CursorKey;
use crate::domain::PolicyObject;
use crate::storage::errors::Classified;
use crate::storage::rows::{ObjectRow, OBJECT_COLUMNS};
use crate::storage::side::StoreKinds;
use crate::storage::steps::{self};
use crate::storage::tx::Moment;
use crate::storage::StoreError;
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
        done.log();
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
