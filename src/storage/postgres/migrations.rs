//! The PostgreSQL schema, as refinery migrations embedded from `migrations/postgres/`, run
//! under an advisory lock: of several instances starting at once on one database, one
//! migrates while the others wait, then find nothing left to do.

use anyhow::Context;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// The advisory lock the migrations run under (any constant the application owns).
const MIGRATION_LOCK: i64 = 0x6e73_785f_7073_0001;

/// Brings the database at `url` to the current schema. Running it again, or on several
/// instances at once, changes nothing more.
pub(super) async fn migrate(url: &str) -> anyhow::Result<()> {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("cannot connect to PostgreSQL to migrate its schema")?;
    let connection = tokio::spawn(connection);
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .context("cannot take the migration lock")?;
    let migrated = run(&mut client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    drop(client);
    let _ = connection.await;
    migrated?;
    unlocked.context("cannot release the migration lock")?;
    Ok(())
}

async fn run(client: &mut tokio_postgres::Client) -> anyhow::Result<()> {
    refuse_newer_schema(client).await?;
    let report = embedded::migrations::runner()
        .run_async(client)
        .await
        .context("cannot migrate the PostgreSQL schema")?;
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied schema migration");
    }
    Ok(())
}

/// A database migrated by a newer binary may hold what this one cannot read: refuse it.
async fn refuse_newer_schema(client: &tokio_postgres::Client) -> anyhow::Result<()> {
    let known = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|migration| i64::from(migration.version()))
        .max()
        .unwrap_or(0);
    let history = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await
        .context("cannot read the schema's version")?;
    if !history.get::<_, bool>(0) {
        return Ok(());
    }
    let applied: Option<i32> = client
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .await
        .context("cannot read the schema's version")?
        .get(0);
    if let Some(applied) = applied.map(i64::from).filter(|&applied| applied > known) {
        anyhow::bail!(
            "the PostgreSQL database has schema version {applied}, newer than this binary \
             knows ({known}); use a newer nsx-policy-store"
        );
    }
    Ok(())
}
