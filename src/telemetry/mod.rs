//! Telemetry: the log (`tracing` events to standard error, as text or JSON lines), the
//! Prometheus metrics ([`metrics`]) and the request journal ([`journal`]). Standard output
//! is kept for the start-up lines that harnesses read.

pub mod journal;
pub mod metrics;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::configuration::{LogFormat, LogSettings};

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `log.level`.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(from_env) if !from_env.is_empty() => EnvFilter::try_new(from_env)?,
        _ => EnvFilter::try_new(&settings.level)?,
    };
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match settings.format {
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).try_init(),
        // One object a line: the event's own fields at the top level, and, for an event
        // inside a request, the request's span (its id) beside them.
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    }
    .map_err(|err| anyhow::anyhow!(err))
}
