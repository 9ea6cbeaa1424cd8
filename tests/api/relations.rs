//! How objects hang together: a create needs its parent, a write the objects it names by
//! path, a delete needs the object to have no children and no referrers (but for its
//! configuration, which goes with it), and NSX's default objects are there from the first
//! start and after a reset.

use serde_json::{json, Value};

use crate::support::{Client, Reply, Workspace};

async fn put(client: &Client, path: &str) -> Reply {
    client.policy("PUT", path, Some(&json!({}))).await
}

/// The paths NSX ships with, which clients read before they write.
const DEFAULTS: &[(&str, &str)] = &[
    ("/infra/domains/default", "Domain"),
    ("/infra/sites/default", "Site"),
    (
        "/infra/sites/default/enforcement-points/default",
        "EnforcementPoint",
    ),
    ("/orgs/default", "Org"),
    ("/orgs/default/projects/default", "Project"),
    (
        "/orgs/default/projects/default/infra/domains/default",
        "Domain",
    ),
    (
        "/infra/segment-security-profiles/default-segment-security-profile",
        "SegmentSecurityProfile",
    ),
    (
        "/infra/ip-discovery-profiles/default-ip-discovery-profile",
        "IPDiscoveryProfile",
    ),
    (
        "/infra/mac-discovery-profiles/default-mac-discovery-profile",
        "MacDiscoveryProfile",
    ),
    (
        "/infra/spoofguard-profiles/default-spoofguard-profile",
        "SpoofGuardProfile",
    ),
];

#[tokio::test]
async fn a_create_needs_its_parent_and_a_delete_needs_no_children() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    // Under a parent that is not stored: NSX's 404 naming the parent, by PUT or PATCH.
    for method in ["PUT", "PATCH"] {
        let refused = client
            .policy(method, "/infra/domains/d1/groups/g1", Some(&json!({})))
            .await;
        let message = refused.api_error(404, 600);
        assert!(message.contains("/infra/domains/d1 "), "{message}");
    }
    client
        .policy("GET", "/infra/domains/d1/groups/g1", None)
        .await
        .api_error(404, 600);
    let message = put(client, "/orgs/default/projects/p1/infra/segments/s1")
        .await
        .api_error(404, 600);
    assert!(
        message.contains("/orgs/default/projects/p1 "),
        "a project's infra is no object of its own: {message}"
    );
    let message = put(client, "/orgs/other/projects/p1")
        .await
        .api_error(404, 600);
    assert!(message.contains("/orgs/other "), "{message}");

    // With the parents stored, the same creates succeed.
    for path in [
        "/infra/domains/d1",
        "/infra/domains/d1/groups/g1",
        "/orgs/default/projects/p1",
        "/orgs/default/projects/p1/infra/segments/s1",
    ] {
        assert_eq!(put(client, path).await.status, 200, "{path}");
    }

    // A parent with children cannot be deleted; the answer names a child, and nothing
    // changes.
    for (parent, child) in [
        ("/infra/domains/d1", "/infra/domains/d1/groups/g1"),
        (
            "/orgs/default/projects/p1",
            "/orgs/default/projects/p1/infra/segments/s1",
        ),
    ] {
        let before = client.policy("GET", parent, None).await.body;
        let message = client
            .policy("DELETE", parent, None)
            .await
            .api_error(400, 500030);
        assert_eq!(
            message,
            format!(
                "The object path=[{parent}] cannot be deleted as either it has children or it \
                 is being referenced by other objects path=[{child}]."
            )
        );
        assert_eq!(client.policy("GET", parent, None).await.body, before);
        // Once the children are gone, so can the parent be.
        assert_eq!(client.policy("DELETE", child, None).await.status, 200);
        assert_eq!(client.policy("DELETE", parent, None).await.status, 200);
        client.policy("GET", parent, None).await.api_error(404, 600);
    }
}

