//! What NSX Manager takes and answers that its schema does not say, as clients meet it: a
//! path with a trailing slash (nsxez's `GET /infra/tier-0s/`), an integer where an id is a
//! string (Neutron's plugin numbers a policy's rules), the org root read as well as written,
//! NSX's spelling of the QoS types (`QoSProfile`, where the SDK's class is `QosProfile`), and
//! a PATCH that answers its object where the bindings declare it (the SDK reads it).

use serde_json::{json, Value};

use crate::support::{Client, Workspace, AUDITOR};

/// Writes the security policy `p` in the default domain; answers its path.
async fn a_policy(client: &Client) -> &'static str {
    const POLICY: &str = "/infra/domains/default/security-policies/p";
    let written = client
        .policy("PUT", POLICY, Some(&json!({"category": "Application"})))
        .await;
    assert_eq!(written.status, 200, "{written:#?}");
    POLICY
}

#[tokio::test]
async fn a_trailing_slash_names_the_path_without_it() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let written = client
        .policy(
            "PUT",
            "/infra/tier-0s/t0/",
            Some(&json!({"ha_mode": "ACTIVE_STANDBY"})),
        )
        .await;
    assert_eq!(written.status, 200, "{written:#?}");
    assert_eq!(written.body["path"], "/infra/tier-0s/t0");
    let listed = client.policy("GET", "/infra/tier-0s/", None).await;
    assert_eq!(listed.status, 200, "{listed:#?}");
    assert_eq!(listed.body["result_count"], 1);
    assert_eq!(listed.body["results"][0]["id"], "t0");
    assert_eq!(
        client.policy("GET", "/infra/tier-0s/t0/", None).await.body,
        client.policy("GET", "/infra/tier-0s/t0", None).await.body
    );
    // One slash, not any number of them: an empty segment is still no path.
    client
        .policy("GET", "/infra/tier-0s//", None)
        .await
        .api_error(404, 600);
    client
        .policy("GET", "/infra//tier-0s", None)
        .await
        .api_error(404, 600);
    let deleted = client.policy("DELETE", "/infra/tier-0s/t0/", None).await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");
    client
        .policy("GET", "/infra/tier-0s/t0", None)
        .await
        .api_error(404, 600);
}

#[tokio::test]
async fn an_integer_id_is_the_id_its_digits_write() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let policy = a_policy(client).await;

    // The single API: the body's integer id is the path's.
    let rule = json!({"id": 1, "action": "ALLOW", "sequence_number": 1,
        "source_groups": ["ANY"], "destination_groups": ["ANY"], "services": ["ANY"]});
    let written = client
        .policy("PUT", &format!("{policy}/rules/1"), Some(&rule))
        .await;
    assert_eq!(written.status, 200, "{written:#?}");
    assert_eq!(written.body["id"], "1", "answered as NSX answers: a string");
    // Another path's number is refused as another path's string is.
    client
        .policy("PUT", &format!("{policy}/rules/2"), Some(&rule))
        .await
        .field_error("id");

    // The Hierarchical API: a child's integer id names its path.
    let tree = json!({"resource_type": "Infra", "children": [
        {"resource_type": "ChildResourceReference", "target_type": "Domain", "id": "default",
         "children": [{"resource_type": "ChildResourceReference",
            "target_type": "SecurityPolicy", "id": "p", "children": [
                {"resource_type": "ChildRule", "Rule": {"id": 7, "action": "DROP",
                    "sequence_number": 7}}]}]}]});
    let patched = client.policy("PATCH", "/infra", Some(&tree)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    let seventh = client
        .policy("GET", &format!("{policy}/rules/7"), None)
        .await;
    assert_eq!(seventh.status, 200, "{seventh:#?}");
    assert_eq!(seventh.body["id"], "7");
    assert_eq!(seventh.body["action"], "DROP");

    // Anything else where an id goes is still refused, and writes nothing.
    for id in [json!(1.5), json!(true), json!({"n": 1})] {
        let bad = json!({"children": [{"resource_type": "ChildResourceReference",
            "target_type": "Domain", "id": "default", "children": [{
                "resource_type": "ChildGroup", "Group": {"id": id}}]}]});
        let refused = client.policy("PATCH", "/infra", Some(&bad)).await;
        assert_eq!(refused.status, 400, "{id}: {refused:#?}");
    }
    let groups = client
        .policy("GET", "/infra/domains/default/groups", None)
        .await;
    assert_eq!(groups.body["result_count"], 0, "{groups:#?}");
}

