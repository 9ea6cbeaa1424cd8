//! What clients read before they write (the README's "Connecting clients"), present in a
//! fresh store and after a reset: Neutron's NSX-Policy plugin's exclude list and global
//! config, the transport zones NSX creates at install, the IPv6 profiles, default firewall
//! sections and services NSX ships, and the license features nsx-operator checks before it
//! starts.

use serde_json::{json, Value};

use crate::support::{Client, Workspace};

const EXCLUDE_LIST: &str = "/infra/settings/firewall/security/exclude-list";
const TRANSPORT_ZONES: &str = "/infra/sites/default/enforcement-points/default/transport-zones";

async fn read(client: &Client, path: &str) -> Value {
    let reply = client.policy("GET", path, None).await;
    assert_eq!(reply.status, 200, "{path}: {reply:#?}");
    reply.body
}

/// Neutron's plugin at its start, as vmware-nsx 17.0.0 calls it through nsxlib: it sets the
/// global config's forwarding mode with a PUT of what it read, and adds its group to the
/// exclude list's members.
async fn neutron_start(client: &Client) {
    let mut config = read(client, "/infra/global-config").await;
    assert_eq!(config["l3_forwarding_mode"], "IPV4_ONLY", "{config:#?}");
    config["l3_forwarding_mode"] = json!("IPV4_AND_IPV6");
    let put = client
        .policy("PUT", "/infra/global-config", Some(&config))
        .await;
    assert_eq!(put.status, 200, "{put:#?}");

    let excluded = read(client, EXCLUDE_LIST).await;
    assert_eq!(excluded["members"], json!([]), "{excluded:#?}");
    let group = "/infra/domains/default/groups/neutron_excluded_ports_group";
    assert_eq!(
        client.policy("PATCH", group, Some(&json!({}))).await.status,
        200
    );
    let members = json!({"members": [group], "resource_type": "PolicyExcludeList"});
    let patched = client.policy("PATCH", EXCLUDE_LIST, Some(&members)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    assert_eq!(read(client, EXCLUDE_LIST).await["members"], json!([group]));

    let zones = read(client, TRANSPORT_ZONES).await;
    let overlay: Vec<&Value> = zones["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|zone| zone["tz_type"].as_str().unwrap().starts_with("OVERLAY"))
        .collect();
    assert_eq!(overlay.len(), 1, "one overlay zone: {zones:#?}");
    assert_eq!(overlay[0]["display_name"], "nsx-overlay-transportzone");
}

#[tokio::test]
async fn what_clients_read_at_their_start_is_there_in_a_fresh_store_and_after_a_reset() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    neutron_start(client).await;

    let zones = read(client, TRANSPORT_ZONES).await;
    let types: Vec<&str> = zones["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|zone| zone["tz_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["OVERLAY_STANDARD", "VLAN_BACKED"]);
    for (path, field, value) in [
        (
            "/infra/ipv6-ndra-profiles/default",
            "ra_mode",
            json!("SLAAC_DNS_THROUGH_RA"),
        ),
        (
            "/infra/ipv6-dad-profiles/default",
            "dad_mode",
            json!("LOOSE"),
        ),
    ] {
        let profile = read(client, path).await;
        assert_eq!(profile[field], value, "{profile:#?}");
        assert_eq!(profile["_system_owned"], true, "{profile:#?}");
    }

    // What clients name that NSX ships: nsxctl's `--service MySQL`, the default section the
    // distributed firewall ends with, and the services its rules name.
    let mysql = read(client, "/infra/services/MySQL").await;
    assert_eq!(
        mysql["service_entries"][0]["destination_ports"],
        json!(["3306"])
    );
    let section = read(
        client,
        "/infra/domains/default/security-policies/default-layer3-section",
    )
    .await;
    let rules: Vec<&str> = section["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "default_rule_NDP",
            "default_rule_DHCP",
            "default-layer3-rule"
        ],
        "in their sequence"
    );
    for service in section["rules"][1]["services"].as_array().unwrap() {
        let path = service.as_str().unwrap();
        assert_eq!(read(client, path).await["_system_owned"], true, "{path}");
    }

    // nsx-operator exits unless container networking is licensed.
    let features = client.get_path("/api/v1/licenses/licensed-features").await;
    assert_eq!(features.status, 200, "{features:#?}");
    let licensed: Vec<(&str, bool)> = features.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feature| {
            let name = feature["feature_name"].as_str().unwrap();
            (name, feature["is_licensed"].as_bool().unwrap())
        })
        .collect();
    assert!(
        licensed.contains(&("CONTAINER_NETWORKING", true)),
        "{licensed:?}"
    );

    // What Neutron changed is a client's change, exported; a reset ships it all again.
    let export = client.export().await;
    assert!(export.contains(EXCLUDE_LIST), "{export}");
    let reset = client.send(client.request("POST", "/store/v1/reset")).await;
    assert_eq!(reset.status, 200, "{reset:#?}");
    let config = read(client, "/infra/global-config").await;
    assert_eq!(config["l3_forwarding_mode"], "IPV4_ONLY");
    neutron_start(client).await;
}
