//! Nothing acknowledged is ever lost: kills, shutdowns, storage faults, start-up checks and
//! backups, through the real binary.

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    client_fields, minimal, Client, Dice, Server, SpawnServer, Workspace, ADMIN, BIN, TRACEFLOWS,
};
use serde_json::{json, Value};

/// A write the server acknowledged with 200.
#[derive(Debug, Clone)]
struct Acknowledged {
    token: String,
    /// The object a PUT answered; `None` for a PATCH (whose answer is empty).
    answered: Option<Value>,
}

/// One client writing until its server goes away: creates, replaces, patches and deletes
/// over a few ids, each PUT and PATCH carrying a unique token in `description`.
async fn write_until_refused(client: Client, name: String, seed: u64) -> Vec<Acknowledged> {
    let mut dice = Dice(seed | 1);
    let mut acknowledged = Vec::new();
    for n in 0.. {
        let id = format!("obj-{}", dice.roll(12));
        let token = format!("{name}-{n}");
        let mut body = minimal();
        body["description"] = json!(token);
        let request = match dice.roll(4) {
            0 => client
                .request("PUT", &format!("{TRACEFLOWS}/{id}"))
                .json(&body),
            1 => {
                let Ok(current) = client
                    .request("GET", &format!("{TRACEFLOWS}/{id}"))
                    .send()
                    .await
                else {
                    break;
                };
                let current: Value = current.json().await.unwrap_or(Value::Null);
                body["_revision"] = current.get("_revision").cloned().unwrap_or(json!(0));
                client
                    .request("PUT", &format!("{TRACEFLOWS}/{id}"))
                    .json(&body)
            }
            2 => client
                .request("PATCH", &format!("{TRACEFLOWS}/{id}"))
                .json(&body),
            _ => client.request("DELETE", &format!("{TRACEFLOWS}/{id}")),
        };
        let method = request
            .try_clone()
            .unwrap()
            .build()
            .unwrap()
            .method()
            .clone();
        let Ok(response) = request.send().await else {
            break; // the server is gone
        };
        let status = response.status().as_u16();
        let Ok(text) = response.text().await else {
            break;
        };
        assert!(status < 500, "{method} {id}: {status} {text}");
        if status == 200 && method != "DELETE" {
            acknowledged.push(Acknowledged {
                token,
                answered: (method == "PUT").then(|| serde_json::from_str(&text).unwrap()),
            });
        }
    }
    acknowledged
}

/// Runs `clients` writers against `server` until `stop` resolves; returns what they got
/// acknowledged.
async fn load_until<F: std::future::Future<Output = ()>>(
    server: &Server,
    clients: usize,
    label: &str,
    stop: F,
) -> Vec<Acknowledged> {
    let mut writers = tokio::task::JoinSet::new();
    for c in 0..clients {
        let client = server.client.clone();
        let name = format!("{label}-c{c}");
        let seed = 0x9E37_79B9_7F4A_7C15 ^ ((c as u64 + 1) << 32) ^ label.len() as u64;
        writers.spawn(write_until_refused(client, name, seed));
    }
    stop.await;
    let mut acknowledged = Vec::new();
    while let Some(done) = writers.join_next().await {
        acknowledged.extend(done.unwrap());
    }
    acknowledged
}

