//! The search at a million objects (the `search` section): the ports of one segment, filled
//! straight through SQL into each build's own schema, on SQLite and on PostgreSQL. One
//! client times a page of each form clients send beside a list page of the same store, and
//! the delete of the segment, refused for its children; this build beside the baseline,
//! whose searches are timed once (each reads the whole store).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::load::http_client;
use crate::measures::commit_counted;
use crate::postgres_cluster::Cluster;
use crate::process::Process;
use crate::sections::Bench;
use crate::{PASSWORD, USER};

const SEGMENT: &str = "/infra/segments/big";
const API: &str = "/policy/api/v1";

/// What is timed: a label, the request's method and path below the API, and the status it
/// answers.
fn requests() -> Vec<(&'static str, &'static str, String, u16)> {
    let search = |query: &str| {
        let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        format!("/search/query?page_size=1000&query={encoded}")
    };
    vec![
        (
            "list page",
            "GET",
            format!("{SEGMENT}/ports?page_size=1000"),
            200,
        ),
        (
            "search by type",
            "GET",
            search("resource_type:SegmentPort"),
            200,
        ),
        (
            "display name prefix",
            "GET",
            search(r"display_name:port\-0012*"),
            200,
        ),
        (
            "path prefix",
            "GET",
            search(r"path:\/infra\/segments\/big\/ports\/port\-0013*"),
            200,
        ),
        (
            "tag scope and tag",
            "GET",
            search(r"tags.scope:tenant AND tags.tag:t\-0011"),
            200,
        ),
        (
            "type AND display name",
            "GET",
            search(r"resource_type:SegmentPort AND display_name:port\-0014*"),
            200,
        ),
        (
            "delete of the parent (refused)",
            "DELETE",
            SEGMENT.to_owned(),
            400,
        ),
    ]
}

pub fn search(bench: &Bench) {
    let size = bench.large;
    println!("## Search at {size} objects: one page of each form, 1 client\n");
    println!(
        "{size} segment ports of one segment, each with a display name, a path and a tag \
         (`tenant`, one of {} tags); every search form below matches 1,000 but the type's, \
         which matches every port. p50 of 10 requests (the baseline's searches: one request).\n",
        size / 1000
    );
    println!("| engine | build | request | p50 | ÷ list page | server peak RSS |");
    println!("|---|---|---|---:|---:|---:|");
    let builds = bench.builds.each();
    let cluster = Cluster::private();
    for engine in ["SQLite", "PostgreSQL"] {
        for (label, binary) in &builds {
            let database = match engine {
                "SQLite" => {
                    let file = bench.scratch.path().join(format!("search-{label}.db"));
                    file.to_string_lossy().into_owned()
                }
                _ => cluster.new_database(),
            };
            // The schema of this build's migrations, and the segment.
            {
                let server = Process::store_of(binary, &database);
                bench.runtime.block_on(put_segment(&server.url));
            }
            match engine {
                "SQLite" => fill_sqlite(Path::new(&database), size),
                _ => fill_postgres(&cluster, &database, size),
            }
            let server = Process::store_of(binary, &database);
            let repeats = if label.starts_with("baseline") { 1 } else { 10 };
            let mut list = f64::NAN;
            for (what, method, path, status) in requests() {
                let times = if what == "list page" { 10 } else { repeats };
                let p50 = bench
                    .runtime
                    .block_on(time(&server.url, method, &path, status, times));
                if what == "list page" {
                    list = p50;
                }
                let p50 = match p50.is_finite() {
                    true => format!("{p50:.1} ms | {:.2}", p50 / list),
                    false => format!("over {} s | —", PATIENCE.as_secs()),
                };
                println!(
                    "| {engine} | {label} | {what} | {p50} | {:.0} MB |",
                    server.peak_rss_mb()
                );
            }
            drop(server);
            // A statement the benchmark stopped waiting for would go on beside the next
            // build's.
            if engine == "PostgreSQL" {
                let name = database.rsplit('/').next().unwrap();
                cluster.psql(
                    "postgres",
                    &format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    ),
                );
            }
        }
    }
    println!();
}

