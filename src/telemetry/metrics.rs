//! The service's Prometheus series: every name, label and bucket in this one file.
//!
//! Recorded through the `metrics` facade and rendered by `metrics-exporter-prometheus`. The
//! recorder is installed only when `telemetry.metrics_listen` is set; until then every
//! function here returns at once, so a store without metrics pays nothing for them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "nsx_policy_store_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "nsx_policy_store_http_request_duration_seconds";
pub const WRITER_BATCH_WRITES: &str = "nsx_policy_store_writer_batch_writes";
pub const WRITER_COMMIT_DURATION: &str = "nsx_policy_store_writer_commit_duration_seconds";
pub const OBJECTS: &str = "nsx_policy_store_objects";
pub const FAULTS_INJECTED: &str = "nsx_policy_store_faults_injected_total";
pub const AUTHENTICATION_FAILURES: &str = "nsx_policy_store_authentication_failures_total";

/// The route label of a request that matched no route: never the raw path, whose values
/// (ids, a scanner's guesses) would make a series each.
pub const UNMATCHED_ROUTE: &str = "unmatched";

const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static ENABLED: AtomicBool = AtomicBool::new(false);

fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Installs the process's recorder (once; later calls answer the same handle) and describes
/// every series.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(WRITER_BATCH_WRITES.into()), BATCH_BUCKETS)?
        .install_recorder()?;
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route and status."
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time from a request's arrival to its answer, by method and route."
    );
    describe_histogram!(
        WRITER_BATCH_WRITES,
        "Tasks (writes, runs, resets...) committed together in one transaction (always 1 on \
         PostgreSQL, where each write is its own transaction)."
    );
    describe_histogram!(
        WRITER_COMMIT_DURATION,
        metrics::Unit::Seconds,
        "Time to apply and commit one batch (one write's transaction on PostgreSQL)."
    );
    describe_gauge!(OBJECTS, "Objects stored, as of the last scrape.");
    describe_counter!(FAULTS_INJECTED, "Faults injected, by the id of their rule.");
    describe_counter!(
        AUTHENTICATION_FAILURES,
        "Requests refused for their credentials, by scheme (basic, session, login)."
    );
    ENABLED.store(true, Ordering::Relaxed);
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// One answered request. `route` is the route's template, or [`UNMATCHED_ROUTE`].
pub fn request_answered(method: &str, route: &str, status: u16, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let (method, route) = (method.to_owned(), route.to_owned());
    counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// One batch the writer committed.
pub fn batch_committed(tasks: usize, elapsed: Duration) {
    if !enabled() {
        return;
    }
    histogram!(WRITER_BATCH_WRITES).record(tasks as f64);
    histogram!(WRITER_COMMIT_DURATION).record(elapsed.as_secs_f64());
}

pub fn objects_stored(count: u64) {
    if enabled() {
        gauge!(OBJECTS).set(count as f64);
    }
}

pub fn fault_injected(rule: &str) {
    if enabled() {
        counter!(FAULTS_INJECTED, "rule" => rule.to_owned()).increment(1);
    }
}

/// `scheme`: `basic`, `session` or `login`.
pub fn authentication_failed(scheme: &'static str) {
    if enabled() {
        counter!(AUTHENTICATION_FAILURES, "scheme" => scheme).increment(1);
    }
}
