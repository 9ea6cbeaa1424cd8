//! The store survives restarts and kills.

use crate::support::{minimal, seed_request, Workspace};
use serde_json::json;

#[tokio::test]
async fn objects_survive_a_clean_restart_unchanged() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let mut written = Vec::new();
    for n in 0..20 {
        let mut body = seed_request();
        body["display_name"] = json!(format!("flow {n}"));
        let reply = server.client.put(&format!("t{n}"), &body).await;
        assert_eq!(reply.status, 200);
        written.push(reply.body);
    }
    let status = server.terminate();
    assert!(status.success(), "{status:?}");

    let server = workspace.start();
    for (n, object) in written.iter().enumerate() {
        assert_eq!(&server.client.get(&format!("t{n}")).await.body, object);
    }
    // Revisions go on from where they were.
    let mut body = written[0].clone();
    body["description"] = json!("after restart");
    let reply = server.client.put("t0", &body).await;
    assert_eq!(reply.body["_revision"], 1);
    assert_eq!(reply.body["unique_id"], written[0]["unique_id"]);
}

#[tokio::test]
async fn an_acknowledged_write_survives_sigkill() {
    let workspace = Workspace::new();
    for round in 0..5 {
        let server = workspace.start();
        let id = format!("killed-{round}");
        let reply = server.client.put(&id, &minimal()).await;
        assert_eq!(reply.status, 200);
        server.kill(); // right after the 200: no shutdown, no checkpoint

        let server = workspace.start();
        assert_eq!(
            server.client.get(&id).await.body,
            reply.body,
            "round {round}"
        );
        server.kill();
    }
    workspace.check_storage();
}
