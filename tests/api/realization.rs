//! Realized state: what clients poll after a write answers `REALIZED` once the object is
//! written, unless a script for its path says otherwise (pending, error, after a delay).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{Client, Reply, Workspace, AUDITOR};

const API: &str = "/policy/api/v1";
const SEGMENT: &str = "/infra/segments/web";

async fn entities(client: &Client, intent_path: &str) -> Reply {
    let path = format!("{API}/infra/realized-state/realized-entities?intent_path={intent_path}");
    client.call("GET", &path, None).await
}

/// The realized state of `SEGMENT` as each endpoint answers it: the entity's `state`, the
/// consolidated status and the segment's configuration state.
async fn states(client: &Client) -> (String, String, String) {
    let listed = entities(client, SEGMENT).await;
    assert_eq!(listed.body["result_count"], 1, "{listed:#?}");
    let status = client
        .call(
            "GET",
            &format!("{API}/infra/realized-state/status?intent_path={SEGMENT}"),
            None,
        )
        .await;
    let segment = client
        .call("GET", &format!("{API}{SEGMENT}/state"), None)
        .await;
    let text = |value: &Value| value.as_str().unwrap().to_owned();
    (
        text(&listed.body["results"][0]["state"]),
        text(&status.body["consolidated_status"]["consolidated_status"]),
        text(&segment.body["state"]),
    )
}

fn expect(state: &str, consolidated: &str, segment: &str) -> (String, String, String) {
    (state.into(), consolidated.into(), segment.into())
}

/// Writes `body` at `path` (below `/policy/api/v1`) with a PUT that must succeed.
async fn put(client: &Client, path: &str, body: Value) {
    let written = client
        .call("PUT", &format!("{API}{path}"), Some(&body))
        .await;
    assert_eq!(written.status, 200, "{path}: {written:#?}");
}

async fn script(client: &Client, method: &str, body: Option<&Value>) -> Reply {
    let path = format!("/store/v1/realized-state?intent_path={SEGMENT}");
    client.call(method, &path, body).await
}

#[tokio::test]
async fn a_written_object_is_realized() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    // Nothing written: no realized entity, and the status is NSX's 404.
    let none = entities(client, SEGMENT).await;
    assert_eq!(none.body, json!({"results": [], "result_count": 0}));
    let status = format!("{API}/infra/realized-state/status?intent_path={SEGMENT}");
    client.call("GET", &status, None).await.api_error(404, 600);
    client
        .call("GET", &format!("{API}{SEGMENT}/state"), None)
        .await
        .api_error(404, 600);

    let created = client
        .call("PUT", &format!("{API}{SEGMENT}"), Some(&json!({})))
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(
        states(client).await,
        expect("REALIZED", "SUCCESS", "success")
    );
    let entity = entities(client, SEGMENT).await.body["results"][0].clone();
    assert_eq!(entity["intent_paths"], json!([SEGMENT]));
    assert_eq!(
        entity["entity_type"], "RealizedLogicalSwitch",
        "as NSX names it"
    );
    assert_eq!(
        entity["realization_specific_identifier"],
        created.body["unique_id"]
    );
    // The entity is read again by its own path.
    let by_path = format!(
        "{API}/infra/realized-state/realized-entity?realized_path={}",
        entity["path"].as_str().unwrap()
    );
    assert_eq!(client.call("GET", &by_path, None).await.body, entity);
    let status = client.call("GET", &status, None).await.body;
    assert_eq!(status["publish_status"], "REALIZED");
    assert_eq!(status["intent_version"], "0");

    // In a project, under the project's own infra.
    let project_group = "/orgs/default/projects/default/infra/domains/default/groups/g";
    let put = client
        .call("PUT", &format!("{API}{project_group}"), Some(&json!({})))
        .await;
    assert_eq!(put.status, 200);
    let listed = client
        .call(
            "GET",
            &format!(
                "{API}/orgs/default/projects/default/infra/realized-state/realized-entities\
             ?intent_path={project_group}"
            ),
            None,
        )
        .await;
    assert_eq!(
        listed.body["results"][0]["state"], "REALIZED",
        "{listed:#?}"
    );

    // A path that is no policy path, or none at all: 400 naming the parameter.
    for query in ["intent_path=/nowhere", "site_path=/infra/sites/default"] {
        let path = format!("{API}/infra/realized-state/realized-entities?{query}");
        let message = client.call("GET", &path, None).await.api_error(400, 255);
        assert!(message.contains("intent_path"), "{message}");
    }
}

