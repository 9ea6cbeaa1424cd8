//! The inventory and group membership (the README's "Inventory"): the shipped lab's virtual
//! machines served on NSX's paths and found by the search clients send, the tag actions
//! clients take, the store's own changes (add, tag, move, remove), and a group's members
//! computed from its expression: by tag, nested, by IP address and path.

use serde_json::{json, Value};

use crate::support::{Client, Reply, Workspace};

const WEB_01: &str = "50126e4a-2c1e-4f5b-9a61-6c0e8d2b0a01";
const DB_01: &str = "50126e4a-2c1e-4f5b-9a61-6c0e8d2b0a03";
const STORE_VMS: &str = "/store/v1/inventory/virtual-machines";
const GROUPS: &str = "/infra/domains/default/groups";

async fn read(client: &Client, path: &str) -> Value {
    let reply = client.get_path(path).await;
    assert_eq!(reply.status, 200, "{path}: {reply:#?}");
    reply.body
}

/// The values of `field` in a list answer's `results`, in order.
fn field_of(body: &Value, field: &str) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{body:#?}"))
        .iter()
        .map(|item| match &item[field] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

async fn members(client: &Client, group: &str, kind: &str) -> Value {
    read(
        client,
        &format!("/policy/api/v1{GROUPS}/{group}/members/{kind}"),
    )
    .await
}

async fn put(client: &Client, path: &str, body: Value) {
    let written = client.policy("PUT", path, Some(&body)).await;
    assert_eq!(written.status, 200, "{path}: {written:#?}");
}

async fn tag(client: &Client, action: &str, external_id: &str, tags: Value) -> Reply {
    let body = json!({"external_id": external_id, "tags": tags});
    let path = format!("/api/v1/fabric/virtual-machines?action={action}");
    client.call("POST", &path, Some(&body)).await
}

#[tokio::test]
async fn the_shipped_lab_is_served_as_nsx_serves_its_inventory() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let listed = read(
        client,
        "/policy/api/v1/infra/realized-state/virtual-machines",
    )
    .await;
    assert_eq!(
        field_of(&listed, "display_name"),
        ["web-01", "web-02", "db-01"]
    );
    assert_eq!(listed["result_count"], 3);
    let web = &listed["results"][0];
    assert_eq!(web["external_id"], WEB_01);
    assert_eq!(web["power_state"], "VM_RUNNING");
    assert_eq!(web["guest_info"]["os_name"], "Ubuntu Linux (64-bit)");
    let ids: Vec<&str> = web["compute_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&format!("instanceUuid:{WEB_01}").as_str()),
        "{ids:?}"
    );
    assert!(ids.iter().any(|id| id.starts_with("biosUuid:")), "{ids:?}");

    // Paged by offset, as Terraform pages it.
    let page = read(
        client,
        "/policy/api/v1/infra/realized-state/virtual-machines?page_size=2&sort_by=external_id&sort_ascending=false",
    )
    .await;
    assert_eq!(field_of(&page, "display_name"), ["db-01", "web-02"]);
    assert_eq!(
        (&page["result_count"], &page["cursor"]),
        (&json!(3), &json!("2"))
    );

    // The manager's lists, by name and by owner.
    let by_name = read(client, "/api/v1/fabric/virtual-machines?display_name=db-01").await;
    assert_eq!(field_of(&by_name, "external_id"), [DB_01]);
    let vifs = read(client, &format!("/api/v1/fabric/vifs?owner_vm_id={WEB_01}")).await;
    assert_eq!(field_of(&vifs, "lport_attachment_id"), ["web-01-vif-0"]);
    assert_eq!(
        vifs["results"][0]["ip_address_info"][0]["ip_addresses"],
        json!(["10.10.1.11"])
    );
    let policy_vifs = read(
        client,
        "/policy/api/v1/infra/realized-state/enforcement-points/default/vifs?lport_attachment_id=db-01-vif-0",
    )
    .await;
    assert_eq!(field_of(&policy_vifs, "owner_vm_id"), [DB_01]);

    // Found by the searches Terraform and nsx-operator send; other searches find none.
    let by_id = client
        .search(
            &format!(
                "resource_type:VirtualMachine AND {}",
                WEB_01.replace('-', r"\-")
            ),
            "",
        )
        .await;
    assert_eq!(
        field_of(&by_id.body, "display_name"),
        ["web-01"],
        "{by_id:#?}"
    );
    let prefix = client
        .search(r"resource_type:VirtualMachine AND display_name:web*", "")
        .await;
    assert_eq!(field_of(&prefix.body, "display_name"), ["web-01", "web-02"]);
    let tagged = client
        .search("resource_type:VirtualMachine AND tags.tag:db", "")
        .await;
    assert_eq!(field_of(&tagged.body, "external_id"), [DB_01]);
    let objects = client.search("web-01", "").await;
    assert_eq!(objects.body["result_count"], 0, "{objects:#?}");
}

#[tokio::test]
async fn a_group_by_tag_gains_a_vm_tagged_through_the_api_and_loses_it_untagged() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let condition = json!({"resource_type": "Condition", "member_type": "VirtualMachine",
        "key": "Tag", "operator": "EQUALS", "value": "team|blue"});
    put(
        client,
        &format!("{GROUPS}/blue"),
        json!({"expression": [condition]}),
    )
    .await;
    assert_eq!(
        members(client, "blue", "virtual-machines").await["result_count"],
        0
    );

    // Terraform's nsxt_policy_vm_tags: the policy API's update_tags.
    let update = json!({"virtual_machine_id": DB_01, "tags": [{"scope": "team", "tag": "Blue"}]});
    let tagged = client
        .call(
            "POST",
            "/policy/api/v1/infra/realized-state/enforcement-points/default/virtual-machines?action=update_tags",
            Some(&update),
        )
        .await;
    assert_eq!(tagged.status, 204, "{tagged:#?}");
    let vms = members(client, "blue", "virtual-machines").await;
    assert_eq!(
        field_of(&vms, "external_id"),
        [DB_01],
        "case-insensitive, as NSX"
    );
    assert_eq!(
        members(client, "blue", "ip-addresses").await["results"],
        json!(["10.10.2.21"])
    );
    let groups = read(
        client,
        &format!("/policy/api/v1/infra/virtual-machine-group-associations?vm_external_id={DB_01}"),
    )
    .await;
    assert_eq!(field_of(&groups, "path"), [format!("{GROUPS}/blue")]);

    // The manager's actions: a second tag added, then the group's removed.
    assert_eq!(
        tag(
            client,
            "add_tags",
            DB_01,
            json!([{"scope": "x", "tag": "y"}])
        )
        .await
        .status,
        204
    );
    let untag = json!([{"scope": "team", "tag": "Blue"}]);
    assert_eq!(tag(client, "remove_tags", DB_01, untag).await.status, 204);
    let vm = read(
        client,
        &format!("/api/v1/fabric/virtual-machines?external_id={DB_01}"),
    )
    .await;
    assert_eq!(
        vm["results"][0]["tags"],
        json!([{"scope": "x", "tag": "y"}])
    );
    assert_eq!(
        members(client, "blue", "virtual-machines").await["result_count"],
        0
    );

    // What no VM has is 404, a body NSX refuses 400; nothing changes.
    tag(client, "update_tags", "no-such-vm", json!([]))
        .await
        .api_error(404, 600);
    let long = json!([{"scope": "s".repeat(129), "tag": "t"}]);
    tag(client, "update_tags", DB_01, long)
        .await
        .field_error("tags[0].scope");
    tag(client, "rename", DB_01, json!([]))
        .await
        .api_error(400, 255);
}

