//! The list (the README's "List"): paging, ordering, counts and parameters.

use std::collections::{BTreeSet, HashSet};

use crate::support::{minimal, Client, Server, SpawnServer, Workspace, TRACEFLOWS};
use serde_json::{json, Value};

/// A server whose commits skip the fsync: these tests are about ordering, not durability.
fn fast_server(workspace: &Workspace) -> Server {
    workspace
        .command()
        .env("NSX_POLICY_STORE__STORAGE__DURABILITY", "normal")
        .spawn_server()
}

/// Creates `count` objects named `prefix-NNNN`, 8 at a time. Display names repeat (`name-K`)
/// so that ties, broken by id, are everywhere.
async fn create_many(client: &Client, prefix: &str, count: usize) -> Vec<String> {
    let ids: Vec<String> = (0..count).map(|n| format!("{prefix}-{n:04}")).collect();
    for chunk in ids.chunks(8) {
        let mut batch = tokio::task::JoinSet::new();
        for id in chunk {
            let client = client.clone();
            let id = id.clone();
            batch.spawn(async move {
                let mut body = minimal();
                let n: usize = id.rsplit('-').next().unwrap().parse().unwrap();
                body["display_name"] = json!(format!("name-{}", n % 37));
                let reply = client.put(&id, &body).await;
                assert_eq!(reply.status, 200, "{reply:#?}");
            });
        }
        while let Some(done) = batch.join_next().await {
            done.unwrap();
        }
    }
    ids
}

async fn page(client: &Client, query: &str) -> Value {
    let reply = client.get_path(&format!("{TRACEFLOWS}?{query}")).await;
    assert_eq!(reply.status, 200, "{query}: {reply:#?}");
    reply.body
}

