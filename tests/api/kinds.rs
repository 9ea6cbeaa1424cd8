//! What a kind does beyond the catalog, through every way a write arrives: the single API,
//! the Hierarchical API and an import each run every hook of the object's kind (its checks
//! of a body, of a whole object, whether others may name it, what the system writes beside
//! it, and the rows it keeps of its own), and a snapshot's restore brings back what the
//! hooks made. The traceflow, the project and the segment are the kinds with behaviour of
//! their own; what NSX fills in for a type (a group's empty conditions) comes every way too.

use serde_json::{json, Map, Value};

use crate::support::{seed_request, Client, Reply, Workspace};

/// The ways a client's object reaches the store.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// `PUT` of the object's own path.
    Single,
    /// `PATCH` of the tree above it: `/infra` for a traceflow, `/org-root` for a project.
    Hierarchical,
    /// One line of `POST /store/v1/import`.
    Import,
}

const WAYS: [Way; 3] = [Way::Single, Way::Hierarchical, Way::Import];

/// An object of one of the kinds: where it goes and what a tree names it.
struct Object {
    path: String,
    id: String,
    resource_type: &'static str,
    /// The tree's parent of the object (`PATCH` of it writes the object), the child's
    /// wrapper and the wrapper's key, and how the tree's root reaches the parent.
    tree: &'static str,
    child: (&'static str, &'static str),
    under: fn(Value) -> Value,
}

fn traceflow(id: &str) -> Object {
    Object {
        path: format!("/infra/antrea/traceflows/{id}"),
        id: id.to_owned(),
        resource_type: "AntreaTraceflowConfig",
        tree: "/infra",
        child: ("ChildAntreaTraceflowConfig", "TraceflowConfig"),
        under: |child| json!({"resource_type": "Infra", "children": [child]}),
    }
}

fn project(id: &str) -> Object {
    Object {
        path: format!("/orgs/default/projects/{id}"),
        id: id.to_owned(),
        resource_type: "Project",
        tree: "/org-root",
        child: ("ChildProject", "Project"),
        under: |child| {
            json!({"resource_type": "OrgRoot", "children": [
                {"resource_type": "ChildResourceReference", "target_type": "Org",
                 "id": "default", "children": [child]}]})
        },
    }
}

fn infra_child(
    id: &str,
    path: String,
    resource_type: &'static str,
    child: (&'static str, &'static str),
) -> Object {
    Object {
        path,
        id: id.to_owned(),
        resource_type,
        tree: "/infra",
        child,
        under: |child| json!({"resource_type": "Infra", "children": [child]}),
    }
}

fn segment(id: &str) -> Object {
    let path = format!("/infra/segments/{id}");
    infra_child(id, path, "Segment", ("ChildSegment", "Segment"))
}

/// A group of the default domain, which a tree reaches through a reference to the domain.
fn group(id: &str) -> Object {
    Object {
        under: |child| {
            json!({"resource_type": "Infra", "children": [
                {"resource_type": "ChildResourceReference", "target_type": "Domain",
                 "id": "default", "children": [child]}]})
        },
        ..infra_child(
            id,
            format!("/infra/domains/default/groups/{id}"),
            "Group",
            ("ChildGroup", "Group"),
        )
    }
}

/// Writes `object` with the client's fields `body`, the way `way`.
async fn write(client: &Client, way: Way, object: &Object, body: &Value) -> Reply {
    let mut fields: Map<String, Value> = body.as_object().unwrap().clone();
    fields.insert("id".into(), json!(object.id));
    fields.insert("resource_type".into(), json!(object.resource_type));
    match way {
        Way::Single => client.policy("PUT", &object.path, Some(body)).await,
        Way::Hierarchical => {
            let (wrapper, key) = object.child;
            let child = json!({"resource_type": wrapper, key: fields});
            let tree = (object.under)(child);
            client.policy("PATCH", object.tree, Some(&tree)).await
        }
        Way::Import => {
            fields.insert("path".into(), json!(object.path));
            let request = client
                .request("POST", "/store/v1/import")
                .header("content-type", "application/x-ndjson")
                .body(format!("{}\n", Value::Object(fields)));
            client.send(request).await
        }
    }
}

/// The status of `path` (below `/policy/api/v1`).
async fn status_of(client: &Client, path: &str) -> u16 {
    client.policy("GET", path, None).await.status
}