/// Checks the database file directly: every acknowledged write is in history with exactly
/// the content and revision that was answered, objects and history agree (no object without
/// its history row, no history row whose object is missing), and SQLite finds no damage.
fn verify(workspace: &Workspace, acknowledged: &[Acknowledged]) {
    let conn = workspace.sql();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    let mut statement = conn
        .prepare("SELECT path, operation, object FROM policy_object_revisions ORDER BY seq")
        .unwrap();
    let history: Vec<(String, String, Value)> = statement
        .query_map([], |r| {
            let object: String = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&object).unwrap()))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let by_token: HashMap<&str, &Value> = history
        .iter()
        .filter(|(_, operation, _)| operation != "delete")
        .filter_map(|(_, _, object)| Some((object["description"].as_str()?, object)))
        .collect();
    for write in acknowledged {
        let committed = by_token
            .get(write.token.as_str())
            .unwrap_or_else(|| panic!("acknowledged write {} was lost", write.token));
        if let Some(answered) = &write.answered {
            assert_eq!(
                *committed, answered,
                "{} differs from what was answered",
                write.token
            );
        }
    }

    let mut latest: HashMap<&str, &(String, String, Value)> = HashMap::new();
    for row in &history {
        latest.insert(row.0.as_str(), row);
    }
    let mut statement = conn
        .prepare("SELECT path, revision, unique_id, config FROM policy_objects")
        .unwrap();
    let objects: HashMap<String, (i64, String, Value)> = statement
        .query_map([], |r| {
            let config: String = r.get(3)?;
            Ok((
                r.get(0)?,
                (r.get(1)?, r.get(2)?, serde_json::from_str(&config).unwrap()),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (path, (_, operation, object)) in &latest {
        match objects.get(*path) {
            None => assert_eq!(operation, "delete", "{path}: history without its object"),
            Some((revision, unique_id, config)) => {
                assert_ne!(operation, "delete", "{path}: deleted but still stored");
                assert_eq!(object["_revision"], *revision, "{path}");
                assert_eq!(object["unique_id"], *unique_id, "{path}");
                assert_eq!(
                    &client_fields(object),
                    config.as_object().unwrap(),
                    "{path}"
                );
            }
        }
    }
    for path in objects.keys() {
        assert!(
            latest.contains_key(path.as_str()),
            "{path}: object without history"
        );
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    const KILLS: usize = 24;
    let workspace = Workspace::new();
    let mut dice = Dice(0xC0FFEE);
    let mut acknowledged = Vec::new();
    let mut server = workspace.start();
    for round in 0..KILLS {
        let lifetime = Duration::from_millis(20 + dice.roll(300));
        let killed = async {
            tokio::time::sleep(lifetime).await;
        };
        let label = format!("r{round}");
        let mut got = load_until(&server, 8, &label, async {
            killed.await;
            // SIGKILL: no shutdown, no flush, no checkpoint.
            Command::new("kill")
                .args(["-KILL", &server.pid().to_string()])
                .status()
                .unwrap();
        })
        .await;
        acknowledged.append(&mut got);
        server.kill();
        server = workspace.start();
        verify(&workspace, &acknowledged);
    }
    println!(
        "crash test: {KILLS} SIGKILLs survived, {} acknowledged writes verified",
        acknowledged.len()
    );
    assert!(acknowledged.len() > KILLS * 10, "the load was real");
}

/// Every write that was committed was also answered: no client lost the answer of a write
/// that landed (the tokens of every PUT and PATCH in history were acknowledged).
fn every_committed_write_was_answered(workspace: &Workspace, acknowledged: &[Acknowledged]) {
    let answered: HashSet<&str> = acknowledged.iter().map(|w| w.token.as_str()).collect();
    let conn = workspace.sql();
    let mut statement = conn
        .prepare(
            "SELECT object ->> '$.description' FROM policy_object_revisions
             WHERE operation != 'delete'",
        )
        .unwrap();
    let committed: Vec<String> = statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for token in &committed {
        assert!(
            answered.contains(token.as_str()),
            "{token} was committed, but its client got no answer"
        );
    }
}

/// SIGTERM, or SIGINT as Ctrl-C sends it, under eight writers: the server stops accepting,
/// answers what is in flight, commits, checkpoints, and exits 0.
async fn stops_gracefully_under_load(signal: &str) {
    let workspace = Workspace::new();
    workspace.configure("\n[server]\nshutdown_grace_secs = 5\n");
    let server = workspace
        .command()
        .env("NSX_POLICY_STORE__LOG__LEVEL", "info")
        .spawn_server();
    let pid = server.pid().to_string();
    let acknowledged = load_until(&server, 8, signal, async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Command::new("kill").args([signal, &pid]).status().unwrap();
    })
    .await;
    let status = server.wait();
    assert!(status.success(), "{signal}: exit status {status}");

    let mut wal = workspace.database().into_os_string();
    wal.push("-wal");
    let wal_size = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(wal_size, 0, "the WAL was checkpointed into the database");
    verify(&workspace, &acknowledged);
    every_committed_write_was_answered(&workspace, &acknowledged);
    assert!(!acknowledged.is_empty());
    assert!(workspace.log().contains("closing the store"));
    // The lock is released: the next start works and serves everything.
    let server = workspace.start();
    assert_eq!(server.client.get_path(TRACEFLOWS).await.status, 200);
}

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_writes_and_exits_cleanly() {
    stops_gracefully_under_load("-TERM").await;
}

#[tokio::test]
async fn ctrl_c_under_load_finishes_in_flight_writes_and_exits_cleanly() {
    stops_gracefully_under_load("-INT").await;
}

/// A PUT whose body is still arriving when the signal comes is answered, not cut off.
#[tokio::test]
async fn a_slow_write_in_flight_at_ctrl_c_is_answered() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let address = server.url.trim_start_matches("http://").to_owned();
    let pid = server.pid().to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let body = minimal().to_string();
        let (first, rest) = body.split_at(body.len() / 2);
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let credentials = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", ADMIN.0, ADMIN.1),
        );
        write!(
            stream,
            "PUT {TRACEFLOWS}/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {credentials}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
            body.len()
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        stream.write_all(rest.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    assert!(server.wait().success());
    let server = workspace.start();
    assert_eq!(server.client.get("slow").await.status, 200);
}

/// Writes until one answers 503; checks its body and that reads still work.
async fn write_until_unavailable(client: &Client) {
    let mut body = minimal();
    body["description"] = json!("x".repeat(1000));
    for n in 0..5000 {
        let reply = client.put(&format!("fill-{n}"), &body).await;
        if reply.status == 503 {
            let message = reply.api_error(503, 99);
            assert!(
                !message.contains("SQLITE") && !message.contains("/tmp"),
                "{message}"
            );
            assert_eq!(reply.body["httpStatus"], "SERVICE_UNAVAILABLE");
            assert_eq!(client.get("before").await.status, 200, "GET still works");
            assert_eq!(
                client.get_path(TRACEFLOWS).await.status,
                200,
                "lists still work"
            );
            return;
        }
        assert_eq!(reply.status, 200, "{reply:#?}");
    }
    panic!("the store never became unavailable");
}

/// Retries a write until it succeeds again on its own (the cause is gone).
async fn writes_recover(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = client
            .put(
                &format!("after-{}", deadline.elapsed().as_nanos()),
                &minimal(),
            )
            .await;
        if reply.status == 200 {
            return;
        }
        assert_eq!(reply.status, 503, "{reply:#?}");
        assert!(Instant::now() < deadline, "writes did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_file_size_limit_is_a_503_until_lifted() {
    let workspace = Workspace::new();
    let server = workspace.start();
    assert_eq!(server.client.put("before", &minimal()).await.status, 200);
    let pid = server.pid() as libc::pid_t;
    let set_limit = |bytes: libc::rlim_t| {
        let limit = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: libc::RLIM_INFINITY,
        };
        // SAFETY: prlimit on another process with a valid rlimit; no memory is shared.
        let done = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) };
        assert_eq!(done, 0, "prlimit: {}", std::io::Error::last_os_error());
    };
    set_limit(2 << 20);
    write_until_unavailable(&server.client).await;
    set_limit(libc::RLIM_INFINITY);
    writes_recover(&server.client).await;
    verify(&workspace, &[]);
}

#[tokio::test]
async fn a_lock_held_by_another_process_is_a_503_until_released() {
    let workspace = Workspace::new();
    workspace.configure("\n[storage]\nbusy_timeout_ms = 300\n");
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.put("before", &minimal()).await.status, 200);

    let other = workspace.sql();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let reply = client.put("blocked", &minimal()).await;
    reply.api_error(503, 99);
    assert_eq!(client.get("before").await.status, 200, "GET still works");
    assert_eq!(
        client.get_path(TRACEFLOWS).await.status,
        200,
        "lists still work"
    );
    other.execute_batch("ROLLBACK").unwrap();
    writes_recover(client).await;
    client.get("blocked").await.api_error(404, 600);
}

