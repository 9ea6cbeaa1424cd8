//! Traceflow results (the README's "Traceflow results"): status and observations of every
//! run, simulated or scripted, the scripts themselves, and the probes NSX clients send when
//! they connect.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{minimal, seed_request, Client, Reply, Workspace, AUDITOR, TRACEFLOWS};

fn status_path(id: &str) -> String {
    format!("{TRACEFLOWS}/{id}/status")
}

fn observations_path(id: &str) -> String {
    format!("{TRACEFLOWS}/{id}/observations")
}

fn script_path(id: &str) -> String {
    format!("/store/v1/traceflows/{id}/result")
}

async fn status(client: &Client, id: &str) -> Value {
    let reply = client.get_path(&status_path(id)).await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    reply.body
}

async fn observations(client: &Client, id: &str) -> Value {
    let reply = client.get_path(&observations_path(id)).await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    reply.body
}

async fn put_script(client: &Client, id: &str, script: &Value) -> Reply {
    let request = client
        .request("PUT", &script_path(id))
        .header("content-type", "application/json")
        .body(script.to_string());
    client.send(request).await
}

async fn retrace(client: &Client, id: &str) -> Reply {
    let request = client.request("POST", &format!("{TRACEFLOWS}/{id}?action=retrace"));
    client.send(request).await
}

/// Polls the status until it has a phase, as a client does; panics after `limit`.
async fn wait_for_phase(client: &Client, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let status = status(client, id).await;
        if status.get("phase").is_some() {
            return status;
        }
        assert!(Instant::now() < deadline, "no phase after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn dropped_by_policy() -> Value {
    json!({"status": {"phase": "FAILED", "reason": "dropped by policy"},
           "observations": [
               {"component_type": "ANTREA_SPOOFGUARD", "container_node_id": "node-1",
                "observation_type": "AntreaTraceflowObservationForwarded", "timestamp": 5},
               {"component_type": "ANTREA_DFW", "container_node_id": "node-1",
                "observation_type": "AntreaTraceflowObservationDropped"}]})
}

/// The seed's traceflow, simulated: NSX's shapes, the simulation's invariants, stable
/// node ids.
#[tokio::test]
async fn a_simulated_run_has_nsxs_shapes_and_keeps_every_invariant() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let created = client.put("t14", &seed_request()).await;
    assert_eq!(created.status, 200);
    let started = created.body["_create_time"].as_i64().unwrap();

    assert_eq!(status(client, "t14").await, json!({"phase": "SUCCEEDED"}));
    let list = observations(client, "t14").await;
    let results = list["results"].as_array().unwrap();
    assert_eq!(
        list.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["result_count", "results"]
    );
    assert_eq!(list["result_count"], results.len());
    for observation in results {
        let mut fields: Vec<&String> = observation.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "component_type",
                "container_node_id",
                "observation_type",
                "timestamp"
            ],
            "exactly the four fields of AntreaTraceflowObservation"
        );
    }
    let kind = |o: &Value| (o["component_type"].clone(), o["observation_type"].clone());
    assert_eq!(
        kind(&results[0]),
        (
            json!("ANTREA_SPOOFGUARD"),
            json!("AntreaTraceflowObservationForwarded")
        )
    );
    assert_eq!(
        kind(results.last().unwrap()),
        (
            json!("ANTREA_FORWARDING"),
            json!("AntreaTraceflowObservationDelivered")
        ),
        "with a destination pod, the path ends delivered"
    );
    let times: Vec<i64> = results
        .iter()
        .map(|o| o["timestamp"].as_i64().unwrap())
        .collect();
    assert!(times[0] >= started, "not before the run started");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let nodes: Vec<&str> = results
        .iter()
        .map(|o| o["container_node_id"].as_str().unwrap())
        .collect();
    if nodes.first() != nodes.last() {
        let received = results
            .iter()
            .position(|o| o["observation_type"] == "AntreaTraceflowObservationReceived")
            .expect("a path across nodes is received on the second node");
        assert_eq!(nodes[received], *nodes.last().unwrap());
    }

    // The same config on another id, and after a retrace: the same nodes.
    assert_eq!(client.put("t15", &seed_request()).await.status, 200);
    assert_eq!(retrace(client, "t14").await.status, 200);
    for id in ["t14", "t15"] {
        let again = observations(client, id).await;
        let again_nodes: Vec<&str> = again["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["container_node_id"].as_str().unwrap())
            .collect();
        assert_eq!(again_nodes, nodes, "{id}: stable node ids");
    }

    // Without a destination pod the path leaves the source's node, forwarded.
    let mut body = seed_request();
    body.as_object_mut()
        .unwrap()
        .remove("destination_external_id");
    assert_eq!(client.put("to-an-address", &body).await.status, 200);
    let list = observations(client, "to-an-address").await;
    let results = list["results"].as_array().unwrap();
    assert_eq!(kind(&results[0]).0, "ANTREA_SPOOFGUARD");
    assert!(results
        .iter()
        .all(|o| o["observation_type"] != "AntreaTraceflowObservationDelivered"));
}

