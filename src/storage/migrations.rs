//! The schema, as refinery migrations embedded from `migrations/`.

use std::path::Path;

use anyhow::Context;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Brings the database at `path` to the current schema, creating it if needed. Running it
/// again on an up-to-date database changes nothing.
pub fn migrate(path: &Path) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(path)
        .with_context(|| format!("cannot open database {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .with_context(|| format!("cannot open database {}", path.display()))?;
    refuse_newer_schema(&conn, path)?;
    let report = embedded::migrations::runner()
        .run(&mut conn)
        .with_context(|| format!("cannot migrate database {}", path.display()))?;
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied schema migration");
    }
    Ok(())
}

/// A database migrated by a newer binary may hold what this one cannot read: refuse it.
fn refuse_newer_schema(conn: &rusqlite::Connection, path: &Path) -> anyhow::Result<()> {
    let known = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|migration| migration.version())
        .max()
        .unwrap_or(0);
    let has_history: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'refinery_schema_history'",
        [],
        |row| row.get(0),
    )?;
    if !has_history {
        return Ok(());
    }
    let applied: Option<i64> = conn.query_row(
        "SELECT max(version) FROM refinery_schema_history",
        [],
        |row| row.get(0),
    )?;
    if let Some(applied) = applied.filter(|&applied| applied > i64::from(known)) {
        anyhow::bail!(
            "database {} has schema version {applied}, newer than this binary knows ({known}); \
             use a newer nsx-policy-store",
            path.display()
        );
    }
    Ok(())
}
