//! The inspector page in real browsers: Debian's `chromium`, headless, driven through
//! `chromedriver` by the W3C WebDriver protocol (a few of its commands, over HTTP), and
//! Debian's `firefox-esr`, driven through its own WebDriver BiDi endpoint by
//! `tests/browser/firefox.py`. Where a browser is missing, the harness installs it with
//! `apt-get` (as root, as on the CI machine) and fails loudly where it cannot. A JavaScript
//! error logged on the page fails the test that saw it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{
    ensure_installed, minimal, Client, Server, SpawnServer, Workspace, ADMIN, AUDITOR,
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const FIREFOX: &str = "/usr/bin/firefox-esr";
/// How long the page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);
/// The W3C element reference's key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Installs Debian's Chromium and its driver where they are missing (once per test process).
fn ensure_browser() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        ensure_installed(&[CHROMIUM, CHROMEDRIVER], &["chromium", "chromium-driver"])
    });
}

/// Installs Debian's Firefox (ESR) where it is missing: it drives itself (WebDriver BiDi).
fn ensure_firefox() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| ensure_installed(&[FIREFOX], &["firefox-esr"]));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// One headless Chromium, driven through its own chromedriver.
struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        ensure_browser();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let began = Instant::now();
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(began.elapsed() < PATIENCE, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.path().display())],
            },
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        }
    }

    /// A WebDriver command; answers its `value`.
    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let request = self.http.request(method, format!("{}{path}", self.session));
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    /// The elements `css` selects now.
    async fn all(&self, css: &str) -> Vec<String> {
        let found = self
            .command(
                reqwest::Method::POST,
                "/elements",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found
            .as_array()
            .map(|elements| {
                elements
                    .iter()
                    .filter_map(|element| element[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element `css` selects whose text holds `text`, once there is one.
    async fn wait_for(&self, css: &str, text: &str) -> String {
        self.wait_until(css, text, |shown| shown.contains(text))
            .await
    }

    /// The first element `css` selects whose text is `text`, once there is one.
    async fn wait_exact(&self, css: &str, text: &str) -> String {
        self.wait_until(css, text, |shown| shown.trim() == text)
            .await
    }

    async fn wait_until(&self, css: &str, text: &str, fits: impl Fn(&str) -> bool) -> String {
        let began = Instant::now();
        loop {
            for element in self.all(css).await {
                if fits(&self.text(&element).await) {
                    return element;
                }
            }
            assert!(
                began.elapsed() < PATIENCE,
                "no {css} showing {text:?}; the page: {}",
                self.script("return document.body.innerText").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A command on one element: `what` of it (`text`, `click`, ...).
    async fn on_element(
        &self,
        method: reqwest::Method,
        element: &str,
        what: &str,
        body: Value,
    ) -> Value {
        self.command(method, &format!("/element/{element}/{what}"), body)
            .await
    }

    async fn text(&self, element: &str) -> String {
        let text = self
            .on_element(reqwest::Method::GET, element, "text", Value::Null)
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    async fn click(&self, element: &str) {
        self.on_element(reqwest::Method::POST, element, "click", json!({}))
            .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.wait_for(css, "").await;
        self.on_element(reqwest::Method::POST, &element, "clear", json!({}))
            .await;
        self.on_element(
            reqwest::Method::POST,
            &element,
            "value",
            json!({"text": text}),
        )
        .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Accepts the page's `confirm()`, once it is open.
    async fn accept_dialog(&self) {
        let began = Instant::now();
        loop {
            let text = self
                .command(reqwest::Method::GET, "/alert/text", Value::Null)
                .await;
            if text.is_string() {
                self.command(reqwest::Method::POST, "/alert/accept", json!({}))
                    .await;
                return;
            }
            assert!(began.elapsed() < PATIENCE, "no dialog opened");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails on any JavaScript error the page logged since the last look, and on any
    /// request of its own that failed, but those `expected` names (a failed request's
    /// console line names its URL; some the test makes fail on purpose).
    async fn assert_no_errors_but(&self, expected: &[&str]) {
        let log = self
            .command(reqwest::Method::POST, "/se/log", json!({"type": "browser"}))
            .await;
        let errors: Vec<&Value> = log
            .as_array()
            .expect("chromedriver answers the browser's log")
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .filter(|entry| {
                let message = entry["message"].as_str().unwrap_or_default();
                !expected.iter().any(|expected| message.contains(expected))
            })
            .collect();
        assert!(errors.is_empty(), "errors on the page: {errors:#?}");
    }

    /// Fails on any JavaScript error the page logged since the last look (a failed
    /// request's console line is the API's answer, which the test checks itself).
    async fn assert_no_script_errors(&self) {
        self.assert_no_errors_but(&["Failed to load resource"])
            .await;
    }

    /// Waits at most `within` for an element `css` selects whose text holds `text` (`""`:
    /// any) to be there, or, with `absent`, for none to be; answers how long it took.
    async fn within(&self, within: Duration, css: &str, text: &str, absent: bool) -> Duration {
        self.within_where(within, css, text, absent, |shown| shown.contains(text))
            .await
    }

    /// [`Browser::within`], for an element whose whole text is `text`.
    async fn within_exact(
        &self,
        within: Duration,
        css: &str,
        text: &str,
        absent: bool,
    ) -> Duration {
        self.within_where(within, css, text, absent, |shown| shown.trim() == text)
            .await
    }

    async fn within_where(
        &self,
        within: Duration,
        css: &str,
        text: &str,
        absent: bool,
        fits: impl Fn(&str) -> bool,
    ) -> Duration {
        let began = Instant::now();
        loop {
            let mut found = false;
            for element in self.all(css).await {
                found |= fits(&self.text(&element).await);
            }
            if found != absent {
                return began.elapsed();
            }
            assert!(
                began.elapsed() < within,
                "{css} {} {text:?} after {within:?}; the page: {}",
                if absent {
                    "still shows"
                } else {
                    "does not show"
                },
                self.script("return document.body.innerText").await
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn log_in(&self, server: &Server, (user, password): (&str, &str)) {
        self.go(&format!("{}/store/ui/", server.url)).await;
        self.type_into("#user", user).await;
        self.type_into("#password", password).await;
        let submit = self.wait_for("#login button", "Log in").await;
        self.click(&submit).await;
        self.wait_for("#who", user).await;
        let form = self.wait_for("#login", "").await;
        assert!(
            !self.displayed(&form).await,
            "the login form is gone once logged in"
        );
    }

    async fn displayed(&self, element: &str) -> bool {
        let shown = self
            .on_element(reqwest::Method::GET, element, "displayed", Value::Null)
            .await;
        shown == json!(true)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session would need a request; ending chromedriver ends its browser.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = Command::new("pkill")
            .args(["-f", &self._profile.path().display().to_string()])
            .status();
    }
}

async fn write(client: &Client, method: &str, path: &str, body: Value) {
    let reply = client.policy(method, path, Some(&body)).await;
    assert_eq!(reply.status, 200, "{method} {path}: {reply:#?}");
}

/// Waits until the object at `path` is gone, which `action` of the page brings about.
async fn until_gone(client: &Client, path: &str, action: &str) {
    let began = Instant::now();
    while client.policy("GET", path, None).await.status != 404 {
        assert!(began.elapsed() < PATIENCE, "{action} did not happen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_page_follows_the_store_and_drives_its_test_environment() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let browser = Browser::start().await;

    // A wrong password is refused on the page.
    browser.go(&format!("{}/store/ui/", server.url)).await;
    browser.type_into("#user", ADMIN.0).await;
    browser.type_into("#password", "wrong").await;
    let submit = browser.wait_for("#login button", "Log in").await;
    browser.click(&submit).await;
    browser.wait_for("#login-error", "incorrect").await;
    browser.log_in(&server, ADMIN).await;
    browser.wait_for("#live", "live").await;

    // An object created through the API appears in the tree without a reload.
    write(
        client,
        "PUT",
        "/infra/segments/web",
        json!({"description": "first"}),
    )
    .await;
    let segments = browser
        .wait_exact("#tree button.collection", "Segment")
        .await;
    browser.click(&segments).await;
    let web = browser.wait_exact("#tree button.open-object", "web").await;
    browser.click(&web).await;
    browser
        .wait_for("#object-path", "/infra/segments/web")
        .await;
    browser.wait_for("#client-fields", "\"first\"").await;
    browser.wait_for("#server-fields", "\"_revision\": 0").await;

    // Changed through the API: the open object follows, and the diff of its two revisions
    // names the changed field.
    write(
        client,
        "PATCH",
        "/infra/segments/web",
        json!({"description": "second"}),
    )
    .await;
    browser.wait_for("#server-fields", "\"_revision\": 1").await;
    browser.wait_for("#diff li", "changed description").await;
    browser.wait_for("#diff li", "\"first\" → \"second\"").await;

    // A traceflow's run: its phase and its observations, in order.
    assert_eq!(client.put("t1", &minimal()).await.status, 200);
    let traceflows = browser
        .wait_exact("#tree button.collection", "AntreaTraceflowConfig")
        .await;
    browser.click(&traceflows).await;
    let t1 = browser.wait_exact("#tree button.open-object", "t1").await;
    browser.click(&t1).await;
    browser.wait_for("#run h3", "Current run (simulated)").await;
    browser.wait_for("#run-phase", "SUCCEEDED").await;
    let observations = browser.all("#observations td").await;
    assert!(
        !observations.is_empty(),
        "the run's observations are listed"
    );
    let mut first = Vec::new();
    for cell in &observations[..5] {
        first.push(browser.text(cell).await);
    }
    assert_eq!(
        first[..3],
        ["1", "ANTREA_SPOOFGUARD", "Forwarded"],
        "{first:?}"
    );
    assert!(first[4].ends_with('Z'), "an ISO time: {first:?}");
    // Whether the run is scripted is read without a request that fails (the one failed
    // request is the wrong password's, above).
    browser.assert_no_errors_but(&["/api/session/create"]).await;

    // A snapshot saved from the page, a change, then a restore from the page: the store's
    // state follows (checked through the API).
    let tab = browser.wait_for("#tabs button", "Test environment").await;
    browser.click(&tab).await;
    browser
        .wait_for("#determinism", "\"clock\": \"system\"")
        .await;
    browser.type_into("#snapshot-name", "before").await;
    let save = browser.wait_for("#snapshot-save button", "Save").await;
    browser.click(&save).await;
    browser.wait_for("#snapshots td", "before").await;
    write(client, "PUT", "/infra/segments/later", json!({})).await;
    let restore = browser.wait_for("#snapshots button", "Restore").await;
    browser.click(&restore).await;
    browser.accept_dialog().await;
    until_gone(client, "/infra/segments/later", "the restore").await;
    assert_eq!(
        client
            .policy("GET", "/infra/segments/web", None)
            .await
            .status,
        200
    );

    // A fault rule from the form: a bad one is refused with the API's own words, a good one
    // answers the next matching request.
    browser
        .type_into("#fault-rule", r#"{"probability": 2}"#)
        .await;
    let add = browser.wait_for("#fault-add button", "Add").await;
    browser.click(&add).await;
    browser.wait_for("#fault-error", "probability").await;
    let rule = json!({"match": {"method": "GET", "path": "/policy/api/v1/infra/segments/*"},
        "error": {"status": 503, "error_code": 99, "error_message": "from the page"}, "times": 1});
    browser.type_into("#fault-rule", &rule.to_string()).await;
    browser.click(&add).await;
    browser.wait_for("#faults td", "from the page").await;
    let refused = client.policy("GET", "/infra/segments/web", None).await;
    assert_eq!(refused.api_error(503, 99), "from the page");
    // The rule's hits follow without a reload.
    browser.wait_exact("#faults td.hits", "1").await;
    assert_eq!(
        client
            .policy("GET", "/infra/segments/web", None)
            .await
            .status,
        200
    );

    // Reset, after the confirmation.
    let reset = browser.wait_for("#reset", "Reset").await;
    browser.click(&reset).await;
    browser.accept_dialog().await;
    until_gone(client, "/infra/segments/web", "the reset").await;
    browser.assert_no_script_errors().await;
}

#[tokio::test]
async fn an_auditor_finds_no_control_that_writes() {
    let workspace = Workspace::new();
    workspace.configure("[telemetry]\nmetrics_listen = \"127.0.0.1:0\"\n");
    // The harness logs at `warn`; requests are logged at `info`.
    let server = workspace
        .command()
        .env("NSX_POLICY_STORE__LOG__LEVEL", "info")
        .spawn_server();
    write(&server.client, "PUT", "/infra/segments/web", json!({})).await;
    let saved = server
        .client
        .call("PUT", "/store/v1/snapshots/kept", None)
        .await;
    assert_eq!(saved.status, 200);
    let browser = Browser::start().await;
    browser.log_in(&server, AUDITOR).await;
    browser.wait_for("#who", "auditor").await;
    let segments = browser
        .wait_exact("#tree button.collection", "Segment")
        .await;
    browser.click(&segments).await;
    browser.wait_exact("#tree button.open-object", "web").await;
    let tab = browser.wait_for("#tabs button", "Test environment").await;
    browser.click(&tab).await;
    browser.wait_for("#snapshots td", "kept").await;
    let writing = browser
        .script(
            "return [...document.querySelectorAll('.writes, #reset, #snapshot-save, #fault-add')]\
             .length + [...document.querySelectorAll('button')].filter(b => \
             /^(Save|Restore|Delete|Add|Reset)/.test(b.textContent.trim())).length",
        )
        .await;
    assert_eq!(writing, json!(0), "no control that writes");
    browser.assert_no_script_errors().await;

    // The page's requests are any client's: logged with their user and request id, counted
    // by route, and answered by a fault rule that matches them.
    let log = workspace.log();
    let tree_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("/store/v1/tree"))
        .collect();
    assert!(
        tree_lines
            .iter()
            .any(|line| line.contains(AUDITOR.0) && line.contains("request_id")),
        "{tree_lines:#?}"
    );
    let metrics = reqwest::get(format!("{}/metrics", server.metrics_base()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "nsx_policy_store_http_requests_total{method=\"GET\",route=\"/store/v1/tree\",status=\"200\"}"
        ),
        "{metrics}"
    );
    let rule = json!({"match": {"method": "GET", "path": "/store/v1/tree"},
        "error": {"status": 503, "error_code": 99, "error_message": "the tree is down"}});
    let added = server
        .client
        .call("POST", "/store/v1/faults", Some(&rule))
        .await;
    assert_eq!(added.status, 200, "{added:#?}");
    // Reloaded, the page (still logged in) reads the tree again, and meets the rule.
    browser.go(&format!("{}/store/ui/", server.url)).await;
    browser.wait_for("main p.error", "the tree is down").await;

    // Logging out leaves the login form.
    let out = browser.wait_for("#logout", "Log out").await;
    browser.click(&out).await;
    browser.wait_for("#login button", "Log in").await;
}

/// The same page in Firefox: `tests/browser/firefox.py` drives it through Firefox's own
/// WebDriver BiDi endpoint (log in, the events stream, the tree, an object, the diff of a
/// change made through the API, the test environment, no JavaScript error).
#[tokio::test]
async fn the_page_works_in_firefox() {
    let workspace = Workspace::new();
    let server = workspace.start();
    write(
        &server.client,
        "PUT",
        "/infra/segments/web",
        json!({"description": "first"}),
    )
    .await;
    ensure_firefox();
    let port = free_port();
    let profile = tempfile::tempdir().unwrap();
    let mut firefox = Command::new(FIREFOX)
        .args([
            "--headless",
            "--no-remote",
            "--remote-debugging-port",
            &port.to_string(),
        ])
        .arg("--profile")
        .arg(profile.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start firefox");
    let began = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(began.elapsed() < PATIENCE, "firefox did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let output = Command::new(crate::python::venv_bin().join("python"))
        .arg(Path::new(crate::python::MANIFEST_DIR).join("tests/browser/firefox.py"))
        .arg(format!("ws://127.0.0.1:{port}/session"))
        .arg(format!("{}/store/ui/", server.url))
        .args([ADMIN.0, ADMIN.1])
        .output()
        .expect("run the Firefox script");
    let _ = firefox.kill();
    let _ = firefox.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the page failed in Firefox:\n{stdout}"
    );
    assert!(stdout.contains("firefox: 8 passed, 0 failed"), "{stdout}");
}

/// Sends keys to an element, as a person typing on it (WebDriver's key codes for the
/// arrows and Enter).
async fn keys(browser: &Browser, element: &str, keys: &str) {
    browser
        .on_element(
            reqwest::Method::POST,
            element,
            "value",
            json!({ "text": keys }),
        )
        .await;
}

const ARROW_DOWN: &str = "\u{E015}";
const ARROW_RIGHT: &str = "\u{E014}";
const ENTER: &str = "\u{E007}";

/// What the user opened stays open as the store changes: expanded branches, the paging
/// position of a long collection and the scroll; the tree is a WAI-ARIA tree, driven by
/// the keyboard, with a toggle only where something hangs below and the open object marked.
#[tokio::test]
async fn live_updates_keep_what_is_open_the_paging_and_the_scroll() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    let mut children = vec![
        json!({"resource_type": "ChildDomain", "Domain": {"id": "d1",
        "resource_type": "Domain", "children": [{"resource_type": "ChildGroup",
            "Group": {"id": "web", "resource_type": "Group"}}]}}),
    ];
    for n in 0..160 {
        children.push(json!({"resource_type": "ChildSegment",
            "Segment": {"id": format!("s{n:03}"), "resource_type": "Segment"}}));
    }
    let tree = json!({"resource_type": "Infra", "children": children});
    write(client, "PATCH", "/infra", tree).await;
    let browser = Browser::start().await;
    browser.log_in(&server, ADMIN).await;
    browser.wait_for("#live", "live").await;

    // Domain › d1 › Group › web, opened by mouse; d1's toggle is there, web has none.
    let domains = browser
        .wait_exact("#tree button.collection", "Domain")
        .await;
    browser.click(&domains).await;
    let d1 = "#tree li[data-path='/infra/domains/d1']";
    let toggle = browser
        .wait_for(&format!("{d1} > .line > .toggle"), "")
        .await;
    browser.click(&toggle).await;
    let groups = browser
        .wait_exact(&format!("{d1} button.collection"), "Group")
        .await;
    browser.click(&groups).await;
    browser.wait_exact("#tree button.open-object", "web").await;
    let web = "#tree li[data-path='/infra/domains/d1/groups/web']";
    assert!(
        browser.all(&format!("{web} .toggle")).await.is_empty(),
        "a leaf"
    );

    // Segments by the keyboard: focus the collection, open it, go down to the first object,
    // open it in the pane; it is marked in the tree.
    let segments = browser
        .wait_for(
            "#tree li.collection-line[data-collection='/infra/segments']",
            "",
        )
        .await;
    browser
        .script("document.querySelector(\"#tree li[data-collection='/infra/segments']\").focus()")
        .await;
    keys(&browser, &segments, ARROW_RIGHT).await;
    browser.wait_exact("#tree button.open-object", "s000").await;
    keys(&browser, &segments, ARROW_DOWN).await;
    let first = browser
        .wait_for("#tree li[data-path='/infra/segments/s000']", "")
        .await;
    keys(&browser, &first, ENTER).await;
    browser
        .wait_for("#object-path", "/infra/segments/s000")
        .await;
    let selected = browser
        .script("return document.querySelector(\"#tree li[data-path='/infra/segments/s000']\").getAttribute('aria-selected')")
        .await;
    assert_eq!(selected, json!("true"));
    let roles = browser
        .script("return [document.querySelector('#tree').getAttribute('role'), document.querySelectorAll('#tree [role=treeitem]').length, document.querySelectorAll('#tree [role=group]').length]")
        .await;
    assert_eq!(roles[0], "tree");
    assert!(
        roles[1].as_u64().unwrap() > 50 && roles[2].as_u64().unwrap() > 2,
        "{roles}"
    );

    // Paged to 150 rows, scrolled down.
    for shown in [100, 150] {
        let more = browser.wait_for("#tree button.more", "more").await;
        browser.click(&more).await;
        browser
            .wait_for("#tree button.more", &format!("more ({shown} of 160)"))
            .await;
    }
    let segment_rows =
        "return document.querySelectorAll(\"#tree li[data-path^='/infra/segments/']\").length";
    assert_eq!(browser.script(segment_rows).await, json!(150));
    let scrolled = browser
        .script("const pane = document.querySelector('#tree-pane'); pane.scrollTop = 1500; return pane.scrollTop")
        .await;
    assert!(scrolled.as_f64().unwrap() > 1000.0, "{scrolled}");

    // Live: an object elsewhere, then one in the paged collection.
    write(
        client,
        "PUT",
        "/infra/domains/default/groups/elsewhere",
        json!({}),
    )
    .await;
    write(client, "PUT", "/infra/segments/s-new", json!({})).await;
    browser
        .wait_exact("#tree button.open-object", "s-new")
        .await;
    browser
        .wait_for("#changes li", "/infra/domains/default/groups/elsewhere")
        .await;
    assert_eq!(
        browser.script(segment_rows).await,
        json!(150),
        "the paging position"
    );
    browser
        .wait_for("#tree button.more", "more (150 of 161)")
        .await;
    let expanded = browser
        .script(&format!(
            "return document.querySelector(\"{d1}\").getAttribute('aria-expanded')"
        ))
        .await;
    assert_eq!(expanded, json!("true"), "d1 stays open");
    browser.wait_exact("#tree button.open-object", "web").await;
    let scroll = browser
        .script("return document.querySelector('#tree-pane').scrollTop")
        .await;
    assert_eq!(scroll, scrolled, "the scroll");
    browser.assert_no_script_errors().await;
}

/// A restore and a reset made through the API reach the page at once: the tree, and the
/// object pane of an object they removed.
#[tokio::test]
async fn a_restore_and_a_reset_through_the_api_reach_the_page_within_a_second() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let client = &server.client;
    write(client, "PUT", "/infra/segments/kept", json!({})).await;
    let saved = client.call("PUT", "/store/v1/snapshots/base", None).await;
    assert_eq!(saved.status, 200);
    write(client, "PUT", "/infra/segments/later", json!({})).await;
    let browser = Browser::start().await;
    browser.log_in(&server, ADMIN).await;
    browser.wait_for("#live", "live").await;
    let segments = browser
        .wait_exact("#tree button.collection", "Segment")
        .await;
    browser.click(&segments).await;
    let later = browser
        .wait_exact("#tree button.open-object", "later")
        .await;
    browser.click(&later).await;
    browser.wait_for("#server-fields", "\"_revision\": 0").await;

    let restored = client
        .call("POST", "/store/v1/snapshots/base?action=restore", None)
        .await;
    assert_eq!(restored.status, 200);
    let second = Duration::from_secs(1);
    browser
        .within(second, "#tree button.open-object", "later", true)
        .await;
    browser
        .within(second, "#object-gone", "Not stored", false)
        .await;

    let kept = browser.wait_exact("#tree button.open-object", "kept").await;
    browser.click(&kept).await;
    browser
        .wait_for("#object-path", "/infra/segments/kept")
        .await;
    browser.wait_for("#server-fields", "\"_revision\": 0").await;
    let reset = client.call("POST", "/store/v1/reset", None).await;
    assert_eq!(reset.status, 200);
    browser
        .within_exact(second, "#tree button.collection", "Segment", true)
        .await;
    browser
        .within(second, "#object-gone", "Not stored", false)
        .await;
    browser
        .wait_for("#changes li", "reset of the whole store by admin")
        .await;
    browser.assert_no_errors_but(&["/infra/segments/"]).await;
}

/// The request journal on the page: a request made through the API, with its status and
/// error code, filtered by status; an auditor sees it too, without bodies.
#[tokio::test]
async fn the_requests_tab_shows_the_journal_to_admins_and_auditors() {
    let workspace = Workspace::new();
    workspace.configure("[journal]\nbodies = true\n");
    let server = workspace.start();
    let client = &server.client;
    for user in [ADMIN, AUDITOR] {
        let browser = Browser::start().await;
        browser.log_in(&server, user).await;
        let tab = browser.wait_for("#tabs button", "Requests").await;
        browser.click(&tab).await;
        let id = format!("from-{}", user.0);
        let missing = client
            .policy("GET", &format!("/infra/segments/{id}"), None)
            .await;
        missing.api_error(404, 600);
        let found = format!("/infra/segments/found-by-{}", user.0);
        write(client, "PUT", &found, json!({})).await;
        let row = browser
            .wait_for(
                "#journal tbody tr",
                &format!("/policy/api/v1/infra/segments/{id}"),
            )
            .await;
        let shown = browser.text(&row).await;
        assert!(
            shown.contains("GET") && shown.contains("404") && shown.contains("600"),
            "{shown}"
        );
        browser.wait_for("#journal tbody tr", &found).await;

        // Filtered by status: the 404 stays, the 200 goes.
        browser.type_into("#request-status", "404").await;
        let filter = browser.wait_for("#request-filter button", "Filter").await;
        browser.click(&filter).await;
        browser
            .within(PATIENCE, "#journal tbody tr", &found, true)
            .await;
        let row = browser.wait_for("#journal tbody tr", &id).await;
        browser.click(&row).await;
        browser.wait_for("#request-detail", "error_code 600").await;
        let bodies = browser.all("#request-detail pre.request-body").await;
        match user {
            AUDITOR => {
                assert!(bodies.is_empty(), "an auditor sees no body");
                browser.wait_for("#request-detail", "No body kept").await;
            }
            _ => {
                assert_eq!(bodies.len(), 1, "the admin sees the answer's body");
                assert!(browser
                    .text(&bodies[0])
                    .await
                    .contains("could not be found"));
            }
        }
        browser.assert_no_script_errors().await;
    }
}

/// A browser that opens the server's address, or the page without its slash, lands on the
/// page's login form; an API client's `GET /` is answered as NSX answers it.
#[tokio::test]
async fn a_browser_opening_the_address_lands_on_the_login_form() {
    let workspace = Workspace::new();
    let server = workspace.start();
    let browser = Browser::start().await;
    for start in ["/", "/store/ui"] {
        browser.go(&format!("{}{start}", server.url)).await;
        browser.wait_for("#login button", "Log in").await;
        let url = browser
            .command(reqwest::Method::GET, "/url", Value::Null)
            .await;
        assert_eq!(url, json!(format!("{}/store/ui/", server.url)), "{start}");
    }
    let anonymous = server.client.anonymous();
    anonymous.get_path("/").await.api_error(403, 403);
    server.client.get_path("/").await.api_error(404, 600);
    browser.assert_no_script_errors().await;
}
