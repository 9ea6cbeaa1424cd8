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

/// What NSX ships that clients look up by name: the load balancer's default profiles and
/// monitors (one of each type: Terraform's data sources find one by its type alone), the
/// context profiles and services its tests and VMware's templates name.
#[tokio::test]
async fn the_predefined_content_clients_name_is_shipped() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let profiles = read(client, "/infra/lb-app-profiles").await;
    let mut types: Vec<&str> = profiles["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|profile| profile["resource_type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(
        types,
        ["LBFastTcpProfile", "LBFastUdpProfile", "LBHttpProfile"]
    );
    let http = read(client, "/infra/lb-app-profiles/default-http-lb-app-profile").await;
    assert_eq!(http["idle_timeout"], 15, "{http:#?}");
    assert_eq!(http["_system_owned"], true);
    for path in [
        "/infra/lb-persistence-profiles/default-source-ip-lb-persistence-profile",
        "/infra/lb-monitor-profiles/default-icmp-lb-monitor",
        "/infra/lb-monitor-profiles/default-passive-lb-monitor",
        "/infra/lb-client-ssl-profiles/default-balanced-client-ssl-profile",
        "/infra/lb-server-ssl-profiles/default-high-security-server-ssl-profile",
        "/infra/services/ICMPv6-ALL",
        "/infra/services/IKE_(Key_Exchange)",
    ] {
        assert_eq!(read(client, path).await["_create_user"], "system", "{path}");
    }
    let monitor = read(client, "/infra/lb-monitor-profiles/default-http-lb-monitor").await;
    assert_eq!(monitor["request_url"], "/", "{monitor:#?}");
    let amqp = read(client, "/infra/context-profiles/AMQP").await;
    assert_eq!(amqp["attributes"][0]["value"], json!(["AMQP"]), "{amqp:#?}");
    assert!(amqp["description"].as_str().is_some_and(|d| !d.is_empty()));

    // Found by a search of the prefix Terraform sends for a name: `Heart*`, `DIAME*`.
    let query = "resource_type:PolicyContextProfile AND display_name:DIAME*";
    let found = client.search(query, "").await;
    assert_eq!(found.body["result_count"], 1, "{found:#?}");
    assert_eq!(found.body["results"][0]["id"], "DIAMETER");
}

/// NSX keeps its own objects: a client's delete of one is refused with NSX's error for an
/// object another principal owns, through the single API and a hierarchical tree alike,
/// and nothing changes; a client may still change them (Neutron's plugin, Terraform's
/// predefined security policy), and what goes with its owner still goes.
#[tokio::test]
async fn a_delete_of_what_the_system_created_is_refused() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let service = "/infra/services/HTTP";
    let refused = client.policy("DELETE", service, None).await;
    assert_eq!(refused.status, 400, "{refused:#?}");
    assert_eq!(refused.body["error_code"], 289, "{refused:#?}");
    assert_eq!(refused.body["module_name"], "common-services");
    assert_eq!(
        refused.body["error_message"],
        "Principal 'admin' with role '[enterprise_admin]' attempts to delete or modify an \
         object of type Service it doesn't own. (createUser=system, allowOverwrite=null)"
    );
    assert_eq!(read(client, service).await["_revision"], 0);

    let section = "/infra/domains/default/security-policies/default-layer3-section";
    let tree = json!({
        "resource_type": "Infra",
        "children": [{
            "resource_type": "ChildResourceReference", "id": "default", "target_type": "Domain",
            "children": [{
                "resource_type": "ChildSecurityPolicy", "marked_for_delete": true,
                "SecurityPolicy": {"resource_type": "SecurityPolicy", "id": "default-layer3-section"}
            }]
        }]
    });
    let refused = client.policy("PATCH", "/infra", Some(&tree)).await;
    assert_eq!(refused.status, 400, "{refused:#?}");
    assert_eq!(refused.body["error_code"], 289, "{refused:#?}");
    let rule = format!("{section}/rules/default-layer3-rule");
    assert_eq!(read(client, &rule).await["_revision"], 0, "nothing went");

    // Changed, as Terraform's predefined policy changes the default rule.
    let drop = json!({"action": "DROP"});
    let patched = client.policy("PATCH", &rule, Some(&drop)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    assert_eq!(read(client, &rule).await["action"], "DROP");

    // A gateway's NAT sections, the system's, go with the gateway.
    let gateway = "/infra/tier-1s/t1";
    assert_eq!(
        client.policy("PUT", gateway, Some(&json!({}))).await.status,
        200
    );
    let section = format!("{gateway}/nat/USER");
    assert_eq!(read(client, &section).await["_system_owned"], true);
    let deleted = client.policy("DELETE", gateway, None).await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");
    assert_eq!(client.policy("GET", &section, None).await.status, 404);
}

