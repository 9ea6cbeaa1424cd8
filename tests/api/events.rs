//! The events stream: every committed change appears once, in commit order, to a reader
//! connected while it happens and to one that goes on from a position; readers see where,
//! what and who, never a body.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::support::{minimal, Client, Workspace, AUDITOR};

const EVENT_FIELDS: [&str; 6] = ["operation", "path", "position", "revision", "time", "user"];

/// A reader of `/store/v1/events`: the response's body, read as it arrives.
pub(crate) struct Events {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<actix_web::web::Bytes>>,
    buffer: String,
}

impl Events {
    /// Opens the stream with `query` (`?after=N`, or none) and, if given, `Last-Event-ID`.
    pub(crate) async fn open(client: &Client, query: &str, last_id: Option<i64>) -> Self {
        let mut request = client.request("GET", &format!("/store/v1/events{query}"));
        if let Some(id) = last_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut events = Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        };
        // The opening comment: from here on, what is written is seen.
        assert!(events.block(Duration::from_secs(5)).await.is_some());
        events
    }

    /// The next block (up to a blank line), or `None` when none comes `within`.
    async fn block(&mut self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].to_owned();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.body.next()).await {
                Ok(Some(chunk)) => self
                    .buffer
                    .push_str(std::str::from_utf8(&chunk.unwrap()).unwrap()),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The next `count` events, each its name and its data, checked against its id.
    pub(crate) async fn events(&mut self, count: usize, within: Duration) -> Vec<(String, Value)> {
        let deadline = Instant::now() + within;
        let mut events = Vec::new();
        while events.len() < count {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("{} of {count} events came", events.len()));
            let Some(block) = self.block(left).await else {
                panic!("the stream ended after {} of {count} events", events.len());
            };
            if block.starts_with(':') {
                continue; // a comment: the opening, or a keep-alive
            }
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_else(|| panic!("no {name} in {block:?}"))
            };
            let data: Value = serde_json::from_str(field("data")).unwrap();
            assert_eq!(field("id"), data["position"].to_string(), "{block}");
            events.push((field("event").to_owned(), data));
        }
        events
    }

    /// The events up to the change of `last`, leaving out those nobody reads any more: the
    /// defaults' creates by `system` (which follow a reset) and the changes of `forgotten`.
    async fn up_to(&mut self, last: &str, forgotten: &str) -> Vec<(String, Value)> {
        let mut told = Vec::new();
        loop {
            let (name, data) = self.events(1, Duration::from_secs(10)).await.remove(0);
            let path = data["path"].as_str().unwrap_or_default().to_owned();
            if data["user"] != "system" && !path.ends_with(forgotten) {
                told.push((name, data));
            }
            if path.ends_with(last) {
                return told;
            }
        }
    }

    /// The next `count` change events' data.
    pub(crate) async fn changes(&mut self, count: usize, within: Duration) -> Vec<Value> {
        let mut changes = Vec::new();
        for (name, data) in self.events(count, within).await {
            assert_eq!(name, "change");
            let mut keys: Vec<&str> = data
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            keys.sort_unstable();
            assert_eq!(keys, EVENT_FIELDS, "an event carries no body: {data}");
            changes.push(data);
        }
        changes
    }

    /// Every change event until none comes for `quiet`.
    async fn until_quiet(&mut self, quiet: Duration) -> Vec<Value> {
        let mut changes = Vec::new();
        while let Some(block) = self.block(quiet).await {
            if !block.starts_with(':') {
                self.buffer.insert_str(0, &format!("{block}\n\n"));
                changes.extend(self.changes(1, quiet).await);
            }
        }
        changes
    }

    /// No change event comes within `within`.
    pub(crate) async fn quiet(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.block(left).await {
                Some(block) if !block.starts_with(':') => panic!("unexpected event: {block}"),
                Some(_) => {}
                None => return,
            }
        }
    }
}

