//! History, three ways: the SQL tables and views, GET /store/v1/revisions, and the
//! `history` subcommand.

use std::process::Command;

use crate::support::{minimal, Workspace, BIN};
use serde_json::{json, Value};

const PATH: &str = "/infra/antrea/traceflows/t14";

/// The README's ready-to-paste queries, run verbatim against the test database.
const README_QUERIES: &[&str] = &[
    // All revisions of t14
    "SELECT revision, operation, changed_at, changed_by, object FROM policy_object_history
      WHERE path = '/infra/antrea/traceflows/t14' ORDER BY seq",
    // What changed in the last hour
    "SELECT changed_at, changed_by, operation, path, revision FROM policy_object_history
      WHERE changed_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour') ORDER BY seq",
    // Objects by cluster
    "SELECT cluster, count(*) AS objects, group_concat(id, ', ') AS ids
       FROM antrea_traceflow_configs GROUP BY cluster ORDER BY objects DESC",
];

/// Create, replace, patch and delete one object; returns what the API answered at each step
/// (for the delete, the last state read before it).
async fn four_changes(workspace: &Workspace) -> Vec<Value> {
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
async fn every_change_leaves_a_revision_seen_alike_by_sql_http_and_the_subcommand() {
    let workspace = Workspace::new();
    let states = four_changes(&workspace).await;

    // 1. The table, oldest first.
    let conn = workspace.sql();
    let mut statement = conn
        .prepare(
            "SELECT revision, operation, change_user, change_time, object
             FROM policy_object_revisions WHERE path = ?1 ORDER BY seq",
        )
        .unwrap();
    let rows: Vec<(i64, String, String, i64, Value)> = statement
        .query_map([PATH], |r| {
            let object: String = r.get(4)?;
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                serde_json::from_str(&object).unwrap(),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let operations: Vec<(i64, &str)> = rows.iter().map(|r| (r.0, r.1.as_str())).collect();
    assert_eq!(
        operations,
        [(0, "create"), (1, "replace"), (2, "patch"), (3, "delete")]
    );
    for (row, state) in rows.iter().zip(&states) {
        assert_eq!(&row.4, state, "the row holds the object as served");
        assert_eq!(row.2, "admin");
        assert_eq!(json!(row.3), state["_last_modified_time"]);
    }
    let deleted = &rows[3].4;
    assert_eq!(deleted["marked_for_delete"], true);
    assert_eq!(deleted["_revision"], 3);
    assert_eq!(deleted["display_name"], "patched", "the final state");

    // 2. The HTTP extension, newest first.
    let server = workspace.start();
    let reply = server
        .client
        .get_path(&format!("/store/v1/revisions?path={PATH}"))
        .await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    let http = reply.body;
    assert_eq!(http["result_count"], 4);
    let results = http["results"].as_array().unwrap();
    for (served, row) in results.iter().zip(rows.iter().rev()) {
        assert_eq!(
            served,
            &json!({"path": PATH, "revision": row.0, "operation": row.1, "change_user": row.2,
                    "change_time": row.3, "object": row.4})
        );
    }

    // 3. The subcommand, from the file, with no server: by path, or by the traceflow's id.
    server.kill();
    let history = |object: &str| {
        Command::new(BIN)
            .args(["history", object, "--database"])
            .arg(workspace.database())
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
    client
        .get_path(&format!("/store/v1/revisions?path={PATH}&cursor=zzz"))
        .await
        .field_error("cursor");
    let put = client
        .send(client.request("PUT", "/store/v1/revisions"))
        .await;
    put.api_error(405, 253);
}

#[tokio::test]
async fn the_readme_queries_answer_what_they_promise() {
    let workspace = Workspace::new();
    let server = workspace.start();
    for (id, cluster) in [("t14", "c1"), ("t15", "c1"), ("t16", "c2")] {
        let mut body = minimal();
        body["container_cluster_id"] = json!(cluster);
        assert_eq!(server.client.put(id, &body).await.status, 200);
    }
    let mut body = server.client.get("t14").await.body;
    body["description"] = json!("second revision");
    assert_eq!(server.client.put("t14", &body).await.status, 200);

    let conn = workspace.sql();
    let run = |sql: &str| -> Vec<Vec<String>> {
        let mut statement = conn.prepare(sql).unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|i| {
                        let value: rusqlite::types::Value = row.get(i)?;
                        Ok(match value {
                            rusqlite::types::Value::Text(text) => text,
                            other => format!("{other:?}"),
                        })
                    })
                    .collect()
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    };

    let revisions_of_t14 = run(README_QUERIES[0]);
    assert_eq!(revisions_of_t14.len(), 2);
    assert_eq!(revisions_of_t14[1][1], "replace");
    assert_eq!(
        run(README_QUERIES[1]).len(),
        4,
        "every change was in the last hour"
    );
    let by_cluster = run(README_QUERIES[2]);
    assert_eq!(
        by_cluster[0][..2],
        ["c1".to_owned(), "Integer(2)".to_owned()]
    );
    assert_eq!(
        by_cluster[1][..2],
        ["c2".to_owned(), "Integer(1)".to_owned()]
    );
}

#[test]
fn the_subcommand_needs_an_existing_database() {
    let workspace = Workspace::new();
    let output = Command::new(BIN)
        .args(["history", PATH, "--database"])
        .arg(workspace.database())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(!workspace.database().exists(), "nothing created");
}