#[tokio::test]
async fn groups_nest_and_select_by_ip_address_and_path() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    put(client, "/infra/segments/s1", json!({})).await;
    put(
        client,
        "/infra/segments/s1/ports/p1",
        json!({"attachment": {"id": "web-01-vif-0", "type": "VIF"}}),
    )
    .await;
    let addresses =
        json!({"resource_type": "IPAddressExpression", "ip_addresses": ["192.168.1.0/24"]});
    put(
        client,
        &format!("{GROUPS}/net"),
        json!({"expression": [addresses]}),
    )
    .await;
    let paths = json!({"resource_type": "PathExpression",
        "paths": ["/infra/segments/s1/ports/p1", format!("{GROUPS}/net")]});
    put(
        client,
        &format!("{GROUPS}/outer"),
        json!({"expression": [paths]}),
    )
    .await;

    let ports = members(client, "outer", "segment-ports").await;
    assert_eq!(field_of(&ports, "path"), ["/infra/segments/s1/ports/p1"]);
    let ips = members(client, "outer", "ip-addresses").await;
    assert_eq!(
        ips["results"],
        json!(["10.10.1.11", "192.168.1.0/24"]),
        "{ips:#?}"
    );
    let vifs = members(client, "outer", "vifs").await;
    assert_eq!(field_of(&vifs, "owner_vm_id"), [WEB_01]);
    assert_eq!(
        members(client, "outer", "virtual-machines").await["result_count"],
        0
    );

    // A segment's members are its ports' interfaces too; conditions join by AND and OR.
    let segment = json!({"resource_type": "PathExpression", "paths": ["/infra/segments/s1"]});
    let web = json!({"resource_type": "Condition", "member_type": "VirtualMachine",
        "key": "Name", "operator": "STARTSWITH", "value": "web"});
    let prod = json!({"resource_type": "Condition", "member_type": "VirtualMachine",
        "key": "Tag", "operator": "EQUALS", "value": "env|prod"});
    let and = json!({"resource_type": "ConjunctionOperator", "conjunction_operator": "AND"});
    let or = json!({"resource_type": "ConjunctionOperator", "conjunction_operator": "OR"});
    put(
        client,
        &format!("{GROUPS}/mixed"),
        json!({"expression": [segment, or, {"resource_type": "NestedExpression",
            "expressions": [web, and, prod]}]}),
    )
    .await;
    let segments = members(client, "mixed", "segments").await;
    assert_eq!(field_of(&segments, "path"), ["/infra/segments/s1"]);
    let vms = members(client, "mixed", "virtual-machines").await;
    assert_eq!(field_of(&vms, "display_name"), ["web-02"]);
    let ips = members(client, "mixed", "ip-addresses").await;
    assert_eq!(ips["results"], json!(["10.10.1.11", "10.10.1.12"]));

    client
        .get_path(&format!("/policy/api/v1{GROUPS}/none/members/segments"))
        .await
        .api_error(404, 600);
}