fn positions(changes: &[Value]) -> Vec<i64> {
    changes
        .iter()
        .map(|change| change["position"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn every_change_of_a_concurrent_load_appears_once_in_commit_order() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let mut live = Events::open(&server.client, "", None).await;
    let mut clients = tokio::task::JoinSet::new();
    for number in 0..8 {
        let client = server.client.clone();
        clients.spawn(async move {
            let mut touched = Vec::new();
            for n in 0..20 {
                let segment = format!("/infra/segments/c{number}-{}", n % 5);
                match n % 4 {
                    0 | 1 => {
                        let body = json!({"description": format!("change {n}")});
                        let reply = client.policy("PATCH", &segment, Some(&body)).await;
                        assert_eq!(reply.status, 200, "{reply:#?}");
                    }
                    2 => {
                        let reply = client.policy("DELETE", &segment, None).await;
                        assert_eq!(reply.status, 200, "{reply:#?}");
                    }
                    _ => {
                        let reply = client.put(&format!("t{number}-{n}"), &minimal()).await;
                        assert_eq!(reply.status, 200, "{reply:#?}");
                        touched.push(format!("/infra/antrea/traceflows/t{number}-{n}"));
                    }
                }
                touched.push(segment);
            }
            touched
        });
    }
    let mut touched = HashSet::new();
    while let Some(paths) = clients.join_next().await {
        touched.extend(paths.unwrap());
    }

    // What history holds of every path the load wrote is what the stream told, once each.
    let mut expected: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let mut total = 0;
    for path in &touched {
        let history = server.client.history(path).await;
        total += history.len();
        expected.insert(
            path.clone(),
            history
                .iter()
                .map(|row| {
                    (
                        row["revision"].as_i64().unwrap(),
                        row["operation"].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
        );
    }
    let changes = live.changes(total, Duration::from_secs(20)).await;
    live.quiet(Duration::from_millis(500)).await;
    let order = positions(&changes);
    assert!(
        order.windows(2).all(|pair| pair[0] < pair[1]),
        "commit order: {order:?}"
    );
    let mut told: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for change in &changes {
        assert_eq!(change["user"], "admin");
        told.entry(change["path"].as_str().unwrap().to_owned())
            .or_default()
            .push((
                change["revision"].as_i64().unwrap(),
                change["operation"].as_str().unwrap().to_owned(),
            ));
    }
    assert_eq!(told, expected);
}

#[tokio::test]
async fn a_reader_going_on_from_a_position_misses_none() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for n in 0..12 {
        let reply = client
            .policy(
                "PUT",
                &format!("/infra/domains/default/groups/g{n}"),
                Some(&json!({})),
            )
            .await;
        assert_eq!(reply.status, 200);
    }
    // From the start: the defaults' creates, then the groups'.
    let mut first = Events::open(client, "?after=0", None).await;
    let everything = first.until_quiet(Duration::from_millis(500)).await;
    drop(first);
    assert!(
        everything.len() > 12,
        "the defaults' creates, then the groups'"
    );
    let defaults = everything.len() - 12;
    assert_eq!(
        everything[defaults]["path"],
        "/infra/domains/default/groups/g0"
    );
    let cut = everything[defaults + 5]["position"].as_i64().unwrap();

    // Reconnecting with the last id seen (as a browser's EventSource does), or `after`:
    // exactly what came after it, then what is written from then on.
    for (query, last_id) in [("", Some(cut)), (&*format!("?after={cut}"), None)] {
        let mut resumed = Events::open(client, query, last_id).await;
        let rest = resumed.changes(6, Duration::from_secs(10)).await;
        assert_eq!(rest, everything[defaults + 6..], "{query} {last_id:?}");
        resumed.quiet(Duration::from_millis(300)).await;
    }
    let mut live = Events::open(client, "", None).await;
    let reply = client
        .policy("DELETE", "/infra/domains/default/groups/g0", None)
        .await;
    assert_eq!(reply.status, 200);
    let deleted = live.changes(1, Duration::from_secs(10)).await;
    assert_eq!(deleted[0]["operation"], "delete");
    assert_eq!(deleted[0]["revision"], 1);
}

/// A reset, a restore and an import are events of their own, in commit order with the
/// changes (a reset's before the defaults it writes anew, an import's after its objects'
/// creates), told to a live reader and to one that goes on from a position alike; the
/// changes after them come at later positions. A change whose history a restore removed
/// before the reader read it is not told: the restore is, and says to read the store anew.
#[tokio::test]
async fn a_reset_a_restore_and_an_import_are_events_of_their_own() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let ok = |reply: crate::support::Reply| assert_eq!(reply.status, 200, "{reply:#?}");
    let mut live = Events::open(client, "", None).await;
    ok(client.put("t1", &minimal()).await);
    let created = live.changes(1, Duration::from_secs(10)).await;
    ok(client.call("PUT", "/store/v1/snapshots/one", None).await);
    ok(client.put("t2", &minimal()).await);
    ok(client
        .call("POST", "/store/v1/snapshots/one?action=restore", None)
        .await);
    let export = client.export().await;
    ok(client.call("POST", "/store/v1/reset", None).await);
    let import = client
        .request("POST", "/store/v1/import")
        .header("content-type", "application/x-ndjson")
        .body(export);
    ok(client.send(import).await);
    ok(client.put("t3", &minimal()).await);

    let told = live.up_to("/t3", "/t2").await;
    live.quiet(Duration::from_millis(300)).await;
    let names: Vec<&str> = told.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["restore", "reset", "change", "import", "change"]);
    let positions: Vec<i64> = told
        .iter()
        .map(|(_, data)| data["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );
    let data = |index: usize| {
        let mut data = told[index].1.clone();
        let object = data.as_object_mut().unwrap();
        assert_eq!(object.remove("user"), Some(json!("admin")));
        assert!(object.remove("time").unwrap().is_i64());
        object.remove("position");
        data
    };
    let restored = data(0);
    assert_eq!(restored["operation"], "restore");
    assert_eq!(restored["name"], "one");
    assert_eq!(restored["objects"], 1);
    assert_eq!(data(1), json!({"operation": "reset", "objects_removed": 1}));
    assert_eq!(told[2].1["path"], "/infra/antrea/traceflows/t1");
    assert!(positions[0] > created[0]["position"].as_i64().unwrap());
    assert_eq!(data(3), json!({"operation": "import", "imported": 1}));
    assert_eq!(told[4].1["path"], "/infra/antrea/traceflows/t3");

    // A reader going on from before them all is told the same, from the store: the history
    // of t1's first life went with the reset.
    let before = created[0]["position"].as_i64().unwrap() - 1;
    let mut resumed = Events::open(client, &format!("?after={before}"), None).await;
    assert_eq!(resumed.up_to("/t3", "/t2").await, told);
}

#[tokio::test]
async fn readers_need_credentials_and_faults_never_touch_the_stream() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let auditor = client.as_user(AUDITOR);
    let mut watching = Events::open(&auditor, "", None).await;
    let anonymous = client.anonymous().get_path("/store/v1/events").await;
    anonymous.api_error(403, 403);
    for query in ["?after=-1", "?after=x"] {
        client
            .get_path(&format!("/store/v1/events{query}"))
            .await
            .api_error(400, 255);
    }

    // A rule that fails every request leaves the stream alone.
    let rule = json!({"error": {"status": 503, "error_code": 99, "error_message": "down"}});
    let added = client.call("POST", "/store/v1/faults", Some(&rule)).await;
    assert_eq!(added.status, 200, "{added:#?}");
    client.put("t1", &minimal()).await.api_error(503, 99);
    let mut during = Events::open(client, "?after=0", None).await;
    assert!(!during.changes(1, Duration::from_secs(5)).await.is_empty());
    assert_eq!(
        client.call("DELETE", "/store/v1/faults", None).await.status,
        200
    );

    // What the auditor sees of a write: where, what, who; not the object.
    assert_eq!(client.put("t1", &minimal()).await.status, 200);
    let seen = watching.changes(1, Duration::from_secs(5)).await;
    assert_eq!(seen[0]["path"], "/infra/antrea/traceflows/t1");
    assert_eq!(seen[0]["operation"], "create");

    // A stop does not wait for open streams: they end, and the server exits.
    let began = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert!(
        watching.block(Duration::from_secs(5)).await.is_none(),
        "the stream ended"
    );
}
