//! PATCH, DELETE and retrace (the README's "Use it"), and the bodies real clients send.

use crate::support::{minimal, seed_request, Reply, Workspace, TRACEFLOWS};
use serde_json::json;

fn assert_empty_success(reply: &Reply) {
    assert_eq!(reply.status, 200, "{reply:#?}");
    assert_eq!(reply.text, "", "an empty body");
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
}

#[tokio::test]
async fn patch_creates_merges_and_checks_revisions() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    // Absent: PATCH creates, at revision 0, answering an empty body.
    assert_empty_success(&client.patch("t14", &seed_request()).await);
    let created = client.get("t14").await.body;
    assert_eq!(created["_revision"], 0);
    assert_eq!(created["timeout"], 10);

    // Absent and incomplete: the required fields are still required.
    let mut incomplete = minimal();
    incomplete
        .as_object_mut()
        .unwrap()
        .remove("source_external_id");
    client
        .patch("t15", &incomplete)
        .await
        .field_error("source_external_id");
    client.get("t15").await.api_error(404, 600);

    // Present: top-level fields merge; packet and tags are replaced whole.
    let patch = json!({
        "description": "patched",
        "packet": {"ipHeader": {"ttl": 5}},
        "tags": [{"scope": "team", "tag": "net"}]
    });
    assert_empty_success(&client.patch("t14", &patch).await);
    let patched = client.get("t14").await.body;
    assert_eq!(patched["_revision"], 1);
    assert_eq!(patched["description"], "patched");
    assert_eq!(
        patched["packet"],
        json!({"ipHeader": {"ttl": 5}}),
        "packet replaced whole"
    );
    assert_eq!(patched["tags"], json!([{"scope": "team", "tag": "net"}]));
    for kept in [
        "container_cluster_id",
        "source_external_id",
        "destination_external_id",
        "timeout",
        "unique_id",
        "_create_time",
    ] {
        assert_eq!(patched[kept], created[kept], "{kept} stays");
    }

    // A stale _revision is 412 and changes nothing; the current one is accepted.
    let message = client
        .patch("t14", &json!({"description": "stale", "_revision": 0}))
        .await
        .api_error(412, 206);
    assert!(message.contains("(current: 1, requested: 0)"), "{message}");
    assert_eq!(client.get("t14").await.body, patched);
    assert_empty_success(
        &client
            .patch("t14", &json!({"tags": [], "_revision": 1}))
            .await,
    );
    let current = client.get("t14").await.body;
    assert_eq!(current["tags"], json!([]));
    assert_eq!(current["_revision"], 2);

    // Validation applies to a PATCH as to a PUT, and a failing PATCH changes nothing.
    client
        .patch("t14", &json!({"packet": {"ipHeader": {"ttl": 999}}}))
        .await
        .field_error("packet.ipHeader.ttl");
    client
        .patch("t14", &json!({"id": "other"}))
        .await
        .field_error("id");
    client
        .patch("t14", &json!({"source_external_id": ""}))
        .await
        .field_error("source_external_id");
    assert_eq!(client.get("t14").await.body, current);
}

#[tokio::test]
async fn delete_is_idempotent() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    assert_empty_success(&client.delete("never-existed").await);
    assert_eq!(client.put("t14", &minimal()).await.status, 200);
    assert_empty_success(&client.delete("t14").await);
    client.get("t14").await.api_error(404, 600);
    assert_empty_success(&client.delete("t14").await);

    // A deleted id can be created again: a new object with a new unique_id.
    let again = client.put("t14", &minimal()).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["_revision"], 0);
}

#[tokio::test]
async fn retrace_answers_the_object_unchanged() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let created = client.put("t14", &seed_request()).await.body;
    let url = format!("{TRACEFLOWS}/t14");

    let retraced = client
        .send(client.request("POST", &format!("{url}?action=retrace")))
        .await;
    assert_eq!(retraced.status, 200);
    assert_eq!(retraced.body, created);
    assert_eq!(
        client.get("t14").await.body,
        created,
        "retrace changes no revision"
    );

    client
        .send(client.request("POST", &format!("{TRACEFLOWS}/absent?action=retrace")))
        .await
        .api_error(404, 600);
    let message = client
        .send(client.request("POST", &url))
        .await
        .api_error(400, 255);
    assert!(message.contains("action"), "{message}");
    let message = client
        .send(client.request("POST", &format!("{url}?action=start")))
        .await
        .api_error(400, 255);
    assert!(message.contains("start"), "{message}");
}

/// Real clients send `Content-Type: application/json` with an empty body, and older SDKs send
/// `{}`, on GET, DELETE and POST: all succeed.
#[tokio::test]
async fn bodies_real_clients_send_on_get_delete_and_post() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let bodies: [(Option<&str>, &str); 4] = [
        (None, ""),
        (Some("application/json"), ""),
        (Some("application/json"), "{}"),
        (None, "{}"),
    ];
    for (n, (content_type, body)) in bodies.into_iter().enumerate() {
        let id = format!("t{n}");
        assert_eq!(client.put(&id, &minimal()).await.status, 200);
        let url = format!("{TRACEFLOWS}/{id}");
        for (method, path) in [
            ("GET", url.clone()),
            ("POST", format!("{url}?action=retrace")),
            ("GET", TRACEFLOWS.to_owned()),
            ("DELETE", url.clone()),
        ] {
            let mut request = client.request(method, &path).body(body.to_owned());
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let reply = client.send(request).await;
            assert_eq!(
                reply.status, 200,
                "{method} {path} {content_type:?} {body:?}: {reply:#?}"
            );
        }
        client.get(&id).await.api_error(404, 600);
    }
}
