//! The SQLite file as people read it with `sqlite3`: the tables and views of the README,
//! its ready-to-paste queries, and the schema's migrations.

use std::process::Command;

use rusqlite::OptionalExtension;
use serde_json::{json, Value};

use crate::history::four_changes;
use crate::support::{seed_request, Workspace, BIN};

const PATH: &str = "/infra/antrea/traceflows/t14";

/// The README's ready-to-paste queries, run verbatim against the test database.
pub(super) const README_QUERIES: &[&str] = &[
    // All revisions of t14
    "SELECT revision, operation, changed_at, changed_by, object FROM policy_object_history
      WHERE path = '/infra/antrea/traceflows/t14' ORDER BY seq",
    // What changed in the last hour
    "SELECT changed_at, changed_by, operation, path, revision FROM policy_object_history
      WHERE changed_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')
        AND changed_by <> 'system' ORDER BY seq",
    // Objects by cluster
    "SELECT cluster, count(*) AS objects, group_concat(id, ', ') AS ids
       FROM antrea_traceflow_configs GROUP BY cluster ORDER BY objects DESC",
    // Every traceflow, readable
    "SELECT id, cluster, src_ip, dst_ip, protocol, revision, modified_at FROM antrea_traceflow_configs",
    // One field out of the stored JSON
    "SELECT id, config ->> '$.packet.ipHeader.ttl' AS ttl FROM policy_objects
      WHERE resource_type = 'AntreaTraceflowConfig'",
    // The path of t14's current run, where its result is stored (scripted)
    "SELECT run, component_type, container_node_id, observation_type, observed_at
       FROM antrea_traceflow_observations WHERE id = 't14' ORDER BY observed_at",
    // Every object of one type, readably
    "SELECT path, display_name, revision, config ->> '$.description' AS description,
            datetime(last_modified_time / 1000, 'unixepoch') AS modified_at
       FROM policy_objects WHERE resource_type = 'Group' ORDER BY path",
    // What is stored below one object, by type
    "SELECT resource_type, count(*) AS objects FROM policy_objects
      WHERE parent_path = '/infra/domains/default' GROUP BY resource_type ORDER BY resource_type",
    // What names one object (and so keeps it from being deleted)
    "SELECT path FROM policy_references
      WHERE target = '/infra/domains/default/groups/web' ORDER BY path",
];

