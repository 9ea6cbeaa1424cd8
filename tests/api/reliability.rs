//! Nothing acknowledged is ever lost, and every committed write is answered: kills and
//! graceful shutdowns under load, through the real binary, observed through the API.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::process::Command;
use std::time::Duration;

use crate::support::{minimal, Client, Dice, Server, SpawnServer, Workspace, ADMIN, TRACEFLOWS};
use serde_json::{json, Value};

/// A write the server acknowledged with 200.
#[derive(Debug, Clone)]
pub(crate) struct Acknowledged {
    token: String,
    /// The object a PUT answered; `None` for a PATCH (whose answer is empty).
    answered: Option<Value>,
}

/// The paths the writers write to: traceflows, segments and groups, by number.
fn written_path(n: u64) -> String {
    match n % 3 {
        0 => format!("/infra/antrea/traceflows/obj-{n}"),
        1 => format!("/infra/segments/obj-{n}"),
        _ => format!("/infra/domains/default/groups/obj-{n}"),
    }
}

/// One client writing until its server goes away: creates, replaces, patches and deletes
/// over a few objects of several types, each PUT and PATCH carrying a unique token in
/// `description`.
async fn write_until_refused(client: Client, name: String, seed: u64) -> Vec<Acknowledged> {
    let mut dice = Dice(seed | 1);
    let mut acknowledged = Vec::new();
    for n in 0.. {
        let path = written_path(dice.roll(WRITTEN_IDS));
        let url = format!("/policy/api/v1{path}");
        let token = format!("{name}-{n}");
        let mut body = if path.starts_with("/infra/antrea/") {
            minimal()
        } else {
            json!({})
        };
        body["description"] = json!(token);
        let request = match dice.roll(4) {
            0 => client.request("PUT", &url).json(&body),
            1 => {
                let Ok(current) = client.request("GET", &url).send().await else {
                    break;
                };
                let current: Value = current.json().await.unwrap_or(Value::Null);
                body["_revision"] = current.get("_revision").cloned().unwrap_or(json!(0));
                client.request("PUT", &url).json(&body)
            }
            2 => client.request("PATCH", &url).json(&body),
            _ => client.request("DELETE", &url),
        };
        let method = request
            .try_clone()
            .unwrap()
            .build()
            .unwrap()
            .method()
            .clone();
        let Ok(response) = request.send().await else {
            break; // the server is gone
        };
        let status = response.status().as_u16();
        let Ok(text) = response.text().await else {
            break;
        };
        assert!(status < 500, "{method} {path}: {status} {text}");
        if status == 200 && method != "DELETE" {
            acknowledged.push(Acknowledged {
                token,
                answered: (method == "PUT").then(|| serde_json::from_str(&text).unwrap()),
            });
        }
    }
    acknowledged
}

/// Runs `clients` writers against `server` until `stop` resolves; returns what they got
/// acknowledged.
pub(crate) async fn load_until<F: std::future::Future<Output = ()>>(
    server: &Server,
    clients: usize,
    label: &str,
    stop: F,
) -> Vec<Acknowledged> {
    let mut writers = tokio::task::JoinSet::new();
    for c in 0..clients {
        let client = server.client.clone();
        let name = format!("{label}-c{c}");
        let seed = 0x9E37_79B9_7F4A_7C15 ^ ((c as u64 + 1) << 32) ^ label.len() as u64;
        writers.spawn(write_until_refused(client, name, seed));
    }
    stop.await;
    let mut acknowledged = Vec::new();
    while let Some(done) = writers.join_next().await {
        acknowledged.extend(done.unwrap());
    }
    acknowledged
}

/// How many objects the writers write to.
const WRITTEN_IDS: u64 = 12;

/// Every object stored that the writers could have written: every traceflow, and the
/// written paths of other types that are there.
pub(crate) async fn stored_objects(client: &Client) -> Vec<Value> {
    let mut objects = client.all_objects().await;
    for n in (0..WRITTEN_IDS).filter(|n| n % 3 != 0) {
        let reply = client
            .get_path(&format!("/policy/api/v1{}", written_path(n)))
            .await;
        if reply.status == 200 {
            objects.push(reply.body);
        }
    }
    objects
}

/// Every revision the store serves of the objects the writers touched, and of any other
/// object stored: `(path, operation, object)`, oldest first per path.
async fn histories(client: &Client) -> Vec<(String, String, Value)> {
    let mut paths: BTreeSet<String> = (0..WRITTEN_IDS).map(written_path).collect();
    for object in stored_objects(client).await {
        paths.insert(object["path"].as_str().unwrap().to_owned());
    }
    let mut history = Vec::new();
    for path in paths {
        for record in client.history(&path).await {
            let operation = record["operation"].as_str().unwrap().to_owned();
            history.push((path.clone(), operation, record["object"].clone()));
        }
    }
    history
}

