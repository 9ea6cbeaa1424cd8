//! The store as a test fixture (the README's "Using it in a test suite"): reset, snapshots,
//! export and import over HTTP and from the command line, and deterministic mode.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{
    engine, minimal, seed_request, Client, Engine, Reply, Server, SpawnServer, Workspace, ADMIN,
    AUDITOR, BIN, TRACEFLOWS,
};

const PATH_T1: &str = "/infra/antrea/traceflows/t1";

async fn post(client: &Client, path: &str) -> Reply {
    client.send(client.request("POST", path)).await
}

async fn put_path(client: &Client, path: &str) -> Reply {
    client.send(client.request("PUT", path)).await
}

async fn import(client: &Client, body: &str) -> Reply {
    let request = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(body.to_owned());
    client.send(request).await
}

/// A few objects with history, a run with a script, and one without.
async fn populate(client: &Client) {
    for id in ["t1", "t2", "t3"] {
        assert_eq!(client.put(id, &seed_request()).await.status, 200);
    }
    assert_eq!(
        client
            .patch("t1", &json!({"description": "patched"}))
            .await
            .status,
        200
    );
    let script = json!({"status": {"phase": "FAILED", "reason": "dropped"}});
    let request = client
        .request("PUT", "/store/v1/traceflows/t2/result")
        .header("content-type", "application/json")
        .body(script.to_string());
    assert_eq!(client.send(request).await.status, 200);
}

/// Everything a client can read of the state, as served, byte for byte.
async fn everything(client: &Client) -> Vec<String> {
    let mut seen = vec![
        client
            .get_path(&format!("{TRACEFLOWS}?page_size=2"))
            .await
            .text,
        client
            .get_path(&format!("{TRACEFLOWS}?sort_by=_create_time"))
            .await
            .text,
        client
            .get_path(&format!("/store/v1/revisions?path={PATH_T1}&page_size=1"))
            .await
            .text,
    ];
    for id in ["t1", "t2", "t3", "t4"] {
        for suffix in ["", "/status", "/observations"] {
            seen.push(
                client
                    .get_path(&format!("{TRACEFLOWS}/{id}{suffix}"))
                    .await
                    .text,
            );
        }
        seen.push(
            client
                .get_path(&format!("/store/v1/traceflows/{id}/result"))
                .await
                .text,
        );
    }
    seen
}

#[tokio::test]
async fn a_reset_removes_objects_history_runs_and_scripts_but_not_snapshots() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    populate(client).await;
    assert_eq!(
        put_path(client, "/store/v1/snapshots/kept").await.status,
        200
    );

    post(&client.as_user(AUDITOR), "/store/v1/reset")
        .await
        .api_error(403, 401);
    assert_eq!(
        client.all_objects().await.len(),
        3,
        "an auditor's reset changed nothing"
    );

    let reply = post(client, "/store/v1/reset").await;
    assert_eq!(reply.body, json!({"objects_removed": 3}));
    assert!(client.all_objects().await.is_empty());
    assert!(client.history(PATH_T1).await.is_empty());
    client.get("t1").await.api_error(404, 600);
    client
        .get_path(&format!("{TRACEFLOWS}/t1/status"))
        .await
        .api_error(404, 600);
    client
        .get_path("/store/v1/traceflows/t2/result")
        .await
        .api_error(404, 600);
    let snapshots = client.get_path("/store/v1/snapshots").await.body;
    assert_eq!(snapshots["result_count"], 1, "snapshots survive a reset");
    assert_eq!(
        post(client, "/store/v1/reset").await.body,
        json!({"objects_removed": 0})
    );

    // Acknowledged: a SIGKILL right after the 200 keeps the reset.
    assert_eq!(client.put("t9", &minimal()).await.status, 200);
    assert_eq!(post(client, "/store/v1/reset").await.status, 200);
    server.kill();
    let server = workspace.start();
    assert!(server.client.all_objects().await.is_empty());
    assert!(server
        .client
        .history("/infra/antrea/traceflows/t9")
        .await
        .is_empty());
}

