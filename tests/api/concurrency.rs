//! The batching writer under concurrent clients: whatever the interleaving, the objects and
//! their history equal a sequential replay of the acknowledged operations, and every answer is
//! one the contract gives. The objects are traceflows and objects of catalog types side by
//! side.

use std::collections::{HashMap, HashSet};

use crate::support::{with_nsx_fills, Client, Dice, Workspace};
use serde_json::{json, Map, Value};

const CLIENTS: usize = 16;
const OPERATIONS_PER_CLIENT: usize = 60;
/// The objects the clients write, by policy path: traceflows and three catalog types.
const TARGETS: [&str; 6] = [
    "/infra/antrea/traceflows/a",
    "/infra/antrea/traceflows/b",
    "/infra/antrea/traceflows/c",
    "/infra/segments/s",
    "/infra/domains/default/groups/g",
    "/infra/tier-1s/t",
];

fn is_traceflow(path: &str) -> bool {
    path.starts_with("/infra/antrea/traceflows/")
}

/// A request of `method` to the object at `path`, with a JSON body if any.
/// A complete body for the object at `path`, carrying `token` in `description`.
fn full_body(path: &str, token: &str) -> Value {
    if is_traceflow(path) {
        json!({
            "container_cluster_id": format!("cluster-{token}"),
            "source_external_id": "pod",
            "description": token,
        })
    } else {
        json!({"description": token, "tags": [{"scope": "token", "tag": token}]})
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Put,
    Patch,
    Delete,
}

/// One request a client made, and the answer it got.
#[derive(Debug)]
struct Record {
    kind: Kind,
    path: &'static str,
    /// Unique per write; travels in `description`, so history rows name their request.
    token: String,
    sent: Value,
    status: u16,
    body: Value,
}

/// The client's fields of an object, but for `display_name` (the server's default here).
fn client_fields(object: &Value) -> Map<String, Value> {
    let mut fields = crate::support::client_fields(object);
    fields.remove("display_name");
    fields
}

async fn run_client(client: Client, number: usize) -> Vec<Record> {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ ((number as u64 + 1) * 0x1000_0001));
    let mut records = Vec::new();
    for n in 0..OPERATIONS_PER_CLIENT {
        let path = TARGETS[dice.roll(TARGETS.len() as u64) as usize];
        let token = format!("c{number}-{n}");
        let full = full_body(path, &token);
        let (kind, sent) = match dice.roll(6) {
            0 => (Kind::Put, full),
            1 | 2 => {
                // Replace with the revision just read (it may be stale by the time it lands).
                let current = client.policy("GET", path, None).await;
                let mut body = full;
                body["_revision"] = current.body.get("_revision").cloned().unwrap_or(json!(0));
                (Kind::Put, body)
            }
            3 => {
                let mut body = full;
                body["_revision"] = json!(1_000_000);
                (Kind::Put, body)
            }
            4 => {
                let mut body = full;
                body["tags"] = json!([{"tag": token}]);
                if dice.roll(2) == 0 {
                    let current = client.policy("GET", path, None).await;
                    body["_revision"] = current.body.get("_revision").cloned().unwrap_or(json!(0));
                }
                (Kind::Patch, body)
            }
            _ => (Kind::Delete, Value::Null),
        };
        let reply = match kind {
            Kind::Put => client.policy("PUT", path, Some(&sent)).await,
            Kind::Patch => client.policy("PATCH", path, Some(&sent)).await,
            Kind::Delete => client.policy("DELETE", path, None).await,
        };
        records.push(Record {
            kind,
            path,
            token,
            sent,
            status: reply.status,
            body: reply.body,
        });
    }
    records
}

/// The server's warnings and errors, for a failing assertion to show why.
fn warnings(workspace: &Workspace) -> String {
    workspace
        .log()
        .lines()
        .filter(|line| line.contains("WARN") || line.contains("ERROR"))
        .collect::<Vec<_>>()
        .join("\n")
}

struct HistoryRow {
    path: String,
    unique_id: String,
    revision: i64,
    operation: String,
    object: Value,
}

