//! The HTTP benchmark: `cargo bench --bench http [-- SECTION...]`.
//!
//! Drives the real release binary, started as its own process on an ephemeral port with a
//! database in a temp folder, through wrk over keep-alive connections. The writes, sustained
//! and reads sections run a second build beside it, the baseline ([`baseline`]: an earlier
//! commit's release binary), so that a regression shows in the same table. Each round of
//! store phases runs right after the ceilings' phases with the same number of clients
//! ([`ceiling`]: actix-web processes that store nothing), and every store throughput is given
//! as a ratio to both ceilings. The sustained section ends with the engine alone
//! ([`engine`]): the rows a create writes, straight through rusqlite.
//!
//! Sections (default: all): `writes`, `sustained`, `reads`, `list`, `startup`, `snapshots`,
//! `postgres` (creates and GETs on PostgreSQL, one instance and three, beside pgbench), and
//! `engine` (the engine alone, by itself, in batches of `BENCH_BATCH`, default 32).
//! Environment: `BENCH_BASELINE` (the baseline's commit, or `none`), `BENCH_SECONDS` (per
//! load phase, default 5), `BENCH_LARGE` (objects in the large list and start-up store,
//! default 1,000,000), `BENCH_SUSTAINED` (seconds of the sustained create phase and of the
//! engine alone, default 60), `BENCH_SNAPSHOT` (objects in the store the snapshots section
//! saves and restores, default 100,000), `BENCH_SERVER_LOG` (the server's log filter, default
//! `warn`; `warn,nsx_policy_store::storage::sqlite::writer=debug` prints one line per
//! committed batch: its size, and the time spent applying and committing it).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

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

use ceiling::Kind as CeilingKind;
use support::{BIN, TRACEFLOWS};