#[tokio::test]
async fn the_readme_queries_answer_what_they_promise() {
    let workspace = Workspace::new();
    let server = workspace.start();
    for (id, cluster) in [("t14", "c1"), ("t15", "c1"), ("t16", "c2")] {
        let mut body = seed_request();
        body["container_cluster_id"] = json!(cluster);
        assert_eq!(server.client.put(id, &body).await.status, 200);
    }
    let mut body = server.client.get("t14").await.body;
    body["description"] = json!("second revision");
    assert_eq!(server.client.put("t14", &body).await.status, 200);
    let groups = "/policy/api/v1/infra/domains/default/groups";
    for (id, description) in [("web", "the web tier"), ("db", "the databases")] {
        let request = server
            .client
            .request("PUT", &format!("{groups}/{id}"))
            .header("content-type", "application/json")
            .body(json!({ "description": description }).to_string());
        assert_eq!(server.client.send(request).await.status, 200);
    }

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
        6,
        "every client's change was in the last hour"
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
    let readable = run(README_QUERIES[3]);
    assert_eq!(readable.len(), 3);
    let t14 = readable.iter().find(|row| row[0] == "t14").unwrap();
    assert_eq!(
        t14[..5],
        ["t14", "c1", "172.16.14.11", "172.16.16.13", "Integer(1)"].map(String::from)
    );
    let ttls = run(README_QUERIES[4]);
    assert_eq!(ttls.len(), 3);
    assert!(ttls.iter().all(|row| row[1] == "Integer(64)"), "{ttls:?}");

    let groups = run(README_QUERIES[6]);
    assert_eq!(
        groups
            .iter()
            .map(|row| [row[0].as_str(), row[1].as_str(), row[3].as_str()])
            .collect::<Vec<_>>(),
        [
            ["/infra/domains/default/groups/db", "db", "the databases"],
            ["/infra/domains/default/groups/web", "web", "the web tier"],
        ]
    );
    // The groups written, and NSX's two default sections.
    assert_eq!(
        run(README_QUERIES[7]),
        [
            ["Group".to_owned(), "Integer(2)".to_owned()],
            ["SecurityPolicy".to_owned(), "Integer(2)".to_owned()]
        ]
    );
    let policy = "/policy/api/v1/infra/domains/default/security-policies/p";
    let request = server
        .client
        .request("PUT", policy)
        .header("content-type", "application/json")
        .body(
            json!({"rules": [{"resource_type": "Rule", "id": "r",
                "source_groups": ["/infra/domains/default/groups/web"]}]})
            .to_string(),
        );
    assert_eq!(server.client.send(request).await.status, 200);
    // The rule the policy embeds is the object that names the group.
    assert_eq!(
        run(README_QUERIES[8]),
        [["/infra/domains/default/security-policies/p/rules/r".to_owned()]]
    );

    // t14 was replaced once: its current run is its second. Simulated, its result is the
    // server's to compute, and the view has no row of it; scripted, the view shows it.
    assert!(run(README_QUERIES[5]).is_empty());
    let script = server
        .client
        .request("PUT", "/store/v1/traceflows/t14/result")
        .header("content-type", "application/json")
        .body(
            json!({"status": {"phase": "FAILED", "reason": "dropped by policy"},
                   "observations": [
                       {"component_type": "ANTREA_SPOOFGUARD", "container_node_id": "node-1",
                        "observation_type": "AntreaTraceflowObservationForwarded",
                        "timestamp": 5},
                       {"component_type": "ANTREA_DFW", "container_node_id": "node-1",
                        "observation_type": "AntreaTraceflowObservationDropped",
                        "timestamp": 7}]})
            .to_string(),
        );
    assert_eq!(server.client.send(script).await.status, 200);
    let path = run(README_QUERIES[5]);
    assert_eq!(path.len(), 2);
    let served = server
        .client
        .get_path("/policy/api/v1/infra/antrea/traceflows/t14/observations")
        .await
        .body;
    let served = served["results"].as_array().unwrap();
    assert_eq!(path.len(), served.len());
    for (row, observation) in path.iter().zip(served) {
        assert_eq!(row[0], "Integer(2)");
        assert_eq!(row[1], observation["component_type"]);
        assert_eq!(row[2], observation["container_node_id"]);
        assert_eq!(row[3], observation["observation_type"]);
        let millis = observation["timestamp"].as_i64().unwrap();
        let at = chrono::DateTime::from_timestamp_millis(millis).unwrap();
        assert_eq!(row[4], at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    }
}

/// Traceflows stored before runs existed get a run at the next start, once. Here the state
/// the migration that brought runs finds is made by hand while the server is stopped: no
/// runs, and the mark it sets when objects exist.
#[tokio::test]
async fn traceflows_without_a_run_get_one_at_start() {
    let workspace = Workspace::new();
    let server = workspace.start();
    assert_eq!(server.client.put("t14", &seed_request()).await.status, 200);
    server.terminate();
    workspace
        .sql()
        .execute_batch(
            "DELETE FROM antrea_traceflow_runs;
             INSERT INTO store_pending (name) VALUES ('start_runs');",
        )
        .unwrap();
    let server = workspace.start();
    let status = server
        .client
        .get_path("/policy/api/v1/infra/antrea/traceflows/t14/status")
        .await;
    assert_eq!(status.body, json!({"phase": "SUCCEEDED"}));
    let pending: i64 = workspace
        .sql()
        .query_row("SELECT count(*) FROM store_pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0, "no later start scans for objects without a run");
}

/// The revision table holds, row for row, the history the API serves.
#[tokio::test]
async fn the_revision_table_is_the_served_history() {
    let workspace = Workspace::new();
    four_changes(&workspace).await;
    let conn = workspace.sql();
    let mut statement = conn
        .prepare(
            "SELECT path, revision, operation, change_user, change_time, object
             FROM policy_object_revisions WHERE path = ?1 ORDER BY seq",
        )
        .unwrap();
    let rows: Vec<Value> = statement
        .query_map([PATH], |r| {
            let object: String = r.get(5)?;
            Ok(
                json!({"path": r.get::<_, String>(0)?, "revision": r.get::<_, i64>(1)?,
                      "operation": r.get::<_, String>(2)?, "change_user": r.get::<_, String>(3)?,
                      "change_time": r.get::<_, i64>(4)?,
                      "object": serde_json::from_str::<Value>(&object).unwrap()}),
            )
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let server = workspace.start();
    assert_eq!(rows, server.client.history(PATH).await);
}

#[tokio::test]
async fn the_database_file_can_be_read_with_sql() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let created = server.client.put("t14", &seed_request()).await.body;
    let mut body = created.clone();
    body["display_name"] = json!("renamed");
    let replaced = server.client.put("t14", &body).await.body;
    assert_eq!(replaced["_revision"], 1);

    let conn = workspace.sql();
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal, "wal");

    // The object row: indexed columns, the client's config, the server's fields.
    let (path, parent, id, config, revision, unique_id): (
        String,
        String,
        String,
        String,
        i64,
        String,
    ) = conn
        .query_row(
            "SELECT path, parent_path, id, config, revision, unique_id FROM policy_objects
             WHERE resource_type = 'AntreaTraceflowConfig'",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        (path.as_str(), parent.as_str(), id.as_str()),
        ("/infra/antrea/traceflows/t14", "/infra", "t14")
    );
    assert_eq!(revision, 1);
    assert_eq!(unique_id, created["unique_id"]);
    let config: Value = serde_json::from_str(&config).unwrap();
    let mut expected_config = seed_request();
    expected_config["display_name"] = json!("renamed");
    assert_eq!(
        config, expected_config,
        "config holds the client's fields only"
    );

    // Lookups people make are indexed: by id through the view, by path and parent_path.
    for (table, column, value) in [
        ("antrea_traceflow_configs", "id", "t14"),
        ("policy_objects", "path", "/infra/antrea/traceflows/t14"),
        ("policy_objects", "parent_path", "/infra"),
    ] {
        let plan: String = conn
            .query_row(
                &format!("EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE {column} = ?1"),
                [value],
                |row| row.get(3),
            )
            .unwrap();
        let indexed = plan.contains("USING INDEX")
            || plan.contains("USING COVERING INDEX")
            || plan.contains("USING PRIMARY KEY");
        assert!(indexed, "{column}: {plan}");
    }

    // The history: one row per revision, each the whole object as served.
    let mut statement = conn
        .prepare(
            "SELECT revision, operation, object, change_user, change_time
             FROM policy_object_revisions WHERE path = ?1 ORDER BY seq",
        )
        .unwrap();
    let history: Vec<(i64, String, Value, String, i64)> = statement
        .query_map(["/infra/antrea/traceflows/t14"], |r| {
            let object: String = r.get(2)?;
            Ok((
                r.get(0)?,
                r.get(1)?,
                serde_json::from_str(&object).unwrap(),
                r.get(3)?,
                r.get(4)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].0, history[0].1.as_str()), (0, "create"));
    assert_eq!((history[1].0, history[1].1.as_str()), (1, "replace"));
    assert_eq!(history[0].2, created);
    assert_eq!(history[1].2, replaced);
    assert_eq!(history[1].3, "admin");
    assert_eq!(json!(history[1].4), replaced["_last_modified_time"]);

    // History is append-only.
    let update = conn.execute("UPDATE policy_object_revisions SET change_user = 'x'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM policy_object_revisions", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));

    // The view, for people.
    let row = conn
        .query_row(
            "SELECT id, display_name, cluster, source, destination, src_ip, dst_ip, protocol,
                    revision, created_at, modified_at, created_by, modified_by
             FROM antrea_traceflow_configs WHERE id = 't14'",
            [],
            |r| {
                (0..13)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i))
                    .collect::<Result<Vec<_>, _>>()
            },
        )
        .optional()
        .unwrap()
        .expect("the view shows the object");
    use rusqlite::types::Value::{Integer, Text};
    let iso = |ms: &Value| {
        chrono::DateTime::from_timestamp_millis(ms.as_i64().unwrap())
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    assert_eq!(
        row,
        vec![
            Text("t14".into()),
            Text("renamed".into()),
            Text("3abe1a62-156c-46be-a70f-ea237344f1c3".into()),
            Text("4abe1a62-156c-46be-a70f-ea237344f1c3".into()),
            Text("5abe1a62-156c-46be-a70f-ea237344f1c3".into()),
            Text("172.16.14.11".into()),
            Text("172.16.16.13".into()),
            Integer(1),
            Integer(1),
            Text(iso(&created["_create_time"])),
            Text(iso(&replaced["_last_modified_time"])),
            Text("admin".into()),
            Text("admin".into()),
        ]
    );
}

#[tokio::test]
async fn migrations_run_once() {
    let workspace = Workspace::new();
    workspace.start().kill();
    let schema = || -> Vec<String> {
        let conn = workspace.sql();
        let mut statement = conn
            .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        let rows = statement.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let first = schema();
    workspace.start().kill();
    assert_eq!(schema(), first);
    let applied: i64 = workspace
        .sql()
        .query_row("SELECT count(*) FROM refinery_schema_history", [], |r| {
            r.get(0)
        })
        .unwrap();
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(applied, shipped as i64, "each migration applied once");
}

/// `history` reads a SQLite file that exists; it never creates one.
#[test]
fn the_subcommand_needs_an_existing_database() {
    let workspace = Workspace::new();
    let output = Command::new(BIN)
        .args(["history", "/infra/antrea/traceflows/t14", "--database"])
        .arg(workspace.database())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(!workspace.database().exists(), "nothing created");
}
