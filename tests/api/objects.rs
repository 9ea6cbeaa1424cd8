//! Objects of the catalog's types over HTTP: the same `_revision` rules as traceflows, the
//! server's fields derived from the path, validation from the catalog, and durability.

use serde_json::{json, Value};

use crate::support::{Workspace, AUDITOR};

#[tokio::test]
async fn a_segment_follows_the_revision_rules_of_every_policy_object() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let path = "/infra/segments/web";

    let body = json!({"subnets": [{"gateway_address": "10.0.0.1/24"}], "admin_state": "UP"});
    let created = client.policy("PUT", path, Some(&body)).await;
    assert_eq!(created.status, 200, "{created:#?}");
    let object = &created.body;
    for (field, value) in [
        ("resource_type", json!("Segment")),
        ("id", json!("web")),
        ("display_name", json!("web")),
        ("path", json!("/infra/segments/web")),
        ("relative_path", json!("web")),
        ("parent_path", json!("/infra")),
        ("_revision", json!(0)),
        ("marked_for_delete", json!(false)),
        ("_system_owned", json!(false)),
        ("_protection", json!("NOT_PROTECTED")),
        ("_create_user", json!("admin")),
        ("admin_state", json!("UP")),
    ] {
        assert_eq!(object[field], value, "{field}");
    }
    assert!(object["unique_id"].as_str().is_some());
    assert_eq!(client.policy("GET", path, None).await.body, *object);

    // A PUT without `_revision` of an existing object: 400/500127, nothing changes.
    let again = client.policy("PUT", path, Some(&body)).await;
    let message = again.api_error(400, 500127);
    assert!(message.contains("path=[/infra/segments/web]"), "{message}");

    // Replace by the stored revision; a stale one is 412.
    let mut replace = object.clone();
    replace["description"] = json!("front end");
    let replaced = client.policy("PUT", path, Some(&replace)).await;
    assert_eq!(replaced.status, 200, "{replaced:#?}");
    assert_eq!(replaced.body["_revision"], 1);
    assert_eq!(replaced.body["unique_id"], object["unique_id"]);
    client
        .policy("PUT", path, Some(&replace))
        .await
        .api_error(412, 206);

    // PATCH merges the top-level fields it sets.
    let patched = client
        .policy("PATCH", path, Some(&json!({"vlan_ids": ["7"]})))
        .await;
    assert_eq!((patched.status, &patched.body), (200, &Value::Null));
    let read = client.policy("GET", path, None).await.body;
    assert_eq!(read["_revision"], 2);
    assert_eq!(read["description"], "front end");
    assert_eq!(read["vlan_ids"], json!(["7"]));
    client
        .policy("PATCH", path, Some(&json!({"_revision": 0})))
        .await
        .api_error(412, 206);

    // DELETE, idempotent.
    for _ in 0..2 {
        assert_eq!(client.policy("DELETE", path, None).await.status, 200);
    }
    client.policy("GET", path, None).await.api_error(404, 600);
}

#[tokio::test]
async fn nested_paths_derive_their_parent_and_survive_a_restart() {
    let workspace = Workspace::new();
    let objects = [
        (
            "/infra/domains/default/groups/web",
            json!({"expression": [
            {"resource_type": "Condition", "member_type": "VirtualMachine", "key": "Tag",
             "operator": "EQUALS", "value": "web"}]}),
            "/infra/domains/default",
        ),
        (
            "/infra/services/http",
            json!({"service_entries": [
            {"resource_type": "L4PortSetServiceEntry", "id": "tcp-80",
             "l4_protocol": "TCP", "destination_ports": ["80"]}]}),
            "/infra",
        ),
        ("/infra/tier-1s/t1", json!({}), "/infra"),
        (
            "/infra/tier-1s/t1/locale-services/default",
            json!({}),
            "/infra/tier-1s/t1",
        ),
        ("/orgs/default/projects/p1", json!({}), "/orgs/default"),
        (
            "/orgs/default/projects/p1/vpcs/v1",
            json!({"private_ips": ["10.1.0.0/16"]}),
            "/orgs/default/projects/p1",
        ),
    ];
    {
        let server = workspace.start();
        for (path, body, parent) in &objects {
            let reply = server.client.policy("PUT", path, Some(body)).await;
            assert_eq!(reply.status, 200, "{path}: {reply:#?}");
            assert_eq!(reply.body["parent_path"], *parent, "{path}");
        }
        server.terminate();
    }
    let server = workspace.start();
    for (path, body, _) in &objects {
        let read = server.client.policy("GET", path, None).await;
        assert_eq!(read.status, 200, "{path}: {read:#?}");
        for (field, value) in body.as_object().unwrap() {
            assert!(holds(&read.body[field], value), "{path} {field}: {read:#?}");
        }
    }
}

/// Whether `read` holds what `given` said: the same value, where a list holds as many items
/// each holding its given one and an object every given member (an embedded child read back
/// carries its server fields too).
fn holds(read: &Value, given: &Value) -> bool {
    match (read, given) {
        (Value::Array(read), Value::Array(given)) => {
            read.len() == given.len() && read.iter().zip(given).all(|(r, g)| holds(r, g))
        }
        (Value::Object(read), Value::Object(given)) => given
            .iter()
            .all(|(field, value)| read.get(field).is_some_and(|r| holds(r, value))),
        _ => read == given,
    }
}

