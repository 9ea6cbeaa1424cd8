//! The search API: NSX's query strings find objects of every type, by type, field, tag and
//! path, paged with cursors.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::support::{minimal, Client, Reply, Workspace, AUDITOR};

const API: &str = "/policy/api/v1";

async fn put(client: &Client, path: &str, body: Value) {
    let request = client
        .request("PUT", &format!("{API}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    let reply = client.send(request).await;
    assert_eq!(reply.status, 200, "{path}: {reply:#?}");
}

fn paths(reply: &Reply) -> Vec<String> {
    reply.body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{reply:#?}"))
        .iter()
        .map(|object| object["path"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_objects_by_type_field_tag_and_path() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (id, cluster) in [("web", "a"), ("db", "a"), ("edge", "b")] {
        let tags = json!([{"scope": "ncp/cluster", "tag": cluster}]);
        put(
            client,
            &format!("/infra/segments/{id}"),
            json!({"tags": tags}),
        )
        .await;
    }
    let tags = json!([{"scope": "ncp/cluster", "tag": "a"}]);
    put(
        client,
        "/infra/domains/default/groups/web",
        json!({"tags": tags}),
    )
    .await;
    put(client, "/infra/antrea/traceflows/t1", minimal()).await;

    let found = client.search("resource_type:Segment", "").await;
    assert_eq!(found.body["result_count"], 3, "{found:#?}");
    assert_eq!(
        paths(&found),
        [
            "/infra/segments/db",
            "/infra/segments/edge",
            "/infra/segments/web"
        ]
    );
    // The tag query nsxlib and nsx-operator send, slashes escaped.
    let tagged = client
        .search(
            r"resource_type:Segment AND tags.scope:ncp\/cluster AND tags.tag:a",
            "",
        )
        .await;
    assert_eq!(
        paths(&tagged),
        ["/infra/segments/db", "/infra/segments/web"]
    );
    let any_type = client.search("tags.tag:a", "").await;
    assert_eq!(any_type.body["result_count"], 3);
    assert_eq!(
        paths(&client.search("path:\"/infra/segments/web\"", "").await),
        ["/infra/segments/web"]
    );
    assert_eq!(
        paths(
            &client
                .search("display_name:we* AND NOT resource_type:Group", "")
                .await
        ),
        ["/infra/segments/web"]
    );
    assert_eq!(
        paths(
            &client
                .search("resource_type:AntreaTraceflowConfig", "")
                .await
        ),
        ["/infra/antrea/traceflows/t1"]
    );
    // Each result is the object as GET serves it.
    let served = client
        .send(client.request("GET", &format!("{API}/infra/segments/web")))
        .await
        .body;
    assert_eq!(found.body["results"][2], served);

    // An auditor searches too.
    let auditor = client.as_user(AUDITOR);
    assert_eq!(
        auditor.search("resource_type:Segment", "").await.status,
        200
    );

    // What is not a query says so, naming the parameter.
    for (query, extra) in [
        ("resource_type:", ""),
        ("(a OR b", ""),
        ("_revision:[0 TO 2]", ""),
        ("id:x", "&sort_by=path"),
        ("id:x", "&page_size=1001"),
        ("id:x", "&cursor=forged"),
    ] {
        let refused = client.search(query, extra).await;
        refused.api_error(400, 255);
    }
    let missing = client
        .send(client.request("GET", &format!("{API}/search/query")))
        .await;
    let message = missing.api_error(400, 255);
    assert!(message.contains("query"), "{message}");
}

#[tokio::test]
async fn search_pages_through_every_match_once() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for n in 0..25 {
        let body = json!({"display_name": format!("group {:02}", 24 - n)});
        put(
            client,
            &format!("/infra/domains/default/groups/g{n:02}"),
            body,
        )
        .await;
    }
    for (order, expected_first) in [
        ("", "/infra/domains/default/groups/g00"),
        (
            "&sort_by=display_name&sort_ascending=false",
            "/infra/domains/default/groups/g00",
        ),
        ("&sort_by=display_name", "/infra/domains/default/groups/g24"),
    ] {
        // nsxlib's `search_all_*`: the cursor is a number, on every page, and the last
        // page's is the count of every match.
        let mut seen = Vec::new();
        let mut cursors = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = client
                .search(
                    "resource_type:Group",
                    &format!("&page_size=10{order}{cursor}"),
                )
                .await;
            assert_eq!(page.body["result_count"], 25, "{page:#?}");
            seen.extend(paths(&page));
            let next: u64 = page.body["cursor"].as_str().unwrap().parse().unwrap();
            cursors.push(next);
            if next >= 25 {
                break;
            }
            cursor = format!("&cursor={next}");
        }
        assert_eq!(cursors, [10, 20, 25], "{order}");
        assert_eq!(seen.len(), 25, "{order}");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25, "{order}");
        assert_eq!(seen[0], expected_first, "{order}");
    }
    // A single page has its cursor too; a cursor past the matches answers none.
    let single = client.search("resource_type:Group AND id:g01", "").await;
    assert_eq!(single.body["cursor"], "1", "{single:#?}");
    let past = client.search("resource_type:Group", "&cursor=30").await;
    assert_eq!(past.body["results"], json!([]), "{past:#?}");
    assert_eq!(past.body["result_count"], 25);
}

/// `POST /search/aggregate`, as nsxlib's `search_resource_by_filters` sends it: the
/// objects of a type that pass every filter (one of its fields has the value), each as
/// `{primary, related}`, paged by NSX's numeric cursor; a body it cannot read is refused.
#[tokio::test]
async fn an_aggregate_search_filters_a_type_by_fields() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for (id, scope) in [
        ("a", "os-project-id"),
        ("b", "os-project-id"),
        ("c", "other"),
    ] {
        let tags = json!({"tags": [{"scope": scope, "tag": "demo"}]});
        put(client, &format!("/infra/segments/{id}"), tags).await;
    }
    put(
        client,
        "/infra/domains/default/groups/g",
        json!({"tags": [{"scope": "os-project-id", "tag": "demo"}]}),
    )
    .await;
    let aggregate = |body: Value, query: &'static str| {
        let client = client.clone();
        async move {
            let path = format!("{API}/search/aggregate?sort_by=id{query}");
            client.call("POST", &path, Some(&body)).await
        }
    };
    let filters = json!({"primary": {"resource_type": "Segment",
        "filters": [{"field_names": "tags.scope,tags.tag", "value": "os-project-*"}]}});
    let first = aggregate(filters.clone(), "&page_size=1").await;
    assert_eq!(first.status, 200, "{first:#?}");
    assert_eq!(first.body["result_count"], 2);
    assert_eq!(first.body["cursor"], "1");
    assert_eq!(first.body["results"][0]["primary"]["id"], "a");
    assert_eq!(first.body["results"][0]["related"], json!([]));
    let second = aggregate(filters, "&page_size=1&cursor=1").await;
    assert_eq!(second.body["results"][0]["primary"]["id"], "b");
    assert_eq!(second.body["cursor"], "2");

    let unreadable = json!({"primary": {"filters": []}});
    let refused = aggregate(unreadable, "").await;
    assert_eq!(refused.status, 400, "{refused:#?}");
    assert_eq!(refused.body["error_code"], 255);
}