#[tokio::test]
async fn a_restore_brings_back_every_answer_of_the_moment_of_the_save() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    populate(client).await;
    let saved = put_path(client, "/store/v1/snapshots/before-test").await;
    assert_eq!(saved.status, 200);
    assert_eq!(saved.body["name"], "before-test");
    assert_eq!(saved.body["objects"], 3);
    assert!(saved.body["created"].as_i64().unwrap() > 0);
    let at_the_save = everything(client).await;

    // Change everything, then restore.
    assert_eq!(client.delete("t1").await.status, 200);
    assert_eq!(client.put("t4", &minimal()).await.status, 200);
    let mut body = client.get("t3").await.body;
    body["description"] = json!("changed");
    assert_eq!(client.put("t3", &body).await.status, 200);
    assert_eq!(
        post(client, &format!("{TRACEFLOWS}/t2?action=retrace"))
            .await
            .status,
        200
    );
    assert_ne!(everything(client).await, at_the_save);
    let restored = post(client, "/store/v1/snapshots/before-test?action=restore").await;
    assert_eq!(restored.body, saved.body);
    assert_eq!(everything(client).await, at_the_save);

    // Kept across a restart, and after a reset.
    server.terminate();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(post(client, "/store/v1/reset").await.status, 200);
    let listed = client.get_path("/store/v1/snapshots").await.body;
    assert_eq!(listed, json!({"results": [saved.body], "result_count": 1}));
    assert_eq!(
        client
            .get_path("/store/v1/snapshots/before-test")
            .await
            .body,
        saved.body
    );
    post(client, "/store/v1/snapshots/before-test?action=restore").await;
    assert_eq!(everything(client).await, at_the_save);

    // Replaced by name; deleted idempotently; absent is 404.
    assert_eq!(client.delete("t2").await.status, 200);
    let again = put_path(client, "/store/v1/snapshots/before-test").await;
    assert_eq!(again.body["objects"], 2);
    for _ in 0..2 {
        let reply = client
            .send(client.request("DELETE", "/store/v1/snapshots/before-test"))
            .await;
        assert_eq!(reply.status, 200);
    }
    client
        .get_path("/store/v1/snapshots/before-test")
        .await
        .api_error(404, 600);
    post(client, "/store/v1/snapshots/before-test?action=restore")
        .await
        .api_error(404, 600);

    // Names and actions are checked; changes need enterprise_admin.
    for bad in ["a%20b", "%C3%BC", &"x".repeat(65)] {
        put_path(client, &format!("/store/v1/snapshots/{bad}"))
            .await
            .field_error("name");
    }
    post(client, "/store/v1/snapshots/x")
        .await
        .api_error(400, 255);
    post(client, "/store/v1/snapshots/x?action=undo")
        .await
        .api_error(400, 255);
    put_path(&client.as_user(AUDITOR), "/store/v1/snapshots/x")
        .await
        .api_error(403, 401);
    assert_eq!(
        client
            .as_user(AUDITOR)
            .get_path("/store/v1/snapshots")
            .await
            .status,
        200
    );
}

/// Writers keep writing through a reset and a restore: each write lands wholly before or
/// after, so every object left has its whole history, and no GET serves an object from
/// before.
#[tokio::test]
async fn reset_and_restore_under_concurrent_writes_leave_no_half_state() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for n in 0..20 {
        assert_eq!(client.put(&format!("s{n}"), &minimal()).await.status, 200);
    }
    assert_eq!(
        put_path(client, "/store/v1/snapshots/base").await.status,
        200
    );
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let client = client.clone();
        writers.spawn(async move {
            for n in 0..60 {
                let id = format!("w{w}-{}", n % 10);
                let reply = client.put(&id, &minimal()).await;
                assert!(reply.status == 200 || reply.status == 400, "{reply:#?}");
                client.get(&id).await;
            }
        });
    }
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(post(client, "/store/v1/reset").await.status, 200);
        tokio::time::sleep(Duration::from_millis(30)).await;
        let restore = post(client, "/store/v1/snapshots/base?action=restore").await;
        assert_eq!(restore.status, 200);
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    for object in client.all_objects().await {
        let path = object["path"].as_str().unwrap();
        let history = client.history(path).await;
        assert_eq!(history[0]["operation"], "create", "{path} has its create");
        assert_eq!(history.last().unwrap()["object"], object, "{path}");
        let id = object["id"].as_str().unwrap();
        assert_eq!(
            client.get(id).await.body,
            object,
            "the cache serves what is stored"
        );
    }
}

