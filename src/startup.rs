//! Builds the service from its settings: store, listener and HTTP server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use anyhow::{bail, Context};
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::auth::{Credentials, Sessions, DEFAULT_PASSWORD};
use crate::configuration::Settings;
use crate::determinism::Stream;
use crate::http::auth::{authenticate, Authenticator};
use crate::http::faults::{inject, remember_socket, Faults};
use crate::http::probes::NodeInfo;
use crate::http::{self, extractors::BodyLimits};
use crate::kinds::{Registry, API as KINDS_API};
use crate::storage::{self, Store};
use crate::telemetry::journal::Journal;
use crate::telemetry::metrics;
use crate::tls;

/// The signals that stop the server, listened for from the moment the service is built, so
/// that one sent right after the start-up line is not missed.
struct StopSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl StopSignals {
    fn listen() -> std::io::Result<Self> {
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for SIGTERM or SIGINT; answers which came.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// A bound, ready-to-run service.
pub struct Application {
    server: Server,
    address: SocketAddr,
    /// The metrics and health listener, when `telemetry.metrics_listen` is set.
    metrics: Option<(Server, SocketAddr)>,
    tls: Option<tls::Tls>,
    store: Arc<dyn Store>,
    /// Tells the open event streams to end when the server stops.
    stop_streams: tokio::sync::watch::Sender<bool>,
    signals: StopSignals,
}

impl Application {
    /// Binds the listener, then opens the store (so a taken port touches no file). With
    /// port 0 the OS picks a free port; [`Application::address`] tells which.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let listen = &settings.server.listen;
        let listener =
            TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let credentials = Credentials::new(&settings.auth.users)?;
        let began = std::time::Instant::now();
        let catalog = crate::domain::catalog::catalog();
        tracing::info!(
            sdk = %catalog.sdk,
            routes = catalog.routes().count(),
            elapsed_ms = began.elapsed().as_secs_f64() * 1e3,
            "catalog of policy types loaded"
        );
        if !address.ip().is_loopback() {
            let exposed = credentials.users_with_default_password();
            if !exposed.is_empty() {
                bail!(
                    "refusing to listen on {address}, beyond this machine, while user(s) {} \
                     still have the default password; give them a password_hash from \
                     `nsx-policy-store hash-password` (the shipped default is {DEFAULT_PASSWORD:?})",
                    exposed.join(", ")
                );
            }
        }
        let metrics_listener = settings
            .telemetry
            .metrics_listen
            .as_deref()
            .map(|listen| {
                TcpListener::bind(listen)
                    .with_context(|| format!("cannot listen for metrics on {listen}"))
            })
            .transpose()?;
        let tls = settings
            .server
            .tls
            .then(|| {
                tls::load_or_generate(&settings.server, &settings.storage.database.local_files())
            })
            .transpose()?;
        let kinds = Registry::from_settings(settings);
        settings.nsx.ship_inventory()?;
        let store = storage::open(&settings.storage, &settings.determinism, kinds.clone()).await?;

        let data = web::Data::from(Arc::clone(&store));
        let metrics = metrics_listener
            .map(|listener| serve_metrics(listener, data.clone()))
            .transpose()?;
        let authenticator = web::Data::new(Authenticator {
            credentials,
            sessions: Sessions::new(Duration::from_secs(settings.auth.session_idle_timeout_secs)),
            secure_cookies: tls.is_some(),
        });
        let node = web::Data::new(NodeInfo::new(&settings.nsx.version));
        let documents = web::Data::new(http::documents(KINDS_API));
        let faults = web::Data::new(Faults::new(
            settings.fault_rules()?,
            settings.determinism.rng(Stream::Faults),
        ));
        let determinism = web::Data::new(settings.determinism.clone());
        let journal = web::Data::new(Journal::new(settings.journal.clone()));
        let (stop_streams, stopping) = tokio::sync::watch::channel(false);
        let stopping = web::Data::new(http::sse::Stopping(stopping));
        let request_timeout = Duration::from_millis(settings.server.request_timeout_ms);
        let body_limits = BodyLimits {
            max_bytes: settings.server.body_limit,
            import_max_bytes: settings.server.import_body_limit,
            timeout: request_timeout,
        };
        let server = HttpServer::new(move || {
            // The story of a request, innermost first: fault rules (they match the user, so
            // they run after authentication), authentication, the ApiError catch-all, the
            // request journal, and the request's id, span, log line and metrics.
            App::new()
                .wrap(from_fn(inject))
                .wrap(from_fn(authenticate))
                .wrap(ErrorHandlers::new().default_handler(http::ensure_api_error))
                .wrap(from_fn(http::observe::observe))
                .app_data(data.clone())
                .app_data(authenticator.clone())
                .app_data(node.clone())
                .app_data(documents.clone())
                .app_data(faults.clone())
                .app_data(stopping.clone())
                .app_data(determinism.clone())
                .app_data(journal.clone())
                .app_data(body_limits)
                .configure(|config| kinds.register(config))
                .configure(|config| http::routes(config, &KINDS_API))
        })
        // The body's own time-out (in JsonBody) answers 408 with an ApiError; this is the hard
        // cap on a whole request, head and body, for connections that never get that far.
        .on_connect(remember_socket)
        .client_request_timeout(request_timeout * 2)
        .keep_alive(Duration::from_secs(settings.server.keep_alive_secs))
        // Stopping is `run_until_stopped`'s: actix's own handling of Ctrl-C (SIGINT) would
        // drop the connections in flight.
        .disable_signals()
        // When stopping: no new connections; requests in flight may finish for this long.
        .shutdown_timeout(settings.server.shutdown_grace_secs);
        let server = match &tls {
            Some(tls) => server.listen_rustls_0_23(listener, tls.config.clone()),
            None => server.listen(listener),
        }
        .with_context(|| format!("cannot listen on {listen}"))?
        .run();
        Ok(Self {
            server,
            address,
            metrics,
            tls,
            store,
            stop_streams,
            signals: StopSignals::listen().context("cannot listen for signals")?,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where Prometheus scrapes, when the metrics listener is on.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics
            .as_ref()
            .map(|(_, address)| format!("http://{address}/metrics"))
    }

    /// The base URL clients use.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.address)
    }

    /// With HTTPS: the certificate's file and its SHA-256 fingerprint.
    pub fn tls_certificate(&self) -> Option<(&std::path::Path, &str)> {
        self.tls
            .as_ref()
            .map(|tls| (tls.certificate.as_path(), tls.fingerprint.as_str()))
    }

    /// Serves until the process is told to stop (SIGTERM, or SIGINT as Ctrl-C sends it);
    /// then stops accepting, lets the requests in flight finish and answer, commits what they
    /// queued, and closes the store cleanly.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        let mut server = std::pin::pin!(self.server);
        let served = tokio::select! {
            served = &mut server => served,
            signal = self.signals.recv() => {
                tracing::info!(signal, "stopping: finishing the requests in flight");
                // Event streams never finish by themselves: they end now.
                self.stop_streams.send_replace(true);
                // The command is sent at once; the server future carries it out.
                drop(handle.stop(true));
                server.await
            }
        };
        if let Some(metrics) = metrics {
            // Probes answer until the API itself has stopped.
            metrics.stop(true).await;
        }
        tracing::info!("server stopped; closing the store");
        self.store.close().await;
        served
    }
}

/// How often the metrics' histograms are folded, whether or not anyone scrapes.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// The metrics and health listener: its own small server, without authentication.
fn serve_metrics(
    listener: TcpListener,
    store: web::Data<dyn Store>,
) -> anyhow::Result<(Server, SocketAddr)> {
    let address = listener.local_addr()?;
    let handle = metrics::install().context("cannot install the metrics recorder")?;
    actix_web::rt::spawn({
        let handle = handle.clone();
        async move {
            let mut upkeep = actix_web::rt::time::interval(METRICS_UPKEEP);
            loop {
                upkeep.tick().await;
                handle.run_upkeep();
            }
        }
    });
    let handle = web::Data::new(handle);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(store.clone())
            .app_data(handle.clone())
            .configure(http::health::routes)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .with_context(|| format!("cannot listen for metrics on {address}"))?
    .run();
    Ok((server, address))
}