/// The objects `node`'s children wrap under the wrapper's key `key` (`Project`).
fn children<'a>(node: &'a Value, key: &str) -> Vec<&'a Value> {
    let children = node["children"].as_array().into_iter().flatten();
    children.filter_map(|child| child.get(key)).collect()
}

#[tokio::test]
async fn the_org_root_is_read_as_it_is_written() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let tree = json!({"resource_type": "OrgRoot", "children": [
        {"resource_type": "ChildResourceReference", "target_type": "Org", "id": "default",
         "children": [{"resource_type": "ChildProject", "Project": {"id": "p1",
            "children": [{"resource_type": "ChildVpc", "Vpc": {"id": "v1"}}]}}]}]});
    let patched = client.policy("PATCH", "/org-root", Some(&tree)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");

    let read = client.policy("GET", "/org-root", None).await;
    assert_eq!(read.status, 200, "{read:#?}");
    assert_eq!(read.body["resource_type"], "OrgRoot");
    let orgs = children(&read.body, "Org");
    let org = orgs
        .iter()
        .find(|org| org["id"] == "default")
        .unwrap_or_else(|| panic!("the default org: {:#}", read.body));
    let projects = children(org, "Project");
    let project = projects
        .iter()
        .find(|project| project["id"] == "p1")
        .unwrap_or_else(|| panic!("the project: {org:#}"));
    assert_eq!(project["path"], "/orgs/default/projects/p1");
    let vpcs = children(project, "Vpc");
    assert_eq!(vpcs.len(), 1, "{project:#}");
    assert_eq!(vpcs[0]["path"], "/orgs/default/projects/p1/vpcs/v1");

    // Its filters are a root's: the VPCs, with the objects above them.
    let filtered = client
        .policy("GET", "/org-root?type_filter=Vpc", None)
        .await;
    assert_eq!(filtered.status, 200, "{filtered:#?}");
    let projects = children(children(&filtered.body, "Org")[0], "Project").len();
    assert_eq!(projects, 1, "{:#}", filtered.body);

    // An auditor reads it; a bad filter is the client's error.
    let auditor = client.as_user(AUDITOR);
    assert_eq!(auditor.policy("GET", "/org-root", None).await.status, 200);
    client
        .policy("GET", "/org-root?base_path=nowhere", None)
        .await
        .field_error("base_path");
}

#[tokio::test]
async fn a_patch_answers_its_object_where_the_bindings_declare_it() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let zone = "/infra/sites/default/enforcement-points/default/transport-zones/overlay";
    let patched = client
        .policy("PATCH", zone, Some(&json!({"tz_type": "OVERLAY_BACKED"})))
        .await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    assert_eq!(patched.body["path"], zone);
    assert_eq!(patched.body["tz_type"], "OVERLAY_BACKED");
    assert_eq!(patched.body["_revision"], 0);
    assert_eq!(patched.body, client.policy("GET", zone, None).await.body);
    // A PATCH that changes nothing answers the object as it stands.
    let again = client
        .policy("PATCH", zone, Some(&json!({"tz_type": "OVERLAY_BACKED"})))
        .await;
    assert_eq!(again.status, 200, "{again:#?}");
    assert_eq!(again.body["path"], zone);

    // Where the bindings declare no answer, a PATCH answers an empty body, as NSX's does.
    let segment = client
        .policy(
            "PATCH",
            "/infra/segments/web",
            Some(&json!({"description": "web"})),
        )
        .await;
    assert_eq!(segment.status, 200, "{segment:#?}");
    assert_eq!(segment.text, "", "{segment:#?}");

    // The API document says which is which.
    let document = client
        .call(
            "GET",
            "/policy/api/v1/spec/openapi/nsx_policy_api.json",
            None,
        )
        .await
        .body;
    let answer = |path: &str| {
        let patch = &document["paths"][format!("/policy/api/v1{path}")]["patch"];
        patch["responses"]["200"]["content"]["application/json"]["schema"].clone()
    };
    let zones = "/infra/sites/{siteId}/enforcement-points/{enforcementpointId}/transport-zones/{transportZoneId}";
    assert!(answer(zones).is_object(), "{:#}", answer(zones));
    assert!(answer("/infra/segments/{segmentId}").is_null());
}

