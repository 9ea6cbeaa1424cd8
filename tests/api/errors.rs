//! Every error the service answers is an NSX ApiError (the README's "Errors"): JSON, with the
//! contract's status, httpStatus and error_code, and no internals.

use crate::support::{minimal, SpawnServer, Workspace, TRACEFLOWS};
use serde_json::json;

#[tokio::test]
async fn malformed_bodies_are_400() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let url = format!("{TRACEFLOWS}/t1");
    for body in ["", "{", "{\"a\": }", "nul", "{} {}", "\u{feff}{}"] {
        let request = client
            .request("PUT", &url)
            .header("content-type", "application/json")
            .body(body);
        let message = client.send(request).await.api_error(400, 255);
        assert!(
            message.starts_with("The request body is not valid JSON"),
            "{message}"
        );
    }
    let invalid_utf8 = client
        .request("PUT", &url)
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}']);
    client.send(invalid_utf8).await.api_error(400, 255);
    client.get("t1").await.api_error(404, 600);
}

#[tokio::test]
async fn a_body_must_be_declared_json() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let url = format!("{TRACEFLOWS}/t1");
    let body = minimal().to_string();

    let missing = client.request("PUT", &url).body(body.clone());
    let message = client.send(missing).await.api_error(415, 255);
    assert_eq!(
        message,
        "Content-Type none is not supported; send application/json."
    );

    let wrong = client
        .request("PATCH", &url)
        .header("content-type", "text/plain")
        .body(body.clone());
    client.send(wrong).await.api_error(415, 255);

    let with_charset = client
        .request("PUT", &url)
        .header("content-type", "application/json; charset=utf-8")
        .body(body);
    assert_eq!(client.send(with_charset).await.status, 200);
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;

    for path in [
        "/",
        "/policy/api/v1/infra/no-such-things/s1",
        "/policy/api/v1/infra/antrea/traceflows/t1/extra",
        "/api/v1/infra/antrea/traceflows/t1",
    ] {
        let message = client.get_path(path).await.api_error(404, 600);
        assert!(message.contains(path), "{message}");
    }

    let message = client
        .send(client.request("OPTIONS", &format!("{TRACEFLOWS}/t1")))
        .await
        .api_error(405, 253);
    assert!(message.contains("OPTIONS"), "{message}");
    assert_eq!(
        client
            .send(client.request("HEAD", &format!("{TRACEFLOWS}/t1")))
            .await
            .status,
        405
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_whether_declared_or_streamed() {
    let workspace = Workspace::new();
    let server = workspace
        .command()
        .env("NSX_POLICY_STORE__SERVER__BODY_LIMIT", "2048")
        .spawn_server();
    let client = &server.client;
    let mut body = minimal();
    body["description"] = json!("x".repeat(1000));
    body["payload"] = json!("y".repeat(2000));
    let url = format!("{TRACEFLOWS}/big");

    let declared = client
        .request("PUT", &url)
        .header("content-type", "application/json")
        .body(body.to_string());
    let message = client.send(declared).await.api_error(413, 255);
    assert!(message.contains("2048"), "{message}");

    let chunks: Vec<Result<String, std::io::Error>> = vec![
        Ok(body.to_string()[..1500].to_owned()),
        Ok(body.to_string()[1500..].to_owned()),
    ];
    let streamed = client
        .request("PUT", &url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )));
    client.send(streamed).await.api_error(413, 255);
    client.get("big").await.api_error(404, 600);
}
