//! The Hierarchical API: a tree of objects written by one `PATCH /policy/api/v1/infra` (or
//! a project's `/infra`, or `/org-root`), all of it or none, each object with its own
//! revision; read back by single GETs and by `GET /policy/api/v1/infra`.

use serde_json::{json, Value};

use crate::support::{Client, Reply, Workspace, AUDITOR};

async fn patch_infra(client: &Client, body: &Value) -> Reply {
    client.policy("PATCH", "/infra", Some(body)).await
}

fn child(wrapper: &str, key: &str, object: Value) -> Value {
    json!({"resource_type": wrapper, key: object})
}

/// One domain with two groups, a service with an entry, and a security policy whose rules
/// name them: the tree nsx-operator and terraform write.
fn security_tree(domain: &str) -> Value {
    let groups = format!("/infra/domains/{domain}/groups");
    json!({"resource_type": "Infra", "children": [
        child("ChildService", "Service", json!({"id": format!("{domain}-http"),
            "resource_type": "Service", "children": [
                child("ChildServiceEntry", "ServiceEntry", json!({"id": "http",
                    "resource_type": "L4PortSetServiceEntry", "l4_protocol": "TCP",
                    "destination_ports": ["80"]}))]})),
        child("ChildDomain", "Domain", json!({"id": domain, "resource_type": "Domain",
            "children": [
                child("ChildGroup", "Group", json!({"id": "web", "expression": [
                    {"resource_type": "IPAddressExpression", "ip_addresses": ["10.0.0.1"]}]})),
                child("ChildGroup", "Group", json!({"id": "db", "description": "databases"})),
                child("ChildSecurityPolicy", "SecurityPolicy", json!({"id": "app",
                    "category": "Application", "children": [
                        child("ChildRule", "Rule", json!({"id": "web-to-db", "action": "ALLOW",
                            "source_groups": [format!("{groups}/web")],
                            "destination_groups": [format!("{groups}/db")],
                            "services": [format!("/infra/services/{domain}-http")],
                            "sequence_number": 1})),
                        child("ChildRule", "Rule", json!({"id": "deny", "action": "DROP",
                            "source_groups": ["ANY"], "destination_groups": ["ANY"],
                            "services": ["ANY"], "sequence_number": 2}))]}))]}))]})
}

fn tree_paths(domain: &str) -> Vec<String> {
    [
        format!("/infra/services/{domain}-http"),
        format!("/infra/services/{domain}-http/service-entries/http"),
        format!("/infra/domains/{domain}"),
        format!("/infra/domains/{domain}/groups/web"),
        format!("/infra/domains/{domain}/groups/db"),
        format!("/infra/domains/{domain}/security-policies/app"),
        format!("/infra/domains/{domain}/security-policies/app/rules/web-to-db"),
        format!("/infra/domains/{domain}/security-policies/app/rules/deny"),
    ]
    .into()
}

