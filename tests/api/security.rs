//! Authentication, roles, sessions, TLS and limits (the README's "Authentication").

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    minimal, Client, Reply, SpawnServer, Workspace, ADMIN, AUDITOR, BIN, TRACEFLOWS,
};
use serde_json::json;

const BAD_CREDENTIALS: &str =
    "The credentials were incorrect or the account specified has been locked.";

const SCRIPT: &str = "/store/v1/traceflows/t14/result";

/// Every operation of the README, with whether it needs more than the `read` permission.
fn operations() -> Vec<(&'static str, String, bool)> {
    let object = format!("{TRACEFLOWS}/t14");
    vec![
        ("GET", object.clone(), false),
        ("GET", TRACEFLOWS.to_owned(), false),
        ("POST", format!("{object}?action=retrace"), false),
        ("GET", format!("{object}/status"), false),
        ("GET", format!("{object}/observations"), false),
        (
            "GET",
            "/store/v1/revisions?path=/infra/antrea/traceflows/t14".to_owned(),
            false,
        ),
        ("GET", SCRIPT.to_owned(), false),
        ("GET", "/api/v1/node/version".to_owned(), false),
        ("GET", "/api/v1/node".to_owned(), false),
        ("GET", "/api/v1/reverse-proxy/node/health".to_owned(), false),
        ("PUT", object.clone(), true),
        ("PATCH", object.clone(), true),
        ("DELETE", object, true),
        ("PUT", SCRIPT.to_owned(), true),
        ("DELETE", SCRIPT.to_owned(), true),
    ]
}

fn script() -> serde_json::Value {
    json!({"status": {"phase": "SUCCEEDED"}})
}

async fn call(client: &Client, method: &str, path: &str) -> Reply {
    let mut request = client.request(method, path);
    if matches!(method, "PUT" | "PATCH") {
        let body = if path == SCRIPT {
            script()
        } else {
            let mut body = minimal();
            body["_revision"] = json!(0);
            body
        };
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    client.send(request).await
}

fn assert_forbidden(reply: &Reply, error_code: u64) -> String {
    let message = reply.api_error(403, error_code);
    assert_eq!(reply.body["httpStatus"], "FORBIDDEN");
    assert_eq!(reply.body["module_name"], "common-services");
    message
}

#[tokio::test]
async fn every_operation_for_every_kind_of_caller() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let admin = &server.client;
    let callers = [
        ("no credentials", admin.anonymous()),
        ("wrong password", admin.as_user((ADMIN.0, "guess"))),
        ("unknown user", admin.as_user(("mallory", ADMIN.1))),
        ("auditor", admin.as_user(AUDITOR)),
        ("admin", admin.clone()),
    ];
    for (caller, client) in &callers {
        for (method, path, needs_crud) in operations() {
            // Each cell starts from the same state: t14 at revision 0, with a script.
            admin.delete("t14").await;
            assert_eq!(admin.put("t14", &minimal()).await.status, 200);
            assert_eq!(call(admin, "PUT", SCRIPT).await.status, 200);
            let before = (
                admin.get("t14").await.body,
                admin.get_path(SCRIPT).await.body,
            );

            let reply = call(client, method, &path).await;
            let cell = format!("{caller} × {method} {path}");
            match *caller {
                "no credentials" | "wrong password" | "unknown user" => {
                    let message = assert_forbidden(&reply, 403);
                    assert_eq!(message, BAD_CREDENTIALS, "{cell}");
                }
                "auditor" if needs_crud => {
                    // Not 403: NSX clients read that code as bad credentials and log in again.
                    let message = assert_forbidden(&reply, 401);
                    for named in ["'audrey'", "'auditor'", "'crud'", method] {
                        assert!(message.contains(named), "{cell}: {message}");
                    }
                }
                _ => assert_eq!(reply.status, 200, "{cell}: {reply:#?}"),
            }
            if reply.status != 200 {
                let after = (
                    admin.get("t14").await.body,
                    admin.get_path(SCRIPT).await.body,
                );
                assert_eq!(after, before, "{cell} changed nothing");
            }
        }
    }
    // Authentication comes first: an unknown path without credentials is still a 403.
    let reply = admin.anonymous().get_path("/no/such/path").await;
    assert_forbidden(&reply, 403);
    admin.get_path("/no/such/path").await.api_error(404, 600);
}

