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
    let report = embedded::migrations::runner()
        .run(&mut conn)
        .with_context(|| format!("cannot migrate database {}", path.display()))?;
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied schema migration");
    }
    Ok(())
}
