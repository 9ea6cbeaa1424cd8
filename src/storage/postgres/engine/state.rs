//! What the other store traits ask of the engine: a kind's rows, realization scripts,
//! whole-store operations and health.

use sqlx::Postgres;

use super::Engine;
use crate::determinism::uuid_v4;
use crate::domain::exchange::ImportLine;
use crate::domain::inventory::VirtualMachine;
use crate::domain::realization::RealizationScript;
use crate::domain::snapshot::{SnapshotInfo, SnapshotName};
use crate::domain::PolicyObject;
use crate::storage::errors::Classified;
use crate::storage::postgres::tx::PgTx;
use crate::storage::queries;
use crate::storage::reads::Reads;
use crate::storage::side::{RowsQuery, SideAnswer, SideTask};
use crate::storage::steps;
use crate::storage::tx::{Row, Tx};
use crate::storage::{Keyed, StoreError, WriteError};

/// What [`SideStore`](crate::storage::SideStore) asks, on the store's runtime.
impl Engine {
    pub(in crate::storage::postgres) async fn side_rows(
        &self,
        query: RowsQuery,
    ) -> Result<Vec<Row>, StoreError> {
        let mut conn = self.pool.acquire().await.classified()?;
        PgTx { conn: &mut conn }
            .rows(query.sql, &query.params, query.types)
            .await
    }

    /// Carries `task` out under the store's lock ([`steps::side_task`]); the virtual clock
    /// moves on where it changed something.
    pub(in crate::storage::postgres) async fn side_task(
        &self,
        task: SideTask,
    ) -> Result<SideAnswer, StoreError> {
        let (_, at, mut tx) = self.begin_write().await?;
        let done = steps::side_task(&mut PgTx { conn: &mut tx }, task, at).await?;
        self.commit(tx, done.changed).await?;
        Ok(done.answer)
    }
}

/// What [`RealizationStore`](crate::storage::RealizationStore) asks, on the store's runtime.
impl Engine {
    pub(in crate::storage::postgres) async fn realization_script(
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

    pub(in crate::storage::postgres) async fn realization_scripts(
        &self,
    ) -> Result<Vec<(String, RealizationScript)>, StoreError> {
        let rows = sqlx::query_as(queries::REALIZATION_SCRIPTS)
            .fetch_all(&self.pool)
            .await
            .classified()?;
        crate::storage::stored_scripts(rows)
    }

    pub(in crate::storage::postgres) async fn virtual_machines(
        &self,
    ) -> Result<Vec<VirtualMachine>, StoreError> {
        let rows = sqlx::query_scalar(queries::INVENTORY)
            .fetch_all(&self.pool)
            .await
            .classified()?;
        crate::storage::stored_virtual_machines(rows)
    }

    /// Sets, or with `None` deletes, the row of `key` in `table`: under the store's lock, so
    /// that a reset or a restore lands wholly before or after it.
    pub(in crate::storage::postgres) async fn set_keyed(
        &self,
        table: Keyed,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let (_, _, mut tx) = self.begin_write().await?;
        let mut conn = PgTx { conn: &mut tx };
        conn.lock_store().await?;
        steps::set_keyed(&mut conn, table, key, value).await?;
        self.commit(tx, false).await
    }
}

/// What [`StateStore`](crate::storage::StateStore) asks, on the store's runtime: each
/// operation's steps ([`steps`]) in a transaction of its own.
impl Engine {
    pub(in crate::storage::postgres) async fn reset(&self, user: &str) -> Result<u64, StoreError> {
        let (context, at, mut tx) = self.begin_write().await?;
        let conn = &mut PgTx { conn: &mut tx };
        let removed = steps::reset(conn, &*context.kinds, (user, at.stamp)).await?;
        self.commit(tx, true).await?;
        Ok(removed)
    }

    pub(in crate::storage::postgres) async fn save_snapshot(
        &self,
        name: SnapshotName,
    ) -> Result<SnapshotInfo, StoreError> {
        let (context, at, mut tx) = self.begin_write().await?;
        let conn = &mut PgTx { conn: &mut tx };
        let saved = steps::save_snapshot(conn, &*context.kinds, &name, at.stamp).await?;
        self.commit(tx, true).await?;
        Ok(saved)
    }

    pub(in crate::storage::postgres) async fn snapshots(
        &self,
    ) -> Result<Vec<SnapshotInfo>, StoreError> {
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

    pub(in crate::storage::postgres) async fn snapshot(
        &self,
        name: &SnapshotName,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        let mut conn = self.pool.acquire().await.classified()?;
        steps::snapshot_info(&mut PgTx { conn: &mut conn }, name).await
    }

    pub(in crate::storage::postgres) async fn restore_snapshot(
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

    pub(in crate::storage::postgres) async fn delete_snapshot(
        &self,
        name: SnapshotName,
    ) -> Result<(), StoreError> {
        let (context, _, mut tx) = self.begin_write().await?;
        steps::delete_snapshot(&mut PgTx { conn: &mut tx }, &*context.kinds, &name).await?;
        self.commit(tx, true).await
    }

    pub(in crate::storage::postgres) async fn export(
        &self,
    ) -> Result<Vec<PolicyObject>, StoreError> {
        Reads::<Postgres>::export(&self.pool).await
    }

    pub(in crate::storage::postgres) async fn import(
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
    pub(in crate::storage::postgres) async fn object_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(&queries::CLIENT_OBJECTS)
            .fetch_one(&self.pool)
            .await
            .classified()?;
        Ok(count.max(0) as u64)
    }

    /// A write transaction can be begun: PostgreSQL answers and is not read-only.
    pub(in crate::storage::postgres) async fn check_writable(&self) -> Result<(), StoreError> {
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