#[tokio::test]
async fn writes_record_the_authenticated_user() {
    let workspace = Workspace::new();
    workspace.configure(
        "\n[[auth.users]]\nname = \"operator\"\nrole = \"enterprise_admin\"\npassword = \"op\"\n",
    );
    let server = workspace.start();
    let operator = server.client.as_user(("operator", "op"));
    let created = operator.put("t14", &minimal()).await.body;
    assert_eq!(created["_create_user"], "operator");
    assert_eq!(created["_last_modified_user"], "operator");
    assert_eq!(
        server
            .client
            .patch("t14", &json!({"description": "x"}))
            .await
            .status,
        200
    );
    let patched = server.client.get("t14").await.body;
    assert_eq!(patched["_create_user"], "operator");
    assert_eq!(patched["_last_modified_user"], "admin");
    let history = server.client.history("/infra/antrea/traceflows/t14").await;
    assert_eq!(history.last().unwrap()["change_user"], "admin");
}

/// A client that keeps cookies, as a browser or the SDK's session does.
fn cookie_client(url: &str) -> Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    Client::with_http(url, http).anonymous()
}

/// `POST /api/session/create` with the login form.
fn login_request(client: &Client, (name, password): (&str, &str)) -> reqwest::RequestBuilder {
    let form = format!("j_username={name}&j_password={password}");
    client
        .request("POST", "/api/session/create")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
}

async fn login(client: &Client, user: (&str, &str)) -> Reply {
    client.send(login_request(client, user)).await
}

