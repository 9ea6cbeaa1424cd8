//! The SQLite schema, as refinery migrations embedded from `migrations/sqlite/`.

use std::path::Path;

use anyhow::Context;

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
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
    let has_history: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'refinery_schema_history'",
            [],
            |row| row.get(0),
        )
        .with_context(|| unreadable(path))?;
    if !has_history {
        return Ok(());
    }
    let applied: Option<i64> = conn
        .query_row(
            "SELECT max(version) FROM refinery_schema_history",
            [],
            |row| row.get(0),
        )
        .with_context(|| unreadable(path))?;
    if let Some(applied) = applied.filter(|&applied| applied > i64::from(known)) {
        anyhow::bail!(
            "database {} has schema version {applied}, newer than this binary knows ({known}); \
             use a newer nsx-policy-store",
            path.display()
        );
    }
    Ok(())
}

fn unreadable(path: &Path) -> String {
    format!("cannot read the schema of database {}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use refinery::Target;

    fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// A database created by the first schema keeps every object, count, revision and
    /// lookup when it is brought up to date.
    #[test]
    fn a_version_1_database_keeps_its_objects_through_every_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        embedded::migrations::runner()
            .set_target(Target::Version(1))
            .run(&mut conn)
            .unwrap();
        for n in 0..3 {
            conn.execute(
                "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                     config, revision, create_time, create_user, last_modified_time,
                     last_modified_user)
                 VALUES ('/infra/antrea/traceflows/t' || ?1, '/infra/antrea/traceflows',
                     't' || ?1, 'AntreaTraceflowConfig', 'u' || ?1,
                     json_object('display_name', 'flow ' || ?1), ?1, ?1, 'admin', ?1, 'admin')",
                [n],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO policy_object_revisions
                     (path, unique_id, revision, operation, object, change_time, change_user)
                 VALUES ('/infra/antrea/traceflows/t' || ?1, 'u' || ?1, 0, 'create', '{}', ?1,
                     'admin')",
                [n],
            )
            .unwrap();
        }
        drop(conn);

        migrate(&path).unwrap();

        let conn = rusqlite::Connection::open(&path).unwrap();
        let rows: Vec<(String, String, i64)> = conn
            .prepare("SELECT id, display_name, revision FROM antrea_traceflow_configs ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("t0".to_owned(), "flow 0".to_owned(), 0),
                ("t1".to_owned(), "flow 1".to_owned(), 1),
                ("t2".to_owned(), "flow 2".to_owned(), 2),
            ]
        );
        assert_eq!(count(&conn, "SELECT count FROM policy_object_counts"), 3);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM policy_object_revisions"),
            3
        );

        // The unique path holds on the rebuilt table. The counts are the writer's (V13): a
        // row deleted by hand is not counted until the store counts again.
        conn.execute("DELETE FROM policy_objects WHERE id = 't1'", [])
            .unwrap();
        assert_eq!(count(&conn, "SELECT count FROM policy_object_counts"), 3);
        let duplicate = conn.execute(
            "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                 config, revision, create_time, create_user, last_modified_time,
                 last_modified_user)
             SELECT path, parent_path, id, resource_type, 'other', config, 0, 0, 'admin', 0,
                 'admin'
             FROM policy_objects WHERE id = 't0'",
            [],
        );
        assert!(duplicate.is_err(), "a second row with the same path");
        assert_eq!(
            count(&conn, "SELECT max(rowid) FROM policy_objects"),
            3,
            "an ordinary table: rows are appended in rowid order"
        );
    }
}
