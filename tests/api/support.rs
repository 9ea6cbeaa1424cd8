//! The test harness: the real binary on an ephemeral port, a real store (a SQLite file in a
//! temp dir, or a database of its own on the suite's PostgreSQL cluster), and an HTTP client
//! that speaks to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_nsx-policy-store");
pub const TRACEFLOWS: &str = "/policy/api/v1/infra/antrea/traceflows";

/// Debian's own `sqlite3`, the command the README points people to (3.40 on Debian 12, an
/// older SQLite than the one the binary bundles).
pub const SYSTEM_SQLITE3: &str = "/usr/bin/sqlite3";

/// Installs `packages` with `apt-get` unless every one of `files` is there: as root, as on
/// the CI machine; elsewhere the test fails, naming what to install.
pub fn ensure_installed(files: &[&str], packages: &[&str]) {
    if files.iter().all(|file| Path::new(file).exists()) {
        return;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "the suite needs Debian's {} (apt-get install {})",
        packages.join(", "),
        packages.join(" ")
    );
    let install: Vec<&str> = ["install", "-y"].iter().chain(packages).copied().collect();
    for args in [&["update"][..], &install] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .expect("run apt-get");
        assert!(status.success(), "apt-get {args:?} failed");
    }
    for file in files {
        assert!(Path::new(file).exists(), "{file} installed");
    }
}

/// Runs `sql` on the SQLite file `database` with the machine's own `sqlite3` (installed
/// where missing); answers what it printed, or panics with what it said on failing.
pub fn system_sqlite3(database: &Path, sql: &str) -> String {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| ensure_installed(&[SYSTEM_SQLITE3], &["sqlite3"]));
    let output = Command::new(SYSTEM_SQLITE3)
        .args(["-batch", "-bail"])
        .arg(database)
        .arg(sql)
        .output()
        .expect("run sqlite3");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        output.status.success(),
        "sqlite3 {}: {sql}\n{stdout}\n{}",
        database.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The users every test server knows (`Workspace::command` writes them into its config).
pub const ADMIN: (&str, &str) = ("admin", "admin-secret");
pub const AUDITOR: (&str, &str) = ("audrey", "auditor-secret");

const USERS: &str = r#"
[[auth.users]]
name = "admin"
role = "enterprise_admin"
password = "admin-secret"

[[auth.users]]
name = "audrey"
role = "auditor"
password = "auditor-secret"
"#;

/// The example request of the README's "Create": the repository's `example.json`, which
/// the README's `curl` sends.
pub fn seed_request() -> Value {
    serde_json::from_str(include_str!("../../example.json")).expect("example.json is JSON")
}

/// The smallest valid config.
pub fn minimal() -> Value {
    json!({"container_cluster_id": "cluster-1", "source_external_id": "pod-a"})
}

/// What remains of an object without the fields the server sets: the client's config.
pub fn client_fields(object: &Value) -> serde_json::Map<String, Value> {
    let mut fields = object.as_object().expect("an object").clone();
    for field in nsx_policy_store::domain::fields::SERVER_FIELDS {
        fields.remove(field);
    }
    fields.remove(nsx_policy_store::domain::fields::REALIZATION_ID);
    fields
}

/// `fields` as a create or a replace of the object at `path` stores them: with what NSX
/// fills in where they leave a field out (the store's `nsx_model.toml`, `filled`).
pub fn with_nsx_fills(
    path: &str,
    mut fields: serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    use nsx_policy_store::domain::{catalog::catalog, nsx_model::model, ObjectPath};
    let path = ObjectPath::from_stored(path).expect("a policy path");
    let catalog = catalog();
    let type_name = &catalog
        .type_def(catalog.route(path.route()).object_type)
        .name;
    for (field, value) in model().filled.get(type_name).into_iter().flatten() {
        fields.entry(field.clone()).or_insert_with(|| value.clone());
    }
    fields
}

/// A small deterministic random generator, so that a failing run can be replayed.
pub struct Dice(pub u64);

impl Dice {
    /// A number in `0..sides`.
    pub fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

use crate::postgres_cluster::Cluster;

/// The engine a test crate runs the contract on: `api` on SQLite, `api_postgres` on
/// PostgreSQL (the same modules, compiled twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub fn engine() -> Engine {
    match env!("CARGO_CRATE_NAME") {
        "api_postgres" => Engine::Postgres,
        _ => Engine::Sqlite,
    }
}

/// A temp folder with the config, the log and (on SQLite) the database file, and one store
/// shared by every server started on it.
pub struct Workspace {
    dir: tempfile::TempDir,
    /// The store's `--database`: the file, or the URL of a database made for it.
    location: OnceLock<String>,
    /// Set by a test that damages its SQLite file on purpose: the file is not checked when
    /// the workspace goes.
    damaged_on_purpose: std::sync::atomic::AtomicBool,
}