#[tokio::test]
async fn export_reset_import_export_is_byte_identical() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    populate(client).await;
    let exported = client.export().await;
    assert_eq!(exported.lines().count(), 3);
    let ids: Vec<Value> = exported
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!("t1"), json!("t2"), json!("t3")],
        "in path order"
    );

    assert_eq!(post(client, "/store/v1/reset").await.status, 200);
    let reply = import(client, &exported).await;
    assert_eq!(reply.body, json!({"imported": 3}));
    assert_eq!(client.export().await, exported);
    let history = client.history(PATH_T1).await;
    assert_eq!(history.len(), 1, "an import leaves one create revision");
    assert_eq!(history[0]["operation"], "create");
    assert_eq!(history[0]["object"]["_revision"], 1, "the revision is kept");
    let status = client
        .get_path(&format!("{TRACEFLOWS}/t1/status"))
        .await
        .body;
    assert_eq!(
        status["phase"], "SUCCEEDED",
        "an imported traceflow has run"
    );

    // A line with only client fields and an id is created as a PUT creates it, by the
    // authenticated user.
    let line = json!({"id": "fresh", "container_cluster_id": "c", "source_external_id": "s"});
    let reply = import(&client.as_user(("operator", "op")), &line.to_string()).await;
    assert_eq!(reply.status, 403, "only users the configuration knows");
    assert_eq!(import(client, &line.to_string()).await.status, 200);
    let fresh = client.get("fresh").await.body;
    assert_eq!(
        (&fresh["_revision"], &fresh["_create_user"]),
        (&json!(0), &json!("admin"))
    );
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_names_the_failing_line() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.put("existing", &minimal()).await.status, 200);
    let before = client.export().await;
    let good = |id: &str| {
        json!({"id": id, "container_cluster_id": "c", "source_external_id": "s"}).to_string()
    };
    let cases = [
        (format!("{}\n{}\n{{", good("a"), good("b")), "line 3: ."),
        (
            format!(
                "{}\n{}",
                good("a"),
                r#"{"id": "b", "container_cluster_id": "c", "source_external_id": "s", "packet": {"ipHeader": {"ttl": 300}}}"#
            ),
            "line 2: packet.ipHeader.ttl",
        ),
        (format!("{}\n{}", good("a"), good("a")), "line 2: id"),
        (format!("{}\n{}", good("a"), good("existing")), "line 2: id"),
        (
            format!("{}\n{}", good("a"), r#"{"container_cluster_id": "c"}"#),
            "line 2: id",
        ),
    ];
    for (body, field) in cases {
        import(client, &body).await.field_error(field);
        assert_eq!(client.export().await, before, "{field}: nothing changed");
        client.get("a").await.api_error(404, 600);
        assert!(client
            .history("/infra/antrea/traceflows/a")
            .await
            .is_empty());
    }
    let wrong_type = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/json")
        .body(good("a"));
    client.send(wrong_type).await.api_error(415, 255);
}

#[tokio::test]
async fn import_has_its_own_body_limit() {
    let workspace = Workspace::new();
    workspace.configure("\n[server]\nbody_limit = 1000\nimport_body_limit = 100000\n");
    let server = workspace.start();
    let client = &server.client;
    let body: String = (0..200)
        .map(|n| format!("{{\"id\": \"i{n}\", \"container_cluster_id\": \"c\", \"source_external_id\": \"s\"}}\n"))
        .collect();
    assert!(body.len() > 1000 && body.len() < 100_000);
    assert_eq!(import(client, &body).await.body, json!({"imported": 200}));
    let too_large = "x".repeat(100_001);
    import(client, &too_large).await.api_error(413, 255);
}

fn run(workspace: &Workspace, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--database")
        .arg(workspace.store())
        .arg("--config")
        .arg(workspace.config_file())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test]
async fn the_command_line_resets_exports_and_imports_a_stopped_store() {
    let workspace = Workspace::new();
    let server = workspace.start();
    populate(&server.client).await;
    let served = server.client.export().await;

    // A SQLite file a server holds is refused (on PostgreSQL the command is one more
    // instance on the database).
    if engine() == Engine::Sqlite {
        let refused = run(&workspace, &["reset"]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("in use"));
    }
    server.terminate();

    let file = workspace.path().join("export.ndjson");
    let file = file.to_str().unwrap();
    let printed = stdout(&run(&workspace, &["export", file]));
    assert_eq!(
        printed,
        format!("exported 3 objects to {file}\n"),
        "only the summary"
    );
    assert_eq!(std::fs::read_to_string(file).unwrap(), served);
    assert_eq!(stdout(&run(&workspace, &["export", "-"])), served);

    let printed = stdout(&run(&workspace, &["reset"]));
    assert_eq!(
        printed,
        format!("removed 3 objects from {}\n", workspace.store())
    );
    let printed = stdout(&run(&workspace, &["import", file]));
    assert_eq!(printed, format!("imported 3 objects from {file}\n"));
    let again = run(&workspace, &["import", file]);
    assert_eq!(again.status.code(), Some(1), "all or nothing: t1 exists");
    assert!(String::from_utf8_lossy(&again.stderr).contains("line 1: id"));

    let server = workspace.start();
    assert_eq!(server.client.export().await, served);
}

