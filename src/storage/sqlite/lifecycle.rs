//! Opening, checking and copying the database file: everything before the first query and
//! after the last.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand_core::{OsRng, RngCore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::checkpointer::{Checkpointer, WalPace};
use super::writer::{Writer, WriterContext};
use super::{migrations, SqliteStore};
use crate::configuration::{Durability, StorageSettings};
use crate::determinism::{DeterminismSettings, Stream};
use crate::domain::paging::CursorKey;
use crate::storage::cache::ObjectCache;
use crate::storage::queries::CLIENT_OBJECTS;
use crate::storage::side::StoreKinds;

/// Up to this size the database is checked at every start (`PRAGMA quick_check` reads the
/// whole file: milliseconds here, seconds with a million objects).
const ALWAYS_CHECKED_BYTES: u64 = 64 << 20;

impl SqliteStore {
    /// Opens (creating when missing) the database, checks it, brings its schema up to date,
    /// and starts the writer.
    ///
    /// Refuses a database another server has open, and one written by a newer version. The
    /// whole file is checked before anything is served after an unclean shutdown (a WAL left
    /// with frames in it, from which SQLite recovers the committed writes), and at every start
    /// while the file is small enough for the check to take no time.
    pub async fn open(
        path: &Path,
        settings: &StorageSettings,
        determinism: &DeterminismSettings,
        kinds: Arc<dyn StoreKinds>,
    ) -> anyhow::Result<Self> {
        let sqlite = &settings.sqlite;
        create_folder_of(path)?;
        let lock = lock(path)?;
        let unclean = wal_has_frames(path);
        migrations::migrate(path)?;
        if unclean {
            tracing::warn!(database = %path.display(), "the last shutdown was not clean: recovered the WAL, checking the database");
            check_integrity(path)?;
        } else if std::fs::metadata(path).is_ok_and(|file| file.len() <= ALWAYS_CHECKED_BYTES) {
            check_integrity(path)?;
        }
        let cursors = cursor_key(path, determinism)
            .with_context(|| format!("cannot read the keys of database {}", path.display()))?;

        let readers = SqlitePoolOptions::new()
            .max_connections(sqlite.read_connections.max(1))
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(path)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(match settings.durability {
                        Durability::Full => SqliteSynchronous::Full,
                        Durability::Normal => SqliteSynchronous::Normal,
                    })
                    .busy_timeout(Duration::from_millis(sqlite.busy_timeout_ms))
                    .pragma("query_only", "ON"),
            )
            .await
            .with_context(|| format!("cannot open database {}", path.display()))?;
        let cache = ObjectCache::new(sqlite.cache_objects);
        let open_error = || format!("cannot open database {}", path.display());
        let context = WriterContext {
            clock: determinism.clock(),
            unique_ids: determinism.rng(Stream::UniqueIds),
            kinds,
        };
        let pace = WalPace::new(sqlite.wal_checkpoint_pages);
        let writer = Writer::start(path, settings, context, cache.clone(), pace.clone())
            .with_context(open_error)?;
        writer
            .catch_up()
            .await
            .with_context(|| format!("cannot catch up database {}", path.display()))?
            .log();
        let checkpointer = Checkpointer::start(path, pace).with_context(open_error)?;
        Ok(Self {
            writer: Some(writer),
            checkpointer: Some(checkpointer),
            readers,
            cache,
            cursors,
            _lock: Some(lock),
        })
    }

    /// Opens an existing database for reading only: no migrations, nothing created, no
    /// writer, and connections that refuse writes. For inspecting a file, e.g. while a
    /// server runs.
    pub async fn open_read_only(path: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(path.is_file(), "no database at {}", path.display());
        let readers = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(path)
                    .pragma("query_only", "ON"),
            )
            .await
            .with_context(|| format!("cannot open database {}", path.display()))?;
        Ok(Self {
            writer: None,
            checkpointer: None,
            readers,
            cache: ObjectCache::new(0),
            // Nothing it answers is paged: a key of its own will do.
            cursors: random_cursor_key(),
            _lock: None,
        })
    }

    /// Copies the database, consistently, into a new file `target` (creating its folder)
    /// while servers keep writing to it (`VACUUM INTO`: one read transaction, no lock on
    /// writers). Returns how many objects clients wrote the copy holds (not the defaults).
    pub fn backup(database: &Path, target: &Path) -> anyhow::Result<i64> {
        anyhow::ensure!(database.is_file(), "no database at {}", database.display());
        anyhow::ensure!(!target.exists(), "{} exists already", target.display());
        create_folder_of(target)?;
        let conn = rusqlite::Connection::open_with_flags(
            database,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
        )
        .with_context(|| format!("cannot open database {}", database.display()))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let target_text = target
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", target.display()))?;
        conn.execute("VACUUM INTO ?1", [target_text])
            .with_context(|| format!("cannot write the backup {}", target.display()))?;
        let copy = rusqlite::Connection::open(target)
            .and_then(|copy| copy.query_row(&CLIENT_OBJECTS, [], |r| r.get(0)))
            .with_context(|| format!("cannot read the backup {}", target.display()))?;
        Ok(copy)
    }
}