impl Workspace {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            location: OnceLock::new(),
            damaged_on_purpose: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A workspace whose servers run on the store at `location` (a PostgreSQL URL of one's
    /// own cluster, say) instead of one made for it.
    #[allow(
        dead_code,
        reason = "for the PostgreSQL crate's own tests; this file is compiled into both crates"
    )]
    pub fn on(location: String) -> Self {
        let workspace = Self::new();
        workspace.location.set(location).expect("a new workspace");
        workspace
    }

    /// What `--database` names for this workspace's store, on the crate's engine.
    pub fn store(&self) -> String {
        self.location
            .get_or_init(|| match engine() {
                Engine::Sqlite => self.database().display().to_string(),
                Engine::Postgres => Cluster::get().new_database(),
            })
            .clone()
    }

    /// Where `--tls` keeps the certificate it generates: beside the SQLite file, or under
    /// `data/` in the server's folder (the workspace) on PostgreSQL.
    pub fn generated_certificate(&self) -> PathBuf {
        match engine() {
            Engine::Sqlite => self.path().join("store-cert.pem"),
            Engine::Postgres => self.path().join("data/nsx-policy-store-cert.pem"),
        }
    }

    /// SQL on this workspace's PostgreSQL database, through `psql`.
    pub fn postgres_sql(&self, sql: &str) -> String {
        let url = self.store();
        let database = url.rsplit('/').next().expect("a database in the URL");
        Cluster::get().psql(database, sql)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }

    /// The config file every server of this workspace reads: the test users.
    pub fn config_file(&self) -> PathBuf {
        let path = self.dir.path().join("test-config.toml");
        if !path.exists() {
            std::fs::write(&path, USERS).expect("write the test config");
        }
        path
    }

    /// Adds TOML to this workspace's config file (after the test users), for servers started
    /// from now on.
    pub fn configure(&self, toml: &str) {
        let path = self.config_file();
        let mut config = std::fs::read_to_string(&path).unwrap();
        config.push_str(toml);
        std::fs::write(path, config).unwrap();
    }

    /// Everything the servers of this workspace wrote to standard error.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A server on this workspace's database, on an ephemeral port.
    pub fn start(&self) -> Server {
        self.command().spawn_server()
    }

    /// The command a server is started with; tests add flags and environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("open the server log");
        command
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--database")
            .arg(self.store())
            .arg("--config")
            .arg(self.config_file())
            .env("NSX_POLICY_STORE__LOG__LEVEL", "warn")
            .current_dir(self.path())
            .stderr(log);
        command
    }

    /// The database file, opened directly as a user inspecting it with SQL would.
    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.database()).expect("open database")
    }

    /// The database's write-ahead log, beside it.
    pub fn wal(&self) -> PathBuf {
        let mut wal = self.database().into_os_string();
        wal.push("-wal");
        wal.into()
    }

    /// This test damages its SQLite file on purpose (or leaves it where no one can open it):
    /// the workspace does not check it when it goes.
    #[allow(
        dead_code,
        reason = "for the SQLite crate's own tests; this file is compiled into both crates"
    )]
    pub fn damages_its_file(&self) {
        self.damaged_on_purpose
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The engine's own check of its storage, for after a kill. SQLite: `PRAGMA
    /// integrity_check` finds no damage, with the bundled library and with the machine's own
    /// `sqlite3`. PostgreSQL (which keeps its own files sound): once
    /// the killed instance's last transactions have ended, no object without its history, and
    /// the count the lists answer is the rows'.
    pub fn check_storage(&self) {
        match engine() {
            Engine::Sqlite => {
                let integrity: String = self
                    .sql()
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(integrity, "ok");
                let system = system_sqlite3(&self.database(), "PRAGMA integrity_check");
                assert_eq!(system, "ok", "the machine's sqlite3 finds the file sound");
            }
            Engine::Postgres => {
                self.wait_for_transactions_of_the_dead();
                let orphans = self.postgres_sql(
                    "SELECT count(*) FROM policy_objects o WHERE NOT EXISTS \
                     (SELECT 1 FROM policy_object_revisions r WHERE r.path = o.path)",
                );
                assert_eq!(orphans, "0", "every object has its history");
                let counted = self.postgres_sql(
                    "SELECT (SELECT coalesce(sum(count), 0) FROM policy_object_counts) \
                     = (SELECT count(*) FROM policy_objects)",
                );
                assert_eq!(counted, "t", "the kept count is the rows'");
            }
        }
    }

    /// Waits until no session on the database is inside a statement or a transaction: a
    /// killed instance's backend finishes the COMMIT it had received (it may land a moment
    /// after the instance died, with a slow flush) and then notices its client is gone. What
    /// the test reads after this changes no more.
    fn wait_for_transactions_of_the_dead(&self) {
        let busy = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                    AND backend_type = 'client backend' AND pid <> pg_backend_pid() \
                    AND state <> 'idle'";
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.postgres_sql(busy) != "0" {
            assert!(
                Instant::now() < deadline,
                "sessions still busy after 10 s: {}",
                self.postgres_sql(
                    "SELECT string_agg(state || ': ' || query, '; ') FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What a clean shutdown leaves behind on SQLite: the WAL checkpointed into the database
    /// and emptied. (PostgreSQL's files are its own.)
    pub fn check_clean_shutdown(&self) {
        if engine() == Engine::Sqlite {
            let wal_size = std::fs::metadata(self.wal()).map_or(0, |m| m.len());
            assert_eq!(wal_size, 0, "the WAL was checkpointed into the database");
        }
    }
}

impl Drop for Workspace {
    /// Every SQLite file the suite leaves, after writes, kills and restarts, is sound to the
    /// machine's own `sqlite3` (an older SQLite than the bundled one, as the people who
    /// inspect the file have): its `PRAGMA integrity_check` answers `ok`. The servers of a
    /// test are gone by now (they were declared after their workspace).
    fn drop(&mut self) {
        let sqlite_file = self.database().display().to_string();
        let checked = engine() == Engine::Sqlite
            && self.location.get() == Some(&sqlite_file)
            && self.database().exists()
            && !self
                .damaged_on_purpose
                .load(std::sync::atomic::Ordering::Relaxed)
            && !std::thread::panicking();
        if checked {
            let integrity = system_sqlite3(&self.database(), "PRAGMA integrity_check");
            assert_eq!(integrity, "ok", "the machine's sqlite3 on {sqlite_file}");
        }
    }
}

pub trait SpawnServer {
    /// Starts the binary and waits for its `listening on` line.
    fn spawn_server(&mut self) -> Server;
}

impl SpawnServer for Command {
    /// Starts the binary and waits for its `listening on` line.
    fn spawn_server(&mut self) -> Server {
        let mut child = self
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn nsx-policy-store");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        let printed = Arc::new(Mutex::new(Vec::new()));
        std::thread::spawn({
            let printed = Arc::clone(&printed);
            move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let mut lines = printed.lock().unwrap();
                    lines.push(line.clone());
                    if let Some(url) = line.split("listening on ").nth(1) {
                        let _ = sender.send((url.trim().to_owned(), lines.clone()));
                    }
                }
            }
        });
        match receiver.recv_timeout(Duration::from_secs(30)) {
            Ok((url, lines)) => Server::new(child, url, lines, printed),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().unwrap();
                panic!("server did not start ({status}); see its log");
            }
        }
    }
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub client: Client,
    startup: Vec<String>,
    /// Everything printed on standard output so far.
    printed: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn new(
        child: Child,
        url: String,
        startup: Vec<String>,
        printed: Arc<Mutex<Vec<String>>>,
    ) -> Self {
        Self {
            child: Some(child),
            client: Client::new(&url),
            url,
            startup,
            printed,
        }
    }

    /// The metrics listener's base URL, from its start-up line (which follows the
    /// `listening on` line when `telemetry.metrics_listen` is set).
    pub fn metrics_base(&self) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.printed.lock().unwrap().iter().find_map(|line| {
                let url = line.strip_prefix("metrics on ")?;
                Some(url.trim_end_matches("/metrics").to_owned())
            });
            if let Some(base) = found {
                return base;
            }
            assert!(std::time::Instant::now() < deadline, "no `metrics on` line");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server printed on standard output up to its `listening on` line.
    pub fn startup_lines(&self) -> Vec<String> {
        self.startup.clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL: no chance to flush or checkpoint anything.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().expect("kill");
        child.wait().expect("wait");
    }

    /// Waits for the process to exit (after a signal sent some other way).
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.child.take().unwrap().wait().expect("wait")
    }

    /// SIGTERM, then waits for the process to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One answer: status, Content-Type, request id and body (JSON, or `Value::Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `X-Request-Id` the server answered with.
    pub request_id: Option<String>,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts an NSX ApiError with this status and error code; returns its message.
    pub fn api_error(&self, status: u16, error_code: u64) -> String {
        assert_eq!(self.status, status, "{self:#?}");
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        assert_eq!(self.body["error_code"], error_code, "{self:#?}");
        let http_status = self.body["httpStatus"].as_str().expect("httpStatus");
        assert!(!http_status.is_empty() && http_status == http_status.to_uppercase());
        assert!(self.body["module_name"].is_string());
        self.body["error_message"]
            .as_str()
            .expect("error_message")
            .to_owned()
    }

    /// Asserts the 400 validation error naming `field`.
    pub fn field_error(&self, field: &str) -> String {
        let message = self.api_error(400, 255);
        let prefix = format!("Field level validation errors: {{{field}: ");
        assert!(
            message.starts_with(&prefix),
            "{message:?} should name {field}"
        );
        message
    }
}