#[tokio::test]
async fn the_session_life_cycle() {
    let workspace = Workspace::new();
    workspace.configure("\n[auth]\nsession_idle_timeout_secs = 1\n");
    let server = workspace.start();
    let client = cookie_client(&server.url);

    assert_forbidden(&login(&client, (ADMIN.0, "wrong")).await, 403);
    assert_forbidden(&login(&client, ("", "")).await, 403);

    let reply = login(&client, ADMIN).await;
    assert_eq!(reply.status, 200, "{reply:#?}");
    let xsrf = reply_header(&client, ADMIN).await;

    let with_token = |path: &str| {
        client
            .request("GET", path)
            .header("X-XSRF-TOKEN", xsrf.clone())
    };
    let url = format!("{TRACEFLOWS}/t14");
    assert_eq!(
        client.put("t14", &minimal()).await.status,
        403,
        "the cookie alone is not enough"
    );
    let put = client
        .request("PUT", &url)
        .header("X-XSRF-TOKEN", xsrf.clone())
        .header("content-type", "application/json")
        .body(minimal().to_string());
    let created = client.send(put).await;
    assert_eq!(created.status, 200, "{created:#?}");
    assert_eq!(created.body["_create_user"], "admin");
    assert_eq!(client.send(with_token(&url)).await.status, 200);

    // Cookie without its token, or with another: 403 with error code 98, saying which.
    let message = assert_forbidden(&client.send(client.request("GET", &url)).await, 98);
    assert!(message.contains("without its X-XSRF-TOKEN"), "{message}");
    let forged = client.request("GET", &url).header("X-XSRF-TOKEN", "forged");
    let message = assert_forbidden(&client.send(forged).await, 98);
    assert!(
        message.contains("is not the token of its session"),
        "{message}"
    );

    // Destroy, then the session is gone.
    let destroy = client
        .request("POST", "/api/session/destroy")
        .header("X-XSRF-TOKEN", xsrf.clone());
    assert_eq!(client.send(destroy).await.status, 200);
    let message = assert_forbidden(&client.send(with_token(&url)).await, 403);
    assert_eq!(message, BAD_CREDENTIALS);

    // An idle session expires.
    let idle = cookie_client(&server.url);
    let xsrf = reply_header(&idle, AUDITOR).await;
    let read = || {
        idle.request("GET", &url)
            .header("X-XSRF-TOKEN", xsrf.clone())
    };
    assert_eq!(idle.send(read()).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_forbidden(&idle.send(read()).await, 403);
}

/// Logs in and returns the X-XSRF-TOKEN header of the answer.
async fn reply_header(client: &Client, user: (&str, &str)) -> String {
    let response = login_request(client, user).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("JSESSIONID=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    response
        .headers()
        .get("x-xsrf-token")
        .expect("X-XSRF-TOKEN header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Starts a TLS server; returns it with the certificate path and fingerprint it logged.
fn start_tls(workspace: &Workspace) -> (crate::support::Server, std::path::PathBuf, String) {
    let server = workspace
        .command()
        .arg("--tls")
        .env("NSX_POLICY_STORE__LOG__LEVEL", "info")
        .spawn_server();
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    assert_eq!(server.startup_lines().len(), 1, "one line on stdout");
    let log = workspace.log();
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("TLS certificate"))
        .unwrap();
    let field = |name: &str| {
        let value = line.split(&format!(" {name}=")).nth(1).unwrap();
        value
            .split(' ')
            .next()
            .unwrap()
            .trim_matches('"')
            .to_owned()
    };
    // Relative to the server's folder, the workspace, when it is not absolute.
    let certificate = workspace.path().join(field("certificate"));
    (server, certificate, field("sha256"))
}

fn tls_client(url: &str, certificate: &std::path::Path) -> Client {
    let pem = std::fs::read(certificate).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    Client::with_http(url, http)
}

fn sha256_fingerprint(pem_file: &std::path::Path) -> String {
    use rustls::pki_types::pem::PemObject;
    use sha2::Digest;
    let der = rustls::pki_types::CertificateDer::from_pem_file(pem_file).unwrap();
    sha2::Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test]
async fn https_with_the_generated_certificate() {
    let workspace = Workspace::new();
    let (server, certificate, fingerprint) = start_tls(&workspace);
    assert_eq!(
        certificate,
        workspace.generated_certificate(),
        "beside the store"
    );
    assert_eq!(fingerprint, sha256_fingerprint(&certificate));

    let client = tls_client(&server.url, &certificate);
    assert_eq!(client.put("t14", &minimal()).await.status, 200);
    assert_eq!(client.get("t14").await.body["id"], "t14");
    let by_name = tls_client(&server.url.replace("127.0.0.1", "localhost"), &certificate);
    assert_eq!(
        by_name.get("t14").await.status,
        200,
        "the certificate names localhost too"
    );

    // Plain HTTP to the HTTPS port gets no answer it could mistake for success.
    let plain = Client::new(&server.url.replace("https", "http"));
    let attempt = plain
        .request("GET", &format!("{TRACEFLOWS}/t14"))
        .send()
        .await;
    assert!(attempt.map_or(true, |r| r.status() != 200));

    // A restart keeps the certificate.
    server.kill();
    let (server, again, fingerprint_again) = start_tls(&workspace);
    assert_eq!(
        (again, fingerprint_again),
        (certificate.clone(), fingerprint)
    );
    let client = tls_client(&server.url, &certificate);
    assert_eq!(client.get("t14").await.status, 200);
    let name = certificate.file_name().unwrap().to_string_lossy();
    let key = certificate.with_file_name(name.replace("-cert.pem", "-key.pem"));
    let mode = std::fs::metadata(key).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
}

#[tokio::test]
async fn https_with_ones_own_certificate() {
    let workspace = Workspace::new();
    let own = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = workspace.path().join("own-cert.pem");
    let key = workspace.path().join("own-key.pem");
    std::fs::write(&cert, own.cert.pem()).unwrap();
    std::fs::write(&key, own.key_pair.serialize_pem()).unwrap();
    workspace.configure(&format!(
        "\n[server]\ntls = true\ntls_cert = {cert:?}\ntls_key = {key:?}\n"
    ));
    let server = workspace.command().spawn_server();
    assert!(server.url.starts_with("https://"));
    let client = tls_client(&server.url, &cert);
    assert_eq!(client.put("t14", &minimal()).await.status, 200);
    assert!(
        !workspace.generated_certificate().exists(),
        "nothing generated"
    );
}

#[test]
fn the_default_password_stays_on_this_machine() {
    let workspace = Workspace::new();
    // The shipped configuration (no --config): fine on loopback, refused beyond it.
    let loopback = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(workspace.store())
        .current_dir(workspace.path())
        .stderr(Stdio::null())
        .spawn_server();
    drop(loopback);
    let output = Command::new(BIN)
        .args(["--listen", "0.0.0.0:0", "--database"])
        .arg(workspace.store())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("default password") && stderr.contains("admin"),
        "{stderr}"
    );

    // With passwords of one's own, any address will do.
    let anywhere = workspace
        .command()
        .args(["--listen", "0.0.0.0:0"])
        .spawn_server();
    assert!(
        anywhere.url.starts_with("http://0.0.0.0:"),
        "{}",
        anywhere.url
    );
}

#[tokio::test]
async fn hash_password_prints_a_hash_the_server_accepts() {
    let mut child = Command::new(BIN)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let workspace = Workspace::new();
    workspace.configure(&format!(
        "\n[[auth.users]]\nname = \"hashed\"\nrole = \"auditor\"\npassword_hash = {hash:?}\n"
    ));
    let server = workspace.start();
    let hashed = server.client.as_user(("hashed", "correct horse"));
    for _ in 0..3 {
        assert_eq!(hashed.get_path(TRACEFLOWS).await.status, 200);
    }
    let wrong = server.client.as_user(("hashed", "correct horse!"));
    assert_forbidden(&wrong.get_path(TRACEFLOWS).await, 403);
}

/// Reads what the server sends until it closes the connection (or `limit` passes).
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn slow_and_idle_connections_are_closed() {
    let workspace = Workspace::new();
    workspace.configure("\n[server]\nrequest_timeout_ms = 300\nkeep_alive_secs = 1\n");
    let server = workspace.start();
    let address = server.url.trim_start_matches("http://").to_owned();
    let limit = Duration::from_secs(10);

    // A request head that never ends.
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /policy/api/v1/infra/antrea/trace")
        .unwrap();
    let (_, waited) = read_until_closed(&mut stream, limit);
    assert!(waited < limit, "the server closed the slow head");

    // A body that never arrives in full: 408 as an ApiError.
    let mut stream = TcpStream::connect(&address).unwrap();
    let auth = base64_basic(ADMIN);
    write!(
        stream,
        "PUT {TRACEFLOWS}/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"contai"
    )
    .unwrap();
    let (answer, waited) = read_until_closed(&mut stream, limit);
    assert!(waited < limit);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error_code\":255"), "{answer}");

    // An idle keep-alive connection.
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET {TRACEFLOWS} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\r\n"
    )
    .unwrap();
    let (answer, waited) = read_until_closed(&mut stream, limit);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(waited < limit, "the idle connection was closed");
}