/// What is stored at a route no client can delete (a segment's `security-config`, a locale
/// service's `multicast`) is the object's configuration: it goes with the object, with its
/// own delete revision, where it would otherwise keep the object forever; any other child
/// still keeps the object, and its configuration with it.
#[tokio::test]
async fn an_objects_configuration_goes_with_it() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let config = "/infra/segments/web/security-config";
    let locale = "/infra/tier-0s/t0/locale-services/ls";
    let multicast = format!("{locale}/multicast");
    for path in ["/infra/segments/web", "/infra/tier-0s/t0", locale] {
        assert_eq!(put(client, path).await.status, 200, "{path}");
    }
    for path in [config, multicast.as_str()] {
        let written = client.policy("PATCH", path, Some(&json!({}))).await;
        assert_eq!(written.status, 200, "{path}: {written:#?}");
        client
            .policy("DELETE", path, None)
            .await
            .api_error(405, 253);
    }

    // A child that can be deleted still keeps its parent, configuration and all.
    let message = client
        .policy("DELETE", "/infra/tier-0s/t0", None)
        .await
        .api_error(400, 500030);
    assert!(message.contains(locale), "{message}");
    assert_eq!(client.policy("GET", &multicast, None).await.status, 200);

    for (object, configuration) in [
        ("/infra/segments/web", config),
        (locale, multicast.as_str()),
    ] {
        let deleted = client.policy("DELETE", object, None).await;
        assert_eq!(deleted.status, 200, "{object}: {deleted:#?}");
        client
            .policy("GET", configuration, None)
            .await
            .api_error(404, 600);
        let history = client
            .call(
                "GET",
                &format!("/store/v1/revisions?path={configuration}"),
                None,
            )
            .await;
        assert_eq!(
            history.body["results"][0]["operation"], "delete",
            "{configuration}: {history:#?}"
        );
    }
    let deleted = client.policy("DELETE", "/infra/tier-0s/t0", None).await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");
}

#[tokio::test]
async fn the_defaults_are_there_from_the_start_and_after_a_reset() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (path, resource_type) in DEFAULTS {
        let reply = client.policy("GET", path, None).await;
        assert_eq!(reply.status, 200, "{path}: {reply:#?}");
        assert_eq!(reply.body["resource_type"], *resource_type, "{path}");
        assert_eq!(reply.body["_system_owned"], true, "{path}");
        assert_eq!(reply.body["_create_user"], "system", "{path}");
        assert_eq!(reply.body["_revision"], 0, "{path}");
    }
    let domains = client.policy("GET", "/infra/domains", None).await;
    assert_eq!(domains.body["result_count"], 1, "{domains:#?}");
    assert_eq!(domains.body["results"][0]["id"], "default");
    // Unchanged defaults are in every store: an export leaves them out.
    assert_eq!(client.export().await, "");

    // Clients write under them, and may change them.
    assert_eq!(
        put(client, "/infra/domains/default/groups/web")
            .await
            .status,
        200
    );
    let patched = client
        .policy(
            "PATCH",
            "/infra/domains/default",
            Some(&json!({"description": "ours"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    let changed = client
        .policy("GET", "/infra/domains/default", None)
        .await
        .body;
    assert_eq!(changed["_revision"], 1);
    assert_eq!(changed["_system_owned"], true, "still the system's object");
    let exported = client.export().await;
    let paths: Vec<String> = exported
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["path"].to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "\"/infra/domains/default\"",
            "\"/infra/domains/default/groups/web\""
        ]
    );

    // A restart writes no default twice.
    server.terminate();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(
        client
            .policy("GET", "/infra/domains/default", None)
            .await
            .body,
        changed
    );

    // A reset removes what clients wrote (the changed default counts as the store's) and
    // writes the defaults anew.
    let reset = client.send(client.request("POST", "/store/v1/reset")).await;
    assert_eq!(reset.body, json!({"objects_removed": 1}), "{reset:#?}");
    for (path, _) in DEFAULTS {
        let reply = client.policy("GET", path, None).await;
        assert_eq!(reply.body["_revision"], 0, "{path}");
    }
    let domain = client
        .policy("GET", "/infra/domains/default", None)
        .await
        .body;
    assert_eq!(domain.get("description"), None);
    client
        .policy("GET", "/infra/domains/default/groups/web", None)
        .await
        .api_error(404, 600);

    // The export brings the changed default and its child back, byte for byte.
    let import = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(exported.clone());
    let imported = client.send(import).await;
    assert_eq!(imported.status, 200, "{imported:#?}");
    assert_eq!(client.export().await, exported);
}

#[tokio::test]
async fn an_import_line_needs_its_parent_too() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let line = json!({"resource_type": "Group", "path": "/infra/domains/d9/groups/g", "id": "g"});
    let import = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"));
    let message = client.send(import).await.api_error(404, 600);
    assert!(message.contains("/infra/domains/d9 "), "{message}");
    assert_eq!(client.export().await, "");
}

