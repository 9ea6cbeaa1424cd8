//! The single writer, with group commit: the one place that orders every change of the
//! store (objects, runs, scripts, resets, snapshots, imports).
//!
//! Every task goes through one thread that owns the database's one write connection. It
//! takes the first task waiting in its queue, drains whatever else is already waiting, and
//! applies the lot in one transaction: a write reads the current object, runs the contract's
//! rules ([`write::apply`]) and persists the object with its history row and its run, inside
//! its own savepoint, so a write that fails is undone alone (a task alone in its batch needs
//! none: the transaction undoes it; a whole-store task always runs alone). One COMMIT (one
//! flush with `synchronous=FULL`) makes the whole batch durable; only then is each request
//! answered.
//!
//! Under one client a batch is one write; under many, one disk flush serves them
//! all. The thread owns a rusqlite connection (the same SQLite library as sqlx's): the batch
//! loop is synchronous by nature, and a direct connection spares every statement the two
//! thread hand-offs of an async driver.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::checkpointer::WalPace;
use super::counts;
use super::tx::SqliteTx;
use crate::configuration::{Durability, StorageSettings};
use crate::determinism::{uuid_v4, Clock};
use crate::domain::change::{Moment, Stamp};
use crate::domain::exchange::ImportLine;
use crate::domain::hierarchy::TreeWrite;
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::{Applied, Change, ObjectPath};
use crate::storage::cache::ObjectCache;
use crate::storage::errors::Classified;
use crate::storage::side::{SideAnswer, SideDone, SideTask, StoreKinds};
use crate::storage::steps::{self, Attempt, CaughtUp, Changing, Request};
use crate::storage::{Keyed, StoreError, WriteError};
use crate::telemetry::metrics;

/// The most writes one transaction takes. Enough to cover every client waiting at once, and
/// small enough that the first in a batch does not wait long for the last.
const MAX_BATCH: usize = 256;

/// Writes waiting for the writer; senders wait (back-pressure) when it is full.
const QUEUE_DEPTH: usize = 4096;

type Outcome = Result<Option<Applied>, WriteError>;

/// What the writer decides beside the tasks themselves: the time and the `unique_id`s it
/// stamps (the store's one source of time and chance), and the kinds whose rules and rows
/// the steps follow.
pub struct WriterContext {
    pub clock: Clock,
    pub unique_ids: ChaCha8Rng,
    pub kinds: Arc<dyn StoreKinds>,
}

/// What a job asks of the writer. Each is applied in a savepoint of its own inside its
/// batch's transaction, so one that fails changes nothing else.
// A client's write is by far the commonest task: it stays inline rather than boxed, which
// would cost an allocation per write for the sake of the rare others.
#[allow(clippy::large_enum_variant)]
enum Task {
    /// A client's write, with what its kind brings.
    Write {
        path: ObjectPath,
        change: Change,
        user: String,
    },
    /// The writes of one hierarchical request, all of them or none.
    Tree {
        writes: Vec<TreeWrite>,
        user: String,
    },
    /// A change of a kind's rows (a retrace, a script).
    Side(SideTask),
    /// Sets, or with `None` deletes, the row of a key in a table the store keeps by key.
    Keyed {
        table: Keyed,
        key: String,
        value: Option<String>,
    },
    /// The one-off work the migrations left for the next start: the defaults of a new
    /// store, and what kinds owe.
    CatchUp,
    /// Changes nothing: answered once the writer has taken a write transaction, for the
    /// readiness probe.
    Probe,
    /// Removes every object, revision, kind's row and script.
    Reset {
        user: String,
    },
    SaveSnapshot {
        name: SnapshotName,
    },
    RestoreSnapshot {
        name: SnapshotName,
        user: String,
    },
    DeleteSnapshot {
        name: SnapshotName,
    },
    /// Creates every object of an import, or none.
    Import {
        lines: Vec<ImportLine>,
        user: String,
    },
}

impl Task {
    /// Whether every way the task can be refused is found before it writes anything: a
    /// client's PUT or PATCH (a DELETE may remove what the object brought with it before
    /// finding a reason to refuse). Such a task needs no savepoint of its own, whose undo
    /// copy of every page it changes costs a tenth of the writer's time: should the store
    /// fail in its middle, the whole batch is rolled back and answered 503 instead.
    fn refused_before_writing(&self) -> bool {
        matches!(
            self,
            Task::Write {
                change: Change::Put(_) | Change::Patch(_),
                ..
            }
        )
    }