/// The kind's check of a body (the traceflow's typed fields) refuses, whichever way the
/// body comes, with NSX's error naming the field, and nothing is written.
#[tokio::test]
async fn a_kinds_check_of_a_body_refuses_every_way() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (n, way) in WAYS.into_iter().enumerate() {
        let object = traceflow(&format!("bad-{n}"));
        let mut body = seed_request();
        body["packet"] = json!({"ipHeader": {"srcIp": "not an address"}});
        let refused = write(client, way, &object, &body).await;
        assert_eq!(refused.status, 400, "{way:?}: {refused:#?}");
        assert!(refused.text.contains("srcIp"), "{way:?}: {}", refused.text);
        assert_eq!(status_of(client, &object.path).await, 404, "{way:?}");
    }
}

/// The kind's check of a whole object (the traceflow's required fields) refuses a create
/// without them, whichever way it comes.
#[tokio::test]
async fn a_kinds_check_of_a_whole_object_refuses_every_way() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (n, way) in WAYS.into_iter().enumerate() {
        let object = traceflow(&format!("partial-{n}"));
        let body = json!({"container_cluster_id": "cluster-a"});
        let refused = write(client, way, &object, &body).await;
        assert_eq!(refused.status, 400, "{way:?}: {refused:#?}");
        assert!(
            refused.text.contains("source_external_id"),
            "{way:?}: {}",
            refused.text
        );
        assert_eq!(status_of(client, &object.path).await, 404, "{way:?}");
    }
}

/// The kind's check of a body may derive what NSX derives: a segment's subnets each get the
/// network of their gateway address (a network sent back is not taken), whichever way the
/// segment comes; a gateway address that is no address with a prefix is refused, naming it.
#[tokio::test]
async fn a_kinds_check_derives_every_way() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (n, way) in WAYS.into_iter().enumerate() {
        let object = segment(&format!("s{n}"));
        let body = json!({"subnets": [
            {"gateway_address": "10.1.2.1/24", "network": "192.0.2.0/24"},
            {"gateway_address": "2001:db8:0:7::1/64"}]});
        let written = write(client, way, &object, &body).await;
        assert_eq!(written.status, 200, "{way:?}: {written:#?}");
        let read = client.policy("GET", &object.path, None).await;
        let subnets = &read.body["subnets"];
        assert_eq!(subnets[0]["network"], "10.1.2.0/24", "{way:?}: {read:#?}");
        assert_eq!(subnets[1]["network"], "2001:db8:0:7::/64", "{way:?}");

        let bad = segment(&format!("bad-{n}"));
        let body = json!({"subnets": [{"gateway_address": "10.1.2.1"}]});
        let refused = write(client, way, &bad, &body).await;
        assert_eq!(refused.status, 400, "{way:?}: {refused:#?}");
        assert!(
            refused.text.contains("subnets[0].gateway_address"),
            "{way:?}: {}",
            refused.text
        );
        assert_eq!(status_of(client, &bad.path).await, 404, "{way:?}");
    }
}

/// What NSX fills in where a write leaves a field out (a group's `expression`,
/// `extended_expression` and `reference`) is filled whichever way the group comes, kept by a
/// PATCH that does not name it, and what a client gives is kept.
#[tokio::test]
async fn what_nsx_fills_in_comes_every_way() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (n, way) in WAYS.into_iter().enumerate() {
        let object = group(&format!("g{n}"));
        let written = write(client, way, &object, &json!({"display_name": "web"})).await;
        assert_eq!(written.status, 200, "{way:?}: {written:#?}");
        let read = client.policy("GET", &object.path, None).await;
        assert_eq!(read.body["expression"], json!([]), "{way:?}: {read:#?}");
        assert_eq!(read.body["extended_expression"], json!([]), "{way:?}");
        assert_eq!(read.body["reference"], false, "{way:?}");
    }
    let path = "/infra/domains/default/groups/g0";
    let patched = client
        .policy("PATCH", path, Some(&json!({"description": "web servers"})))
        .await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    let given = json!([{"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.1"]}]);
    let replaced = client
        .policy(
            "PUT",
            path,
            Some(&json!({"expression": given, "_revision": 1})),
        )
        .await;
    assert_eq!(replaced.status, 200, "{replaced:#?}");
    let read = client.policy("GET", path, None).await;
    assert_eq!(
        read.body["expression"][0]["ip_addresses"],
        json!(["10.0.0.1"])
    );
    assert_eq!(read.body["extended_expression"], json!([]), "{read:#?}");
}