#[tokio::test]
async fn an_absent_traceflow_is_404_and_sub_resources_have_only_get() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    for path in [status_path("absent"), observations_path("absent")] {
        let message = client.get_path(&path).await.api_error(404, 600);
        assert_eq!(
            message,
            "The requested object : /infra/antrea/traceflows/absent could not be found. \
             Object identifiers are case sensitive."
        );
    }
    assert_eq!(client.put("t14", &minimal()).await.status, 200);
    for path in [status_path("t14"), observations_path("t14")] {
        for method in ["PUT", "POST", "DELETE", "PATCH"] {
            let reply = client.send(client.request(method, &path)).await;
            reply.api_error(405, 253);
        }
        // The one parameter NSX takes is accepted; the auditor may read.
        let with_point = format!(
            "{path}?enforcement_point_path=/infra/sites/default/enforcement-points/default"
        );
        assert_eq!(client.get_path(&with_point).await.status, 200);
        assert_eq!(client.as_user(AUDITOR).get_path(&path).await.status, 200);
        let reply = client.anonymous().get_path(&path).await;
        reply.api_error(403, 403);
    }
    // A sub-resource's id is its own segment, not the last one.
    client
        .get_path(&format!("{TRACEFLOWS}/a%2Fb/status"))
        .await
        .field_error("id");
}

/// Each create, replace, PATCH and retrace starts a run; runs change neither `_revision` nor
/// the history; a DELETE takes the runs with it.
#[tokio::test]
async fn every_write_and_retrace_starts_a_run_that_leaves_the_config_alone() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    // A script with a delay shows when a run starts: its status is {} again for a while.
    let mut slow = dropped_by_policy();
    slow["delay_ms"] = json!(1000);
    assert_eq!(put_script(client, "t14", &slow).await.status, 200);

    let started_a_run = |what: &'static str, reply: Reply| async move {
        assert_eq!(reply.status, 200, "{what}: {reply:#?}");
        assert_eq!(
            status(client, "t14").await,
            json!({}),
            "{what} started a run"
        );
        let list = observations(client, "t14").await;
        assert_eq!(list, json!({"results": [], "result_count": 0}), "{what}");
        let phase = wait_for_phase(client, "t14", Duration::from_secs(5)).await;
        assert_eq!(
            phase,
            json!({"phase": "FAILED", "reason": "dropped by policy"})
        );
    };
    started_a_run("create", client.put("t14", &minimal()).await).await;
    let mut body = client.get("t14").await.body;
    body["description"] = json!("replaced");
    started_a_run("replace", client.put("t14", &body).await).await;
    let patch = json!({"description": "patched"});
    started_a_run("patch", client.patch("t14", &patch).await).await;
    started_a_run("retrace", retrace(client, "t14").await).await;
    let object = client.get("t14").await.body;
    assert_eq!(
        object["_revision"], 2,
        "create, replace, patch: a retrace is no revision"
    );
    let history = client.history("/infra/antrea/traceflows/t14").await;
    assert_eq!(history.len(), 3);

    assert_eq!(client.delete("t14").await.status, 200);
    client
        .get_path(&status_path("t14"))
        .await
        .api_error(404, 600);
    retrace(client, "t14").await.api_error(404, 600);
    // The script outlives the traceflow: a new create is shaped by it.
    assert_eq!(client.put("t14", &minimal()).await.status, 200);
    let phase = wait_for_phase(client, "t14", Duration::from_secs(5)).await;
    assert_eq!(phase["reason"], "dropped by policy");
}

/// `traceflow.result_delay_ms`: `{}` and no observations first, then the result.
#[tokio::test]
async fn a_simulated_result_arrives_after_its_delay() {
    let workspace = Workspace::new();
    workspace.configure("\n[traceflow]\nresult_delay_ms = 1000\n");
    let server = workspace.start();
    let client = &server.client;
    let started = Instant::now();
    assert_eq!(client.put("t14", &seed_request()).await.status, 200);
    assert_eq!(status(client, "t14").await, json!({}));
    assert_eq!(
        observations(client, "t14").await,
        json!({"results": [], "result_count": 0})
    );
    let phase = wait_for_phase(client, "t14", Duration::from_secs(5)).await;
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert_eq!(phase, json!({"phase": "SUCCEEDED"}));
    assert!(observations(client, "t14").await["result_count"].as_u64() > Some(0));
}

