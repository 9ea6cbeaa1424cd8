//! The metrics listener's routes (`telemetry.metrics_listen`), without authentication, for
//! Prometheus and orchestrators: `GET /metrics`, `GET /healthz`, `GET /readyz`.

use std::time::Duration;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::storage::Store;
use crate::telemetry::metrics;

/// How long `/readyz` waits for the store before calling it not ready.
const READY_WITHIN: Duration = Duration::from_secs(2);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// Prometheus text. The objects stored are counted now; everything else as recorded.
async fn scrape(handle: web::Data<PrometheusHandle>, store: web::Data<dyn Store>) -> HttpResponse {
    match store.object_count().await {
        Ok(count) => metrics::objects_stored(count),
        Err(err) => tracing::warn!(error = %err, "cannot count the objects for the metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// The process is up and serving.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body("ok\n")
}

/// 200 while the store accepts writes, 503 (with the reason) while it does not.
async fn readyz(store: web::Data<dyn Store>) -> HttpResponse {
    let answer = match actix_web::rt::time::timeout(READY_WITHIN, store.check_writable()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!(
            "the store did not answer within {} s",
            READY_WITHIN.as_secs()
        )),
    };
    match answer {
        Ok(()) => HttpResponse::Ok()
            .content_type(ContentType::plaintext())
            .body("ready\n"),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .content_type(ContentType::plaintext())
            .body(format!("not ready: {reason}\n")),
    }
}
