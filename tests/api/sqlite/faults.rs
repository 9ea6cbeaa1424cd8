//! Faults of the SQLite file and start-up checks: a store that cannot be written is a 503
//! that heals by itself, a store that fails otherwise is a 500 naming its request id, and a
//! file that is damaged, newer or in use is refused. Each fault is made the way it happens
//! to a SQLite file: a file-size limit, a lock held by another connection, an immutable
//! file, a renamed table.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::reliability::{load_until, verify};
use crate::support::{minimal, Client, SpawnServer, Workspace, BIN, TRACEFLOWS};

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

/// Sets the file-size limit of process `pid` (`RLIMIT_FSIZE`): past it, writes fail.
fn set_file_size_limit(pid: u32, bytes: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit on another process with a valid rlimit; no memory is shared.
    let done = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(done, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[tokio::test]
async fn a_file_size_limit_is_a_503_until_lifted() {
    let workspace = Workspace::new();
    let server = workspace.start();
    assert_eq!(server.client.put("before", &minimal()).await.status, 200);
    let pid = server.pid();
    let set_limit = |bytes: libc::rlim_t| set_file_size_limit(pid, bytes);
    set_limit(2 << 20);
    write_until_unavailable(&server.client).await;
    set_limit(libc::RLIM_INFINITY);
    writes_recover(&server.client).await;
    verify(&server, &workspace, &[]).await;
}

/// The file fills while batches of concurrent creates are being written: whatever failed,
/// and however, every answer matches what is on disk afterwards: a 200 is there as answered,
/// a 503 is not there at all.
#[tokio::test]
async fn answers_match_the_disk_when_the_file_fills_in_the_middle_of_batches() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let filler = "x".repeat(1000);
    let size = |path: std::path::PathBuf| std::fs::metadata(path).map_or(0, |m| m.len());
    let limit = size(workspace.database()).max(size(workspace.wal())) + (512 << 10);
    set_file_size_limit(server.pid(), limit);
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let client = server.client.clone();
        let filler = filler.clone();
        writers.spawn(async move {
            let mut answers = Vec::new();
            for n in 0..150 {
                let id = format!("w{w}-{n}");
                let mut body = minimal();
                body["description"] = json!(format!("{id} {filler}"));
                let reply = client.put(&id, &body).await;
                assert!(matches!(reply.status, 200 | 503), "{reply:#?}");
                answers.push((id, reply));
            }
            answers
        });
    }
    let mut answers = Vec::new();
    while let Some(done) = writers.join_next().await {
        answers.extend(done.unwrap());
    }
    set_file_size_limit(server.pid(), libc::RLIM_INFINITY);
    let refused = answers
        .iter()
        .filter(|(_, reply)| reply.status == 503)
        .count();
    assert!(refused > 0, "the file filled");
    assert!(refused < answers.len(), "some writes landed first");
    for (id, reply) in &answers {
        let stored = server.client.get(id).await;
        match reply.status {
            200 => assert_eq!(stored.body, reply.body, "{id} is as answered"),
            _ => {
                stored.api_error(404, 600);
            }
        }
    }
    verify(&server, &workspace, &[]).await;
}

#[tokio::test]
async fn a_lock_held_by_another_process_is_a_503_until_released() {
    let workspace = Workspace::new();
    workspace.configure("\n[storage.sqlite]\nbusy_timeout_ms = 300\n");
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
    let read_only = Immutable::set(vec![database, workspace.wal()]);
    write_until_unavailable(client).await;
    drop(read_only);
    writes_recover(client).await;
    verify(&server, &workspace, &[]).await;
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
    let wal = workspace.wal();
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
    workspace.damages_its_file();
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
    let stored = crate::reliability::stored_objects(&server.client).await;
    assert_eq!(
        stored.len() as i64,
        objects,
        "the objects the backup said it holds"
    );
    verify(&server, &restored, &[]).await;

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

#[tokio::test]
async fn a_store_failure_is_a_500_without_internals_and_the_server_recovers() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.put("before", &minimal()).await.status, 200);

    // Break the store under the running server.
    workspace
        .sql()
        .execute_batch("ALTER TABLE policy_objects RENAME TO moved_away")
        .unwrap();
    // A list always reads the database (a GET by id may be answered from memory).
    for reply in [
        client.get_path(TRACEFLOWS).await,
        client.put("during", &minimal()).await,
    ] {
        // Not 99: NSX clients read 500/99 as an untrusted client certificate.
        let message = reply.api_error(500, 100);
        let request_id = message
            .strip_prefix("General error has occurred. Request id: ")
            .and_then(|rest| rest.strip_suffix('.'))
            .unwrap_or_else(|| panic!("{message}"));
        assert!(!reply.text.contains("moved_away") && !reply.text.contains("policy_objects"));
        let logged = workspace
            .log()
            .lines()
            .any(|line| line.contains(request_id) && line.contains("no such table"));
        assert!(logged, "the details are logged under {request_id}");
    }
    // A client's own request id is the one the message names.
    let traced = client
        .send(
            client
                .request("GET", TRACEFLOWS)
                .header("X-Request-Id", "broken-store-1"),
        )
        .await;
    assert_eq!(
        traced.api_error(500, 100),
        "General error has occurred. Request id: broken-store-1."
    );
    assert_eq!(traced.request_id.as_deref(), Some("broken-store-1"));

    workspace
        .sql()
        .execute_batch("ALTER TABLE moved_away RENAME TO policy_objects")
        .unwrap();
    assert_eq!(client.get("before").await.status, 200);
    assert_eq!(client.put("after", &minimal()).await.status, 200);
    client.get("during").await.api_error(404, 600);
}

/// `/readyz` is 503 while another connection holds the database's write lock, and 200 again
/// once it lets go; `/healthz` stays 200 throughout.
#[tokio::test]
async fn readiness_follows_whether_the_store_can_be_written() {
    let workspace = Workspace::new();
    workspace.configure(
        "[telemetry]\nmetrics_listen = \"127.0.0.1:0\"\n[storage.sqlite]\nbusy_timeout_ms = 200\n",
    );
    let server = workspace.start();
    let base = server.metrics_base();
    let probe = |path: &'static str| {
        let url = format!("{base}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    assert_eq!(probe("/readyz").await.0, 200);

    let holder = workspace.sql();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, reason) = probe("/readyz").await;
    assert_eq!(status, 503, "{reason}");
    assert!(reason.starts_with("not ready: "), "{reason}");
    assert_eq!(probe("/healthz").await.0, 200);
    assert_eq!(server.client.put("during", &minimal()).await.status, 503);

    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(probe("/readyz").await, (200, "ready\n".to_owned()));
    assert_eq!(server.client.put("after", &minimal()).await.status, 200);
}