#[tokio::test]
async fn references_by_path_must_be_stored_and_keep_what_they_name() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let policy = "/infra/domains/default/security-policies/web";
    let rule_naming = |group: &str| {
        json!({"rules": [{"resource_type": "Rule", "id": "r1", "action": "ALLOW",
            "source_groups": [group], "destination_groups": ["ANY"],
            "services": ["/infra/services/HTTP"], "scope": ["ANY"]}]})
    };

    // A name of an object that is not stored: NSX's 404 naming it, and nothing is written.
    // A service NSX ships (`/infra/services/HTTP`) need not be stored.
    let cases = [
        (
            "/infra/tier-1s/t1",
            json!({"tier0_path": "/infra/tier-0s/t0"}),
            "/infra/tier-0s/t0",
        ),
        (
            "/infra/segments/s1",
            json!({"connectivity_path": "/infra/tier-1s/t1"}),
            "/infra/tier-1s/t1",
        ),
        (
            "/infra/domains/default/groups/web",
            json!({"expression": [{"resource_type": "PathExpression",
                "paths": ["/infra/segments/s1"]}]}),
            "/infra/segments/s1",
        ),
        (
            policy,
            rule_naming("/infra/domains/default/groups/web"),
            "/infra/domains/default/groups/web",
        ),
    ];
    for (path, body, missing) in &cases {
        for method in ["PUT", "PATCH"] {
            let message = client
                .policy(method, path, Some(body))
                .await
                .api_error(404, 600);
            assert!(
                message.contains(&format!(" {missing} ")),
                "{path}: {message}"
            );
            client.policy("GET", path, None).await.api_error(404, 600);
        }
    }

    // Written in the order that makes each name good, every one is taken.
    for path in ["/infra/tier-0s/t0"] {
        assert_eq!(put(client, path).await.status, 200);
    }
    for (path, body, _) in &cases {
        let reply = client.policy("PUT", path, Some(body)).await;
        assert_eq!(reply.status, 200, "{path}: {reply:#?}");
    }

    // What is named cannot be deleted; the answer names the referrer, and nothing changes.
    let group = "/infra/domains/default/groups/web";
    for (target, referrer) in [
        ("/infra/tier-0s/t0", "/infra/tier-1s/t1"),
        ("/infra/tier-1s/t1", "/infra/segments/s1"),
        ("/infra/segments/s1", group),
        (group, &format!("{policy}/rules/r1")),
    ] {
        let before = client.policy("GET", target, None).await.body;
        let message = client
            .policy("DELETE", target, None)
            .await
            .api_error(400, 500030);
        assert_eq!(
            message,
            format!(
                "The object path=[{target}] cannot be deleted as either it has children or it \
                 is being referenced by other objects path=[{referrer}]."
            )
        );
        assert_eq!(client.policy("GET", target, None).await.body, before);
    }

    // A snapshot keeps the references, a restart too; an export imports into an empty store
    // in path order, though a segment sorts before the tier-1 it names.
    let saved = client
        .send(client.request("PUT", "/store/v1/snapshots/named"))
        .await;
    assert_eq!(saved.status, 200, "{saved:#?}");
    let exported = client.export().await;
    server.terminate();
    let server = workspace.start();
    let client = &server.client;
    client
        .policy("DELETE", group, None)
        .await
        .api_error(400, 500030);
    // Six objects written, the policy's rule one of its own, and the three NAT sections each
    // gateway came with; the export leaves the sections out, as NSX's own.
    let reset = client.send(client.request("POST", "/store/v1/reset")).await;
    assert_eq!(reset.body, json!({"objects_removed": 12}), "{reset:#?}");
    let import = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(exported.clone());
    let imported = client.send(import).await;
    assert_eq!(imported.body, json!({"imported": 6}), "{imported:#?}");
    client
        .policy("DELETE", group, None)
        .await
        .api_error(400, 500030);

    // A policy that no longer names the group lets it go; so does a deleted referrer.
    let current = client.policy("GET", policy, None).await.body;
    let mut replaced = rule_naming("ANY");
    replaced["_revision"] = current["_revision"].clone();
    assert_eq!(
        client.policy("PUT", policy, Some(&replaced)).await.status,
        200
    );
    assert_eq!(client.policy("DELETE", group, None).await.status, 200);
    assert_eq!(
        client
            .policy("DELETE", "/infra/segments/s1", None)
            .await
            .status,
        200
    );
    assert_eq!(
        client
            .policy("DELETE", "/infra/tier-1s/t1", None)
            .await
            .status,
        200
    );

    // The snapshot brings the references back with the objects.
    let restore = client.request("POST", "/store/v1/snapshots/named?action=restore");
    assert_eq!(client.send(restore).await.status, 200);
    client
        .policy("DELETE", group, None)
        .await
        .api_error(400, 500030);
    client
        .policy("DELETE", "/infra/tier-0s/t0", None)
        .await
        .api_error(400, 500030);

    // An import whose line names an object no line or stored object is: refused whole.
    let reset = client.send(client.request("POST", "/store/v1/reset")).await;
    assert_eq!(reset.status, 200);
    let line = json!({"resource_type": "Tier1", "path": "/infra/tier-1s/t9", "id": "t9",
        "tier0_path": "/infra/tier-0s/none"});
    let import = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"));
    let message = client.send(import).await.api_error(404, 600);
    assert!(message.contains("/infra/tier-0s/none "), "{message}");
    assert_eq!(client.export().await, "");
}