/// `traceflow.results = "none"`: nothing until the traceflow's own timeout, then FAILED with
/// "Traceflow timeout" and no observations.
#[tokio::test]
async fn without_results_a_run_times_out_after_its_own_timeout() {
    let workspace = Workspace::new();
    workspace.configure("\n[traceflow]\nresults = \"none\"\n");
    let server = workspace.start();
    let client = &server.client;
    let mut body = minimal();
    body["timeout"] = json!(1);
    let started = Instant::now();
    assert_eq!(client.put("t14", &body).await.status, 200);
    assert_eq!(status(client, "t14").await, json!({}));
    let phase = wait_for_phase(client, "t14", Duration::from_secs(5)).await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        phase,
        json!({"phase": "FAILED", "reason": "Traceflow timeout"})
    );
    assert_eq!(
        observations(client, "t14").await,
        json!({"results": [], "result_count": 0})
    );
}

#[tokio::test]
async fn scripts_are_validated_kept_and_only_for_admins() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    client
        .get_path(&script_path("t14"))
        .await
        .api_error(404, 600);

    // Set before the traceflow exists; answered with its defaults.
    let reply = put_script(client, "t14", &dropped_by_policy()).await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    let mut expected = dropped_by_policy();
    expected["delay_ms"] = json!(0);
    assert_eq!(reply.body, expected);
    assert_eq!(client.get_path(&script_path("t14")).await.body, expected);

    // Invalid scripts: 400 naming the field, and nothing changes.
    let invalid = [
        (json!({}), "status"),
        (json!({"status": {"phase": "RUNNING"}}), "status.phase"),
        (
            json!({"status": {"phase": "SUCCEEDED"}, "observations": [{}]}),
            "observations[0].observation_type",
        ),
        (
            json!({"status": {"phase": "SUCCEEDED"},
                   "observations": [{"observation_type": "AntreaTraceflowObservationDropped",
                                     "component_type": "ANTREA_NAT"}]}),
            "observations[0].component_type",
        ),
        (
            json!({"status": {"phase": "SUCCEEDED"},
                   "observations": [{"observation_type": "AntreaTraceflowObservationDropped",
                                     "timestamp": 1, "hops": 2}]}),
            "observations[0].hops",
        ),
        (
            json!({"status": {"phase": "SUCCEEDED"}, "delay_ms": -5}),
            "delay_ms",
        ),
        (
            json!({"status": {"phase": "SUCCEEDED"}, "extra": true}),
            "extra",
        ),
    ];
    for (script, field) in invalid {
        put_script(client, "t14", &script).await.field_error(field);
    }
    let not_json = client
        .request("PUT", &script_path("t14"))
        .header("content-type", "application/json")
        .body("{");
    client.send(not_json).await.api_error(400, 255);
    assert_eq!(client.get_path(&script_path("t14")).await.body, expected);

    // Only an enterprise_admin changes scripts; an auditor reads them.
    let auditor = client.as_user(AUDITOR);
    put_script(&auditor, "t14", &json!({"status": {"phase": "SUCCEEDED"}}))
        .await
        .api_error(403, 401);
    let delete = auditor.request("DELETE", &script_path("t14"));
    auditor.send(delete).await.api_error(403, 401);
    assert_eq!(auditor.get_path(&script_path("t14")).await.body, expected);

    // Kept across a restart, and shaping the run of a traceflow created after it.
    drop(server);
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.get_path(&script_path("t14")).await.body, expected);
    assert_eq!(client.put("t14", &minimal()).await.status, 200);
    assert_eq!(
        status(client, "t14").await,
        json!({"phase": "FAILED", "reason": "dropped by policy"})
    );
    let list = observations(client, "t14").await;
    assert_eq!(list["result_count"], 2);
    assert_eq!(
        list["results"][0]["timestamp"], 5,
        "a given timestamp is kept"
    );
    let created = client.get("t14").await.body["_create_time"]
        .as_i64()
        .unwrap();
    assert!(
        list["results"][1]["timestamp"].as_i64().unwrap() >= created,
        "a missing one is the run's"
    );

    // Deleting the script leaves the current run; the next run is simulated again.
    for _ in 0..2 {
        let reply = client
            .send(client.request("DELETE", &script_path("t14")))
            .await;
        assert_eq!((reply.status, reply.body), (200, Value::Null), "idempotent");
    }
    client
        .get_path(&script_path("t14"))
        .await
        .api_error(404, 600);
    assert_eq!(status(client, "t14").await["phase"], "FAILED");
    assert_eq!(retrace(client, "t14").await.status, 200);
    assert_eq!(status(client, "t14").await, json!({"phase": "SUCCEEDED"}));
}

