//! What [`ObjectStore`](crate::storage::ObjectStore) asks of the engine: objects, trees,
//! lists, history and events.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use sqlx::Postgres;

use super::{Engine, Kept, VersionedRow, LOCKED_ATTEMPTS, OBJECT_BY_PATH};
use crate::determinism::uuid_v4;
use crate::domain::change::Stamp;
use crate::domain::hierarchy::TreeWrite;
use crate::domain::history::{RevisionPosition, RevisionQuery, RevisionRecord, StoreEvent};
use crate::domain::list::{ListPosition, ListQuery};
use crate::domain::paging::{CursorKey, Offset, Page};
use crate::domain::relations;
use crate::domain::search::Search;
use crate::domain::{Applied, Change, ObjectPath, PolicyObject};
use crate::storage::errors::Classified;
use crate::storage::postgres::tx::{self as pg, PgTx};
use crate::storage::queries;
use crate::storage::reads::Reads;
use crate::storage::rows::{EventRow, ObjectRow, OBJECT_COLUMNS};
use crate::storage::side::StoreKinds;
use crate::storage::steps::{self, Attempt, Changing, Request};
use crate::storage::tx::{Current, Tx};
use crate::storage::{ChildCount, StoreError, WriteError};
use crate::telemetry::metrics;

/// What [`ObjectStore`](crate::storage::ObjectStore) asks, on the store's runtime.
impl Engine {
    /// What a GET of `path` finds before it reads the row: the row's version is asked for
    /// (with the GETs arriving meanwhile, `versions.rs`) and compared with the kept copy's.
    pub(in crate::storage::postgres) async fn kept(&self, path: &str) -> Result<Kept, StoreError> {
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
    pub(in crate::storage::postgres) async fn read(
        &self,
        path: String,
    ) -> Result<Option<Arc<PolicyObject>>, StoreError> {
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
    pub(in crate::storage::postgres) async fn write(
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
            change: Changing::Again(&change),
            stamp: Stamp {
                user,
                now: at.stamp,
                unique_id: uuid_v4(&mut context.unique_ids.lock().expect("unique id lock")),
            },
            at,
        };
        // A write that may need its parent or its lack of children checks them under the
        // locks of a transaction, and one that writes several rows needs a transaction:
        // straight to the locked attempts below.
        if relations::may_check(&path, &change, kinds)
            || steps::writes_several(kinds, &path, &change)
        {
            return self.write_locked(kinds, request).await;
        }
        let mut conn = self.pool.acquire().await.classified()?;
        let mut tx = PgTx { conn: &mut conn };
        if change.only_creates() {
            let nothing = Current::nothing(steps::side_reads(kinds, &path));
            match steps::attempt(&mut tx, kinds, request.clone(), nothing).await {
                Ok(Attempt::Ended(Some(applied), _)) => return self.written(Some(applied), began),
                // Something is stored there, or the change is refused where nothing is:
                // what is stored decides, read below.
                Ok(_) | Err(WriteError::Rejected(_)) => {}
                Err(error) => return Err(error),
            }
        }
        if let Attempt::Ended(applied, _) =
            steps::write_one(&mut tx, kinds, request.clone()).await?
        {
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
            match steps::write_one(&mut conn, kinds, request.clone()).await? {
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
    pub(in crate::storage::postgres) async fn write_tree(
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
    pub(in crate::storage::postgres) async fn changes(
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

    pub(in crate::storage::postgres) async fn child_counts(
        &self,
        parent: &str,
        cap: u32,
    ) -> Result<Vec<ChildCount>, StoreError> {
        Reads::<Postgres>::child_counts(&self.pool, parent, cap).await
    }

    /// The position of the last committed change.
    pub(in crate::storage::postgres) async fn last_change(&self) -> Result<i64, StoreError> {
        Reads::<Postgres>::last_change(&self.pool).await
    }

    /// The object at `path` and every object below it, in path order, from one snapshot.
    pub(in crate::storage::postgres) async fn subtree(
        &self,
        path: &str,
    ) -> Result<Vec<PolicyObject>, StoreError> {
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

    pub(in crate::storage::postgres) async fn list(
        &self,
        query: &ListQuery,
    ) -> Result<Page<PolicyObject, ListPosition>, StoreError> {
        Reads::<Postgres>::list(self.begin_snapshot().await?, query).await
    }

    pub(in crate::storage::postgres) async fn search(
        &self,
        search: &Search,
        window: Offset,
    ) -> Result<Page<PolicyObject, u64>, StoreError> {
        Reads::<Postgres>::search(self.begin_snapshot().await?, search, window).await
    }

    pub(in crate::storage::postgres) async fn revisions(
        &self,
        query: &RevisionQuery,
    ) -> Result<Page<RevisionRecord, RevisionPosition>, StoreError> {
        Reads::<Postgres>::revisions(self.begin_snapshot().await?, query).await
    }

    pub(in crate::storage::postgres) fn cursor_key(&self) -> &CursorKey {
        &self.cursors
    }

    pub(in crate::storage::postgres) async fn close(&self) {
        self.pool.close().await;
    }
}
