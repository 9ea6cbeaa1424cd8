//! Moves committed pages from the WAL into the database file, beside the writer, and keeps
//! the WAL from growing without bound.
//!
//! Left to itself, SQLite checkpoints inside whichever commit pushes the WAL past its limit:
//! that commit waits for every page not yet copied and for the database file's flush, tens
//! to hundreds of milliseconds under sustained writes. Here a thread of its own runs PASSIVE
//! checkpoints (which never block the writer or readers) soon after commits, so the WAL's
//! pages reach the database file while writes go on.
//!
//! A checkpoint running beside a steady stream of commits never copies the last commit, and
//! the WAL only starts over from its beginning when a write transaction begins with every
//! frame copied. So once a pass finds the WAL past `storage.sqlite.wal_checkpoint_pages`, the
//! writer holds its next batch until a pass has copied everything committed (at most one
//! short pass, as the checkpointer has been keeping up), and that batch starts the WAL over.
//! [`WalPace`] is where the two threads meet.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The least time between two passes while commits keep coming. Each pass ends with a flush
/// of the database file: back to back, passes slowed a single client's writes by a quarter;
/// spaced wider, each leaves more to copy when the writer waits for one, and that wait is the
/// tail of every write waiting behind it (BENCHMARKS.md, "Write stalls").
const SPACING: Duration = Duration::from_millis(5);

/// The longest the writer waits for a pass that copies everything, should passes stop
/// answering (a disk that hangs); past it, writes go on and the WAL grows.
const LONGEST_HOLD: Duration = Duration::from_millis(500);

/// The pause after a checkpoint that failed, before the next one.
const AFTER_FAILURE: Duration = Duration::from_secs(1);

/// What the writer and the checkpointer know of each other.
pub(super) struct WalPace {
    state: Mutex<PaceState>,
    changed: Condvar,
    /// WAL pages past which the writer waits for the WAL to be copied.
    restart_pages: i64,
}

#[derive(Default)]
struct PaceState {
    /// Transactions the writer has committed.
    commits: u64,
    /// Every commit up to this one is copied into the database file.
    copied: u64,
    /// The commits of the last time the writer waited for the WAL to start over; a pass
    /// that began before it saw the WAL before it started over.
    restarted_at: u64,
    /// A pass found the WAL past `restart_pages`.
    restart_wanted: bool,
    /// A pass with nothing committed beside it could not copy everything (a reader keeps an
    /// older snapshot, or the checkpoint failed): holding the writer would not help until a
    /// pass completes again.
    blocked: bool,
    stopping: bool,
}

impl WalPace {
    pub(super) fn new(restart_pages: u32) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(PaceState::default()),
            changed: Condvar::new(),
            restart_pages: i64::from(restart_pages),
        })
    }

    fn state(&self) -> MutexGuard<'_, PaceState> {
        self.state.lock().expect("WAL pace lock")
    }

    /// The writer committed a transaction.
    pub(super) fn committed(&self) {
        self.state().commits += 1;
        self.changed.notify_all();
    }

    /// Called by the writer before each batch: when the WAL has grown past its bound, waits
    /// until everything committed is copied, so that this batch starts the WAL over.
    pub(super) fn hold_for_restart(&self) {
        let mut state = self.state();
        if !state.restart_wanted || state.blocked {
            return;
        }
        let held = Instant::now();
        let deadline = held + LONGEST_HOLD;
        while state.copied < state.commits && !state.blocked && !state.stopping {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::debug!("the WAL was not copied in time; writes go on");
                break;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .expect("WAL pace lock")
                .0;
        }
        state.restart_wanted = false;
        state.restarted_at = state.commits;
        tracing::debug!(
            hold_us = held.elapsed().as_micros() as u64,
            "held the writer"
        );
    }

    /// Called by the checkpointer: waits until there is something to copy, and returns the
    /// commits a pass started now covers (`None` once stopping).
    fn next_pass(&self, last_pass: Instant) -> Option<u64> {
        let mut state = self.state();
        loop {
            if state.stopping {
                return None;
            }
            let due = last_pass + SPACING;
            if state.commits > state.copied {
                let now = Instant::now();
                if state.restart_wanted || now >= due {
                    return Some(state.commits);
                }
                state = self
                    .changed
                    .wait_timeout(state, due - now)
                    .expect("WAL pace lock")
                    .0;
            } else {
                state = self.changed.wait(state).expect("WAL pace lock");
            }
        }
    }

    /// Called by the checkpointer after a pass that began when `covers` commits were made.
    fn passed(&self, covers: u64, pass: Pass) {
        let mut state = self.state();
        if pass.complete() {
            state.copied = state.copied.max(covers);
            state.blocked = false;
        } else if covers == state.commits {
            state.blocked = true;
        }
        if pass.wal_pages >= self.restart_pages && covers > state.restarted_at {
            state.restart_wanted = true;
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Called by the checkpointer after a pass that failed.
    fn failed(&self) {
        self.state().blocked = true;
        self.changed.notify_all();
    }

    fn stop(&self) {
        self.state().stopping = true;
        self.changed.notify_all();
    }
}

/// What one PASSIVE checkpoint reports.
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Another connection held a lock the checkpoint needed.
    busy: bool,
    /// Pages in the WAL when the pass began.
    wal_pages: i64,
    /// Of those, the pages copied into the database file.
    copied_pages: i64,
}

