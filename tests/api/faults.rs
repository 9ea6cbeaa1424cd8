//! Fault and latency injection (the README's "Fault and latency injection"): rules over
//! HTTP and in the configuration, every matcher and effect, before and after the write.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{minimal, Client, Reply, Workspace, AUDITOR, TRACEFLOWS};

const FAULTS: &str = "/store/v1/faults";

async fn add(client: &Client, rule: &Value) -> Reply {
    let request = client
        .request("POST", FAULTS)
        .header("content-type", "application/json")
        .body(rule.to_string());
    client.send(request).await
}

async fn rules(client: &Client) -> Value {
    client.get_path(FAULTS).await.body
}

fn unavailable() -> Value {
    json!({"status": 503, "error_code": 99, "error_message": "Service unavailable"})
}

#[tokio::test]
async fn rules_are_created_listed_validated_and_deleted() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let rule = json!({"match": {"method": "PUT"}, "error": unavailable()});
    let created = add(client, &rule).await;
    assert_eq!(created.status, 200, "{created:#?}");
    assert_eq!(created.body["id"], "fault-1");
    assert_eq!(created.body["hits"], 0);
    assert_eq!(created.body["when"], "before");
    assert_eq!(created.body["probability"], 1.0);
    let listed = rules(client).await;
    assert_eq!(listed["result_count"], 1);
    assert_eq!(listed["results"][0], created.body);

    // Invalid rules: 400 naming the field, and nothing changes.
    for (bad, field) in [
        (json!({"latency_ms": -1}), "latency_ms"),
        (json!({"latency_ms": [200, 100]}), "latency_ms"),
        (json!({"probability": 1.5, "latency_ms": 1}), "probability"),
        (
            json!({"error": {"status": 200, "error_code": 1, "error_message": "x"}}),
            "error.status",
        ),
        (json!({"when": "later", "latency_ms": 1}), "when"),
        (
            json!({"match": {"host": "x"}, "latency_ms": 1}),
            "match.host",
        ),
        (json!({"latency_ms": 1, "retries": 2}), "retries"),
    ] {
        add(client, &bad).await.field_error(field);
    }
    assert_eq!(rules(client).await, listed);

    // Changes need enterprise_admin; reads do not.
    add(&client.as_user(AUDITOR), &rule)
        .await
        .api_error(403, 401);
    assert_eq!(rules(&client.as_user(AUDITOR)).await, listed);

    // Delete one (404 when absent), then all.
    let second = add(client, &json!({"latency_ms": 1})).await.body;
    assert_eq!(second["id"], "fault-2");
    let delete = |path: String| client.send(client.request("DELETE", &path));
    assert_eq!(delete(format!("{FAULTS}/fault-1")).await.status, 200);
    delete(format!("{FAULTS}/fault-1"))
        .await
        .api_error(404, 600);
    assert_eq!(rules(client).await["results"][0]["id"], "fault-2");
    assert_eq!(delete(FAULTS.to_owned()).await.status, 200);
    assert_eq!(
        rules(client).await,
        json!({"result_count": 0, "results": []})
    );
}

#[tokio::test]
async fn rules_match_by_method_path_and_user_in_creation_order() {
    let workspace = Workspace::new();
    workspace.configure(
        "\n[[auth.users]]\nname = \"bob\"\nrole = \"enterprise_admin\"\npassword = \"b\"\n",
    );
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.put("t1", &minimal()).await.status, 200);
    let throttled = |code: u32| {
        json!({"status": 429, "error_code": code, "error_message": "slow down",
               "module_name": "Throttle"})
    };
    // `*` stays within a segment; `**` goes across.
    add(
        client,
        &json!({"match": {"method": "get", "path": format!("{TRACEFLOWS}/*")}, "error": throttled(1)}),
    )
    .await;
    add(
        client,
        &json!({"match": {"path": "/policy/**"}, "error": throttled(2)}),
    )
    .await;
    add(
        client,
        &json!({"match": {"user": "bob"}, "error": throttled(3)}),
    )
    .await;

    let by_id = client.get("t1").await;
    assert_eq!(by_id.api_error(429, 1), "slow down");
    assert_eq!(by_id.body["module_name"], "Throttle");
    assert_eq!(by_id.body["httpStatus"], "TOO_MANY_REQUESTS");
    client
        .get_path(&format!("{TRACEFLOWS}/t1/status"))
        .await
        .api_error(429, 2);
    client.put("t2", &minimal()).await.api_error(429, 2);
    let bob = client.as_user(("bob", "b"));
    bob.get_path("/api/v1/node").await.api_error(429, 3);
    assert_eq!(
        client.get_path("/api/v1/node").await.status,
        200,
        "admin is not bob"
    );

    // The rules' own API never matches: a harness can always clear them.
    add(client, &json!({"error": unavailable()})).await;
    assert_eq!(client.get_path(FAULTS).await.status, 200);
    let hits: Vec<Value> = rules(client).await["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["hits"].clone())
        .collect();
    assert_eq!(hits, [json!(1), json!(2), json!(1), json!(0)]);
    assert_eq!(
        client.send(client.request("DELETE", FAULTS)).await.status,
        200
    );
    assert_eq!(client.get("t1").await.status, 200);
    let log = workspace.log();
    assert!(
        log.lines()
            .any(|line| line.contains("injecting a fault") && line.contains("fault-2")),
        "each injection is logged with its rule's id"
    );
}