#[tokio::test]
async fn concurrent_writes_equal_a_sequential_replay_of_what_was_acknowledged() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let mut clients = tokio::task::JoinSet::new();
    for number in 0..CLIENTS {
        clients.spawn(run_client(server.client.clone(), number));
    }
    let mut records = Vec::new();
    while let Some(done) = clients.join_next().await {
        records.extend(done.unwrap());
    }

    // Every answer is one the contract allows for its request.
    for record in &records {
        let sent_revision = record.sent.get("_revision").is_some();
        let allowed = match (record.kind, record.status) {
            (_, 200) => true,
            (Kind::Put, 400) => !sent_revision && record.body["error_code"] == 500127,
            (Kind::Put | Kind::Patch, 412) => sent_revision && record.body["error_code"] == 206,
            _ => false,
        };
        // A refusal the contract does not allow names its cause in the server's log.
        assert!(
            allowed,
            "{record:#?}\nthe server's warnings and errors:\n{}",
            warnings(&workspace)
        );
    }
    let acknowledged = records.iter().filter(|r| r.status == 200).count();
    assert!(
        acknowledged > CLIENTS * OPERATIONS_PER_CLIENT / 3,
        "the mix was mostly rejected"
    );

    // Each object's history, through the history extension.
    let mut history: Vec<HistoryRow> = Vec::new();
    for path in TARGETS {
        for record in server.client.history(path).await {
            history.push(HistoryRow {
                path: record["path"].as_str().unwrap().to_owned(),
                unique_id: record["object"]["unique_id"].as_str().unwrap().to_owned(),
                revision: record["revision"].as_i64().unwrap(),
                operation: record["operation"].as_str().unwrap().to_owned(),
                object: record["object"].clone(),
            });
        }
    }

    // Replay each object's history in commit order against a model of the contract.
    let by_token: HashMap<&str, &Record> = records.iter().map(|r| (r.token.as_str(), r)).collect();
    let mut used: HashSet<&str> = HashSet::new();
    let mut deletes: HashMap<&str, usize> = HashMap::new();
    let mut unique_ids_seen: HashSet<String> = HashSet::new();
    // path -> (client fields, revision, unique_id)
    let mut model: HashMap<String, (Map<String, Value>, i64, String)> = HashMap::new();
    for row in &history {
        let id = row.path.rsplit('/').next().unwrap();
        let current = model.get(&row.path).cloned();
        if row.operation == "delete" {
            let (fields, revision, unique_id) = current.expect("a delete of a present object");
            assert_eq!(row.revision, revision + 1);
            assert_eq!(row.unique_id, unique_id);
            assert_eq!(
                client_fields(&row.object),
                fields,
                "a delete records the final state"
            );
            *deletes
                .entry(TARGETS.iter().find(|p| **p == row.path).unwrap())
                .or_default() += 1;
            model.remove(&row.path);
            continue;
        }
        let token = row.object["description"].as_str().unwrap();
        let record = by_token[token];
        assert_eq!(
            record.status, 200,
            "only acknowledged writes reach history: {record:#?}"
        );
        assert!(used.insert(token), "{token} committed twice");
        let mut sent = client_fields(&record.sent);
        sent.remove("_revision");
        let sent_revision = record.sent.get("_revision").and_then(Value::as_i64);
        let expected = match (&current, record.kind) {
            (None, _) => {
                assert_eq!(row.operation, "create");
                assert_eq!(row.revision, 0);
                assert!(
                    unique_ids_seen.insert(row.unique_id.clone()),
                    "a new unique_id"
                );
                with_nsx_fills(&row.path, sent)
            }
            (Some((fields, revision, unique_id)), kind) => {
                assert_eq!(row.revision, revision + 1);
                assert_eq!(&row.unique_id, unique_id);
                match kind {
                    Kind::Put => {
                        assert_eq!(row.operation, "replace");
                        assert_eq!(
                            sent_revision,
                            Some(*revision),
                            "a replace needs the stored revision"
                        );
                        with_nsx_fills(&row.path, sent)
                    }
                    Kind::Patch => {
                        assert_eq!(row.operation, "patch");
                        if let Some(sent_revision) = sent_revision {
                            assert_eq!(sent_revision, *revision);
                        }
                        let mut merged = fields.clone();
                        merged.extend(sent);
                        merged
                    }
                    Kind::Delete => unreachable!("deletes carry no token"),
                }
            }
        };
        assert_eq!(client_fields(&row.object), expected, "{token}");
        assert_eq!(row.object["display_name"], id);
        if record.kind == Kind::Put {
            assert_eq!(record.body, row.object, "a PUT answers what it committed");
        }
        model.insert(
            row.path.clone(),
            (expected, row.revision, row.unique_id.clone()),
        );
    }

    // Every acknowledged PUT and PATCH is in history exactly once; deletes at most as often
    // as they were acknowledged (a DELETE of an absent object changes nothing).
    for record in records
        .iter()
        .filter(|r| r.status == 200 && r.kind != Kind::Delete)
    {
        assert!(
            used.contains(record.token.as_str()),
            "acknowledged but lost: {record:#?}"
        );
    }
    for path in TARGETS {
        let acknowledged = records
            .iter()
            .filter(|r| r.kind == Kind::Delete && r.path == path)
            .count();
        assert!(deletes.get(path).copied().unwrap_or(0) <= acknowledged);
    }
    // A 412 names a revision the object really had.
    for record in records.iter().filter(|r| r.status == 412) {
        let message = record.body["error_message"].as_str().unwrap();
        let current: i64 = message
            .split("current: ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            history
                .iter()
                .any(|row| row.path == record.path && row.revision == current),
            "{message}"
        );
    }

    // The store holds exactly the model's final state: every traceflow, and the objects of
    // the other types that are there.
    let mut objects = server.client.all_objects().await;
    for path in TARGETS.iter().filter(|path| !is_traceflow(path)) {
        let reply = server.client.policy("GET", path, None).await;
        if reply.status == 200 {
            objects.push(reply.body);
        }
    }
    let stored: HashMap<String, (Map<String, Value>, i64, String)> = objects
        .into_iter()
        .map(|object| {
            let path = object["path"].as_str().unwrap().to_owned();
            let revision = object["_revision"].as_i64().unwrap();
            let unique_id = object["unique_id"].as_str().unwrap().to_owned();
            (path, (client_fields(&object), revision, unique_id))
        })
        .collect();
    assert_eq!(stored, model);
    // And the API serves it.
    for (path, (fields, revision, _)) in &model {
        let served = server.client.policy("GET", path, None).await.body;
        assert_eq!(&client_fields(&served), fields);
        assert_eq!(served["_revision"], *revision);
    }
}

