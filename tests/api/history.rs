//! History: GET /store/v1/revisions and the `history` subcommand (the SQL tables and views
//! are the SQLite module's).

use std::process::Command;

use crate::support::{minimal, Workspace, BIN};
use serde_json::{json, Value};

const PATH: &str = "/infra/antrea/traceflows/t14";

/// Create, replace, patch and delete one object; returns what the API answered at each step
/// (for the delete, the last state read before it).
pub(crate) async fn four_changes(workspace: &Workspace) -> Vec<Value> {
    let server = workspace.start();
    let client = &server.client;
    let created = client.put("t14", &minimal()).await.body;
    let mut body = created.clone();
    body["description"] = json!("replaced");
    let replaced = client.put("t14", &body).await.body;
    assert_eq!(replaced["_revision"], 1);
    assert_eq!(
        client
            .patch("t14", &json!({"display_name": "patched"}))
            .await
            .status,
        200
    );
    let patched = client.get("t14").await.body;
    assert_eq!(client.delete("t14").await.status, 200);
    server.kill();
    vec![created, replaced, patched]
}

#[tokio::test]
async fn every_change_leaves_a_revision_seen_alike_by_http_and_the_subcommand() {
    let workspace = Workspace::new();
    let states = four_changes(&workspace).await;

    // The HTTP extension, newest first.
    let server = workspace.start();
    let reply = server
        .client
        .get_path(&format!("/store/v1/revisions?path={PATH}"))
        .await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    let http = reply.body;
    assert_eq!(http["result_count"], 4);
    let mut oldest_first = http["results"].as_array().unwrap().clone();
    oldest_first.reverse();
    let operations: Vec<(&Value, &Value)> = oldest_first
        .iter()
        .map(|r| (&r["revision"], &r["operation"]))
        .collect();
    assert_eq!(
        operations,
        [
            (&json!(0), &json!("create")),
            (&json!(1), &json!("replace")),
            (&json!(2), &json!("patch")),
            (&json!(3), &json!("delete"))
        ]
    );
    for (record, state) in oldest_first.iter().zip(&states) {
        assert_eq!(
            record["object"], *state,
            "the revision holds the object as served"
        );
        assert_eq!(record["path"], PATH);
        assert_eq!(record["change_user"], "admin");
        assert_eq!(record["change_time"], state["_last_modified_time"]);
    }
    let deleted = &oldest_first[3]["object"];
    assert_eq!(deleted["marked_for_delete"], true);
    assert_eq!(deleted["_revision"], 3);
    assert_eq!(deleted["display_name"], "patched", "the final state");

    // The subcommand, from the file, with no server: by path, or by the traceflow's id.
    server.kill();
    let history = |object: &str| {
        Command::new(BIN)
            .args(["history", object, "--database"])
            .arg(workspace.store())
            .output()
            .unwrap()
    };
    for object in [PATH, "t14"] {
        let output = history(object);
        assert!(output.status.success(), "{output:?}");
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(printed, http, "history {object}");
    }
    let refused = history("a/b");
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("neither a policy path"), "{stderr}");
}

#[tokio::test]
async fn the_extension_pages_like_a_list() {
    let workspace = Workspace::new();
    four_changes(&workspace).await;
    let server = workspace.start();
    let client = &server.client;

    let mut revisions = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = client
            .get_path(&format!(
                "/store/v1/revisions?path={PATH}&page_size=1{cursor}"
            ))
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["result_count"], 4);
        revisions.extend(
            reply.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["revision"].clone()),
        );
        match reply.body["cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(revisions, [json!(3), json!(2), json!(1), json!(0)]);

    // A cursor continues the history it was issued for, not another path's.
    let first = client
        .get_path(&format!("/store/v1/revisions?path={PATH}&page_size=1"))
        .await;
    let cursor = first.body["cursor"].as_str().unwrap();
    client
        .get_path(&format!(
            "/store/v1/revisions?path=/infra/antrea/traceflows/other&cursor={cursor}"
        ))
        .await
        .field_error("cursor");

    let unknown = client
        .get_path("/store/v1/revisions?path=/infra/antrea/traceflows/never")
        .await;
    assert_eq!(unknown.body, json!({"results": [], "result_count": 0}));

    client
        .get_path("/store/v1/revisions")
        .await
        .field_error("path");
    client
        .get_path("/store/v1/revisions?path=t14")
        .await
        .field_error("path");
    // A control character (NUL, which no store's text can hold, found by schemathesis) is
    // the client's error, not the store's.
    for path in ["/infra/antrea/traceflows/t%00", "/infra/%0A"] {
        client
            .get_path(&format!("/store/v1/revisions?path={path}"))
            .await
            .field_error("path");
    }
    client
        .get_path(&format!("/store/v1/revisions?path={PATH}&cursor=zzz"))
        .await
        .field_error("cursor");
    let put = client
        .send(client.request("PUT", "/store/v1/revisions"))
        .await;
    put.api_error(405, 253);
}