    fn is_whole_store(&self) -> bool {
        matches!(
            self,
            Task::Reset { .. }
                | Task::SaveSnapshot { .. }
                | Task::RestoreSnapshot { .. }
                | Task::Import { .. }
                | Task::CatchUp
        )
    }
}

/// What a task did.
enum Done {
    /// The object's write (`None`: nothing to change), and what it brought with it.
    Written(Option<Applied>, Vec<Applied>),
    /// Everything a hierarchical request changed, in order.
    Tree(Vec<Applied>),
    Side(SideDone),
    /// A keyed row set or deleted.
    Keyed,
    CaughtUp(CaughtUp),
    Probed,
    Reset {
        removed: u64,
    },
    Snapshot(Option<SnapshotInfo>),
    /// A snapshot restored: every object may have changed.
    Restored(Option<SnapshotInfo>),
    Imported(u64),
}

impl Done {
    /// Whether the store changed: what moves the virtual clock on.
    fn changed_something(&self) -> bool {
        match self {
            Done::Written(None, _) | Done::Probed | Done::Restored(None) => false,
            // The store's own start, before any client: the defaults are written at the
            // clock's start, as is the first client's write.
            Done::CaughtUp(_) => false,
            Done::Tree(written) => !written.is_empty(),
            Done::Side(done) => done.changed,
            _ => true,
        }
    }
}

struct Job {
    task: Task,
    reply: oneshot::Sender<Result<Done, WriteError>>,
}

