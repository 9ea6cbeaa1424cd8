//! What the sections measure beyond load phases: sustained creates with the writer's own
//! numbers, the engine alone, snapshots, lists, start-up, and pgbench.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::engine;
use crate::load::{body, create_objects, http_client, load, ms, xorshift, Kind, Operation};
use crate::process::Process;
use crate::support::TRACEFLOWS;
use crate::{PASSWORD, USER};

// Sustained creates

/// Creates at 64 connections for `duration` on a fresh store of `binary` at `database`, whose writer logs
/// every batch: a row of the latency tail, the slowest commits the writer saw, its mean batch
/// and the WAL file's largest size. Answers the rate and the mean batch.
pub async fn sustained_creates(
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

/// The engine alone on a store of this build's that holds one traceflow, in batches of
/// `batch` for `duration`; without the index named `dropped`, where one is (to weigh what
/// the index costs each create).
pub async fn engine_alone(
    dir: &Path,
    batch: usize,
    duration: Duration,
    dropped: Option<&'static str>,
) -> engine::EngineRun {
    let database = dir.join(format!("engine-{}.db", dropped.unwrap_or("all-indexes")));
    {
        let server = Process::store(&database);
        create_objects(&server.url, Kind::Traceflow, 1).await;
    }
    if let Some(index) = dropped {
        rusqlite::Connection::open(&database)
            .unwrap()
            .execute_batch(&format!("DROP INDEX {index}"))
            .unwrap();
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
pub async fn snapshots(objects: usize) {
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
pub fn fill(database: &Path, count: usize) {
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
    commit_counted(tx);
}

/// Commits `tx`, a fill of a SQLite store straight through SQL, with the counts by type and
/// parent that the store's writer would have kept (a list's `result_count` comes from them).
pub fn commit_counted(tx: rusqlite::Transaction<'_>) {
    tx.execute_batch(
        "DELETE FROM policy_object_counts_by_parent;
         INSERT INTO policy_object_counts_by_parent (resource_type, parent_path, count)
             SELECT resource_type, parent_path, count(*) FROM policy_objects
             GROUP BY resource_type, parent_path;",
    )
    .unwrap();
    tx.commit().unwrap();
}

pub struct ListTiming {
    pub first_p50: f64,
    pub deep_p50: f64,
    pub p99: f64,
}

/// Times the first page and a page deep in the order (reached through a cursor), 20 times each.
pub async fn list_pages(url: &str, sort_by: &str, size: usize) -> ListTiming {
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

pub fn startup_table(database: &Path, size: usize, fill_time: Duration) {
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
pub fn pgbench_create_script() -> String {
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
pub const PGBENCH_SELECT: &str = "\\set n random(0, 999)
SELECT id, config, unique_id, revision, create_time, create_user, last_modified_time, \
last_modified_user FROM policy_objects WHERE path = '/infra/antrea/traceflows/read-' || :n;
";

/// pgbench's transactions per second for `script` on `url`.
pub fn pgbench(url: &str, clients: usize, duration: Duration, script: &str) -> f64 {
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
