//! Embedded children (the README's "Embedded children"): a parent written with one of its
//! embedded lists (a security policy's `rules`, a service's `service_entries`) makes the
//! list's items objects of their own, each with its path, `_revision` and history; the
//! parent's GET and list show its children in the field, however they were written; a
//! write with the field replaces them, one without leaves them; a delete of the parent
//! takes them along. The single API, the Hierarchical API, an import, a snapshot, an export
//! and the search agree.

use std::time::Duration;

use serde_json::{json, Value};

use crate::events::Events;
use crate::support::{Client, Workspace};

const POLICY: &str = "/infra/domains/default/security-policies/web";

/// A rule of the policy with the given id, sequence number and action.
fn rule(id: Value, sequence_number: i64, action: &str) -> Value {
    json!({"id": id, "sequence_number": sequence_number, "action": action,
        "source_groups": ["ANY"], "destination_groups": ["ANY"], "services": ["ANY"]})
}

/// The ids of the rules the policy's GET shows, in its order.
async fn shown_rules(client: &Client) -> Vec<String> {
    let policy = client.policy("GET", POLICY, None).await;
    assert_eq!(policy.status, 200, "{policy:#?}");
    ids(&policy.body["rules"])
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("a list: {items:#?}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The operations of the history of `path`, oldest first.
async fn operations(client: &Client, path: &str) -> Vec<String> {
    client
        .history(path)
        .await
        .iter()
        .map(|record| record["operation"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_policy_written_with_its_rules_keeps_each_as_an_object() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let group = "/infra/domains/default/groups/web";
    assert_eq!(
        client.policy("PUT", group, Some(&json!({}))).await.status,
        200
    );
    let mut events = Events::open(client, "", None).await;
    let mut late = rule(json!("late"), 20, "ALLOW");
    late["source_groups"] = json!([group]);
    let body = json!({"category": "Application", "rules": [late, rule(json!(1), 10, "DROP")]});
    let written = client.policy("PATCH", POLICY, Some(&body)).await;
    assert_eq!(written.status, 200, "{written:#?}");

    // Each object's create is an event of its own.
    let mut told: Vec<(String, String)> = events
        .changes(3, Duration::from_secs(5))
        .await
        .iter()
        .map(|event| {
            let path = event["path"].as_str().unwrap().to_owned();
            (path, event["operation"].as_str().unwrap().to_owned())
        })
        .collect();
    told.sort();
    let created = |path: String| (path, "create".to_owned());
    assert_eq!(
        told,
        [
            created(POLICY.to_owned()),
            created(format!("{POLICY}/rules/1")),
            created(format!("{POLICY}/rules/late")),
        ]
    );
    // A rule's references are its own: the group it names cannot go.
    client
        .policy("DELETE", group, None)
        .await
        .api_error(400, 500030);

    // The policy shows its rules in their sequence, each as its own GET answers it.
    let policy = client.policy("GET", POLICY, None).await;
    assert_eq!(ids(&policy.body["rules"]), ["1", "late"]);
    for shown in policy.body["rules"].as_array().unwrap() {
        let path = shown["path"].as_str().unwrap();
        assert!(path.starts_with(&format!("{POLICY}/rules/")), "{path}");
        let alone = client.policy("GET", path, None).await;
        assert_eq!(alone.status, 200, "{alone:#?}");
        assert_eq!(alone.body, *shown);
        assert_eq!(alone.body["_revision"], 0);
        assert_eq!(alone.body["parent_path"], POLICY);
        assert_eq!(operations(client, path).await, ["create"]);
    }
    // The policy itself keeps no copy: its own revision is its own.
    assert_eq!(policy.body["_revision"], 0);
    assert_eq!(operations(client, POLICY).await, ["create"]);

    // The list shows each policy as its GET does (beside NSX's default sections).
    let listed = client
        .policy("GET", "/infra/domains/default/security-policies", None)
        .await;
    let listed = listed.body["results"].as_array().unwrap();
    let web = listed.iter().find(|listed| listed["path"] == POLICY);
    assert_eq!(web, Some(&policy.body));

    // A PUT answers the policy with its rules.
    let mut replaced = policy.body.clone();
    replaced["description"] = json!("kept rules");
    let put = client.policy("PUT", POLICY, Some(&replaced)).await;
    assert_eq!(put.status, 200, "{put:#?}");
    assert_eq!(put.body["description"], "kept rules");
    assert_eq!(ids(&put.body["rules"]), ["1", "late"]);
}

#[tokio::test]
async fn a_put_with_a_shorter_rule_list_removes_exactly_the_dropped_rules() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let rules = [
        rule(json!("a"), 1, "ALLOW"),
        rule(json!("b"), 2, "ALLOW"),
        rule(json!("c"), 3, "ALLOW"),
    ];
    let body = json!({"rules": rules});
    assert_eq!(client.policy("PUT", POLICY, Some(&body)).await.status, 200);

    // A write without the field leaves the rules as they are.
    let renamed = json!({"display_name": "renamed"});
    assert_eq!(
        client.policy("PATCH", POLICY, Some(&renamed)).await.status,
        200
    );
    assert_eq!(shown_rules(client).await, ["a", "b", "c"]);
    let untouched = client
        .policy("GET", &format!("{POLICY}/rules/a"), None)
        .await;
    assert_eq!(untouched.body["_revision"], 0);

    // A PUT whose list drops `b` and changes `c`.
    let mut policy = client.policy("GET", POLICY, None).await.body;
    let mut kept = vec![policy["rules"][0].clone(), policy["rules"][2].clone()];
    kept[1]["action"] = json!("DROP");
    policy["rules"] = json!(kept);
    let put = client.policy("PUT", POLICY, Some(&policy)).await;
    assert_eq!(put.status, 200, "{put:#?}");
    assert_eq!(ids(&put.body["rules"]), ["a", "c"]);
    client
        .policy("GET", &format!("{POLICY}/rules/b"), None)
        .await
        .api_error(404, 600);
    assert_eq!(
        operations(client, &format!("{POLICY}/rules/b")).await,
        ["create", "delete"]
    );
    let changed = client
        .policy("GET", &format!("{POLICY}/rules/c"), None)
        .await;
    assert_eq!(
        (&changed.body["action"], &changed.body["_revision"]),
        (&json!("DROP"), &json!(1))
    );
    assert_eq!(
        operations(client, &format!("{POLICY}/rules/c")).await,
        ["create", "replace"]
    );

    // An empty list removes them all.
    let emptied = client
        .policy("PATCH", POLICY, Some(&json!({"rules": []})))
        .await;
    assert_eq!(emptied.status, 200, "{emptied:#?}");
    assert!(shown_rules(client).await.is_empty());
}

#[tokio::test]
async fn a_rule_written_alone_appears_in_its_policy_and_goes_with_it() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let created = client
        .policy("PUT", POLICY, Some(&json!({"category": "Application"})))
        .await;
    assert_eq!(created.status, 200, "{created:#?}");
    assert_eq!(created.body["rules"], json!([]), "NSX shows an empty list");
    let alone = client
        .policy(
            "PUT",
            &format!("{POLICY}/rules/alone"),
            Some(&rule(json!("alone"), 5, "ALLOW")),
        )
        .await;
    assert_eq!(alone.status, 200, "{alone:#?}");
    let tree = json!({"resource_type": "Infra", "children": [{
        "resource_type": "ChildResourceReference", "target_type": "Domain", "id": "default",
        "children": [{"resource_type": "ChildSecurityPolicy", "SecurityPolicy": {
            "id": "web", "resource_type": "SecurityPolicy",
            "children": [{"resource_type": "ChildRule",
                "Rule": {"resource_type": "Rule", "id": "tree", "sequence_number": 1,
                    "action": "DROP"}}]}}]}]});
    let patched = client.policy("PATCH", "/infra", Some(&tree)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    assert_eq!(shown_rules(client).await, ["tree", "alone"]);

    // NSX's reference: a policy's delete "deletes the security policy along with all the
    // rules".
    let deleted = client.policy("DELETE", POLICY, None).await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");
    for id in ["alone", "tree"] {
        let path = format!("{POLICY}/rules/{id}");
        client.policy("GET", &path, None).await.api_error(404, 600);
        assert_eq!(operations(client, &path).await, ["create", "delete"]);
    }
}

#[tokio::test]
async fn the_hierarchical_api_an_import_a_snapshot_and_the_search_agree() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    // A tree's policy that embeds its rules makes them objects as a single write does.
    let tree = json!({"resource_type": "Infra", "children": [{
        "resource_type": "ChildResourceReference", "target_type": "Domain", "id": "default",
        "children": [{"resource_type": "ChildSecurityPolicy", "SecurityPolicy": {
            "id": "web", "resource_type": "SecurityPolicy",
            "rules": [rule(json!("r2"), 2, "ALLOW"), rule(json!("r1"), 1, "DROP")]}}]}]});
    let patched = client.policy("PATCH", "/infra", Some(&tree)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    assert_eq!(shown_rules(client).await, ["r1", "r2"]);

    // An import line that embeds a service's entries makes them objects too.
    let line = json!({"resource_type": "Service", "path": "/infra/services/web", "id": "web",
        "service_entries": [{"id": "http", "resource_type": "L4PortSetServiceEntry",
            "l4_protocol": "TCP", "destination_ports": ["80"]}]});
    let request = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"));
    let imported = client.send(request).await;
    assert_eq!(imported.status, 200, "{imported:#?}");
    let entry = client
        .policy("GET", "/infra/services/web/service-entries/http", None)
        .await;
    assert_eq!(entry.status, 200, "{entry:#?}");
    assert_eq!(entry.body["resource_type"], "L4PortSetServiceEntry");
    let service = client.policy("GET", "/infra/services/web", None).await;
    assert_eq!(service.body["service_entries"], json!([entry.body]));

    // An export writes each child on a line of its own, and no parent with a copy of them.
    let export = client.export().await;
    let lines: Vec<Value> = export
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let path_of = |line: &Value| line["path"].as_str().unwrap_or_default().to_owned();
    let exported: Vec<String> = lines.iter().map(path_of).collect();
    for path in [
        format!("{POLICY}/rules/r1"),
        format!("{POLICY}/rules/r2"),
        "/infra/services/web/service-entries/http".to_owned(),
    ] {
        assert!(exported.contains(&path), "{path} in {exported:?}");
    }
    for line in &lines {
        assert!(line.get("rules").is_none() && line.get("service_entries").is_none());
    }

    // The search finds each child as an object of its own (beside the rules of NSX's default
    // sections).
    let found = client
        .get_path("/policy/api/v1/search/query?query=resource_type:Rule%20AND%20_create_user:admin")
        .await;
    assert_eq!(found.body["result_count"], 2, "{found:#?}");

    // A snapshot brings the children back with their parent.
    let saved = client
        .call("PUT", "/store/v1/snapshots/embedded", None)
        .await;
    assert_eq!(saved.status, 200, "{saved:#?}");
    assert_eq!(client.policy("DELETE", POLICY, None).await.status, 200);
    let restored = client
        .call("POST", "/store/v1/snapshots/embedded?action=restore", None)
        .await;
    assert_eq!(restored.status, 200, "{restored:#?}");
    assert_eq!(shown_rules(client).await, ["r1", "r2"]);
}

/// Every way a list or its items can be wrong: refused with NSX's error naming the item's
/// field, and neither the parent nor any child changes.
#[tokio::test]
async fn a_hostile_list_is_refused_naming_its_item_and_changes_nothing() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let body = json!({"rules": [rule(json!("a"), 1, "ALLOW")]});
    assert_eq!(client.policy("PUT", POLICY, Some(&body)).await.status, 200);
    let before = client.policy("GET", POLICY, None).await.body;
    let entry = |fields: Value| {
        let mut entry = json!({"id": "e", "resource_type": "L4PortSetServiceEntry",
            "l4_protocol": "TCP"});
        entry
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        entry
    };
    for (path, body, field) in [
        (POLICY, json!({"rules": "a"}), "rules"),
        (POLICY, json!({"rules": [7]}), "rules[0]"),
        (
            POLICY,
            json!({"rules": [{"action": "ALLOW"}]}),
            "rules[0].id",
        ),
        (POLICY, json!({"rules": [{"id": true}]}), "rules[0].id"),
        (POLICY, json!({"rules": [{"id": "x/y"}]}), "rules[0].id"),
        (
            POLICY,
            json!({"rules": [rule(json!("b"), 1, "ALLOW"), rule(json!("b"), 2, "DROP")]}),
            "rules[1].id",
        ),
        (
            POLICY,
            json!({"rules": [rule(json!("b"), 1, "ALLOW"), rule(json!("c"), 2, "MAYBE")]}),
            "rules[1].action",
        ),
        (
            POLICY,
            json!({"rules": [rule(json!("b"), -1, "ALLOW")]}),
            "rules[0].sequence_number",
        ),
        (
            "/infra/services/s",
            json!({"service_entries": [entry(json!({"l4_protocol": "SCTP"}))]}),
            "service_entries[0].l4_protocol",
        ),
        (
            "/infra/services/s",
            json!({"service_entries": [entry(json!({"resource_type": "Rule"}))]}),
            "service_entries[0].resource_type",
        ),
    ] {
        client
            .policy("PATCH", path, Some(&body))
            .await
            .field_error(field);
    }
    assert_eq!(client.policy("GET", POLICY, None).await.body, before);
    client
        .policy("GET", "/infra/services/s", None)
        .await
        .api_error(404, 600);

    // An item's stale `_revision` refuses the whole write: the policy keeps its own too.
    let mut stale = before.clone();
    stale["display_name"] = json!("changed");
    stale["rules"][0]["_revision"] = json!(7);
    client
        .policy("PUT", POLICY, Some(&stale))
        .await
        .api_error(412, 206);
    assert_eq!(client.policy("GET", POLICY, None).await.body, before);
}