/// A script set for an existing traceflow applies to its current run at once, clock
/// restarted; runs and results survive a restart unchanged.
#[tokio::test]
async fn a_script_shapes_the_current_run_and_runs_survive_restarts() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.put("t14", &seed_request()).await.status, 200);
    assert_eq!(status(client, "t14").await["phase"], "SUCCEEDED");
    let mut delayed = dropped_by_policy();
    delayed["delay_ms"] = json!(1000);
    assert_eq!(put_script(client, "t14", &delayed).await.status, 200);
    assert_eq!(
        status(client, "t14").await,
        json!({}),
        "the clock restarted"
    );
    wait_for_phase(client, "t14", Duration::from_secs(5)).await;
    assert_eq!(client.put("t15", &seed_request()).await.status, 200);
    let before = (
        observations(client, "t14").await,
        observations(client, "t15").await,
    );

    server.terminate();
    let server = workspace.start();
    let client = &server.client;
    let after = (
        observations(client, "t14").await,
        observations(client, "t15").await,
    );
    assert_eq!(before, after, "the same runs, result for result");
    assert_eq!(status(client, "t14").await["reason"], "dropped by policy");
}

#[tokio::test]
async fn the_probes_of_connecting_clients_answer() {
    let workspace = Workspace::new();
    workspace.configure("\n[nsx]\nversion = \"4.2.1.0.0\"\n");
    let server = workspace.start();
    let client = &server.client;
    let version = client.get_path("/api/v1/node/version").await;
    assert_eq!(
        version.body,
        json!({"node_version": "4.2.1.0.0", "product_version": "4.2.1.0.0"})
    );
    let node = client.as_user(AUDITOR).get_path("/api/v1/node").await;
    assert_eq!(node.status, 200);
    assert_eq!(node.body["node_version"], "4.2.1.0.0");
    assert_eq!(node.body["product_version"], "4.2.1.0.0");
    assert!(!node.body["hostname"].as_str().unwrap().is_empty());
    let health = client.get_path("/api/v1/reverse-proxy/node/health").await;
    assert_eq!(health.body, json!({"healthy": true}));
    for path in [
        "/api/v1/node/version",
        "/api/v1/node",
        "/api/v1/reverse-proxy/node/health",
    ] {
        client.anonymous().get_path(path).await.api_error(403, 403);
        client
            .send(client.request("POST", path))
            .await
            .api_error(405, 253);
    }

    // The default version.
    let plain = Workspace::new();
    let server = plain.start();
    let version = server.client.get_path("/api/v1/node/version").await;
    assert_eq!(version.body["node_version"], "9.1.1.0.0");
}

#[tokio::test]
async fn earlier_runs_are_kept_until_the_traceflow_goes() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let runs = |id: &str| format!("/store/v1/traceflows/{id}/runs");
    client.get_path(&runs("t1")).await.api_error(404, 600);
    assert_eq!(client.put("t1", &seed_request()).await.status, 200);
    assert_eq!(client.get_path(&runs("t1")).await.body["result_count"], 0);
    let first = observations(client, "t1").await;

    // A retrace, a PATCH: each new run keeps the one it replaces, as it was; a script set
    // meanwhile restarts the current run and keeps nothing.
    assert_eq!(retrace(client, "t1").await.status, 200);
    let patched = client.patch("t1", &json!({"description": "x"})).await;
    assert_eq!(patched.status, 200);
    let script = json!({"status": {"phase": "FAILED", "reason": "scripted"}});
    assert_eq!(put_script(client, "t1", &script).await.status, 200);
    let earlier = client.get_path(&runs("t1")).await.body;
    assert_eq!(earlier["result_count"], 2, "{earlier}");
    let numbers: Vec<&Value> = earlier["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| &run["run"])
        .collect();
    assert_eq!(numbers, [&json!(2), &json!(1)], "newest first");
    assert_eq!(earlier["results"][1]["observations"], first["results"]);
    assert_eq!(
        earlier["results"][1]["status"],
        json!({"phase": "SUCCEEDED"})
    );
    assert_eq!(
        status(client, "t1").await,
        json!({"phase": "FAILED", "reason": "scripted"})
    );

    // An auditor reads them; a restart and a snapshot keep them; a delete takes them.
    let auditor = client.as_user(AUDITOR);
    assert_eq!(auditor.get_path(&runs("t1")).await.body, earlier);
    let saved = client.call("PUT", "/store/v1/snapshots/runs", None).await;
    assert_eq!(saved.status, 200);
    server.terminate();
    let server = workspace.start();
    let client = &server.client;
    assert_eq!(client.get_path(&runs("t1")).await.body, earlier);
    assert_eq!(client.delete("t1").await.status, 200);
    assert_eq!(client.put("t1", &seed_request()).await.status, 200);
    assert_eq!(
        client.get_path(&runs("t1")).await.body["result_count"],
        0,
        "a new traceflow starts afresh"
    );
    let restored = client
        .call("POST", "/store/v1/snapshots/runs?action=restore", None)
        .await;
    assert_eq!(restored.status, 200);
    assert_eq!(client.get_path(&runs("t1")).await.body, earlier);
}