/// Checks, through the API, what the writers left: every acknowledged write is in its
/// object's history with exactly the content and revision that was answered; objects and
/// history agree (no object without history, none whose history ends in a delete, each the
/// last revision of its history); and the engine finds no damage in its own storage.
pub(crate) async fn verify(server: &Server, workspace: &Workspace, acknowledged: &[Acknowledged]) {
    workspace.check_storage();
    let history = histories(&server.client).await;
    let by_token: HashMap<&str, &Value> = history
        .iter()
        .filter(|(_, operation, _)| operation != "delete")
        .filter_map(|(_, _, object)| Some((object["description"].as_str()?, object)))
        .collect();
    for write in acknowledged {
        let committed = by_token
            .get(write.token.as_str())
            .unwrap_or_else(|| panic!("acknowledged write {} was lost", write.token));
        if let Some(answered) = &write.answered {
            assert_eq!(
                *committed, answered,
                "{} differs from what was answered",
                write.token
            );
        }
    }

    let mut latest: HashMap<&str, (&str, &Value)> = HashMap::new();
    for (path, operation, object) in &history {
        latest.insert(path.as_str(), (operation.as_str(), object));
    }
    let objects: HashMap<String, Value> = stored_objects(&server.client)
        .await
        .into_iter()
        .map(|object| (object["path"].as_str().unwrap().to_owned(), object))
        .collect();
    for (path, (operation, object)) in &latest {
        match objects.get(*path) {
            None => assert_eq!(*operation, "delete", "{path}: history without its object"),
            Some(stored) => {
                assert_ne!(*operation, "delete", "{path}: deleted but still stored");
                assert_eq!(stored, *object, "{path}: the last revision is the object");
            }
        }
    }
    for path in objects.keys() {
        assert!(
            latest.contains_key(path.as_str()),
            "{path}: object without history"
        );
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    const KILLS: usize = 24;
    let workspace = Workspace::new();
    let mut dice = Dice(0xC0FFEE);
    let mut acknowledged = Vec::new();
    let mut server = workspace.start();
    for round in 0..KILLS {
        let lifetime = Duration::from_millis(20 + dice.roll(300));
        let killed = async {
            tokio::time::sleep(lifetime).await;
        };
        let label = format!("r{round}");
        let mut got = load_until(&server, 8, &label, async {
            killed.await;
            // SIGKILL: no shutdown, no flush, no checkpoint.
            Command::new("kill")
                .args(["-KILL", &server.pid().to_string()])
                .status()
                .unwrap();
        })
        .await;
        acknowledged.append(&mut got);
        server.kill();
        server = workspace.start();
        verify(&server, &workspace, &acknowledged).await;
    }
    println!(
        "crash test: {KILLS} SIGKILLs survived, {} acknowledged writes verified",
        acknowledged.len()
    );
    assert!(acknowledged.len() > KILLS * 10, "the load was real");
}

/// Every write that was committed was also answered: no client lost the answer of a write
/// that landed (the tokens of every PUT and PATCH in history were acknowledged).
async fn every_committed_write_was_answered(client: &Client, acknowledged: &[Acknowledged]) {
    let answered: HashSet<&str> = acknowledged.iter().map(|w| w.token.as_str()).collect();
    for (_, operation, object) in histories(client).await {
        let token = object["description"].as_str().unwrap();
        assert!(
            operation == "delete" || answered.contains(token),
            "{token} was committed, but its client got no answer"
        );
    }
}

/// SIGTERM, or SIGINT as Ctrl-C sends it, under eight writers: the server stops accepting,
/// answers what is in flight, commits, checkpoints, and exits 0.
async fn stops_gracefully_under_load(signal: &str) {
    let workspace = Workspace::new();
    workspace.configure("\n[server]\nshutdown_grace_secs = 5\n");
    let server = workspace
        .command()
        .env("NSX_POLICY_STORE__LOG__LEVEL", "info")
        .spawn_server();
    let pid = server.pid().to_string();
    let acknowledged = load_until(&server, 8, signal, async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Command::new("kill").args([signal, &pid]).status().unwrap();
    })
    .await;
    let status = server.wait();
    assert!(status.success(), "{signal}: exit status {status}");
    workspace.check_clean_shutdown();
    assert!(!acknowledged.is_empty());
    assert!(workspace.log().contains("closing the store"));
    // The store is released: the next start works and serves everything.
    let server = workspace.start();
    verify(&server, &workspace, &acknowledged).await;
    every_committed_write_was_answered(&server.client, &acknowledged).await;
}

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_writes_and_exits_cleanly() {
    stops_gracefully_under_load("-TERM").await;
}

#[tokio::test]
async fn ctrl_c_under_load_finishes_in_flight_writes_and_exits_cleanly() {
    stops_gracefully_under_load("-INT").await;
}

/// A PUT whose body is still arriving when the signal comes is answered, not cut off.
#[tokio::test]
async fn a_slow_write_in_flight_at_ctrl_c_is_answered() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let address = server.url.trim_start_matches("http://").to_owned();
    let pid = server.pid().to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let body = minimal().to_string();
        let (first, rest) = body.split_at(body.len() / 2);
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let credentials = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", ADMIN.0, ADMIN.1),
        );
        write!(
            stream,
            "PUT {TRACEFLOWS}/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {credentials}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
            body.len()
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        stream.write_all(rest.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
    assert!(server.wait().success());
    let server = workspace.start();
    assert_eq!(server.client.get("slow").await.status, 200);
}
