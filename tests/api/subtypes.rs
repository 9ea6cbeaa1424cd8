//! Polymorphic bodies (the README's "Validation"): a route whose body the bindings declare as
//! a dynamic structure (an LB app profile, an IP pool's subnet, a DHCP static binding, a
//! service entry, an IPsec session, a flood protection profile) takes PUT and PATCH of each
//! of its concrete types, by `resource_type`; an LB rule's actions and conditions are told
//! apart by `type`; each body is checked as the subtype it names, and a hostile one is
//! refused naming its field, changing nothing.

use serde_json::{json, Value};

use crate::support::{Client, Workspace};

/// One write of each polymorphic route's subtypes, through the single API: its path and body.
fn subtype_writes() -> Vec<(&'static str, Value)> {
    vec![
        (
            "/infra/lb-app-profiles/http",
            json!({"resource_type": "LBHttpProfile", "http_redirect_to_https": true,
                "x_forwarded_for": "INSERT"}),
        ),
        (
            "/infra/lb-app-profiles/tcp",
            json!({"resource_type": "LBFastTcpProfile", "idle_timeout": 1800}),
        ),
        (
            "/infra/lb-monitor-profiles/http",
            json!({"resource_type": "LBHttpMonitorProfile", "request_url": "/health",
                "response_status_codes": [200], "monitor_port": 80}),
        ),
        (
            "/infra/lb-persistence-profiles/cookie",
            json!({"resource_type": "LBCookiePersistenceProfile", "cookie_name": "JSESSION",
                "cookie_mode": "INSERT",
                "cookie_time": {"type": "LBSessionCookieTime", "cookie_max_idle": 60}}),
        ),
        ("/infra/ip-pools/pool", json!({})),
        (
            "/infra/ip-pools/pool/ip-subnets/static",
            json!({"resource_type": "IpAddressPoolStaticSubnet", "cidr": "10.10.0.0/24",
                "gateway_ip": "10.10.0.1",
                "allocation_ranges": [{"start": "10.10.0.10", "end": "10.10.0.99"}]}),
        ),
        ("/infra/ip-blocks/block", json!({"cidr": "10.20.0.0/16"})),
        (
            "/infra/ip-pools/pool/ip-subnets/block",
            json!({"resource_type": "IpAddressPoolBlockSubnet", "size": 16,
                "ip_block_path": "/infra/ip-blocks/block", "auto_assign_gateway": true}),
        ),
        ("/infra/segments/web", json!({})),
        (
            "/infra/segments/web/dhcp-static-binding-configs/vm1",
            json!({"resource_type": "DhcpV4StaticBindingConfig", "ip_address": "10.0.0.5",
                "mac_address": "00:50:56:00:00:01"}),
        ),
        ("/infra/services/web", json!({})),
        (
            "/infra/services/web/service-entries/https",
            json!({"resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP",
                "destination_ports": ["443"]}),
        ),
        (
            "/infra/flood-protection-profiles/edge",
            json!({"resource_type": "GatewayFloodProtectionProfile",
                "tcp_half_open_conn_limit": 1000}),
        ),
        ("/infra/tier-1s/t1", json!({})),
        ("/infra/tier-1s/t1/ipsec-vpn-services/vpn", json!({})),
        (
            "/infra/tier-1s/t1/ipsec-vpn-services/vpn/sessions/s1",
            json!({"resource_type": "RouteBasedIPSecVpnSession", "peer_address": "192.0.2.1",
                "peer_id": "192.0.2.1", "authentication_mode": "PSK", "psk": "secret"}),
        ),
    ]
}

/// Asserts that `read` holds every member `given` has, as given.
fn assert_holds(read: &Value, given: &Value, path: &str) {
    for (field, value) in given.as_object().unwrap() {
        assert_eq!(read[field], *value, "{path} {field}: {read:#?}");
    }
}

async fn status_of(client: &Client, path: &str) -> u16 {
    client.policy("GET", path, None).await.status
}

