//! The engine alone: what SQLite itself makes of the rows a create writes, with nothing of
//! the store around it.
//!
//! The rows are the store's own: a create made through the API is read back from every
//! table that keeps rows by `path` (the object, its history row, its run, whatever this
//! build writes), and copied under new paths, ids and `unique_id`s. One thread inserts them
//! straight through rusqlite, in batches of the size the store's writer forms, one
//! transaction per batch, with the writer's pragmas (`synchronous=FULL`, its page cache, no
//! checkpoint inside a commit) and a checkpointer beside it as the store's: a PASSIVE pass
//! at most every 5 ms after a commit, and, once the WAL is past its bound, the next batch
//! held until a pass has copied every commit (so that it starts the WAL over). Every index
//! and trigger of the schema applies, as it does to the store's writes; the one statement per
//! batch with which the store's writer keeps its counts is left out.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::types::Value as Sql;
use rusqlite::Connection;

/// The store's defaults: its writer's page cache (KiB, negative as SQLite takes it), the
/// least time between checkpoint passes, the WAL's bound (`wal_checkpoint_pages`, 4 KiB pages)
/// and the longest hold.
const CACHE_KIB: i64 = -32 * 1024;
const SPACING: Duration = Duration::from_millis(5);
const WAL_BOUND_PAGES: i64 = 8192;
const LONGEST_HOLD: Duration = Duration::from_millis(500);

/// What a run of the engine alone did.
pub struct EngineRun {
    pub creates: u64,
    pub elapsed: Duration,
    pub commits: usize,
    pub slowest_commit: Duration,
    pub commits_over_20ms: usize,
    pub largest_wal: u64,
}

impl EngineRun {
    pub fn rate(&self) -> f64 {
        self.creates as f64 / self.elapsed.as_secs_f64()
    }

    /// The rate, the commits, the slowest of them and the WAL's largest size, in words.
    pub fn summary(&self) -> String {
        format!(
            "{:.0}/s; {} commits, the slowest {:.1} ms, {} over 20 ms; largest WAL {:.0} MB",
            self.rate(),
            self.commits,
            self.slowest_commit.as_secs_f64() * 1000.0,
            self.commits_over_20ms,
            self.largest_wal as f64 / f64::from(1 << 20),
        )
    }
}

/// One table's rows of the template object, and the statement that inserts a copy.
struct TableRows {
    insert: String,
    columns: Vec<String>,
    rows: Vec<Vec<Sql>>,
}