/// nsx-operator's start in VPC mode, in its order (its `pkg/nsx/client.go`, `cmd/main.go`
/// and the services' initialisers): health, version and license checks, whether the manager
/// was restored, then the searches each service makes of what it owns before it reconciles,
/// paged by NSX's numeric cursor, and the MAC pools. Any error here makes it exit.
#[tokio::test]
async fn nsx_operators_start_in_vpc_mode_finds_what_it_reads() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let health = client.get_path("/api/v1/reverse-proxy/node/health").await;
    assert_eq!(health.body["healthy"], true, "{health:#?}");
    let version = client.get_path("/api/v1/node/version").await;
    let product = version.body["product_version"].as_str().unwrap();
    assert!(
        product.split('.').all(|part| part.parse::<u32>().is_ok()),
        "{product}"
    );
    let features = client.get_path("/api/v1/licenses/licensed-features").await;
    let licensed = |name: &str| {
        features.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|feature| feature["feature_name"] == name && feature["is_licensed"] == true)
    };
    assert!(
        licensed("CONTAINER") && licensed("VPC_SECURITY"),
        "{features:#?}"
    );
    let restore = client.get_path("/api/v1/cluster/restore/status").await;
    assert_eq!(restore.status, 200, "{restore:#?}");
    assert_eq!(restore.body["status"]["value"], "INITIAL");

    let owned = r"tags.scope:nsx-op\/cluster AND tags.tag:c1 AND marked_for_delete:false";
    for resource_type in [
        "Vpc",
        "LBService",
        "VpcSubnet",
        "VpcIpAddressAllocation",
        "VpcSubnetPort",
        "DhcpV4StaticBindingConfig",
        "HostTransportNode",
        "StaticRoutes",
        "SubnetConnectionBindingMap",
        "Group",
        "Share",
        "SecurityPolicy",
        "Rule",
    ] {
        let query = format!("resource_type:{resource_type} AND {owned}");
        let found = client.search(&query, "&page_size=1000").await;
        assert_eq!(found.status, 200, "{query}: {found:#?}");
        assert_eq!(found.body["result_count"], 0, "{query}");
        assert_eq!(found.body["cursor"], "0", "a cursor on every page");
    }
    let pools = client
        .get_path("/api/v1/pools/mac-pools?page_size=1000")
        .await;
    assert_eq!(pools.status, 200, "{pools:#?}");
    assert_eq!(pools.body["results"][0]["display_name"], "DefaultMacPool");
    // Its node service reads the hosts the inventory's machines run on.
    let hosts = client
        .search("resource_type:HostTransportNode", "&page_size=1000")
        .await;
    assert_eq!(hosts.body["result_count"], 2, "{hosts:#?}");
}

/// terraform-provider-nsxt's start against NSX 9.1 and its first data sources: the default
/// network span it needs, the licenses it reads when given keys, and the lab's edge cluster
/// with its two members, as its edge-cluster data source and gateways name them.
#[tokio::test]
async fn terraforms_start_finds_the_default_span_and_the_labs_edge_cluster() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let spans = read(client, "/infra/network-spans").await;
    let default: Vec<&Value> = spans["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|span| span["is_default"] == true)
        .collect();
    assert_eq!(default.len(), 1, "{spans:#?}");
    let licenses = client.get_path("/api/v1/licenses").await;
    assert_eq!(licenses.status, 200, "{licenses:#?}");
    assert_eq!(licenses.body["results"][0]["is_expired"], false);

    let clusters = "/infra/sites/default/enforcement-points/default/edge-clusters";
    let found = client
        .search(
            r"resource_type:PolicyEdgeCluster AND display_name:edge\-cluster* AND marked_for_delete:false",
            "",
        )
        .await;
    assert_eq!(found.body["result_count"], 1, "{found:#?}");
    assert_eq!(
        found.body["results"][0]["path"],
        format!("{clusters}/edge-cluster-1")
    );
    let members = read(client, &format!("{clusters}/edge-cluster-1/edge-nodes")).await;
    let indexes: Vec<&Value> = members["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| &node["member_index"])
        .collect();
    assert_eq!(indexes, [&json!(0), &json!(1)], "{members:#?}");
    let refused = client
        .policy("DELETE", &format!("{clusters}/edge-cluster-1"), None)
        .await;
    assert_eq!(refused.status, 400, "{refused:#?}");
}
