//! The benchmark's sections, each over one [`Bench`]: what a section measures and the
//! tables it prints. `main` runs the ones asked for.

use std::time::{Duration, Instant};

use crate::ceiling::Kind as CeilingKind;
use crate::load::{create_objects, load, load_spread, table_header, Kind, Operation, Stats};
use crate::measures::{
    self, engine_alone, fill, list_pages, pgbench, pgbench_create_script, startup_table,
    sustained_creates, PGBENCH_SELECT,
};
use crate::process::Process;
use crate::{baseline, env_number, postgres_cluster, Builds, CLIENT_COUNTS};

/// What every section measures with: the builds, the ceilings, the runtime the load runs
/// on, and the length of a load phase.
pub struct Bench {
    sections: Vec<String>,
    pub runtime: tokio::runtime::Runtime,
    pub phase: Duration,
    /// Objects in the large list and start-up store.
    pub large: usize,
    /// Every store of the load sections is kept until the benchmark ends: removing a
    /// gigabyte (and discarding its blocks, on a disk mounted with `discard`) slows the
    /// flushes of whatever runs next.
    pub scratch: tempfile::TempDir,
    pub builds: Builds,
    /// The typed and the value ceilings, where a section compares with them.
    pub ceilings: Option<(Process, Process)>,
}

impl Bench {
    /// The sections named (every one where none is), with the settings of the environment.
    pub fn new(sections: Vec<String>) -> Self {
        let wanted = |name: &str| sections.is_empty() || sections.iter().any(|s| s == name);
        let builds = Builds {
            baseline: ["writes", "sustained", "reads", "postgres", "search"]
                .into_iter()
                .any(wanted)
                .then(baseline::build)
                .flatten(),
        };
        // Each store phase runs right after the ceilings' phases with the same clients, so
        // that a ratio compares measurements taken moments apart on a machine whose speed
        // drifts.
        let ceilings = (wanted("writes") || wanted("reads") || wanted("postgres")).then(|| {
            (
                Process::ceiling(CeilingKind::Typed),
                Process::ceiling(CeilingKind::Value),
            )
        });
        Self {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap(),
            phase: Duration::from_secs(env_number("BENCH_SECONDS", 5) as u64),
            large: env_number("BENCH_LARGE", 1_000_000),
            scratch: tempfile::tempdir().unwrap(),
            builds,
            ceilings,
            sections,
        }
    }

    /// Whether the section `name` runs.
    pub fn wanted(&self, name: &str) -> bool {
        self.sections.is_empty() || self.sections.iter().any(|s| s == name)
    }