/// The wrapped children of a hierarchical GET's node, by the key their objects are under.
fn children<'a>(node: &'a Value, key: &str) -> Vec<&'a Value> {
    node["children"]
        .as_array()
        .map(|children| children.iter().filter_map(|child| child.get(key)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_tree_is_written_in_one_request_and_read_back_whole() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let written = patch_infra(client, &security_tree("d1")).await;
    assert_eq!(written.status, 200, "{written:#?}");
    assert_eq!(written.text, "");

    // Every object is stored as a single write would store it, with its own create revision.
    for path in tree_paths("d1") {
        let object = client.policy("GET", &path, None).await;
        assert_eq!(object.status, 200, "{path}: {object:#?}");
        assert_eq!(object.body["path"], path.as_str());
        assert_eq!(object.body["_revision"], 0);
        assert_eq!(object.body["_create_user"], "admin");
        let history = client.history(&path).await;
        assert_eq!(history.len(), 1, "{path}");
        assert_eq!(history[0]["operation"], "create");
    }
    let entry = client
        .policy("GET", "/infra/services/d1-http/service-entries/http", None)
        .await;
    assert_eq!(entry.body["resource_type"], "L4PortSetServiceEntry");
    let rule = client
        .policy(
            "GET",
            "/infra/domains/d1/security-policies/app/rules/web-to-db",
            None,
        )
        .await;
    assert_eq!(
        rule.body["parent_path"],
        "/infra/domains/d1/security-policies/app"
    );

    // The hierarchical GET answers the same objects, nested as they were written.
    let tree = client.policy("GET", "/infra", None).await;
    assert_eq!(tree.status, 200, "{tree:#?}");
    assert_eq!(tree.body["resource_type"], "Infra");
    let domain = children(&tree.body, "Domain")
        .into_iter()
        .find(|domain| domain["id"] == "d1")
        .expect("the domain is in the tree");
    let mut groups: Vec<&str> = children(domain, "Group")
        .iter()
        .map(|group| group["id"].as_str().unwrap())
        .collect();
    groups.sort_unstable();
    assert_eq!(groups, ["db", "web"]);
    let policy = children(domain, "SecurityPolicy")[0];
    assert_eq!(children(policy, "Rule").len(), 2);
    let single = client
        .policy("GET", "/infra/domains/d1/groups/db", None)
        .await
        .body;
    let in_tree = children(domain, "Group")
        .into_iter()
        .find(|group| group["id"] == "db")
        .unwrap();
    assert_eq!(
        *in_tree, single,
        "the tree holds the objects as GET serves them"
    );
    let services = children(&tree.body, "Service");
    assert_eq!(children(services[0], "ServiceEntry").len(), 1);

    // Filters: one type (with what is above it), one subtree.
    let filtered = client
        .policy("GET", "/infra?type_filter=Rule", None)
        .await
        .body;
    // The domains above rules: this one, and the default one with NSX's default sections.
    let domains = children(&filtered, "Domain");
    let ids: Vec<&Value> = domains.iter().map(|domain| &domain["id"]).collect();
    assert_eq!(ids, [&json!("d1"), &json!("default")], "{filtered}");
    assert!(children(domains[0], "Group").is_empty());
    let policies = children(domains[0], "SecurityPolicy");
    assert_eq!(children(policies[0], "Rule").len(), 2);
    assert!(children(&filtered, "Service").is_empty());
    let same = client
        .policy("GET", "/infra?filter=Type-Rule", None)
        .await
        .body;
    assert_eq!(same, filtered);
    let based = client
        .policy("GET", "/infra?base_path=/infra/domains/d1/groups", None)
        .await;
    based.api_error(400, 255);
    let based = client
        .policy("GET", "/infra?base_path=/infra/domains/d1/groups/web", None)
        .await
        .body;
    let domains = children(&based, "Domain");
    assert_eq!(domains.len(), 1);
    let groups = children(domains[0], "Group");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["id"], "web");
    assert!(children(domains[0], "SecurityPolicy").is_empty());
    client
        .policy("GET", "/infra?type_filter=Nope", None)
        .await
        .api_error(400, 255);

    // A second tree changes only what it names: the group's revision moves on, nothing else.
    let change = json!({"children": [child("ChildResourceReference", "unused", json!(null))]});
    patch_infra(client, &change).await.api_error(400, 255);
    let change = json!({"children": [{"resource_type": "ChildResourceReference",
        "target_type": "Domain", "id": "d1", "children": [
            child("ChildGroup", "Group", json!({"id": "db", "description": "the databases"}))]}]});
    assert_eq!(patch_infra(client, &change).await.status, 200);
    let db = client
        .policy("GET", "/infra/domains/d1/groups/db", None)
        .await
        .body;
    assert_eq!(db["_revision"], 1);
    assert_eq!(db["description"], "the databases");
    let domain = client.policy("GET", "/infra/domains/d1", None).await.body;
    assert_eq!(domain["_revision"], 0, "a reference writes nothing");
    assert_eq!(
        client.history("/infra/domains/d1/groups/db").await[1]["operation"],
        "patch"
    );

    // A project's infra is a root of its own.
    let project_tree = json!({"resource_type": "Infra", "children": [
        {"resource_type": "ChildResourceReference", "target_type": "Domain", "id": "default",
         "children": [child("ChildGroup", "Group", json!({"id": "pg"}))]}]});
    let written = client
        .policy(
            "PATCH",
            "/orgs/default/projects/default/infra",
            Some(&project_tree),
        )
        .await;
    assert_eq!(written.status, 200, "{written:#?}");
    let group = "/orgs/default/projects/default/infra/domains/default/groups/pg";
    assert_eq!(client.policy("GET", group, None).await.status, 200);
    let project = client
        .policy("GET", "/orgs/default/projects/default/infra", None)
        .await
        .body;
    assert_eq!(
        project["path"], "/orgs/default/projects/default/infra",
        "{project}"
    );
    let domains = children(&project, "Domain");
    assert_eq!(children(domains[0], "Group")[0]["path"], group);
}