/// An HTTP client bound to one server, sending Basic credentials (admin's by default).
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    credentials: Option<(String, String)>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self::with_http(base, reqwest::Client::new())
    }

    /// A client over a configured reqwest client (TLS roots, cookies).
    pub fn with_http(base: &str, http: reqwest::Client) -> Self {
        Self {
            base: base.to_owned(),
            http,
            credentials: Some((ADMIN.0.to_owned(), ADMIN.1.to_owned())),
        }
    }

    /// The same client, sending these credentials instead.
    pub fn as_user(&self, (name, password): (&str, &str)) -> Self {
        Self {
            credentials: Some((name.to_owned(), password.to_owned())),
            ..self.clone()
        }
    }

    /// The same client, sending no credentials.
    pub fn anonymous(&self) -> Self {
        Self {
            credentials: None,
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = self.http.request(method, self.url(path));
        match &self.credentials {
            Some((name, password)) => request.basic_auth(name, Some(password)),
            None => request,
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let content_type = header("content-type");
        let request_id = header("x-request-id");
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"))
        };
        Reply {
            status,
            content_type,
            request_id,
            body,
            text,
        }
    }

    /// `method` on a traceflow with a JSON body.
    pub async fn json(&self, method: &str, id: &str, body: &Value) -> Reply {
        let request = self
            .request(method, &format!("{TRACEFLOWS}/{id}"))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request).await
    }

    pub async fn put(&self, id: &str, body: &Value) -> Reply {
        self.json("PUT", id, body).await
    }

    pub async fn patch(&self, id: &str, body: &Value) -> Reply {
        self.json("PATCH", id, body).await
    }

    pub async fn get(&self, id: &str) -> Reply {
        self.send(self.request("GET", &format!("{TRACEFLOWS}/{id}")))
            .await
    }

    pub async fn delete(&self, id: &str) -> Reply {
        self.send(self.request("DELETE", &format!("{TRACEFLOWS}/{id}")))
            .await
    }

    /// `method` on a path (and query) of the server, with `body` as JSON if any.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        self.send(request).await
    }

    /// `method` on a policy path (below `/policy/api/v1`), with `body` as JSON if any.
    pub async fn policy(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.call(method, &format!("/policy/api/v1{path}"), body)
            .await
    }

    /// The store's export: NDJSON, one object a line.
    pub async fn export(&self) -> String {
        let response = self
            .request("GET", "/store/v1/export")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/x-ndjson");
        response.text().await.unwrap()
    }

    /// GET of a path (and query) under the server.
    pub async fn get_path(&self, path: &str) -> Reply {
        self.send(self.request("GET", path)).await
    }

    /// `GET /policy/api/v1/search/query` of `query`, with `extra` (`&page_size=2`) after it.
    pub async fn search(&self, query: &str, extra: &str) -> Reply {
        let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let path = format!("/policy/api/v1/search/query?query={encoded}{extra}");
        self.get_path(&path).await
    }

    /// Every page of a paged answer at `path_and_query`, its `results` in order.
    async fn every_page(&self, path_and_query: &str) -> Vec<Value> {
        let mut results = Vec::new();
        let mut cursor = String::new();
        loop {
            let reply = self.get_path(&format!("{path_and_query}{cursor}")).await;
            assert_eq!(reply.status, 200, "{path_and_query}: {reply:#?}");
            results.extend(reply.body["results"].as_array().unwrap().iter().cloned());
            match reply.body["cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return results,
            }
        }
    }

    /// Every revision of the object at `path`, oldest first, as the history extension
    /// serves them.
    pub async fn history(&self, path: &str) -> Vec<Value> {
        let mut revisions = self
            .every_page(&format!("/store/v1/revisions?path={path}"))
            .await;
        revisions.reverse();
        revisions
    }

    /// Every stored object, in id order, as the list serves them.
    pub async fn all_objects(&self) -> Vec<Value> {
        self.every_page(&format!("{TRACEFLOWS}?sort_by=id")).await
    }
}
