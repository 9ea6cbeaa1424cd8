//! NAT sections (the README's "How objects hang together"): NSX creates every gateway and VPC
//! with its NAT sections `USER`, `INTERNAL` and `DEFAULT`, which clients read, write their
//! NAT rules under (the rules' parent), carry in a tree (`ChildPolicyNat`), and cannot
//! delete; a delete of the gateway takes them along once they hold no rule.

use serde_json::{json, Value};

use crate::support::{Client, Workspace};

const SECTIONS: [&str; 3] = ["DEFAULT", "INTERNAL", "USER"];

/// The ids of the NAT sections the list below `gateway` holds, in id order.
async fn sections(client: &Client, gateway: &str) -> Vec<String> {
    let listed = client
        .policy("GET", &format!("{gateway}/nat?sort_by=id"), None)
        .await;
    assert_eq!(listed.status, 200, "{listed:#?}");
    listed.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|section| section["id"].as_str().unwrap().to_owned())
        .collect()
}

fn snat() -> Value {
    json!({"action": "SNAT", "source_network": "10.0.0.0/24",
        "translated_network": "192.0.2.10", "sequence_number": 10})
}

#[tokio::test]
async fn a_gateway_comes_with_its_nat_sections_and_its_rules_hang_from_them() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for gateway in ["/infra/tier-1s/t1", "/infra/tier-0s/t0"] {
        let written = client.policy("PUT", gateway, Some(&json!({}))).await;
        assert_eq!(written.status, 200, "{written:#?}");
        assert_eq!(sections(client, gateway).await, SECTIONS);
        let user = client
            .policy("GET", &format!("{gateway}/nat/USER"), None)
            .await;
        assert_eq!(user.body["nat_type"], "USER");
        assert_eq!(user.body["parent_path"], gateway);
        assert_eq!(user.body["_system_owned"], true);
        assert_eq!(user.body["resource_type"], "PolicyNat");

        let rule = format!("{gateway}/nat/USER/nat-rules/r1");
        let written = client.policy("PUT", &rule, Some(&snat())).await;
        assert_eq!(written.status, 200, "{written:#?}");
        assert_eq!(written.body["parent_path"], format!("{gateway}/nat/USER"));
    }
    // A section is NSX's: clients read it, and cannot write or delete it alone.
    for method in ["PUT", "PATCH", "DELETE"] {
        client
            .policy(method, "/infra/tier-1s/t1/nat/USER", Some(&json!({})))
            .await
            .api_error(405, 253);
    }
    // No NAT section is a section NSX does not create.
    client
        .policy(
            "PUT",
            "/infra/tier-1s/t1/nat/OTHER/nat-rules/r",
            Some(&snat()),
        )
        .await
        .api_error(404, 600);

    // A gateway whose sections hold a rule keeps them, and is kept.
    client
        .policy("DELETE", "/infra/tier-1s/t1", None)
        .await
        .api_error(400, 500030);
    assert_eq!(sections(client, "/infra/tier-1s/t1").await, SECTIONS);
    let rule = "/infra/tier-1s/t1/nat/USER/nat-rules/r1";
    assert_eq!(client.policy("DELETE", rule, None).await.status, 200);
    let deleted = client.policy("DELETE", "/infra/tier-1s/t1", None).await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");
    for section in SECTIONS {
        let path = format!("/infra/tier-1s/t1/nat/{section}");
        client.policy("GET", &path, None).await.api_error(404, 600);
    }
}

#[tokio::test]
async fn a_tree_and_an_import_write_nat_rules_in_the_sections() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    // The Neutron plugin's way: a new tier-1 and its rule in one tree, the section as its
    // wrapper (`ChildPolicyNat`), whatever the order.
    let mut rule = snat();
    rule["resource_type"] = json!("PolicyNatRule");
    rule["id"] = json!("r1");
    let tree = json!({"resource_type": "Infra", "children": [
        {"resource_type": "ChildTier1", "Tier1": {"resource_type": "Tier1", "id": "t1",
            "children": [{"resource_type": "ChildPolicyNat", "PolicyNat": {
                "resource_type": "PolicyNat", "id": "USER",
                "children": [{"resource_type": "ChildPolicyNatRule", "PolicyNatRule": rule}]}}]}}]});
    let patched = client.policy("PATCH", "/infra", Some(&tree)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    let read = client
        .policy("GET", "/infra/tier-1s/t1/nat/USER/nat-rules/r1", None)
        .await;
    assert_eq!(read.status, 200, "{read:#?}");
    assert_eq!(read.body["translated_network"], "192.0.2.10");

    // A VPC has its sections too.
    for path in [
        "/orgs/default/projects/p",
        "/orgs/default/projects/p/vpcs/v",
    ] {
        assert_eq!(
            client.policy("PUT", path, Some(&json!({}))).await.status,
            200
        );
    }
    assert_eq!(
        sections(client, "/orgs/default/projects/p/vpcs/v").await,
        SECTIONS
    );

    // An export leaves out the sections no one changed, as NSX's own objects (the tree
    // patched `USER`); an import of the gateway brings them back, and its rule goes under one.
    let export = client.export().await;
    assert!(export.contains("/infra/tier-1s/t1/nat/USER\""), "{export}");
    assert!(!export.contains("/nat/INTERNAL\""), "{export}");
    let reset = client.send(client.request("POST", "/store/v1/reset")).await;
    assert_eq!(reset.status, 200, "{reset:#?}");
    let import = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(export);
    let imported = client.send(import).await;
    assert_eq!(imported.status, 200, "{imported:#?}");
    assert_eq!(sections(client, "/infra/tier-1s/t1").await, SECTIONS);
    let read = client
        .policy("GET", "/infra/tier-1s/t1/nat/USER/nat-rules/r1", None)
        .await;
    assert_eq!(read.status, 200, "{read:#?}");
}