#[tokio::test]
async fn a_tree_with_one_bad_child_changes_nothing() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(patch_infra(client, &security_tree("d1")).await.status, 200);
    let before = client.export().await;

    // A body that does not parse, at any depth: 400 naming the field from the top.
    let mut bad = security_tree("d2");
    bad["children"][1]["Domain"]["children"][0]["Group"]["expression"][0]["ip_adresses"] =
        json!(["10.0.0.2"]);
    let message = patch_infra(client, &bad).await.api_error(400, 255);
    assert!(
        message.contains("children[1].Domain.children[0].Group.expression[0].ip_adresses"),
        "{message}"
    );
    for (body, field) in [
        (
            json!({"children": [{"resource_type": "ChildNope", "Nope": {}}]}),
            "children[0].resource_type",
        ),
        (
            json!({"children": [child("ChildGroup", "Group", json!({"id": "g"}))]}),
            "children[0].Group.resource_type",
        ),
        (
            json!({"children": [child("ChildDomain", "Domain", json!({"id": "a/b"}))]}),
            "children[0].Domain.id",
        ),
        (json!({"children": {}}), "children"),
        (json!({"resource_type": "Segment"}), "resource_type"),
    ] {
        let message = patch_infra(client, &body).await.api_error(400, 255);
        assert!(message.contains(field), "{field}: {message}");
    }

    // A tree the store refuses halfway (a rule naming a group no one wrote): nothing of it
    // is written, its first objects neither.
    let mut refused = security_tree("d2");
    refused["children"][1]["Domain"]["children"][2]["SecurityPolicy"]["children"][0]["Rule"]
        ["source_groups"] = json!(["/infra/domains/d2/groups/nobody"]);
    let message = patch_infra(client, &refused).await.api_error(404, 600);
    assert!(
        message.contains("/infra/domains/d2/groups/nobody "),
        "{message}"
    );

    // With enforce_revision_check, a stale _revision is NSX's 412, and nothing changes;
    // without it the same body is taken.
    let stale = json!({"children": [child("ChildDomain", "Domain", json!({"id": "d1",
        "_revision": 0, "children": [child("ChildGroup", "Group", json!({"id": "db",
        "_revision": 5, "description": "stale"}))]}))]});
    client
        .policy("PATCH", "/infra?enforce_revision_check=true", Some(&stale))
        .await
        .api_error(412, 206);
    client
        .policy("PATCH", "/infra?enforce_revision_check=yes", Some(&stale))
        .await
        .api_error(400, 255);

    // An auditor may read the tree, not write it.
    let auditor = client.as_user(AUDITOR);
    assert_eq!(auditor.policy("GET", "/infra", None).await.status, 200);
    auditor
        .policy("PATCH", "/infra", Some(&stale))
        .await
        .api_error(403, 401);
    auditor
        .policy("PATCH", "/org-root", Some(&json!({})))
        .await
        .api_error(403, 401);
    assert_eq!(client.export().await, before, "nothing changed");
    assert_eq!(
        client.policy("PATCH", "/infra", Some(&stale)).await.status,
        200
    );
    let db = client
        .policy("GET", "/infra/domains/d1/groups/db", None)
        .await
        .body;
    assert_eq!(db["description"], "stale");
}