const CLIENT_COUNTS: [usize; 3] = [1, 16, 64];
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
            &ceiling::typed_object("read-0", body().to_string().as_bytes()).to_json(),
        )
        .unwrap();
        ceiling::serve(&listen, kind, stored);
        return;
    }
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wanted = |name: &str| sections.is_empty() || sections.iter().any(|s| s == name);
    let seconds = env_number("BENCH_SECONDS", 5) as u64;
    let large = env_number("BENCH_LARGE", 1_000_000);
    let phase = Duration::from_secs(seconds);

    // Every store of the load sections is kept until the benchmark ends: removing a gigabyte
    // (and discarding its blocks, on a disk mounted with `discard`) slows the flushes of
    // whatever runs next.
    let scratch = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let builds = Builds {
        baseline: (wanted("writes") || wanted("sustained") || wanted("reads"))
            .then(baseline::build)
            .flatten(),
    };
    println!("# nsx-policy-store HTTP benchmark\n");
    println!("{}\n", machine());
    println!(
        "Load phases of {seconds} s; keep-alive connections; Basic credentials on every request to the store."
    );
    match &builds.baseline {
        Some(baseline) => println!("Baseline: {} (`BENCH_BASELINE`).\n", baseline.commit),
        None => println!("No baseline.\n"),
    }

    // Each store phase runs right after the ceilings' phases with the same clients, so that a
    // ratio compares measurements taken moments apart on a machine whose speed drifts.
    let ceilings = (wanted("writes") || wanted("reads") || wanted("postgres")).then(|| {
        (
            Process::ceiling(CeilingKind::Typed),
            Process::ceiling(CeilingKind::Value),
        )
    });
    // The ceilings of one round, then each store phase of it: a row each, the store's with
    // its ratio to both ceilings (a GET's to the value ceiling's GET only).
    let round = |clients: usize, phases: Vec<(String, &Process, Operation)>| -> Vec<Stats> {
        let (typed, value) = ceilings.as_ref().expect("the ceilings run");
        let reading = phases
            .iter()
            .all(|(_, _, op)| matches!(op, Operation::Get(..)));
        let typed_rate = (!reading).then(|| {
            let stats = runtime.block_on(load(
                &typed.url,
                clients,
                phase,
                Operation::Create(Kind::Traceflow),
            ));
            stats.row(
                &format!("ceiling, typed PUT, {clients} clients"),
                [None, None],
                typed.peak_rss_mb(),
            );
            stats.rate()
        });
        let value_op = if reading {
            Operation::Get(Kind::Traceflow, 1000)
        } else {
            Operation::Create(Kind::Traceflow)
        };
        let value_stats = runtime.block_on(load(&value.url, clients, phase, value_op));
        let what = if reading { "GET" } else { "PUT" };
        value_stats.row(
            &format!("ceiling, value {what}, {clients} clients"),
            [None, None],
            value.peak_rss_mb(),
        );
        phases
            .into_iter()
            .map(|(label, server, op)| {
                let stats = runtime.block_on(load(&server.url, clients, phase, op));
                let ratios = [
                    typed_rate.map(|rate| stats.rate() / rate),
                    Some(stats.rate() / value_stats.rate()),
                ];
                let label = format!("{label}, {clients} clients");
                stats.row(&label, ratios, server.peak_rss_mb());
                stats
            })
            .collect()
    };

    if wanted("writes") {
        println!("## Durable creates (synchronous=FULL), each round after its ceilings\n");
        table_header();
        let servers = builds.start(scratch.path(), "writes");
        let mut written = Vec::new();
        let mut traceflows_at_64 = 0.0;
        for clients in CLIENT_COUNTS {
            let before: Vec<u64> = servers.iter().map(|(_, s)| s.bytes_written()).collect();
            let phases = servers
                .iter()
                .map(|(label, server)| {
                    (
                        format!("{label}: traceflow create"),
                        server,
                        Operation::Create(Kind::Traceflow),
                    )
                })
                .collect();
            let stats = round(clients, phases);
            for (((label, server), before), stats) in servers.iter().zip(before).zip(&stats) {
                let per_create = (server.bytes_written() - before) / stats.requests.max(1);
                written.push((label.clone(), clients, per_create));
            }
            traceflows_at_64 = stats.last().map_or(0.0, Stats::rate);
        }
        println!();
        println!(
            "Creates of catalog types on this build, 64 clients, right after the round above:\n"
        );
        println!("| phase | throughput | ratio to this build's traceflow creates | p50 | p99 | p99.9 | max | errors |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        let this = &servers.last().unwrap().1;
        for kind in [Kind::Segment, Kind::Group] {
            let stats = runtime.block_on(load(&this.url, 64, phase, Operation::Create(kind)));
            println!(
                "| {} create, 64 clients | {:.0}/s | {:.2} | {} |",
                kind.name(),
                stats.rate(),
                stats.rate() / traceflows_at_64,
                stats.latencies(),
            );
        }
        println!();
        println!(
            "Bytes each server passed to write calls per create (`wchar` of /proc/PID/io): WAL"
        );
        println!("frames, checkpoint copies into the database file, and the ~1 KB HTTP answer.\n");
        println!("| build | clients | written per create |");
        println!("|---|---:|---:|");
        for (label, clients, per_create) in written {
            println!(
                "| {label} | {clients} | {:.1} KB |",
                per_create as f64 / 1024.0
            );
        }
        println!();
    }

    if wanted("sustained") {
        let seconds = env_number("BENCH_SUSTAINED", 60) as u64;
        let duration = Duration::from_secs(seconds);
        println!(
            "## Sustained creates: {seconds} s at 64 connections, each build on a fresh store\n"
        );
        println!("| build | throughput | p50 | p99 | p99.9 | max | errors | commits | slowest commit | over 10 ms | over 20 ms | mean batch | largest WAL | peak RSS |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let dir = scratch.path();
        let mut this_build = None;
        for (n, (label, binary)) in builds.each().into_iter().enumerate() {
            let database = dir.join(format!("sustained-{n}.db"));
            let run = sustained_creates(&label, binary, &database, duration);
            this_build = Some(runtime.block_on(run));
        }
        let (rate, batch) = this_build.expect("this build ran");
        println!();
        let batch = batch.round().max(1.0) as usize;
        let engine = runtime.block_on(engine_alone(dir, batch, duration));
        println!(
            "The engine alone ({seconds} s, batches of {batch}, this build's mean batch above): {}. \
             This build's creates are {:.2} of it.\n",
            engine.summary(),
            rate / engine.rate(),
        );
    }

    if wanted("reads") {
        println!(
            "## GET by id (1,000 stored objects of each type), each round after its ceilings\n"
        );
        table_header();
        let servers = builds.start(scratch.path(), "reads");
        for (_, server) in &servers {
            runtime.block_on(create_objects(&server.url, Kind::Traceflow, 1000));
        }
        let this = &servers.last().unwrap().1;
        runtime.block_on(create_objects(&this.url, Kind::Segment, 1000));
        for clients in CLIENT_COUNTS {
            let mut phases: Vec<(String, &Process, Operation)> = servers
                .iter()
                .map(|(label, server)| {
                    (
                        format!("{label}: traceflow GET"),
                        server,
                        Operation::Get(Kind::Traceflow, 1000),
                    )
                })
                .collect();
            phases.push((
                "this build: Segment GET".into(),
                this,
                Operation::Get(Kind::Segment, 1000),
            ));
            round(clients, phases);
        }
        println!();
    }

    if wanted("engine") {
        let seconds = env_number("BENCH_SUSTAINED", 60) as u64;
        let batch = env_number("BENCH_BATCH", 32);
        let duration = Duration::from_secs(seconds);
        let engine = runtime.block_on(engine_alone(scratch.path(), batch, duration));
        println!(
            "The engine alone, {seconds} s in batches of {batch}: {}.\n",
            engine.summary()
        );
    }

    if wanted("postgres") {
        println!("## PostgreSQL: one instance and three on one database, each round after its ceilings\n");
        let cluster = postgres_cluster::Cluster::private();
        let url = cluster.new_database();
        table_header();
        let one = Process::store(&url);
        let mut creates = Vec::new();
        for clients in [16, 64] {
            let phases = vec![(
                "PUT create, 1 instance".to_owned(),
                &one,
                Operation::Create(Kind::Traceflow),
            )];
            creates.push((clients, round(clients, phases).remove(0)));
        }
        let segments = round(
            64,
            vec![(
                "Segment create, 1 instance".to_owned(),
                &one,
                Operation::Create(Kind::Segment),
            )],
        )
        .remove(0);
        runtime.block_on(create_objects(&one.url, Kind::Traceflow, 1000));
        runtime.block_on(create_objects(&one.url, Kind::Segment, 1000));
        let gets = round(
            64,
            vec![
                (
                    "traceflow GET, 1 instance".to_owned(),
                    &one,
                    Operation::Get(Kind::Traceflow, 1000),
                ),
                (
                    "Segment GET, 1 instance".to_owned(),
                    &one,
                    Operation::Get(Kind::Segment, 1000),
                ),
            ],
        );
        let three = [Process::store(&url), Process::store(&url)];
        let urls: Vec<String> = std::iter::once(one.url.clone())
            .chain(three.iter().map(|process| process.url.clone()))
            .collect();
        let (typed, _) = ceilings.as_ref().unwrap();
        let base = runtime.block_on(load(
            &typed.url,
            64,
            phase,
            Operation::Create(Kind::Traceflow),
        ));
        base.row(
            "ceiling, typed PUT, 64 clients",
            [None, None],
            typed.peak_rss_mb(),
        );
        let spread = runtime.block_on(load_spread(
            &urls,
            64,
            phase,
            Operation::Create(Kind::Traceflow),
        ));
        spread.row(
            "PUT create, 64 clients over 3 instances",
            [Some(spread.rate() / base.rate()), None],
            one.peak_rss_mb(),
        );
        println!();
        let pgbench_create = pgbench(&url, 64, phase, &pgbench_create_script());
        let pgbench_create_16 = pgbench(&url, 16, phase, &pgbench_create_script());
        let pgbench_get = pgbench(&url, 64, phase, PGBENCH_SELECT);
        println!(
            "PostgreSQL's own rate for the same work, `pgbench` in the same run (default settings,"
        );
        println!(
            "{} s each): a create's transaction (the object row and its revision row, the same",
            phase.as_secs()
        );
        println!("indexes), and the SELECT of a GET by path.\n");
        println!("| work | clients | pgbench | store | store / pgbench |");
        println!("|---|---:|---:|---:|---:|");
        let row = |work: &str, clients: usize, bench: f64, store: f64| {
            println!(
                "| {work} | {clients} | {bench:.0}/s | {store:.0}/s | {:.2} |",
                store / bench
            );
        };
        row(
            "traceflow create, 1 instance",
            16,
            pgbench_create_16,
            creates[0].1.rate(),
        );
        row(
            "traceflow create, 1 instance",
            64,
            pgbench_create,
            creates[1].1.rate(),
        );
        row(
            "Segment create, 1 instance",
            64,
            pgbench_create,
            segments.rate(),
        );
        row(
            "traceflow create, 3 instances",
            64,
            pgbench_create,
            spread.rate(),
        );
        row(
            "traceflow GET by path, 1 instance",
            64,
            pgbench_get,
            gets[0].rate(),
        );
        row(
            "Segment GET by path, 1 instance",
            64,
            pgbench_get,
            gets[1].rate(),
        );
        println!();
    }

    if wanted("snapshots") {
        let objects = env_number("BENCH_SNAPSHOT", 100_000);
        runtime.block_on(snapshots(objects));
    }

    if wanted("list") || wanted("startup") {
        let dir = tempfile::tempdir().unwrap();
        let mut sizes = vec![1_000, 10_000, large];
        sizes.dedup();
        if wanted("list") {
            println!("## List: one page of 1,000 (page_size=1000), 1 client\n");
            println!("| stored objects | sort | first page p50 | deep page p50 | p99 (all) | server peak RSS |");
            println!("|---:|---|---:|---:|---:|---:|");
        }
        for size in sizes
            .iter()
            .copied()
            .filter(|&s| wanted("list") || s == large)
        {
            let database = dir.path().join(format!("list-{size}.db"));
            let filled = Instant::now();
            fill(&database, size);
            let fill_time = filled.elapsed();
            if wanted("list") {
                let server = Process::store(&database);
                for sort_by in ["display_name", "_create_time"] {
                    let timing = runtime.block_on(list_pages(&server.url, sort_by, size));
                    println!(
                        "| {size} | {sort_by} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} MB |",
                        timing.first_p50,
                        timing.deep_p50,
                        timing.p99,
                        server.peak_rss_mb()
                    );
                }
            }
            if size == large && wanted("startup") {
                startup_table(&database, size, fill_time);
            }
        }
        println!();
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

// ---------------------------------------------------------------------------------------------
// Processes

/// A server process: the store, or the ceiling.
struct Process {
    child: Child,
    url: String,
    started_in: Duration,
}

impl Process {
    /// The store on `database` (a SQLite file or a PostgreSQL URL), its log at
    /// `BENCH_SERVER_LOG` (default `warn`).
    fn store(database: impl AsRef<std::ffi::OsStr>) -> Self {
        Self::store_of(Path::new(BIN), database)
    }

    /// The store of the build whose binary is `binary`.
    fn store_of(binary: &Path, database: impl AsRef<std::ffi::OsStr>) -> Self {
        let filter = std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into());
        Self::spawn(Self::store_command(binary, database, &filter))
    }

    /// A store whose log, at `filter`, goes to `log`.
    fn store_logging(
        binary: &Path,
        database: impl AsRef<std::ffi::OsStr>,
        filter: &str,
        log: &Path,
    ) -> Self {
        let mut command = Self::store_command(binary, database, filter);
        command.stderr(std::fs::File::create(log).unwrap());
        Self::spawn(command)
    }

    fn store_command(
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

    fn ceiling(kind: CeilingKind) -> Self {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .env(ceiling::LISTEN, "127.0.0.1:0")
            .env(ceiling::KIND, kind.name());
        Self::spawn(command)
    }

    fn spawn(mut command: Command) -> Self {
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
    fn proc_field(&self, file: &str, key: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/{file}", self.child.id())).ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Bytes the process has passed to write calls so far (`wchar` of /proc/PID/io).
    fn bytes_written(&self) -> u64 {
        self.proc_field("io", "wchar").unwrap_or(0)
    }

    /// The process's peak resident memory so far (VmHWM, in kB), in MB.
    fn peak_rss_mb(&self) -> f64 {
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

// ---------------------------------------------------------------------------------------------
// Load

/// The types the benchmark writes and reads: traceflows, and two of the catalog's.
#[derive(Clone, Copy)]
enum Kind {
    Traceflow,
    Segment,
    Group,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Traceflow => "traceflow",
            Kind::Segment => "Segment",
            Kind::Group => "Group",
        }
    }

    /// The collection's path.
    fn path(self) -> &'static str {
        match self {
            Kind::Traceflow => TRACEFLOWS,
            Kind::Segment => "/policy/api/v1/infra/segments",
            Kind::Group => "/policy/api/v1/infra/domains/default/groups",
        }
    }

    /// The collection's path as the store keeps it (below `/policy/api/v1`).
    fn stored_path(self) -> &'static str {
        self.path().trim_start_matches("/policy/api/v1")
    }

    /// What a create sends.
    fn body(self) -> Value {
        match self {
            Kind::Traceflow => body(),
            Kind::Segment => json!({"description": "a benchmark's segment",
                                    "subnets": [{"gateway_address": "10.1.1.1/24"}]}),
            Kind::Group => json!({"description": "a benchmark's group",
                                  "expression": [{"resource_type": "IPAddressExpression",
                                                  "ip_addresses": ["10.1.1.0/24"]}]}),
        }
    }
}

#[derive(Clone, Copy)]
enum Operation {
    /// PUT of a new id each time.
    Create(Kind),
    /// GET of a random id among `n` stored ones (`read-0` to `read-{n-1}`).
    Get(Kind, usize),
}

/// The seed's example request, as every traceflow create sends it.
fn body() -> Value {
    support::seed_request()
}

fn http_client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap()
}

/// Creates `read-0` to `read-{count-1}` of `kind`.
async fn create_objects(url: &str, kind: Kind, count: usize) {
    let client = http_client(16);
    let body = kind.body().to_string();
    for n in 0..count {
        let reply = client
            .put(format!("{url}{}/read-{n}", kind.path()))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
}

/// What wrk measured of one load phase (latencies in microseconds).
struct Stats {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    p50_us: u64,
    p99_us: u64,
    p999_us: u64,
    max_us: u64,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.requests.saturating_sub(self.errors) as f64 / self.elapsed.as_secs_f64()
    }

    /// p50, p99, p99.9 and max, and the errors, as table cells.
    fn latencies(&self) -> String {
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "{:.2} ms | {:.2} ms | {:.2} ms | {:.1} ms | {}",
            ms(self.p50_us),
            ms(self.p99_us),
            ms(self.p999_us),
            ms(self.max_us),
            self.errors,
        )
    }

    /// A row of [`table_header`]'s table: `ratios` to the typed and the value ceilings.
    fn row(&self, label: &str, ratios: [Option<f64>; 2], peak_rss_mb: f64) {
        let [typed, value] = ratios.map(|r| r.map_or("—".to_owned(), |r| format!("{r:.2}")));
        println!(
            "| {label} | {:.0}/s | {typed} | {value} | {} | {peak_rss_mb:.0} MB |",
            self.rate(),
            self.latencies(),
        );
    }
}

fn table_header() {
    println!(
        "| phase | throughput | ÷ typed ceiling | ÷ value ceiling | p50 | p99 | p99.9 | max | errors | server's peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The wrk script of one kind of load: every request authenticated with Basic credentials;
/// a create PUTs a new id each time (per thread, a counter), a GET reads a random one of
/// `stored` ids. With instances to `spread` over (their URLs), wrk's threads take them in
/// turn. `done` prints one line the benchmark reads.
fn wrk_script(op: Operation, spread: &[String]) -> tempfile::NamedTempFile {
    let credentials = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{USER}:{PASSWORD}"),
    );
    let request = match op {
        Operation::Create(kind) => format!(
            r#"wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{}]==]
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "{}/" .. prefix .. "-" .. id .. "-" .. counter)
end"#,
            kind.body(),
            kind.path(),
        ),
        Operation::Get(kind, stored) => format!(
            r#"request = function()
  return wrk.format("GET", "{}/read-" .. math.random(0, {stored} - 1))
end"#,
            kind.path(),
        ),
    };
    let instances: Vec<String> = spread
        .iter()
        .map(|url| {
            let authority = url.trim_start_matches("http://").trim_end_matches('/');
            let (host, port) = authority.rsplit_once(':').expect("a URL with a port");
            format!(r#"wrk.lookup("{host}", "{port}")[1]"#)
        })
        .collect();
    let instances = instances.join(", ");
    let script = format!(
        r#"wrk.headers["Authorization"] = "Basic {credentials}"
local threads = 0
local instances = {{ {instances} }}
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
  if #instances > 0 then
    thread.addr = instances[(threads - 1) % #instances + 1]
  end
end
init = function(args)
  prefix = args[1]
  math.randomseed(os.time() + (id or 0))
end
{request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
"#
    );
    let mut file = tempfile::Builder::new().suffix(".lua").tempfile().unwrap();
    std::io::Write::write_all(&mut file, script.as_bytes()).unwrap();
    file
}

/// `clients` keep-alive connections for `duration`, driven by wrk (two threads, one for a
/// single connection).
async fn load(url: &str, clients: usize, duration: Duration, op: Operation) -> Stats {
    run_wrk(url, &[], clients.min(2), clients, duration, op).await
}

/// `clients` connections spread over the instances at `urls` by one wrk, a thread for each
/// instance, so that the load generator is the same process as for one.
async fn load_spread(urls: &[String], clients: usize, duration: Duration, op: Operation) -> Stats {
    run_wrk(&urls[0], urls, urls.len(), clients, duration, op).await
}

async fn run_wrk(
    url: &str,
    spread: &[String],
    threads: usize,
    clients: usize,
    duration: Duration,
    op: Operation,
) -> Stats {
    let script = wrk_script(op, spread);
    let url = url.to_owned();
    let prefix = format!("{:x}", rand_seed());
    tokio::task::spawn_blocking(move || {
        let output = Command::new("wrk")
            .arg(format!("-t{threads}"))
            .arg(format!("-c{clients}"))
            .arg(format!("-d{}s", duration.as_secs()))
            .args(["--timeout", "10s", "-s"])
            .arg(script.path())
            .arg(&url)
            .args(["--", &prefix])
            .output()
            .expect("wrk, from Debian's package: apt-get install wrk");
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix("WRK "))
            .unwrap_or_else(|| panic!("wrk printed no summary: {text}"));
        let numbers: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();
        Stats {
            requests: numbers[0],
            elapsed: Duration::from_micros(numbers[1]),
            errors: numbers[2],
            p50_us: numbers[3],
            p99_us: numbers[4],
            p999_us: numbers[5],
            max_us: numbers[6],
        }
    })
    .await
    .unwrap()
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

// ---------------------------------------------------------------------------------------------
// Sustained creates

/// Creates at 64 connections for `duration` on a fresh store of `binary` at `database`, whose writer logs
/// every batch: a row of the latency tail, the slowest commits the writer saw, its mean batch
/// and the WAL file's largest size. Answers the rate and the mean batch.
async fn sustained_creates(
    label: &str,
    binary: &Path,
    database: &Path,
    duration: Duration,
) -> (f64, f64) {
    let log = database.with_extension("log");
    let server = Process::store_logging(
        binary,
        database,
        "warn,nsx_policy_store::storage::sqlite::writer=debug",
        &log,
    );
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut largest = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
                std::thread::sleep(Duration::from_millis(50));
            }
            largest
        })
    };
    let stats = load(
        &server.url,
        64,
        duration,
        Operation::Create(Kind::Traceflow),
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let largest_wal = sampler.join().unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    let field = |field: &str| -> Vec<u64> {
        log.lines()
            .filter_map(|line| line.split(field).nth(1))
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .collect()
    };
    let mut commits = field("commit_us=");
    commits.sort_unstable();
    let writes = field("writes=");
    let mean_batch = writes.iter().sum::<u64>() as f64 / writes.len().max(1) as f64;
    let over = |ms: u64| commits.iter().filter(|&&us| us > ms * 1000).count();
    println!(
        "| {label} | {:.0}/s | {} | {} | {:.1} ms | {} | {} | {mean_batch:.1} | {:.0} MB | {:.0} MB |",
        stats.rate(),
        stats.latencies(),
        commits.len(),
        commits.last().copied().unwrap_or(0) as f64 / 1000.0,
        over(10),
        over(20),
        largest_wal as f64 / f64::from(1 << 20),
        server.peak_rss_mb(),
    );
    (stats.rate(), mean_batch)
}

/// The engine alone ([`engine`]) on a new store in `dir`, copying the rows of a traceflow
/// this build created.
async fn engine_alone(dir: &Path, batch: usize, duration: Duration) -> engine::EngineRun {
    let database = dir.join("engine.db");
    {
        let server = Process::store(&database);
        create_objects(&server.url, Kind::Traceflow, 1).await;
    }
    let template = format!("{}/read-0", Kind::Traceflow.stored_path());
    tokio::task::spawn_blocking(move || {
        engine::engine_alone(&database, &template, "read-0", batch, duration)
    })
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Snapshots, export and import

/// Imports `objects` traceflows (each with its create revision and its run), then times
/// saving a snapshot of them, changing one object, restoring, exporting and resetting, each
/// once, through the HTTP API.
async fn snapshots(objects: usize) {
    let dir = tempfile::tempdir().unwrap();
    let server = Process::store(dir.path().join("snapshots.db"));
    let client = http_client(1);
    let body = body();
    let lines: String = (0..objects)
        .map(|n| {
            let mut line = body.clone();
            line["id"] = json!(format!("snap-{n:07}"));
            format!("{line}\n")
        })
        .collect();
    let timed = |method: reqwest::Method, path: &str, body: Option<String>| {
        let mut request = client
            .request(method, format!("{}{path}", server.url))
            .basic_auth(USER, Some(PASSWORD));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/x-ndjson")
                .body(body);
        }
        async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            let size = response.bytes().await.unwrap().len();
            (started.elapsed(), size)
        }
    };
    println!("## Snapshots, export and import: {objects} objects, 1 client\n");
    println!("| operation | time | answer |");
    println!("|---|---:|---:|");
    let row = |what: &str, (time, size): (Duration, usize)| {
        println!(
            "| {what} | {:.0} ms | {size} bytes |",
            time.as_secs_f64() * 1000.0
        );
    };
    let imported = timed(reqwest::Method::POST, "/store/v1/import", Some(lines)).await;
    row("import (objects, revisions, runs)", imported);
    // Each step once, in order; a step without a label changes the store between two rows.
    let one = format!("{TRACEFLOWS}/snap-0000001");
    let steps = [
        (
            Some("save a snapshot"),
            reqwest::Method::PUT,
            "/store/v1/snapshots/bench",
        ),
        (
            Some("save it again (replaces it)"),
            reqwest::Method::PUT,
            "/store/v1/snapshots/bench",
        ),
        (None, reqwest::Method::DELETE, one.as_str()),
        (
            Some("restore"),
            reqwest::Method::POST,
            "/store/v1/snapshots/bench?action=restore",
        ),
        (Some("export"), reqwest::Method::GET, "/store/v1/export"),
        (Some("reset"), reqwest::Method::POST, "/store/v1/reset"),
    ];
    for (label, method, path) in steps {
        let measured = timed(method, path, None).await;
        if let Some(label) = label {
            row(label, measured);
        }
    }
    println!("\nServer peak RSS: {:.0} MB\n", server.peak_rss_mb());
}