#[tokio::test]
async fn the_store_adds_moves_and_removes_a_vm_and_a_reset_ships_the_lab_again() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    put(client, "/infra/segments/s1", json!({})).await;
    for port in ["a", "b"] {
        let attachment = json!({"attachment": {"id": format!("att-{port}")}});
        put(
            client,
            &format!("/infra/segments/s1/ports/{port}"),
            attachment,
        )
        .await;
    }
    let on_a = json!({"resource_type": "PathExpression", "paths": ["/infra/segments/s1/ports/a"]});
    put(
        client,
        &format!("{GROUPS}/on-a"),
        json!({"expression": [on_a]}),
    )
    .await;

    let vm = |attachment: &str| {
        json!({"display_name": "app-01", "tags": [{"scope": "app", "tag": "new"}],
            "guest_info": {"os_name": "Photon OS", "computer_name": "app-01"},
            "vifs": [{"lport_attachment_id": attachment, "ip_addresses": ["10.20.0.5"]}]})
    };
    let path = format!("{STORE_VMS}/app-01-id");
    let added = client.call("PUT", &path, Some(&vm("att-a"))).await;
    assert_eq!(added.status, 200, "{added:#?}");
    assert_eq!(added.body["external_id"], "app-01-id");
    assert_eq!(
        read(client, &path).await["vifs"][0]["lport_attachment_id"],
        "att-a"
    );
    let ips = members(client, "on-a", "ip-addresses").await;
    assert_eq!(ips["results"], json!(["10.20.0.5"]));

    // Moved to port b: the group of port a loses its address.
    assert_eq!(
        client.call("PUT", &path, Some(&vm("att-b"))).await.status,
        200
    );
    assert_eq!(
        members(client, "on-a", "ip-addresses").await["result_count"],
        0
    );

    // Kept across a restart.
    server.terminate();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(read(client, &path).await["display_name"], "app-01");

    // Refused as NSX-shaped errors; nothing changes.
    let wrong = json!({"vifs": [{"ip_addresses": ["not-an-address"]}]});
    client
        .call("PUT", &path, Some(&wrong))
        .await
        .field_error("body");
    let unknown = json!({"colour": "blue"});
    client
        .call("PUT", &path, Some(&unknown))
        .await
        .field_error("body");
    let long = json!({"tags": [{"tag": "t".repeat(257)}]});
    client
        .call("PUT", &path, Some(&long))
        .await
        .field_error("tags[0].tag");
    assert_eq!(
        read(client, &path).await["vifs"][0]["lport_attachment_id"],
        "att-b"
    );

    // Removed; a reset ships the lab again, without it.
    assert_eq!(client.call("DELETE", &path, None).await.status, 200);
    client.get_path(&path).await.api_error(404, 600);
    assert_eq!(
        client.call("DELETE", &path, None).await.status,
        200,
        "idempotent"
    );
    assert_eq!(
        client.call("PUT", &path, Some(&vm("att-a"))).await.status,
        200
    );
    let reset = client.send(client.request("POST", "/store/v1/reset")).await;
    assert_eq!(reset.status, 200, "{reset:#?}");
    client.get_path(&path).await.api_error(404, 600);
    let listed = read(client, "/api/v1/fabric/virtual-machines").await;
    assert_eq!(listed["result_count"], 3);
}