impl Pass {
    fn complete(&self) -> bool {
        !self.busy && self.copied_pages == self.wal_pages
    }
}

/// The running checkpointer; closing it runs one last checkpoint.
pub struct Checkpointer {
    pace: Arc<WalPace>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path, pace: Arc<WalPace>) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        let thread = std::thread::Builder::new()
            .name("store-checkpointer".into())
            .spawn({
                let pace = pace.clone();
                move || run(&conn, &pace)
            })?;
        Ok(Self {
            pace,
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn close(&self) {
        self.pace.stop();
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

fn run(conn: &Connection, pace: &WalPace) {
    let mut last_pass = Instant::now();
    while let Some(covers) = pace.next_pass(last_pass) {
        last_pass = Instant::now();
        match checkpoint(conn) {
            Ok(pass) => pace.passed(covers, pass),
            Err(err) => {
                tracing::warn!(error = %err, "WAL checkpoint failed");
                pace.failed();
                std::thread::sleep(AFTER_FAILURE);
            }
        }
    }
    if let Err(err) = checkpoint(conn) {
        tracing::warn!(error = %err, "WAL checkpoint failed");
    }
}

/// One PASSIVE checkpoint on `conn`: copies what it can without waiting for anyone.
fn checkpoint(conn: &Connection) -> rusqlite::Result<Pass> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(Pass {
            busy: row.get::<_, i64>(0)? != 0,
            wal_pages: row.get(1)?,
            copied_pages: row.get(2)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(wal_pages: i64, copied_pages: i64) -> Pass {
        Pass {
            busy: false,
            wal_pages,
            copied_pages,
        }
    }

    /// Runs `hold_for_restart` on a thread of its own; the receiver hears when it returns.
    fn hold(pace: &Arc<WalPace>) -> std::sync::mpsc::Receiver<()> {
        let (done, returned) = std::sync::mpsc::channel();
        let pace = Arc::clone(pace);
        std::thread::spawn(move || {
            pace.hold_for_restart();
            let _ = done.send(());
        });
        returned
    }

    /// A WAL of 100 pages at most, past it after one pass, and the writer holding for a
    /// restart after its next commit: the receiver hears when the hold returns.
    fn held_past_the_bound() -> (Arc<WalPace>, std::sync::mpsc::Receiver<()>) {
        let pace = WalPace::new(100);
        pace.committed();
        pace.passed(1, pass(150, 150));
        pace.committed();
        let returned = hold(&pace);
        (pace, returned)
    }

    #[test]
    fn the_writer_goes_on_at_once_while_the_wal_is_small() {
        let pace = WalPace::new(100);
        pace.committed();
        pace.passed(1, pass(99, 99));
        pace.committed();
        assert!(hold(&pace).recv_timeout(LONGEST_HOLD / 2).is_ok());
    }

    /// Past the bound, the writer waits for a pass that copies every commit, then goes on
    /// (its batch starts the WAL over), and does not wait again for the same WAL.
    #[test]
    fn past_the_bound_the_writer_waits_for_everything_to_be_copied() {
        let (pace, returned) = held_past_the_bound();
        assert!(returned.recv_timeout(Duration::from_millis(50)).is_err());
        pace.passed(2, pass(170, 170));
        assert!(returned.recv_timeout(LONGEST_HOLD / 2).is_ok());

        // A pass that began before the WAL started over still saw it large.
        pace.committed();
        pace.passed(2, pass(170, 170));
        assert!(hold(&pace).recv_timeout(LONGEST_HOLD / 2).is_ok());
    }

    /// A pass with nothing committed beside it that still could not copy everything means a
    /// reader holds an older snapshot: waiting longer would not help.
    #[test]
    fn the_writer_does_not_wait_while_a_reader_keeps_the_wal() {
        let (pace, returned) = held_past_the_bound();
        pace.passed(2, pass(170, 120));
        assert!(returned.recv_timeout(LONGEST_HOLD / 2).is_ok());

        pace.committed();
        pace.passed(3, pass(190, 120));
        assert!(hold(&pace).recv_timeout(LONGEST_HOLD / 2).is_ok());
    }

    /// The last pass is the one a closing store depends on: no hold outlives it.
    #[test]
    fn stopping_releases_the_writer() {
        let (pace, returned) = held_past_the_bound();
        assert!(returned.recv_timeout(Duration::from_millis(50)).is_err());
        pace.stop();
        assert!(returned.recv_timeout(LONGEST_HOLD / 2).is_ok());
    }

    /// The checkpointer on a real file: after commits, a pass copies them, and a transaction
    /// begun then starts the WAL over.
    #[test]
    fn a_pass_copies_what_was_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER);")
            .unwrap();
        let checkpointer = Connection::open(&path).unwrap();
        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let first = checkpoint(&checkpointer).unwrap();
        assert!(first.complete(), "{first:?}");
        assert!(first.wal_pages > 0);
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        let second = checkpoint(&checkpointer).unwrap();
        assert!(second.complete(), "{second:?}");
        assert!(
            second.wal_pages <= first.wal_pages,
            "{first:?} then {second:?}"
        );
    }
}