/// Walks every page of one ordering; returns the objects in the order served.
async fn walk(client: &Client, sort_by: &str, ascending: bool, page_size: usize) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query =
            format!("page_size={page_size}&sort_by={sort_by}&sort_ascending={ascending}");
        if let Some(cursor) = &cursor {
            query.push_str(&format!("&cursor={cursor}"));
        }
        let body = page(client, &query).await;
        assert_eq!(body["sort_by"], sort_by);
        assert_eq!(body["sort_ascending"], ascending);
        let results = body["results"].as_array().unwrap();
        assert!(results.len() <= page_size);
        seen.extend(results.iter().cloned());
        match body.get("cursor") {
            Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn paging_visits_every_object_once_in_every_order() {
    let workspace = Workspace::new();
    let server = fast_server(&workspace);
    let client = &server.client;
    let ids = create_many(client, "obj", 2500).await;
    // Touch some objects so last-modified order differs from creation order.
    for id in ids.iter().step_by(7) {
        let mut body = client.get(id).await.body;
        body["description"] = json!("touched");
        assert_eq!(client.put(id, &body).await.status, 200);
    }

    let all: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    for (sort_by, key) in [
        ("display_name", "display_name"),
        ("id", "id"),
        ("_create_time", "_create_time"),
        ("_last_modified_time", "_last_modified_time"),
    ] {
        for ascending in [true, false] {
            let seen = walk(client, sort_by, ascending, 100).await;
            let served: Vec<(Value, String)> = seen
                .iter()
                .map(|o| (o[key].clone(), o["id"].as_str().unwrap().to_owned()))
                .collect();
            let ids_seen: BTreeSet<&str> = served.iter().map(|(_, id)| id.as_str()).collect();
            assert_eq!(
                served.len(),
                2500,
                "{sort_by} {ascending}: each object once"
            );
            assert_eq!(ids_seen, all, "{sort_by} {ascending}: every object");

            let mut expected = served.clone();
            expected.sort_by(|a, b| compare(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
            if !ascending {
                expected.reverse();
            }
            assert_eq!(
                served, expected,
                "{sort_by} {ascending}: in order, ties by id"
            );
        }
    }
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (Value::Number(a), Value::Number(b)) => a.as_i64().cmp(&b.as_i64()),
        _ => panic!("incomparable sort keys {a} and {b}"),
    }
}

#[tokio::test]
async fn objects_present_for_the_whole_walk_are_never_skipped() {
    let workspace = Workspace::new();
    let server = fast_server(&workspace);
    let client = &server.client;
    let stable: HashSet<String> = create_many(client, "stable", 600)
        .await
        .into_iter()
        .collect();
    let doomed = create_many(client, "doomed", 300).await;

    for (sort_by, ascending) in [
        ("id", true),
        ("display_name", false),
        ("_create_time", true),
    ] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut round = 0;
        loop {
            let mut query = format!("page_size=50&sort_by={sort_by}&sort_ascending={ascending}");
            if let Some(cursor) = &cursor {
                query.push_str(&format!("&cursor={cursor}"));
            }
            let body = page(client, &query).await;
            seen.extend(
                body["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_owned()),
            );
            // Between pages: delete some, create some, in every part of the order.
            for id in doomed.iter().skip(round * 5).take(5) {
                assert_eq!(client.delete(id).await.status, 200);
            }
            for n in 0..3 {
                let id = format!("new-{sort_by}-{round}-{n}");
                assert_eq!(client.put(&id, &minimal()).await.status, 200);
            }
            round += 1;
            match body.get("cursor") {
                Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort_by}: nothing twice");
        let missing: Vec<_> = stable.iter().filter(|id| !unique.contains(id)).collect();
        assert!(missing.is_empty(), "{sort_by}: skipped {missing:?}");
    }
}

#[tokio::test]
async fn counts_cursors_and_defaults() {
    let workspace = Workspace::new();
    let server = fast_server(&workspace);
    let client = &server.client;

    let empty = page(client, "").await;
    assert_eq!(
        empty,
        json!({"results": [], "result_count": 0, "sort_by": "display_name", "sort_ascending": true})
    );

    create_many(client, "c", 25).await;
    let first = page(client, "page_size=10&sort_by=id").await;
    assert_eq!(first["result_count"], 25, "counts all, not the page");
    assert_eq!(first["results"].as_array().unwrap().len(), 10);
    assert!(first["cursor"].is_string());
    let whole = page(client, "").await;
    assert_eq!(
        whole["results"].as_array().unwrap().len(),
        25,
        "default page size 1000"
    );
    assert!(whole.get("cursor").is_none(), "no cursor on the last page");
    let exact = page(client, "page_size=25").await;
    assert!(
        exact.get("cursor").is_none(),
        "no cursor when nothing remains"
    );

    let none = page(client, "page_size=0").await;
    assert_eq!(none["results"], json!([]));
    assert_eq!(none["result_count"], 25);
    assert!(none.get("cursor").is_none());

    // Accepted and ignored, as NSX does.
    let ignored = page(
        client,
        "included_fields=id&include_mark_for_delete_objects=true&page_size=1000",
    )
    .await;
    assert_eq!(ignored["results"], whole["results"]);

    // Deleting updates the count.
    client.delete("c-0000").await;
    assert_eq!(page(client, "page_size=1").await["result_count"], 24);

    // The list's objects are the objects GET serves.
    for object in whole["results"].as_array().unwrap().iter().skip(1) {
        let id = object["id"].as_str().unwrap();
        assert_eq!(&client.get(id).await.body, object);
    }
}

#[tokio::test]
async fn bad_parameters_and_foreign_cursors_are_400() {
    let workspace = Workspace::new();
    let server = fast_server(&workspace);
    let client = &server.client;
    create_many(client, "b", 5).await;
    let id_cursor = page(client, "page_size=2&sort_by=id").await["cursor"]
        .as_str()
        .unwrap()
        .to_owned();

    let cases = [
        ("page_size=1001", "page_size"),
        ("page_size=-1", "page_size"),
        ("page_size=ten", "page_size"),
        ("sort_by=path", "sort_by"),
        ("sort_by=", "sort_by"),
        ("sort_ascending=yes", "sort_ascending"),
        (
            "include_mark_for_delete_objects=1",
            "include_mark_for_delete_objects",
        ),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJzIjoiaWQifQ", "cursor"),
        (
            &format!("sort_by=display_name&cursor={id_cursor}"),
            "cursor",
        ),
        (
            &format!("sort_by=id&sort_ascending=false&cursor={id_cursor}"),
            "cursor",
        ),
    ];
    for (query, param) in cases {
        let reply = client.get_path(&format!("{TRACEFLOWS}?{query}")).await;
        reply.field_error(param);
    }
    // The same cursor with its own ordering works.
    let next = page(
        client,
        &format!("page_size=2&sort_by=id&cursor={id_cursor}"),
    )
    .await;
    assert_eq!(next["results"][0]["id"], "b-0002");
}

/// A cursor is authenticated: one written by hand (the position a client might guess),
/// or an issued one with its position changed, is refused; an issued one stays valid
/// across a restart.
#[tokio::test]
async fn forged_cursors_are_400_and_issued_ones_survive_a_restart() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let workspace = Workspace::new();
    let server = fast_server(&workspace);
    let client = &server.client;
    create_many(client, "f", 6).await;
    let issued = page(client, "page_size=2&sort_by=id").await["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, tag) = issued.split_once('.').unwrap();
    let guessed = URL_SAFE_NO_PAD.encode(r#"{"k":"f-0004","i":"f-0004"}"#);
    let old_style =
        URL_SAFE_NO_PAD.encode(r#"{"s":"display_name","a":true,"k":"f-0004","i":"f-0004"}"#);
    for forged in [guessed.clone(), old_style, format!("{guessed}.{tag}")] {
        let reply = client
            .get_path(&format!(
                "{TRACEFLOWS}?page_size=2&sort_by=id&cursor={forged}"
            ))
            .await;
        reply.field_error("cursor");
    }

    drop(server);
    let server = fast_server(&workspace);
    let query = format!("page_size=2&sort_by=id&cursor={issued}");
    let next = page(&server.client, &query).await;
    assert_eq!(next["results"][0]["id"], "f-0002", "valid after a restart");
}