/// The forms the store's indexes answer (a type, a display name or a path and their
/// prefixes, a tag's scope and tag, joined by `AND`) find what matching each object finds,
/// in every letter case, in order and paged; the others are matched object by object. An
/// update retags an object, a delete untags it, and a snapshot's restore brings its tags
/// back.
#[tokio::test]
async fn the_indexed_forms_find_what_matching_finds() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let tenant = |tag: &str| json!({"scope": "Tenant", "tag": tag});
    for (path, name, tags) in [
        (
            "/infra/segments/Web-01",
            "Web Tier",
            json!([tenant("Blue")]),
        ),
        (
            "/infra/segments/web-02",
            "web tier two",
            json!([tenant("red"), {"tag": "no-scope"}]),
        ),
        ("/infra/segments/db-01", "Database", json!([tenant("blue")])),
        (
            "/infra/domains/default/groups/web-group",
            "Web Group",
            json!([tenant("BLUE")]),
        ),
    ] {
        put(client, path, json!({"display_name": name, "tags": tags})).await;
    }
    let (group, db, web1, web2) = (
        "/infra/domains/default/groups/web-group",
        "/infra/segments/db-01",
        "/infra/segments/Web-01",
        "/infra/segments/web-02",
    );
    let found = |query: &'static str, extra: &'static str| async move {
        let reply = client.search(query, extra).await;
        assert_eq!(reply.status, 200, "{query}: {reply:#?}");
        (paths(&reply), reply.body["result_count"].clone())
    };
    let these = |expected: &[&str]| {
        let paths: Vec<String> = expected.iter().map(|path| path.to_string()).collect();
        (paths, json!(expected.len()))
    };
    // By path, letters' case aside: `Web-01` before `web-02`.
    for (query, expected) in [
        ("resource_type:segment", vec![db, web1, web2]),
        ("resource_type:Segmen?", vec![db, web1, web2]),
        (
            "resource_type:Segment OR resource_type:Group",
            vec![group, db, web1, web2],
        ),
        ("display_name:WEB*", vec![group, web1, web2]),
        ("display_name:\"web TIER\"", vec![web1]),
        (
            "resource_type:Segment AND display_name:web*",
            vec![web1, web2],
        ),
        (r"path:\/infra\/segments\/WEB*", vec![web1, web2]),
        (
            r"parent_path:\/infra\/domains\/default AND display_name:web*",
            vec![group],
        ),
        ("tags.scope:TENANT AND tags.tag:blue", vec![group, db, web1]),
        (r"tags.tag:no\-scope", vec![web2]),
        ("tags.tag:bl*", vec![group, db, web1]),
        ("display_name:*tier*", vec![web1, web2]),
        ("resource_type:Segment AND NOT tags.tag:red", vec![db, web1]),
        ("resource_type:Nothing*", vec![]),
    ] {
        assert_eq!(found(query, "").await, these(&expected), "{query}");
    }
    assert_eq!(
        found(
            "resource_type:Segment",
            "&sort_by=display_name&sort_ascending=false"
        )
        .await,
        these(&[web2, web1, db])
    );
    let page = client
        .search("tags.tag:blue", "&page_size=1&cursor=1")
        .await;
    assert_eq!(paths(&page), [db]);
    assert_eq!(
        (
            page.body["result_count"].clone(),
            page.body["cursor"].clone()
        ),
        (json!(3), json!("2"))
    );

    // Counted whether the page is the last (`cursor=2`), or past it (`cursor=10`).
    for (cursor, expected) in [("2", vec![web1]), ("10", vec![])] {
        let extra = format!("&page_size=2&cursor={cursor}");
        let page = client.search("tags.tag:blue", &extra).await;
        assert_eq!(paths(&page), expected, "{cursor}");
        assert_eq!(page.body["result_count"], 3, "{cursor}");
    }

    let snapshot = client.call("PUT", "/store/v1/snapshots/tagged", None).await;
    assert_eq!(snapshot.status, 200, "{snapshot:#?}");
    let retagged = client
        .policy("PATCH", web2, Some(&json!({"tags": [tenant("blue")]})))
        .await;
    assert_eq!(retagged.status, 200, "{retagged:#?}");
    let deleted = client.policy("DELETE", db, None).await;
    assert_eq!(deleted.status, 200, "{deleted:#?}");
    assert_eq!(found("tags.tag:red", "").await, these(&[]));
    assert_eq!(
        found("tags.tag:blue", "").await,
        these(&[group, web1, web2])
    );

    let restored = client
        .call("POST", "/store/v1/snapshots/tagged?action=restore", None)
        .await;
    assert_eq!(restored.status, 200, "{restored:#?}");
    assert_eq!(found("tags.tag:red", "").await, these(&[web2]));
    assert_eq!(found("tags.tag:blue", "").await, these(&[group, db, web1]));
}