#[tokio::test]
async fn marked_for_delete_removes_a_subtree() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for domain in ["d1", "d2"] {
        assert_eq!(
            patch_infra(client, &security_tree(domain)).await.status,
            200
        );
    }
    // d2's rule names d1's group: d1 cannot go while it does, and nothing changes.
    let naming = json!({"children": [{"resource_type": "ChildResourceReference",
        "target_type": "Domain", "id": "d2", "children": [
            child("ChildSecurityPolicy", "SecurityPolicy", json!({"id": "cross",
                "children": [child("ChildRule", "Rule", json!({"id": "r",
                    "source_groups": ["/infra/domains/d1/groups/web"]}))]}))]}]});
    assert_eq!(patch_infra(client, &naming).await.status, 200);
    let before = client.export().await;
    let delete_d1 = json!({"children": [{"resource_type": "ChildDomain",
        "marked_for_delete": true, "Domain": {"id": "d1", "resource_type": "Domain"}}]});
    let message = patch_infra(client, &delete_d1).await.api_error(400, 500030);
    assert!(
        message.contains("path=[/infra/domains/d2/security-policies/cross/rules/r]"),
        "{message}"
    );
    assert_eq!(client.export().await, before);

    // Without the cross rule, the whole subtree goes: each object with a delete revision.
    let drop_cross = json!({"children": [{"resource_type": "ChildResourceReference",
        "target_type": "Domain", "id": "d2", "children": [{"resource_type":
        "ChildSecurityPolicy", "marked_for_delete": true,
        "SecurityPolicy": {"id": "cross"}}]}]});
    assert_eq!(patch_infra(client, &drop_cross).await.status, 200);
    assert_eq!(patch_infra(client, &delete_d1).await.status, 200);
    for path in tree_paths("d1") {
        let gone = client.policy("GET", &path, None).await;
        if path.starts_with("/infra/services/") {
            assert_eq!(gone.status, 200, "outside the subtree: {path}");
            continue;
        }
        gone.api_error(404, 600);
        let history = client.history(&path).await;
        assert_eq!(history.last().unwrap()["operation"], "delete", "{path}");
    }
    for path in tree_paths("d2") {
        assert_eq!(
            client.policy("GET", &path, None).await.status,
            200,
            "{path}"
        );
    }
    // Marked for delete where nothing is stored: nothing to do.
    assert_eq!(patch_infra(client, &delete_d1).await.status, 200);
}

#[tokio::test]
async fn the_org_root_writes_projects_vpcs_and_their_infra() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let body = json!({"resource_type": "OrgRoot", "children": [
        {"resource_type": "ChildResourceReference", "target_type": "Org", "id": "default",
         "children": [child("ChildProject", "Project", json!({"id": "p1",
            "resource_type": "Project", "children": [
                child("ChildVpc", "Vpc", json!({"id": "v1", "children": [
                    child("ChildVpcSubnet", "VpcSubnet", json!({"id": "s1",
                        "ipv4_subnet_size": 16}))]})),
                child("ChildInfra", "Infra", json!({"children": [
                    {"resource_type": "ChildResourceReference", "target_type": "Domain",
                     "id": "default", "children": [
                        child("ChildGroup", "Group", json!({"id": "g1"}))]}]}))]}))]}]});
    let written = client.policy("PATCH", "/org-root", Some(&body)).await;
    assert_eq!(written.status, 200, "{written:#?}");
    for path in [
        "/orgs/default/projects/p1",
        "/orgs/default/projects/p1/infra/domains/default",
        "/orgs/default/projects/p1/vpcs/v1",
        "/orgs/default/projects/p1/vpcs/v1/subnets/s1",
        "/orgs/default/projects/p1/infra/domains/default/groups/g1",
    ] {
        let object = client.policy("GET", path, None).await;
        assert_eq!(object.status, 200, "{path}: {object:#?}");
    }
    // An org that is not stored: its children's parent is missing, and nothing is written.
    let elsewhere = json!({"children": [{"resource_type": "ChildResourceReference",
        "target_type": "Org", "id": "other", "children": [
            child("ChildProject", "Project", json!({"id": "p2"}))]}]});
    let message = client
        .policy("PATCH", "/org-root", Some(&elsewhere))
        .await
        .api_error(404, 600);
    assert!(message.contains("/orgs/other "), "{message}");
}

