//! What NSX fills in (the README's "What NSX fills in and derives"): the defaults NSX's API
//! specification gives a type's fields are there when a create or a replace leaves them out,
//! whichever way the object comes (the single API, a tree, an embedded list, an import); a
//! value a client gives is kept; a PUT is a full replace, so a field it leaves out is its
//! default again, and a PATCH that does not name a field keeps it.

use serde_json::{json, Value};

use crate::support::{Client, Workspace};

/// Asserts that the object at `path` holds every member of `expected`.
async fn assert_reads(client: &Client, path: &str, expected: &Value) {
    let read = client.policy("GET", path, None).await;
    assert_eq!(read.status, 200, "{path}: {read:#?}");
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(read.body[field], *value, "{path} {field}: {read:#?}");
    }
}

#[tokio::test]
async fn defaults_are_filled_in_every_way_a_create_comes() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    // The single API, a subtype of a polymorphic route included.
    for (path, body, defaults) in [
        (
            "/infra/tier-1s/t1",
            json!({}),
            json!({"failover_mode": "NON_PREEMPTIVE", "pool_allocation": "ROUTING",
                "disable_firewall": false}),
        ),
        (
            "/infra/tier-0s/t0",
            json!({}),
            json!({"ha_mode": "ACTIVE_ACTIVE", "transit_subnets": ["100.64.0.0/16"]}),
        ),
        (
            "/infra/lb-pools/pool",
            json!({}),
            json!({"algorithm": "ROUND_ROBIN", "min_active_members": 1,
                "tcp_multiplexing_number": 6}),
        ),
        (
            "/infra/lb-monitor-profiles/http",
            json!({"resource_type": "LBHttpMonitorProfile"}),
            json!({"interval": 5, "timeout": 5, "fall_count": 3, "rise_count": 3,
                "request_method": "GET", "request_url": "/",
                "request_version": "HTTP_VERSION_1_1"}),
        ),
        (
            "/infra/tier-1s/t1/nat/USER/nat-rules/snat",
            json!({"action": "SNAT", "translated_network": "192.0.2.1"}),
            json!({"enabled": true, "logging": false,
                "firewall_match": "MATCH_INTERNAL_ADDRESS", "sequence_number": 0}),
        ),
    ] {
        let written = client.policy("PUT", path, Some(&body)).await;
        assert_eq!(written.status, 200, "{path}: {written:#?}");
        assert_reads(client, path, &defaults).await;
    }

    // An embedded list's items, and their policy.
    let policy = "/infra/domains/default/security-policies/web";
    let body = json!({"rules": [{"id": "r", "action": "ALLOW"}]});
    assert_eq!(
        client.policy("PATCH", policy, Some(&body)).await.status,
        200
    );
    assert_reads(
        client,
        policy,
        &json!({"stateful": true, "tcp_strict": true, "locked": false}),
    )
    .await;
    let rule_defaults = json!({"direction": "IN_OUT", "logged": false, "disabled": false,
        "sequence_number": 0});
    assert_reads(client, &format!("{policy}/rules/r"), &rule_defaults).await;

    // A tree's child.
    let tree = json!({"resource_type": "Infra", "children": [
        {"resource_type": "ChildLBAppProfile", "LBAppProfile": {
            "resource_type": "LBFastTcpProfile", "id": "tcp"}}]});
    assert_eq!(
        client.policy("PATCH", "/infra", Some(&tree)).await.status,
        200
    );
    assert_reads(
        client,
        "/infra/lb-app-profiles/tcp",
        &json!({"idle_timeout": 1800, "close_timeout": 8}),
    )
    .await;

    // An import's line.
    let line = json!({"resource_type": "Segment", "id": "s", "path": "/infra/segments/s"});
    let request = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"));
    assert_eq!(client.send(request).await.status, 200);
    assert_reads(
        client,
        "/infra/segments/s",
        &json!({"admin_state": "UP", "replication_mode": "MTEP"}),
    )
    .await;
}

#[tokio::test]
async fn a_given_value_is_kept_and_a_replace_fills_again_what_it_leaves_out() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let path = "/infra/lb-pools/pool";
    let given = json!({"algorithm": "LEAST_CONNECTION", "min_active_members": 2});
    assert_eq!(client.policy("PUT", path, Some(&given)).await.status, 200);
    assert_reads(client, path, &given).await;

    // A PATCH that does not name them keeps them.
    let patched = client
        .policy("PATCH", path, Some(&json!({"description": "web"})))
        .await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    assert_reads(client, path, &given).await;

    // A PUT replaces the whole object: what it leaves out is the default again.
    let replaced = client
        .policy(
            "PUT",
            path,
            Some(&json!({"min_active_members": 3, "_revision": 1})),
        )
        .await;
    assert_eq!(replaced.status, 200, "{replaced:#?}");
    assert_reads(
        client,
        path,
        &json!({"algorithm": "ROUND_ROBIN", "min_active_members": 3}),
    )
    .await;
}