#[tokio::test]
async fn bodies_are_checked_against_the_catalog_and_change_nothing() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let path = "/infra/segments/web";
    for (body, field) in [
        (json!({"admin_state": "SIDEWAYS"}), "admin_state"),
        (
            json!({"subnets": [{"gateway_adress": "10.0.0.1/24"}]}),
            "subnets[0].gateway_adress",
        ),
        (json!({"subnets": {"gateway_address": "x"}}), "subnets"),
        (json!({"overlay_id": -1}), "overlay_id"),
        (json!({"colour": "red"}), "colour"),
        (json!({"resource_type": "Group"}), "resource_type"),
        (json!({"id": "db"}), "id"),
        (
            json!({"tags": [{"scope": "x".repeat(129)}]}),
            "tags[0].scope",
        ),
    ] {
        client
            .policy("PUT", path, Some(&body))
            .await
            .field_error(field);
        client
            .policy("PATCH", path, Some(&body))
            .await
            .field_error(field);
    }
    let polymorphic = json!({"service_entries": [{"id": "e", "l4_protocol": "TCP"}]});
    client
        .policy("PUT", "/infra/services/s", Some(&polymorphic))
        .await
        .field_error("service_entries[0].resource_type");
    client.policy("GET", path, None).await.api_error(404, 600);
    client
        .policy("GET", "/infra/services/s", None)
        .await
        .api_error(404, 600);
}

#[tokio::test]
async fn paths_and_methods_the_catalog_does_not_serve_are_refused() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    client
        .policy("GET", "/infra/no-such-things/x", None)
        .await
        .api_error(404, 600);
    client
        .policy("GET", "/infra/segments//web", None)
        .await
        .api_error(404, 600);
    // Orgs are NSX's own: read, never written.
    client
        .policy("PUT", "/orgs/o1", Some(&json!({})))
        .await
        .api_error(405, 253);
    client
        .policy("POST", "/infra/segments/web", None)
        .await
        .api_error(405, 253);
    // A collection's name is no id: the collection wins, and has only GET.
    client
        .policy("PUT", "/infra/segments/service-segments", Some(&json!({})))
        .await
        .api_error(405, 253);
    let listed = client
        .policy("GET", "/infra/segments/service-segments", None)
        .await;
    assert_eq!(listed.body["result_count"], 0, "{listed:#?}");
    client
        .policy("GET", "/infra/segments/a%2Fb", None)
        .await
        .field_error("id");
    // An auditor reads, and writes nothing.
    let auditor = client.as_user(AUDITOR);
    let refused = auditor
        .policy("PUT", "/infra/segments/web", Some(&json!({})))
        .await;
    refused.api_error(403, 401);
    client
        .policy("GET", "/infra/segments/web", None)
        .await
        .api_error(404, 600);
}

#[tokio::test]
async fn a_collection_lists_its_own_members_page_by_page() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for path in [
        "/infra/domains/default/groups/g1",
        "/infra/domains/default/groups/g2",
        "/infra/domains/default/groups/g3",
        "/infra/domains/other",
        "/infra/domains/other/groups/g4",
        "/infra/tier-0s/t0",
        "/infra/tier-0s/t0/groups/g5",
        "/infra/segments/s1",
        "/infra/segments/service-segments/s2",
    ] {
        let reply = client.policy("PUT", path, Some(&json!({}))).await;
        assert_eq!(reply.status, 200, "{path}: {reply:#?}");
    }
    let mut seen = Vec::new();
    let mut query = "?page_size=2&sort_by=id".to_owned();
    loop {
        let page = client
            .policy(
                "GET",
                &format!("/infra/domains/default/groups{query}"),
                None,
            )
            .await;
        assert_eq!(page.status, 200, "{page:#?}");
        assert_eq!(page.body["result_count"], 3);
        for object in page.body["results"].as_array().unwrap() {
            seen.push(object["id"].as_str().unwrap().to_owned());
        }
        match page.body["cursor"].as_str() {
            Some(cursor) => query = format!("?page_size=2&sort_by=id&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["g1", "g2", "g3"]);
    let segments = client.policy("GET", "/infra/segments", None).await;
    assert_eq!(segments.body["result_count"], 1, "{segments:#?}");
    assert_eq!(segments.body["results"][0]["path"], "/infra/segments/s1");
    // A cursor of one collection is not one of another's.
    let first = client
        .policy("GET", "/infra/domains/default/groups?page_size=1", None)
        .await;
    let cursor = first.body["cursor"].as_str().unwrap();
    client
        .policy(
            "GET",
            &format!("/infra/segments?page_size=1&cursor={cursor}"),
            None,
        )
        .await
        .field_error("cursor");
    client
        .policy("GET", "/infra/domains/default/groups?page_size=2000", None)
        .await
        .field_error("page_size");
}