/// Reads every row the store wrote for `template` (a path), table by table.
fn template_rows(conn: &Connection, template: &str) -> Vec<TableRows> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'store_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut found = Vec::new();
    for table in tables {
        // Stored columns only: generated ones are computed, an INTEGER PRIMARY KEY is the
        // rowid the insert assigns.
        let columns: Vec<String> = conn
            .prepare(&format!("PRAGMA table_xinfo({table})"))
            .unwrap()
            .query_map([], |row| {
                let name: String = row.get(1)?;
                let kind: String = row.get(2)?;
                let primary: i64 = row.get(5)?;
                let hidden: i64 = row.get(6)?;
                Ok((name, hidden == 0 && !(primary == 1 && kind == "INTEGER")))
            })
            .unwrap()
            .filter_map(|column| column.ok().filter(|(_, stored)| *stored).map(|(n, _)| n))
            .collect();
        if !columns.iter().any(|column| column == "path") {
            continue;
        }
        let list = columns.join(", ");
        let rows: Vec<Vec<Sql>> = conn
            .prepare(&format!("SELECT {list} FROM {table} WHERE path = ?1"))
            .unwrap()
            .query_map([template], |row| {
                (0..columns.len()).map(|i| row.get(i)).collect()
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        if rows.is_empty() {
            continue;
        }
        let marks: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
        found.push(TableRows {
            insert: format!("INSERT INTO {table} ({list}) VALUES ({})", marks.join(", ")),
            columns,
            rows,
        });
    }
    found
}

#[derive(Default)]
struct Pace {
    commits: u64,
    /// Every commit up to this one is copied into the database file.
    copied: u64,
    /// Pages in the WAL at the last pass.
    wal_pages: i64,
    stopping: bool,
}

/// Inserts copies of the rows of `template` (a path in `database`, whose id is `template_id`)
/// in batches of `batch` for `duration`.
pub fn engine_alone(
    database: &Path,
    template: &str,
    template_id: &str,
    batch: usize,
    duration: Duration,
) -> EngineRun {
    let mut conn = Connection::open(database).unwrap();
    let tables = template_rows(&conn, template);
    assert!(!tables.is_empty(), "the store wrote no rows for {template}");
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.pragma_update(None, "temp_store", "MEMORY").unwrap();
    conn.pragma_update(None, "cache_size", CACHE_KIB).unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();

    let pace = Arc::new((Mutex::new(Pace::default()), Condvar::new()));
    let checkpointer = {
        let pace = Arc::clone(&pace);
        let conn = Connection::open(database).unwrap();
        std::thread::spawn(move || checkpoints(&conn, &pace))
    };

    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    let started = Instant::now();
    let mut commit_times = Vec::new();
    let mut largest_wal = 0;
    let mut creates = 0u64;
    while started.elapsed() < duration {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        for _ in 0..batch {
            creates += 1;
            let id = format!("engine-{creates}");
            let path = template.replace(template_id, &id);
            let unique_id = format!("00000000-0000-4000-8000-{creates:012}");
            for table in &tables {
                let mut insert = tx.prepare_cached(&table.insert).unwrap();
                for row in &table.rows {
                    let values = row
                        .iter()
                        .zip(&table.columns)
                        .map(|(value, column)| match column.as_str() {
                            "path" => Sql::Text(path.clone()),
                            "id" => Sql::Text(id.clone()),
                            "unique_id" => Sql::Text(unique_id.clone()),
                            _ => value.clone(),
                        });
                    insert.execute(rusqlite::params_from_iter(values)).unwrap();
                }
            }
        }
        let commit = Instant::now();
        tx.commit().unwrap();
        commit_times.push(commit.elapsed());
        let (state, changed) = &*pace;
        let mut state = state.lock().unwrap();
        state.commits += 1;
        changed.notify_all();
        largest_wal = largest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        if state.wal_pages > WAL_BOUND_PAGES {
            let target = state.commits;
            let (mut state, _) = changed
                .wait_timeout_while(state, LONGEST_HOLD, |s| s.copied < target)
                .unwrap();
            // The next batch starts the WAL over.
            state.wal_pages = 0;
        }
    }
    let elapsed = started.elapsed();
    {
        let (state, changed) = &*pace;
        state.lock().unwrap().stopping = true;
        changed.notify_all();
    }
    checkpointer.join().unwrap();
    let over = commit_times
        .iter()
        .filter(|t| **t > Duration::from_millis(20))
        .count();
    EngineRun {
        creates,
        elapsed,
        commits: commit_times.len(),
        slowest_commit: commit_times.iter().max().copied().unwrap_or_default(),
        commits_over_20ms: over,
        largest_wal,
    }
}

/// The checkpointer: a PASSIVE pass at most every `SPACING` after a commit.
fn checkpoints(conn: &Connection, pace: &(Mutex<Pace>, Condvar)) {
    let (state, changed) = pace;
    let mut seen = 0;
    let mut last_pass = Instant::now() - SPACING;
    loop {
        let target = {
            let state = changed
                .wait_while(state.lock().unwrap(), |s| s.commits == seen && !s.stopping)
                .unwrap();
            if state.stopping {
                return;
            }
            state.commits
        };
        std::thread::sleep(SPACING.saturating_sub(last_pass.elapsed()));
        last_pass = Instant::now();
        let (log, copied): (i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(1)?, row.get(2)?))
            })
            .unwrap();
        seen = target;
        let mut state = state.lock().unwrap();
        state.wal_pages = log;
        if log == copied {
            state.copied = state.copied.max(target);
            changed.notify_all();
        }
    }
}