/// What the system writes beside an object (a project's default domain) is written
/// whichever way the project comes, is deleted with it, and comes back with it from a
/// snapshot.
#[tokio::test]
async fn a_kinds_companions_come_every_way_and_back_with_a_restore() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (n, way) in WAYS.into_iter().enumerate() {
        let object = project(&format!("p{n}"));
        let written = write(client, way, &object, &json!({"description": "a team"})).await;
        assert_eq!(written.status, 200, "{way:?}: {written:#?}");
        let domain = client
            .policy(
                "GET",
                &format!("{}/infra/domains/default", object.path),
                None,
            )
            .await;
        assert_eq!(domain.status, 200, "{way:?}: {domain:#?}");
        assert_eq!(domain.body["_system_owned"], true, "{way:?}");
    }

    let saved = client.call("PUT", "/store/v1/snapshots/teams", None).await;
    assert_eq!(saved.status, 200, "{saved:#?}");
    let deleted = client
        .policy("DELETE", "/orgs/default/projects/p0", None)
        .await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");
    let domain = "/orgs/default/projects/p0/infra/domains/default";
    assert_eq!(
        status_of(client, domain).await,
        404,
        "deleted with its project"
    );

    let restored = client
        .call("POST", "/store/v1/snapshots/teams?action=restore", None)
        .await;
    assert_eq!(restored.status, 200, "{restored:#?}");
    assert_eq!(status_of(client, "/orgs/default/projects/p0").await, 200);
    assert_eq!(
        status_of(client, domain).await,
        200,
        "back with its project"
    );
}

/// An object of a kind others may not name (a traceflow) can be deleted while an object
/// names it, by a DELETE or in a tree (an import only creates); an object of the catalog's
/// kind cannot.
#[tokio::test]
async fn whether_others_may_name_an_object_is_its_kinds_every_way() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (n, way) in WAYS.into_iter().enumerate() {
        let object = traceflow(&format!("named-{n}"));
        assert_eq!(
            write(client, way, &object, &seed_request()).await.status,
            200
        );
        let segment = format!("/infra/segments/named-{n}");
        assert_eq!(
            client
                .policy("PUT", &segment, Some(&json!({})))
                .await
                .status,
            200
        );
        let group = json!({"expression": [{"resource_type": "PathExpression",
            "paths": [object.path, segment]}]});
        let group_path = format!("/infra/domains/default/groups/naming-{n}");
        let named = client.policy("PUT", &group_path, Some(&group)).await;
        assert_eq!(named.status, 200, "{way:?}: {named:#?}");

        let kept = client.policy("DELETE", &segment, None).await;
        assert_eq!(kept.status, 400, "{way:?}: a segment the group names stays");
        let gone = match way {
            Way::Hierarchical => {
                let marked = json!({"marked_for_delete": true});
                write(client, way, &object, &marked).await
            }
            Way::Single | Way::Import => client.policy("DELETE", &object.path, None).await,
        };
        assert_eq!(gone.status, 200, "{way:?}: {gone:#?}");
        assert_eq!(status_of(client, &object.path).await, 404, "{way:?}");
    }
}

/// The rows a kind keeps beside its objects (a traceflow's run) are written whichever way
/// the object comes, and come back with it from a snapshot.
#[tokio::test]
async fn a_kinds_own_rows_come_every_way_and_back_with_a_restore() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (n, way) in WAYS.into_iter().enumerate() {
        let object = traceflow(&format!("run-{n}"));
        let written = write(client, way, &object, &seed_request()).await;
        assert_eq!(written.status, 200, "{way:?}: {written:#?}");
        let runs = client
            .get_path(&format!("/store/v1/traceflows/{}/runs", object.id))
            .await;
        assert_eq!(runs.status, 200, "{way:?}: {runs:#?}");
        assert_eq!(runs.body["current"]["run"], 1, "{way:?}: {runs:#?}");
    }

    let saved = client.call("PUT", "/store/v1/snapshots/runs", None).await;
    assert_eq!(saved.status, 200, "{saved:#?}");
    let retraced = client
        .policy(
            "POST",
            "/infra/antrea/traceflows/run-0?action=retrace",
            None,
        )
        .await;
    assert_eq!(retraced.status, 200, "{retraced:#?}");
    let deleted = client
        .policy("DELETE", "/infra/antrea/traceflows/run-1", None)
        .await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");

    let restored = client
        .call("POST", "/store/v1/snapshots/runs?action=restore", None)
        .await;
    assert_eq!(restored.status, 200, "{restored:#?}");
    for (id, run) in [("run-0", 1), ("run-1", 1), ("run-2", 1)] {
        let runs = client
            .get_path(&format!("/store/v1/traceflows/{id}/runs"))
            .await;
        assert_eq!(runs.body["current"]["run"], run, "{id}: {runs:#?}");
    }
}