/// Makes files immutable (even to root) while alive.
struct Immutable(Vec<std::path::PathBuf>);

impl Immutable {
    fn set(files: Vec<std::path::PathBuf>) -> Self {
        for file in &files {
            let status = Command::new("chattr").arg("+i").arg(file).status().unwrap();
            assert!(
                status.success(),
                "chattr +i {}: this test needs a file system with attributes",
                file.display()
            );
        }
        Self(files)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for file in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(file).status();
        }
    }
}

#[tokio::test]
async fn a_read_only_database_file_is_a_503_until_writable() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.put("before", &minimal()).await.status, 200);
    let database = workspace.database();
    let mut wal = database.clone().into_os_string();
    wal.push("-wal");
    let read_only = Immutable::set(vec![database, wal.into()]);
    write_until_unavailable(client).await;
    drop(read_only);
    writes_recover(client).await;
    verify(&workspace, &[]);
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let workspace = Workspace::new();
    workspace.start().terminate();
    workspace
        .sql()
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES (99, 'from_the_future', '2030-01-01T00:00:00Z', '0')",
            [],
        )
        .unwrap();
    let output = workspace.command().stdout(Stdio::null()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = workspace.log();
    assert!(
        log.contains("schema version 99, newer than this binary knows"),
        "{log}"
    );
}

