//! What an operator watches (the README's "Operability"): the metrics listener with its
//! health endpoints, the request id every answer carries, and the one log line of each
//! request.

use serde_json::{json, Value};

use crate::support::{minimal, Server, SpawnServer, Workspace, ADMIN, TRACEFLOWS};

const OBJECT_ROUTE: &str = "/policy/api/v1/infra/antrea/traceflows/{id}";

fn with_metrics() -> Workspace {
    let workspace = Workspace::new();
    workspace.configure("[telemetry]\nmetrics_listen = \"127.0.0.1:0\"\n");
    workspace
}

/// `GET` on the metrics listener, with no credentials: status and body.
async fn probe(server: &Server, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", server.metrics_base()))
        .await
        .expect("the metrics listener answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The value of one series (its name with its labels, as Prometheus prints them), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

fn requests(method: &str, route: &str, status: u16) -> String {
    format!(
        "nsx_policy_store_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"
    )
}

#[tokio::test]
async fn metrics_move_with_traffic() {
    let workspace = with_metrics();
    let server = workspace.start();
    let lines = server.startup_lines();
    assert!(
        lines[0].starts_with("nsx-policy-store listening on "),
        "{lines:?}"
    );
    let client = &server.client;

    assert_eq!(client.put("t1", &minimal()).await.status, 200);
    assert_eq!(client.get("t1").await.status, 200);
    assert_eq!(client.get("t1").await.status, 200);
    assert_eq!(client.get("absent").await.status, 404);
    assert_eq!(
        client.as_user((ADMIN.0, "wrong")).get("t1").await.status,
        403
    );
    assert_eq!(client.get_path("/nowhere/at/all").await.status, 404);
    let rule = json!({
        "match": {"method": "GET", "path": format!("{TRACEFLOWS}/faulty")},
        "error": {"status": 503, "error_code": 99, "error_message": "injected"},
    });
    let created = client
        .send(client.request("POST", "/store/v1/faults").json(&rule))
        .await;
    assert_eq!(created.status, 200, "{created:#?}");
    let rule_id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(client.get("faulty").await.status, 503);

    let (status, metrics) = probe(&server, "/metrics").await;
    assert_eq!(status, 200);
    let count =
        |series: &str| sample(&metrics, series).unwrap_or_else(|| panic!("{series}:\n{metrics}"));
    assert_eq!(count(&requests("PUT", OBJECT_ROUTE, 200)), 1.0);
    assert_eq!(count(&requests("GET", OBJECT_ROUTE, 200)), 2.0);
    assert_eq!(count(&requests("GET", OBJECT_ROUTE, 404)), 1.0);
    assert_eq!(count(&requests("GET", OBJECT_ROUTE, 403)), 1.0);
    assert_eq!(count(&requests("GET", OBJECT_ROUTE, 503)), 1.0);
    assert_eq!(count(&requests("GET", "unmatched", 404)), 1.0);
    assert_eq!(
        count("nsx_policy_store_authentication_failures_total{scheme=\"basic\"}"),
        1.0
    );
    assert_eq!(
        count(&format!(
            "nsx_policy_store_faults_injected_total{{rule=\"{rule_id}\"}}"
        )),
        1.0
    );
    assert!(count("nsx_policy_store_writer_batch_writes_count") >= 1.0);
    assert!(count("nsx_policy_store_writer_commit_duration_seconds_count") >= 1.0);
    assert_eq!(count("nsx_policy_store_objects"), 1.0);
    let durations = format!(
        "nsx_policy_store_http_request_duration_seconds_count{{method=\"GET\",route=\"{OBJECT_ROUTE}\"}}"
    );
    assert_eq!(count(&durations), 5.0);
    // Labels are route templates: no series for a path's own values.
    assert!(
        !metrics.contains("/t1\"") && !metrics.contains("nowhere"),
        "{metrics}"
    );

    // More traffic, higher counts.
    assert_eq!(client.put("t2", &minimal()).await.status, 200);
    let (_, later) = probe(&server, "/metrics").await;
    assert_eq!(
        sample(&later, &requests("PUT", OBJECT_ROUTE, 200)),
        Some(2.0)
    );
    assert_eq!(sample(&later, "nsx_policy_store_objects"), Some(2.0));
}

#[tokio::test]
async fn the_health_endpoints_answer_without_credentials() {
    let workspace = with_metrics();
    let server = workspace.start();
    assert_eq!(probe(&server, "/healthz").await, (200, "ok\n".to_owned()));
    assert_eq!(probe(&server, "/readyz").await, (200, "ready\n".to_owned()));
    assert_eq!(probe(&server, "/elsewhere").await.0, 404);
}

#[tokio::test]
async fn without_the_setting_there_is_no_metrics_listener() {
    let workspace = Workspace::new();
    let server = workspace.start();
    assert_eq!(
        server.startup_lines(),
        [format!("nsx-policy-store listening on {}", server.url)]
    );
}

/// Every answer carries a request id: the client's own when valid, a new one otherwise.
#[tokio::test]
async fn every_answer_carries_its_request_id() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let with_id = |id: &str| {
        client
            .request("GET", &format!("{TRACEFLOWS}/t1"))
            .header("X-Request-Id", id)
    };

    let kept = client.send(with_id("suite-42:step/7")).await;
    assert_eq!(kept.status, 404);
    assert_eq!(kept.request_id.as_deref(), Some("suite-42:step/7"));
    for invalid in ["has space", &"x".repeat(129)] {
        let replaced = client.send(with_id(invalid)).await;
        assert_eq!(replaced.status, 404, "an invalid id is never a 400");
        let made = replaced.request_id.expect("a request id");
        assert_ne!(made, invalid);
        assert_eq!(made.len(), 36, "a new UUID: {made}");
    }
    let first = client.get_path(TRACEFLOWS).await.request_id.unwrap();
    let second = client.get_path(TRACEFLOWS).await.request_id.unwrap();
    assert_ne!(first, second);
    // Refusals and unknown paths too.
    assert!(client.anonymous().get("t1").await.request_id.is_some());
    assert!(client.get_path("/nowhere").await.request_id.is_some());
}

/// `log.format = "json"`: every line is a JSON object, and a request is one line, found by
/// its request id, with its method, route, path, status, duration and user.
#[tokio::test]
async fn a_request_is_one_json_log_line_found_by_its_id() {
    let workspace = Workspace::new();
    workspace.configure("[log]\nformat = \"json\"\n");
    // The harness logs at `warn`; requests are logged at `info`.
    let server = workspace
        .command()
        .env("NSX_POLICY_STORE__LOG__LEVEL", "info")
        .spawn_server();
    let client = &server.client;
    let put = client
        .request("PUT", &format!("{TRACEFLOWS}/t1"))
        .header("X-Request-Id", "json-log-1")
        .json(&minimal());
    assert_eq!(client.send(put).await.status, 200);
    server.terminate();

    let log = workspace.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let mine: Vec<&Value> = lines
        .iter()
        .filter(|line| line["request_id"] == "json-log-1" && line["message"] == "request")
        .collect();
    assert_eq!(mine.len(), 1, "{log}");
    let line = mine[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "PUT");
    assert_eq!(line["route"], OBJECT_ROUTE);
    assert_eq!(line["path"], format!("{TRACEFLOWS}/t1"));
    assert_eq!(line["status"], 200);
    assert_eq!(line["user"], ADMIN.0);
    assert!(
        line["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{line}"
    );
    assert!(line["timestamp"].is_string());
}