async fn put_segment(url: &str) {
    let reply = http_client(1)
        .put(format!("{url}{API}{SEGMENT}"))
        .basic_auth(USER, Some(PASSWORD))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

/// How long the benchmark waits for one answer; one that takes longer is given as this.
const PATIENCE: Duration = Duration::from_secs(120);

/// The median of `times` requests, in milliseconds; infinite where one took longer than
/// [`PATIENCE`].
async fn time(url: &str, method: &str, path: &str, status: u16, times: usize) -> f64 {
    let client = http_client(1);
    let mut took: Vec<Duration> = Vec::new();
    for _ in 0..times {
        let sent = Instant::now();
        let reply = client
            .request(method.parse().unwrap(), format!("{url}{API}{path}"))
            .basic_auth(USER, Some(PASSWORD))
            .timeout(PATIENCE)
            .send()
            .await;
        let reply = match reply {
            Err(error) if error.is_timeout() => return f64::INFINITY,
            reply => reply.unwrap(),
        };
        assert_eq!(reply.status().as_u16(), status, "{method} {path}");
        let body: Value = reply.json().await.unwrap();
        took.push(sent.elapsed());
        if status == 200 {
            assert!(body["result_count"].as_u64() > Some(0), "{path}: {body}");
        }
    }
    took.sort();
    took[took.len() / 2].as_secs_f64() * 1000.0
}

/// Port `n`: its id (`port-0000042`), its tag (`t-0000`, a thousand ports each).
fn port(n: usize) -> (String, String) {
    (format!("port-{n:07}"), format!("t-{:04}", n / 1000))
}

fn fill_sqlite(database: &Path, size: usize) {
    let mut conn = rusqlite::Connection::open(database).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let tagged: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'policy_object_tags'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut object = tx
            .prepare(
                "INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id,
                     config, revision, create_time, create_user, last_modified_time,
                     last_modified_user)
                 VALUES (?1, ?2, ?3, 'SegmentPort', ?4, ?5, 0, 1700000000000, 'admin',
                     1700000000000, 'admin')",
            )
            .unwrap();
        let mut tag = tx
            .prepare("INSERT INTO policy_object_tags (path, scope, tag) VALUES (?1, 'tenant', ?2)")
            .ok()
            .filter(|_| tagged);
        for n in 0..size {
            let (id, tag_of) = port(n);
            let path = format!("{SEGMENT}/ports/{id}");
            let config = serde_json::json!({"display_name": id,
                "tags": [{"scope": "tenant", "tag": tag_of}]});
            object
                .execute(rusqlite::params![
                    path,
                    SEGMENT,
                    id,
                    format!("00000000-0000-4000-8000-{n:012}"),
                    config.to_string(),
                ])
                .unwrap();
            if let Some(tag) = tag.as_mut() {
                tag.execute([&path, &tag_of]).unwrap();
            }
        }
    }
    commit_counted(tx);
}

fn fill_postgres(cluster: &Cluster, url: &str, size: usize) {
    let database = url.rsplit('/').next().unwrap();
    let id = "'port-' || lpad(n::text, 7, '0')";
    let tag = "'t-' || lpad((n / 1000)::text, 4, '0')";
    // Without the counts' trigger, which would change one row a million times in one
    // transaction; counted once after, as the store counts after an import.
    cluster.psql(
        database,
        &format!(
            "SET session_replication_role = replica;
             INSERT INTO policy_objects (path, parent_path, id, resource_type, unique_id, config,
                 revision, create_time, create_user, last_modified_time, last_modified_user)
             SELECT '{SEGMENT}/ports/' || {id}, '{SEGMENT}', {id}, 'SegmentPort',
                 md5(n::text)::uuid::text,
                 json_build_object('display_name', {id}, 'tags',
                     json_build_array(json_build_object('scope', 'tenant', 'tag', {tag})))::text,
                 0, 1700000000000, 'admin', 1700000000000, 'admin'
             FROM generate_series(0, {last}) AS n;
             DELETE FROM policy_object_count_shards;
             INSERT INTO policy_object_count_shards (resource_type, parent_path, shard, count)
                 SELECT resource_type, parent_path, 0, count(*) FROM policy_objects
                 GROUP BY resource_type, parent_path;",
            last = size - 1
        ),
    );
    let tagged = cluster.psql(
        database,
        "SELECT count(*) FROM pg_tables WHERE tablename = 'policy_object_tags'",
    );
    if tagged.trim() == "1" {
        cluster.psql(
            database,
            &format!(
                "INSERT INTO policy_object_tags (path, scope, tag)
                 SELECT '{SEGMENT}/ports/' || {id}, 'tenant', {tag}
                 FROM generate_series(0, {last}) AS n;",
                last = size - 1
            ),
        );
    }
    cluster.psql(database, "VACUUM ANALYZE");
}
