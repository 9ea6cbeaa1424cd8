//! The load: the types written and read, the requests wrk sends, and what a phase measured.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{self, TRACEFLOWS};
use crate::{PASSWORD, USER};

/// The types the benchmark writes and reads: traceflows, and two of the catalog's.
#[derive(Clone, Copy)]
pub enum Kind {
    Traceflow,
    Segment,
    Group,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Traceflow => "traceflow",
            Kind::Segment => "Segment",
            Kind::Group => "Group",
        }
    }

    /// The collection's path.
    pub fn path(self) -> &'static str {
        match self {
            Kind::Traceflow => TRACEFLOWS,
            Kind::Segment => "/policy/api/v1/infra/segments",
            Kind::Group => "/policy/api/v1/infra/domains/default/groups",
        }
    }

    /// The collection's path as the store keeps it (below `/policy/api/v1`).
    pub fn stored_path(self) -> &'static str {
        self.path().trim_start_matches("/policy/api/v1")
    }

    /// What a create sends.
    pub fn body(self) -> Value {
        match self {
            Kind::Traceflow => body(),
            Kind::Segment => json!({"description": "a benchmark's segment",
                                    "subnets": [{"gateway_address": "10.1.1.1/24"}]}),
            Kind::Group => json!({"description": "a benchmark's group",
                                  "expression": [{"resource_type": "IPAddressExpression",
                                                  "ip_addresses": ["10.1.1.0/24"]}]}),
        }
    }
}

#[derive(Clone, Copy)]
pub enum Operation {
    /// PUT of a new id each time.
    Create(Kind),
    /// GET of a random id among `n` stored ones (`read-0` to `read-{n-1}`).
    Get(Kind, usize),
}

/// The seed's example request, as every traceflow create sends it.
pub fn body() -> Value {
    support::seed_request()
}

pub fn http_client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap()
}

/// Creates `read-0` to `read-{count-1}` of `kind`.
pub async fn create_objects(url: &str, kind: Kind, count: usize) {
    let client = http_client(16);
    let body = kind.body().to_string();
    for n in 0..count {
        let reply = client
            .put(format!("{url}{}/read-{n}", kind.path()))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
}

/// What wrk measured of one load phase (latencies in microseconds).
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl Stats {
    pub fn rate(&self) -> f64 {
        self.requests.saturating_sub(self.errors) as f64 / self.elapsed.as_secs_f64()
    }

    /// p50, p99, p99.9 and max, and the errors, as table cells.
    pub fn latencies(&self) -> String {
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "{:.2} ms | {:.2} ms | {:.2} ms | {:.1} ms | {}",
            ms(self.p50_us),
            ms(self.p99_us),
            ms(self.p999_us),
            ms(self.max_us),
            self.errors,
        )
    }

    /// A row of [`table_header`]'s table: `ratios` to the typed and the value ceilings.
    pub fn row(&self, label: &str, ratios: [Option<f64>; 2], peak_rss_mb: f64) {
        let [typed, value] = ratios.map(|r| r.map_or("—".to_owned(), |r| format!("{r:.2}")));
        println!(
            "| {label} | {:.0}/s | {typed} | {value} | {} | {peak_rss_mb:.0} MB |",
            self.rate(),
            self.latencies(),
        );
    }
}

pub fn table_header() {
    println!(
        "| phase | throughput | ÷ typed ceiling | ÷ value ceiling | p50 | p99 | p99.9 | max | errors | server's peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The wrk script of one kind of load: every request authenticated with Basic credentials;
/// a create PUTs a new id each time (per thread, a counter), a GET reads a random one of
/// `stored` ids. With instances to `spread` over (their URLs), wrk's threads take them in
/// turn. `done` prints one line the benchmark reads.
pub fn wrk_script(op: Operation, spread: &[String]) -> tempfile::NamedTempFile {
    let credentials = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{USER}:{PASSWORD}"),
    );
    let request = match op {
        Operation::Create(kind) => format!(
            r#"wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{}]==]
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "{}/" .. prefix .. "-" .. id .. "-" .. counter)
end"#,
            kind.body(),
            kind.path(),
        ),
        Operation::Get(kind, stored) => format!(
            r#"request = function()
  return wrk.format("GET", "{}/read-" .. math.random(0, {stored} - 1))
end"#,
            kind.path(),
        ),
    };
    let instances: Vec<String> = spread
        .iter()
        .map(|url| {
            let authority = url.trim_start_matches("http://").trim_end_matches('/');
            let (host, port) = authority.rsplit_once(':').expect("a URL with a port");
            format!(r#"wrk.lookup("{host}", "{port}")[1]"#)
        })
        .collect();
    let instances = instances.join(", ");
    let script = format!(
        r#"wrk.headers["Authorization"] = "Basic {credentials}"
local threads = 0
local instances = {{ {instances} }}
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
  if #instances > 0 then
    thread.addr = instances[(threads - 1) % #instances + 1]
  end
end
init = function(args)
  prefix = args[1]
  math.randomseed(os.time() + (id or 0))
end
{request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
"#
    );
    let mut file = tempfile::Builder::new().suffix(".lua").tempfile().unwrap();
    std::io::Write::write_all(&mut file, script.as_bytes()).unwrap();
    file
}

/// `clients` keep-alive connections for `duration`, driven by wrk (two threads, one for a
/// single connection).
pub async fn load(url: &str, clients: usize, duration: Duration, op: Operation) -> Stats {
    run_wrk(url, &[], clients.min(2), clients, duration, op).await
}

/// `clients` connections spread over the instances at `urls` by one wrk, a thread for each
/// instance, so that the load generator is the same process as for one.
pub async fn load_spread(
    urls: &[String],
    clients: usize,
    duration: Duration,
    op: Operation,
) -> Stats {
    run_wrk(&urls[0], urls, urls.len(), clients, duration, op).await
}

pub async fn run_wrk(
    url: &str,
    spread: &[String],
    threads: usize,
    clients: usize,
    duration: Duration,
    op: Operation,
) -> Stats {
    let script = wrk_script(op, spread);
    let url = url.to_owned();
    let prefix = format!("{:x}", rand_seed());
    tokio::task::spawn_blocking(move || {
        let output = Command::new("wrk")
            .arg(format!("-t{threads}"))
            .arg(format!("-c{clients}"))
            .arg(format!("-d{}s", duration.as_secs()))
            .args(["--timeout", "10s", "-s"])
            .arg(script.path())
            .arg(&url)
            .args(["--", &prefix])
            .output()
            .expect("wrk, from Debian's package: apt-get install wrk");
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix("WRK "))
            .unwrap_or_else(|| panic!("wrk printed no summary: {text}"));
        let numbers: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();
        Stats {
            requests: numbers[0],
            elapsed: Duration::from_micros(numbers[1]),
            errors: numbers[2],
            p50_us: numbers[3],
            p99_us: numbers[4],
            p999_us: numbers[5],
            max_us: numbers[6],
        }
    })
    .await
    .unwrap()
}

pub fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1
}

pub fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
