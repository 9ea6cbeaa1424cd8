//! The request journal: what each client sent and what it got, kept in memory and bounded,
//! filtered, paged and streamed under `/store/v1/requests`; bodies only when the setting
//! asks for them, and only for an `enterprise_admin`; never a secret.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::support::{minimal, Client, Workspace, ADMIN, AUDITOR};

/// Every entry the filter `query` keeps, newest first, through every page.
async fn journal(client: &Client, query: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = client
            .get_path(&format!("/store/v1/requests?page_size=2{query}{cursor}"))
            .await;
        assert_eq!(reply.status, 200, "{query}: {reply:#?}");
        entries.extend(reply.body["results"].as_array().unwrap().iter().cloned());
        match reply.body["cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return entries,
        }
    }
}

fn paths(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|entry| entry["path"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_journal_tells_what_each_request_sent_and_got() {
    let workspace = Workspace::new();
    workspace.configure("[journal]\ncapacity = 8\n");
    let server = workspace.start();
    let client = &server.client;
    let since = chrono::Utc::now().timestamp_millis();
    let created = client
        .policy("PUT", "/infra/segments/web", Some(&json!({})))
        .await;
    let missing = client.policy("GET", "/infra/segments/nope", None).await;
    missing.api_error(404, 600);
    let refused = client.as_user(AUDITOR).put("t1", &minimal()).await;
    refused.api_error(403, 401);

    // Newest first, with what each was answered.
    let entries = journal(client, &format!("&since={since}")).await;
    assert_eq!(
        paths(&entries),
        [
            "/policy/api/v1/infra/antrea/traceflows/t1",
            "/policy/api/v1/infra/segments/nope",
            "/policy/api/v1/infra/segments/web"
        ]
    );
    let [denied, not_found, put] = &entries[..] else {
        unreachable!()
    };
    assert_eq!(
        (&denied["user"], &denied["status"], &denied["error_code"]),
        (&json!(AUDITOR.0), &json!(403), &json!(401))
    );
    assert_eq!(not_found["method"], "GET");
    assert_eq!(
        (&not_found["status"], &not_found["error_code"]),
        (&json!(404), &json!(600))
    );
    assert_eq!(
        not_found["request_id"].as_str(),
        missing.request_id.as_deref()
    );
    assert_eq!((&put["status"], put.get("error_code")), (&json!(200), None));
    assert_eq!(put["user"], ADMIN.0);
    assert!(put["duration_ms"].as_f64().unwrap() > 0.0);
    assert!(put["time"].as_i64().unwrap() >= since);
    assert!(
        put.get("request_body").is_none(),
        "bodies are off by default"
    );
    assert_eq!(created.request_id.as_deref(), put["request_id"].as_str());

    // Filters: by status or its class, path glob, method, user.
    let only = |query: &'static str| async move { journal(client, query).await };
    assert_eq!(
        paths(&only("&status=404").await),
        ["/policy/api/v1/infra/segments/nope"]
    );
    assert_eq!(only("&status=4xx").await.len(), 2);
    assert_eq!(
        paths(&only("&path=/policy/api/v1/infra/segments/*&method=put").await),
        ["/policy/api/v1/infra/segments/web"]
    );
    assert_eq!(only("&path=/policy/**&user=audrey").await.len(), 1);
    for (query, field) in [
        ("status=600", "status"),
        ("since=later", "since"),
        ("page_size=1001", "page_size"),
        ("cursor=abc", "cursor"),
        ("path=%5B", "path"),
    ] {
        client
            .get_path(&format!("/store/v1/requests?{query}"))
            .await
            .field_error(field);
    }

    // A fault rule that shapes an answer is named; the journal itself is never a rule's.
    let rule = json!({"match": {"path": "/policy/api/v1/infra/segments/*"},
        "error": {"status": 503, "error_code": 99, "error_message": "down"}});
    let added = client.call("POST", "/store/v1/faults", Some(&rule)).await;
    assert_eq!(added.status, 200, "{added:#?}");
    client
        .policy("GET", "/infra/segments/web", None)
        .await
        .api_error(503, 99);
    let injected = &only("&status=503").await[0];
    assert_eq!(injected["fault_rule"], added.body["id"]);
    assert_eq!(injected["error_code"], 99);
    let everything = json!({"match": {"path": "/**"}, "error": {"status": 500, "error_code": 100,
        "error_message": "all down"}});
    assert_eq!(
        client
            .call("POST", "/store/v1/faults", Some(&everything))
            .await
            .status,
        200
    );
    assert_eq!(client.get_path("/store/v1/requests").await.status, 200);
    assert_eq!(
        client.call("DELETE", "/store/v1/faults", None).await.status,
        200
    );

    // Bounded: the newest eight are kept. Cleared by an admin only.
    for _ in 0..3 {
        assert_eq!(
            client
                .policy("GET", "/infra/segments/web", None)
                .await
                .status,
            200
        );
    }
    let kept = journal(client, "").await;
    assert_eq!(kept.len(), 8, "{:#?}", paths(&kept));
    client
        .as_user(AUDITOR)
        .call("DELETE", "/store/v1/requests", None)
        .await
        .api_error(403, 401);
    assert_eq!(
        client
            .call("DELETE", "/store/v1/requests", None)
            .await
            .status,
        200
    );
    // The journal's own requests (the clears, these reads) are not kept.
    assert!(journal(client, "").await.is_empty());
}

/// The stream tells each request the filters keep as it is answered, to any reader.
#[tokio::test]
async fn the_journal_streams_requests_as_they_are_answered() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let response = client
        .as_user(AUDITOR)
        .request("GET", "/store/v1/requests/stream?status=4xx")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let ok = client
        .policy("PUT", "/infra/segments/a", Some(&json!({})))
        .await;
    assert_eq!(ok.status, 200);
    let missing = client.policy("GET", "/infra/segments/none", None).await;
    missing.api_error(404, 600);
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let complete = text.rfind("\n\n").map_or("", |end| &text[..end]);
            if let Some(event) = complete
                .split("\n\n")
                .find(|block| block.contains("event: request"))
            {
                return event.to_owned();
            }
            let chunk = body.next().await.expect("the stream goes on").unwrap();
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await
    .expect("the 404 was told");
    let data: Value = serde_json::from_str(
        event
            .lines()
            .find_map(|line| line.strip_prefix("data: "))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(data["path"], "/policy/api/v1/infra/segments/none");
    assert_eq!(
        (&data["status"], &data["error_code"]),
        (&json!(404), &json!(600))
    );
    assert!(event.contains(&format!("id: {}", data["id"])), "{event}");
}

/// With `journal.bodies`, an admin sees what was sent and answered, up to the limit, with
/// every secret redacted; an auditor sees no body; no password, cookie, token or
/// `Authorization` value is anywhere in the journal.
#[tokio::test]
async fn bodies_are_kept_on_request_redacted_and_shown_to_admins_only() {
    let workspace = Workspace::new();
    workspace.configure("[journal]\nbodies = true\nbody_limit = 200\n");
    let server = workspace.start();
    let client = &server.client;
    let body = json!({"description": "with a secret", "tags": [{"scope": "s", "tag": "t"}],
        "bind_password": "hunter2-in-a-body"});
    // Refused for its unknown field: what was sent is what matters.
    let sent = client
        .policy("PUT", "/infra/segments/secretive", Some(&body))
        .await;
    assert_eq!(sent.status, 400, "{sent:#?}");
    let long = json!({"description": "x".repeat(500)});
    let put = client
        .policy("PUT", "/infra/segments/long", Some(&long))
        .await;
    assert_eq!(put.status, 200);
    // A login by form, then requests with its cookie and token.
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = http
        .post(client.url("/api/session/create"))
        .form(&[("j_username", ADMIN.0), ("j_password", ADMIN.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.headers()["x-xsrf-token"].to_str().unwrap().to_owned();
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(";");
    let session = http
        .get(client.url("/policy/api/v1/infra/segments/long?j_password=in-a-query"))
        .header("X-XSRF-TOKEN", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);

    let admin_view = client.get_path("/store/v1/requests").await;
    let text = admin_view.text.clone();
    for secret in [
        ADMIN.1,
        "hunter2-in-a-body",
        "in-a-query",
        token.as_str(),
        cookie.split(['=', ';']).nth(1).unwrap(),
    ] {
        assert!(!text.contains(secret), "{secret} is in the journal: {text}");
    }
    let entries = admin_view.body["results"].as_array().unwrap();
    let find = |path: &str, method: &str| {
        entries
            .iter()
            .find(|entry| entry["path"] == path && entry["method"] == method)
            .unwrap_or_else(|| panic!("{method} {path} in {entries:#?}"))
    };
    let secretive = find("/policy/api/v1/infra/segments/secretive", "PUT");
    let sent: Value =
        serde_json::from_str(secretive["request_body"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(sent["bind_password"], "[REDACTED]");
    assert_eq!(sent["description"], "with a secret");
    assert!(secretive["response_body"]["text"]
        .as_str()
        .unwrap()
        .contains("bind_password"));
    let long_put = find("/policy/api/v1/infra/segments/long", "PUT");
    assert_eq!(long_put["request_body"]["truncated"], true);
    assert_eq!(
        long_put["request_body"]["text"].as_str().unwrap().len(),
        200
    );
    let login = find("/api/session/create", "POST");
    assert_eq!(
        login["request_body"]["text"],
        "j_username=admin&j_password=[REDACTED]"
    );
    let by_session = entries
        .iter()
        .find(|entry| {
            entry["query"]
                .as_str()
                .is_some_and(|q| q.contains("j_password"))
        })
        .expect("the session's GET");
    assert_eq!(by_session["query"], "j_password=[REDACTED]");
    assert_eq!(by_session["user"], ADMIN.0);

    let auditor_view = client.as_user(AUDITOR).get_path("/store/v1/requests").await;
    assert_eq!(auditor_view.status, 200);
    let entries = auditor_view.body["results"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "the four requests above");
    assert!(
        entries.iter().all(
            |entry| entry.get("request_body").is_none() && entry.get("response_body").is_none()
        ),
        "an auditor sees no body"
    );
}
