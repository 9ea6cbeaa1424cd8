//! The counts by type and parent (`policy_object_counts_by_parent`, a list's `result_count`),
//! kept by the writer: once per batch for the objects its writes created and deleted, and
//! counted again after a task that replaces the whole store.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::domain::{Applied, Operation};

/// Adds to the counts what `written` (every object a batch created or deleted) changed: one
/// statement per type and parent. (The row a statement would insert is checked before its
/// conflict is found: it takes no negative count.)
pub(super) fn add<'a>(
    conn: &Connection,
    written: impl Iterator<Item = &'a Applied>,
) -> rusqlite::Result<()> {
    let mut changes: HashMap<(&str, &str), i64> = HashMap::new();
    for applied in written {
        let change = match applied.operation {
            Operation::Create => 1,
            Operation::Delete => -1,
            Operation::Replace | Operation::Patch => continue,
        };
        let object = &applied.object;
        let key = (object.resource_type(), object.path.parent().unwrap_or(""));
        *changes.entry(key).or_default() += change;
    }
    let mut statement = conn.prepare_cached(
        "INSERT INTO policy_object_counts_by_parent (resource_type, parent_path, count)
         VALUES (?1, ?2, max(?3, 0))
         ON CONFLICT (resource_type, parent_path) DO UPDATE SET count = count + ?3",
    )?;
    for ((resource_type, parent), change) in changes {
        if change != 0 {
            statement.execute(rusqlite::params![resource_type, parent, change])?;
        }
    }
    Ok(())
}

/// Counts every stored object again.
pub(super) fn recount(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM policy_object_counts_by_parent;
         INSERT INTO policy_object_counts_by_parent (resource_type, parent_path, count)
             SELECT resource_type, parent_path, count(*) FROM policy_objects
             GROUP BY resource_type, parent_path;",
    )
}