/// NSX resolves the dependencies within one intent tree: a rule before the groups and the
/// service it names, objects below a domain before the domain, a delete before the change
/// that stops naming what it deletes. A dependency the whole tree leaves unmet is still
/// refused, and the tree with it.
#[tokio::test]
async fn a_tree_is_written_whatever_the_order_of_its_children() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let reversed = |mut tree: Value| {
        fn reverse(node: &mut Value) {
            if let Some(children) = node.get_mut("children").and_then(Value::as_array_mut) {
                children.reverse();
                for child in children.iter_mut() {
                    if let Some(wrapped) = child.as_object_mut().and_then(|wrapper| {
                        wrapper
                            .values_mut()
                            .find(|member| member.get("id").is_some())
                    }) {
                        reverse(wrapped);
                    }
                }
            }
        }
        reverse(&mut tree);
        tree
    };
    // Every list of children backwards: the rules come before the groups and the service.
    let written = patch_infra(client, &reversed(security_tree("d1"))).await;
    assert_eq!(written.status, 200, "{written:#?}");
    for path in tree_paths("d1") {
        let object = client.policy("GET", &path, None).await;
        assert_eq!(object.status, 200, "{path}: {object:#?}");
    }
    // A group under a domain the same tree creates after it.
    let later = json!({"children": [
        {"resource_type": "ChildResourceReference", "target_type": "Domain", "id": "d2",
         "children": [child("ChildGroup", "Group", json!({"id": "g"}))]},
        child("ChildDomain", "Domain", json!({"id": "d2"}))]});
    let written = patch_infra(client, &later).await;
    assert_eq!(written.status, 200, "{written:#?}");
    assert_eq!(
        client
            .policy("GET", "/infra/domains/d2/groups/g", None)
            .await
            .status,
        200
    );
    // A group deleted before the rule that named it is changed to name another.
    let moved = json!({"children": [child("ChildDomain", "Domain", json!({"id": "d1",
        "children": [
            {"resource_type": "ChildGroup", "marked_for_delete": true,
             "Group": {"id": "db"}},
            child("ChildSecurityPolicy", "SecurityPolicy", json!({"id": "app", "children": [
                child("ChildRule", "Rule", json!({"id": "web-to-db",
                    "destination_groups": ["/infra/domains/d1/groups/web"]}))]}))]}))]});
    let written = patch_infra(client, &moved).await;
    assert_eq!(written.status, 200, "{written:#?}");
    client
        .policy("GET", "/infra/domains/d1/groups/db", None)
        .await
        .api_error(404, 600);

    // What the whole tree leaves unmet is refused, and nothing of the tree is written.
    let before = client.export().await;
    // The stored rule `web-to-db` still names `web`, whatever else the tree writes.
    let unmet = json!({"children": [child("ChildDomain", "Domain", json!({"id": "d1",
        "children": [
            {"resource_type": "ChildGroup", "marked_for_delete": true,
             "Group": {"id": "web"}},
            child("ChildGroup", "Group", json!({"id": "cache"}))]}))]});
    let message = patch_infra(client, &unmet).await.api_error(400, 500030);
    assert!(
        message.contains("/infra/domains/d1/groups/web"),
        "{message}"
    );
    let missing = json!({"children": [child("ChildDomain", "Domain", json!({"id": "d3",
        "children": [child("ChildSecurityPolicy", "SecurityPolicy", json!({"id": "p",
            "children": [child("ChildRule", "Rule", json!({"id": "r",
                "source_groups": ["/infra/domains/d3/groups/nowhere"]}))]}))]}))]});
    let message = patch_infra(client, &missing).await.api_error(404, 600);
    assert!(
        message.contains("/infra/domains/d3/groups/nowhere"),
        "{message}"
    );
    assert_eq!(
        client.export().await,
        before,
        "nothing of either tree was written"
    );
}

#[tokio::test]
async fn five_thousand_objects_in_one_request() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let groups: Vec<Value> = (0..4999)
        .map(|n| {
            child(
                "ChildGroup",
                "Group",
                json!({"id": format!("g{n:04}"), "description": "a group of one address, \
                    one of the five thousand a single request writes", "expression": [{"resource_type":
                    "IPAddressExpression", "ip_addresses": [format!("10.0.{}.{}", n / 250, n % 250)]}]}),
            )
        })
        .collect();
    let body = json!({"children": [child("ChildDomain", "Domain",
        json!({"id": "big", "children": groups}))]});
    assert!(
        body.to_string().len() > 1 << 20,
        "over the body limit of single writes"
    );
    let written = patch_infra(client, &body).await;
    assert_eq!(written.status, 200, "{written:#?}");
    let list = client
        .policy("GET", "/infra/domains/big/groups?page_size=1", None)
        .await
        .body;
    assert_eq!(list["result_count"], 4999);
    assert_eq!(
        client
            .history("/infra/domains/big/groups/g4998")
            .await
            .len(),
        1
    );
}

/// What one client's operation did: the groups it wrote, the revisions it asked for, and
/// whether it was taken.
struct Done {
    token: String,
    wrote: Vec<(usize, Option<i64>)>,
    status: u16,
}

const GROUPS: usize = 4;

