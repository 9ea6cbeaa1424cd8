//! The server processes the benchmark drives: the store of a build, and the ceilings.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ceiling::{self, Kind as CeilingKind};
use crate::config_file;
use crate::support::BIN;

/// A server process: the store, or the ceiling.
pub struct Process {
    pub child: Child,
    pub url: String,
    pub started_in: Duration,
}

impl Process {
    /// The store on `database` (a SQLite file or a PostgreSQL URL), its log at
    /// `BENCH_SERVER_LOG` (default `warn`).
    pub fn store(database: impl AsRef<std::ffi::OsStr>) -> Self {
        Self::store_of(Path::new(BIN), database)
    }

    /// The store of the build whose binary is `binary`.
    pub fn store_of(binary: &Path, database: impl AsRef<std::ffi::OsStr>) -> Self {
        let filter = std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into());
        Self::spawn(Self::store_command(binary, database, &filter))
    }

    /// A store whose log, at `filter`, goes to `log`.
    pub fn store_logging(
        binary: &Path,
        database: impl AsRef<std::ffi::OsStr>,
        filter: &str,
        log: &Path,
    ) -> Self {
        let mut command = Self::store_command(binary, database, filter);
        command.stderr(std::fs::File::create(log).unwrap());
        Self::spawn(command)
    }

    pub fn store_command(
        binary: &Path,
        database: impl AsRef<std::ffi::OsStr>,
        filter: &str,
    ) -> Command {
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--database"])
            .arg(database)
            .arg("--config")
            .arg(config_file())
            .env("NSX_POLICY_STORE__LOG__LEVEL", filter);
        command
    }

    pub fn ceiling(kind: CeilingKind) -> Self {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .env(ceiling::LISTEN, "127.0.0.1:0")
            .env(ceiling::KIND, kind.name());
        Self::spawn(command)
    }

    pub fn spawn(mut command: Command) -> Self {
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .unwrap();
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().to_owned();
            }
        };
        let started_in = started.elapsed();
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            url,
            started_in,
        }
    }

    /// The number after `key:` in the process's `/proc/PID/<file>`.
    pub fn proc_field(&self, file: &str, key: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/{file}", self.child.id())).ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Bytes the process has passed to write calls so far (`wchar` of /proc/PID/io).
    pub fn bytes_written(&self) -> u64 {
        self.proc_field("io", "wchar").unwrap_or(0)
    }

    /// The process's peak resident memory so far (VmHWM, in kB), in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        self.proc_field("status", "VmHWM")
            .map_or(f64::NAN, |kb| kb as f64 / 1024.0)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