#[tokio::test]
async fn every_polymorphic_route_takes_put_and_patch_of_its_subtypes() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (path, body) in subtype_writes() {
        let written = client.policy("PUT", path, Some(&body)).await;
        assert_eq!(written.status, 200, "{path}: {written:#?}");
        assert_holds(&written.body, &body, path);
        let read = client.policy("GET", path, None).await;
        assert_eq!(read.body, written.body, "{path}");
    }
    // A PATCH names its subtype too (NSX's schema requires a polymorphic body's
    // `resource_type`), and merges into the stored object.
    let patch = json!({"resource_type": "LBHttpProfile", "idle_timeout": 60});
    let patched = client
        .policy("PATCH", "/infra/lb-app-profiles/http", Some(&patch))
        .await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    let read = client
        .policy("GET", "/infra/lb-app-profiles/http", None)
        .await
        .body;
    assert_eq!(
        (&read["resource_type"], &read["idle_timeout"]),
        (&json!("LBHttpProfile"), &json!(60))
    );
    // Each list holds its subtypes (beside NSX's default profiles).
    let listed = client.policy("GET", "/infra/lb-app-profiles", None).await;
    let types: Vec<&str> = listed.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|profile| profile["_system_owned"] == false)
        .map(|profile| profile["resource_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["LBHttpProfile", "LBFastTcpProfile"]);
}

#[tokio::test]
async fn an_lb_rule_action_is_checked_as_the_type_it_names() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let pool = client
        .policy("PUT", "/infra/lb-pools/web", Some(&json!({})))
        .await;
    assert_eq!(pool.status, 200, "{pool:#?}");
    let server_with = |action: Value| {
        json!({"ip_address": "10.0.0.10", "ports": ["80"], "rules": [{
            "phase": "HTTP_FORWARDING", "match_strategy": "ANY",
            "match_conditions": [{"type": "LBHttpRequestUriCondition", "uri": "/api"}],
            "actions": [action]}]})
    };
    let path = "/infra/lb-virtual-servers/web";
    let select = json!({"type": "LBSelectPoolAction", "pool_id": "/infra/lb-pools/web"});
    let written = client
        .policy("PUT", path, Some(&server_with(select.clone())))
        .await;
    assert_eq!(written.status, 200, "{written:#?}");
    assert_eq!(written.body["rules"][0]["actions"][0], select);
    assert_eq!(
        written.body["rules"][0]["match_conditions"][0]["uri"],
        "/api"
    );

    let before = client.policy("GET", path, None).await.body;
    for (action, field) in [
        (
            json!({"type": "LBSelectPoolAction", "uri": "/x"}),
            "rules[0].actions[0].uri",
        ),
        (
            json!({"type": "LBNoSuchAction", "pool_id": "p"}),
            "rules[0].actions[0].type",
        ),
        (json!({"type": 7}), "rules[0].actions[0].type"),
        (
            json!({"type": "LBHttpRejectAction", "reply_status": [403]}),
            "rules[0].actions[0].reply_status",
        ),
    ] {
        let mut body = server_with(action);
        body["_revision"] = before["_revision"].clone();
        client
            .policy("PUT", path, Some(&body))
            .await
            .field_error(field);
    }
    assert_eq!(client.policy("GET", path, None).await.body, before);
}