#[tokio::test]
async fn a_script_holds_a_state_for_its_delay_then_the_object_is_realized() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    // The script may come before the object; it answers with its defaults.
    let set = script(
        client,
        "PUT",
        Some(&json!({"state": "UNREALIZED", "delay_ms": 1500})),
    )
    .await;
    assert_eq!(
        set.body,
        json!({"state": "UNREALIZED", "delay_ms": 1500, "then": "REALIZED"}),
        "{set:#?}"
    );
    let started = Instant::now();
    let created = client
        .call("PUT", &format!("{API}{SEGMENT}"), Some(&json!({})))
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(
        states(client).await,
        expect("UNREALIZED", "IN_PROGRESS", "in_progress")
    );
    // A restart keeps the script, and its clock.
    server.terminate();
    let server = workspace.start();
    let client = &server.client;
    if started.elapsed() < Duration::from_millis(1200) {
        assert_eq!(states(client).await.0, "UNREALIZED");
    }
    tokio::time::sleep(Duration::from_millis(1600).saturating_sub(started.elapsed())).await;
    assert_eq!(
        states(client).await,
        expect("REALIZED", "SUCCESS", "success")
    );

    // An error, for good: the message is the alarm clients read.
    let failing = json!({"state": "ERROR", "error_message": "no edge cluster"});
    assert_eq!(script(client, "PUT", Some(&failing)).await.status, 200);
    assert_eq!(states(client).await, expect("ERROR", "ERROR", "failed"));
    let entity = entities(client, SEGMENT).await.body["results"][0].clone();
    assert_eq!(entity["alarms"][0]["message"], "no edge cluster");
    // nsxlib raises on an alarm's error code, and polls on while there is none.
    let details = &entity["alarms"][0]["error_details"];
    assert_eq!(details["error_code"], 500000, "{entity:#?}");
    assert_eq!(details["error_message"], "no edge cluster");
    assert_eq!(
        script(client, "GET", None).await.body,
        json!({"state": "ERROR", "then": "REALIZED", "error_message": "no edge cluster"})
    );
    // A script names the code clients act on (nsx-operator retries 500042).
    let coded = json!({"state": "ERROR", "error_code": 500042});
    assert_eq!(script(client, "PUT", Some(&coded)).await.status, 200);
    let entity = entities(client, SEGMENT).await.body["results"][0].clone();
    assert_eq!(entity["alarms"][0]["error_details"]["error_code"], 500042);
    assert_eq!(script(client, "PUT", Some(&failing)).await.status, 200);

    // Who may: an auditor reads scripts, and may not set or delete one.
    let auditor = client.as_user(AUDITOR);
    assert_eq!(script(&auditor, "GET", None).await.status, 200);
    script(&auditor, "PUT", Some(&failing))
        .await
        .api_error(403, 401);
    script(&auditor, "DELETE", None).await.api_error(403, 401);

    // Bad scripts change nothing.
    for body in [
        json!({"state": "DONE"}),
        json!({"delay_ms": 5}),
        json!({"state": "ERROR", "x": 1}),
    ] {
        script(client, "PUT", Some(&body)).await.api_error(400, 255);
    }
    let elsewhere = "/store/v1/realized-state?intent_path=/not/a/path";
    client
        .call("PUT", elsewhere, Some(&failing))
        .await
        .api_error(400, 255);
    assert_eq!(states(client).await.0, "ERROR");

    // A snapshot keeps it; a reset removes it; so does its delete.
    let saved = client.call("PUT", "/store/v1/snapshots/s", None).await;
    assert_eq!(saved.status, 200);
    assert_eq!(script(client, "DELETE", None).await.status, 200);
    assert_eq!(
        script(client, "DELETE", None).await.status,
        200,
        "idempotent"
    );
    script(client, "GET", None).await.api_error(404, 600);
    assert_eq!(states(client).await.0, "REALIZED");
    let restored = client
        .call("POST", "/store/v1/snapshots/s?action=restore", None)
        .await;
    assert_eq!(restored.status, 200);
    assert_eq!(states(client).await.0, "ERROR");
    assert_eq!(
        client.call("POST", "/store/v1/reset", None).await.status,
        200
    );
    script(client, "GET", None).await.api_error(404, 600);
}

