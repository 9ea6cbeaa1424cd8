//! Logging: `tracing` events to standard error. Standard output is kept for the one startup
//! line that harnesses read.

use std::io::IsTerminal;

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `default_filter`.
pub fn init(default_filter: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(from_env) if !from_env.is_empty() => EnvFilter::try_new(from_env)?,
        _ => EnvFilter::try_new(default_filter)?,
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        // One line per request when its span closes: method, path, status, request id, time.
        .with_span_events(FmtSpan::CLOSE)
        .try_init()
        .map_err(|err| anyhow::anyhow!(err))
}
