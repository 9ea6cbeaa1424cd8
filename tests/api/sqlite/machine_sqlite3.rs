//! The file as the machine's own `sqlite3` reads it: Debian's, an older SQLite than the one
//! the binary bundles, and the command the README points people to. After a mixed load, a
//! kill in its middle and a clean stop, it finds the file sound, reads every documented
//! view and runs every ready-to-paste query, and a lookup by id alone uses an index.

use std::time::Duration;

use serde_json::{json, Value};

use super::schema::README_QUERIES;
use crate::support::{minimal, seed_request, system_sqlite3, Client, Workspace};

/// The views the README documents, each with a lookup a person would write.
const VIEW_LOOKUPS: &[&str] = &[
    "SELECT id, cluster, src_ip, revision FROM antrea_traceflow_configs WHERE id = 't14'",
    "SELECT seq, operation, changed_at FROM policy_object_history
      WHERE path = '/infra/antrea/traceflows/t14' ORDER BY seq",
    "SELECT run, component_type, observation_type FROM antrea_traceflow_observations
      WHERE id = 'scripted'",
    "SELECT resource_type, count FROM policy_object_counts WHERE resource_type = 'Segment'",
];

async fn ok(client: &Client, method: &str, path: &str, body: Option<Value>) {
    let reply = client.call(method, path, body.as_ref()).await;
    assert_eq!(reply.status, 200, "{method} {path}: {reply:#?}");
}

/// Every kind of row the store writes: traceflows with simulated, scripted and replaced
/// runs, a deleted one, catalog objects naming each other, a realization script, a
/// snapshot.
async fn mixed_load(client: &Client) {
    let policy = |path: &str| format!("/policy/api/v1{path}");
    assert_eq!(client.put("t14", &seed_request()).await.status, 200);
    assert_eq!(client.put("gone", &minimal()).await.status, 200);
    assert_eq!(client.delete("gone").await.status, 200);
    let script = json!({"status": {"phase": "FAILED", "reason": "dropped"},
        "observations": [{"component_type": "ANTREA_DFW", "container_node_id": "n1",
            "observation_type": "AntreaTraceflowObservationDropped"}]});
    ok(
        client,
        "PUT",
        "/store/v1/traceflows/scripted/result",
        Some(script),
    )
    .await;
    assert_eq!(client.put("scripted", &minimal()).await.status, 200);
    assert_eq!(
        client
            .patch("t14", &json!({"description": "patched"}))
            .await
            .status,
        200
    );
    ok(
        client,
        "POST",
        &format!(
            "{}?action=retrace",
            "/policy/api/v1/infra/antrea/traceflows/t14"
        ),
        None,
    )
    .await;
    ok(
        client,
        "PUT",
        &policy("/infra/segments/web"),
        Some(json!({})),
    )
    .await;
    ok(
        client,
        "PUT",
        &policy("/infra/domains/default/groups/web"),
        Some(json!({"expression": [{"resource_type": "PathExpression",
            "paths": ["/infra/segments/web"]}]})),
    )
    .await;
    ok(
        client,
        "PUT",
        &policy("/infra/domains/default/security-policies/p"),
        Some(json!({"rules": [{"resource_type": "Rule", "id": "r",
            "source_groups": ["/infra/domains/default/groups/web"]}]})),
    )
    .await;
    ok(
        client,
        "PUT",
        "/store/v1/realized-state?intent_path=/infra/segments/web",
        Some(json!({"state": "ERROR", "error_message": "no edge cluster"})),
    )
    .await;
    ok(client, "PUT", "/store/v1/snapshots/mixed", None).await;
}

/// Creates, patches and deletes by four clients until the server is gone.
fn churn(client: &Client) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4)
        .map(|writer| {
            let client = client.clone();
            tokio::spawn(async move {
                for step in 0u32.. {
                    let id = format!("w{writer}-{}", step % 7);
                    let path = format!("/policy/api/v1/infra/segments/{id}");
                    let outcome = match step % 3 {
                        0 => client.request("PATCH", &path).json(&json!({})).send().await,
                        1 => client.request("DELETE", &path).send().await,
                        _ => {
                            client
                                .request("PUT", &format!("{}/{id}", crate::support::TRACEFLOWS))
                                .json(&minimal())
                                .send()
                                .await
                        }
                    };
                    if outcome.is_err() {
                        return; // the server was killed
                    }
                }
            })
        })
        .collect()
}

fn check_with_the_machines_sqlite3(workspace: &Workspace) {
    let database = workspace.database();
    assert_eq!(system_sqlite3(&database, "PRAGMA integrity_check"), "ok");
    for query in VIEW_LOOKUPS.iter().chain(README_QUERIES) {
        system_sqlite3(&database, query);
    }
    assert!(
        system_sqlite3(&database, VIEW_LOOKUPS[0]).starts_with("t14|"),
        "the view finds t14"
    );
    assert!(
        system_sqlite3(&database, VIEW_LOOKUPS[2]).contains("ANTREA_DFW"),
        "the scripted run's observation is in its view"
    );
    let plan = system_sqlite3(
        &database,
        "EXPLAIN QUERY PLAN SELECT * FROM policy_objects WHERE id = 't14'",
    );
    assert!(
        plan.contains("USING INDEX policy_objects_by_id_alone"),
        "a lookup by id alone is an index's: {plan}"
    );
}

#[tokio::test]
async fn the_machines_sqlite3_finds_the_file_sound_after_writes_a_kill_and_a_stop() {
    let workspace = Workspace::new();
    let server = workspace.start();
    mixed_load(&server.client).await;
    let writers = churn(&server.client);
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    check_with_the_machines_sqlite3(&workspace);

    let server = workspace.start();
    let writers = churn(&server.client);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.terminate().success());
    for writer in writers {
        writer.await.unwrap();
    }
    check_with_the_machines_sqlite3(&workspace);
}
