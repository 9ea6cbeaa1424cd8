//! PUT and GET of one traceflow config: the object, creation and the `_revision` rules.

use crate::support::{minimal, seed_request, Workspace};
use serde_json::{json, Value};

/// The seed's example response, as printed in the NSX API reference.
fn seed_response() -> Value {
    let mut response = seed_request();
    let server_set = json!({
        "resource_type": "AntreaTraceflowConfig", "id": "t14", "display_name": "t14",
        "path": "/infra/antrea/traceflows/t14", "relative_path": "t14", "parent_path": "/infra",
        "unique_id": "d3c59bf3-5de8-4d65-91cc-940458fc8860", "marked_for_delete": false,
        "overridden": false, "_create_user": "admin", "_create_time": 1579243672065i64,
        "_last_modified_user": "admin", "_last_modified_time": 1579243672065i64,
        "_system_owned": false, "_protection": "NOT_PROTECTED", "_revision": 0
    });
    response
        .as_object_mut()
        .unwrap()
        .extend(server_set.as_object().unwrap().clone());
    response
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn the_seed_request_gives_the_seed_response() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let before = now_ms();
    let reply = server.client.put("t14", &seed_request()).await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));

    let got = reply.body.as_object().unwrap();
    let expected = seed_response();
    let expected = expected.as_object().unwrap();
    assert_eq!(
        got.keys().collect::<std::collections::BTreeSet<_>>(),
        expected.keys().collect(),
        "same fields"
    );
    for (field, value) in expected {
        match field.as_str() {
            "unique_id" => {
                let uuid = uuid::Uuid::parse_str(got[field].as_str().unwrap()).unwrap();
                assert_eq!(uuid.get_version_num(), 4);
            }
            "_create_time" | "_last_modified_time" => {
                let t = got[field].as_i64().unwrap();
                assert!(t >= before && t <= now_ms(), "{field} = {t}");
            }
            _ => assert_eq!(&got[field], value, "field {field}"),
        }
    }
    assert_eq!(got["_create_time"], got["_last_modified_time"]);

    // GET reads back exactly what PUT answered.
    let read = server.client.get("t14").await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, reply.body);
}

#[tokio::test]
async fn put_follows_the_revision_table() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    // Object absent: PUT with any _revision (or none) creates at revision 0.
    for (id, revision) in [("a", None), ("b", Some(0)), ("c", Some(7))] {
        let mut body = minimal();
        if let Some(revision) = revision {
            body["_revision"] = json!(revision);
        }
        let reply = client.put(id, &body).await;
        assert_eq!(reply.status, 200, "{id}: {reply:#?}");
        assert_eq!(reply.body["_revision"], 0);
    }

    // Object present, no _revision: 400/500127, nothing changes.
    let original = client.get("a").await.body;
    let mut changed = minimal();
    changed["description"] = json!("changed");
    let message = client.put("a", &changed).await.api_error(400, 500127);
    assert_eq!(
        message,
        "Cannot create an object with path=[/infra/antrea/traceflows/a] as it already exists."
    );
    assert_eq!(client.get("a").await.body, original);

    // Object present, stale _revision: 412, nothing changes.
    changed["_revision"] = json!(5);
    let message = client.put("a", &changed).await.api_error(412, 206);
    assert_eq!(
        message,
        "Object _revision mismatch! (current: 0, requested: 5). \
         Fetch the latest copy of the object and retry!"
    );
    assert_eq!(client.get("a").await.body, original);

    // Object present, the stored _revision: full replace, identity kept, revision + 1.
    changed["_revision"] = json!(0);
    let replaced = client.put("a", &changed).await;
    assert_eq!(replaced.status, 200, "{replaced:#?}");
    let replaced = replaced.body;
    assert_eq!(replaced["_revision"], 1);
    assert_eq!(replaced["description"], "changed");
    for kept in ["unique_id", "_create_time", "_create_user"] {
        assert_eq!(replaced[kept], original[kept], "{kept}");
    }
    assert!(replaced["_last_modified_time"].as_i64() >= original["_last_modified_time"].as_i64());
    assert_eq!(client.get("a").await.body, replaced);

    // A full replace drops what the new body leaves out.
    let mut bare = minimal();
    bare["_revision"] = json!(1);
    let reply = client.put("a", &bare).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.get("description").is_none(), "{:#?}", reply.body);
    assert_eq!(reply.body["display_name"], "a");
}

#[tokio::test]
async fn read_only_fields_sent_back_are_ignored() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let created = client.put("t14", &seed_request()).await.body;

    // GET-modify-PUT: send back everything the server set, with lies where allowed.
    let mut body = created.clone();
    body["unique_id"] = json!("00000000-0000-4000-8000-000000000000");
    body["_create_user"] = json!("mallory");
    body["_create_time"] = json!(1);
    body["path"] = json!("/infra/elsewhere");
    body["marked_for_delete"] = json!(true);
    body["_protection"] = json!("PROTECTED");
    body["_links"] = json!([{"href": "/x"}]);
    body["display_name"] = json!("renamed");
    let reply = client.put("t14", &body).await;
    assert_eq!(reply.status, 200, "{reply:#?}");

    let mut expected = created.clone();
    expected["display_name"] = json!("renamed");
    expected["_revision"] = json!(1);
    expected["_last_modified_time"] = reply.body["_last_modified_time"].clone();
    assert_eq!(reply.body, expected);
}

#[tokio::test]
async fn concurrent_creates_of_one_id_have_exactly_one_winner() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let mut creates = tokio::task::JoinSet::new();
    for n in 0..32 {
        let client = server.client.clone();
        creates.spawn(async move {
            let mut body = minimal();
            body["description"] = json!(format!("writer {n}"));
            client.put("contested", &body).await
        });
    }
    let mut winners = Vec::new();
    while let Some(reply) = creates.join_next().await {
        let reply = reply.unwrap();
        if reply.status == 200 {
            winners.push(reply.body);
        } else {
            reply.api_error(400, 500127);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create wins");
    assert_eq!(server.client.get("contested").await.body, winners[0]);

    let history = server
        .client
        .history("/infra/antrea/traceflows/contested")
        .await;
    assert_eq!(history.len(), 1, "losers leave no history");
}

#[tokio::test]
async fn ids_are_percent_decoded_and_checked() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    let reply = client.put("with%20space", &minimal()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["id"], "with space");
    assert_eq!(reply.body["path"], "/infra/antrea/traceflows/with space");
    assert_eq!(client.get("with%20space").await.body, reply.body);

    let long = "x".repeat(256);
    for bad in ["a%2Fb", "%20%20", "a%0Ab", "%FF", long.as_str()] {
        client.put(bad, &minimal()).await.field_error("id");
    }
    assert_eq!(client.all_objects().await.len(), 1);

    // Ids are case sensitive.
    let message = client.get("WITH%20SPACE").await.api_error(404, 600);
    assert_eq!(
        message,
        "The requested object : /infra/antrea/traceflows/WITH SPACE could not be found. \
         Object identifiers are case sensitive."
    );
}
