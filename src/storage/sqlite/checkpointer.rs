//! Moves committed pages from the WAL into the database file, beside the writer.
//!
//! Left to itself, SQLite checkpoints inside whichever commit pushes the WAL past its limit,
//! so one request in a thousand waits for the whole copy and its fsync. Here a thread of its
//! own runs PASSIVE checkpoints (which never block the writer or readers) every 600 ms; once
//! a checkpoint has copied everything, the writer's next transaction starts the WAL over from
//! the beginning, so the file stays small while writes leave it time to. Under a steady
//! trickle of single writes the writer checkpoints itself between them; under sustained
//! heavier writes a checkpoint running beside the writer never catches up with it, and the
//! writer's own auto-checkpoint, with a high threshold, is the backstop that restarts the WAL
//! (`storage.wal_checkpoint_pages`; see `writer.rs`).

use std::path::Path;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is checkpointed while the store runs. Each pass competes with the
/// commits for the disk (its copies, and its flush of the database file), so passes are
/// spaced out; more often made creates slower without shortening their tail, and the cost
/// of less often is that the backstop's restarts of the WAL copy more. BENCHMARKS.md has the
/// intervals measured.
const INTERVAL: Duration = Duration::from_millis(600);

/// The running checkpointer; closing it runs one last checkpoint.
pub struct Checkpointer {
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("store-checkpointer".into())
            .spawn(move || loop {
                let last_round = !matches!(
                    stopped.recv_timeout(INTERVAL),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
                if let Err(err) = checkpoint(&conn) {
                    tracing::warn!(error = %err, "WAL checkpoint failed");
                }
                if last_round {
                    return;
                }
            })?;
        Ok(Self {
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn close(&self) {
        drop(self.stop.lock().expect("checkpointer lock").take());
        if let Some(thread) = self.thread.lock().expect("checkpointer lock").take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.close();
    }
}

/// One PASSIVE checkpoint on `conn`: copies what it can without waiting for anyone. Another
/// checkpoint already running makes it a no-op, not an error.
pub(super) fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}
