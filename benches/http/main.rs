//! The HTTP benchmark: `cargo bench --bench http [-- SECTION...]`.
//!
//! Drives the real release binary, started as its own process on an ephemeral port with a
//! database in a temp folder, through wrk over keep-alive connections. The writes, sustained,
//! reads, postgres and search sections run a second build beside it, the baseline ([`baseline`]: an
//! earlier commit's release binary), so that a regression shows in the same table. Each round of
//! store phases runs right after the ceilings' phases with the same number of clients
//! ([`ceiling`]: actix-web processes that store nothing), and every store throughput is given
//! as a ratio to both ceilings. The sustained section ends with the engine alone
//! ([`engine`]): the rows a create writes, straight through rusqlite.
//!
//! Sections (default: all): `writes`, `sustained`, `reads`, `list`, `startup`, `snapshots`,
//! `postgres` (creates and GETs on PostgreSQL, one instance and three, beside pgbench),
//! `search` (a page of each search form clients send at `BENCH_LARGE` objects, on both
//! engines: [`search`]), and `engine` (the engine alone, by itself, in batches of
//! `BENCH_BATCH`, default 32).
//! Environment: `BENCH_BASELINE` (the baseline's commit, or `none`), `BENCH_SECONDS` (per
//! load phase, default 5), `BENCH_LARGE` (objects in the large list and start-up store,
//! default 1,000,000), `BENCH_SUSTAINED` (seconds of the sustained create phase and of the
//! engine alone, default 60), `BENCH_SNAPSHOT` (objects in the store the snapshots section
//! saves and restores, default 100,000), `BENCH_SERVER_LOG` (the server's log filter, default
//! `warn`; `warn,nsx_policy_store::storage::sqlite::writer=debug` prints one line per
//! committed batch: its size, and the time spent applying and committing it).

use std::path::Path;

use serde_json::Value;

/// The integration tests' harness; the benchmark takes its constants and the seed's body.
#[path = "../../tests/api/support.rs"]
#[allow(dead_code)]
mod support;

/// The harness's PostgreSQL cluster, which it refers to.
#[path = "../../tests/api/postgres_cluster.rs"]
#[allow(dead_code)]
mod postgres_cluster;

mod baseline;
mod ceiling;
mod engine;
mod load;
mod measures;
mod process;
mod search;
mod sections;

use ceiling::Kind as CeilingKind;
use process::Process;
use sections::Bench;
use support::BIN;

const CLIENT_COUNTS: [usize; 3] = [1, 16, 64];

/// A section of the benchmark ([`sections`]).
type Section = fn(&Bench);
const USER: &str = "admin";
const PASSWORD: &str = "bench-password";

/// The server's configuration: one user with an argon2 hash, as in production, so every
/// request goes through the real credential check.
fn config_file() -> &'static Path {
    static CONFIG: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    let (_, path) = CONFIG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        let hash = nsx_policy_store::auth::hash_password(PASSWORD);
        let config = format!(
            "[[auth.users]]\nname = \"{USER}\"\nrole = \"enterprise_admin\"\npassword_hash = \"{hash}\"\n"
        );
        std::fs::write(&path, config).unwrap();
        (dir, path)
    });
    path
}

/// The two builds measured side by side: the baseline (an earlier commit's release binary)
/// and this one.
struct Builds {
    baseline: Option<baseline::Baseline>,
}

impl Builds {
    /// `(label, binary)` of each build, the baseline first.
    fn each(&self) -> Vec<(String, &Path)> {
        let mut builds = Vec::new();
        if let Some(baseline) = &self.baseline {
            builds.push((
                format!("baseline {}", &baseline.commit[..7]),
                baseline.binary.as_path(),
            ));
        }
        builds.push(("this build".to_owned(), Path::new(BIN)));
        builds
    }

    /// Each build's store, on a new database `<name>-<n>.db` in `dir`, with its label.
    fn start(&self, dir: &Path, name: &str) -> Vec<(String, Process)> {
        self.each()
            .into_iter()
            .enumerate()
            .map(|(n, (label, binary))| {
                let database = dir.join(format!("{name}-{n}.db"));
                (label, Process::store_of(binary, database))
            })
            .collect()
    }
}
fn main() {
    if let Ok(listen) = std::env::var(ceiling::LISTEN) {
        let kind = match std::env::var(ceiling::KIND).as_deref() {
            Ok("value") => CeilingKind::Value,
            _ => CeilingKind::Typed,
        };
        let stored: Value = serde_json::from_str(
            &ceiling::typed_object("read-0", load::body().to_string().as_bytes()).to_json(),
        )
        .unwrap();
        ceiling::serve(&listen, kind, stored);
        return;
    }
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let bench = Bench::new(sections);
    println!("# nsx-policy-store HTTP benchmark\n");
    println!("{}\n", machine());
    println!(
        "Load phases of {} s; keep-alive connections; Basic credentials on every request to the store.",
        bench.phase.as_secs()
    );
    match &bench.builds.baseline {
        Some(baseline) => println!("Baseline: {} (`BENCH_BASELINE`).\n", baseline.commit),
        None => println!("No baseline.\n"),
    }
    let sections: [(&str, Section); 8] = [
        ("writes", sections::writes),
        ("sustained", sections::sustained),
        ("reads", sections::reads),
        ("engine", sections::engine),
        ("postgres", sections::postgres),
        ("snapshots", sections::snapshots),
        ("list", sections::list_and_startup),
        ("search", search::search),
    ];
    for (name, section) in sections {
        if bench.wanted(name) || (name == "list" && bench.wanted("startup")) {
            section(&bench);
        }
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_kb = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    format!(
        "Machine: {model}, {cores} cores, {} GiB memory. Server and load generator share it.",
        memory_kb / (1024 * 1024)
    )
}