// ---------------------------------------------------------------------------------------------
// List and start-up

/// Fills a new database with `count` traceflows straight through SQL (the schema comes from
/// the binary's own migrations, run by starting it once).
fn fill(database: &Path, count: usize) {
    drop(Process::store(database));
    let mut conn = rusqlite::Connection::open(database).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                     config, revision, create_time, create_user, last_modified_time,
                     last_modified_user)
                 VALUES (?1, '/infra', ?2, 'AntreaTraceflowConfig', ?3, ?4, 0, ?5, 'admin', ?5,
                     'admin')",
            )
            .unwrap();
        let base = 1_700_000_000_000i64;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut config = body();
        for n in 0..count {
            rng = xorshift(rng);
            let id = format!("bench-{n:07}");
            config["display_name"] = json!(format!("flow {:016x}", rng));
            insert
                .execute(rusqlite::params![
                    format!("/infra/antrea/traceflows/{id}"),
                    id,
                    format!("00000000-0000-4000-8000-{n:012}"),
                    config.to_string(),
                    base + (n as i64) / 4,
                ])
                .unwrap();
        }
    }
    // The store's writer keeps the counts a list's result_count comes from.
    tx.execute_batch(
        "DELETE FROM policy_object_counts_by_parent;
         INSERT INTO policy_object_counts_by_parent (resource_type, parent_path, count)
             SELECT resource_type, parent_path, count(*) FROM policy_objects
             GROUP BY resource_type, parent_path;",
    )
    .unwrap();
    tx.commit().unwrap();
}