#[tokio::test]
async fn a_project_comes_and_goes_with_its_own_default_domain() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let project = "/orgs/default/projects/p1";
    let domain = "/orgs/default/projects/p1/infra/domains/default";
    let group = "/orgs/default/projects/p1/infra/domains/default/groups/web";

    assert_eq!(put(client, project).await.status, 200);
    let stored = client.policy("GET", domain, None).await;
    assert_eq!(stored.status, 200, "{stored:#?}");
    assert_eq!(stored.body["resource_type"], "Domain");
    assert_eq!(
        stored.body["parent_path"],
        "/orgs/default/projects/p1/infra"
    );
    assert_eq!(stored.body["_system_owned"], true);
    // Clients read it, and write under it; they cannot write it (its route has GET only).
    client
        .policy("DELETE", domain, None)
        .await
        .api_error(405, 253);
    let listed = client
        .policy("GET", "/orgs/default/projects/p1/infra/domains", None)
        .await;
    assert_eq!(listed.body["result_count"], 1, "{listed:#?}");
    assert_eq!(put(client, group).await.status, 200);

    // A project whose domain holds something cannot be deleted; the answer names the
    // project, and nothing changes.
    let message = client
        .policy("DELETE", project, None)
        .await
        .api_error(400, 500030);
    assert_eq!(
        message,
        format!(
            "The object path=[{project}] cannot be deleted as either it has children or it is \
             being referenced by other objects path=[{group}]."
        )
    );
    assert_eq!(client.policy("GET", domain, None).await.status, 200);

    // An export leaves the domain out (an import of the project writes it again).
    let exported = client.export().await;
    assert!(
        !exported.contains(&format!("\"path\":\"{domain}\"")),
        "{exported}"
    );

    // Emptied, the project goes with its domain; history has both deletes.
    assert_eq!(client.policy("DELETE", group, None).await.status, 200);
    assert_eq!(client.policy("DELETE", project, None).await.status, 200);
    client.policy("GET", domain, None).await.api_error(404, 600);
    let history = client
        .send(client.request("GET", &format!("/store/v1/revisions?path={domain}")))
        .await;
    let operations: Vec<&str> = history.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|revision| revision["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations, ["delete", "create"], "{history:#?}");

    // The export imports: the project, its domain, and the group under the domain.
    let import = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(exported.clone());
    let imported = client.send(import).await;
    assert_eq!(imported.body, json!({"imported": 2}), "{imported:#?}");
    assert_eq!(client.policy("GET", domain, None).await.status, 200);
    assert_eq!(client.policy("GET", group, None).await.status, 200);
    assert_eq!(client.export().await, exported);
}