#[test]
fn a_second_server_on_the_same_database_refuses_to_start() {
    let workspace = Workspace::new();
    let first = workspace.start();
    let second = workspace.command().stdout(Stdio::null()).output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let log = workspace.log();
    let expected = format!(
        "is in use by another nsx-policy-store (pid {})",
        first.pid()
    );
    assert!(log.contains(&expected), "{log}");
    drop(first);
}

#[tokio::test]
async fn an_unclean_shutdown_is_recovered_and_checked() {
    let workspace = Workspace::new();
    let info = |workspace: &Workspace| {
        workspace
            .command()
            .env("NSX_POLICY_STORE__LOG__LEVEL", "info")
            .spawn_server()
    };
    let checks = |log: &str| log.matches("integrity check passed").count();
    let server = info(&workspace);
    assert_eq!(
        checks(&workspace.log()),
        1,
        "a small database is checked at every start"
    );
    for n in 0..200 {
        assert_eq!(
            server.client.put(&format!("t{n}"), &minimal()).await.status,
            200
        );
    }
    server.kill();
    let mut wal = workspace.database().into_os_string();
    wal.push("-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the kill left a WAL behind"
    );

    let server = info(&workspace);
    let log = workspace.log();
    assert!(log.contains("the last shutdown was not clean"), "{log}");
    assert_eq!(checks(&log), 2, "{log}");
    assert_eq!(
        server.client.get("t199").await.status,
        200,
        "the WAL was recovered"
    );
    server.terminate();

    // Damage a page in the middle of the file; leave a WAL so the next start checks.
    let database = workspace.database();
    let size = std::fs::metadata(&database).unwrap().len();
    let mut bytes = std::fs::read(&database).unwrap();
    let page = 4096 * (size / 4096 / 2) as usize;
    bytes[page..page + 4096].fill(0xA5);
    std::fs::write(&database, bytes).unwrap();
    std::fs::write(&wal, vec![0u8; 4096]).unwrap();
    let output = workspace.command().stdout(Stdio::null()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = workspace.log();
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.contains("damaged") || last.contains("malformed"),
        "{last}"
    );
    assert!(
        last.contains(workspace.database().to_str().unwrap()),
        "the error names the file: {last}"
    );
}

#[tokio::test]
async fn a_backup_taken_under_load_restores() {
    let workspace = Workspace::new();
    let server = workspace.start();
    // The README's example: into a folder that does not exist yet.
    let backup = workspace.path().join("backups/store-2026-11-25.db");
    let mut backup_output = None;
    load_until(&server, 4, "backup", async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let output = Command::new(BIN)
            .args(["backup", backup.to_str().unwrap(), "--database"])
            .arg(workspace.database())
            .output()
            .unwrap();
        backup_output = Some(output);
        tokio::time::sleep(Duration::from_millis(100)).await;
        Command::new("kill")
            .args(["-KILL", &server.pid().to_string()])
            .status()
            .unwrap();
    })
    .await;
    server.kill();
    let output = backup_output.unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let objects: i64 = printed.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(
        printed.starts_with("backed up ") && objects > 0,
        "{printed}"
    );

    let copy = rusqlite::Connection::open(&backup).unwrap();
    let integrity: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(copy);

    // Restore, as the README says: put the copy in place of a database and start.
    let restored = Workspace::new();
    std::fs::copy(&backup, restored.database()).unwrap();
    let server = restored.start();
    let list = server.client.get_path(TRACEFLOWS).await;
    assert_eq!(list.body["result_count"], objects);
    verify(&restored, &[]);

    let refused = Command::new(BIN)
        .args(["backup", backup.to_str().unwrap(), "--database"])
        .arg(workspace.database())
        .output()
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(1),
        "an existing file is not overwritten"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(backup.to_str().unwrap()) && stderr.contains("exists already"),
        "the error names the path and the cause: {stderr}"
    );
}