#[tokio::test]
async fn the_qos_types_are_spelled_as_nsx_spells_them() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    // nsxlib and terraform send NSX's spelling; the SDK's class name is taken too.
    for (id, spelling) in [("q1", "QoSProfile"), ("q2", "QosProfile")] {
        let body = json!({"resource_type": spelling, "class_of_service": 2});
        let written = client
            .policy("PUT", &format!("/infra/qos-profiles/{id}"), Some(&body))
            .await;
        assert_eq!(written.status, 200, "{spelling}: {written:#?}");
        assert_eq!(
            written.body["resource_type"], "QoSProfile",
            "answered as NSX does"
        );
    }
    let tree = json!({"resource_type": "Infra", "children": [
        {"resource_type": "ChildQoSProfile", "QoSProfile": {"id": "q3",
            "resource_type": "QoSProfile", "class_of_service": 1}},
        {"resource_type": "ChildSegment", "Segment": {"id": "s", "children": [
            {"resource_type": "ChildSegmentQoSProfileBindingMap",
             "SegmentQoSProfileBindingMap": {"id": "m",
                "resource_type": "SegmentQoSProfileBindingMap",
                "qos_profile_path": "/infra/qos-profiles/q3"}}]}}]});
    let patched = client.policy("PATCH", "/infra", Some(&tree)).await;
    assert_eq!(patched.status, 200, "{patched:#?}");
    let map = client
        .policy(
            "GET",
            "/infra/segments/s/segment-qos-profile-binding-maps/m",
            None,
        )
        .await;
    assert_eq!(map.status, 200, "{map:#?}");
    assert_eq!(map.body["resource_type"], "SegmentQoSProfileBindingMap");

    // The tree answers NSX's wrappers, and search finds the type by NSX's name.
    let read = client
        .policy("GET", "/infra?type_filter=QoSProfile", None)
        .await;
    let wrappers: Vec<&Value> = read.body["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| &child["resource_type"])
        .collect();
    assert_eq!(wrappers, vec!["ChildQoSProfile"; 3], "{:#}", read.body);
    let found = client
        .policy("GET", "/search/query?query=resource_type:QoSProfile", None)
        .await;
    assert_eq!(found.body["result_count"], 3, "{found:#?}");
}

/// What NSX takes beyond its bindings' schema, as clients send it: a number where a string is
/// declared (Octavia's driver gives an LB pool member's `port` as a number), and a segment
/// port's attachment type `VIF` (vmware-nsx's Neutron plugin binds every port with it).
#[tokio::test]
async fn numbers_for_strings_and_the_vif_attachment_are_taken() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let pool = json!({"members": [{"ip_address": "10.1.0.10", "port": 80}]});
    let written = client
        .policy("PUT", "/infra/lb-pools/web", Some(&pool))
        .await;
    assert_eq!(written.status, 200, "{written:#?}");
    assert_eq!(
        written.body["members"][0]["port"], "80",
        "answered as its text"
    );
    // A number is still checked as the string it makes.
    let long = json!({"members": [{"ip_address": "10.1.0.10", "port": 8_000_000_000_000u64}]});
    assert_eq!(
        client
            .policy("PUT", "/infra/lb-pools/other", Some(&long))
            .await
            .status,
        200
    );
    client
        .policy("PUT", "/infra/lb-pools/bad", Some(&json!({"algorithm": 5})))
        .await
        .field_error("algorithm");

    assert_eq!(
        client
            .policy("PUT", "/infra/segments/s", Some(&json!({})))
            .await
            .status,
        200
    );
    let port = json!({"attachment": {"type": "VIF", "id": "vif-1"}});
    let written = client
        .policy("PUT", "/infra/segments/s/ports/p", Some(&port))
        .await;
    assert_eq!(written.status, 200, "{written:#?}");
    assert_eq!(written.body["attachment"]["type"], "VIF");
    let refused = json!({"attachment": {"type": "NIC"}});
    client
        .policy("PUT", "/infra/segments/s/ports/q", Some(&refused))
        .await
        .field_error("attachment.type");
}