/// Takes the database's lock file (`<database>.lock`), holding this process's id.
fn lock(database: &Path) -> anyhow::Result<File> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let mut file = File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    if let Err(err) = file.try_lock() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        anyhow::bail!(
            "database {} is in use by another nsx-policy-store (pid {}); stop it first ({err})",
            database.display(),
            holder.trim()
        );
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

/// Whether a WAL with frames in it was left behind: the last shutdown was not clean (a clean
/// one checkpoints and empties it).
fn wal_has_frames(database: &Path) -> bool {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    std::fs::metadata(name).is_ok_and(|wal| wal.len() > 0)
}

/// `PRAGMA quick_check`: refuses to serve a damaged database.
fn check_integrity(database: &Path) -> anyhow::Result<()> {
    let problems = rusqlite::Connection::open(database)
        .and_then(|conn| {
            let mut statement = conn.prepare("PRAGMA quick_check")?;
            let problems = statement.query_map([], |row| row.get(0))?;
            problems.collect::<Result<Vec<String>, _>>()
        })
        .with_context(|| format!("cannot check database {}", database.display()))?;
    if problems != ["ok"] {
        // On one line: SQLite's first problem starts with a line of its own
        // (`*** in database main ***`).
        let problems: Vec<String> = problems
            .iter()
            .map(|problem| problem.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        anyhow::bail!(
            "database {} is damaged ({}); restore it from a backup",
            database.display(),
            problems.join("; ")
        );
    }
    tracing::info!(database = %database.display(), "integrity check passed");
    Ok(())
}

/// Creates the folder `file` goes in, when missing.
fn create_folder_of(file: &Path) -> anyhow::Result<()> {
    match file
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        Some(folder) => std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create folder {}", folder.display())),
        None => Ok(()),
    }
}

/// The key cursors are sealed with, made at the first start (from the seed in deterministic
/// mode) and kept in the database, so that a cursor stays valid across restarts (and a
/// backup's copy keeps serving them).
fn cursor_key(database: &Path, determinism: &DeterminismSettings) -> rusqlite::Result<CursorKey> {
    let conn = rusqlite::Connection::open(database)?;
    let mut fresh = [0u8; 32];
    determinism.rng(Stream::CursorKey).fill_bytes(&mut fresh);
    conn.execute(
        "INSERT OR IGNORE INTO store_keys (name, value) VALUES ('cursor', ?1)",
        [&fresh[..]],
    )?;
    let key: [u8; 32] = conn.query_row(
        "SELECT value FROM store_keys WHERE name = 'cursor'",
        [],
        |row| row.get(0),
    )?;
    Ok(CursorKey::new(key))
}

fn random_cursor_key() -> CursorKey {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    CursorKey::new(key)
}