/// The realized entities of an intent are named as NSX names them for its type (the
/// README's "Realized state"), one or more, with the attributes clients read.
#[tokio::test]
async fn realized_entities_are_named_as_nsx_names_them() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    put(client, "/infra/tier-1s/t1", json!({})).await;
    put(client, "/infra/lb-services/lbs", json!({})).await;
    put(client, "/infra/ip-pools/pool", json!({})).await;
    put(
        client,
        "/infra/ip-pools/pool/ip-allocations/a",
        json!({"allocation_ip": "10.0.0.7"}),
    )
    .await;
    put(client, "/orgs/default/projects/default/vpcs/v", json!({})).await;
    let types = |reply: &Reply| -> Vec<String> {
        reply.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entity| entity["entity_type"].as_str().unwrap().to_owned())
            .collect()
    };
    for (intent, expected) in [
        ("/infra/tier-1s/t1", vec!["RealizedLogicalRouter"]),
        ("/infra/lb-services/lbs", vec!["LbServiceDto"]),
        ("/infra/ip-pools/pool", vec!["IpPool"]),
        (
            "/infra/ip-pools/pool/ip-allocations/a",
            vec!["AllocationIpAddress"],
        ),
        (
            "/orgs/default/projects/default/vpcs/v",
            vec!["RealizedLogicalRouter", "RealizedLogicalRouterPort"],
        ),
        // A type NSX's clients name nothing for: `Realized<Type>`.
        ("/infra/domains/default", vec!["RealizedDomain"]),
    ] {
        let listed = entities(client, intent).await;
        assert_eq!(types(&listed), expected, "{intent}: {listed:#?}");
    }
    // nsxlib reads an allocation's address from its first attribute.
    let allocation = entities(client, "/infra/ip-pools/pool/ip-allocations/a").await;
    assert_eq!(
        allocation.body["results"][0]["extended_attributes"][0],
        json!({"key": "allocation_ip", "values": ["10.0.0.7"], "data_type": "STRING",
            "multivalue": false})
    );
    // nsx-operator waits for a VPC's gateway interface by its id, and reads it by its path.
    let vpc = entities(client, "/orgs/default/projects/default/vpcs/v").await;
    let interface = &vpc.body["results"][1];
    assert_eq!(interface["id"], "gateway-interface");
    let by_path = format!(
        "{API}/infra/realized-state/realized-entity?realized_path={}",
        interface["path"].as_str().unwrap()
    );
    assert_eq!(client.call("GET", &by_path, None).await.body, *interface);

    // A refresh asks NSX to report again: 204, as nsxlib expects, and the entity is as it was.
    let refresh = format!(
        "{API}/infra/realized-state/realized-entity?intent_path=/infra/tier-1s/t1&action=refresh"
    );
    let refreshed = client.call("POST", &refresh, None).await;
    assert_eq!(refreshed.status, 204, "{refreshed:#?}");
    let other = refresh.replace("refresh", "redo");
    client.call("POST", &other, None).await.api_error(400, 255);
    assert_eq!(
        client
            .as_user(AUDITOR)
            .call("POST", &refresh, None)
            .await
            .status,
        403
    );

    // The manager's search answers too: a manager type matches none, so nsxlib reads the
    // realized entity instead.
    let manager = client
        .call(
            "GET",
            "/api/v1/search/query?query=resource_type:LogicalSwitch%20AND%20tags.scope:policyPath",
            None,
        )
        .await;
    assert_eq!(manager.status, 200, "{manager:#?}");
    assert_eq!(manager.body["result_count"], 0);
}

/// Realized entities are found by the search that asks for their type, as nsxlib's
/// `search_resource_by_realized_id` (Neutron's plugin, from a port's logical switch to its
/// segment) sends it, each in its realized state; a search that does not ask finds none.
#[tokio::test]
async fn realized_entities_are_searchable() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    put(client, SEGMENT, json!({})).await;
    let listed = entities(client, SEGMENT).await;
    let realized_id = listed.body["results"][0]["realization_specific_identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = format!(
        "resource_type:GenericPolicyRealizedResource AND realization_specific_identifier:{realized_id} AND entity_type:RealizedLogicalSwitch"
    );
    let found = client.search(&query, "").await;
    assert_eq!(found.body["result_count"], 1, "{found:#?}");
    assert_eq!(found.body["results"][0]["intent_paths"], json!([SEGMENT]));
    assert_eq!(found.body["cursor"], "1");

    let failing = json!({"state": "ERROR", "error_message": "no uplink"});
    assert_eq!(script(client, "PUT", Some(&failing)).await.status, 200);
    let errors = client
        .search(
            "resource_type:GenericPolicyRealizedResource AND state:ERROR",
            "",
        )
        .await;
    assert_eq!(errors.body["result_count"], 1, "{errors:#?}");
    assert_eq!(errors.body["results"][0]["intent_paths"], json!([SEGMENT]));

    // The realized id is the segment's `unique_id`: a search that does not ask for
    // realized entities finds the segment alone.
    let objects = client.search(&realized_id, "").await;
    assert_eq!(objects.body["result_count"], 1, "{objects:#?}");
    assert_eq!(objects.body["results"][0]["resource_type"], "Segment");
}