fn group(index: usize) -> String {
    format!("/infra/domains/default/groups/g{index}")
}

#[tokio::test]
async fn concurrent_trees_and_single_writes_keep_every_revision_rule() {
    let workspace = Workspace::new();
    let server = workspace.start();
    for index in 0..GROUPS {
        let created = server
            .client
            .policy("PUT", &group(index), Some(&json!({})))
            .await;
        assert_eq!(created.status, 200);
    }
    let mut clients = tokio::task::JoinSet::new();
    for number in 0..8u64 {
        let client = server.client.clone();
        clients.spawn(async move {
            let mut dice = crate::support::Dice(0x9E37_79B9_7F4A_7C15 ^ (number + 1));
            let mut done = Vec::new();
            for n in 0..25 {
                let token = format!("c{number}-{n}");
                let first = dice.roll(GROUPS as u64) as usize;
                let second = (first + 1 + dice.roll(GROUPS as u64 - 1) as usize) % GROUPS;
                let checked = dice.roll(2) == 0;
                let mut wrote = Vec::new();
                for index in [first, second] {
                    let read = client.policy("GET", &group(index), None).await;
                    wrote.push((index, read.body["_revision"].as_i64().filter(|_| checked)));
                }
                let reply = match dice.roll(3) {
                    // A tree of two groups, their revisions checked or not.
                    0 | 1 => {
                        let children: Vec<Value> = wrote
                            .iter()
                            .map(|(index, revision)| {
                                let mut object =
                                    json!({"id": format!("g{index}"), "description": token});
                                if let Some(revision) = revision {
                                    object["_revision"] = json!(revision);
                                }
                                child("ChildGroup", "Group", object)
                            })
                            .collect();
                        let body = json!({"children": [{"resource_type":
                            "ChildResourceReference", "target_type": "Domain", "id": "default",
                            "children": children}]});
                        let path = format!("/infra?enforce_revision_check={checked}");
                        client.policy("PATCH", &path, Some(&body)).await
                    }
                    // A single write of the first group, with the revision read or none.
                    _ => {
                        wrote.truncate(1);
                        let (index, revision) = wrote[0];
                        let mut body = json!({"description": token});
                        match revision {
                            Some(revision) => {
                                body["_revision"] = json!(revision);
                                client.policy("PUT", &group(index), Some(&body)).await
                            }
                            None => client.policy("PATCH", &group(index), Some(&body)).await,
                        }
                    }
                };
                done.push(Done {
                    token,
                    wrote,
                    status: reply.status,
                });
            }
            done
        });
    }
    let mut done = Vec::new();
    while let Some(finished) = clients.join_next().await {
        done.extend(finished.unwrap());
    }

    // Each group's history: revisions 0, 1, 2, ... in order, each written by one operation.
    let mut writers: Vec<Vec<(i64, String)>> = Vec::new();
    for index in 0..GROUPS {
        let history = server.client.history(&group(index)).await;
        let mut rows = Vec::new();
        for (at, row) in history.iter().enumerate() {
            assert_eq!(row["revision"], at as i64, "{}: {history:#?}", group(index));
            let description = row["object"]["description"].as_str().unwrap_or("");
            rows.push((at as i64, description.to_owned()));
        }
        writers.push(rows);
    }
    let mut taken = 0;
    for operation in &done {
        for (index, asked) in &operation.wrote {
            let landed: Vec<i64> = writers[*index]
                .iter()
                .filter(|(_, token)| *token == operation.token)
                .map(|(revision, _)| *revision)
                .collect();
            match operation.status {
                // Taken: one revision of each group it names; where it asked for a
                // revision, the next one.
                200 => {
                    assert_eq!(landed.len(), 1, "{}: {landed:?}", operation.token);
                    if let Some(asked) = asked {
                        assert_eq!(landed[0], asked + 1, "{}", operation.token);
                    }
                }
                // Refused as stale: none of it landed, in any group.
                412 => {
                    assert!(
                        asked.is_some(),
                        "{}: 412 without a revision",
                        operation.token
                    );
                    assert!(landed.is_empty(), "{}: {landed:?}", operation.token);
                }
                status => panic!("{}: {status}", operation.token),
            }
        }
        taken += usize::from(operation.status == 200);
    }
    assert!(
        taken > 50,
        "most operations are taken: {taken} of {}",
        done.len()
    );
}