    /// The ceilings of one round, then each store phase of it: a row each, the store's with
    /// its ratio to both ceilings (a GET's to the value ceiling's GET only).
    pub fn round(&self, clients: usize, phases: Vec<(String, &Process, Operation)>) -> Vec<Stats> {
        let (typed, value) = self.ceilings.as_ref().expect("the ceilings run");
        let reading = phases
            .iter()
            .all(|(_, _, op)| matches!(op, Operation::Get(..)));
        let typed_rate = (!reading).then(|| {
            let stats = self.runtime.block_on(load(
                &typed.url,
                clients,
                self.phase,
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
        let value_stats = self
            .runtime
            .block_on(load(&value.url, clients, self.phase, value_op));
        let what = if reading { "GET" } else { "PUT" };
        value_stats.row(
            &format!("ceiling, value {what}, {clients} clients"),
            [None, None],
            value.peak_rss_mb(),
        );
        phases
            .into_iter()
            .map(|(label, server, op)| {
                let stats = self
                    .runtime
                    .block_on(load(&server.url, clients, self.phase, op));
                let ratios = [
                    typed_rate.map(|rate| stats.rate() / rate),
                    Some(stats.rate() / value_stats.rate()),
                ];
                let label = format!("{label}, {clients} clients");
                stats.row(&label, ratios, server.peak_rss_mb());
                stats
            })
            .collect()
    }
}

/// Durable creates, each round after its ceilings; then catalog creates and the bytes written per create.
pub fn writes(bench: &Bench) {
    println!("## Durable creates (synchronous=FULL), each round after its ceilings\n");
    table_header();
    let servers = bench.builds.start(bench.scratch.path(), "writes");
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
        let stats = bench.round(clients, phases);
        for (((label, server), before), stats) in servers.iter().zip(before).zip(&stats) {
            let per_create = (server.bytes_written() - before) / stats.requests.max(1);
            written.push((label.clone(), clients, per_create));
        }
        traceflows_at_64 = stats.last().map_or(0.0, Stats::rate);
    }
    println!();
    println!("Creates of catalog types on this build, 64 clients, right after the round above:\n");
    println!("| phase | throughput | ratio to this build's traceflow creates | p50 | p99 | p99.9 | max | errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let this = &servers.last().unwrap().1;
    for kind in [Kind::Segment, Kind::Group] {
        let stats =
            bench
                .runtime
                .block_on(load(&this.url, 64, bench.phase, Operation::Create(kind)));
        println!(
            "| {} create, 64 clients | {:.0}/s | {:.2} | {} |",
            kind.name(),
            stats.rate(),
            stats.rate() / traceflows_at_64,
            stats.latencies(),
        );
    }
    println!();
    println!("Bytes each server passed to write calls per create (`wchar` of /proc/PID/io): WAL");
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

/// Sustained creates on a fresh store of each build, then the engine alone at this build's mean batch.
pub fn sustained(bench: &Bench) {
    let seconds = env_number("BENCH_SUSTAINED", 60) as u64;
    let duration = Duration::from_secs(seconds);
    println!("## Sustained creates: {seconds} s at 64 connections, each build on a fresh store\n");
    println!("| build | throughput | p50 | p99 | p99.9 | max | errors | commits | slowest commit | over 10 ms | over 20 ms | mean batch | largest WAL | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let dir = bench.scratch.path();
    let mut this_build = None;
    for (n, (label, binary)) in bench.builds.each().into_iter().enumerate() {
        let database = dir.join(format!("sustained-{n}.db"));
        let run = sustained_creates(&label, binary, &database, duration);
        this_build = Some(bench.runtime.block_on(run));
    }
    let (rate, batch) = this_build.expect("this build ran");
    println!();
    let batch = batch.round().max(1.0) as usize;
    let engine = bench
        .runtime
        .block_on(engine_alone(dir, batch, duration, None));
    println!(
        "The engine alone ({seconds} s, batches of {batch}, this build's mean batch above): {}. \
         This build's creates are {:.2} of it.\n",
        engine.summary(),
        rate / engine.rate(),
    );
    // What the index of a lookup by id alone costs a create, where nothing else differs.
    let index = "policy_objects_by_id_alone";
    let without = bench
        .runtime
        .block_on(engine_alone(dir, batch, duration, Some(index)));
    println!(
        "The engine alone without `{index}` (the same run otherwise): {}. With the index, \
         creates run at {:.3} of that rate.\n",
        without.summary(),
        engine.rate() / without.rate(),
    );
}

/// GETs by id, each round after its ceilings.
pub fn reads(bench: &Bench) {
    println!("## GET by id (1,000 stored objects of each type), each round after its ceilings\n");
    table_header();
    let servers = bench.builds.start(bench.scratch.path(), "reads");
    for (_, server) in &servers {
        bench
            .runtime
            .block_on(create_objects(&server.url, Kind::Traceflow, 1000));
    }
    let this = &servers.last().unwrap().1;
    bench
        .runtime
        .block_on(create_objects(&this.url, Kind::Segment, 1000));
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
        bench.round(clients, phases);
    }
    println!();
}

/// The engine alone, by itself.
pub fn engine(bench: &Bench) {
    let seconds = env_number("BENCH_SUSTAINED", 60) as u64;
    let batch = env_number("BENCH_BATCH", 32);
    let duration = Duration::from_secs(seconds);
    let engine = bench
        .runtime
        .block_on(engine_alone(bench.scratch.path(), batch, duration, None));
    println!(
        "The engine alone, {seconds} s in batches of {batch}: {}.\n",
        engine.summary()
    );
}

/// PostgreSQL: one instance and three on one database, each round after its ceilings, beside pgbench.
pub fn postgres(bench: &Bench) {
    println!(
        "## PostgreSQL: one instance and three on one database, each round after its ceilings\n"
    );
    let cluster = postgres_cluster::Cluster::private();
    let url = cluster.new_database();
    table_header();
    // The baseline, where there is one, on a database of its own, each of its phases right
    // before this build's.
    let baseline = bench.builds.baseline.as_ref().map(|baseline| {
        let label = format!("baseline {}", &baseline.commit[..7]);
        (
            label,
            Process::store_of(&baseline.binary, cluster.new_database()),
        )
    });
    let one = Process::store(&url);
    let both = |what: &str, op: Operation| -> Vec<(String, &Process, Operation)> {
        let mut phases: Vec<(String, &Process, Operation)> = baseline
            .iter()
            .map(|(label, server)| (format!("{label}: {what}"), server, op))
            .collect();
        phases.push((format!("this build: {what}"), &one, op));
        phases
    };
    let mut creates = Vec::new();
    for clients in [16, 64] {
        let traceflows = both("PUT create, 1 instance", Operation::Create(Kind::Traceflow));
        let mut stats = bench.round(clients, traceflows);
        creates.push((clients, stats.pop().expect("this build's phase")));
    }
    let segments = both(
        "Segment create, 1 instance",
        Operation::Create(Kind::Segment),
    );
    let segments = bench.round(64, segments).pop().expect("this build's phase");
    for server in baseline.iter().map(|(_, server)| server).chain([&one]) {
        for kind in [Kind::Traceflow, Kind::Segment] {
            bench
                .runtime
                .block_on(create_objects(&server.url, kind, 1000));
        }
    }
    let mut phases = both(
        "traceflow GET, 1 instance",
        Operation::Get(Kind::Traceflow, 1000),
    );
    phases.extend(both(
        "Segment GET, 1 instance",
        Operation::Get(Kind::Segment, 1000),
    ));
    let all = bench.round(64, phases);
    // This build's traceflow GET and Segment GET, as the table below reads them.
    let gets: Vec<&Stats> = match baseline {
        Some(_) => vec![&all[1], &all[3]],
        None => vec![&all[0], &all[1]],
    };
    let three = [Process::store(&url), Process::store(&url)];
    let urls: Vec<String> = std::iter::once(one.url.clone())
        .chain(three.iter().map(|process| process.url.clone()))
        .collect();
    let (typed, _) = bench.ceilings.as_ref().unwrap();
    let base = bench.runtime.block_on(load(
        &typed.url,
        64,
        bench.phase,
        Operation::Create(Kind::Traceflow),
    ));
    base.row(
        "ceiling, typed PUT, 64 clients",
        [None, None],
        typed.peak_rss_mb(),
    );
    let spread = bench.runtime.block_on(load_spread(
        &urls,
        64,
        bench.phase,
        Operation::Create(Kind::Traceflow),
    ));
    spread.row(
        "PUT create, 64 clients over 3 instances",
        [Some(spread.rate() / base.rate()), None],
        one.peak_rss_mb(),
    );
    println!();
    let pgbench_create = pgbench(&url, 64, bench.phase, &pgbench_create_script());
    let pgbench_create_16 = pgbench(&url, 16, bench.phase, &pgbench_create_script());
    let pgbench_get = pgbench(&url, 64, bench.phase, PGBENCH_SELECT);
    println!(
        "PostgreSQL's own rate for the same work, `pgbench` in the same run (default settings,"
    );
    println!(
        "{} s each): a create's transaction (the object row and its revision row, the same",
        bench.phase.as_secs()
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

/// Snapshots, export and import of a large store.
pub fn snapshots(bench: &Bench) {
    let objects = env_number("BENCH_SNAPSHOT", 100_000);
    bench.runtime.block_on(measures::snapshots(objects));
}

/// Pages of lists of growing stores, and the start-up of the largest.
pub fn list_and_startup(bench: &Bench) {
    let dir = tempfile::tempdir().unwrap();
    let mut sizes = vec![1_000, 10_000, bench.large];
    sizes.dedup();
    if bench.wanted("list") {
        println!("## List: one page of 1,000 (page_size=1000), 1 client\n");
        println!("| stored objects | sort | first page p50 | deep page p50 | p99 (all) | server peak RSS |");
        println!("|---:|---|---:|---:|---:|---:|");
    }
    for size in sizes
        .iter()
        .copied()
        .filter(|&s| bench.wanted("list") || s == bench.large)
    {
        let database = dir.path().join(format!("list-{size}.db"));
        let filled = Instant::now();
        fill(&database, size);
        let fill_time = filled.elapsed();
        if bench.wanted("list") {
            let server = Process::store(&database);
            for sort_by in ["display_name", "_create_time"] {
                let timing = bench
                    .runtime
                    .block_on(list_pages(&server.url, sort_by, size));
                println!(
                    "| {size} | {sort_by} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} MB |",
                    timing.first_p50,
                    timing.deep_p50,
                    timing.p99,
                    server.peak_rss_mb()
                );
            }
        }
        if size == bench.large && bench.wanted("startup") {
            startup_table(&database, size, fill_time);
        }
    }
    println!();
}