/// The handle requests use to reach the writer thread.
pub struct Writer {
    /// `None` once closed.
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Writer {
    /// Opens the write connection and starts the writer thread.
    pub fn start(
        path: &Path,
        settings: &StorageSettings,
        context: WriterContext,
        cache: ObjectCache,
        pace: Arc<WalPace>,
    ) -> anyhow::Result<Self> {
        let conn = open(path, settings)?;
        let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(conn, jobs, context, cache, &pace))?;
        Ok(Self {
            queue: Mutex::new(Some(queue)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues one task and waits until its batch is committed (or failed).
    async fn submit(&self, task: Task) -> Result<Done, WriteError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the store is shutting down".into());
        let queue = self.queue.lock().expect("writer queue lock").clone();
        queue
            .ok_or_else(stopped)?
            .send(Job { task, reply })
            .await
            .map_err(|_| stopped())?;
        let unanswered = || StoreError::Unavailable("the write was not completed; retry".into());
        answer.await.map_err(|_| unanswered())?
    }

    /// A client's write, with what its kind does beside it (a traceflow's new run).
    pub async fn write(&self, path: ObjectPath, change: Change, user: &str) -> Outcome {
        let user = user.to_owned();
        match self.submit(Task::Write { path, change, user }).await? {
            Done::Written(applied, _) => Ok(applied),
            _ => unreachable!("a write answers what it wrote"),
        }
    }

    /// The writes of one hierarchical request, in one transaction: what they changed.
    pub async fn write_tree(
        &self,
        writes: Vec<TreeWrite>,
        user: &str,
    ) -> Result<Vec<Applied>, WriteError> {
        let user = user.to_owned();
        match self.submit(Task::Tree { writes, user }).await? {
            Done::Tree(written) => Ok(written),
            _ => unreachable!("a tree answers what it wrote"),
        }
    }

    /// A change of a kind's rows; answers what the task answered.
    pub async fn side_task(&self, task: SideTask) -> Result<SideAnswer, StoreError> {
        match self.submit(Task::Side(task)).await.map_err(store_error)? {
            Done::Side(done) => Ok(done.answer),
            _ => unreachable!("a kind's task answers what it did"),
        }
    }

    /// Sets, or with `None` deletes, the row of `key` in `table`.
    pub async fn set_keyed(
        &self,
        table: Keyed,
        key: String,
        value: Option<String>,
    ) -> Result<(), StoreError> {
        self.submit(Task::Keyed { table, key, value })
            .await
            .map_err(store_error)
            .map(drop)
    }

    /// Empties the store; answers how many objects it held.
    pub async fn reset(&self, user: &str) -> Result<u64, StoreError> {
        let user = user.to_owned();
        match self
            .submit(Task::Reset { user })
            .await
            .map_err(store_error)?
        {
            Done::Reset { removed } => Ok(removed),
            _ => unreachable!("a reset answers what it removed"),
        }
    }

    pub async fn save_snapshot(&self, name: SnapshotName) -> Result<SnapshotInfo, StoreError> {
        match self
            .submit(Task::SaveSnapshot { name })
            .await
            .map_err(store_error)?
        {
            Done::Snapshot(Some(info)) => Ok(info),
            _ => unreachable!("a save answers its snapshot"),
        }
    }

    pub async fn restore_snapshot(
        &self,
        name: SnapshotName,
        user: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let user = user.to_owned();
        match self
            .submit(Task::RestoreSnapshot { name, user })
            .await
            .map_err(store_error)?
        {
            Done::Restored(info) => Ok(info),
            _ => unreachable!("a restore answers its snapshot"),
        }
    }

    pub async fn delete_snapshot(&self, name: SnapshotName) -> Result<(), StoreError> {
        self.submit(Task::DeleteSnapshot { name })
            .await
            .map_err(store_error)
            .map(|_| ())
    }

    pub async fn import(&self, lines: Vec<ImportLine>, user: &str) -> Result<u64, WriteError> {
        let user = user.to_owned();
        match self.submit(Task::Import { lines, user }).await? {
            Done::Imported(count) => Ok(count),
            _ => unreachable!("an import answers how many it created"),
        }
    }

    /// Does the one-off work the migrations left for this start; answers what it did.
    pub async fn catch_up(&self) -> Result<CaughtUp, StoreError> {
        match self.submit(Task::CatchUp).await.map_err(store_error)? {
            Done::CaughtUp(done) => Ok(done),
            _ => unreachable!("answers what it caught up with"),
        }
    }

    /// Answers once the writer thread has taken a write transaction on the database: the
    /// store accepts writes now.
    pub async fn probe(&self) -> Result<(), StoreError> {
        match self.submit(Task::Probe).await.map_err(store_error)? {
            Done::Probed => Ok(()),
            _ => unreachable!("a probe answers that it was probed"),
        }
    }

    /// Stops taking writes, lets the writer commit what was already queued, and waits for it
    /// to checkpoint and close the database.
    pub fn close(&self) {
        drop(self.queue.lock().expect("writer queue lock").take());
        if let Some(thread) = self.thread.lock().expect("writer thread lock").take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

/// The writer connection's page cache, as SQLite takes it (negative: KiB): 32 MiB.
const WRITER_CACHE_KIB: i64 = -32 * 1024;

fn open(path: &Path, settings: &StorageSettings) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    let synchronous = match settings.durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.busy_timeout(Duration::from_millis(settings.sqlite.busy_timeout_ms))?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    // Each write's savepoint keeps its undo log in memory, not in a temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Pages the writer touches stay in memory instead of being read back from the file.
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    // The checkpointer and the writer keep the WAL bounded between them (`checkpointer.rs`);
    // SQLite's own checkpoint inside a commit would stall every waiting client.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
}

/// Only a client's write can be rejected; every other task fails with the store alone.
fn store_error(err: WriteError) -> StoreError {
    match err {
        WriteError::Store(err) => err,
        WriteError::Rejected(rejection) => {
            StoreError::Internal(format!("a task that cannot be rejected was: {rejection}"))
        }
    }
}

fn run(
    mut conn: Connection,
    mut jobs: mpsc::Receiver<Job>,
    mut context: WriterContext,
    cache: ObjectCache,
    pace: &WalPace,
) {
    // A whole-store task that arrived while a batch was being gathered: it goes alone, next.
    let mut held: Option<Job> = None;
    loop {
        let Some(first) = held.take().or_else(|| jobs.blocking_recv()) else {
            break;
        };
        // Past its bound, the WAL is copied before this batch, which then starts it over;
        // writes that arrive meanwhile join the batch.
        pace.hold_for_restart();
        // A whole-store task (reset, snapshot, import) touches every row: it runs in a
        // transaction of its own, without the savepoint whose undo copy of every page it
        // changes would be held in memory.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && !batch[0].task.is_whole_store() {
            match jobs.try_recv() {
                Ok(job) if job.task.is_whole_store() => {
                    held = Some(job);
                    break;
                }
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A bug in one task must not end the writer (every later write would fail): its
        // batch is rolled back, its clients told the store is unavailable, and the loop
        // goes on.
        let batch_run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            commit_batch(&mut conn, batch, &mut context, &cache);
        }));
        if batch_run.is_err() {
            tracing::error!("a batch panicked; it was rolled back and its clients answered 503");
        }
        pace.committed();
    }
    // Everything is committed: fold the WAL into the database and empty it.
    if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %err, "final WAL checkpoint failed");
    }
}