struct ListTiming {
    first_p50: f64,
    deep_p50: f64,
    p99: f64,
}

/// Times the first page and a page deep in the order (reached through a cursor), 20 times each.
async fn list_pages(url: &str, sort_by: &str, size: usize) -> ListTiming {
    let client = http_client(1);
    let get = |query: String| {
        let client = client.clone();
        let url = format!("{url}{TRACEFLOWS}?{query}");
        async move {
            let sent = Instant::now();
            let reply = client
                .get(url)
                .basic_auth(USER, Some(PASSWORD))
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200);
            let body: Value = reply.json().await.unwrap();
            (sent.elapsed(), body)
        }
    };
    // A cursor deep in the order: walk page by page to about the middle.
    let mut query = format!("sort_by={sort_by}&page_size=1000");
    for _ in 0..size / 2000 {
        let (_, body) = get(query.clone()).await;
        let cursor = body["cursor"].as_str().expect("more pages remain");
        query = format!("sort_by={sort_by}&page_size=1000&cursor={cursor}");
    }
    let mut first = Vec::new();
    let mut deep = Vec::new();
    for _ in 0..20 {
        let (t, body) = get(format!("sort_by={sort_by}&page_size=1000")).await;
        assert_eq!(body["results"].as_array().unwrap().len(), size.min(1000));
        first.push(t);
        let (t, _) = get(query.clone()).await;
        deep.push(t);
    }
    first.sort();
    deep.sort();
    let mut all: Vec<Duration> = first.iter().chain(&deep).copied().collect();
    all.sort();
    ListTiming {
        first_p50: ms(first[first.len() / 2]),
        deep_p50: ms(deep[deep.len() / 2]),
        p99: ms(all[all.len() * 99 / 100]),
    }
}

