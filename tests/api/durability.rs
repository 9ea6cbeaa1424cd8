//! The store survives restarts and kills, and can be read with plain SQL.

use crate::support::{minimal, seed_request, Workspace};
use rusqlite::OptionalExtension;
use serde_json::{json, Value};

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
    let integrity: String = workspace
        .sql()
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
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
            "SELECT path, parent_path, id, config, revision, unique_id FROM policy_objects",
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