#[tokio::test]
async fn a_tree_carries_every_subtype_in_its_bases_wrapper() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let tree = json!({"resource_type": "Infra", "children": [
        {"resource_type": "ChildIpAddressPool", "IpAddressPool": {
            "resource_type": "IpAddressPool", "id": "pool", "children": [
                {"resource_type": "ChildIpAddressPoolSubnet", "IpAddressPoolSubnet": {
                    "resource_type": "IpAddressPoolStaticSubnet", "id": "static",
                    "cidr": "10.30.0.0/24",
                    "allocation_ranges": [{"start": "10.30.0.2", "end": "10.30.0.200"}]}}]}},
        {"resource_type": "ChildLBAppProfile", "LBAppProfile": {
            "resource_type": "LBFastUdpProfile", "id": "udp", "idle_timeout": 300}},
        {"resource_type": "ChildLBMonitorProfile", "LBMonitorProfile": {
            "resource_type": "LBIcmpMonitorProfile", "id": "ping"}}]});
    let patched = client.policy("PATCH", "/infra", Some(&tree)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    let subnet = client
        .policy("GET", "/infra/ip-pools/pool/ip-subnets/static", None)
        .await;
    assert_eq!(subnet.status, 200, "{subnet:#?}");
    assert_eq!(subnet.body["resource_type"], "IpAddressPoolStaticSubnet");
    assert_eq!(subnet.body["cidr"], "10.30.0.0/24");
    let udp = client
        .policy("GET", "/infra/lb-app-profiles/udp", None)
        .await;
    assert_eq!(udp.body["resource_type"], "LBFastUdpProfile");
    let ping = client
        .policy("GET", "/infra/lb-monitor-profiles/ping", None)
        .await;
    assert_eq!(ping.body["resource_type"], "LBIcmpMonitorProfile");

    // A subtype's field under another subtype is refused where it stands in the tree.
    let wrong = json!({"resource_type": "Infra", "children": [
        {"resource_type": "ChildLBAppProfile", "LBAppProfile": {
            "resource_type": "LBFastUdpProfile", "id": "bad", "http_redirect_to_https": true}}]});
    client
        .policy("PATCH", "/infra", Some(&wrong))
        .await
        .field_error("children[0].LBAppProfile.http_redirect_to_https");
    assert_eq!(status_of(client, "/infra/lb-app-profiles/bad").await, 404);
}

/// Hostile bodies of the new subtypes: each refused with NSX's 400 naming the field, and
/// nothing is written or changed.
#[tokio::test]
async fn a_hostile_subtype_body_is_refused_naming_its_field() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (path, body) in subtype_writes() {
        assert_eq!(client.policy("PUT", path, Some(&body)).await.status, 200);
    }
    let before = client.export().await;
    for (path, body, field) in [
        // A polymorphic route's body must name its subtype.
        (
            "/infra/lb-app-profiles/new",
            json!({"idle_timeout": 5}),
            "resource_type",
        ),
        (
            "/infra/lb-app-profiles/new",
            json!({"resource_type": "LBHttpMonitorProfile"}),
            "resource_type",
        ),
        // Each subtype has its own fields, values and bounds.
        (
            "/infra/lb-app-profiles/new",
            json!({"resource_type": "LBFastTcpProfile", "request_url": "/"}),
            "request_url",
        ),
        (
            "/infra/lb-app-profiles/new",
            json!({"resource_type": "LBHttpProfile", "x_forwarded_for": "APPEND"}),
            "x_forwarded_for",
        ),
        (
            "/infra/lb-monitor-profiles/new",
            json!({"resource_type": "LBHttpMonitorProfile", "request_method": "BREW"}),
            "request_method",
        ),
        (
            "/infra/ip-pools/pool/ip-subnets/new",
            json!({"resource_type": "IpAddressPoolStaticSubnet",
                "allocation_ranges": [{"start": true}]}),
            "allocation_ranges[0].start",
        ),
        (
            "/infra/ip-pools/pool/ip-subnets/new",
            json!({"resource_type": "IpAddressPoolBlockSubnet", "size": "big"}),
            "size",
        ),
        (
            "/infra/segments/web/dhcp-static-binding-configs/new",
            json!({"resource_type": "DhcpV6StaticBindingConfig", "lease_time": "long"}),
            "lease_time",
        ),
        (
            "/infra/tier-1s/t1/ipsec-vpn-services/vpn/sessions/new",
            json!({"resource_type": "RouteBasedIPSecVpnSession",
                "authentication_mode": "TRUST_ME"}),
            "authentication_mode",
        ),
        (
            "/infra/lb-persistence-profiles/new",
            json!({"resource_type": "LBCookiePersistenceProfile",
                "cookie_time": {"type": "LBSessionCookieTime", "cookie_max_idle": "x"}}),
            "cookie_time.cookie_max_idle",
        ),
    ] {
        for method in ["PUT", "PATCH"] {
            client
                .policy(method, path, Some(&body))
                .await
                .field_error(field);
        }
    }
    // A PATCH cannot change a stored object's subtype.
    client
        .policy(
            "PATCH",
            "/infra/lb-app-profiles/tcp",
            Some(&json!({"resource_type": "LBHttpProfile"})),
        )
        .await
        .field_error("resource_type");
    assert_eq!(client.export().await, before, "nothing changed");
}