/// `import --from`: the traceflow list of another running store, more than one page of it,
/// with each traceflow's result recorded as its script.
#[tokio::test]
async fn import_from_a_live_store_pages_through_it_and_records_results() {
    let source = Workspace::new();
    let remote = source
        .command()
        .env("NSX_POLICY_STORE__STORAGE__DURABILITY", "normal")
        .spawn_server();
    let lines: String = (0..1100)
        .map(|n| format!("{{\"id\": \"r{n:04}\", \"container_cluster_id\": \"c\", \"source_external_id\": \"s\", \"destination_external_id\": \"d\"}}\n"))
        .collect();
    assert_eq!(import(&remote.client, &lines).await.body["imported"], 1100);
    let script = json!({"status": {"phase": "FAILED", "reason": "seen on NSX"},
        "observations": [{"component_type": "ANTREA_DFW", "container_node_id": "n1",
                          "observation_type": "AntreaTraceflowObservationDropped", "timestamp": 9}]});
    let request = remote
        .client
        .request("PUT", "/store/v1/traceflows/r0007/result")
        .header("content-type", "application/json")
        .body(script.to_string());
    assert_eq!(remote.client.send(request).await.status, 200);
    let remote_export = remote.client.export().await;
    let remote_observations = remote
        .client
        .get_path(&format!("{TRACEFLOWS}/r0003/observations"))
        .await
        .body;

    let local = Workspace::new();
    let password = local.path().join("password");
    std::fs::write(&password, format!("{}\n", ADMIN.1)).unwrap();
    let import_from = |extra: &[&str]| {
        let mut args = vec!["import", "--from", &remote.url, "--user", ADMIN.0];
        args.extend_from_slice(extra);
        args.extend(["--password-file", password.to_str().unwrap()]);
        run(&local, &args)
    };
    let output = import_from(&["--with-results"]);
    assert_eq!(
        stdout(&output),
        format!("imported 1100 objects from {}\n", remote.url)
    );
    let server: Server = local.start();
    let client = &server.client;
    assert_eq!(
        client.export().await,
        remote_export,
        "every object, with its server fields"
    );
    let status = client
        .get_path(&format!("{TRACEFLOWS}/r0007/status"))
        .await
        .body;
    assert_eq!(status, json!({"phase": "FAILED", "reason": "seen on NSX"}));
    let observations = client
        .get_path(&format!("{TRACEFLOWS}/r0003/observations"))
        .await
        .body;
    assert_eq!(
        observations, remote_observations,
        "a simulated result replays as recorded"
    );

    // A wrong password is an error that names the source; nothing is imported.
    std::fs::write(&password, "wrong\n").unwrap();
    server.terminate();
    let output = import_from(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&remote.url) && stderr.contains("403"),
        "{stderr}"
    );
}

/// Two fresh servers with the same `[determinism]`, fed the same requests in the same order,
/// answer byte for byte alike, and export alike.
#[tokio::test]
async fn two_deterministic_servers_answer_byte_for_byte_alike() {
    const SETTINGS: &str =
        "\n[determinism]\nclock = \"2026-01-01T00:00:00Z\"\nclock_step_ms = 7\nseed = 42\n";
    let mut transcripts = Vec::new();
    for _ in 0..2 {
        let workspace = Workspace::new();
        workspace.configure(SETTINGS);
        let server = workspace.start();
        let client = &server.client;
        let mut answers = Vec::new();
        for n in 0..5 {
            answers.push(client.put(&format!("d{n}"), &seed_request()).await.text);
        }
        answers.push(client.patch("d1", &json!({"description": "x"})).await.text);
        answers.push(
            post(client, &format!("{TRACEFLOWS}/d2?action=retrace"))
                .await
                .text,
        );
        answers.push(put_path(client, "/store/v1/snapshots/s").await.text);
        answers.push(client.delete("d3").await.text);
        answers.push(
            client
                .get_path(&format!("{TRACEFLOWS}?page_size=2"))
                .await
                .text,
        );
        answers.push(
            client
                .get_path("/store/v1/revisions?path=/infra/antrea/traceflows/d1&page_size=1")
                .await
                .text,
        );
        answers.push(
            client
                .get_path(&format!("{TRACEFLOWS}/d2/observations"))
                .await
                .text,
        );
        // Realized state: a scripted pending state, and a realized traceflow.
        let scripted = client
            .request(
                "PUT",
                "/store/v1/realized-state?intent_path=/infra/antrea/traceflows/d4",
            )
            .header("content-type", "application/json")
            .body(json!({"state": "UNREALIZED", "delay_ms": 60_000}).to_string());
        answers.push(client.send(scripted).await.text);
        for id in ["d1", "d4"] {
            let realized = format!(
                "/policy/api/v1/infra/realized-state/realized-entities\
                 ?intent_path=/infra/antrea/traceflows/{id}"
            );
            answers.push(client.get_path(&realized).await.text);
        }
        answers.push(client.export().await);
        transcripts.push(answers);
    }
    assert_eq!(transcripts[0], transcripts[1]);
    let first: Value = serde_json::from_str(&transcripts[0][0]).unwrap();
    assert_eq!(
        first["_create_time"], 1_767_225_600_000_i64,
        "the virtual clock's start"
    );
    let second: Value = serde_json::from_str(&transcripts[0][1]).unwrap();
    assert_eq!(
        second["_create_time"], 1_767_225_600_007_i64,
        "one step per write"
    );
}