/// An LB service's status, as nsxlib's `lb_service.get_status` reads it: from its
/// realization and its own fields.
#[tokio::test]
async fn an_lb_services_status_follows_its_realization_and_its_fields() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let service = "/infra/lb-services/lbs";
    let status_path = format!("{API}{service}/detailed-status");
    client
        .call("GET", &status_path, None)
        .await
        .api_error(404, 600);
    let status = |reply: &Reply| reply.body["results"][0]["service_status"].clone();
    let put_service = |body: Value| {
        let client = client.clone();
        async move {
            let written = client
                .call("PATCH", &format!("{API}{service}"), Some(&body))
                .await;
            assert_eq!(written.status, 200, "{written:#?}");
        }
    };
    put_service(json!({})).await;
    let detached = client.call("GET", &status_path, None).await;
    assert_eq!(detached.body["intent_path"], service, "{detached:#?}");
    assert_eq!(status(&detached), "DETACHED", "attached to no gateway");
    assert_eq!(
        client
            .call("PUT", &format!("{API}/infra/tier-1s/t1"), Some(&json!({})))
            .await
            .status,
        200
    );
    put_service(json!({"connectivity_path": "/infra/tier-1s/t1"})).await;
    assert_eq!(status(&client.call("GET", &status_path, None).await), "UP");
    put_service(json!({"enabled": false})).await;
    assert_eq!(
        status(&client.call("GET", &status_path, None).await),
        "DISABLED"
    );
    let failing = json!({"state": "ERROR", "error_message": "no edge"});
    let script = format!("/store/v1/realized-state?intent_path={service}");
    assert_eq!(
        client.call("PUT", &script, Some(&failing)).await.status,
        200
    );
    let failed = client.call("GET", &status_path, None).await;
    assert_eq!(status(&failed), "ERROR");
    assert_eq!(failed.body["results"][0]["error_message"], "no edge");
}