fn startup_table(database: &Path, size: usize, fill_time: Duration) {
    println!("\n## Start-up with {size} stored objects\n");
    println!("(filled through SQL in {:.1} s)\n", fill_time.as_secs_f64());
    println!("| run | process start to `listening on` | server peak RSS |");
    println!("|---|---:|---:|");
    for run in 1..=3 {
        let server = Process::store(database);
        println!(
            "| {run} | {:.0} ms | {:.0} MB |",
            ms(server.started_in),
            server.peak_rss_mb()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// What a create writes, as one pgbench transaction: the object row and its revision row,
/// with the seed's body, under a random new path.
fn pgbench_create_script() -> String {
    let config = body().to_string().replace('\'', "''");
    let path = "'/infra/antrea/traceflows/pgb-' || :client_id || '-' || :n";
    let id = "'pgb-' || :client_id || '-' || :n";
    format!(
        "\\set n random(1, 2000000000)
BEGIN;
INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id, config, revision, \
create_time, create_user, last_modified_time, last_modified_user) VALUES ({path}, '/infra', {id}, \
'AntreaTraceflowConfig', gen_random_uuid()::text, '{config}', 0, 1, 'admin', 1, 'admin') \
ON CONFLICT (path) DO NOTHING;
INSERT INTO policy_object_revisions (path, unique_id, revision, operation, object, change_time, \
change_user) VALUES ({path}, gen_random_uuid()::text, 0, 'create', '{config}', 1, 'admin');
END;
"
    )
}

/// The SELECT of a GET by id, on one of the 1,000 objects the section stored.
const PGBENCH_SELECT: &str = "\\set n random(0, 999)
SELECT id, config, unique_id, revision, create_time, create_user, last_modified_time, \
last_modified_user FROM policy_objects WHERE path = '/infra/antrea/traceflows/read-' || :n;
";

/// pgbench's transactions per second for `script` on `url`.
fn pgbench(url: &str, clients: usize, duration: Duration, script: &str) -> f64 {
    let mut file = tempfile::Builder::new().suffix(".sql").tempfile().unwrap();
    std::io::Write::write_all(&mut file, script.as_bytes()).unwrap();
    let output = Command::new("pgbench")
        .args(["-n", "-j", "2"])
        .arg(format!("-c{clients}"))
        .arg(format!("-T{}", duration.as_secs()))
        .arg("-f")
        .arg(file.path())
        .arg(url)
        .output()
        .expect("pgbench, from PostgreSQL's client package");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench: {text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("pgbench printed no tps: {text}"))
}