#[tokio::test]
async fn skip_and_times_let_requests_pass_then_inject_then_stop() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    // The third PUT fails with 503; the others pass.
    add(
        client,
        &json!({"match": {"method": "PUT"}, "skip": 2, "times": 1, "error": unavailable()}),
    )
    .await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        statuses.push(client.put(&format!("t{n}"), &minimal()).await.status);
    }
    assert_eq!(statuses, [200, 200, 503, 200, 200]);
    client.get("t2").await.api_error(404, 600);
    let rule = &rules(client).await["results"][0];
    assert_eq!(rule["hits"], 1, "the rule stays, spent");

    // The README's recipe: every third PUT fails, rule k taking its (2k+1)th match.
    assert_eq!(
        client.send(client.request("DELETE", FAULTS)).await.status,
        200
    );
    for k in 1..=3 {
        let rule = json!({"match": {"method": "PUT"}, "skip": 2 * k, "times": 1,
                          "error": unavailable()});
        assert_eq!(add(client, &rule).await.status, 200);
    }
    let mut statuses = Vec::new();
    for n in 0..10 {
        statuses.push(client.put(&format!("r{n}"), &minimal()).await.status);
    }
    assert_eq!(statuses, [200, 200, 503, 200, 200, 503, 200, 200, 503, 200]);
}

#[tokio::test]
async fn latency_delays_the_answer_fixed_or_uniform() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.put("t1", &minimal()).await.status, 200);
    add(
        client,
        &json!({"match": {"method": "GET", "path": format!("{TRACEFLOWS}/t1")}, "latency_ms": 200}),
    )
    .await;
    add(
        client,
        &json!({"match": {"method": "GET"}, "latency_ms": [100, 150]}),
    )
    .await;
    let timed = |path: String| async move {
        let started = Instant::now();
        let reply = client.get_path(&path).await;
        (reply.status, started.elapsed())
    };
    let (status, took) = timed(format!("{TRACEFLOWS}/t1")).await;
    assert_eq!(status, 200, "latency alone answers normally");
    assert!(took >= Duration::from_millis(200), "{took:?}");
    for _ in 0..3 {
        let (status, took) = timed(TRACEFLOWS.to_owned()).await;
        assert_eq!(status, 200);
        assert!(took >= Duration::from_millis(100), "{took:?}");
    }
}

/// `before`: nothing is handled. `after`: the write is committed and in the history, and
/// its answer is replaced (an error) or lost (a dropped connection).
#[tokio::test]
async fn before_changes_nothing_and_after_loses_the_answer_of_a_committed_write() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    add(
        client,
        &json!({"match": {"path": format!("{TRACEFLOWS}/before")}, "error": unavailable()}),
    )
    .await;
    client.put("before", &minimal()).await.api_error(503, 99);
    assert_eq!(
        client.send(client.request("DELETE", FAULTS)).await.status,
        200
    );
    client.get("before").await.api_error(404, 600);
    assert!(client
        .history("/infra/antrea/traceflows/before")
        .await
        .is_empty());

    let lost = json!({"match": {"method": "PUT", "path": format!("{TRACEFLOWS}/after")},
                      "times": 1, "when": "after", "error": unavailable()});
    add(client, &lost).await;
    client.put("after", &minimal()).await.api_error(503, 99);
    let stored = client.get("after").await;
    assert_eq!(stored.status, 200, "the write was committed");
    assert_eq!(
        client.history("/infra/antrea/traceflows/after").await.len(),
        1
    );
    // The client retries its create and meets its own object.
    client.put("after", &minimal()).await.api_error(400, 500127);

    let dropped = json!({"match": {"method": "PUT", "path": format!("{TRACEFLOWS}/dropped")},
                         "times": 1, "when": "after", "drop_connection": true});
    add(client, &dropped).await;
    let request = client
        .request("PUT", &format!("{TRACEFLOWS}/dropped"))
        .header("content-type", "application/json")
        .body(minimal().to_string());
    assert!(request.send().await.is_err(), "no answer at all");
    assert_eq!(
        client.get("dropped").await.status,
        200,
        "but the write landed"
    );

    let dropped_before =
        json!({"match": {"path": format!("{TRACEFLOWS}/never")}, "drop_connection": true});
    add(client, &dropped_before).await;
    let request = client
        .request("PUT", &format!("{TRACEFLOWS}/never"))
        .header("content-type", "application/json")
        .body(minimal().to_string());
    assert!(request.send().await.is_err());
    assert_eq!(
        client.send(client.request("DELETE", FAULTS)).await.status,
        200
    );
    client.get("never").await.api_error(404, 600);
}

/// `probability` draws from the seeded generator: two fresh servers with one seed inject
/// the same pattern.
#[tokio::test]
async fn one_seed_gives_two_servers_the_same_pattern() {
    let mut patterns = Vec::new();
    for _ in 0..2 {
        let workspace = Workspace::new();
        workspace.configure(
            "\n[determinism]\nseed = 7\n\n[[faults]]\nprobability = 0.5\n\
             error = { status = 503, error_code = 99, error_message = \"flaky\" }\n\
             [faults.match]\nmethod = \"GET\"\n",
        );
        let server = workspace.start();
        let mut pattern = Vec::new();
        for _ in 0..40 {
            pattern.push(server.client.get_path(TRACEFLOWS).await.status);
        }
        patterns.push(pattern);
    }
    assert_eq!(patterns[0], patterns[1]);
    let failed = patterns[0].iter().filter(|&&s| s == 503).count();
    assert!(
        (5..35).contains(&failed),
        "a coin, not a constant: {failed} of 40"
    );
}

#[test]
fn a_configured_rule_that_breaks_a_rule_stops_the_start() {
    let workspace = Workspace::new();
    workspace.configure("\n[[faults]]\nprobability = 3\nlatency_ms = 1\n");
    let output = workspace.command().output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = workspace.log();
    assert!(
        log.contains("faults") && log.contains("probability"),
        "{log}"
    );
}