/// Applies a batch in one transaction and answers every job in it.
fn commit_batch(
    conn: &mut Connection,
    batch: Vec<Job>,
    context: &mut WriterContext,
    cache: &ObjectCache,
) {
    let started = Instant::now();
    let writes = batch.len();
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(err) => {
            let err = StoreError::from(err);
            for job in batch {
                let _ = job.reply.send(Err(err.clone().into()));
            }
            return;
        }
    };
    let clock_before = context.clock;
    let alone = batch.len() == 1;
    let mut answered = Vec::with_capacity(batch.len());
    // Set when SQLite itself rolled the whole transaction back (it may on SQLITE_FULL,
    // IOERR, NOMEM and some BUSY cases): the connection is then in autocommit mode, and the
    // rest of the batch must not be applied there, one commit each.
    let mut rolled_back: Option<StoreError> = None;
    for job in batch {
        if let Some(err) = &rolled_back {
            answered.push((job.reply, Err(err.clone().into())));
            continue;
        }
        // Alone in its batch, a task's savepoint is the transaction itself.
        let guarded = !alone && !job.task.refused_before_writing();
        let outcome = apply_task(&mut tx, job.task, context, guarded);
        if outcome.as_ref().is_ok_and(Done::changed_something) {
            context.clock.advance();
        }
        // SQLite rolled the transaction back itself, or the store failed in the middle of a
        // task that has no savepoint: the batch cannot be committed.
        let failed_unguarded = !alone && !guarded && matches!(outcome, Err(WriteError::Store(_)));
        if outcome.is_err() && (tx.is_autocommit() || failed_unguarded) {
            rolled_back = Some(StoreError::Unavailable(
                "the store rolled the batch's transaction back; nothing in it was written".into(),
            ));
        }
        answered.push((job.reply, outcome));
    }
    if rolled_back.is_none() {
        // What the batch's writes created and deleted, counted once for the batch.
        if let Err(err) = counts::add(
            &tx,
            answered.iter().flat_map(|(_, outcome)| written(outcome)),
        ) {
            rolled_back = Some(StoreError::from(err));
        }
    }
    let applied = started.elapsed();
    // Alone, a task's transaction is its savepoint: one that failed is rolled back.
    let failed_alone = alone && answered.iter().all(|(_, outcome)| outcome.is_err());
    let committed = match rolled_back {
        Some(err) => Err(err),
        None if failed_alone => tx.rollback().map_err(StoreError::from),
        None => tx.commit().map_err(StoreError::from),
    };
    tracing::debug!(
        writes,
        apply_us = applied.as_micros() as u64,
        commit_us = (started.elapsed() - applied).as_micros() as u64,
        "batch"
    );
    if let Err(err) = committed {
        // Nothing in the batch is durable: every task that had succeeded fails with it, and
        // the clock is where it was.
        context.clock = clock_before;
        for (reply, outcome) in answered {
            let outcome = match outcome {
                Ok(_) => Err(err.clone().into()),
                rejected => rejected,
            };
            let _ = reply.send(outcome);
        }
        return;
    }
    metrics::batch_committed(writes, started.elapsed());
    let replaced_all = answered.iter().any(|(_, outcome)| {
        matches!(
            outcome,
            Ok(Done::Reset { .. } | Done::Restored(Some(_)) | Done::Imported(_))
        )
    });
    if replaced_all {
        // Before anyone is answered: no GET can see an object from before a reset or restore,
        // nor a default an import replaced.
        cache.clear();
    }
    cache.committed(answered.iter().flat_map(|(_, outcome)| written(outcome)));
    for (reply, outcome) in answered {
        let _ = reply.send(outcome);
    }
}

