//! Builds the service from its settings: store, listener and HTTP server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::configuration::Settings;
use crate::http::{self, extractors::BodyLimit};
use crate::storage::{SqliteStore, TraceflowStore};

/// A bound, ready-to-run service.
pub struct Application {
    server: Server,
    address: SocketAddr,
}

impl Application {
    /// Binds the listener, then opens the store (so a taken port touches no file). With
    /// port 0 the OS picks a free port; [`Application::address`] tells which.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let listen = &settings.server.listen;
        let listener =
            TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let store: Arc<dyn TraceflowStore> = Arc::new(SqliteStore::open(&settings.storage).await?);

        let store = web::Data::from(store);
        let body_limit = BodyLimit(settings.server.body_limit);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(ErrorHandlers::new().default_handler(http::ensure_api_error))
                .wrap(TracingLogger::default())
                .app_data(store.clone())
                .app_data(body_limit)
                .configure(http::routes)
        })
        .listen(listener)
        .with_context(|| format!("cannot listen on {listen}"))?
        .run();
        Ok(Self { server, address })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Serves until the process is told to stop (SIGINT, SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