fn base64_basic((name, password): (&str, &str)) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
}

/// The README's HTTPS example, in a folder of its own: the first start creates the data
/// folder with the certificate in it, and prints one line on stdout.
#[tokio::test]
async fn tls_starts_in_an_empty_folder_with_one_line_on_stdout() {
    let workspace = Workspace::new();
    let empty = tempfile::tempdir().unwrap();
    let server = Command::new(BIN)
        .args(["--tls", "--listen", "127.0.0.1:0", "--config"])
        .arg(workspace.config_file())
        .current_dir(empty.path())
        .stderr(Stdio::null())
        .spawn_server();
    assert!(server.url.starts_with("https://"), "{}", server.url);
    assert_eq!(
        server.startup_lines(),
        [format!("nsx-policy-store listening on {}", server.url)]
    );
    let certificate = empty.path().join("data/nsx-policy-store-cert.pem");
    let client = tls_client(&server.url, &certificate);
    assert_eq!(client.put("t14", &minimal()).await.status, 200);
    assert!(empty.path().join("data/nsx-policy-store.db").exists());
}

/// At the most verbose log level, in either format, through Basic credentials (right and
/// wrong), a login, a session's requests and a logout: no password (the test users' are
/// plain text in the configuration), `Authorization` value, cookie or token is in the log.
async fn no_secret_reaches_a_trace_level_log(format: &str) {
    use base64::Engine;
    let workspace = Workspace::new();
    workspace.configure(&format!("[log]\nformat = \"{format}\"\n"));
    let server = workspace.command().env("RUST_LOG", "trace").spawn_server();
    let admin = &server.client;
    assert_eq!(admin.put("t14", &minimal()).await.status, 200);
    let wrong = ("admin", "a-wrong-password-9f2c");
    assert_eq!(admin.as_user(wrong).get("t14").await.status, 403);

    let session = cookie_client(&server.url);
    let response = login_request(&session, AUDITOR).send().await.unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let session_id = cookie
        .strip_prefix("JSESSIONID=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();
    let xsrf = response.headers()["x-xsrf-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let read = session
        .request("GET", &format!("{TRACEFLOWS}/t14"))
        .header("X-XSRF-TOKEN", xsrf.clone());
    assert_eq!(session.send(read).await.status, 200);
    let logout = session
        .request("POST", "/api/session/destroy")
        .header("X-XSRF-TOKEN", xsrf.clone());
    assert_eq!(session.send(logout).await.status, 200);
    server.terminate();

    let log = workspace.log();
    assert!(log.contains("TRACE"), "the log is at trace level");
    assert!(log.contains("t14"), "the log has the requests");
    let basic = |(name, password): (&str, &str)| {
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
    };
    for secret in [
        ADMIN.1.to_owned(),
        AUDITOR.1.to_owned(),
        wrong.1.to_owned(),
        basic(ADMIN),
        basic(wrong),
        session_id,
        xsrf,
        "JSESSIONID=".to_owned(),
        "j_password".to_owned(),
    ] {
        assert!(!log.contains(&secret), "{secret:?} is in the log");
    }
}

#[tokio::test]
async fn no_secret_reaches_a_trace_level_text_log() {
    no_secret_reaches_a_trace_level_log("text").await;
}

#[tokio::test]
async fn no_secret_reaches_a_trace_level_json_log() {
    no_secret_reaches_a_trace_level_log("json").await;
}