#[tokio::test]
async fn failing_writes_among_concurrent_ones_change_nothing_else() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let original = server
        .client
        .put("dup", &crate::support::minimal())
        .await
        .body;
    let mut writes = tokio::task::JoinSet::new();
    for n in 0..64 {
        let client = server.client.clone();
        writes.spawn(async move {
            let id = if n % 2 == 0 {
                format!("new-{n}")
            } else {
                "dup".to_owned()
            };
            (
                id.clone(),
                client.put(&id, &crate::support::minimal()).await,
            )
        });
    }
    while let Some(done) = writes.join_next().await {
        let (id, reply) = done.unwrap();
        if id == "dup" {
            reply.api_error(400, 500127);
        } else {
            assert_eq!(reply.status, 200, "{id}: {reply:#?}");
            assert_eq!(server.client.get(&id).await.body, reply.body);
        }
    }
    assert_eq!(server.client.get("dup").await.body, original);
    assert_eq!(
        server
            .client
            .history("/infra/antrea/traceflows/dup")
            .await
            .len(),
        1,
        "one create for dup"
    );
    assert_eq!(
        server.client.all_objects().await.len(),
        1 + 32,
        "and one for each new id"
    );
}

/// Many clients create, patch and delete the same objects over and over, so that a write
/// often finds its object created or deleted by another after it read it: every write still
/// lands (200), never a 503, and history holds each acknowledged PATCH once (as a create or
/// a patch).
#[tokio::test]
async fn writes_of_one_object_created_and_deleted_by_others_all_land() {
    const PATHS: [&str; 2] = [
        "/infra/segments/churn",
        "/infra/domains/default/groups/churn",
    ];
    let workspace = Workspace::new();
    let server = workspace.start();
    let mut clients = tokio::task::JoinSet::new();
    for number in 0..12 {
        let client = server.client.clone();
        clients.spawn(async move {
            let mut answers = Vec::new();
            for n in 0..30 {
                let path = PATHS[(number + n) % PATHS.len()];
                let body = json!({"description": format!("c{number}-{n}")});
                let written = client.policy("PATCH", path, Some(&body)).await;
                let deleted = client.policy("DELETE", path, None).await;
                answers.push((path, "PATCH", written.status, written.body));
                answers.push((path, "DELETE", deleted.status, deleted.body));
            }
            answers
        });
    }
    let mut patches = 0;
    while let Some(done) = clients.join_next().await {
        for (path, method, status, body) in done.unwrap() {
            assert_eq!(
                status,
                200,
                "{method} {path}: {body}\nthe server's warnings and errors:\n{}",
                warnings(&workspace)
            );
            patches += usize::from(method == "PATCH");
        }
    }
    let mut written = 0;
    for path in PATHS {
        let history = server.client.history(path).await;
        written += history
            .iter()
            .filter(|row| row["operation"] != "delete")
            .count();
    }
    assert_eq!(
        written, patches,
        "every acknowledged PATCH is in history once"
    );
    workspace.check_storage();
}