/// Every object a task's write changed: its object and its companions, or a tree's.
fn written(outcome: &Result<Done, WriteError>) -> impl Iterator<Item = &Applied> {
    match outcome {
        Ok(Done::Written(applied, companions)) => applied.as_slice().iter().chain(companions),
        Ok(Done::Tree(written)) => written.iter().chain(&[]),
        _ => [].iter().chain(&[]),
    }
}

/// One task inside the batch's transaction, `guarded` by a savepoint of its own so that one
/// that fails is undone alone; unguarded when it is alone in its batch (the transaction undoes
/// it) or is refused, if at all, before it writes ([`Task::refused_before_writing`]).
fn apply_task(
    tx: &mut Transaction<'_>,
    task: Task,
    context: &mut WriterContext,
    guarded: bool,
) -> Result<Done, WriteError> {
    if !guarded {
        return apply(tx, task, context);
    }
    let savepoint = tx.savepoint().classified()?;
    let done = apply(&savepoint, task, context)?;
    savepoint.commit().classified()?;
    Ok(done)
}

/// What one task writes, on the connection of its transaction or savepoint: the steps,
/// driven on this thread.
fn apply(conn: &Connection, task: Task, context: &mut WriterContext) -> Result<Done, WriteError> {
    let now = context.clock.now();
    let at = Moment {
        stamp: now,
        real: chrono::Utc::now().timestamp_millis(),
    };
    let tx = &mut SqliteTx { conn };
    let kinds = &*Arc::clone(&context.kinds);
    let done = match task {
        Task::Write { path, change, user } => {
            let request = Request {
                path: &path,
                change: Changing::Once(change),
                stamp: Stamp {
                    user: &user,
                    now,
                    unique_id: uuid_v4(&mut context.unique_ids),
                },
                at,
            };
            match SqliteTx::now(steps::write_one(tx, kinds, request))? {
                Attempt::Ended(applied, companions) => Done::Written(applied, companions),
                Attempt::Raced => unreachable!("the one writer races no other"),
            }
        }
        Task::Tree { writes, user } => {
            let ids = &mut context.unique_ids;
            let mut unique_id = || uuid_v4(ids);
            let tree = steps::write_tree(tx, kinds, &writes, (&user, now, at), &mut unique_id);
            Done::Tree(SqliteTx::now(tree)?.expect("the one writer races no other"))
        }
        Task::Side(task) => Done::Side(SqliteTx::now(steps::side_task(tx, task, at))?),
        Task::Keyed { table, key, value } => {
            SqliteTx::now(steps::set_keyed(tx, table, &key, value.as_deref()))?;
            Done::Keyed
        }
        Task::Reset { user } => {
            let removed = SqliteTx::now(steps::reset(tx, kinds, (&user, now)))?;
            Done::Reset { removed }
        }
        Task::SaveSnapshot { name } => {
            let saved = SqliteTx::now(steps::save_snapshot(tx, kinds, &name, now))?;
            Done::Snapshot(Some(saved))
        }
        Task::RestoreSnapshot { name, user } => {
            let restore = steps::restore_snapshot(tx, kinds, &name, (&user, now));
            Done::Restored(SqliteTx::now(restore)?)
        }
        Task::DeleteSnapshot { name } => {
            SqliteTx::now(steps::delete_snapshot(tx, kinds, &name))?;
            Done::Snapshot(None)
        }
        Task::Import { lines, user } => {
            let ids = &mut context.unique_ids;
            let mut unique_id = || uuid_v4(ids);
            let import = steps::import(tx, kinds, lines, (&user, at), &mut unique_id);
            let imported = SqliteTx::now(import)?;
            SqliteTx::now(steps::tell_import(tx, imported, (&user, now)))?;
            Done::Imported(imported)
        }
        Task::Probe => Done::Probed,
        Task::CatchUp => Done::CaughtUp(SqliteTx::now(steps::catch_up(tx, kinds, at))?),
    };
    Ok(done)
}

#[cfg(test)]
mod tests;