/// What clients poll of a gateway, a segment port and a VPC subnet after a write, from the
/// same realization as their realized entities: a gateway's `/state` (its configuration
/// `in_sync`), a port's `/state` (its attachment and the addresses bound to it, the port's
/// own or its attached interface's), a VPC subnet's `/status` (its networks with their
/// gateways, as nsx-operator waits for them).
#[tokio::test]
async fn states_and_statuses_follow_the_realization() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let read = |path: String| {
        let client = client.clone();
        async move { client.call("GET", &format!("{API}{path}"), None).await }
    };
    let set_script = |intent: &'static str, script: Value| {
        let client = client.clone();
        async move {
            let path = format!("/store/v1/realized-state?intent_path={intent}");
            assert_eq!(client.call("PUT", &path, Some(&script)).await.status, 200);
        }
    };

    put(client, "/infra/tier-1s/t1", json!({})).await;
    put(client, "/infra/tier-0s/t0", json!({})).await;
    let tier1 = read("/infra/tier-1s/t1/state".into()).await;
    assert_eq!(tier1.body["tier1_state"]["state"], "in_sync", "{tier1:#?}");
    assert!(tier1.body["tier1_status"]["logical_router_id"].is_string());
    let tier0 = read("/infra/tier-0s/t0/state".into()).await;
    assert_eq!(tier0.body["tier0_state"]["state"], "in_sync", "{tier0:#?}");
    set_script(
        "/infra/tier-1s/t1",
        json!({"state": "ERROR", "error_message": "no edge"}),
    )
    .await;
    let failed = read("/infra/tier-1s/t1/state".into()).await;
    assert_eq!(failed.body["tier1_state"]["state"], "failed");
    assert_eq!(failed.body["tier1_state"]["failure_message"], "no edge");
    read("/infra/tier-1s/none/state".into())
        .await
        .api_error(404, 600);

    // A port an inventory interface is attached to reports that interface's address.
    put(client, "/infra/segments/s1", json!({})).await;
    put(
        client,
        "/infra/segments/s1/ports/vm",
        json!({"attachment": {"id": "web-01-vif-0"}}),
    )
    .await;
    let attached = read("/infra/segments/s1/ports/vm/state".into()).await;
    assert_eq!(
        attached.body["attachment"]["state"], "ATTACHED",
        "{attached:#?}"
    );
    let binding = &attached.body["realized_bindings"][0];
    assert_eq!(binding["binding"]["ip_address"], "10.10.1.11");
    assert_eq!(binding["binding"]["mac_address"], "00:50:56:a1:00:01");
    assert_eq!(binding["source"], "VM_TOOLS");
    assert_eq!(attached.body["transport_node_ids"], json!(["host-1"]));
    put(
        client,
        "/infra/segments/s1/ports/pod",
        json!({"attachment": {"id": "pod-1"},
            "address_bindings": [{"ip_address": "10.0.0.9", "mac_address": "04:50:56:00:94:00"}]}),
    )
    .await;
    set_script(
        "/infra/segments/s1/ports/pod",
        json!({"state": "UNREALIZED"}),
    )
    .await;
    let pending = read("/infra/segments/s1/ports/pod/state".into()).await;
    assert_eq!(pending.body["attachment"]["id"], "pod-1");
    assert_eq!(pending.body["attachment"]["state"], "ATTACHED_PENDING_CONF");
    let bound = &pending.body["realized_bindings"][0];
    assert_eq!(
        (&bound["binding"]["ip_address"], &bound["source"]),
        (&json!("10.0.0.9"), &json!("USER_DEFINED"))
    );

    // A VPC subnet's networks, with their gateway and DHCP server, prefixes kept.
    let vpc = "/orgs/default/projects/default/vpcs/v1";
    put(client, vpc, json!({})).await;
    put(
        client,
        &format!("{vpc}/subnets/given"),
        json!({"ip_addresses": ["172.26.0.0/28"], "subnet_dhcp_config": {"mode": "DHCP_SERVER"}}),
    )
    .await;
    // nsx-operator takes the subnet's realization id as its logical switch's.
    let subnet = read(format!("{vpc}/subnets/given")).await;
    assert_eq!(
        subnet.body["realization_id"], subnet.body["unique_id"],
        "{subnet:#?}"
    );
    let status = read(format!("{vpc}/subnets/given/status")).await;
    assert_eq!(status.body["status"], "SUCCESS", "{status:#?}");
    let network = &status.body["results"][0];
    assert_eq!(network["network_address"], "172.26.0.0/28");
    assert_eq!(network["gateway_address"], "172.26.0.1/28");
    assert_eq!(network["dhcp_server_address"], "172.26.0.2/28");
    // One that names only its size gets a network of that size, the same on every read.
    put(
        client,
        &format!("{vpc}/subnets/sized"),
        json!({"ipv4_subnet_size": 16, "access_mode": "Private"}),
    )
    .await;
    let sized = read(format!("{vpc}/subnets/sized/status")).await;
    let carved = sized.body["results"][0]["network_address"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        carved.starts_with("172.") && carved.ends_with("/28"),
        "{sized:#?}"
    );
    assert!(sized.body["results"][0]
        .get("dhcp_server_address")
        .is_none());
    let again = read(format!("{vpc}/subnets/sized/status")).await;
    assert_eq!(again.body["results"][0]["network_address"], carved.as_str());
    set_script(
        "/orgs/default/projects/default/vpcs/v1/subnets/sized",
        json!({"state": "UNREALIZED"}),
    )
    .await;
    let waiting = read(format!("{vpc}/subnets/sized/status")).await;
    assert_eq!(waiting.body["result_count"], 0, "nsx-operator requeues");
    put(
        client,
        &format!("{vpc}/subnets/given/ports/p1"),
        json!({"attachment": {"id": "vif-9"}, "address_bindings": [{"ip_address": "172.26.0.4"}]}),
    )
    .await;
    // NSX creates a subnet's static pool with it, which nsx-operator reads for its size.
    let pool = read(format!("{vpc}/subnets/given/ip-pools/static-ipv4-default")).await;
    assert_eq!(pool.body["pool_usage"]["total_ips"], 12, "{pool:#?}");
    assert_eq!(pool.body["_system_owned"], true);
    let port = read(format!("{vpc}/subnets/given/ports/p1/state")).await;
    assert_eq!(port.body["attachment"]["id"], "vif-9", "{port:#?}");
    assert_eq!(
        port.body["realized_bindings"][0]["binding"]["ip_address"],
        "172.26.0.4"
    );
    // And deletes it with the subnet.
    let sized = format!("{API}{vpc}/subnets/sized");
    assert_eq!(client.call("DELETE", &sized, None).await.status, 200);
    read(format!("{vpc}/subnets/sized/ip-pools/static-ipv4-default"))
        .await
        .api_error(404, 600);
}
